"""Time what users run to fill an archive: `plateau ingest DIR` beside `plateau reindex`, adding one
file through the CLI and the API, and the peak memory of every process involved. Prints; asserts nothing.

    .venv/bin/python -m bench.ingest --sizes 200 2000 [--lines 1000] [--adds 5]

For each size: generate the archive (bench/generate.py, seed page format), run the real
`plateau ingest DIR` on a fresh data folder, then `plateau reindex` of the same archive, both as
child processes in this run, with the peak of the summed memory (PSS) of the command and all its
children (the index writer processes), sampled every 20 ms. Then add new files one at a time:
with `plateau ingest FILE` (whole command, Python start included, and the same command on an
unchanged file: the fixed cost of starting), and with `POST /api/episodes` to a running
`plateau serve` (time seen by the client); after the rebuild's writes have reached the disk.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.generate import generate

ROOT = Path(__file__).resolve().parent.parent
PLATEAU = str(Path(sys.executable).with_name("plateau"))
TOKEN = "jeton-du-banc"


def process_tree_mb(pid: int) -> float:
    """Memory of a process and all its descendants, in MB: the sum of their proportional set sizes
    (PSS), so pages a writer process shares with its parent after the fork count once."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
        todo.extend(children.get(current, []))
    return total / 1024


def run_measured(args: list[str], env: dict) -> tuple[float, float, str]:
    """Run a command; returns (seconds, peak MB of its process tree, last line of its output)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process_tree_mb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} a échoué ({proc.returncode}) :\n{err[-2000:]}")
    return seconds, peak, (out.strip().splitlines() or [""])[-1]


def run_timed(args: list[str], env: dict) -> float:
    """Seconds a command takes, without the memory sampling of run_measured: reading the
    smaps_rollup of a process every 20 ms slows the process read (a third, on one file's add),
    and the peak memory of adding one file is not what is measured here."""
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} a échoué ({done.returncode}) :\n{done.stderr[-2000:]}")
    return seconds


def env_for(data_dir: Path, memory_mb: int) -> dict:
    return {
        **os.environ,
        "PLATEAU_DATA_DIR": str(data_dir),
        "PLATEAU_INDEX_MEMORY_MB": str(memory_mb),
        "PLATEAU_ADMIN_TOKEN": TOKEN,
    }


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_through_api(env: dict, files: list[Path]) -> list[float]:
    port = free_port()
    server = subprocess.Popen(
        [PLATEAU, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("le serveur ne répond pas")
            time.sleep(0.2)
        times = []
        with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            for path in files:
                start = time.perf_counter()
                response = http.post("/api/episodes", files={"file": (path.name, path.read_bytes())})
                times.append(time.perf_counter() - start)
                if response.status_code != 201:
                    raise SystemExit(f"POST {path.name} : {response.status_code} {response.text[:300]}")
        return times
    finally:
        server.terminate()
        server.wait(30)


def bench_size(size: int, lines: int, adds: int, memory_mb: int, work: Path) -> dict:
    files = work / f"archive-{size}"
    extra = work / f"extra-{size}"
    print(f"[{size}] génération de {size} épisodes × {lines} lignes…", file=sys.stderr)
    generate(files, size, lines, seed=1)
    # new files with other numbers, so each is a new episode
    for n, path in enumerate(generate(extra, 2 * adds + 1, lines, seed=size + 7)):
        path.rename(path.with_name(f"ajout_{n:03d}.txt"))
    added = sorted(extra.glob("ajout_*.txt"))
    data = work / f"data-{size}"
    env = env_for(data, memory_mb)

    print(f"[{size}] plateau ingest…", file=sys.stderr)
    ingest_s, ingest_mb, summary = run_measured([PLATEAU, "ingest", str(files)], env)
    print(f"[{size}]   {ingest_s:.1f} s — {summary}", file=sys.stderr)
    print(f"[{size}] plateau reindex…", file=sys.stderr)
    reindex_s, reindex_mb, _ = run_measured([PLATEAU, "reindex"], env)
    print(f"[{size}]   {reindex_s:.1f} s", file=sys.stderr)
    run_measured([PLATEAU, "check"], env)
    # the rebuild leaves most of its index (about 1 GB at 2,000 episodes) for the kernel to write out:
    # done before the adds, whose commits would otherwise wait behind it (a median of 0.65 s instead of 0.50)
    os.sync()

    cli = [run_timed([PLATEAU, "ingest", str(p)], env) for p in added[:adds]]
    start_only = [run_timed([PLATEAU, "ingest", str(p)], env) for p in added[:adds]]  # now unchanged
    api = add_through_api(env, added[adds : 2 * adds])
    run_measured([PLATEAU, "check"], env)
    return {
        "size": size,
        "ingest_s": ingest_s,
        "ingest_mb": ingest_mb,
        "reindex_s": reindex_s,
        "reindex_mb": reindex_mb,
        "cli": cli,
        "start_only": start_only,
        "api": api,
    }


def fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def print_table(results: list[dict], memory_mb: int, lines: int) -> None:
    print(f"\nIngestion et reconstruction ({lines} lignes par épisode, budget mémoire {memory_mb} Mo)\n")
    print("| épisodes | `plateau ingest DIR` | `plateau reindex` | ratio | pic mémoire ingest | pic mémoire reindex |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['size']} | {fmt(r['ingest_s'])} s | {fmt(r['reindex_s'])} s | "
            f"{fmt(r['ingest_s'] / r['reindex_s'], 2)} | {fmt(r['ingest_mb'], 0)} Mo | {fmt(r['reindex_mb'], 0)} Mo |"
        )
    print("\nAjout d'un fichier dans l'archive (médiane / max)\n")
    print("| épisodes | `plateau ingest FICHIER` | dont démarrage (fichier inchangé) | `POST /api/episodes` |")
    print("|---|---|---|---|")
    for r in results:

        def cell(xs):
            return f"{fmt(statistics.median(xs), 2)} s / {fmt(max(xs), 2)} s"

        print(f"| {r['size']} | {cell(r['cli'])} | {cell(r['start_only'])} | {cell(r['api'])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--adds", type=int, default=5)
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--keep", type=Path, help="dossier de travail gardé (sinon un dossier temporaire)")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        work_dir = args.keep
        results = [bench_size(s, args.lines, args.adds, args.memory_mb, work_dir) for s in args.sizes]
    else:
        with tempfile.TemporaryDirectory(prefix="plateau-bench-") as tmp:
            results = [bench_size(s, args.lines, args.adds, args.memory_mb, Path(tmp)) for s in args.sizes]
    print_table(results, args.memory_mb, args.lines)


if __name__ == "__main__":
    main()
