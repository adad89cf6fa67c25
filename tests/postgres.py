"""A real PostgreSQL server for the tests: Debian's binaries (`make test` installs them), a cluster made
by `initdb` in a temporary folder, started on a free port and stopped by its pid. No mock, and no
SQLite standing in for it.

As root (CI, this machine), `initdb` and `pg_ctl` refuse to run: they run as the `postgres` user that
Debian's package creates, through `runuser`, and the folder is handed to that user."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)


def binaries() -> Path:
    """The newest installed server's bin folder, or a failure that says what to run."""
    for folder in BIN_DIRS:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise RuntimeError("no PostgreSQL server installed: `make test` installs Debian's postgresql with apt")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One cluster: `url(db)` for SQLAlchemy, `create_database()` for a fresh, empty database."""

    user = "postgres"  # the cluster's superuser; local connections are trusted

    def __init__(self, root: Path | None = None, port: int | None = None):
        self.bin = binaries()
        self.root = Path(root or tempfile.mkdtemp(prefix="plateau-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "run"
        self.log = self.root / "server.log"
        self.port = port or _free_port()
        self.pid: int | None = None
        self._databases = 0

    # --- running as the right user -------------------------------------------------------------
    def _as_owner(self, args: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def _hand_over(self, *paths: Path) -> None:
        if os.geteuid() == 0:
            for path in paths:
                shutil.chown(path, "postgres", "postgres")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """A server tool (initdb, pg_ctl, pg_basebackup…) run as the cluster's owner."""
        command = self._as_owner([str(self.bin / args[0]), *args[1:]])
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}\n{self.logs()}")
        return done

    def logs(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    # --- life ------------------------------------------------------------------------------------
    def init(self) -> "PostgresServer":
        self.root.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        self.root.chmod(0o755)
        self._hand_over(self.root, self.sockets)
        self.run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        return self

    def configure(self, **settings: str) -> None:
        with open(self.data / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = '{value}'\n")

    def start(self) -> "PostgresServer":
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        if not self.log.exists():
            self.log.touch()
            self._hand_over(self.log)
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        return self

    def stop(self) -> None:
        """Stop by pid (fast shutdown: SIGINT), and wait for the process to be gone."""
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGINT)
        except ProcessLookupError:
            self.pid = None
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
        self.pid = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        return self.init().start()

    def __exit__(self, *exc) -> None:
        self.destroy()

    # --- databases -------------------------------------------------------------------------------
    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={database}"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database; its SQLAlchemy URL."""
        self._databases += 1
        name = name or f"plateau_{os.getpid()}_{self._databases}"
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
