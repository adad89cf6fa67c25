"""A damaged index (a truncated segment, a deleted folder): a clean 503 and a rebuild while the site
is served, never a dead process; `plateau check` names the damage."""

import os
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, wait_until_healthy
from tests.test_cli import PLATEAU, run

QUERY = {"q": "souveraineté"}


def segment_files(data_dir: Path) -> list[Path]:
    generation = (data_dir / "index" / "CURRENT").read_text().strip()
    return sorted((data_dir / "index" / generation).glob("*.seg"))


def truncate_segments(data_dir: Path) -> list[str]:
    names = []
    for seg in segment_files(data_dir):
        os.truncate(seg, seg.stat().st_size // 2)
        names.append(seg.name)
    return names


class Text(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.parts: list[str] = []
        self.feed(html)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def __str__(self) -> str:
        return " ".join(" ".join(self.parts).split())


@pytest.fixture
def archive(tmp_path, seeded_archive) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(seeded_archive[0], data_dir)
    return data_dir


@pytest.fixture
def serve(archive):
    """`plateau serve` in a process of its own: a SIGBUS would show as a dead server, not a dead test run."""
    port = free_port()
    env = {**os.environ, "PLATEAU_DATA_DIR": str(archive)}
    process = subprocess.Popen(
        [*PLATEAU, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, time.monotonic() + 40)
        yield process, url
    finally:
        process.terminate()
        process.wait(10)


def until_searchable(url: str, total: int, process) -> list[int]:
    """Statuses of /api/search until it answers 200 with the whole archive's total again."""
    statuses = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server died (exit {process.returncode}): {process.stderr.read()[-2000:]}"
        answer = httpx.get(f"{url}/api/search", params=QUERY, timeout=30)
        statuses.append(answer.status_code)
        if answer.status_code == 200:
            assert answer.json()["total"] == total
            return statuses
        assert answer.status_code == 503, answer.text
        time.sleep(0.2)
    raise AssertionError(f"the index was not rebuilt: {statuses[-5:]}")


def test_a_segment_truncated_under_a_running_server_gives_503_then_is_rebuilt(serve, archive):
    process, url = serve
    before = httpx.get(f"{url}/api/search", params=QUERY).json()["total"]
    assert before > 0
    truncate_segments(archive)

    answer = httpx.get(f"{url}/api/search", params=QUERY, timeout=30)
    assert answer.status_code == 503, answer.text
    assert "endommagé" in answer.json()["detail"]
    assert process.poll() is None, "reading the truncated segment killed the server"
    assert httpx.get(f"{url}/episodes").status_code == 200, "pages that need no search are served"

    statuses = until_searchable(url, before, process)
    assert set(statuses) <= {200, 503}
    assert httpx.get(f"{url}/healthz?deep=1").json()["status"] == "ok"
    assert run(archive, "check").returncode == 0


def test_the_search_page_says_why_it_is_unavailable(serve, archive):
    process, url = serve
    total = httpx.get(f"{url}/api/search", params=QUERY).json()["total"]
    truncate_segments(archive)
    page = httpx.get(f"{url}/search", params=QUERY, timeout=30)
    assert page.status_code == 503
    assert "Retry-After" in page.headers
    assert "index est endommagé" in str(Text(page.text))
    assert process.poll() is None
    until_searchable(url, total, process)  # and the server is not stopped in the middle of its repair


def test_a_deleted_index_folder_is_not_an_empty_archive(serve, archive):
    process, url = serve
    before = httpx.get(f"{url}/api/search", params=QUERY).json()["total"]
    shutil.rmtree(archive / "index")
    first = httpx.get(f"{url}/api/search", params=QUERY, timeout=30)
    assert first.status_code == 503, "no silent empty results"
    assert "endommagé" in first.json()["detail"]
    health = httpx.get(f"{url}/healthz").json()
    assert health["status"] == "ok" or "absent" in health["index"], health  # ok once rebuilt already
    until_searchable(url, before, process)


def test_a_server_started_on_a_damaged_index_serves_pages_and_rebuilds_it(archive, seeded_archive, tmp_path):
    expected = _total_in(shutil.copytree(archive, tmp_path / "intact"))
    truncate_segments(archive)
    port = free_port()
    env = {**os.environ, "PLATEAU_DATA_DIR": str(archive)}
    process = subprocess.Popen(
        [*PLATEAU, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # up while repairing: /healthz answers (ok once the rebuild is in place)
            assert process.poll() is None, process.stderr.read()[-2000:]
            try:
                health = httpx.get(f"{url}/healthz", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start on a damaged index"
                time.sleep(0.1)
        assert health.status_code == 200
        assert httpx.get(f"{url}/").status_code == 200
        assert httpx.get(f"{url}/api/episodes").json()["total"] == len(seeded_archive[1])
        until_searchable(url, expected, process)
    finally:
        process.terminate()
        process.wait(10)


def _total_in(data_dir: Path) -> int:
    """The hit total for QUERY on an intact copy of the archive, through the CLI's own search."""
    from sqlmodel import Session

    from app.config import Settings
    from app.db import get_engine
    from app.search import SearchRequest
    from app.search.index import SearchIndex

    settings = Settings(data_dir=data_dir)
    with Session(get_engine(settings)) as session:
        return SearchIndex(settings.index_dir).search(session, SearchRequest(q=QUERY["q"])).total


def test_check_names_the_damaged_segment(archive):
    names = truncate_segments(archive)
    checked = run(archive, "check")
    assert checked.returncode == 1
    for name in names:
        assert name in checked.stderr
    assert "tronqué" in checked.stderr and "plateau reindex" in checked.stderr
    assert run(archive, "reindex").returncode == 0
    assert run(archive, "check").returncode == 0


def test_pages_carry_a_notice_while_the_index_is_rebuilt(settings, seeded, monkeypatch):
    """Started on a truncated segment: while the rebuild runs, every page says so, searches answer
    503 in the page and the API, and /healthz says what is damaged."""
    import threading

    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.search.index import SearchIndex

    truncate_segments(settings.data_dir)
    release = threading.Event()
    rebuild = SearchIndex.rebuild

    def slow_rebuild(self, session, *args, **kwargs):
        assert release.wait(30)
        return rebuild(self, session, *args, **kwargs)

    monkeypatch.setattr(SearchIndex, "rebuild", slow_rebuild)
    with TestClient(create_app(), raise_server_exceptions=False) as http:
        try:
            home = http.get("/")
            assert home.status_code == 200
            assert "en cours de reconstruction" in str(Text(home.text))
            assert http.get("/api/search", params=QUERY).status_code == 503
            search = http.get("/search", params=QUERY)
            assert search.status_code == 503 and "en cours de reconstruction" in str(Text(search.text))
            health = http.get("/healthz").json()
            assert health["status"] == "dégradé" and ("tronqué" in health["index"] or "illisible" in health["index"])
            assert "reconstruction en cours" in health["index"]
        finally:
            release.set()
        deadline = time.monotonic() + 30
        while http.get("/api/search", params=QUERY).status_code != 200:
            assert time.monotonic() < deadline, "the rebuild did not end"
            time.sleep(0.1)
        assert "reconstruction" not in http.get("/").text
        assert http.get("/healthz").json()["status"] == "ok"
