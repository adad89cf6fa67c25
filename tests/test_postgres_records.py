"""The records on PostgreSQL: writers queue on one advisory lock as they do on SQLite's write lock, so
the races of tests/test_concurrent_writers.py end the same way; times come back in UTC whatever the
server's time zone; a session of the read replica refuses to write."""

import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.db import ReadOnlySession, begin_writing, get_engine
from app.models import Editor, utcnow
from tests.test_concurrent_writers import (
    test_crossed_merges_keep_every_appearance as crossed_merges,
)
from tests.test_concurrent_writers import (
    test_deletes_of_one_episode_at_once_delete_it_once as racing_deletes,
)
from tests.test_concurrent_writers import (
    test_edits_naming_one_new_show_at_once_create_it_once as racing_edits,
)
from tests.test_concurrent_writers import (
    test_one_file_uploaded_three_times_at_once_is_stored_once as racing_uploads,
)

on_postgresql = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@on_postgresql
def test_a_second_writer_waits_for_the_first_to_commit(settings):
    engine = get_engine(settings)
    order: list[str] = []
    with Session(engine) as first:
        begin_writing(first)
        order.append("first holds the lock")

        def second_writer() -> None:
            with Session(engine) as second:
                begin_writing(second)
                order.append("second holds the lock")
                second.commit()

        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.5)
        with Session(engine) as observer:
            waiting = observer.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar()
        assert waiting == 1 and order == ["first holds the lock"]
        order.append("first commits")
        first.commit()
        thread.join(10)
    assert order == ["first holds the lock", "first commits", "second holds the lock"]


@on_postgresql
def test_reading_sessions_of_the_replica_refuse_to_write(settings):
    with Session(get_engine(settings)) as session:
        session.info["replica"] = True
        with pytest.raises(ReadOnlySession):
            begin_writing(session)


@on_postgresql
def test_times_come_back_in_utc_whatever_the_server_zone(settings, postgres):
    database = settings.db_url.rsplit("/", 1)[1]
    engine = get_engine(settings)
    with engine.connect() as connection:
        connection.execute(text(f"ALTER DATABASE \"{database}\" SET timezone TO 'Pacific/Kiritimati'"))
        connection.commit()
    engine.dispose()
    before = utcnow()
    with Session(engine) as session:
        session.add(Editor(name="camille", password_hash="x"))
        session.commit()
    with Session(engine) as session:
        created = session.exec(select(Editor.created_at)).one()
        assert session.execute(text("SHOW timezone")).scalar() == "UTC"
    assert created.utcoffset().total_seconds() == 0
    assert abs((created - before).total_seconds()) < 60


@on_postgresql
def test_edits_naming_one_new_show_at_once_create_it_once(admin_token, seeded):
    racing_edits(admin_token, seeded)


@on_postgresql
def test_deletes_of_one_episode_at_once_delete_it_once(admin_token, seeded):
    racing_deletes(admin_token, seeded)


@on_postgresql
def test_crossed_merges_keep_every_appearance(admin_token, seeded):
    crossed_merges(admin_token, seeded)


@on_postgresql
def test_one_file_uploaded_three_times_at_once_is_stored_once(admin_token, tmp_path):
    racing_uploads(admin_token, tmp_path)


@on_postgresql
def test_the_data_folder_does_not_hold_back_writes_in_postgresql_mode(settings, monkeypatch):
    """Mounted read-only, the folder stops SQLite's writes; in PostgreSQL mode it holds nothing that
    writes need, so neither /healthz nor the pages announce a read-only archive."""
    import app.db

    monkeypatch.setattr(app.db, "read_only", lambda folder: True)
    assert app.db.storage_state(settings) == "ok"
    on_sqlite = settings.model_copy(update={"database_url": None})
    assert app.db.storage_state(on_sqlite).startswith("lecture seule")
