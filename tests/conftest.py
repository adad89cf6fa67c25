"""Fixtures: a fresh data folder per test, the seeds, and the app served over real HTTP."""
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlmodel import Session

from app.config import Settings, get_settings
from app.db import get_engine
from app.main import create_app, prepare_data
from app.search import get_search_index

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TOKEN = "jeton-de-test"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Iterator[Settings]:
    monkeypatch.setenv("PLATEAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PLATEAU_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLATEAU_ADMIN_TOKEN", raising=False)
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
def seeded(session, index):
    """The five seed transcripts, ingested."""
    from app.services.ingest import ingest_paths

    outcomes = ingest_paths(session, [SEEDS], index=index)
    assert [o.status for o in outcomes] == ["added"] * 5, [(o.source, o.reason) for o in outcomes]
    return {Path(o.source).name[:3]: o.slug for o in outcomes}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
def client(server) -> Iterator[httpx.Client]:
    """An HTTP client talking to the app served by uvicorn on a free local port."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http
