"""Ingesting many files at once: batched work, the same archive as one file at a time, resumable."""

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
