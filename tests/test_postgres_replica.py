"""PLATEAU_READ_DATABASE_URL: reads (pages, API GETs, searches) come from a streaming replica built
with pg_basebackup, writes go to the primary, and a write shows on the replica once it is replayed.

The replica's replay is paused while the write is made: what a read answers then says which server
served it (the primary has the new episode, the paused replica not yet)."""

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from postgres import PostgresServer

from app.config import get_settings
from app.db import get_engine, get_read_engine
from app.main import create_app
from tests.conftest import TOKEN, drop_database

AUTH = {"Authorization": f"Bearer {TOKEN}"}
WORD = "zygomatiquement"  # in the uploaded episode only
UPLOAD = f"WEBVTT\n\n00:00.000 --> 00:03.000\nUn épisode venu tout {WORD} par le primaire.\n".encode()


@pytest.fixture
def replica(postgres) -> Iterator[PostgresServer]:
    """A hot standby of the test server: pg_basebackup -R (initdb's pg_hba.conf trusts replication
    from 127.0.0.1; wal_level is replica by default), started on its own port, in a folder of its
    own under /tmp (pytest's are closed to the postgres user)."""
    standby = PostgresServer()
    standby.sockets.mkdir()
    standby.root.chmod(0o755)
    standby._hand_over(standby.root, standby.sockets)
    postgres.run(
        "pg_basebackup",
        *("-h", "127.0.0.1", "-p", str(postgres.port), "-U", postgres.user),
        *("-D", str(standby.data), "-R", "-X", "stream", "-c", "fast"),
    )
    try:
        standby.start()
        yield standby
    finally:
        standby.destroy()


@pytest.fixture
def primary_and_replica(settings, postgres, replica, monkeypatch) -> Iterator[tuple[str, str]]:
    """The app on a fresh primary database, reading from the replica's copy of it."""
    primary_url = postgres.create_database()
    name = primary_url.rsplit("/", 1)[1]
    replica_url = replica.url(name)
    wait_for(lambda: database_exists(replica, name), "the new database to reach the replica")
    monkeypatch.setenv("PLATEAU_DATABASE_URL", primary_url)
    monkeypatch.setenv("PLATEAU_READ_DATABASE_URL", replica_url)
    monkeypatch.setenv("PLATEAU_ADMIN_TOKEN", TOKEN)
    get_settings.cache_clear()
    try:
        yield primary_url, replica_url
    finally:
        get_read_engine(get_settings()).dispose()
        get_engine(get_settings()).dispose()
        get_settings.cache_clear()
        drop_database(postgres, primary_url)


def database_exists(server: PostgresServer, name: str) -> bool:
    with psycopg.connect(server.dsn(), autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def replay(server: PostgresServer, what: str) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as connection:
        connection.execute(f"SELECT pg_wal_replay_{what}()")


def wait_for(condition, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)


def test_reads_come_from_the_replica_and_a_write_reaches_it_after_replay(primary_and_replica, replica):
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        assert client.get("/api/episodes").json()["total"] == 0
        with psycopg.connect(replica.dsn(), autocommit=True) as connection:
            assert connection.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)

        replay(replica, "pause")
        try:
            posted = client.post("/api/episodes", files={"file": ("primaire.vtt", UPLOAD)}, headers=AUTH)
            assert posted.status_code == 201, posted.text  # written, and read back, on the primary
            slug = posted.json()["slug"]
            # the paused replica has not replayed it: every kind of read says so
            assert client.get(f"/api/episodes/{slug}").status_code == 404
            assert client.get("/api/episodes").json()["total"] == 0
            assert client.get(f"/episodes/{slug}").status_code == 404
            assert client.get("/api/search", params={"q": WORD}).json()["total"] == 0
            # a write after those reads still goes to the primary
            patched = client.patch(f"/api/episodes/{slug}", json={"aired_on": "2026-01-29"}, headers=AUTH)
            assert patched.status_code == 200, patched.text
        finally:
            replay(replica, "resume")

        wait_for(lambda: client.get(f"/api/episodes/{slug}").status_code == 200, "the replica to replay the write")
        assert client.get(f"/api/episodes/{slug}").json()["aired_on"] == "2026-01-29"
        assert client.get(f"/episodes/{slug}").status_code == 200
        found = client.get("/api/search", params={"q": WORD}).json()
        assert [hit["episode"]["slug"] for hit in found["hits"]] == [slug]


def test_without_a_replica_reads_use_the_primary(settings):
    assert get_read_engine(settings) is get_engine(settings)


def test_a_replica_setting_is_ignored_on_sqlite(settings, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PLATEAU_READ_DATABASE_URL", f"sqlite:///{tmp_path / 'ailleurs.db'}")
    get_settings.cache_clear()
    assert get_read_engine(get_settings()) is get_engine(get_settings())
