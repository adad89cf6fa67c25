"""`plateau serve --workers N`: connections spread over the workers, a dead worker replaced, a clear
message when the port is taken, nothing left running after the stop."""

import os
import signal
import socket
import subprocess
import time
from contextlib import suppress
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from app.guards import ReadersInTurn
from app.main import create_app
from app.search import metadata
from app.web import templating
from tests.conftest import SEEDS, free_port, wait_until_healthy
from tests.test_cli import PLATEAU, run

CONNECTIONS = 32


def workers_of(server: subprocess.Popen) -> list[int]:
    """The server's worker processes: its children started by multiprocessing's spawn, not its
    resource tracker."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    workers = []
    for pid in children:
        with suppress(FileNotFoundError, ProcessLookupError):  # ended meanwhile
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(int(pid))
    return workers


def sockets_on(port: int, state: str) -> set[int]:
    """Inodes of the IPv4 sockets on `port` in this TCP state (01: a connection, 0A: listening)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == state and int(fields[9]):
            inodes.add(int(fields[9]))
    return inodes


def sockets_of(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


@pytest.fixture
def archive(tmp_path) -> Path:
    data_dir = tmp_path / "data"
    assert run(data_dir, "ingest", str(SEEDS / "000_6bda1f189f294344.txt")).returncode == 0
    return data_dir


def start(data_dir: Path, port: int, workers: int = 2) -> subprocess.Popen:
    return subprocess.Popen(
        [*PLATEAU, "serve", "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "PLATEAU_DATA_DIR": str(data_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(server: subprocess.Popen) -> str:
    server.send_signal(signal.SIGTERM)
    _, errors = server.communicate(timeout=60)
    return errors


def test_connections_opened_at_once_are_spread_over_the_workers(archive):
    """A client (a browser's tabs, a proxy, wrk) opening its connections at once: each worker gets a
    share. With one socket shared by the workers, whichever woke first took 30 of 32, and served
    them with one core while the other idled."""
    port = free_port()
    server = start(archive, port)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", time.monotonic() + 40)
        workers = workers_of(server)
        assert len(workers) == 2
        deadline = time.monotonic() + 60
        while len(sockets_on(port, "0A")) < 2:  # the other worker may still be starting
            assert time.monotonic() < deadline, "the second worker never listened"
            time.sleep(0.1)
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]
        try:
            deadline = time.monotonic() + 10
            while True:  # until every connection has been accepted by a worker
                held = {pid: sockets_of(pid) & sockets_on(port, "01") for pid in workers}
                if sum(len(inodes) for inodes in held.values()) >= CONNECTIONS or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        finally:
            for client in clients:
                client.close()
        shares = sorted(len(inodes) for inodes in held.values())
        assert sum(shares) == CONNECTIONS, shares
        assert shares[0] >= 6, shares  # the kernel spreads them at random: fewer than 6 of 32, 1 in 10,000
    finally:
        errors = stop(server)
    assert server.returncode == 0 and "Traceback" not in errors, errors[-2000:]


def test_a_worker_that_dies_is_replaced_and_the_stop_leaves_nothing_running(archive):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(archive, port)
    try:
        wait_until_healthy(url, time.monotonic() + 40)
        first, second = workers_of(server)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 40
        while not (replaced := set(workers_of(server))) - {first, second}:  # a new worker, started
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
        assert first not in replaced and second in replaced
        deadline = time.monotonic() + 60
        while len(sockets_on(port, "0A")) < 2:  # the new worker listens
            assert time.monotonic() < deadline, "the new worker never listened"
            time.sleep(0.1)
        with httpx.Client(base_url=url, timeout=30) as http:
            assert {http.get("/api/search", params={"q": "cloud"}).status_code for _ in range(20)} == {200}
    finally:
        errors = stop(server)
    assert server.returncode == 0, errors[-2000:]
    assert f"le processus de service [{first}] s'est arrêté (code -9) : il est reparti" in errors
    for pid in replaced:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/healthz", timeout=2)


def test_workers_that_die_at_their_start_again_and_again_stop_the_server(archive):
    """A worker that cannot start (a setting, a database it cannot open) is not started again forever:
    after three deaths in a row soon after their start, the server stops with an error."""
    port = free_port()
    server = start(archive, port)
    killed: set[int] = set()
    deadline = time.monotonic() + 90
    while server.poll() is None:
        assert time.monotonic() < deadline, "the server went on starting workers that died"
        with suppress(FileNotFoundError):  # the server has just ended
            for pid in set(workers_of(server)) - killed:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
        time.sleep(0.05)
    errors = server.communicate(timeout=60)[1]
    assert server.returncode == 1, errors[-2000:]
    assert "meurent à leur démarrage" in errors and 3 <= len(killed) <= 5


def test_a_port_taken_by_another_program_is_said_plainly(archive):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = start(archive, port)
        errors = server.communicate(timeout=60)[1]
    assert server.returncode == 1
    assert f"Impossible d'écouter sur 127.0.0.1:{port}" in errors and "--port" in errors
    assert "Traceback" not in errors


def test_reads_go_in_turn_in_their_order_and_writes_and_healthz_pass():
    """A worker works on READERS_PER_WORKER reads at once, the others waiting in the order they came;
    an upload, /healthz and the static files go straight in, even while every turn is taken."""
    reading: list[str] = []
    most_at_once = 0
    released = anyio.Event()
    answered: list[str] = []

    async def app(scope, receive, send):
        nonlocal most_at_once
        if scope["method"] == "GET" and scope["path"] not in ("/healthz", "/static/plateau.css"):
            reading.append(scope["path"])
            most_at_once = max(most_at_once, len(reading) - len(answered))
            await released.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        answered.append(scope["path"])

    gate = ReadersInTurn(app, turns=2, passing=("/healthz", "/static/"))

    async def request(method: str, path: str) -> None:
        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            pass

        await gate({"type": "http", "method": method, "path": path, "headers": []}, receive, send)

    async def scenario() -> None:
        async with anyio.create_task_group() as tasks:
            for n in range(6):
                tasks.start_soon(request, "GET", f"/search/{n}")
                await anyio.sleep(0.01)
            assert reading == ["/search/0", "/search/1"]  # two at work, four waiting
            with anyio.fail_after(5):
                await request("POST", "/api/episodes")
                await request("GET", "/healthz")
                await request("GET", "/static/plateau.css")
            assert answered == ["/api/episodes", "/healthz", "/static/plateau.css"]
            released.set()

    anyio.run(scenario)
    assert reading == [f"/search/{n}" for n in range(6)] and most_at_once == 2


def test_a_slow_client_reading_its_answer_holds_no_turn():
    """The turn is given back once the answer is written, not once a slow client has read it all."""
    client_reads = anyio.Event()
    served: list[str] = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x" * 1000})
        served.append(scope["path"])

    gate = ReadersInTurn(app, turns=1, passing=("/healthz",))

    async def request(path: str, slow: bool) -> None:
        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            if slow and message["type"] == "http.response.body":
                await client_reads.wait()  # the socket's buffer is full until the client reads

        await gate({"type": "http", "method": "GET", "path": path, "headers": []}, receive, send)

    async def scenario() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(request, "/episodes/long", True)
            await anyio.sleep(0.01)
            with anyio.fail_after(5):
                await request("/search", False)
            client_reads.set()

    anyio.run(scenario)
    assert served == ["/search", "/episodes/long"]


def test_a_started_server_has_its_search_ready_before_the_first_request(settings, seeded, monkeypatch):
    """The metadata index, the search's readers and the page templates are made at the start, not
    by the first visitors (the first search after a start took 600 ms at 2,000 episodes)."""
    builds: list[int] = []
    real_build = metadata._build

    def counted(*args, **kwargs):
        builds.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(metadata, "_build", counted)
    compiled: list[str] = []
    real_load = templating.env.loader.load

    def loaded(environment, name, globals=None):
        compiled.append(name)
        return real_load(environment, name, globals)

    monkeypatch.setattr(templating.env.loader, "load", loaded)
    templating.env.cache.clear()
    with TestClient(create_app()) as http:
        assert len(builds) == 1 and {"search.html", "episode.html", "home.html"} <= set(compiled)
        done = (len(builds), len(compiled))
        page = http.get("/search", params={"q": "souveraineté"})
        assert page.status_code == 200 and "souverainet" in page.text
        assert (len(builds), len(compiled)) == done  # nothing left for the visitor to build


def test_a_second_server_on_the_same_port_is_refused_not_joined(archive, tmp_path):
    """Each worker's socket shares the port with its siblings: a second `plateau serve --workers 2`
    on that port must not join them (the two servers would split the visitors), but be refused."""
    port = free_port()
    first = start(archive, port)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", time.monotonic() + 40)
        second = start(archive, port)
        errors = second.communicate(timeout=60)[1]
        assert second.returncode == 1 and f"Impossible d'écouter sur 127.0.0.1:{port}" in errors
    finally:
        stop(first)
    assert first.returncode == 0
