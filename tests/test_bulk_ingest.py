"""Ingesting many files at once: batched work, the same archive as one file at a time, resumable."""

import os
from pathlib import Path

from sqlmodel import Session, select

from app import limits
from app.config import Settings
from app.db import get_engine
from app.main import prepare_data
from app.models import Appearance, Episode, Person
from app.search import SearchRequest, get_search_index
from app.services import episodes as episode_service
from app.services.ingest import IngestBatch, ingest_bytes, ingest_paths
from tests.conftest import SEEDS

SEED_FILES = sorted(SEEDS.glob("*.txt"))
PANEL = ["Garance Mathias", "Julien Pillot", "Alain Staron", "Sophie Morel", "Karim Benali", "Lucie Fontaine"]


def page(number: int) -> str:
    """A small episode in the seeds' page format: every third one names no guest in its description
    but introduces two known people in its first line."""
    day = 1 + number % 28
    a, b = PANEL[number % len(PANEL)], PANEL[(number + 2) % len(PANEL)]
    if number % 3 == 2:
        description = f"Un débat sur le cloud souverain numéro {number}, sans invité annoncé."
        first = f"Bonjour, avec nous aujourd'hui {a} et {b} pour parler du cloud"
    else:
        description = (
            f"Jeudi {day} mai 2025, retrouvez {a} (consultante, Cabinet {number}) et {b} (avocat) "
            f"dans SMART TECH, une émission présentée par Delphine Sabattier."
        )
        first = "Bonjour à tous et bienvenue"
    lines = [first] + [f"la phrase numéro {number} ligne {i} parle de souveraineté et de données" for i in range(30)]
    body = "\n".join(f"{i * 4 // 60:02d}:{i * 4 % 60:02d}{text}" for i, text in enumerate(lines))
    return f"{description}\nCatégorie\n🗞\nNewsTranscription\n{body}\nCommentaires\n"


def write_pages(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"episode_{n:03d}.txt"
        path.write_text(page(n), encoding="utf-8")
        paths.append(path)
    return paths


def archive(tmp_path: Path, name: str) -> Settings:
    settings = Settings(data_dir=tmp_path / name)
    prepare_data(settings)
    return settings


def people_and_links(session):
    return sorted(
        session.exec(
            select(Person.name, Episode.source, Appearance.kind, Appearance.found_in)
            .join(Appearance, Appearance.person_id == Person.id)
            .join(Episode, Episode.id == Appearance.episode_id)
        ).all()
    )


def hits(index, session, q):
    """What a search finds: its total, and the episodes found (equal scores may order an episode's
    hits differently from one index layout to another, so which of them is shown first may differ)."""
    results = index.search(session, SearchRequest(q=q, per_page=50))
    return results.total, sorted({hit.episode.source for hit in results.hits})


def phrase_hits(index, session, q):
    return sorted((h.episode.source, h.start) for h in index.search(session, SearchRequest(q=q, per_page=50)).hits)


def test_bulk_ingest_in_batches_gives_the_archive_of_one_file_at_a_time(tmp_path, monkeypatch):
    files = write_pages(tmp_path / "lot", 45) + SEED_FILES
    monkeypatch.setattr(limits, "BATCH_FILES", 20)  # three batches, two through the writer processes
    bulk, single = archive(tmp_path, "bulk"), archive(tmp_path, "single")
    with Session(get_engine(bulk)) as session:
        outcomes = ingest_paths(session, [tmp_path / "lot", SEEDS], index=get_search_index(bulk))
        assert [o.status for o in outcomes] == ["added"] * 50
        bulk_people = people_and_links(session)
        bulk_hits = [hits(get_search_index(bulk), session, q) for q in ("souveraineté", '"ligne 7"', "numéro 44")]
        bulk_phrase = phrase_hits(get_search_index(bulk), session, '"ligne 7 parle"')
        assert get_search_index(bulk).check(session) == []
    with Session(get_engine(single)) as session:
        for path in files:
            assert ingest_bytes(session, path.name, path.read_bytes(), index=get_search_index(single)).status == "added"
        assert people_and_links(session) == bulk_people
        assert [
            hits(get_search_index(single), session, q) for q in ("souveraineté", '"ligne 7"', "numéro 44")
        ] == bulk_hits
        assert phrase_hits(get_search_index(single), session, '"ligne 7 parle"') == bulk_phrase
    introduced = [row for row in bulk_people if row[3] == "introduction" and row[1].startswith("episode_")]
    assert len(introduced) == 2 * 15  # every undescribed episode got its two introduced guests
    assert [len(found) for _, found in bulk_hits] == [50, 45, 1]
    assert bulk_hits[1][0] == 45 and bulk_hits[2][1] == ["episode_044.txt"]
    assert bulk_phrase == [(f"episode_{n:03d}.txt", 32.0) for n in range(45)]


def test_a_failed_file_in_a_batch_changes_nothing_and_the_others_go_in(tmp_path):
    write_pages(tmp_path / "lot", 24)
    (tmp_path / "lot" / "episode_010.txt").write_text("pas une transcription\n", encoding="utf-8")
    settings = archive(tmp_path, "data")
    index = get_search_index(settings)
    with Session(get_engine(settings)) as session:
        outcomes = {Path(o.source).name: o for o in ingest_paths(session, [tmp_path / "lot"], index=index)}
        assert outcomes["episode_010.txt"].status == "failed"
        assert "transcription" in outcomes["episode_010.txt"].reason
        assert sum(o.status == "added" for o in outcomes.values()) == 23
        assert session.exec(select(Episode).where(Episode.source == "episode_010.txt")).first() is None
        assert index.check(session) == []
        assert len(hits(index, session, "souveraineté")[1]) == 23


def test_an_interrupted_ingest_is_finished_by_the_next_one(tmp_path):
    settings = archive(tmp_path, "data")
    index = get_search_index(settings)
    with Session(get_engine(settings)) as session:
        # a batch that dies after its files are committed, before it settles people and indexes
        batch = IngestBatch(session, index)
        for path in SEED_FILES[:4]:
            assert batch.add(path.name, path.read_bytes()).status == "added"
        batch.running.close()  # the process dies: the lock it held as a running batch goes with it
        assert index.check(session) != []
        # the next ingest, even of an unchanged file, finishes that work
        assert ingest_bytes(session, SEED_FILES[0].name, SEED_FILES[0].read_bytes(), index=index).status == "unchanged"
        assert index.check(session) == []
        no_date = session.exec(select(Episode).where(Episode.source == SEED_FILES[3].name)).one()
        names = {g.name for g in episode_service.summarize(session, [no_date])[0].guests}
        assert names == {"Alain Staron"}  # Imène Kabouya is described only by 004, not ingested here


def test_an_introduction_follows_the_episodes_that_describe_its_guests(tmp_path):
    settings = archive(tmp_path, "data")
    index = get_search_index(settings)
    undescribed, describing = SEED_FILES[3], SEED_FILES[0]  # 003 names no guest; 000 describes Alain Staron
    with Session(get_engine(settings)) as session:

        def guests_of_undescribed():
            episode = session.exec(select(Episode).where(Episode.source == undescribed.name)).one()
            return {g.name for g in episode_service.summarize(session, [episode])[0].guests}

        ingest_bytes(session, undescribed.name, undescribed.read_bytes(), index=index)
        assert guests_of_undescribed() == set()
        ingest_bytes(session, describing.name, describing.read_bytes(), index=index)
        assert guests_of_undescribed() == {"Alain Staron"}
        episode_service.delete_episode(
            session,
            episode_service.get_episode(
                session, session.exec(select(Episode.slug).where(Episode.source == describing.name)).one()
            ),
            index,
        )
        assert guests_of_undescribed() == set()
        assert session.exec(select(Person).where(Person.name == "Alain Staron")).first() is None


def test_the_quick_look_at_introductions_finds_every_name_the_full_comparison_finds(monkeypatch):
    """Misspelt, split and glued names in 300 introductions: the prefilter drops none of them."""
    import random
    import string

    from app.names import fold
    from app.services import guests

    rng = random.Random(1)
    first = ["julien", "garance", "alain", "imene", "thomas", "sophie", "karim", "lucie", "cyril", "audrey"]
    last = ["pillot", "mathias", "staron", "kabouya", "serval", "morel", "benali", "fontaine", "vanagt", "de la tour"]
    filler = [
        "bonjour",
        "a",
        "tous",
        "et",
        "bienvenue",
        "avec",
        "nous",
        "aujourd",
        "hui",
        "pour",
        "parler",
        "du",
        "cloud",
        "et",
        "de",
        "l",
        "intelligence",
    ]

    def misspell(word: str) -> str:
        letters, i = list(word), rng.randrange(len(word))
        choice = rng.random()
        if choice < 0.3:
            letters[i] = rng.choice(string.ascii_lowercase)
        elif choice < 0.6:
            del letters[i]
        elif choice < 0.8:
            letters.insert(i, rng.choice(string.ascii_lowercase))
        return "".join(letters)

    known = sorted({(n, fold(f"{rng.choice(first)} {rng.choice(last)}")) for n in range(60)})
    words_of = {}
    for episode in range(300):
        words = [rng.choice(filler) for _ in range(rng.randint(20, 250))]
        for _ in range(rng.randint(0, 4)):
            parts = rng.choice(known)[1].split()
            if rng.random() < 0.5:
                parts = [misspell(p) for p in parts]
            if rng.random() < 0.2 and len(parts[-1]) > 4:
                parts[-1:] = [parts[-1][:3], parts[-1][3:]]
            at = rng.randrange(len(words))
            words[at:at] = [p for p in parts if p]
        words_of[episode] = words
    quick = guests.introduction_names(words_of, known)
    monkeypatch.setattr(guests, "INTRODUCTION_PREFILTER", 0)
    assert len(quick) > 500
    assert guests.introduction_names(words_of, known) == quick


def episodes_found(index, session, q) -> int:
    return index.search(session, SearchRequest(q=q)).episodes


def segment_count(settings: Settings) -> int:
    return len(get_search_index(settings)._segments())


def in_a_thread(work):
    """What another writer (an upload, another command) does meanwhile: its own thread and session."""
    import threading

    found: list = []
    thread = threading.Thread(target=lambda: found.append(work()))
    thread.start()
    thread.join()
    return found[0]


def test_a_bulk_ingest_leaves_one_segment_per_writer_process_and_the_index_free_meanwhile(tmp_path, monkeypatch):
    """Each batch used to commit two segments of its own: 20 at 2,000 episodes, which every search
    reads. Written aside, four batches leave two; the index's lock stays free meanwhile, so that
    another writer's episode is searchable at once, and its folder is kept while it is in use."""
    write_pages(tmp_path / "lot", 75)
    monkeypatch.setattr(limits, "BATCH_FILES", 20)
    settings = archive(tmp_path, "data")
    index = get_search_index(settings)
    monkeypatch.setattr(index, "writer_timeout", 1.0)  # a writer held for the ingest would fail this
    index_dir = Path(settings.index_dir)
    during = {}

    def upload():
        with Session(get_engine(settings)) as other:
            seed = SEED_FILES[0]
            return ingest_bytes(other, seed.name, seed.read_bytes(), index=get_search_index(settings))

    def meanwhile(outcome):
        if Path(outcome.source).name == "episode_050.txt":  # two batches indexed, aside
            during["upload"] = in_a_thread(upload)
            during["aside"] = sorted(p.name for p in index_dir.glob("aside-*"))
            index.remove_stale_generations()  # what a command starting now does
            during["kept"] = sorted(p.name for p in index_dir.glob("aside-*"))
            with Session(get_engine(settings)) as other:
                during["found"] = hits(index, other, "souveraineté")[1]

    with Session(get_engine(settings)) as session:
        outcomes = ingest_paths(session, [tmp_path / "lot"], index=index, progress=meanwhile)
        assert [(o.status, o.searchable) for o in outcomes] == [("added", True)] * 75
        assert during["upload"].status == "added" and during["upload"].searchable
        assert len(during["aside"]) == 1 and during["kept"] == during["aside"]
        # the ingest's episodes are searchable at its end; the upload's at once
        assert during["found"] == [SEED_FILES[0].name]
        assert episodes_found(index, session, "souveraineté") == 76
        assert hits(index, session, "numéro 44")[1] == ["episode_044.txt"]
        assert index.check(session) == []
    assert segment_count(settings) == limits.WRITER_PROCS + 1  # and the upload's
    assert list(index_dir.glob("aside-*")) == []


def test_an_episode_changed_during_a_bulk_ingest_keeps_its_new_text(tmp_path, monkeypatch):
    """A file of the ingest sent again, changed, while the ingest still writes aside: the index ends
    with the new text, not the copy written aside before."""
    write_pages(tmp_path / "lot", 45)
    monkeypatch.setattr(limits, "BATCH_FILES", 20)
    settings = archive(tmp_path, "data")
    index = get_search_index(settings)
    changed = page(3).replace("souveraineté", "zeppelin")

    def resend():
        with Session(get_engine(settings)) as other:
            return ingest_bytes(other, "episode_003.txt", changed.encode(), index=get_search_index(settings))

    def meanwhile(outcome):
        if Path(outcome.source).name == "episode_030.txt":  # the first batch is indexed, aside
            assert in_a_thread(resend).status == "updated"

    with Session(get_engine(settings)) as session:
        outcomes = ingest_paths(session, [tmp_path / "lot"], index=index, progress=meanwhile)
        assert all(o.searchable for o in outcomes)
        assert hits(index, session, "zeppelin")[1] == ["episode_003.txt"]
        assert "episode_003.txt" not in hits(index, session, "souveraineté")[1]
        assert episodes_found(index, session, "souveraineté") == 44
        assert index.check(session) == []


KILLED_INGEST = """
import os, sys
import os
from pathlib import Path
from sqlmodel import Session
from app import limits
from app.config import Settings
from app.db import get_engine
from app.search import get_search_index
from app.services.ingest import ingest_paths

limits.BATCH_FILES = 20
settings = Settings(data_dir=Path(sys.argv[1]))

def die(outcome):
    if Path(outcome.source).name == "episode_050.txt":
        os._exit(9)  # killed, two batches written aside

with Session(get_engine(settings)) as session:
    ingest_paths(session, [Path(sys.argv[2])], index=get_search_index(settings), progress=die)
"""


def test_a_killed_bulk_ingest_leaves_nothing_that_the_next_command_does_not_finish(tmp_path):
    import subprocess
    import sys

    write_pages(tmp_path / "lot", 75)
    settings = archive(tmp_path, "data")
    script = tmp_path / "killed.py"
    script.write_text(KILLED_INGEST)
    done = subprocess.run(
        [sys.executable, str(script), str(settings.data_dir), str(tmp_path / "lot")],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=120,  # its writer processes, left waiting, would hold the pipes open
    )
    assert done.returncode == 9, done.stderr
    index_dir = Path(settings.index_dir)
    assert len(list(index_dir.glob("aside-*"))) == 1
    index = get_search_index(settings)
    with Session(get_engine(settings)) as session:
        stored = session.exec(select(Episode.index_state)).all()
        assert len(stored) == 51 and set(stored) == {"pending"}  # stored, none searchable yet
        assert hits(index, session, "souveraineté") == (0, [])
    prepare_data(settings)  # the start of any command
    assert list(index_dir.glob("aside-*")) == []
    with Session(get_engine(settings)) as session:
        outcomes = ingest_paths(session, [tmp_path / "lot"], index=index)
        assert sorted(o.status for o in outcomes) == ["added"] * 24 + ["unchanged"] * 51
        assert all(o.searchable for o in outcomes)
        assert episodes_found(index, session, "souveraineté") == 75
        assert index.check(session) == []


def test_a_speaker_given_during_a_bulk_ingest_is_kept(tmp_path, monkeypatch):
    """A guest merge during the ingest rewrites the speaker of passages and indexes them again, with
    the same stamp: the copy written aside before must not replace it."""
    from sqlalchemy import update

    from app.models import CaptionLine

    write_pages(tmp_path / "lot", 45)
    monkeypatch.setattr(limits, "BATCH_FILES", 20)
    settings = archive(tmp_path, "data")
    index = get_search_index(settings)

    def name_the_speaker():
        with Session(get_engine(settings)) as other:
            episode = other.exec(select(Episode).where(Episode.source == "episode_003.txt")).one()
            person = other.exec(select(Person).where(Person.name == "Julien Pillot")).one()
            other.exec(update(CaptionLine).where(CaptionLine.episode_id == episode.id).values(person_id=person.id))
            other.commit()
            get_search_index(settings).index_episodes(other, [episode.id])  # as merge_guests does

    def meanwhile(outcome):
        if Path(outcome.source).name == "episode_030.txt":  # the first batch is indexed, aside
            in_a_thread(name_the_speaker)

    with Session(get_engine(settings)) as session:
        ingest_paths(session, [tmp_path / "lot"], index=index, progress=meanwhile)
        said = index.search(session, SearchRequest(q="souveraineté", speaker="julien-pillot", per_page=50))
        assert {hit.episode.source for hit in said.hits} == {"episode_003.txt"}
        assert index.check(session) == []


def test_an_index_that_cannot_be_written_stops_no_bulk_ingest(tmp_path, monkeypatch):
    """A full disk when the index written aside starts: every file is still stored, none is said
    searchable, the summary's reason is the disk; the next ingest indexes them."""
    import errno

    from app.search import index as index_module

    write_pages(tmp_path / "lot", 45)
    monkeypatch.setattr(limits, "BATCH_FILES", 20)
    settings = archive(tmp_path, "data")
    index = get_search_index(settings)

    def full(self, index):
        raise OSError(errno.ENOSPC, "No space left on device")

    with Session(get_engine(settings)) as session:
        with monkeypatch.context() as patched:
            patched.setattr(index_module._Aside, "_open", full)
            outcomes = ingest_paths(session, [tmp_path / "lot"], index=index)
        assert [(o.status, o.searchable) for o in outcomes] == [("added", False)] * 45
        assert index.last_write_error == "disque plein"
        assert set(session.exec(select(Episode.index_state)).all()) == {"failed"}
        assert list(Path(settings.index_dir).glob("aside-*")) == []
        again = ingest_paths(session, [tmp_path / "lot"], index=index)
        assert {o.status for o in again} == {"unchanged"}
        assert episodes_found(index, session, "souveraineté") == 45
        assert index.check(session) == []


def test_a_writer_process_that_dies_loses_no_episode_silently(tmp_path, monkeypatch):
    """Whoosh commits what its writer processes return and goes on without one that died: its
    documents would be missing while their episodes were said searchable."""
    import signal

    write_pages(tmp_path / "lot", 65)
    monkeypatch.setattr(limits, "BATCH_FILES", 20)
    settings = archive(tmp_path, "data")
    index = get_search_index(settings)

    def kill_a_writer(outcome):
        if Path(outcome.source).name == "episode_050.txt":  # two batches given to the writer
            (task, *_) = index._aside.current.writer.tasks
            os.kill(task.pid, signal.SIGKILL)
            task.join(10)

    with Session(get_engine(settings)) as session:
        outcomes = ingest_paths(session, [tmp_path / "lot"], index=index, progress=kill_a_writer)
        assert [o.status for o in outcomes] == ["added"] * 65
        assert not any(o.searchable for o in outcomes)
        assert index.check(session) != []
        again = ingest_paths(session, [tmp_path / "lot"], index=index)
        assert {o.status for o in again} == {"unchanged"}
        assert episodes_found(index, session, "souveraineté") == 65
        assert index.check(session) == []


def test_a_server_retry_during_a_bulk_ingest_leaves_its_episodes_to_it(tmp_path, monkeypatch):
    """The server indexes what waits at its start and after a failed upload (index_pending): a
    running ingest's episodes wait for its end, and indexing them there would write the segments per
    batch that the ingest writes aside to avoid."""
    write_pages(tmp_path / "lot", 65)
    monkeypatch.setattr(limits, "BATCH_FILES", 20)
    settings = archive(tmp_path, "data")
    index = get_search_index(settings)
    done = []

    def retry():
        with Session(get_engine(settings)) as other:
            return get_search_index(settings).index_pending(other)

    def meanwhile(outcome):
        if Path(outcome.source).name == "episode_050.txt":  # two batches pending, aside
            done.append(in_a_thread(retry))

    with Session(get_engine(settings)) as session:
        outcomes = ingest_paths(session, [tmp_path / "lot"], index=index, progress=meanwhile)
        assert all(o.searchable for o in outcomes)
        assert done == [0]
        assert episodes_found(index, session, "souveraineté") == 65
    assert segment_count(settings) == limits.WRITER_PROCS
    with Session(get_engine(settings)) as session:
        assert index.index_pending(session) == 0  # and after it, nothing waits
