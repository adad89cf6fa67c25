"""Benchmark the pages over real HTTP: server time (Server-Timing), client time, sizes raw and gzipped.

    .venv/bin/python -m bench.pages --episodes 2000 [--lines 1000] [--data DIR] [--requests 40]

Builds a synthetic archive (bench.generate's page files, loaded into the database as bench.run
does, then `plateau reindex`), plus one long episode of LONG_LINES caption lines (about three
hours); with --data, the archive already in DIR is reused as it is (and built there when DIR holds
none). Then starts `plateau serve` on a free loopback port in a subprocess and prints, for each
page, p50/p95 of the server's own time (its `Server-Timing: app;dur=` header) and of the time seen
by the client (request sent to body read and decoded, with `Accept-Encoding: gzip`), and the bytes
sent without and with gzip (the median of a few of its responses). Figures only: nothing is asserted.
"""

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlmodel import Session, col, func, select

from app import limits
from app.config import Settings
from app.db import get_engine, migrate
from app.models import Episode
from bench.generate import generate
from bench.run import load, percentile

LONG_LINES = 4000  # three hours or so at bench.generate's pace of one line every 1 to 5 seconds
SERVER_TIMING = re.compile(r"\bapp;dur=([\d.]+)")
# the searches inside an episode: a word, a phrase, a prefix, two words (planted or common in the seeds)
EPISODE_QUERIES = [
    "données",
    '"souveraineté numérique"',
    "numéri*",
    "cloud américains",
    "intelligence artificielle",
    "cybersécurité",
    '"les données personnelles"',
    "souverain*",
]
SEARCHES = [("mot", "données"), ("expression", '"souveraineté numérique"'), ("préfixe", "numéri*")]


def plateau_command() -> list[str]:
    script = Path(sys.executable).parent / "plateau"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from app.cli import main; main()"]


def episode_count(settings: Settings) -> int:
    if not (settings.data_dir / "plateau.db").exists():
        return 0
    migrate(settings)
    with Session(get_engine(settings)) as session:
        return session.exec(select(func.count(col(Episode.id)))).one()


def archive_episodes(settings: Settings) -> tuple[list[tuple[str, float]], tuple[str, float] | None]:
    """(slug, duration) of the archive's episodes, and of its long one (LONG_LINES lines or more) if any."""
    with Session(get_engine(settings)) as session:
        rows = session.exec(
            select(Episode.slug, Episode.duration, Episode.caption_count).order_by(col(Episode.id))
        ).all()
    regular = [(slug, duration) for slug, duration, count in rows if count < LONG_LINES]
    long = next(((slug, duration) for slug, duration, count in rows if count >= LONG_LINES), None)
    return regular, long


def add_long_episode(settings: Settings) -> None:
    """A reused archive without a three-hour episode gets one, through the real `plateau ingest`."""
    folder = Path(tempfile.mkdtemp(prefix="plateau-pages-long-"))
    try:
        page = generate(folder, 1, LONG_LINES, seed=-1)[0]
        page = page.rename(page.with_name("long_00000.txt"))
        env = {**os.environ, "PLATEAU_DATA_DIR": str(settings.data_dir)}
        subprocess.run([*plateau_command(), "ingest", str(page)], check=True, env=env, stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def build(settings: Settings, episodes: int, lines: int) -> None:
    """The archive: `episodes` generated episodes of `lines` lines, then one of LONG_LINES lines."""
    pages = Path(tempfile.mkdtemp(prefix="plateau-pages-"))
    try:
        t = time.perf_counter()
        paths = generate(pages / "archive", episodes, lines, seed=episodes)
        long_page = generate(pages / "long", 1, LONG_LINES, seed=-1)[0]
        long_page = long_page.rename(long_page.with_name("long_00000.txt"))  # its own source name
        print(f"archive générée en {time.perf_counter() - t:.0f} s", flush=True)
        migrate(settings)
        t = time.perf_counter()
        load(settings, paths)
        load(settings, [long_page], first_id=episodes + 1)
        get_engine(settings).dispose()
        print(f"base chargée en {time.perf_counter() - t:.0f} s", flush=True)
    finally:
        shutil.rmtree(pages, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run(
        [*plateau_command(), "reindex"], check=True, env={**os.environ, "PLATEAU_DATA_DIR": str(settings.data_dir)}
    )
    print(f"index reconstruit en {time.perf_counter() - t:.0f} s", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`plateau serve` in a subprocess on a free loopback port, stopped on exit."""

    def __init__(self, data_dir: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.log = log

    def __enter__(self):
        env = {**os.environ, "PLATEAU_DATA_DIR": str(self.data_dir)}
        self.log_file = open(self.log, "wb")
        self.process = subprocess.Popen(
            [*plateau_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300  # the start indexes pending episodes first
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"le serveur n'a pas démarré : voir {self.log}")
            time.sleep(0.3)

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


def sizes(http: httpx.Client, urls: list[str], headers: dict) -> tuple[int, int | None]:
    """Bytes on the wire (the median of a few of the URLs): asked without compression, then with gzip."""
    raws, wires = [], []
    for url in urls[:5]:
        raws.append(len(http.get(url, headers={**headers, "Accept-Encoding": "identity"}).content))
        with http.stream("GET", url, headers={**headers, "Accept-Encoding": "gzip"}) as response:
            wire = sum(len(chunk) for chunk in response.iter_raw())
            if response.headers.get("content-encoding") == "gzip":
                wires.append(wire)
    return int(statistics.median(raws)), int(statistics.median(wires)) if wires else None


def measure(http: httpx.Client, urls: list[str], headers: dict | None = None, warm: int = 3) -> dict:
    headers = headers or {}
    for url in urls[:warm]:
        http.get(url, headers=headers)
    server, client = [], []
    for url in urls:
        start = time.perf_counter()
        response = http.get(url, headers=headers)
        client.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} : {response.status_code}")
        found = SERVER_TIMING.search(response.headers.get("server-timing", ""))
        if found:
            server.append(float(found.group(1)))
    raw, gz = sizes(http, urls, headers)
    return {"server": server, "client": client, "raw": raw, "gzip": gz}


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p):.1f} ms" if values else "—"


def kb(size: int | None) -> str:
    return "—" if size is None else f"{size / 1024:.0f} Ko" if size >= 10240 else f"{size / 1024:.1f} Ko"


def episode_url(slug: str, t: int | None = None, q: str | None = None) -> str:
    query = {k: v for k, v in (("t", t), ("q", q)) if v is not None}
    return f"/episodes/{slug}" + (f"?{urlencode(query)}" if query else "")


def cases(
    regular: list[tuple[str, float]], long: tuple[str, float], requests: int, rng: random.Random
) -> list[tuple[str, list[str], dict]]:
    pages = max(1, -(-len(regular) // limits.EPISODES_PER_PAGE))
    long_slug, long_duration = long
    out: list[tuple[str, list[str], dict]] = [("/", ["/"] * requests, {})]
    for n in sorted({1, 2, max(1, pages // 2), pages}):
        out.append((f"/episodes?page={n}", [f"/episodes?page={n}"] * requests, {}))
    for kind, q in SEARCHES:
        url = f"/search?{urlencode({'q': q, 'page': 2})}"
        out.append((f"/search?q=… ({kind}) &page=2", [url] * requests, {}))
    # what the search box's live update asks for: the results block only
    out.append(
        (
            "/search?q=… (mot), fragment HTMX",
            [f"/search?{urlencode({'q': SEARCHES[0][1]})}"] * requests,
            {"HX-Request": "true"},
        )
    )

    def random_episodes(n: int, with_q: bool) -> list[str]:
        chosen = [rng.choice(regular) for _ in range(n)]
        return [
            episode_url(slug, rng.randrange(max(1, int(duration))), rng.choice(EPISODE_QUERIES) if with_q else None)
            for slug, duration in chosen
        ]

    out.append(("/episodes/{slug}", random_episodes(requests, False), {}))
    out.append(("/episodes/{slug}?t=…&q=…", random_episodes(2 * requests, True), {}))
    long_seconds = max(1, int(long_duration))
    out.append((f"épisode de {LONG_LINES} lignes", [episode_url(long_slug)] * requests, {}))
    out.append(
        (
            f"épisode de {LONG_LINES} lignes ?t=…&q=…",
            [episode_url(long_slug, rng.randrange(long_seconds), rng.choice(EPISODE_QUERIES)) for _ in range(requests)],
            {},
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=40, help="requêtes mesurées par page")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="dossier de données à réutiliser (construit là s'il ne contient pas d'archive)",
    )
    args = parser.parse_args()
    data_dir = args.data or Path(tempfile.mkdtemp(prefix="plateau-bench-pages-")) / "data"
    settings = Settings(data_dir=data_dir.resolve())
    if episode_count(settings) == 0:
        print(f"archive construite dans {data_dir} (réutilisable avec --data)", flush=True)
        build(settings, args.episodes, args.lines)
    regular, long = archive_episodes(settings)
    if long is None:
        add_long_episode(settings)
        regular, long = archive_episodes(settings)
        assert long is not None
    episodes = len(regular)
    print(f"archive : {data_dir} ({episodes} épisodes + 1 de {LONG_LINES} lignes)", flush=True)
    get_engine(settings).dispose()

    rng = random.Random(episodes)
    rows = [
        f"### {episodes} épisodes × {args.lines} lignes (+ 1 de {LONG_LINES} lignes), "
        f"{args.requests} requêtes par page",
        "",
        "| page | serveur p50 | serveur p95 | client p50 | client p95 | brut | gzip |",
        "|---|---|---|---|---|---|---|",
    ]
    log = settings.data_dir.parent / "bench-pages-server.log"
    timed = False
    with Server(settings.data_dir, log) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        for name, urls, headers in cases(regular, long, args.requests, rng):
            m = measure(http, urls, headers)
            timed = timed or bool(m["server"])
            rows.append(
                f"| {name} | {ms(m['server'], 50)} | {ms(m['server'], 95)} | {ms(m['client'], 50)} "
                f"| {ms(m['client'], 95)} | {kb(m['raw'])} | {kb(m['gzip'])} |"
            )
            print(rows[-1], flush=True)
    print("\n" + "\n".join(rows))
    if not timed:
        print("(pas d'en-tête Server-Timing : seules les durées côté client sont mesurées)")


if __name__ == "__main__":
    main()
