"""The migrations build exactly what the models declare, and undo it."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import app.models  # noqa: F401  (the tables, on SQLModel.metadata)
from app.db import migrate
from app.resources import MIGRATIONS


def test_migrated_database_matches_the_models(settings):
    migrate(settings)
    engine = create_engine(settings.db_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == [], "a model change without its migration (or the reverse)"


def test_every_migration_downgrades_and_upgrades_again(settings, tmp_path):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{tmp_path / 'allers-retours.db'}")
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    engine = create_engine(f"sqlite:///{tmp_path / 'allers-retours.db'}")
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_a_database_at_the_latest_migration_skips_alembic(tmp_path):
    from app.config import Settings
    from app.db import at_head, head_revision

    fresh = Settings(data_dir=tmp_path / "neuve")
    assert not at_head(fresh), "a new database is not at head"
    migrate(fresh)
    latest = sorted(p.name for p in (MIGRATIONS / "versions").glob("0*.py"))[-1]
    assert at_head(fresh) and latest.startswith(head_revision())


def test_on_postgresql_the_migrations_build_the_models_and_the_search_and_undo_them(postgres, tmp_path):
    """The same migrations on a real PostgreSQL server: the models' tables exactly, plus the search's
    own (0008, PostgreSQL only: passages, vocabulary, indexed stamps), and back to nothing."""
    from alembic.config import Config
    from sqlalchemy import inspect

    from app.config import Settings

    url = postgres.create_database()
    migrate(Settings(data_dir=tmp_path / "data", database_url=url))
    search_tables = {"search_episode", "search_passage", "search_word"}

    def models_only(obj, name, type_, reflected, compare_to) -> bool:
        return not (type_ == "table" and name in search_tables)

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": models_only})
            assert compare_metadata(context, SQLModel.metadata) == []
            assert search_tables <= set(inspect(connection).get_table_names())
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", url)
        config.attributes["configure_logger"] = False
        command.downgrade(config, "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        with engine.connect() as connection:
            assert search_tables <= set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
