"""The engines (SQLite with WAL, busy timeout and foreign keys; or PostgreSQL and its optional read
replica), migrations, the write lock and the session dependency."""

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


# The advisory lock every PostgreSQL writer takes (begin_writing): one number for the whole archive,
# as SQLite has one write lock per database file.
WRITE_LOCK_KEY = 0x706C6174  # "plat"
MIGRATION_LOCK_KEY = WRITE_LOCK_KEY + 1
# How long a writer waits for another one, as SQLite's busy_timeout below.
WRITE_LOCK_TIMEOUT = "10s"
READS = frozenset({"GET", "HEAD"})


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str) -> Engine:
    if not is_sqlite(url):
        # PostgreSQL: a pool per process; connections checked before use survive a server restart.
        # Sessions speak UTC, so what a timestamp column gives back reads the same on every server.
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=10,
            connect_args={"options": "-c timezone=UTC"},
        )
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class ReadOnlySession(RuntimeError):
    """A write asked of a session bound to the read replica: a route that writes must not be a GET."""


def begin_writing(session: Session) -> None:
    """End the session's open transaction (committing it), and begin one that holds the archive's
    write lock from its first statement: what it reads and then writes (a free slug, a show or a
    person to create) cannot be taken by another writer in between. Other writers wait for it (10 s
    at most); readers never do.

    On SQLite, the database's own lock (BEGIN IMMEDIATE; readers go on thanks to WAL). The driver
    opens SQLite's transactions itself, before a first write only: a transaction that read first
    and then wrote could not wait for another writer (SQLite refuses it at once).

    On PostgreSQL, a transaction-level advisory lock, released by the commit or the rollback: every
    app server on every machine queues on the same one."""
    if session.info.get("replica"):
        raise ReadOnlySession("écriture demandée à une session de la réplique en lecture seule")
    if session.in_transaction():
        session.commit()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{WRITE_LOCK_TIMEOUT}'")
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
        connection.exec_driver_sql("SET LOCAL lock_timeout TO DEFAULT")  # the waits of the writes themselves


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine(settings: Settings | None = None) -> Engine:
    """The primary database: every write, and the reads of those who will write."""
    settings = settings or get_settings()
    url = settings.db_url
    if url.startswith("sqlite:///") and read_only(settings.data_dir):
        # SQLite opens a WAL database only where it can write its -shm file; a folder mounted
        # read-only cannot change under it, so it is opened as immutable: reads only, no locks
        url = f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&immutable=1&uri=true"
    return engine_for(url)


def get_read_engine(settings: Settings | None = None) -> Engine:
    """Where reads go: PLATEAU_READ_DATABASE_URL's replica in PostgreSQL mode, else the primary."""
    settings = settings or get_settings()
    if settings.read_database_url and not is_sqlite(settings.db_url):
        return engine_for(settings.read_database_url)
    return get_engine(settings)


def read_only(folder: Path) -> bool:
    """Whether the folder sits on a filesystem mounted read-only (a snapshot, a backup, a mistake)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def storage_state(settings: Settings) -> str:
    """ "ok", or why writes (uploads, ingests, index updates) will fail, in French: for /healthz
    and the pages' notice. Reads go on either way. In PostgreSQL mode the folder holds nothing that
    writes need, and the database server reports its own full disk."""
    if not is_sqlite(settings.db_url):
        return "ok"
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
    if is_sqlite(settings.db_url):
        upgrade(settings.db_url)
        return
    # Several app servers start at once on one PostgreSQL: one migrates, the others wait for its
    # session lock, then find the schema at head.
    with get_engine(settings).connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        holder.commit()
        try:
            if not at_head(settings):
                upgrade(settings.db_url)
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            holder.commit()


def upgrade(url: str) -> None:
    """Bring the database at this URL to the latest migration (Alembic)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # a password's %xx: not interpolation
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def open_session(method: str = "POST") -> Iterator[Session]:
    """A session for a request of this HTTP method: a GET or HEAD reads from the replica when there
    is one (a page, a search, an API read); any other method reads and writes on the primary, so a
    write never follows a read of the replica in one session (begin_writing refuses it)."""
    settings = get_settings()
    if method in READS and settings.read_database_url and not is_sqlite(settings.db_url):
        with Session(get_read_engine(settings)) as session:
            session.info["replica"] = True
            yield session
        return
    with Session(get_engine(settings)) as session:
        yield session
