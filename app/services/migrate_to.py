"""`plateau migrate-to`: an SQLite archive copied into an empty PostgreSQL database, checked table by table.

The source is opened read-only, in one read transaction (a snapshot: a server may keep writing to it
meanwhile). The target gets the migrations, then every table of the models in foreign-key order, in
chunks and in one transaction, then its sequences past the copied ids, then the search built from
the copied records, and the counts compared.
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, bindparam, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, SQLModel

from app import models  # noqa: F401  (registers the tables on the metadata)
from app.config import Settings
from app.db import engine_for, head_revision, is_sqlite, upgrade

CHUNK_ROWS = 2000
# What a table is called in the summary, when it has rows.
TABLE_LABELS = {
    "show": "émission(s)",
    "episode": "épisode(s)",
    "caption_line": "ligne(s) de sous-titres",
    "person": "personne(s)",
    "person_alias": "graphie(s) de nom",
    "appearance": "apparition(s)",
    "editor": "éditeur(s)",
    "editor_session": "session(s) d'éditeur",
    "login_attempt": "tentative(s) de connexion",
    "revision": "révision(s)",
}


class MoveRefused(Exception):
    """Why nothing was copied, in French (the target is left as it was)."""


@dataclass
class TableCount:
    name: str
    source: int
    target: int

    @property
    def label(self) -> str:
        return TABLE_LABELS.get(self.name, self.name)


@dataclass
class Moved:
    tables: list[TableCount] = field(default_factory=list)
    searchable: int = 0  # episodes the search was built with

    @property
    def agree(self) -> bool:
        return all(t.source == t.target for t in self.tables)


# progress(table, rows done, rows in the table); search(episodes done, episodes in all)
Progress = Callable[[str, int, int], None]
SearchProgress = Callable[[int, int], None]


def check_target_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise MoveRefused(
            f"« {url} » n'est pas une adresse de base (postgresql+psycopg://utilisateur@hôte/base)."
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise MoveRefused(
            "migrate-to copie l'archive vers PostgreSQL : l'adresse commence par postgresql+psycopg:// "
            f"(reçu : {parsed.get_backend_name()})."
        )
    return url


def source_engine(settings: Settings) -> Engine:
    """The SQLite archive, read-only: nothing this command does can change it."""
    url = settings.db_url
    if not is_sqlite(url):
        raise MoveRefused(
            "L'archive est déjà dans PostgreSQL (PLATEAU_DATABASE_URL) : migrate-to copie une archive SQLite ; "
            "pour copier une base PostgreSQL, utilisez pg_dump et pg_restore."
        )
    path = Path(url.removeprefix("sqlite:///"))
    if not path.is_file():
        raise MoveRefused(f"Aucune archive SQLite à copier : {path} n'existe pas (PLATEAU_DATA_DIR ?).")
    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", connect_args={"timeout": 10})


def tables_to_copy(source: Connection) -> list[Table]:
    """The models' tables that the source holds, parents before children."""
    present = set(inspect(source).get_table_names())
    return [table for table in SQLModel.metadata.sorted_tables if table.name in present]


def refuse_unless_empty(target: Engine) -> None:
    """A target with any table of rows is refused: only an empty database, or one where a previous
    migrate-to created the schema and copied nothing, is written to."""
    with target.connect() as connection:
        names = inspect(connection).get_table_names()
        holding = [
            name for name in names if connection.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{name}")')).scalar()
        ]
        if "alembic_version" in names and holding == ["alembic_version"]:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            if version == [head_revision()] and set(names) >= {t.name for t in SQLModel.metadata.sorted_tables}:
                return  # our schema, at head, with no records: a copy that stopped before its end
    if holding:
        shown = ", ".join(sorted(holding)[:6]) + (", …" if len(holding) > 6 else "")
        raise MoveRefused(
            f"La base cible n'est pas vide ({len(holding)} table(s) avec des lignes : {shown}) : rien n'a été copié. "
            "Donnez une base neuve (CREATE DATABASE plateau) ; migrate-to n'écrase jamais."
        )
    if names and not set(names) <= {t.name for t in SQLModel.metadata.sorted_tables} | {"alembic_version"}:
        raise MoveRefused(
            f"La base cible contient déjà des tables ({', '.join(sorted(names)[:6])}) : rien n'a été copié. "
            "Donnez une base neuve (CREATE DATABASE plateau)."
        )


def count(connection: Connection, table: Table) -> int:
    return connection.execute(select(func.count()).select_from(table)).scalar_one()


def copy_table(source: Connection, target: Connection, table: Table, progress: Progress | None) -> None:
    """Every row, in chunks; the columns that point into the same table (a revision's undoes and
    undone_by) are set afterwards, once every row they may point to is there."""
    total = count(source, table)
    own = [c.name for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)]
    key = next(iter(table.primary_key.columns))
    later: list[dict] = []
    done = 0
    rows = source.execution_options(yield_per=CHUNK_ROWS).execute(select(table).order_by(key))
    for chunk in rows.mappings().partitions():
        values = [dict(row) for row in chunk]
        for row in values:
            pointers = {name: row[name] for name in own if row[name] is not None}
            if pointers:
                later.append({"_key": row[key.name], **{name: row.get(name) for name in own}})
                row.update(dict.fromkeys(pointers))
        target.execute(table.insert(), values)
        done += len(values)
        if progress:
            progress(table.name, done, total)
    if progress and not total:
        progress(table.name, 0, 0)
    if later:
        update = table.update().where(key == bindparam("_key")).values({name: bindparam(name) for name in own})
        target.execute(update, later)


def reset_sequences(target: Connection, tables: list[Table]) -> None:
    """Each serial column starts past the largest copied id, so the next episode does not collide."""
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement is False:
                continue
            target.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'
                ),
                {"table": f'"{table.name}"', "column": column.name},
            )


def migrate_to(
    settings: Settings,
    target_url: str,
    progress: Progress | None = None,
    search_progress: SearchProgress | None = None,
) -> Moved:
    """Copy the archive of `settings` (SQLite) into the empty PostgreSQL database at target_url."""
    from app.search import get_search_index

    check_target_url(target_url)
    source = source_engine(settings)
    target = engine_for(target_url)  # the one the search engine's get_engine finds too
    moved = Moved()
    try:
        try:
            refuse_unless_empty(target)
        except SQLAlchemyError as error:
            why = (str(getattr(error, "orig", None) or error).splitlines() or [""])[0][:200]
            raise MoveRefused(f"La base cible ne répond pas : {why}.") from None
        with source.connect() as reading:
            reading.exec_driver_sql("BEGIN")  # one snapshot of the whole archive, as the server goes on
            versions = reading.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            if versions != [head_revision()]:
                raise MoveRefused(
                    f"L'archive SQLite n'est pas à la dernière version du schéma ({', '.join(versions) or 'aucune'}) : "
                    "lancez une fois `plateau check` sur elle (il la met à jour), puis recommencez."
                )
            upgrade(target_url)
            tables = tables_to_copy(reading)
            with target.begin() as writing:
                for table in tables:
                    copy_table(reading, writing, table, progress)
                reset_sequences(writing, tables)
            sources = {table.name: count(reading, table) for table in tables}
        # in PostgreSQL mode the search lives in the database, not in a folder: none of the source's
        with tempfile.TemporaryDirectory(prefix="plateau-migrate-") as nowhere, Session(target) as session:
            target_settings = Settings(data_dir=Path(nowhere), database_url=target_url)
            try:
                moved.searchable = get_search_index(target_settings).rebuild(session, progress=search_progress)
            except Exception as error:
                raise MoveRefused(
                    f"Les fiches sont copiées, mais la recherche n'a pas pu être construite ({error}) : lancez "
                    "`plateau reindex` avec PLATEAU_DATABASE_URL pointant vers la nouvelle base."
                ) from error
        with target.connect() as checking:
            moved.tables = [TableCount(t.name, sources[t.name], count(checking, t)) for t in tables]
    finally:
        source.dispose()
        target.dispose()
    return moved
