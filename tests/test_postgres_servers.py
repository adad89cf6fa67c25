"""Two `plateau serve` processes, each with its own data folder, share one PostgreSQL database: what
one of them writes (an upload, an edit, a delete) the other finds at once, in its pages, its API and
its search; `plateau check` and `reindex` work on that database too."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import TOKEN, drop_database, free_port, wait_until_healthy

PLATEAU = str(Path(sys.executable).with_name("plateau"))
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WORD = "hippocampelephantocamelos"  # in the uploaded episode only
UPLOAD = (
    "WEBVTT\n\n00:00.000 --> 00:04.000\nBienvenue dans ce débat sur la souveraineté numérique.\n\n"
    f"00:04.000 --> 00:09.000\nUn mot rare pour le trouver : {WORD}.\n"
).encode()


class Served:
    """`plateau serve` in a process of its own: its URL, stopped by its pid."""

    def __init__(self, data_dir: Path, database_url: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PLATEAU_DATA_DIR": str(data_dir),
            "PLATEAU_DATABASE_URL": database_url,
            "PLATEAU_ADMIN_TOKEN": TOKEN,
        }
        self.log = data_dir.parent / f"serve-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Served":
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [PLATEAU, "serve", "--port", str(self.port)], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_until_healthy(self.url, time.monotonic() + 60)
        except AssertionError:
            self.__exit__()
            said = self.log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"plateau serve did not start:\n{said}") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def database(postgres) -> Iterator[str]:
    url = postgres.create_database()
    try:
        yield url
    finally:
        drop_database(postgres, url)


@pytest.fixture
def two_servers(database, tmp_path) -> Iterator[tuple[Served, Served]]:
    with ExitStack() as stack:
        first = stack.enter_context(Served(mkdir(tmp_path / "un" / "data"), database))
        second = stack.enter_context(Served(mkdir(tmp_path / "deux" / "data"), database))
        yield first, second


def mkdir(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder


def slugs_found(server: Served, query: str) -> list[str]:
    response = httpx.get(f"{server.url}/api/search", params={"q": query}, timeout=30)
    assert response.status_code == 200, response.text
    return [hit["episode"]["slug"] for hit in response.json()["hits"]]


def test_an_upload_an_edit_and_a_delete_on_one_server_are_seen_at_once_by_the_other(two_servers, tmp_path):
    one, other = two_servers
    posted = httpx.post(f"{one.url}/api/episodes", files={"file": ("partage.vtt", UPLOAD)}, headers=AUTH, timeout=60)
    assert posted.status_code == 201, posted.text
    slug = posted.json()["slug"]

    # no wait, no refresh: the other server reads the same database
    assert slugs_found(other, WORD) == [slug]
    assert slugs_found(other, '"souveraineté numérique"') == [slug]
    assert httpx.get(f"{other.url}/api/episodes/{slug}").status_code == 200
    assert not (tmp_path / "un" / "data" / "index").exists()  # no index folder in this mode
    assert not (tmp_path / "deux" / "data" / "index").exists()

    edit = {"title": "Le débat partagé", "aired_on": "2026-02-03"}
    assert httpx.patch(f"{one.url}/api/episodes/{slug}", json=edit, headers=AUTH).status_code == 200
    for server in (one, other):
        seen = httpx.get(f"{server.url}/api/episodes/{slug}").json()
        assert (seen["title"], seen["aired_on"]) == ("Le débat partagé", "2026-02-03")
        assert "Le débat partagé" in httpx.get(f"{server.url}/episodes/{slug}").text

    line = httpx.post(
        f"{other.url}/api/episodes/{slug}/lines/1", json={"text": "Un mot corrigé : ornithorynque."}, headers=AUTH
    )
    assert line.status_code == 201, line.text
    assert slugs_found(one, "ornithorynque") == [slug]

    assert httpx.delete(f"{other.url}/api/episodes/{slug}", headers=AUTH).status_code == 204
    for server in (one, other):
        assert httpx.get(f"{server.url}/api/episodes/{slug}").status_code == 404
        assert slugs_found(server, WORD) == []
        assert httpx.get(f"{server.url}/api/episodes").json()["total"] == 0


def test_check_and_reindex_work_on_postgresql(database, tmp_path):
    env = {**os.environ, "PLATEAU_DATA_DIR": str(tmp_path / "data"), "PLATEAU_DATABASE_URL": database}
    env.pop("PLATEAU_ADMIN_TOKEN", None)

    def plateau(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PLATEAU, *args], env=env, capture_output=True, text=True, timeout=300)

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    ingested = plateau("ingest", str(seeds))
    assert ingested.returncode == 0, ingested.stderr
    assert "5 ajouté(s)" in ingested.stdout
    checked = plateau("check")
    assert checked.returncode == 0, checked.stderr + checked.stdout
    rebuilt = plateau("reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "5 épisode(s)" in rebuilt.stdout
    assert plateau("check").returncode == 0
    assert not (tmp_path / "data" / "index").exists()


def test_servers_starting_at_once_on_an_empty_database_migrate_it_once(database, tmp_path):
    """Three commands at once on a new database: one applies the migrations, the others wait for
    its lock and find them applied (none fails on a table another just created)."""
    runs = []
    for k in range(3):
        env = {**os.environ, "PLATEAU_DATA_DIR": str(tmp_path / f"d{k}"), "PLATEAU_DATABASE_URL": database}
        runs.append(subprocess.Popen([PLATEAU, "check"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for process in runs:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
