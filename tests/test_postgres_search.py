"""Search with the records in PostgreSQL (a real server): what it finds, and that it finds what
SQLite + Whoosh finds on the seeds, query by query."""

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest
from conftest import drop_database, ingest_seeds
from sqlalchemy import text
from sqlmodel import Session, select

from app.config import Settings
from app.db import get_engine
from app.models import Episode
from app.search import SearchRequest, get_search_index, postgres
from app.search.postgres import PostgresSearch
from app.search.postgres_terms import WORDS_LAYOUT, looked_up_pairs, lookup_tsquery, plan
from app.search.query import compile_query, parse
from app.services import revisions
from app.services.episodes import delete_episode
from app.startup import prepare_data
from tests.small_archives import add_episode, filler

PLATEAU = str(Path(sys.executable).with_name("plateau"))
# The query syntax, on the seeds: words, accents, stems and plurals, phrases (across lines, of stop
# words, glued), prefixes, typos, exclusions, groups, OR, hyphens and elisions.
QUERIES = [
    "données",
    "donnees",
    "DONNÉES personnelles",
    "hyperscaler",
    "hyperscalers américains",
    "souveraineté numérique",
    '"souveraineté numérique"',
    '"données personnelles"',
    '"de la"',
    '"data center"',
    "datacenter",
    "data-center",
    "start-up",
    "startups",
    "l'IA",
    "intelligence artificielle",
    '"intelligence artificielle" Europe',
    "cloud*",
    "souver*",
    "souv*",
    "inte*",
    "clou* -souv*",
    "cyber*",
    "souverainete~",
    "Mikrosoft~",
    "Keepit",
    "cloud -Microsoft",
    'cloud -"cloud souverain"',
    "cloud -(Microsoft OR Amazon)",
    "Microsoft OR Google",
    "(cloud OR données) Europe",
    "Europe souveraineté données",
    "Europe souveraineté",
    "cloud européen",
    "souveraineté -cloud",
    '"le cloud souverain"',
    "pas",
    "souverainte",
    "donées personelles",
]
# Filters, each with every query above.
FILTERS: list[dict] = [{}, {"sort": "date"}, {"date_from": date(2025, 10, 1)}, {"date_to": date(2025, 6, 30)}]


@dataclass
class Archive:
    settings: Settings
    slugs: dict[str, str]

    def search(self, q: str, **kw):
        with Session(get_engine(self.settings)) as session:
            return get_search_index(self.settings).search(session, SearchRequest(q=q, **kw))

    def answer(self, q: str, **kw) -> dict:
        """What a user can tell of a search: counts, corrections, and every hit line of every episode
        (read inside each episode, where the hits come in order, all of them)."""
        results = self.search(q, per_page=50, **kw)
        lines: set[tuple[str, int, float]] = set()
        for group in results.groups:
            page = 1
            while True:
                inside = self.search(results.request.q, episode=group.episode.slug, per_page=50, page=page)
                lines.update((group.episode.slug, hit.position, hit.start) for hit in inside.hits)
                if page >= inside.pages:
                    break
                page += 1
        return {
            "total": results.total,
            "episodes": {g.episode.slug: g.matches for g in results.groups},
            "error": results.error,
            "suggestion": results.suggestion,
            "corrected": results.corrected,
            "metadata": results.episode_matches_total,
            "lines": lines,
        }


@pytest.fixture(scope="module")
def on_sqlite(seeded_archive, tmp_path_factory) -> Iterator[Archive]:
    folder, slugs = seeded_archive
    data_dir = tmp_path_factory.mktemp("compare-sqlite") / "data"
    shutil.copytree(folder, data_dir)
    settings = Settings(data_dir=data_dir)
    yield Archive(settings, slugs)
    get_engine(settings).dispose()


@pytest.fixture(scope="module")
def on_postgres(postgres, seeded_postgres, tmp_path_factory) -> Iterator[Archive]:
    url = seeded_postgres.copy()
    settings = Settings(data_dir=tmp_path_factory.mktemp("compare-pg") / "data", database_url=url)
    prepare_data(settings)
    yield Archive(settings, dict(seeded_postgres.slugs))
    get_engine(settings).dispose()
    drop_database(postgres, url)


@pytest.fixture
def pg(postgres, tmp_path) -> Iterator[Settings]:
    """A fresh, empty PostgreSQL database for one test."""
    url = postgres.create_database()
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    prepare_data(settings)
    yield settings
    get_engine(settings).dispose()
    drop_database(postgres, url)


@pytest.mark.parametrize("filters", FILTERS, ids=["plain", "by-date", "since-october", "first-half"])
def test_postgres_finds_what_whoosh_finds_on_the_seeds(on_sqlite, on_postgres, filters):
    """Same totals, episodes, counts per episode, corrections and hit lines (the order of the hits is
    each engine's ranking: BM25F for Whoosh, ts_rank_cd for PostgreSQL, so it is not compared)."""
    differences = []
    for q in QUERIES:
        whoosh, pg = on_sqlite.answer(q, **filters), on_postgres.answer(q, **filters)
        if whoosh != pg:
            differences.append((q, {k: (whoosh[k], pg[k]) for k in whoosh if whoosh[k] != pg[k]}))
    assert differences == []


def test_filters_by_speaker_show_and_guest_agree_with_whoosh(pg, tmp_path):
    """A small archive written on both backends, its lines said by people: the same hits for each
    filter, and the same passages when a person's words are listed without a query."""
    archives = [Archive(Settings(data_dir=tmp_path / "sqlite"), {}), Archive(pg, {})]
    for archive in archives:
        prepare_data(archive.settings)
        index = get_search_index(archive.settings)
        with Session(get_engine(archive.settings)) as session:
            for n, (show, guest) in enumerate([("SMART TECH", "Ada Lovelace"), ("Tech & Co", "Alan Turing")] * 2):
                lines = [
                    f"le cloud souverain numéro {n}",
                    *filler(7, f"ep-{n}"),
                    "la souveraineté du cloud",
                    *filler(5),
                ]
                add_episode(session, index, f"ep-{n}", lines, show=show, guests=(guest,), aired_on=date(2025, 1 + n, 3))
            people = dict(session.execute(text("SELECT slug, id FROM person")).all())
            # the first lines of each episode said by its guest, the rest by the other
            session.execute(
                text(
                    "UPDATE caption_line SET person_id = CASE WHEN position < 8 THEN :a ELSE :b END "
                    "WHERE episode_id IN (SELECT id FROM episode WHERE slug IN ('ep-0', 'ep-2'))"
                ),
                {"a": people["ada-lovelace"], "b": people["alan-turing"]},
            )
            session.commit()
            index.index_episodes(session, [e for e in session.exec(select(Episode.id)).all() if e is not None])
    whoosh, pg_archive = archives
    for filters in (
        {"speaker": "ada-lovelace"},
        {"speaker": "alan-turing"},
        {"show": "smart-tech"},
        {"guest": "alan-turing"},
    ):
        found = 0
        for q in ("cloud", "cloud souverain", '"souveraineté du cloud"', "souv*"):
            answer = whoosh.answer(q, **filters)
            assert pg_archive.answer(q, **filters) == answer, (q, filters)
            found += answer["total"]
        assert found, filters
    for person in ("ada-lovelace", "alan-turing"):
        said = [whoosh.search("", speaker=person), pg_archive.search("", speaker=person)]
        assert said[0].total == said[1].total > 0
        assert [(h.episode.slug, h.position) for h in said[1].hits] == [
            (h.episode.slug, h.position) for h in said[0].hits
        ]
    get_engine(whoosh.settings).dispose()


def test_accents_stems_phrases_and_typos_on_the_seeds(on_postgres):
    hit = on_postgres.search("donnees").hits[0]
    assert "<mark>données</mark>" in hit.snippet.lower() or "<mark>donnée" in hit.snippet.lower()
    assert on_postgres.search("hyperscaler").total == on_postgres.search("hyperscalers").total > 0
    typo = on_postgres.search("souverainte")
    assert typo.corrected and typo.suggestion == "souveraineté" and typo.total
    offered = on_postgres.search("souverainte", as_typed=True)
    assert offered.total == 0 and offered.suggestion == "souveraineté"
    assert on_postgres.search("souverainete~").total >= on_postgres.search("souveraineté").total


def test_no_index_folder_and_the_engine_says_which_index_serves(pg):
    assert not pg.index_dir.exists()
    index = get_search_index(pg)
    assert isinstance(index, PostgresSearch)
    with Session(get_engine(pg)) as session:
        assert index.index_kind(session) == "rum"  # the rum package is installed here
        assert "RUM" in index.describe(session)
        assert index.health(session, deep=True) == "ok"


def test_phrase_across_caption_lines_at_its_exact_second_and_line(pg):
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        lines = [*filler(20), "et c'est là que la souveraineté", "numérique devient un vrai sujet", *filler(20)]
        add_episode(session, index, "coupure", lines, step=3)
        results = index.search(session, SearchRequest(q='"souveraineté numérique"'))
    assert results.total == 1
    (hit,) = results.hits
    assert (hit.start, hit.position, hit.url) == (60, 20, "/episodes/coupure?t=60&l=20")
    assert "<mark>souveraineté</mark>" in hit.snippet and "<mark>numérique</mark>" in hit.snippet


def test_a_phrase_of_common_words_is_found_by_its_pairs_and_not_across_the_order(pg):
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        add_episode(session, index, "paires", [*filler(10), "et puis de la donnée partout", *filler(10)])
        assert index.search(session, SearchRequest(q='"de la donnée"')).total == 1
        assert index.search(session, SearchRequest(q='"de la données"')).total == 1  # in the singular
        assert index.search(session, SearchRequest(q='"la de donnée"')).total == 0
        assert index.search(session, SearchRequest(q='"puis la"')).total == 0
        compiled = compile_query(parse('"de la donnée"'), postgres.Vocabulary(index._runner(session)))
        assert plan(compiled.query).query == "('>de la':A <-> '>la donnee')"  # two pairs, not three words


def test_a_phrase_of_frequent_pairs_is_looked_up_by_its_rarer_pairs_then_checked_whole(pg):
    """ "mais c'est que": "c est" in every passage, "mais c" and "est que" in a few, apart in most of
    them. The words index is asked for the two rarer pairs only, then the phrase is checked whole: it
    finds the passages holding the phrase (across two lines too), none of those holding its pairs apart.
    With the same statistics, "a -b" is counted as a's passages less b's."""
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        passages = [["c'est bien", *filler(5, f"p{n}")] for n in range(36)]
        passages += [["mais c'est loin", "tout est que bruit", *filler(4, f"a{n}")] for n in range(3)]
        passages.append(["alors mais c'est que la donnée", *filler(5, "phrase")])
        passages.append(["et puis mais c'est", "que du cloud", *filler(4, "coupure")])
        add_episode(session, index, "paires", [line for passage in passages for line in passage])
        session.execute(text("ANALYZE search_passage"))
        session.commit()
        index._shares = None  # the statistics read again
        compiled = compile_query(parse('"mais c est que"'), postgres.Vocabulary(index._runner(session)))
        assert index._lookup(session, plan(compiled.query)) == "('>mais c':A & '>est que')"
        results = index.search(session, SearchRequest(q='"mais c est que"', per_page=50))
        assert results.total == 2
        assert sorted(hit.position for hit in results.hits) == [234, 240]
        assert index.search(session, SearchRequest(q='"mais c est loin"')).total == 3  # its pairs: the phrase itself
        assert index.search(session, SearchRequest(q='bruit -"mais c est que"')).total == 3
        assert index.search(session, SearchRequest(q='"mais c est que" OR "du cloud"')).total == 2
        # "a -b", b rarer: counted as a's passages less b's, the same ones
        request = SearchRequest(q="rapport -loin")
        compiled = compile_query(parse(request.q), postgres.Vocabulary(index._runner(session)))
        _, params = index._where(session, request, plan(compiled.query), None, None)
        assert (params["included"], params["excluded"]) == ("'rapport':A", "'loin':A")
        assert index.search(session, request).total == 41 - 3
        assert index.search(session, SearchRequest(q="rapport -phrase")).total == 41 - 1


def test_which_pairs_of_a_phrase_the_words_index_is_asked_for():
    """The rarest pair, then rare pairs that are no neighbours of a chosen one, while their lists cost
    less than the checks they save; the whole phrase when it is as cheap."""
    shares = {">mais c": 0.05, ">c est": 0.81, ">est que": 0.08, ">economie c": 0.004, ">est a": 0.064}
    assert looked_up_pairs([">mais c", ">c est", ">est que"], shares.__getitem__) == [0, 2]
    assert looked_up_pairs([">economie c", ">c est", ">est a"], shares.__getitem__) == [0]
    assert looked_up_pairs([">c est", ">est a"], shares.__getitem__) is None  # one pair alone: as dear
    assert looked_up_pairs([">mais c"], shares.__getitem__) is None
    # an excluded phrase stays whole: asking for less of it would turn away passages the query finds
    no_words = postgres.Vocabulary(lambda sql, params: [])
    compiled = compile_query(parse('"mais c est que" -cloud'), no_words)
    assert lookup_tsquery(compiled.query, shares.__getitem__) == "(('>mais c':A & '>est que') & !'cloud':A)"
    compiled = compile_query(parse('cloud -"mais c est que"'), no_words)
    assert lookup_tsquery(compiled.query, shares.__getitem__) == (
        "('cloud':A & !('>mais c':A <-> '>c est' <-> '>est que'))"
    )


def test_a_prefix_of_four_letters_is_looked_up_by_its_start_when_it_stands_for_all_its_words(pg):
    """`comp*` is read as one list of passages ("<comp"), not those of each of its words; a prefix
    of more words than the query keeps (limits.MAX_EXPANSION, the most frequent) keeps its words."""
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        add_episode(
            session, index, "comp", ["la compétition", *filler(5), "des comptes", *filler(5), "rien", *filler(5)]
        )
        # 70 words of one start, one a line: the first 64 of them (as frequent) are searched
        many = [f"pref{a}{b}" for a in "abcdefghij" for b in "abcdefg"]
        add_episode(session, index, "pref", many)
        vocabulary = postgres.Vocabulary(index._runner(session))
        compiled = compile_query(parse("comp*"), vocabulary)
        assert plan(compiled.query, vocabulary.starts).query == "'<comp':A"
        assert index.search(session, SearchRequest(q="comp*")).total == 2
        assert index.search(session, SearchRequest(q="comp* -compétition")).total == 1
        compiled = compile_query(parse("pref*"), vocabulary)
        assert vocabulary.starts == {frozenset(["competition", "comptes"]): "comp"}
        assert "<pref" not in plan(compiled.query, vocabulary.starts).query
        results = index.search(session, SearchRequest(q="pref*"))
        assert results.total == 11  # lines 0 to 65, 6 a passage: not the last passage's words
        assert any("70 mots" in notice for notice in results.notices)


def test_passages_written_by_an_older_plateau_are_written_again_at_start(pg):
    """Before pairs of words (postgres_terms.WORDS_LAYOUT), phrases looked for single words: an
    archive searched then finds its phrases once any entry point has started."""
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        add_episode(session, index, "ancienne", [*filler(10), "la souveraineté numérique européenne", *filler(10)])
        session.execute(
            text(
                "UPDATE search_passage SET words = ts_delete(words, "
                "ARRAY(SELECT lexeme FROM unnest(words) WHERE left(lexeme, 1) = '>'))"
            )
        )
        session.execute(text("UPDATE search_episode SET stamp = replace(stamp, :new, 'pg1')"), {"new": WORDS_LAYOUT})
        session.commit()
        assert index.search(session, SearchRequest(q='"souveraineté numérique"')).total == 0
        assert index.check(session)  # stale, said so
    prepare_data(pg)
    with Session(get_engine(pg)) as session:
        assert index.search(session, SearchRequest(q='"souveraineté numérique"')).total == 1
        assert index.check(session) == []


def test_snippets_escape_the_captions_html(pg):
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        add_episode(session, index, "balise", ["<script>alert('cloud')</script> le cloud & vous"])
        (hit,) = index.search(session, SearchRequest(q="cloud")).hits
    assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet
    assert "<mark>cloud</mark>" in hit.snippet and "&amp;" in hit.snippet


def test_pages_of_episodes_keep_their_total(pg):
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        for n in range(7):
            add_episode(session, index, f"ep-{n}", [f"le cloud numéro {n}", *filler(3, f"ep-{n}")])
        first = index.search(session, SearchRequest(q="cloud", per_page=3))
        last = index.search(session, SearchRequest(q="cloud", per_page=3, page=3))
    assert (first.total, first.episodes, first.pages) == (7, 7, 3)
    assert len(first.groups) == 3 and len(last.groups) == 1
    assert {g.episode.slug for g in first.groups}.isdisjoint(g.episode.slug for g in last.groups)


def test_an_edit_is_found_at_once_and_a_deleted_episode_no_more(pg):
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        episode = add_episode(session, index, "edite", ["le nuage souverain", *filler(8, "edite")])
        assert index.search(session, SearchRequest(q="nuage")).total == 1
        revisions.correct_line(session, episode, 0, "le cloud souverain", author="test")
        revisions.finish(session, episode, index)
    with Session(get_engine(pg)) as other:  # another connection, as another app server would read
        assert index.search(other, SearchRequest(q="cloud")).total == 1
        assert index.search(other, SearchRequest(q="nuage")).total == 1  # the machine's word still finds it
        # a quote of either version, none across them
        assert index.search(other, SearchRequest(q='"cloud souverain"')).total == 1
        assert index.search(other, SearchRequest(q='"nuage souverain"')).total == 1
        assert index.search(other, SearchRequest(q='"nuage cloud"')).total == 0
        episode = other.exec(select(Episode).where(Episode.slug == "edite")).one()
        delete_episode(other, episode, index)
    with Session(get_engine(pg)) as session:
        assert index.search(session, SearchRequest(q="cloud")).total == 0
        assert session.execute(text("SELECT count(*) FROM search_passage")).one()[0] == 0
        # the vocabulary forgot its words: no suggestion of a word no passage holds
        assert session.execute(text("SELECT frequency FROM search_word WHERE word = 'cloud'")).one()[0] == 0


def test_check_reports_disagreements_and_reindex_mends_them(pg):
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        add_episode(session, index, "un", ["le cloud souverain", *filler(8, "un")])
        add_episode(session, index, "deux", ["le cloud européen", *filler(8, "deux")])
        assert index.check(session) == []
        session.execute(
            text("DELETE FROM search_episode WHERE episode_id = (SELECT id FROM episode WHERE slug = 'un')")
        )
        session.execute(text("UPDATE search_episode SET stamp = 'vieux'"))
        session.commit()
        problems = index.check(session)
        assert any("absent" in p and "un" in p for p in problems)
        assert any("périmé" in p and "deux" in p for p in problems)
        assert index.health(session, deep=True).startswith("en désaccord")
        seen = []
        assert index.rebuild(session, progress=lambda done, total: seen.append((done, total))) == 2
        assert seen[-1] == (2, 2)
        assert index.check(session) == []
        assert index.search(session, SearchRequest(q="cloud")).total == 2


def test_common_words_past_the_cap_say_plus_de(pg, monkeypatch):
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        for n in range(4):
            add_episode(session, index, f"ep-{n}", [f"le cloud numéro {n}", *filler(3, f"ep-{n}")])
        monkeypatch.setattr(postgres, "MATCH_CAP", 2)
        results = index.search(session, SearchRequest(q="cloud"))
    assert results.total == 2
    assert any(notice.startswith("Plus de 2 passages") for notice in results.notices)


def test_the_migration_leaves_sqlite_without_search_tables(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    prepare_data(settings)
    with Session(get_engine(settings)) as session:
        tables = {row[0] for row in session.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    get_engine(settings).dispose()
    assert "search_passage" not in tables and "episode" in tables
    assert Path(settings.index_dir).exists()  # SQLite keeps its Whoosh folder


def test_without_rum_a_gin_index_finds_the_same_and_check_says_so(postgres, seeded_postgres, on_sqlite, tmp_path):
    url = seeded_postgres.copy()
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    prepare_data(settings)
    index = get_search_index(settings)
    try:
        with Session(get_engine(settings)) as session:
            session.execute(text("DROP INDEX ix_search_passage_words"))
            session.execute(text("CREATE INDEX ix_search_passage_words ON search_passage USING gin (words)"))
            session.commit()
            index._kind = None  # as a server started on such a database finds it
            assert index.index_kind(session) == "gin" and "GIN" in index.describe(session)
            assert index.rebuild(session) == 5
            assert index.index_kind(session) == "gin"  # the rebuild keeps the kind it found
        archive = Archive(settings, {})
        for q in ("données", '"souveraineté numérique"', "cloud* -Microsoft", "Europe souveraineté", "souverainte"):
            assert archive.answer(q) == on_sqlite.answer(q), q
            assert archive.answer(q, sort="date") == on_sqlite.answer(q, sort="date"), q
    finally:
        index._kind = None
        get_engine(settings).dispose()
        drop_database(postgres, url)


def test_a_database_that_refuses_rum_is_served_by_gin_and_plateau_check_says_why(postgres, on_sqlite, tmp_path):
    """`ALTER DATABASE … SET plateau.search_index = 'gin'` before the first migration: a GIN index,
    though rum is installed here; the seeds are found as Whoosh finds them, ranked by ts_rank_cd, and
    `plateau check` names GIN and why, and passes."""
    url = postgres.create_database()
    with psycopg.connect(postgres.dsn(), autocommit=True) as connection:
        connection.execute(f"ALTER DATABASE \"{url.rsplit('/', 1)[1]}\" SET plateau.search_index = 'gin'")
        assert connection.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'").fetchone()
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    try:
        prepare_data(settings)  # the migrations, 0008 reading the setting
        index = get_search_index(settings)
        with Session(get_engine(settings)) as session:
            assert [o.status for o in ingest_seeds(session, index)] == ["added"] * 5
            assert index.index_kind(session) == "gin"
            assert "rum" not in session.execute(text("SELECT extname FROM pg_extension")).scalars().all()
        archive = Archive(settings, {})
        for q in ("souveraineté", '"souveraineté numérique"', "cloud européen", "souver*"):
            assert archive.answer(q) == on_sqlite.answer(q), q
            ranked = archive.search(q, sort="relevance", per_page=50)
            assert ranked.total and ranked.request.sort == "relevance"
            scores = [g.hits[0].score for g in ranked.groups]
            assert scores == sorted(scores, reverse=True), q  # best passage first, episode by episode
        env = {**os.environ, "PLATEAU_DATA_DIR": str(settings.data_dir), "PLATEAU_DATABASE_URL": url}
        checked = subprocess.run([PLATEAU, "check"], env=env, capture_output=True, text=True, timeout=120)
        assert checked.returncode == 0, checked.stderr + checked.stdout
        assert "index GIN" in checked.stdout and "extension rum refusée" in checked.stdout, checked.stdout
        assert "Base et index sont d'accord." in checked.stdout
        with Session(get_engine(settings)) as session:  # `plateau reindex` keeps to GIN
            assert index.rebuild(session) == 5
            session.commit()
            assert PostgresSearch(settings.db_url).index_kind(session) == "gin"
    finally:
        get_engine(settings).dispose()
        drop_database(postgres, url)


def test_reindex_turns_a_rum_index_to_gin_once_the_database_refuses_rum(postgres, seeded_postgres, tmp_path):
    url = seeded_postgres.copy()
    with psycopg.connect(postgres.dsn(), autocommit=True) as connection:
        connection.execute(f"ALTER DATABASE \"{url.rsplit('/', 1)[1]}\" SET plateau.search_index = 'gin'")
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    try:
        prepare_data(settings)
        index = get_search_index(settings)
        with Session(get_engine(settings)) as session:
            assert index.index_kind(session) == "rum"  # made before the setting: kept until a reindex
            assert index.rebuild(session) == 5
            session.commit()
            assert index.index_kind(session) == "gin" and "rum refusée" in index.describe(session)
            assert PostgresSearch(settings.db_url).index_kind(session) == "gin"  # as another server reads it
            assert index.search(session, SearchRequest(q='"souveraineté numérique"')).total
    finally:
        get_engine(settings).dispose()
        drop_database(postgres, url)


def test_writers_on_several_servers_index_at_once_without_failing(pg):
    """Two processes' writes (here two threads, each its own connection) re-index episodes that
    share their words: none fails, and the vocabulary counts what the passages hold."""
    index = get_search_index(pg)
    with Session(get_engine(pg)) as session:
        for n in range(4):
            add_episode(session, index, f"ep-{n}", [f"le cloud souverain {n}", *filler(12, "partage")])
        ids = [e for e in session.exec(select(Episode.id)).all() if e is not None]

    def write(order: list[int]) -> None:
        with Session(get_engine(pg)) as own:
            for _ in range(5):
                index.index_episodes(own, order)

    threads = [threading.Thread(target=write, args=(ids,)), threading.Thread(target=write, args=(ids[::-1],))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(get_engine(pg)) as session:
        states = set(session.exec(select(Episode.index_state)).all())
        drift = session.execute(
            text(
                "SELECT count(*) FROM search_word w FULL JOIN (SELECT substr(u.lexeme, 2) AS word, count(*) AS n "
                "FROM search_passage p, unnest(p.words) AS u WHERE left(u.lexeme, 1) = '=' AND 'A' = ANY (u.weights) "
                "GROUP BY 1) c ON c.word = w.word WHERE coalesce(w.frequency, 0) <> coalesce(c.n, 0)"
            )
        ).one()[0]
        assert index.search(session, SearchRequest(q="cloud")).total == 4
    assert states == {"indexed"} and drift == 0
