"""Fixtures: a fresh data folder per test, the seeds, and the app served over real HTTP."""

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from archive import Catalogue, catalogue  # noqa: F401  (the session fixture, for every test module)
from fastapi.testclient import TestClient
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


@pytest.fixture
def settings(tmp_path, monkeypatch, request) -> Iterator[Settings]:
    """A fresh data folder for this test; a copy of the seeded archive when the test asks for `seeded`,
    of the generated catalogue when it asks for `catalogued`."""
    data_dir = tmp_path / "data"
    if "seeded" in request.fixturenames:
        shutil.copytree(request.getfixturevalue("seeded_archive")[0], data_dir)
    elif "catalogued" in request.fixturenames:
        shutil.copytree(request.getfixturevalue("catalogue").data_dir, data_dir)
    monkeypatch.setenv("PLATEAU_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PLATEAU_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLATEAU_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("PLATEAU_BASE_URL", raising=False)  # absolute links come from each request
    get_settings.cache_clear()
    settings = get_settings()
    prepare_data(settings)
    yield settings
    get_engine(settings).dispose()
    get_settings.cache_clear()


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
def seeded(settings, seeded_archive) -> dict[str, str]:
    """The five seed transcripts, ingested (a copy made for this test): {"000": slug, ...}."""
    return dict(seeded_archive[1])


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
