"""Benchmark the search against SQLite FTS5 on a synthetic archive; prints a table, asserts nothing on time.

    .venv/bin/python -m bench.run --sizes 200 2000 [--queries 40] [--lines 1000] [--backend all]

For each size: generate the archive (bench.generate, seed page format), load its caption lines
into a fresh database (each episode gets one of four shows and an air date, see episode_meta),
then build the indexes over the same passages and time the same queries on each, in one process.

--backend: whoosh (Whoosh and FTS5), postgresql (PostgreSQL and FTS5) or all, the default (Whoosh,
FTS5 and PostgreSQL; Whoosh and FTS5 only, said so, when PostgreSQL's binaries are not installed).
PostgreSQL: one server for the run (tests/postgres.py: initdb in the work folder, Debian's binaries,
their default settings but fsync off and shared_buffers as a deployment sets it, ARCHIVE_SETTINGS),
a fresh database per size. The SQLite archive is copied into
it by migrate_to (`plateau migrate-to`: migrations, records, the search built, counts checked; timed
as a whole), then the search is rebuilt alone and timed (PostgresSearch.rebuild, as `plateau
reindex`), then VACUUM ANALYZE (what autovacuum does within a minute). Adding one episode: its records
inserted, then PostgresSearch.index_episodes timed, the same three episodes as Whoosh. Then, warm,
per class: "PostgreSQL service", the engine's `search(session, request)`, the path of the app's
requests (as Whoosh's "service"), and "PostgreSQL moteur", its part comparable to FTS5's query
(compile over the database's vocabulary, count the matches within the filters, MATCH_CAP at most,
rank the top 30; pg_engine_query), each query in its own transaction. A second table puts the
engines side by side (p50 / p95) with issue 13's targets for PostgreSQL: service p95 ≤ 100 ms for
every class, adding one episode ≤ 0.5 s, ✓ or ✗. The zero-hit queries find nothing on any engine.

Build times, and what each one covers:
- Whoosh: the whole `SearchIndex.rebuild` in a child process (for its peak memory): caption
  lines read from the database, Plateau's analysis (folding, stemming, stop words, bi-words,
  via cut_passages), the writer processes (limits.WRITER_PROCS, within the memory budget), commit and
  swap.
- FTS5: only the FTS5 work: CREATE VIRTUAL TABLE, the INSERT of each raw passage text and the
  commit; FTS5's own tokenizer (unicode61, remove_diacritics 2) does its analysis inside them.
  The passages are Plateau's: the CORE_LINES caption lines each passage owns, joined with a
  space (Whoosh's passages also borrow the next lines' first words for phrases; FTS5's do not).
  Reading the page files and joining the lines is timed apart and printed, not counted.
- Adding one episode: `SearchIndex.index_episodes` of one new episode, three times (Whoosh only;
  FTS5 gets the same three episodes untimed, so both then search the same archive).

Query classes, --queries each, drawn with a seeded generator from the archive's own words (the
same queries on both engines wherever FTS5 has an equivalent): one word, phrases of 2 and 4 words
(a fifth of those from the planted quotes), boolean (OR, NOT, AND), prefix, typo (`mot~`: a word
with one letter changed, dropped, added or swapped; FTS5 has no such operator: "—"), zero-hit
(half made-up words, half phrases of archive words in an order that occurs nowhere, checked on
both engines) and filtered (a word or a two-word phrase, one show and a date range; FTS5 filters
through a second table of episodes, the Whoosh engine through the database's episode table).

Columns:
- "moteur" does the same work as the FTS5 query beside it: parse, count every matching passage
  (within the filters), rank the top 30. "chaud": after warm-up queries of every class, with the
  process's caches as they are. "froid": before each query a new SearchIndex (new searcher, index
  opened again, empty per-segment caches of episode ids and lengths) and emptied module caches
  (decoded posting lists of frequent terms, posting counts, fold/stem caches): what the first
  query after a start or a rebuild costs, opening the searcher included. (After an ordinary write
  only the new segment is cold, so it costs less.) The OS file cache stays warm in both. The
  lines above the table give the fixed part of a cold query: opening the searcher and reading
  each segment's columns (episode ids, field lengths), whatever the query.
- FTS5: `... MATCH ? ORDER BY rank LIMIT 30` plus `count(*)` on one open connection.
- ratio p95: Whoosh engine warm p95 over FTS5 p95 (like with like).
- "service": the whole search service (total and episodes, filters in the database, grouping by
  episode, snippets read from the database, a "did you mean" for zero hits), warm.
- "passages trouvés": median number of matching passages per query, Whoosh / FTS5 (they differ
  where Whoosh stems plain words and lets a phrase run into the next passage's first words).
"""

import argparse
import gc
import multiprocessing
import random
import resource
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlmodel import Session

from app import limits
from app.config import Settings
from app.db import engine_for, get_engine, migrate
from app.models import CaptionLine, Episode, Show
from app.search import SearchIndex, SearchRequest
from app.search import postings as matching  # its caches: go_cold() empties them
from app.search.analysis import STOP_WORDS, WORD, fold, stem
from app.search.matching import find_matches
from app.search.passages import CORE_LINES, cut_passages
from app.search.postgres import MATCH_CAP, PostgresSearch, Vocabulary
from app.search.postgres_terms import plan
from app.search.query import compile_query, parse
from app.search.ranking import top_passages
from app.services.migrate_to import migrate_to
from bench.generate import PLANTED, generate, read_captions

CLASSES = [
    "mot",
    "expr. 2 mots",
    "expr. 4 mots",
    "mots retenus (3, sans guillemets)",
    "booléenne",
    "préfixe",
    "faute de frappe (mot~)",
    "sans résultat",
    "filtrée (émission + dates)",
]
TOP = 30  # passages ranked per query, by both engines

# The benchmark's shows (slug, name, weight) and air dates: one episode a day from FIRST_AIRED.
SHOWS = [
    ("smart-tech", "SMART TECH", 4),
    ("tech-co", "Tech & Co, la quotidienne", 5),
    ("01-hebdo", "01 Hebdo", 2),
    ("debrief-numerique", "Le Débrief Numérique", 2),
]
FIRST_AIRED = date(2021, 1, 4)


def episode_meta(n: int) -> tuple[int, date]:
    """(show id, air date) of episode n: the same for a given n in every run."""
    show = random.Random(n).choices(range(len(SHOWS)), [w for _, _, w in SHOWS])[0] + 1
    return show, FIRST_AIRED + timedelta(days=n)


def load(settings: Settings, paths: list[Path], first_id: int = 1) -> list[int]:
    engine = get_engine(settings)
    ids = []
    with Session(engine) as session:
        for show_id, (slug, name, _) in enumerate(SHOWS, 1):
            if session.get(Show, show_id) is None:
                session.add(Show(id=show_id, slug=slug, name=name))
        session.commit()
        for n, path in enumerate(paths, first_id):
            captions = read_captions(path)
            show_id, aired = episode_meta(n)
            session.execute(
                insert(Episode),
                [
                    {
                        "id": n,
                        "slug": f"synth-{n}",
                        "source": path.name,
                        "content_hash": f"h{n}",
                        "format": "page",
                        "title": f"Épisode {n}",
                        "show_id": show_id,
                        "aired_on": aired,
                        "duration": captions[-1][0],
                        "caption_count": len(captions),
                        "index_state": "pending",
                    }
                ],
            )
            session.execute(
                insert(CaptionLine),
                [
                    {"episode_id": n, "position": i, "start": float(s), "end": float(s), "text": t}
                    for i, (s, t) in enumerate(captions)
                ],
            )
            ids.append(n)
        session.commit()
    return ids


def _rebuild_child(data_dir: str, queue) -> None:
    settings = Settings(data_dir=Path(data_dir))
    index = SearchIndex(settings.index_dir, memory_mb=settings.index_memory_mb)
    start = time.perf_counter()
    with Session(get_engine(settings)) as session:
        count = index.rebuild(session)
    # the rebuild's writer processes are this process's children: their peak counts too
    queue.put(
        (
            time.perf_counter() - start,
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            count,
            index.memory_mb,
        )
    )


# --- FTS5 ---------------------------------------------------------------------------------------


def passage_texts(captions: list[tuple[int, str]]) -> list[str]:
    """The raw text of each passage: the CORE_LINES caption lines it owns, joined (no analysis)."""
    texts = [t for _, t in captions]
    return [" ".join(texts[lo : lo + CORE_LINES]) for lo in range(0, len(texts), CORE_LINES)]


def check_boundaries(captions: list[tuple[int, str]]) -> None:
    """passage_texts cuts where cut_passages does (a correctness check, outside every timing)."""
    lines = [(i, float(s), t) for i, (s, t) in enumerate(captions)]
    ours = [(lo, len(captions[lo : lo + CORE_LINES])) for lo in range(0, len(captions), CORE_LINES)]
    assert ours == [(p.first, len(p.starts)) for p in cut_passages(lines)], "passage boundaries differ"


def build_fts(path: Path, paths: list[Path], extra: list[Path]) -> tuple[float, float]:
    """(seconds of FTS5 work: create, inserts, commit; seconds reading the pages and joining lines).

    The extra episodes (the ones added to Whoosh one at a time) are inserted afterwards, untimed,
    so that both engines search the same episodes."""
    check_boundaries(read_captions(paths[0]))
    db = sqlite3.connect(path)
    prepare = work = 0.0
    start = time.perf_counter()
    db.execute(
        'CREATE VIRTUAL TABLE passage USING fts5(text, episode UNINDEXED, tokenize="unicode61 remove_diacritics 2")'
    )
    work += time.perf_counter() - start
    for n, p in enumerate(paths, 1):
        start = time.perf_counter()
        rows = [(text, n) for text in passage_texts(read_captions(p))]
        mid = time.perf_counter()
        db.executemany("INSERT INTO passage(text, episode) VALUES (?, ?)", rows)
        work += time.perf_counter() - mid
        prepare += mid - start
    start = time.perf_counter()
    db.commit()
    work += time.perf_counter() - start
    for n, p in enumerate(extra, len(paths) + 1):
        db.executemany(
            "INSERT INTO passage(text, episode) VALUES (?, ?)", [(text, n) for text in passage_texts(read_captions(p))]
        )
    # the filters' table (the app's episode rows hold the same); not part of the FTS5 build time
    db.execute("CREATE TABLE episode_info (id INTEGER PRIMARY KEY, show TEXT NOT NULL, aired TEXT NOT NULL)")
    db.executemany(
        "INSERT INTO episode_info VALUES (?, ?, ?)",
        [
            (n, SHOWS[s - 1][0], d.isoformat())
            for n in range(1, len(paths) + len(extra) + 1)
            for s, d in [episode_meta(n)]
        ],
    )
    db.execute("CREATE INDEX episode_info_show_aired ON episode_info (show, aired)")
    db.commit()
    db.close()
    return work, prepare


FTS_WHERE = "passage MATCH ?"
FTS_FILTER = " AND episode IN (SELECT id FROM episode_info WHERE show = ? AND aired BETWEEN ? AND ?)"


def fts_query(db: sqlite3.Connection, q: "Query") -> int:
    """FTS5's share of the job: the top passages by rank, and the count; returns the count."""
    where = FTS_WHERE
    args: tuple[str | None, ...] = (q.fts,)
    if q.show:
        assert q.date_from is not None and q.date_to is not None  # a filtered query has its date range
        where, args = where + FTS_FILTER, (*args, q.show, q.date_from.isoformat(), q.date_to.isoformat())
    db.execute(f"SELECT rowid, episode FROM passage WHERE {where} ORDER BY rank LIMIT {TOP}", args).fetchall()
    return db.execute(f"SELECT count(*) FROM passage WHERE {where}", args).fetchone()[0]


# --- queries ------------------------------------------------------------------------------------


@dataclass
class Query:
    q: str  # Plateau's syntax
    fts: str | None  # the FTS5 MATCH expression; None where FTS5 has no equivalent
    show: str | None = None  # show slug, with the date range: a filtered query
    date_from: date | None = None
    date_to: date | None = None

    def request(self) -> SearchRequest:
        return SearchRequest(q=self.q, show=self.show, date_from=self.date_from, date_to=self.date_to)


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def misspell(word: str, rng: random.Random) -> str:
    """The word with one letter changed, dropped, added, or two neighbours swapped (not the first letter)."""
    while True:
        i = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(4)
        if kind == 0:
            typo = word[:i] + rng.choice(LETTERS) + word[i + 1 :]
        elif kind == 1:
            typo = word[:i] + word[i + 1 :]
        elif kind == 2:
            typo = word[:i] + rng.choice(LETTERS) + word[i:]
        else:
            typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if fold(typo) != fold(word):
            return typo


def make_queries(paths: list[Path], count: int, rng: random.Random, hits, span: int) -> dict[str, list[Query]]:
    """count queries per class, drawn from the archive's own text.

    hits(query) -> (Whoosh total, FTS5 count): keeps only zero-hit queries that find nothing on both.
    span: the episodes' air dates run from FIRST_AIRED over span days."""
    streams = [
        [w for _, t in read_captions(p) for w in WORD.findall(t)] for p in rng.sample(paths, min(20, len(paths)))
    ]
    content = [w for s in streams for w in s if len(w) >= 4 and fold(w) not in STOP_WORDS and not w.isdigit()]
    longer = [w for w in content if len(w) >= 6 and w.isalpha()]
    content_set = set(content)

    def window(n):
        s = rng.choice(streams)
        i = rng.randrange(len(s) - n)
        return s[i : i + n]

    def fts_phrase(ws):
        return '"' + " ".join(fold(w) for w in ws) + '"'

    def phrase(ws):
        return Query('"' + " ".join(ws) + '"', fts_phrase(ws))

    def zero_hit(made_up: bool) -> Query:
        for _ in range(200):
            if made_up:  # the start of one archive word and the end of another: "souverfiance"
                a, b = rng.choice(longer), rng.choice(longer)
                q = Query(a[: rng.randrange(3, len(a) - 1)] + b[rng.randrange(2, len(b) - 2) :], None)
                q.fts = fts_phrase([q.q])
            else:  # archive words in an order found nowhere: a window of three words, reversed
                q = phrase(window(3)[::-1])
            if hits(q) == (0, 0):
                return q
        return zero_hit(True)

    queries: dict[str, list[Query]] = {c: [] for c in CLASSES}
    # words remembered from a quote: three of the content words of eight words in a row, in order,
    # without quotes (drawn apart, so the other classes keep their queries); FTS5 ANDs them
    remembered = random.Random(f"mots retenus {count} {len(paths)}")
    for _ in range(count):
        s = remembered.choice(streams)
        i = remembered.randrange(len(s) - 8)
        kept = [w for w in s[i : i + 8] if w in content_set]
        while len(kept) < 3:
            s = remembered.choice(streams)
            i = remembered.randrange(len(s) - 8)
            kept = [w for w in s[i : i + 8] if w in content_set]
        ws = sorted(remembered.sample(range(len(kept)), 3))
        words = [kept[j] for j in ws]
        queries["mots retenus (3, sans guillemets)"].append(
            Query(" ".join(words), " AND ".join(fts_phrase([w]) for w in words))
        )
    for i in range(count):
        w = rng.choice(content)
        queries["mot"].append(Query(w, fts_phrase([w])))
        queries["expr. 2 mots"].append(phrase(window(2)))
        queries["expr. 4 mots"].append(
            phrase(window(4) if rng.random() < 0.8 else WORD.findall(rng.choice(PLANTED))[:4])
        )
        a, b = rng.choice(content), rng.choice(content)
        kind = rng.randrange(3)
        if kind == 0:
            queries["booléenne"].append(Query(f"{a} OR {b}", f"{fts_phrase([a])} OR {fts_phrase([b])}"))
        elif kind == 1:
            queries["booléenne"].append(Query(f"{a} -{b}", f"{fts_phrase([a])} NOT {fts_phrase([b])}"))
        else:
            queries["booléenne"].append(Query(f"{a} {b}", f"{fts_phrase([a])} AND {fts_phrase([b])}"))
        prefix = fold(rng.choice(longer))[:4]
        queries["préfixe"].append(Query(prefix + "*", f'"{prefix}"*'))
        queries["faute de frappe (mot~)"].append(Query(misspell(rng.choice(longer).lower(), rng) + "~", None))
        queries["sans résultat"].append(zero_hit(made_up=i % 2 == 0))
        q = Query(rng.choice(content), None) if i % 2 == 0 else phrase(window(2))
        q.fts = q.fts or fts_phrase([q.q])
        length = rng.randint(max(1, span // 10), max(1, span // 2))  # a tenth to a half of the archive's days
        q.date_from = FIRST_AIRED + timedelta(days=rng.randrange(max(1, span - length)))
        q.date_to = q.date_from + timedelta(days=length)
        q.show = rng.choice(SHOWS)[0]
        queries["filtrée (émission + dates)"].append(q)
    return queries


# --- timing -------------------------------------------------------------------------------------

ALLOWED = "SELECT e.id FROM episode e JOIN show s ON s.id = e.show_id WHERE s.slug = ? AND e.aired_on BETWEEN ? AND ?"


def engine_query(index: SearchIndex, q: Query, db) -> tuple[int, float]:
    """The Whoosh engine alone, the same job as fts_query: parse, count every match (within the
    filters, read from the database), rank the top 30. Returns (total, ms of setup: getting the
    searcher and reading the per-segment columns, episode ids and field lengths; ~0 when warm)."""
    setup = 0.0
    start = time.perf_counter()
    current = index.searcher()
    segments = current.segments()
    setup += time.perf_counter() - start

    def lengths(leaf, fieldname):
        nonlocal setup
        start = time.perf_counter()
        found = current.lengths(leaf, fieldname)
        setup += time.perf_counter() - start
        return found

    compiled = compile_query(parse(q.q), current.vocabulary)
    matches = find_matches(compiled.query, segments)
    sub = matches
    if q.show and matches.per_episode:
        assert q.date_from is not None and q.date_to is not None  # a filtered query has its date range
        allowed = {e for (e,) in db.execute(ALLOWED, (q.show, q.date_from.isoformat(), q.date_to.isoformat()))}
        sub = matches.among(allowed & matches.per_episode.keys())
    elif q.show:
        sub = matches.among(())
    total = sum(sub.per_episode.values())
    if total:
        top = top_passages(compiled.query, current.searcher, sub, lengths, TOP, every_match=sub is matches)
        if top is None:  # positional queries: Whoosh's collector, as the service does
            allow = None if sub is matches else sub.docnums(sub.per_episode)
            top = [(hit.docnum, hit.score) for hit in current.searcher.search(compiled.query, limit=TOP, filter=allow)]
    return total, setup * 1000


def go_cold() -> None:
    """Empty the process-wide caches of the search code (the index's own go with its SearchIndex)."""
    matching.decoded = matching.DecodedPostings()  # decoded posting lists of frequent terms
    matching._frequencies.clear()  # posting counts per segment and term
    fold.cache_clear()
    stem.cache_clear()
    gc.collect()


def time_engine(index: SearchIndex, queries: list[Query], db) -> tuple[list[float], list[int]]:
    out, totals = [], []
    for q in queries:
        start = time.perf_counter()
        total, _ = engine_query(index, q, db)
        out.append((time.perf_counter() - start) * 1000)
        totals.append(total)
    return out, totals


def time_engine_cold(index_dir: Path, memory_mb: int, queries: list[Query], db) -> tuple[list[float], list[float]]:
    """Each query on a new SearchIndex (its searcher opened by the query) with the caches emptied."""
    out, setups = [], []
    for q in queries:
        go_cold()
        index = SearchIndex(index_dir, memory_mb=memory_mb)
        start = time.perf_counter()
        _, setup = engine_query(index, q, db)
        out.append((time.perf_counter() - start) * 1000)
        setups.append(setup)
        index.forget_searcher()
    return out, setups


def time_service(index: SearchIndex, session: Session, queries: list[Query]) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        results = index.search(session, q.request())
        out.append((time.perf_counter() - start) * 1000)
        assert results.error is None, (q, results.error)
    return out


def time_fts(db: sqlite3.Connection, queries: list[Query]) -> tuple[list[float], list[int]]:
    out, counts = [], []
    for q in queries:
        if q.fts is None:
            continue
        start = time.perf_counter()
        counts.append(fts_query(db, q))
        out.append((time.perf_counter() - start) * 1000)
    return out, counts


def percentile(values: Sequence[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def ms(values: Sequence[float], p: float) -> str:
    return f"{percentile(values, p):.1f} ms".replace(".", ",") if values else "—"


def number(x: float, digits: int) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


# --- PostgreSQL -----------------------------------------------------------------------------------

PG_P95_TARGET_MS = 100.0  # issue 13: p95 of every query class, at 2,000 episodes
PG_ADD_TARGET_S = 0.5  # issue 13: adding one episode to the search


# What a PostgreSQL server that holds an archive is given (deploy/compose.yaml too): Debian's
# default shared_buffers, 128 MB, keeps a tenth of 2,000 episodes' passages (1.3 GB) in memory, and
# every passage a common word finds is read again through the kernel.
ARCHIVE_SETTINGS = {"shared_buffers": "1GB"}


def postgres_installed() -> bool:
    """Whether Debian's PostgreSQL server binaries are here (`make postgres` installs them)."""
    from tests.postgres import binaries

    try:
        binaries()
    except RuntimeError:
        return False
    return True


def pg_engine_query(pg: PostgresSearch, session: Session, q: Query) -> int:
    """The PostgreSQL engine alone, the same job as engine_query and fts_query, as find_passages
    does it: compile the query over the database's vocabulary, count the matches within the filters
    (MATCH_CAP at most), rank the top 30. Returns the count."""
    vocabulary = Vocabulary(pg._runner(session))
    compiled = compile_query(parse(q.q), vocabulary)
    found = plan(compiled.query, vocabulary.starts)
    where, params = pg._where(session, q.request(), found, None, None)
    pg._read_through_index(session, filtered=len(where) > 1)
    counts, _, ranked = pg._match(session, found, where, params)
    total = sum(counts.values())
    if total:
        ranked(None, TOP)
    return total


def time_pg_engine(pg: PostgresSearch, session: Session, queries: list[Query]) -> tuple[list[float], list[int]]:
    out, totals = [], []
    for q in queries:
        start = time.perf_counter()
        totals.append(pg_engine_query(pg, session, q))
        out.append((time.perf_counter() - start) * 1000)
        session.rollback()  # each request has its own transaction in the app
    return out, totals


def time_pg_service(pg: PostgresSearch, session: Session, queries: list[Query]) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        results = pg.search(session, q.request())
        out.append((time.perf_counter() - start) * 1000)
        session.rollback()
        assert results.error is None, (q, results.error)
    return out


@dataclass
class PostgresBuild:
    settings: Settings  # the same data folder's settings, PLATEAU_DATABASE_URL on the new database
    copy_s: float  # migrate_to: migrations, records copied, its search built, counts checked
    build_s: float  # PostgresSearch.rebuild of every episode afterwards, as `plateau reindex`
    passages: int
    kind: str  # rum or gin
    size_mb: float


def build_postgres(server, size: int, settings: Settings) -> PostgresBuild:
    """A fresh database: the SQLite archive copied by migrate_to (which builds the search once),
    then the search rebuilt alone and timed, then ANALYZE (what autovacuum does within a minute)."""
    url = server.create_database(f"bench_{size}")
    start = time.perf_counter()
    moved = migrate_to(settings, url)
    copy_s = time.perf_counter() - start
    assert moved.agree, moved.tables
    pg_settings = Settings(data_dir=settings.data_dir, database_url=url)
    pg = PostgresSearch(url)
    with Session(engine_for(url)) as session:
        start = time.perf_counter()
        pg.rebuild(session)
        session.commit()
        build_s = time.perf_counter() - start
        kind = pg.index_kind(session)
    with engine_for(url).connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        passages = connection.execute(text("SELECT count(*) FROM search_passage")).scalar_one()
        size_mb = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20
    return PostgresBuild(pg_settings, copy_s, build_s, passages, kind, size_mb)


def check_mark(ok: bool) -> str:
    return "✓" if ok else "✗"


# --- one size -----------------------------------------------------------------------------------


def run_size(size: int, lines: int, count: int, workdir: Path, backends: set[str], server=None) -> list[str]:
    """One size: the archive, the engines of `backends` (Whoosh, PostgreSQL on `server`) and FTS5
    over it, the same queries timed on each; the tables, also printed."""
    rng = random.Random(size)
    out = workdir / f"archive-{size}"
    t = time.perf_counter()
    paths = generate(out / "pages", size + 3, lines, seed=size)
    extra, paths = paths[size:], paths[:size]
    print(f"[{size}] archive générée en {time.perf_counter() - t:.0f} s", flush=True)
    settings = Settings(data_dir=out / "data")
    shutil.rmtree(settings.data_dir, ignore_errors=True)  # a fresh database, even in a reused --workdir
    migrate(settings)
    t = time.perf_counter()
    load(settings, paths)
    get_engine(settings).dispose()
    print(f"[{size}] base chargée en {time.perf_counter() - t:.0f} s", flush=True)

    built = None
    if "postgresql" in backends:
        t = time.perf_counter()
        built = build_postgres(server, size, settings)
        print(
            f"[{size}] PostgreSQL : archive copiée par migrate_to en {built.copy_s:.1f} s, recherche "
            f"reconstruite en {built.build_s:.1f} s ({built.passages} passages, index {built.kind}, "
            f"{built.size_mb:.0f} Mo)",
            flush=True,
        )
    whoosh = "whoosh" in backends
    build_s = peak_mb = writer_peak_mb = 0.0
    memory_mb = settings.index_memory_mb
    if whoosh:
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        child = ctx.Process(target=_rebuild_child, args=(str(settings.data_dir), queue))
        child.start()
        build_s, peak_mb, writer_peak_mb, indexed, memory_mb = queue.get()
        child.join()
        print(
            f"[{size}] index Whoosh reconstruit en {build_s:.1f} s ({indexed} épisodes, pic {peak_mb:.0f} Mo, "
            f"{writer_peak_mb:.0f} Mo par processus d'écriture, budget {memory_mb} Mo)",
            flush=True,
        )
    (out / "fts.db").unlink(missing_ok=True)
    fts_s, prepare_s = build_fts(out / "fts.db", paths, extra)
    print(
        f"[{size}] FTS5 construit en {fts_s:.1f} s (création, insertions, commit ; lecture des pages "
        f"et lignes jointes à part : {prepare_s:.1f} s)",
        flush=True,
    )

    index = SearchIndex(settings.index_dir, memory_mb=memory_mb)
    engine = get_engine(settings)
    assert engine.url.database is not None  # a SQLite file
    db = sqlite3.connect(engine.url.database)  # the engine's filters read the app's episode table, as FTS5 its own
    pg = PostgresSearch(built.settings.db_url) if built else None
    pg_session = Session(engine_for(built.settings.db_url)) if built else None
    adds, pg_adds = [], []
    measured: dict[str, tuple] = {}
    pg_measured: dict[str, tuple] = {}
    colds: dict[str, list[float]] = {}
    setups: list[float] = []
    try:
        with Session(engine) as session:
            for n, path in enumerate(extra, size + 1):
                load(settings, [path], first_id=n)
                if whoosh:
                    start = time.perf_counter()
                    index.index_episodes(session, [n])
                    adds.append(time.perf_counter() - start)
                if pg and pg_session and built:
                    load(built.settings, [path], first_id=n)
                    start = time.perf_counter()
                    pg.index_episodes(pg_session, [n])
                    pg_adds.append(time.perf_counter() - start)
            fts = sqlite3.connect(out / "fts.db")

            def hits(q: Query) -> tuple[int, int]:
                """(matches of the engines: zero only when none finds any, FTS5's count)."""
                found = engine_query(index, q, db)[0] if whoosh else 0
                if pg and pg_session:
                    found += pg_engine_query(pg, pg_session, q)
                    pg_session.rollback()
                return found, fts_query(fts, q)

            span = size + len(extra)
            queries = make_queries(paths, count, rng, hits, span)
            warm = make_queries(paths, 10, random.Random(-size), hits, span)
            print(f"[{size}] requêtes tirées ; mesures", flush=True)
            # the zero-hit checks ran queries: start the warm-up from empty caches
            go_cold()
            index.forget_searcher()
            index = SearchIndex(settings.index_dir, memory_mb=memory_mb)
            for c in CLASSES:  # warm every engine with other queries of every class
                if whoosh:
                    time_service(index, session, warm[c])
                    time_engine(index, warm[c], db)
                if pg and pg_session:
                    time_pg_service(pg, pg_session, warm[c])
                    time_pg_engine(pg, pg_session, warm[c])
                time_fts(fts, warm[c])
            for c in CLASSES:
                f, counts = time_fts(fts, queries[c])
                if whoosh:
                    e, totals = time_engine(index, queries[c], db)
                    w = time_service(index, session, queries[c])
                    measured[c] = (e, totals, f, counts, w)
                if pg and pg_session:
                    pe, ptotals = time_pg_engine(pg, pg_session, queries[c])
                    pw = time_pg_service(pg, pg_session, queries[c])
                    pg_measured[c] = (pe, ptotals, f, counts, pw)
            index.forget_searcher()
            if whoosh:
                for c in CLASSES:  # cold last: it empties the caches the warm figures rely on
                    cold, setup = time_engine_cold(settings.index_dir, memory_mb, queries[c], db)
                    colds[c] = cold
                    setups += setup
            fts.close()
    finally:
        db.close()
        if pg_session:
            pg_session.close()
        if built:
            engine_for(built.settings.db_url).dispose()

    rows = [f"### {size} épisodes × {lines} lignes"]
    if whoosh:
        rows += whoosh_rows(size, count, build_s, peak_mb, writer_peak_mb, memory_mb, fts_s, prepare_s, adds, setups)
        for c in CLASSES:
            e, totals, f, counts, w = measured[c]
            cold = colds[c]
            ratio = number(percentile(e, 95) / max(percentile(f, 95), 1e-3), 2) if f else "—"
            found = f"{percentile(totals, 50):.0f} / " + (f"{percentile(counts, 50):.0f}" if counts else "—")
            rows.append(
                f"| {c} | {ms(e, 50)} | {ms(e, 95)} | {ms(cold, 50)} | {ms(cold, 95)} | {ms(f, 50)} | {ms(f, 95)} "
                f"| {ratio} | {ms(w, 50)} | {ms(w, 95)} | {found} |"
            )
    if built:
        rows += ["", *postgres_rows(size, count, built, pg_adds, measured, pg_measured)]
    print("\n".join(rows), flush=True)
    return rows


def whoosh_rows(size, count, build_s, peak_mb, writer_peak_mb, memory_mb, fts_s, prepare_s, adds, setups):
    return [
        f"- reconstruction complète Whoosh : {number(build_s, 1)} s (lecture de la base, analyse, écriture "
        f"par {limits.WRITER_PROCS} processus, bascule), pic mémoire {peak_mb:.0f} Mo + {writer_peak_mb:.0f} Mo "
        f"par processus d'écriture (×{limits.WRITER_PROCS}, budget {memory_mb} Mo)",
        f"- FTS5 : {number(fts_s, 1)} s (création, insertions des textes bruts des passages, commit ; "
        f"pages lues et lignes jointes hors mesure : {number(prepare_s, 1)} s)",
        f"- ajout d'un épisode : {number(sorted(adds)[len(adds) // 2], 2)} s "
        f"(max {number(max(adds), 2)} s sur {len(adds)})",
        f"- « froid » comprend une part fixe, ouvrir le searcher et lire les colonnes de chaque segment "
        f"(n° d'épisode, longueurs) : méd. {ms(setups, 50)}, p95 {ms(setups, 95)} ; le reste est la requête "
        f"(postings à décoder, lexique pour mot~)",
        "",
        f"| requêtes ({count} chacune) | moteur chaud p50 | chaud p95 | moteur froid p50 | froid p95 "
        "| FTS5 p50 | FTS5 p95 | ratio p95 chaud/FTS5 | service p50 | service p95 "
        "| passages trouvés (méd. Whoosh / FTS5) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]


def pair(values: Sequence[float]) -> str:
    """p50 / p95 in one cell."""
    if not values:
        return "—"
    return f"{number(percentile(values, 50), 1)} / {number(percentile(values, 95), 1)} ms"


def postgres_rows(size: int, count: int, built: PostgresBuild, adds: list[float], whoosh: dict, pg: dict) -> list[str]:
    add = sorted(adds)[len(adds) // 2]
    rows = [
        f"#### PostgreSQL, {size} épisodes (même archive, mêmes requêtes, chaud)",
        f"- copie de l'archive SQLite (`migrate_to` : migrations, fiches, recherche construite une fois, "
        f"comptes vérifiés) : {number(built.copy_s, 1)} s ; reconstruction de la recherche seule "
        f"(`rebuild`, comme `plateau reindex`) : {number(built.build_s, 1)} s ; {built.passages} passages, "
        f"index {built.kind}, base de {built.size_mb:.0f} Mo",
        f"- ajout d'un épisode : {number(add, 2)} s (max {number(max(adds), 2)} s sur {len(adds)}) — cible "
        f"≤ {number(PG_ADD_TARGET_S, 1)} s {check_mark(add <= PG_ADD_TARGET_S)}",
        "- PostgreSQL service : `search(session, request)`, la recherche entière ; moteur : compter (au plus "
        f"{MATCH_CAP}) et classer les {TOP} premiers passages, comme « moteur » de Whoosh et FTS5",
        "",
        f"| requêtes ({count} chacune), p50 / p95 | Whoosh moteur | Whoosh service | FTS5 | PostgreSQL moteur "
        f"| PostgreSQL service | cible p95 ≤ {PG_P95_TARGET_MS:.0f} ms | passages trouvés (méd. Whoosh / FTS5 / PG) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in CLASSES:
        pe, ptotals, f, counts, pw = pg[c]
        e, totals, w = (whoosh[c][0], whoosh[c][1], whoosh[c][4]) if c in whoosh else ([], [], [])
        p95 = percentile(pw, 95)
        found = " / ".join(f"{percentile(v, 50):.0f}" if v else "—" for v in (totals, counts, ptotals))
        rows.append(
            f"| {c} | {pair(e)} | {pair(w)} | {pair(f)} | {pair(pe)} | {pair(pw)} "
            f"| {number(p95, 1)} ms {check_mark(p95 <= PG_P95_TARGET_MS)} | {found} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--backend",
        choices=["whoosh", "postgresql", "all"],
        default=None,
        help="whoosh (et FTS5), postgresql (et FTS5) ou all (défaut ; whoosh si PostgreSQL n'est pas installé)",
    )
    args = parser.parse_args()
    installed = postgres_installed()
    backend = args.backend or "all"
    if backend == "postgresql" and not installed:
        raise SystemExit("--backend postgresql : PostgreSQL n'est pas installé (`make postgres` l'installe).")
    if backend == "all" and not installed:
        print("PostgreSQL n'est pas installé (`make postgres` l'installe) : Whoosh et FTS5 seulement.", flush=True)
        backend = "whoosh"
    backends = {"whoosh", "postgresql"} if backend == "all" else {backend}
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="plateau-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)  # mkdtemp's 0700 would keep the `postgres` user out of its cluster's folder
    tables = []
    server = None
    if "postgresql" in backends:
        from tests.postgres import PostgresServer

        server = PostgresServer(workdir / "postgres").init()
        server.configure(**ARCHIVE_SETTINGS)
        server.start()
        print(f"[PostgreSQL] serveur {server.bin.parent.name} démarré (port {server.port}, {server.root})", flush=True)
    try:
        for size in args.sizes:
            tables.append("\n".join(run_size(size, args.lines, args.queries, workdir, backends, server)))
    finally:
        if server:
            server.destroy()
    print("\n\n" + "\n\n".join(tables))


if __name__ == "__main__":
    main()
