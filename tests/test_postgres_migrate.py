"""`plateau migrate-to`: the seeded SQLite archive copied into an empty PostgreSQL database answers every
API question as the SQLite one does; the source is untouched; a database already in use is refused."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import get_settings
from app.db import get_engine
from app.main import create_app
from app.services import editors as editor_service
from tests.conftest import TOKEN, drop_database

PLATEAU = str(Path(sys.executable).with_name("plateau"))
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUERIES = ["souveraineté", '"intelligence artificielle"', "numéri*", "blokchain~", "données -cloud", "Pillot"]


def run(settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLATEAU_DATA_DIR": str(settings.data_dir)}
    env.pop("PLATEAU_DATABASE_URL", None)
    return subprocess.run([PLATEAU, *args], env=env, capture_output=True, text=True, timeout=300)


def answers(client: TestClient, seeded: dict[str, str]) -> dict[str, object]:
    """Every read of the API over the archive: lists page by page, each episode, guest and show, and
    searches; what they say, whatever the database."""
    got: dict[str, object] = {}

    def get(url: str) -> dict:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        got[url] = response.json()
        return got[url]

    for per_page in (2, 20):
        page, seen = 1, 0
        while True:
            body = get(f"/api/episodes?per_page={per_page}&page={page}")
            seen += len(body["items"])
            if seen >= body["total"] or not body["items"]:
                break
            page += 1
    for slug in seeded.values():
        get(f"/api/episodes/{slug}")
        get(f"/api/episodes/{slug}/history")
        get(f"/episodes/{slug}/transcript.json")
    for guest in get("/api/guests?per_page=100&hosts=true")["items"]:
        get(f"/api/guests/{guest['slug']}")
    for show in get("/api/shows")["items"]:
        get(f"/api/shows/{show['slug']}")
    for query in QUERIES:
        for url in (f"/api/search?q={query}", f"/api/search?q={query}&sort=date&per_page=2"):
            got[url] = found(get(url))
    return got


def found(results: dict) -> dict:
    """What a search finds, apart from what relevance decides (BM25F on Whoosh, ts_rank_cd on
    PostgreSQL, as the README says: which passages of an episode come first): the counts, and the
    episodes of the page."""
    return {
        "total": results["total"],
        "episodes": results["episodes"],
        "on_the_page": sorted({h["episode"]["slug"] for h in results["hits"]}),
        "episode_matches_total": results["episode_matches_total"],
        "suggestion": results["suggestion"],
        "error": results["error"],
    }


@pytest.fixture
def edited(settings, seeded, admin_token) -> dict[str, str]:
    """The seeded archive with what editors leave: an account, a corrected line, and its undo (a
    revision that points to a later one)."""
    slug = seeded["001"]
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        first = client.post(f"/api/episodes/{slug}/lines/3", json={"text": "Une ligne corrigée."}, headers=AUTH)
        assert first.status_code == 201, first.text
        assert client.post(f"/api/revisions/{first.json()['id']}/undo", headers=AUTH).status_code == 201
        second = client.post(f"/api/episodes/{slug}/lines/4", json={"text": "Corrigée et gardée."}, headers=AUTH)
        assert second.status_code == 201, second.text
    with Session(get_engine(settings)) as session:
        editor_service.add_editor(session, "Camille", "un mot de passe assez long")
    return seeded


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("plateau.db*"))}


def assert_unchanged(folder: Path, before: dict[str, str]) -> None:
    """The archive as it was: plateau.db and its log byte for byte. A read-only SQLite connection
    cannot remove the log files it opens when it is the last one (no server running): they may be
    left, the log empty (nothing written to it) and its index beside it."""
    after = digest(folder)
    assert {name: after[name] for name in before} == before, "the SQLite archive was changed"
    new = after.keys() - before.keys()
    assert new <= {"plateau.db-wal", "plateau.db-shm"}, new
    assert "plateau.db-wal" not in new or (folder / "plateau.db-wal").stat().st_size == 0, "written to the log"


def test_migrate_to_copies_the_archive_and_every_api_answer_is_the_same(settings, edited, postgres, monkeypatch):
    with TestClient(create_app(), raise_server_exceptions=False) as on_sqlite:
        before = answers(on_sqlite, edited)
    get_engine(settings).dispose()
    source = digest(settings.data_dir)
    target = postgres.create_database()
    try:
        done = run(settings, "migrate-to", target)
        assert done.returncode == 0, done.stderr + done.stdout
        assert "Archive copiée dans PostgreSQL" in done.stdout and "comptes vérifiés" in done.stdout
        assert "caption_line" in done.stdout and "revision : 3 révision(s)" in done.stdout
        assert "recherche construite pour 5 épisode(s) sur 5" in done.stdout
        assert_unchanged(settings.data_dir, source)

        monkeypatch.setenv("PLATEAU_DATABASE_URL", target)
        get_settings.cache_clear()
        with TestClient(create_app(), raise_server_exceptions=False) as on_postgres:
            after = answers(on_postgres, edited)
            assert after.keys() == before.keys()
            for url in before:
                assert after[url] == before[url], url
            # the sequences start past the copied ids: a new episode and a new revision go in
            new = on_postgres.post(
                "/api/episodes",
                files={"file": ("autre.vtt", b"WEBVTT\n\n00:00.000 --> 00:02.000\nBonjour.\n")},
                headers=AUTH,
            )
            assert new.status_code == 201, new.text
            line = on_postgres.post(f"/api/episodes/{edited['002']}/lines/1", json={"text": "Encore."}, headers=AUTH)
            assert line.status_code == 201, line.text
        get_engine(get_settings()).dispose()

        again = run(settings, "migrate-to", target)  # now in use: refused, nothing changed
        assert again.returncode == 1
        assert "n'est pas vide" in again.stderr and "rien n'a été copié" in again.stderr
        with psycopg.connect(postgres.dsn(target.rsplit("/", 1)[1])) as db:
            assert db.execute("SELECT count(*) FROM episode").fetchone() == (6,)
    finally:
        get_engine(get_settings()).dispose()
        drop_database(postgres, target)


def test_migrate_to_refuses_what_is_not_an_empty_postgresql_database(settings, seeded, postgres):
    assert "postgresql+psycopg://" in run(settings, "migrate-to", "sqlite:///copie.db").stderr
    target = postgres.create_database()
    name = target.rsplit("/", 1)[1]
    try:
        with psycopg.connect(postgres.dsn(name), autocommit=True) as db:
            db.execute("CREATE TABLE notes (id int)")
            db.execute("INSERT INTO notes VALUES (1)")
        refused = run(settings, "migrate-to", target)
        assert refused.returncode == 1
        assert "notes" in refused.stderr and "rien n'a été copié" in refused.stderr
        with psycopg.connect(postgres.dsn(name)) as db:
            tables = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        assert tables == [("notes",)]
    finally:
        drop_database(postgres, target)


def test_backup_in_postgresql_mode_points_to_pg_dump(settings, postgres, tmp_path):
    target = postgres.create_database()
    try:
        env = {**os.environ, "PLATEAU_DATA_DIR": str(settings.data_dir), "PLATEAU_DATABASE_URL": target}
        done = subprocess.run(
            [PLATEAU, "backup", str(tmp_path / "copie.db")], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2
        assert "pg_dump" in done.stderr and not (tmp_path / "copie.db").exists()
    finally:
        drop_database(postgres, target)
