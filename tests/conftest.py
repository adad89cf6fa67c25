"""Fixtures: a fresh data folder (and, on PostgreSQL, a fresh database) per test, the seeds, and the app
served over real HTTP."""

import itertools
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from archive import Catalogue, catalogue  # noqa: F401  (the session fixture, for every test module)
from fastapi.testclient import TestClient
from postgres import PostgresServer
from sqlmodel import Session

from app.config import Settings, get_settings
from app.db import get_engine
from app.main import create_app, prepare_data
from app.search import get_search_index

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TOKEN = "jeton-de-test"
# The ingest day the tests read yearless dates against ("Ce jeudi 6 novembre" in seed 002 is
# 6 November 2025 until 6 November 2031, then 2031): never the real date, so no test changes with it.
TODAY = date(2026, 11, 22)
# The modules whose tests run on both backends: each test that uses `settings` runs twice, as
# `test_x[sqlite]` and `test_x[postgresql]` (a real server, see tests/postgres.py). Elsewhere, SQLite.
BOTH_BACKENDS = frozenset(
    {
        "test_api.py",
        "test_api_schemas.py",
        "test_french_analysis.py",
        "test_json_twins.py",
        "test_search.py",
        "test_search_after_changes.py",
        "test_search_api.py",
        "test_search_in_episode.py",
        "test_search_metadata.py",
        "test_search_windows.py",
        "test_snippets_and_paths.py",
    }
)
BACKENDS = ("sqlite", "postgresql")
# A search test in a module that runs on SQLite only, run twice too.
ON_BOTH_BACKENDS = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


def pytest_generate_tests(metafunc) -> None:
    if "backend" not in metafunc.fixturenames or Path(metafunc.definition.path).name not in BOTH_BACKENDS:
        return
    if any(mark.args and mark.args[0] == "backend" for mark in metafunc.definition.iter_markers("parametrize")):
        return  # the test names its backend itself
    readings = getattr(metafunc.module, "WHOOSH_READINGS", None)
    if readings and "terms" in metafunc.fixturenames:
        # each of Whoosh's ways of reading its index on SQLite; PostgreSQL reads its passages one way
        cases = [("sqlite", reading) for reading in readings] + [("postgresql", readings[0])]
        metafunc.parametrize(("backend", "terms"), cases, indirect=True, ids=["-".join(c) for c in cases])
        return
    metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request) -> str:
    """ "sqlite" (SQLite + Whoosh), or "postgresql" in the modules of BOTH_BACKENDS' second run."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, started the first time a test asks for it."""
    server = PostgresServer()
    try:
        server.init()
        # several app servers, pools and a replica's walsender at once; initdb's pg_hba.conf
        # already trusts replication connections from 127.0.0.1 (--auth=trust)
        server.configure(max_connections="300")
        server.start()
        yield server
    finally:
        server.destroy()


def ingest_seeds(session, index):
    """The five seeds ingested together as `plateau ingest seeds` does, on TODAY: their outcomes."""
    from app.services.ingest import IngestBatch

    batch = IngestBatch(session, index)
    outcomes = [batch.add(path.name, path.read_bytes(), today=TODAY) for path in sorted(SEEDS.glob("*.txt"))]
    batch.finish()
    return outcomes


@pytest.fixture(scope="session")
def seeded_archive(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The five seeds ingested once per test run into a template data folder, with their slugs."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("seeded") / "data")
    prepare_data(settings)
    with Session(get_engine(settings)) as session:
        outcomes = ingest_seeds(session, get_search_index(settings))
    get_engine(settings).dispose()  # closes the last connection, so the WAL is folded into plateau.db
    assert [o.status for o in outcomes] == ["added"] * 5, [(o.source, o.reason) for o in outcomes]
    return settings.data_dir, {Path(o.source).name[:3]: o.slug for o in outcomes}


class PostgresTemplate:
    """A database filled once per run, copied for each test that wants it (CREATE DATABASE … TEMPLATE,
    a file copy: far quicker than ingesting again)."""

    def __init__(self, server: PostgresServer, name: str, data_dir: Path):
        self.server, self.name, self.data_dir = server, name, data_dir
        self.settings = Settings(data_dir=data_dir, database_url=server.url(name))
        self.slugs: dict[str, str] = {}

    def seal(self) -> None:
        """Close every connection to it: PostgreSQL copies a template nobody is connected to."""
        get_engine(self.settings).dispose()
        terminate_connections(self.server, self.name)

    def copy(self) -> str:
        name = f"{self.name}_{os.getpid()}_{next(COPIES)}"
        terminate_connections(self.server, self.name)  # a pool that outlived `seal` (the search engine's)
        with psycopg.connect(self.server.dsn(), autocommit=True) as connection:
            # FILE_COPY (PostgreSQL 15+): a checkpoint and a folder copy, five times quicker here
            # than logging every page of the template to the WAL (15's default)
            strategy = " STRATEGY FILE_COPY" if connection.info.server_version >= 150000 else ""
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"{strategy}')
        return self.server.url(name)


COPIES = itertools.count(1)


def terminate_connections(server: PostgresServer, database: str) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )


def drop_database(server: PostgresServer, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(server.dsn(), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def seeded_postgres(postgres, tmp_path_factory) -> PostgresTemplate:
    """The five seeds ingested once per run into a template database, through `ingest_seeds`."""
    template = PostgresTemplate(postgres, "plateau_seeded", tmp_path_factory.mktemp("seeded-pg") / "data")
    postgres.create_database(template.name)
    prepare_data(template.settings)
    with Session(get_engine(template.settings)) as session:
        outcomes = ingest_seeds(session, get_search_index(template.settings))
    assert [o.status for o in outcomes] == ["added"] * 5, [(o.source, o.reason) for o in outcomes]
    template.slugs = {Path(o.source).name[:3]: o.slug for o in outcomes}
    template.seal()
    return template


@pytest.fixture(scope="session")
def catalogue_postgres(postgres, catalogue, tmp_path_factory) -> PostgresTemplate:  # noqa: F811
    """The generated catalogue in a template database: the SQLite one ingested again, same files."""
    from app.services.ingest import ingest_paths

    template = PostgresTemplate(postgres, "plateau_catalogue", tmp_path_factory.mktemp("catalogue-pg") / "data")
    postgres.create_database(template.name)
    prepare_data(template.settings)
    pages = catalogue.data_dir.parent / "pages"
    with Session(get_engine(template.settings)) as session:
        outcomes = ingest_paths(session, [pages], index=get_search_index(template.settings))
    assert [o.slug for o in outcomes] == catalogue.slugs
    template.seal()
    return template


@pytest.fixture
def settings(tmp_path, monkeypatch, request, backend) -> Iterator[Settings]:
    """A fresh data folder for this test; a copy of the seeded archive when the test asks for `seeded`,
    of the generated catalogue when it asks for `catalogued`. On PostgreSQL, the folder starts empty
    and the records and search live in a fresh database (a copy of the seeded or catalogue template),
    dropped afterwards."""
    data_dir = tmp_path / "data"
    database_url = None
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        data_dir.mkdir()
        if "seeded" in request.fixturenames:
            database_url = request.getfixturevalue("seeded_postgres").copy()
        elif "catalogued" in request.fixturenames:
            database_url = request.getfixturevalue("catalogue_postgres").copy()
        else:
            database_url = server.create_database()
    elif "seeded" in request.fixturenames:
        shutil.copytree(request.getfixturevalue("seeded_archive")[0], data_dir)
    elif "catalogued" in request.fixturenames:
        shutil.copytree(request.getfixturevalue("catalogue").data_dir, data_dir)
    monkeypatch.setenv("PLATEAU_DATA_DIR", str(data_dir))
    if database_url:
        monkeypatch.setenv("PLATEAU_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("PLATEAU_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLATEAU_READ_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLATEAU_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("PLATEAU_BASE_URL", raising=False)  # absolute links come from each request
    get_settings.cache_clear()
    settings = get_settings()
    try:
        prepare_data(settings)
        yield settings
    finally:
        get_engine(settings).dispose()
        get_settings.cache_clear()
        if database_url:
            drop_database(server, database_url)


@pytest.fixture
def admin_token(monkeypatch, settings) -> str:
    monkeypatch.setenv("PLATEAU_ADMIN_TOKEN", TOKEN)
    get_settings.cache_clear()
    return TOKEN


@pytest.fixture
def session(settings) -> Iterator[Session]:
    with Session(get_engine(settings)) as session:
        yield session


@pytest.fixture
def index(settings):
    return get_search_index(settings)


@pytest.fixture
def seeded(settings, backend, request) -> dict[str, str]:
    """The five seed transcripts, ingested (a copy made for this test): {"000": slug, ...}."""
    if backend == "postgresql":
        return dict(request.getfixturevalue("seeded_postgres").slugs)
    return dict(request.getfixturevalue("seeded_archive")[1])


@pytest.fixture
def catalogued(settings, catalogue) -> Catalogue:  # noqa: F811  (pytest passes the imported fixture by its name)
    """The generated 300-episode catalogue (a copy made for this test): several pages of every list."""
    return catalogue


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, deadline: float) -> None:
    while True:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)


class LiveServer:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def server(settings) -> Iterator[LiveServer]:
    with LiveServer() as live:
        yield live


@pytest.fixture
def client(settings) -> Iterator[httpx.Client]:
    """The whole app through its ASGI interface, in process, with its lifespan run.

    Tests where processes matter (browser, workers, CLI, crawl) use `server`, a real uvicorn."""
    with TestClient(create_app(), raise_server_exceptions=False) as http:
        yield http
