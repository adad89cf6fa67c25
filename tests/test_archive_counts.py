"""The archive's counts on the home page stay exact through updates, deletes and schema upgrades."""

import re
import sqlite3

from alembic import command
from alembic.config import Config
from conftest import SEEDS
from sqlmodel import Session, func, select

from app.db import get_engine, migrate
from app.models import CaptionLine
from app.resources import MIGRATIONS
from app.services import episodes as episode_service
from app.services.ingest import ingest_bytes

SEED = sorted(SEEDS.glob("*.txt"))[0]


def lines_on_home(client) -> int:
    found = re.search(r"<strong>([\d\u202f]+)</strong> lignes? transcrites?", client.get("/").text)
    assert found, "the home page shows how many caption lines the archive holds"
    return int(found.group(1).replace("\u202f", ""))


def caption_rows(session) -> int:
    return session.exec(select(func.count(CaptionLine.id))).one()


def test_home_counts_every_caption_line_after_an_update_and_a_delete(client, seeded, session, index):
    assert lines_on_home(client) == caption_rows(session) > 1000
    text = SEED.read_text(encoding="utf-8")
    shorter = "\n".join(line for n, line in enumerate(text.splitlines()) if not (40 < n < 90))
    assert ingest_bytes(session, SEED.name, shorter.encode(), index=index).status == "updated"
    assert lines_on_home(client) == caption_rows(session)
    episode_service.delete_episode(session, episode_service.get_episode(session, seeded["001"]), index)
    assert lines_on_home(client) == caption_rows(session)


def test_upgrading_an_older_archive_counts_its_caption_lines(settings, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "0001")  # an archive made before the count was kept
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute(
        "INSERT INTO episode (id, slug, source, content_hash, format, title, duration, index_state, "
        "ingested_at, updated_at) VALUES (1, 'a', 'a.txt', 'h', 'page', 'A', 9, 'indexed', "
        "'2025-01-01 00:00:00', '2025-01-01 00:00:00')"
    )
    db.executemany(
        "INSERT INTO caption_line (episode_id, position, start, \"end\", text) VALUES (1, ?, ?, ?, 'mot')",
        [(i, float(i), float(i + 1)) for i in range(7)],
    )
    db.commit()
    db.close()
    settings.database_url = url
    migrate(settings)
    with Session(get_engine(settings)) as session:
        assert episode_service.archive_counts(session)["caption_lines"] == 7
