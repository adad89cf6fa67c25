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
