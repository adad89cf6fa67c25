"""The SQLite engine (WAL, busy timeout, foreign keys), migrations and the session dependency."""

import os
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

from app import limits
from app.config import Settings, get_settings
from app.resources import MIGRATIONS


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # an immutable (read-only) database keeps its own, unharmed
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def begin_writing(session: Session) -> None:
    """End the session's open transaction (committing it), and begin one that holds SQLite's write
    lock from its first statement (BEGIN IMMEDIATE): what it reads and then writes (a free slug, a
    show or a person to create) cannot be taken by another writer in between. Other writers wait
    for it (busy timeout); readers never do (WAL). Elsewhere than SQLite, a plain transaction.

    The driver opens SQLite's transactions itself, before a first write only: a transaction that
    read first and then wrote could not wait for another writer (SQLite refuses it at once)."""
    if session.in_transaction():
        session.commit()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = settings.db_url
    if url.startswith("sqlite:///") and read_only(settings.data_dir):
        # SQLite opens a WAL database only where it can write its -shm file; a folder mounted
        # read-only cannot change under it, so it is opened as immutable: reads only, no locks
        url = f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&immutable=1&uri=true"
    return engine_for(url)


def read_only(folder: Path) -> bool:
    """Whether the folder sits on a filesystem mounted read-only (a snapshot, a backup, a mistake)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def storage_state(settings: Settings) -> str:
    """ "ok", or why writes (uploads, ingests, index updates) will fail, in French: for /healthz
    and the pages' notice. Reads go on either way."""
    folder = settings.data_dir
    if read_only(folder):
        return "lecture seule : le dossier de données est monté sans écriture ; aucun ajout possible"
    try:
        info = os.statvfs(folder)
    except OSError:
        return "ok"
    free = info.f_bavail * info.f_frsize
    if free < limits.LOW_DISK_BYTES:
        return f"disque plein : {free // 1024:,} Kio libres ; les ajouts échoueront".replace(",", "\u202f")
    return "ok"


def head_revision() -> str:
    """The latest migration's revision id, read from migrations/versions: the one no other revises."""
    revisions, revised = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = re.search(r'^revision = "([^"]+)"', text, re.M)
        if found:
            revisions.add(found.group(1))
        found = re.search(r'^down_revision = "([^"]+)"', text, re.M)
        if found:
            revised.add(found.group(1))
    (head,) = revisions - revised
    return head


def at_head(settings: Settings) -> bool:
    """Whether the database is already at the latest migration: one small query, where loading
    Alembic and its scripts costs a command a quarter of a second."""
    try:
        with get_engine(settings).connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:
        return False  # a new database, or not one of ours yet
    return current == [head_revision()]


def migrate(settings: Settings | None = None) -> None:
    """Create the data folder and bring the database to the latest migration."""
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if at_head(settings):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", settings.db_url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def get_session() -> Iterator[Session]:
    with Session(get_engine()) as session:
        yield session
