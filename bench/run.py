"""Benchmark the search against SQLite FTS5 on a synthetic archive; prints a table, asserts nothing.

    .venv/bin/python -m bench.run --sizes 200 2000 [--queries 40] [--lines 1000]

For each size: generate the archive (seed page format), load its caption lines into a fresh
database, time a full Whoosh rebuild (in a child process, for its peak memory), the same passages
into an FTS5 table (unicode61, remove_diacritics 2), adding one episode, and p50/p95 latency of
single words, two- and four-word phrases, boolean and prefix queries on both, in the same run.
Two Whoosh figures per class: "moteur" does the same work as the FTS5 query beside it (parse,
count every matching passage, rank the top 30); "service" is the whole search service (total
and episodes, filters in the database, grouping by episode, snippets read from the database).
The ratio compares like with like: Whoosh engine p95 over FTS5 p95.
"""
import argparse
import multiprocessing
import random
import resource
import sqlite3
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

from app.config import Settings
from app.db import get_engine, migrate
from app.models import CaptionLine, Episode, Show
from app.search import SearchIndex, SearchRequest
from app.search.analysis import STOP_WORDS, WORD, fold
from app.search.index import REBUILD_PROCS
from app.search.matching import find_matches, top_passages
from app.search.passages import cut_passages
from app.search.query import compile_query, parse
from bench.generate import PLANTED, generate, read_captions

CLASSES = ["mot", "expr. 2 mots", "expr. 4 mots", "booléenne", "préfixe"]


def load(settings: Settings, paths: list[Path], first_id: int = 1) -> list[int]:
    engine = get_engine(settings)
    ids = []
    with Session(engine) as session:
        if session.get(Show, 1) is None:
            session.add(Show(id=1, slug="smart-tech", name="SMART TECH"))
            session.commit()
        for n, path in enumerate(paths, first_id):
            captions = read_captions(path)
            session.execute(insert(Episode), [dict(
                id=n, slug=f"synth-{n}", source=path.name, content_hash=f"h{n}", format="page",
                title=f"Épisode {n}", show_id=1, aired_on=date(2020, 1, 1).fromordinal(738000 + n),
                duration=captions[-1][0], index_state="pending")])
            session.execute(insert(CaptionLine), [
                dict(episode_id=n, position=i, start=float(s), end=float(s), text=t)
                for i, (s, t) in enumerate(captions)])
            ids.append(n)
        session.commit()
    return ids


def _rebuild_child(data_dir: str, queue) -> None:
    settings = Settings(data_dir=Path(data_dir))
    index = SearchIndex(settings.index_dir)
    start = time.perf_counter()
    with Session(get_engine(settings)) as session:
        count = index.rebuild(session)
    # the rebuild's writer processes are this process's children: their peak counts too
    queue.put((time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, count))


def build_fts(path: Path, paths: list[Path]) -> float:
    start = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute('CREATE VIRTUAL TABLE passage USING fts5(text, episode UNINDEXED, '
               'tokenize="unicode61 remove_diacritics 2")')
    for n, p in enumerate(paths, 1):
        lines = [(i, float(s), t) for i, (s, t) in enumerate(read_captions(p))]
        rows = []
        for passage in cut_passages(lines):
            own = lines[passage.first: passage.first + len(passage.starts)]
            rows.append((" ".join(t for _, _, t in own), n))
        db.executemany("INSERT INTO passage(text, episode) VALUES (?, ?)", rows)
    db.commit()
    db.close()
    return time.perf_counter() - start


def make_queries(paths: list[Path], count: int, rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """(Plateau query, FTS5 query) pairs per class, drawn from the archive's own text."""
    streams = [[w for _, t in read_captions(p) for w in WORD.findall(t)] for p in rng.sample(paths, min(20, len(paths)))]
    content = [w for s in streams for w in s if len(w) >= 4 and fold(w) not in STOP_WORDS and not w.isdigit()]

    def window(n):
        s = rng.choice(streams)
        i = rng.randrange(len(s) - n)
        return s[i: i + n]

    def fts_phrase(ws):
        return '"' + " ".join(fold(w) for w in ws) + '"'

    queries: dict[str, list[tuple[str, str]]] = {c: [] for c in CLASSES}
    for _ in range(count):
        w = rng.choice(content)
        queries["mot"].append((w, fts_phrase([w])))
        ws = window(2)
        queries["expr. 2 mots"].append(('"' + " ".join(ws) + '"', fts_phrase(ws)))
        ws = window(4) if rng.random() < 0.8 else WORD.findall(rng.choice(PLANTED))[:4]
        queries["expr. 4 mots"].append(('"' + " ".join(ws) + '"', fts_phrase(ws)))
        a, b = rng.choice(content), rng.choice(content)
        kind = rng.randrange(3)
        if kind == 0:
            queries["booléenne"].append((f"{a} OR {b}", f"{fts_phrase([a])} OR {fts_phrase([b])}"))
        elif kind == 1:
            queries["booléenne"].append((f"{a} -{b}", f"{fts_phrase([a])} NOT {fts_phrase([b])}"))
        else:
            queries["booléenne"].append((f"{a} {b}", f"{fts_phrase([a])} AND {fts_phrase([b])}"))
        prefix = fold(rng.choice([w for w in content if len(w) >= 6]))[:4]
        queries["préfixe"].append((prefix + "*", f'"{prefix}"*'))
    return queries


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def time_whoosh(index: SearchIndex, session: Session, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        results = index.search(session, SearchRequest(q=q))
        out.append((time.perf_counter() - start) * 1000)
        assert results.error is None, (q, results.error)
    return out


def time_engine(index: SearchIndex, queries: list[str]) -> list[float]:
    """The engine alone, the same job as time_fts: parse, count every match, rank the top 30."""
    out = []
    for q in queries:
        start = time.perf_counter()
        current = index.searcher()
        compiled = compile_query(parse(q), current.vocabulary)
        matches = find_matches(compiled.query, current.segments())
        sum(matches.per_episode.values())  # the total
        top = top_passages(compiled.query, current.searcher, matches, current.lengths, 30)
        if top is None:  # positional queries: Whoosh's collector, as the service does
            top = [(hit.docnum, hit.score) for hit in current.searcher.search(compiled.query, limit=30)]
        out.append((time.perf_counter() - start) * 1000)
    return out


def time_fts(db: sqlite3.Connection, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        db.execute("SELECT rowid, episode FROM passage WHERE passage MATCH ? ORDER BY rank LIMIT 30", (q,)).fetchall()
        db.execute("SELECT count(*) FROM passage WHERE passage MATCH ?", (q,)).fetchone()
        out.append((time.perf_counter() - start) * 1000)
    return out


def run_size(size: int, lines: int, count: int, workdir: Path) -> list[str]:
    rng = random.Random(size)
    out = workdir / f"archive-{size}"
    t = time.perf_counter()
    paths = generate(out / "pages", size + 3, lines, seed=size)
    extra, paths = paths[size:], paths[:size]
    print(f"[{size}] archive générée en {time.perf_counter() - t:.0f} s", flush=True)
    settings = Settings(data_dir=out / "data")
    migrate(settings)
    t = time.perf_counter()
    load(settings, paths)
    print(f"[{size}] base chargée en {time.perf_counter() - t:.0f} s", flush=True)

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_rebuild_child, args=(str(settings.data_dir), queue))
    child.start()
    build_s, peak_mb, writer_peak_mb, built = queue.get()
    child.join()
    print(f"[{size}] index Whoosh reconstruit en {build_s:.0f} s ({built} épisodes, pic {peak_mb:.0f} Mo, "
          f"{writer_peak_mb:.0f} Mo par processus d'écriture)", flush=True)
    fts_s = build_fts(out / "fts.db", paths)
    print(f"[{size}] FTS5 construit en {fts_s:.0f} s", flush=True)

    index = SearchIndex(settings.index_dir)
    adds = []
    with Session(get_engine(settings)) as session:
        for n, path in enumerate(extra, size + 1):
            load(settings, [path], first_id=n)
            start = time.perf_counter()
            index.index_episodes(session, [n])
            adds.append(time.perf_counter() - start)
        queries = make_queries(paths, count, rng)
        warm = make_queries(paths, 10, random.Random(-size))
        fts = sqlite3.connect(out / "fts.db")
        for c in CLASSES:  # warm both engines with other queries of every class
            time_whoosh(index, session, [q for q, _ in warm[c]])
            time_engine(index, [q for q, _ in warm[c]])
            time_fts(fts, [f for _, f in warm[c]])
        rows = [f"### {size} épisodes × {lines} lignes",
                f"- reconstruction complète Whoosh : {build_s:.1f} s, pic mémoire {peak_mb:.0f} Mo "
                f"+ {writer_peak_mb:.0f} Mo par processus d'écriture (×{REBUILD_PROCS}) (FTS5 : {fts_s:.1f} s)",
                f"- ajout d'un épisode : {statistics.median(adds):.2f} s (max {max(adds):.2f} s sur {len(adds)})",
                "",
                f"| requêtes ({count} chacune) | Whoosh moteur p50 | moteur p95 | FTS5 p50 | FTS5 p95 "
                "| ratio p95 | Whoosh service p50 | service p95 |",
                "|---|---|---|---|---|---|---|---|"]
        for c in CLASSES:
            e = time_engine(index, [q for q, _ in queries[c]])
            f = time_fts(fts, [f for _, f in queries[c]])
            w = time_whoosh(index, session, [q for q, _ in queries[c]])
            rows.append(f"| {c} | {percentile(e, 50):.1f} ms | {percentile(e, 95):.1f} ms | "
                        f"{percentile(f, 50):.1f} ms | {percentile(f, 95):.1f} ms | "
                        f"{percentile(e, 95) / max(percentile(f, 95), 1e-3):.2f} | "
                        f"{percentile(w, 50):.1f} ms | {percentile(w, 95):.1f} ms |")
    print("\n".join(rows), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="plateau-bench-"))
    tables = []
    for size in args.sizes:
        tables.append("\n".join(run_size(size, args.lines, args.queries, workdir)))
    print("\n\n" + "\n\n".join(tables))


if __name__ == "__main__":
    main()
