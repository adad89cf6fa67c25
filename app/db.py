"""The SQLite engine (WAL, busy timeout, foreign keys), migrations and the session dependency."""

from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from app.config import Settings, get_settings
from app.resources import MIGRATIONS


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine(settings: Settings | None = None) -> Engine:
    return engine_for((settings or get_settings()).db_url)


def migrate(settings: Settings | None = None) -> None:
    """Create the data folder and bring the database to the latest migration."""
    from alembic import command
    from alembic.config import Config

    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", settings.db_url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def prepare_data(settings: Settings) -> None:
    """What every entry point needs first: the data folder, the latest schema, an index."""
    from app.search import get_search_index

    migrate(settings)
    get_search_index(settings).ensure()


def get_session() -> Iterator[Session]:
    with Session(get_engine()) as session:
        yield session
