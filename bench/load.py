"""Load: wrk against `plateau serve --workers 2` while four writers add episodes. Prints; asserts nothing.

    .venv/bin/python -m bench.load [--episodes 2000] [--seconds 60] [--connections 32] [--data DIR] [--keep DIR]

The archive: `--data DIR` when it holds one (copied first: the writers change the copy, never DIR);
otherwise `--episodes` generated episodes (bench/generate.py, seed 1, as `make bench`) go in through
the real `plateau ingest`, in DIR when given (then reusable), else in the work folder. The server,
`plateau serve --workers 2` on a free loopback port with PLATEAU_ADMIN_TOKEN set, gets
`--connections` keep-alive connections in all from four wrk processes run at once, one per class of
URL, each drawing a path at random per request (bench/load.lua, which reports latency percentiles,
socket errors and every status):

- search: `/search?q=` with common and rare words of the seeds, a few multi-word and quoted queries;
- episode: `/episodes/{slug}` of random episodes, half of them `?t=SECONDS&q=WORD`;
- API: `/api/search?q=` with the same queries;
- page 2: page 2 of every list (`/episodes`, by show and by guest, a show's page, `/search`,
  `/api/episodes`, `/api/guests`, `/api/search`).

All the while four writers add new generated episodes: two upload them with `POST /api/episodes`
(bearer token), two run `plateau ingest`, one a file at a time, the other small folders. Then a
Markdown table: requests per second, p50 and p99 latency and errors per class (an error: no
connection, a read, write or timeout error, or a status of 400 and up), episodes added per
minute and failures per writer, what the server logged and `plateau check` afterwards, and where
the CPU went meanwhile (the server's processes, the niced ones, the rest).
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlmodel import Session

from app import limits
from app.config import Settings
from app.db import get_engine
from app.services import episodes as episode_service
from app.services import guests as guest_service
from bench.generate import PLANTED, generate, seed_captions
from bench.ingest import TOKEN, env_for, fmt, run_measured
from bench.pages import EPISODE_QUERIES, Server, archive_episodes, episode_count, plateau_command

LUA = Path(__file__).with_name("load.lua")
WORKERS = 2
CLASSES = ("search", "episode", "api", "page2")
LABELS = {
    "search": "recherche `/search?q=`",
    "episode": "épisode `/episodes/{slug}` (½ avec `?t=&q=`)",
    "api": "API `/api/search?q=`",
    "page2": "pages 2 des listes",
}
POOL_SEED = 100_000  # the writers' episodes: other seeds than the archive's, other file names
CHUNK = 25  # new files generated at a time for the writers
CLI_FOLDER_FILES = 3  # files per `plateau ingest FOLDER` of the second command-line writer
SUMMARY = re.compile(r"(\d+) ajouté\(s\), (\d+) mis à jour, (\d+) inchangé\(s\), (\d+) en échec")
UNSEARCHABLE = re.compile(r"dont (\d+) pas encore cherchable")
WORD = re.compile(r"[^\W\d_]+")
SEARCH_P99_TARGET_MS = 1000


def note(message: str) -> None:
    """Progress, on stderr: stdout is the report."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the archive ------------------------------------------------------------------------------


def build_archive(data_dir: Path, episodes: int, lines: int, work: Path) -> None:
    """`episodes` generated episodes through the real `plateau ingest`, as bench/ingest.py does."""
    files = work / f"archive-{episodes}"
    note(f"génération de {episodes} épisodes × {lines} lignes…")
    generate(files, episodes, lines, seed=1)
    note(f"plateau ingest dans {data_dir} (réutilisable avec --data)…")
    seconds, _, summary = run_measured([*plateau_command(), "ingest", str(files)], env_for(data_dir, 1024))
    note(f"  {seconds:.0f} s — {summary}")
    shutil.rmtree(files, ignore_errors=True)


def prepare_archive(args: argparse.Namespace, work: Path) -> Path:
    """The data folder this run serves and writes to: a copy of the archive in --data (built there when
    it holds none), else of one built in the work folder. The original is never opened: the copy is
    migrated, and reindexed when its index is older than the code (each server worker would rebuild it)."""
    source = args.data.resolve() if args.data else work / "archive"
    if not (source / "plateau.db").exists():
        build_archive(source, args.episodes, args.lines, work)
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    t = time.perf_counter()
    shutil.copytree(source, data)
    note(f"archive {source} copiée en {time.perf_counter() - t:.0f} s")
    env = env_for(data, limits.INDEX_MEMORY_MB)
    if subprocess.run([*plateau_command(), "check"], env=env, capture_output=True).returncode:
        note("`plateau check` : l'index ne correspond pas (version précédente ?), `plateau reindex` de la copie…")
        seconds, _, _ = run_measured([*plateau_command(), "reindex"], env)
        note(f"  {seconds:.0f} s (une archive à jour, reconstruite avec ce code, évite cette étape)")
    return data


# --- what the readers ask for -----------------------------------------------------------------


def search_queries(rng: random.Random) -> tuple[list[str], list[str]]:
    """(all queries, common words): common and rare words of the seeds (so of the generated captions,
    a bigram chain over them), a few unquoted multi-word queries and quoted phrases."""
    counts = Counter(w.lower() for text in seed_captions() for w in WORD.findall(text))
    common = [w for w, _ in counts.most_common() if len(w) >= 6][:30]
    rare = sorted(w for w, n in counts.items() if n == 1 and len(w) >= 8)
    rare = rng.sample(rare, min(30, len(rare)))
    multi = [" ".join(rng.sample(common[:20], rng.choice((2, 3)))) for _ in range(6)]
    quoted = [f'"{p}"' for p in PLANTED] + [q for q in EPISODE_QUERIES if q.startswith('"')]
    return common + rare + multi + quoted, common


def search_url(path: str, q: str, page: int | None = None) -> str:
    return f"{path}?{urlencode({'q': q, **({'page': page} if page else {})})}"


def url_classes(settings: Settings, rng: random.Random) -> dict[str, list[str]]:
    queries, common = search_queries(rng)
    regular, _ = archive_episodes(settings)
    per_page = limits.EPISODES_PER_PAGE
    with Session(get_engine(settings)) as session:
        shows = [(show.slug, n) for show, n in episode_service.list_shows(session)]
        guests = [(g.person.slug, g.appearances) for g in guest_service.list_guests(session, per_page=None)[1]]
    get_engine(settings).dispose()

    episodes = []
    for _ in range(400):
        slug, duration = rng.choice(regular)
        if rng.random() < 0.5:
            episodes.append(f"/episodes/{slug}")
        else:
            t = rng.randrange(max(1, int(duration)))
            episodes.append(f"/episodes/{slug}?{urlencode({'t': t, 'q': rng.choice(EPISODE_QUERIES)})}")

    # page 2 of every list that has one; the /guests page lists everyone on one page, its JSON twin pages
    page2 = ["/episodes?page=2", f"/api/episodes?page=2&per_page={per_page}", "/api/guests?page=2&per_page=20"]
    page2 += [f"/shows/{slug}?page=2" for slug, n in shows if n > per_page]
    page2 += [f"/episodes?show={slug}&page=2" for slug, n in shows if n > per_page]
    page2 += [f"/episodes?guest={slug}&page=2" for slug, n in guests if n > per_page][:10]
    page2 += [search_url("/search", q, 2) for q in common[:10]]
    page2 += [search_url("/api/search", q, 2) for q in common[:10]]
    return {
        "search": [search_url("/search", q) for q in queries],
        "episode": episodes,
        "api": [search_url("/api/search", q) for q in queries],
        "page2": page2,
    }


# --- the server -------------------------------------------------------------------------------


class LoadServer(Server):
    """bench.pages' server with several worker processes and the admin token set; ready once every
    worker has said so in the log (one may answer /healthz while the other still starts)."""

    def __enter__(self):
        env = env_for(self.data_dir, limits.INDEX_MEMORY_MB)
        self.log_file = open(self.log, "wb")
        command = [*plateau_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--workers", str(WORKERS)], env=env, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 300
        while True:
            try:
                ready = self.log.read_text(errors="replace").count("Application startup complete")
                if ready >= WORKERS and httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise SystemExit(f"le serveur n'a pas démarré : voir {self.log}")
            time.sleep(0.3)


def server_log_errors(log: Path) -> tuple[Counter, int]:
    """Statuses of 500 and up in the server's access log, and the tracebacks it logged."""
    statuses: Counter = Counter()
    tracebacks = 0
    for line in log.read_text(errors="replace").splitlines():
        found = re.search(r'" (5\d\d) ', line)
        if found:
            statuses[found.group(1)] += 1
        tracebacks += line.startswith("Traceback")
    return statuses, tracebacks


# --- where the CPU went -------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class CpuUse:
    """CPU seconds spent, all processes of the machine (busy: not idle nor waiting for the disk),
    those at a lower priority (nice: the indexing processes, `plateau ingest`), and the server's
    processes (its workers and their indexing processes)."""

    busy: float
    niced: float
    server: float

    def __sub__(self, other: "CpuUse") -> "CpuUse":
        return CpuUse(self.busy - other.busy, self.niced - other.niced, self.server - other.server)


def cpu_use(server_pid: int) -> CpuUse:
    with open("/proc/stat") as fh:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fh.readline().split()[1:9])
    parents: dict[int, int] = {}
    spent: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            parents[int(entry.name)] = int(fields[1])
            spent[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime, of live processes

    def in_server(pid: int) -> bool:
        while pid > 1:
            if pid == server_pid:
                return True
            pid = parents.get(pid, 0)
        return False

    server = sum(t for pid, t in spent.items() if in_server(pid))
    return CpuUse((user + nice + system + irq + softirq + steal) / TICK, nice / TICK, server / TICK)


# --- the writers ------------------------------------------------------------------------------


class FilePool:
    """New generated episode files, handed out once each; generated CHUNK at a time when needed."""

    def __init__(self, folder: Path, lines: int):
        self.folder, self.lines = folder, lines
        self.files: list[Path] = []
        self.chunks = 0
        self.lock = threading.Lock()

    def fill(self, n: int) -> None:
        while len(self.files) < n:
            chunk = self.folder / f"chunk-{self.chunks:04d}"
            for i, path in enumerate(generate(chunk, CHUNK, self.lines, seed=POOL_SEED + self.chunks)):
                self.files.append(path.rename(chunk / f"load_{self.chunks:04d}_{i:02d}.txt"))
            self.chunks += 1

    def take(self, n: int) -> list[Path]:
        with self.lock:
            self.fill(n)
            taken, self.files = self.files[:n], self.files[n:]
            return taken


@dataclass
class Writer:
    name: str
    added: int = 0
    not_added: int = 0  # updated or unchanged: not expected of new files
    failed: int = 0
    unsearchable: int = 0
    seconds: list[float] = field(default_factory=list)  # per operation (an upload, a command)
    reasons: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def fail(self, n: int, reason: str) -> None:
        self.failed += n
        if len(self.reasons) < 3:
            self.reasons.append(reason[:300])


def api_writer(writer: Writer, pool: FilePool, url: str, stop: threading.Event) -> None:
    start = time.perf_counter()
    with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        while not stop.is_set():
            path = pool.take(1)[0]
            t = time.perf_counter()
            try:
                response = http.post("/api/episodes", files={"file": (path.name, path.read_bytes())})
            except httpx.HTTPError as error:
                writer.fail(1, f"{path.name} : {error!r}")
                continue
            finally:
                writer.seconds.append(time.perf_counter() - t)
            if response.status_code == 201:
                writer.added += 1
                writer.unsearchable += not response.json().get("searchable", True)
            elif response.status_code == 200:
                writer.not_added += 1
            else:
                writer.fail(1, f"{path.name} : {response.status_code} {response.text[:200]}")
    writer.elapsed = time.perf_counter() - start


def cli_writer(writer: Writer, pool: FilePool, env: dict, files: int, stop: threading.Event) -> None:
    start = time.perf_counter()
    env = {**env, "COLUMNS": "200"}  # the summary line unwrapped
    while not stop.is_set():
        paths = pool.take(files)
        target = paths[0]
        if files > 1:  # a small folder of its own
            target = paths[0].parent.parent / f"dossier-{paths[0].stem}"
            target.mkdir()
            for path in paths:
                path.rename(target / path.name)
        t = time.perf_counter()
        done = subprocess.run([*plateau_command(), "ingest", str(target)], env=env, capture_output=True, text=True)
        writer.seconds.append(time.perf_counter() - t)
        summary = SUMMARY.search(done.stdout)
        if summary is None:
            writer.fail(files, f"{target.name} : code {done.returncode} {done.stderr.strip()[-300:]}")
            continue
        added, updated, unchanged, failed = map(int, summary.groups())
        writer.added += added
        writer.not_added += updated + unchanged
        unsearchable = UNSEARCHABLE.search(done.stdout)
        writer.unsearchable += int(unsearchable.group(1)) if unsearchable else 0
        if failed:
            writer.fail(failed, f"{target.name} : {done.stderr.strip()[-300:]}")
    writer.elapsed = time.perf_counter() - start


# --- the readers ------------------------------------------------------------------------------


def run_wrk(
    urls: dict[str, list[str]], base: str, connections: int, seconds: int, timeout: int, seed: int, work: Path
) -> dict[str, dict]:
    """One wrk process per class, all at once; the JSON line of bench/load.lua for each."""
    share = {c: connections // len(CLASSES) + (i < connections % len(CLASSES)) for i, c in enumerate(CLASSES)}
    processes = {}
    for name in CLASSES:
        paths = work / f"urls-{name}.txt"
        paths.write_text("\n".join(urls[name]) + "\n")
        command = ["wrk", "-t1", f"-c{share[name]}", f"-d{seconds}s", f"--timeout={timeout}s", "-s", str(LUA)]
        processes[name] = subprocess.Popen(
            [*command, base, "--", str(paths), str(seed)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    results = {}
    for name, process in processes.items():
        out, _ = process.communicate()
        (work / f"wrk-{name}.txt").write_text(out)
        line = next((x for x in out.splitlines() if x.startswith("LOAD-JSON ")), None)
        if process.returncode or line is None:
            raise SystemExit(f"wrk ({name}) a échoué ({process.returncode}) :\n{out[-2000:]}")
        results[name] = {**json.loads(line.removeprefix("LOAD-JSON ")), "connections": share[name]}
    return results


# --- the report -------------------------------------------------------------------------------


def errors_of(r: dict) -> tuple[int, str]:
    """(count, details) of one class: socket errors, timeouts, and statuses of 400 and up (wrk's own
    "status" count, split by status)."""
    e = r["errors"]
    parts = [f"{k} {e[k]}" for k in ("connect", "read", "write", "timeout") if e[k]]
    bad = sorted((int(s), n) for s, n in r["statuses"].items() if int(s) >= 400)
    parts += [f"{s} × {n}" for s, n in bad]
    return sum(e[k] for k in ("connect", "read", "write", "timeout")) + sum(n for _, n in bad), ", ".join(parts)


def ms(us: float) -> str:
    return f"{fmt(us / 1000, 1)} ms"


def print_writers(writers: list[Writer]) -> None:
    print(
        "\n| écrivain (médiane d'un envoi ou d'une commande) | ajoutés | par minute | échecs | pas cherchables "
        "| autres (inchangés, mis à jour) |"
    )
    print("|---|---|---|---|---|---|")
    for w in writers:
        per_op = f" ({fmt(statistics.median(w.seconds), 2)} s)" if w.seconds else ""
        rate = w.added / (w.elapsed / 60) if w.elapsed else 0.0
        print(f"| {w.name}{per_op} | {w.added} | {fmt(rate)} | {w.failed} | {w.unsearchable} | {w.not_added} |")
    added = sum(w.added for w in writers)
    minutes = max(w.elapsed for w in writers) / 60
    print(
        f"| **total** | {added} | {fmt(added / minutes if minutes else 0)} | {sum(w.failed for w in writers)} | "
        f"{sum(w.unsearchable for w in writers)} | {sum(w.not_added for w in writers)} |"
    )
    reasons = [f"- échec ({w.name}) : {reason}" for w in writers for reason in w.reasons]
    if reasons:
        print("\n" + "\n".join(reasons))


def report(
    results: dict[str, dict],
    writers: list[Writer],
    *,
    episodes: int,
    final: int,
    args: argparse.Namespace,
    urls: dict[str, list[str]],
    health: str,
    check: str,
    log_errors: tuple[Counter, int],
    cpu: CpuUse,
) -> None:
    cpus = os.cpu_count()
    print(
        f"\n### Charge : {fmt(episodes, 0)} épisodes, {args.seconds} s, {args.connections} connexions wrk, "
        f"`plateau serve --workers {WORKERS}`, {len(writers) or 'sans'} écrivains, {cpus} CPU\n"
    )
    print("| classe | connexions | adresses | requêtes | req/s | p50 | p99 | max | erreurs |")
    print("|---|---|---|---|---|---|---|---|---|")
    total_requests, total_errors, total_rate = 0, 0, 0.0
    for name in CLASSES:
        r = results[name]
        rate = r["requests"] / (r["duration_us"] / 1e6)
        count, details = errors_of(r)
        total_requests += r["requests"]
        total_errors += count
        total_rate += rate
        lat = r["latency_us"]
        print(
            f"| {LABELS[name]} | {r['connections']} | {len(set(urls[name]))} | {fmt(r['requests'], 0)} | "
            f"{fmt(rate)} | {ms(lat['p50'])} | {ms(lat['p99'])} | {ms(lat['max'])} | "
            f"{count}{f' ({details})' if details else ''} |"
        )
    print(f"| **total** | {args.connections} | | {fmt(total_requests, 0)} | {fmt(total_rate)} | | | | {total_errors} |")

    added = sum(w.added for w in writers)
    if writers:
        print_writers(writers)

    statuses, tracebacks = log_errors
    search_p99 = results["search"]["latency_us"]["p99"] / 1000
    print(
        f"\nBase : {fmt(episodes, 0)} épisodes avant, {fmt(final, 0)} après (+{final - episodes}, "
        f"écrivains : +{added}). `/healthz` à la fin : {health}. `plateau check` après l'arrêt : {check}. "
        f"Journal du serveur : {sum(statuses.values())} réponse(s) 5xx"
        + (f" ({', '.join(f'{s} × {n}' for s, n in sorted(statuses.items()))})" if statuses else "")
        + f", {tracebacks} trace(s) d'erreur. CPU : {cpus} (`os.cpu_count()`), charge moyenne "
        f"sur 1 min à la fin : {fmt(os.getloadavg()[0], 2)}."
    )
    print(
        f"\nCPU pendant la mesure ({args.seconds} s × {cpus} CPU = {fmt(args.seconds * (cpus or 1), 0)} s) : "
        f"{fmt(cpu.busy)} s de calcul, dont {fmt(cpu.niced)} s à priorité basse (`nice` : les processus "
        f"d'indexation du serveur et `plateau ingest`) ; processus du serveur (travailleurs et leurs "
        f"processus d'indexation) : {fmt(cpu.server)} s ; le reste (écrivains hors serveur, wrk, ce banc, "
        f"le système) : {fmt(cpu.busy - cpu.server)} s."
    )
    print(
        f"\nObjectifs (issue 10) : 0 erreur — {total_errors} ; p99 de la recherche ≤ "
        f"{fmt(SEARCH_P99_TARGET_MS, 0)} ms avec 4 écrivains — {fmt(search_p99, 0)} ms"
        + (" (mesuré sans écrivains)." if not writers else ".")
    )


# --- the run ----------------------------------------------------------------------------------


def start_writers(
    server_url: str, pool: FilePool, env: dict, stop: threading.Event
) -> tuple[list[Writer], list[threading.Thread]]:
    """Two uploaders and two `plateau ingest` loops (one file at a time, small folders)."""
    jobs: list[tuple[Writer, Callable[..., None], tuple]] = [
        (Writer("API 1 `POST /api/episodes`"), api_writer, (server_url,)),
        (Writer("API 2 `POST /api/episodes`"), api_writer, (server_url,)),
        (Writer("CLI 1 `plateau ingest FICHIER`"), cli_writer, (env, 1)),
        (Writer(f"CLI 2 `plateau ingest DOSSIER` ({CLI_FOLDER_FILES} fichiers)"), cli_writer, (env, CLI_FOLDER_FILES)),
    ]
    threads = [threading.Thread(target=job, args=(writer, pool, *extra, stop)) for writer, job, extra in jobs]
    for thread in threads:
        thread.start()
    return [writer for writer, _, _ in jobs], threads


def run(args: argparse.Namespace, work: Path) -> None:
    data = prepare_archive(args, work)
    settings = Settings(data_dir=data)
    episodes = episode_count(settings)
    if not episodes:
        raise SystemExit(f"archive vide : {args.data or data}")
    rng = random.Random(args.seed)
    urls = url_classes(settings, rng)
    env = env_for(data, limits.INDEX_MEMORY_MB)
    pool = FilePool(work / "pool", args.lines)
    if not args.no_writers:
        pool.fill(4 * CHUNK)  # generated before the clock starts
    log = work / "server.log"
    note(f"{episodes} épisodes ; démarrage de `plateau serve --workers {WORKERS}` (journal : {log})")
    with LoadServer(data, log) as server:
        with httpx.Client(base_url=server.url, timeout=60) as http:  # each class's first pages, once
            for name in CLASSES:
                for url in urls[name][:3]:
                    http.get(url)
        writing = "" if args.no_writers else " et 4 écrivains"
        note(f"{args.connections} connexions wrk{writing} pendant {args.seconds} s")
        stop = threading.Event()
        before = cpu_use(server.process.pid)
        writers, threads = ([], []) if args.no_writers else start_writers(server.url, pool, env, stop)
        try:
            results = run_wrk(urls, server.url, args.connections, args.seconds, args.timeout, args.seed, work)
            cpu = cpu_use(server.process.pid) - before
        finally:
            stop.set()
            if threads:
                note("wrk a fini ; les écrivains terminent leur dernier envoi")
            for thread in threads:
                thread.join()
        try:
            health = httpx.get(f"{server.url}/healthz", timeout=30).json().get("status", "?")
        except (httpx.HTTPError, ValueError) as error:
            health = repr(error)
    note("serveur arrêté ; `plateau check`")
    done = subprocess.run([*plateau_command(), "check"], env=env, capture_output=True, text=True)
    check = "ok" if done.returncode == 0 else f"code {done.returncode} : {(done.stdout + done.stderr).strip()[-300:]}"
    final = episode_count(settings)
    get_engine(settings).dispose()
    report(
        results,
        writers,
        episodes=episodes,
        final=final,
        args=args,
        urls=urls,
        health=health,
        check=check,
        log_errors=server_log_errors(log),
        cpu=cpu,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2000, help="taille de l'archive construite (sans --data)")
    parser.add_argument("--lines", type=int, default=1000, help="lignes par épisode généré")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32, help="connexions wrk en tout (4 classes)")
    parser.add_argument("--timeout", type=int, default=30, help="secondes avant qu'une requête compte en erreur")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-writers", action="store_true", help="lecteurs seuls, pour comparer")
    parser.add_argument(
        "--data", type=Path, help="archive à réutiliser (copiée) ; construite là si le dossier n'en contient pas"
    )
    parser.add_argument("--keep", type=Path, help="dossier de travail gardé (sinon un dossier temporaire)")
    args = parser.parse_args()
    if args.connections < len(CLASSES):
        parser.error(f"--connections : au moins {len(CLASSES)}, une par classe")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk manque : `make load` l'installe (paquet Debian wrk)")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(args.keep / "pool", ignore_errors=True)
        run(args, args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="plateau-load-") as tmp:
            run(args, Path(tmp))


if __name__ == "__main__":
    main()
