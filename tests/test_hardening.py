"""What a live deployment meets: a held index, big bodies without a token, odd files and hosts."""

import os
import resource
import sqlite3
import threading
import time

import httpx
import pytest
from whoosh import index as windex

from app.cli import proxy_options
from app.config import Settings
from app.services.ingest import ingest_paths, source_name
from tests.conftest import SEEDS, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEED = SEEDS / "001_17b833aa618b417f.txt"


def stored_episodes(settings) -> int:
    with sqlite3.connect(settings.data_dir / "plateau.db") as db:
        return db.execute("SELECT count(*) FROM episode").fetchone()[0]


def hold_the_index(settings):
    """Another writer holding the index, as a running reindex or ingest would."""
    generation = (settings.index_dir / "CURRENT").read_text().strip()
    return windex.open_dir(str(settings.index_dir / generation)).writer()


def test_an_upload_waiting_for_the_index_blocks_no_one_and_says_it_is_not_searchable(
    admin_token, settings, monkeypatch
):
    from tests.conftest import LiveServer

    monkeypatch.setenv("PLATEAU_INDEX_WRITER_TIMEOUT", "3")
    from app.config import get_settings

    get_settings.cache_clear()
    held = hold_the_index(settings)
    answers: dict[str, httpx.Response] = {}
    try:
        with LiveServer() as live, httpx.Client(base_url=live.url, timeout=30) as http:

            def upload():
                answers["upload"] = http.post(
                    "/api/episodes", files={"file": (SEED.name, SEED.read_bytes())}, headers=AUTH
                )

            uploading = threading.Thread(target=upload)
            uploading.start()
            while "upload" not in answers and not stored_episodes(settings):
                time.sleep(0.01)  # until the upload has committed its episode: it then waits for the index
            health = http.get("/healthz")
            search = http.get("/api/search", params={"q": "souveraineté"})
            still_waiting = uploading.is_alive()
            uploading.join()
    finally:
        held.cancel()
    assert still_waiting, "health and search answered while the upload was still waiting for the index"
    assert health.status_code == 200 and search.status_code == 200
    uploaded = answers["upload"]
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["status"] == "added" and uploaded.json()["searchable"] is False


@pytest.fixture
def short_writer_timeout(monkeypatch, settings) -> None:
    """Writers give up on a held index after 0.3 s: set before the app starts, whose indexing
    process keeps the settings it was started with (else each wait lasted the default 30 s)."""
    from app.config import get_settings

    monkeypatch.setenv("PLATEAU_INDEX_WRITER_TIMEOUT", "0.3")
    get_settings.cache_clear()


def test_an_unchanged_upload_retries_what_the_index_could_not_take(admin_token, short_writer_timeout, client, settings):
    held = hold_the_index(settings)
    try:
        first = client.post("/api/episodes", files={"file": (SEED.name, SEED.read_bytes())}, headers=AUTH)
    finally:
        held.cancel()
    assert first.status_code == 201 and first.json()["searchable"] is False
    health = client.get("/healthz").json()
    assert health["status"] in ("dégradé", "ok")  # the retry after the answer may already have run
    again = client.post("/api/episodes", files={"file": (SEED.name, SEED.read_bytes())}, headers=AUTH)
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged" and again.json()["searchable"] is True
    assert client.get("/api/search", params={"q": "Pillot"}).json()["total"] > 0
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "index": "ok", "storage": "ok"}


def test_healthz_says_degraded_and_why(client, settings, seeded):
    import shutil

    assert client.get("/healthz?deep=1").json()["status"] == "ok"
    for generation in settings.index_dir.glob("gen-*"):
        shutil.rmtree(generation)
    body = client.get("/healthz").json()
    assert body["status"] == "dégradé" and body["index"].startswith("endommagé : l'index de recherche est absent")
    assert client.get("/").status_code == 200  # pages are still served


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("declared", [True, False])
def test_a_huge_body_without_a_token_is_refused_before_it_is_read(server, declared):
    size = 300 * 1024 * 1024
    chunk = b"x" * (1024 * 1024)

    def body():
        for _ in range(size // len(chunk)):
            yield chunk

    before = rss_mb()
    headers = {"Content-Type": "application/octet-stream"}
    if declared:
        headers["Content-Length"] = str(size)
    try:
        response = httpx.post(f"{server.url}/api/episodes", content=body(), headers=headers, timeout=60)
        status = response.status_code
    except httpx.TransportError:
        status = None  # the server closed the connection on the rest of the body, after answering
    assert status in (401, 403, None)
    assert rss_mb() - before < 100, "the refused body was not held in memory"
    # any other request carries a form at most
    big = httpx.post(
        f"{server.url}/search", content=b"x" * (200 * 1024), headers={"Content-Type": "text/plain"}, timeout=60
    )
    assert big.status_code == 413 and "trop grosse" in big.json()["detail"]


def test_a_write_without_the_token_is_refused_before_its_body(client, admin_token):
    response = client.post("/api/episodes", content=b"a" * 1000, headers={"Content-Type": "multipart/form-data"})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert "Jeton" in response.json()["detail"]
    declared = client.post(
        "/api/episodes", content=b"a" * 10, headers={**AUTH, "Content-Length": str(10**9), "Content-Type": "x/y"}
    )
    assert declared.status_code == 413


def test_a_fifo_and_a_big_file_are_refused_with_why(session, index, tmp_path):
    folder = tmp_path / "dossier"
    folder.mkdir()
    os.mkfifo(folder / "tube.txt")  # opening it for reading would wait for a writer forever
    (folder / "gros.txt").write_bytes(b"a" * (21 * 1024 * 1024 + 300 * 1024))
    (folder / "bon.txt").write_bytes(SEED.read_bytes())
    outcomes = {os.path.basename(o.source): o for o in ingest_paths(session, [folder], index=index)}
    assert outcomes["tube.txt"].status == "failed" and "pas un fichier ordinaire" in outcomes["tube.txt"].reason
    assert outcomes["gros.txt"].status == "failed"
    assert outcomes["gros.txt"].reason == "fichier trop gros (21,3 Mo, au plus 20,0 Mo)"
    assert outcomes["bon.txt"].status == "added"
    # named on the command line too
    (fifo,) = ingest_paths(session, [folder / "tube.txt"], index=index)
    assert fifo.status == "failed" and "pas un fichier ordinaire" in fifo.reason


def test_file_names_lose_control_and_bidi_characters(admin_token, client):
    assert source_name("a\u202eb\x00c.txt") == "abc.txt" and source_name("../../x/\u2066y.vtt") == "y.vtt"
    sent = client.post("/api/episodes", files={"file": ("ma\u202eseed.txt", SEED.read_bytes())}, headers=AUTH).json()
    assert sent["source"] == "maseed.txt"


def test_an_internal_error_keeps_its_sql_to_the_log(admin_token, client, monkeypatch, caplog):
    from sqlalchemy.exc import IntegrityError

    from app.services import ingest

    def broken(*args, **kwargs):
        raise IntegrityError("INSERT INTO episode (slug) VALUES (?)", ("x",), Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(ingest, "save_episode", broken)
    response = client.post("/api/episodes", files={"file": (SEED.name, SEED.read_bytes())}, headers=AUTH)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "INSERT" not in detail and "UNIQUE" not in detail and "journal du serveur" in detail
    assert "INSERT INTO episode" in caplog.text


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/episodes/", "/episodes"),
        ("/search/?q=cloud", "/search?q=cloud"),
        ("/shows/smart-tech//", "/shows/smart-tech"),
    ],
)
def test_trailing_slashes_redirect_within_the_site_whatever_the_host(client, path, location):
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 308 and response.headers["location"] == location


def test_forwarded_headers_are_believed_only_from_configured_proxies():
    # uvicorn believes nobody: the app reads X-Forwarded-* itself, from PLATEAU_TRUSTED_PROXIES only
    # (app/proxies.py; tests/test_feeds_and_links.py checks it)
    assert proxy_options(Settings()) == {"proxy_headers": False, "forwarded_allow_ips": None}
    trusted = proxy_options(Settings(trusted_proxies="10.0.0.5"))
    assert trusted == {"proxy_headers": False, "forwarded_allow_ips": None}


def test_startup_removes_what_a_killed_reindex_left(settings):
    from app.startup import prepare_data

    left = settings.index_dir / "gen-99999999999999999999-dead00"
    left.mkdir()
    (left / "MAIN_x.seg").write_bytes(b"partial")
    running = settings.index_dir / "gen-99999999999999999999-live00"
    running.mkdir()
    from app.search.passages import make_schema

    writer = windex.create_in(str(running), make_schema()).writer()  # a reindex still writing
    try:
        prepare_data(settings)
        assert not left.exists(), "the killed reindex's folder is gone"
        assert running.exists(), "a folder a reindex is writing stays"
    finally:
        writer.cancel()
    current = (settings.index_dir / "CURRENT").read_text().strip()
    assert (settings.index_dir / current).exists()


def test_concurrent_ingests_store_every_file(tmp_path):
    """Two `plateau ingest` at once, of episodes with one show, date and title: each slug, show and
    person is taken by one writer at a time, and every file goes in."""
    from tests.test_cli import run

    data_dir = tmp_path / "data"
    assert run(data_dir, "check").returncode in (0, 1)  # a fresh, migrated archive
    text = (SEEDS / "000_6bda1f189f294344.txt").read_text(encoding="utf-8")
    folders = [tmp_path / "a", tmp_path / "b"]
    for n, folder in enumerate(folders):
        folder.mkdir()
        for i in range(15):
            (folder / f"copie-{n}-{i}.txt").write_text(f"{text}\n99:59\nCopie {n}-{i}.\n", encoding="utf-8")
    env = {**os.environ, "PLATEAU_DATA_DIR": str(data_dir)}
    env.pop("PLATEAU_ADMIN_TOKEN", None)
    import subprocess

    from tests.test_cli import PLATEAU

    runs = [
        subprocess.Popen(
            [*PLATEAU, "ingest", str(f)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for f in folders
    ]
    outputs = [r.communicate(timeout=300) for r in runs]
    for r, (out, err) in zip(runs, outputs, strict=True):
        assert r.returncode == 0, (out, err)
        assert "15 ajouté(s)" in out and "SELECT" not in err and "INSERT" not in err
    with sqlite3.connect(data_dir / "plateau.db") as db:
        slugs = [row[0] for row in db.execute("SELECT slug FROM episode")]
    assert len(slugs) == len(set(slugs)) == 30


def test_files_shaped_like_no_transcript_are_refused_before_parsing(session, index, tmp_path):
    lines = tmp_path / "lignes.srt"
    lines.write_bytes(b"1\n" * 250_000)  # 500 kB, a quarter of a million lines
    long_line = tmp_path / "ligne.vtt"
    long_line.write_bytes(b"WEBVTT\n\n00:00.000 --> 00:01.000\n" + b"a" * 12_345 + b"\n")
    minified = tmp_path / "tout.json"  # JSON may hold a whole transcript on one line
    minified.write_bytes(
        b'{"segments": ['
        + b",".join(b'{"start": %d, "end": %d, "text": "mot"}' % (i, i + 1) for i in range(900))
        + b"]}"
    )
    outcomes = {o.source.rsplit("/", 1)[-1]: o for o in ingest_paths(session, [tmp_path], index=index)}
    assert outcomes["lignes.srt"].reason == "trop de lignes (250 001 ; au plus 200 000)"
    assert outcomes["ligne.vtt"].reason == "ligne trop longue (12 345 octets ; au plus 10 000)"
    assert outcomes["tout.json"].status == "added", outcomes["tout.json"].reason


def test_the_server_starts_and_serves_reads_when_the_index_cannot_be_written(settings, seeded, monkeypatch):
    """A full disk at startup: the pending episode cannot be indexed, yet pages and searches are
    served, and /healthz says what waits."""
    import errno

    from app.search import index as index_module
    from tests.conftest import LiveServer

    with sqlite3.connect(settings.data_dir / "plateau.db") as db:
        db.execute("UPDATE episode SET index_state = 'pending' WHERE id = (SELECT min(id) FROM episode)")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(index_module.SearchIndex, "index_episodes", full)
    with LiveServer() as live:
        health = httpx.get(f"{live.url}/healthz").json()
        assert health["status"] == "dégradé" and health["index"].startswith("en retard : 1 épisode")
        assert httpx.get(f"{live.url}/").status_code == 200
        assert httpx.get(f"{live.url}/api/search", params={"q": "souveraineté"}).json()["total"] > 0
