"""HTTP search on one SQLite server against two app servers sharing PostgreSQL. Prints; asserts nothing.

    .venv/bin/python -m bench.servers [--data bench/out/data-2000] [--episodes 200] [--seconds 30]
                                      [--clients 16] [--keep DIR]

Issue 13's target: "HTTP search p95 with 2 app servers under 16 concurrent clients no worse than one
SQLite server at the same load". The archive: a copy of `--data DIR` (or `--episodes` generated
episodes through `plateau ingest`, as bench/load.py prepares its own). Then, one setup after the other:

- SQLite: one `plateau serve` (one worker process) on the copy, with its Whoosh index;
- PostgreSQL: the copy moved by `migrate_to` (as `plateau migrate-to`) into a fresh database of a
  PostgreSQL server started here (tests/postgres.py: initdb in the work folder, Debian's binaries,
  the server's default settings but bench.run.ARCHIVE_SETTINGS), then two `plateau serve` (one
  worker each) on two ports, each with its own empty data folder and the same PLATEAU_DATABASE_URL.

Each setup gets `--clients` keep-alive connections in all from two wrk processes run at once (Debian's
wrk, `make wrk`), half of the connections each: on the SQLite setup both aim at its one server, on the
PostgreSQL setup one at each server (what a load balancer does). Every request is a `/search?q=`
drawn at random from bench/load.py's queries (common and rare words of the seeds, a few multi-word
queries and quoted phrases). A 5-second warm-up first, then `--seconds` measured. wrk reports each
run's latency percentiles on a grid of 0.5 %; the two runs of a setup are merged by their request
counts (so p95 is within half a percentile of the exact one). An error: no connection, a read, write
or timeout error, or a status of 400 and up. wrk, the servers and PostgreSQL share the same cores.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.config import Settings
from app.services.migrate_to import migrate_to
from bench.load import note, prepare_archive, search_queries, search_url, server_log_errors
from bench.pages import free_port, plateau_command
from bench.run import ARCHIVE_SETTINGS

WARM_SECONDS = 5
GRID = [i / 2 for i in range(1, 200)] + [99.9]  # the percentiles wrk prints

LUA = """
local threads = {}
function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end
function init(args)
   paths = {}
   for line in io.lines(args[1]) do
      if line ~= "" then paths[#paths + 1] = line end
   end
   math.randomseed((tonumber(args[2]) or 1) * 1000 + id)
   statuses = {}
   wrk.headers["Accept-Encoding"] = "gzip"
end
function request()
   return wrk.format("GET", paths[math.random(#paths)])
end
function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
   local bad = 0
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses") or {}) do
         if status >= 400 then bad = bad + n end
      end
   end
   local grid = {}
   for _, p in ipairs({%GRID%}) do
      grid[#grid + 1] = string.format("[%.1f, %d]", p, latency:percentile(p))
   end
   local e = summary.errors
   io.write(string.format(
      'SERVERS-JSON {"requests": %d, "duration_us": %d, "max_us": %d, "errors": %d, "bad_status": %d, '
         .. '"grid": [%s]}\\n',
      summary.requests, summary.duration, latency.max, e.connect + e.read + e.write + e.timeout, bad,
      table.concat(grid, ", ")))
end
"""


@dataclass
class Run:
    requests: int
    seconds: float
    errors: int
    grid: list[tuple[float, float]]  # (percentile, ms)


@dataclass
class Setup:
    name: str
    runs: list[Run]

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.runs)

    @property
    def rate(self) -> float:
        return sum(r.requests / r.seconds for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    def percentile(self, p: float) -> float:
        """The merged runs' p-th percentile: the smallest latency below which p % of all requests fall."""
        candidates = sorted({ms for run in self.runs for _, ms in run.grid})
        total = self.requests or 1
        for value in candidates:
            share = sum(run.requests * max((q for q, ms in run.grid if ms <= value), default=0.0) for run in self.runs)
            if share / total >= p - 1e-9:
                return value
        return candidates[-1] if candidates else 0.0


class App:
    """`plateau serve` (one worker) in a subprocess on a free loopback port, with this environment."""

    def __init__(self, env: dict, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = log

    def __enter__(self) -> "App":
        self.log_file = open(self.log, "wb")
        self.process = subprocess.Popen(
            [*plateau_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise SystemExit(f"le serveur n'a pas démarré : voir {self.log}")
            time.sleep(0.3)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


def wrk(urls: list[str], connections: int, seconds: int, lua: Path, paths: Path, seed: int) -> list[Run]:
    """One wrk per URL, all at once, `connections` each; their runs."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(lua)]
    procs = [
        subprocess.Popen(
            [*command, url, "--", str(paths), str(seed + i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i, url in enumerate(urls)
    ]
    runs = []
    for proc in procs:
        output, _ = proc.communicate(timeout=seconds + 120)
        line = next((x for x in output.splitlines() if x.startswith("SERVERS-JSON ")), None)
        if line is None:
            raise SystemExit(f"wrk n'a rien rapporté :\n{output}")
        found = json.loads(line.removeprefix("SERVERS-JSON "))
        runs.append(
            Run(
                found["requests"],
                found["duration_us"] / 1e6,
                found["errors"] + found["bad_status"],
                [(p / 100, us / 1000) for p, us in found["grid"]] + [(1.0, found["max_us"] / 1000)],
            )
        )
    return runs


def drive(name: str, urls: list[str], args: argparse.Namespace, lua: Path, paths: Path) -> Setup:
    """Warm-up, then the measured run: two wrk processes, half of the clients each, over `urls`
    (one server twice, or one URL per server)."""
    assert len(urls) == 2
    half = args.clients // 2
    note(f"{name} : échauffement {WARM_SECONDS} s…")
    wrk(urls, half, WARM_SECONDS, lua, paths, seed=1)
    note(f"{name} : {args.clients} clients pendant {args.seconds} s…")
    return Setup(name, wrk(urls, half, args.seconds, lua, paths, seed=2))


def fmt_ms(value: float) -> str:
    return f"{value:.1f} ms".replace(".", ",")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="l'archive à copier (sinon --episodes générés)")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--keep", type=Path, default=None, help="garder là la copie, la base et les journaux")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk manque : `make wrk` installe le paquet Debian.")
    from tests.postgres import PostgresServer, binaries

    try:
        binaries()
    except RuntimeError:
        raise SystemExit("PostgreSQL n'est pas installé : `make postgres` installe les paquets Debian.") from None

    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="plateau-servers-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # mkdtemp's 0700 would keep the `postgres` user out of its cluster's folder
    setups: list[Setup] = []
    try:
        data = prepare_archive(args, work)
        settings = Settings(data_dir=data)
        queries, _ = search_queries(random.Random(1))
        paths = work / "search-paths.txt"
        paths.write_text("\n".join(search_url("/search", q) for q in queries) + "\n", encoding="utf-8")
        lua = work / "servers.lua"
        lua.write_text(LUA.replace("%GRID%", ", ".join(str(p) for p in GRID)), encoding="utf-8")
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("PLATEAU_")}

        sqlite_log = work / "serveur-sqlite.log"
        with App({**base_env, "PLATEAU_DATA_DIR": str(data)}, sqlite_log) as app:
            setups.append(drive("SQLite, 1 serveur", [app.url, app.url], args, lua, paths))

        server = PostgresServer(work / "postgres").init()
        server.configure(**ARCHIVE_SETTINGS)
        server.start()
        try:
            url = server.create_database("plateau_servers")
            note("copie de l'archive dans PostgreSQL (migrate_to)…")
            start = time.perf_counter()
            moved = migrate_to(settings, url)
            note(f"  {time.perf_counter() - start:.0f} s, {moved.searchable} épisodes cherchables")
            logs = [work / "serveur-pg-1.log", work / "serveur-pg-2.log"]
            envs = []
            for i in (1, 2):
                folder = work / f"app-{i}"
                folder.mkdir(exist_ok=True)
                envs.append({**base_env, "PLATEAU_DATA_DIR": str(folder), "PLATEAU_DATABASE_URL": url})
            with App(envs[0], logs[0]) as first, App(envs[1], logs[1]) as second:
                setups.append(drive("PostgreSQL, 2 serveurs", [first.url, second.url], args, lua, paths))
        finally:
            server.destroy()
        server_errors = {log.name: server_log_errors(log) for log in [sqlite_log, *logs]}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    sqlite, postgres = setups
    rows = [
        f"### Recherche HTTP `/search?q=`, {args.clients} clients, {args.seconds} s ({os.cpu_count()} CPU, "
        f"wrk et les serveurs sur les mêmes cœurs)",
        "",
        "| installation | req/s | p50 | p95 | p99 | erreurs |",
        "|---|---|---|---|---|---|",
    ]
    for s in setups:
        rows.append(
            f"| {s.name} | {s.rate:.1f} | ".replace(".", ",")
            + f"{fmt_ms(s.percentile(0.5))} | {fmt_ms(s.percentile(0.95))} | {fmt_ms(s.percentile(0.99))} "
            + f"| {s.errors} |"
        )
    ratio = postgres.percentile(0.95) / max(sqlite.percentile(0.95), 1e-3)
    rows += [
        "",
        f"- ratio PostgreSQL / SQLite : p95 {ratio:.2f}, req/s {postgres.rate / max(sqlite.rate, 1e-9):.2f}".replace(
            ".", ","
        ),
        f"- cible (p95 de 2 serveurs PostgreSQL ≤ p95 d'un serveur SQLite) : {'✓' if ratio <= 1 else '✗'}",
    ]
    for name, (statuses, tracebacks) in server_errors.items():
        if statuses or tracebacks:
            rows.append(f"- {name} : {dict(statuses)} réponses 5xx, {tracebacks} trace(s)")
    print("\n".join(rows), flush=True)


if __name__ == "__main__":
    main()
