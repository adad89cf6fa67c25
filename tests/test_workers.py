"""Several server processes and a CLI ingest at once: no lock error, no 500, and the index agrees."""

import os
import shutil
import subprocess
import threading
import time

import httpx

from tests.conftest import SEEDS, free_port, wait_until_healthy
from tests.test_cli import PLATEAU, run


def test_two_workers_serve_searches_while_an_ingest_writes(tmp_path):
    data_dir = tmp_path / "data"
    assert run(data_dir, "ingest", str(SEEDS / "000_6bda1f189f294344.txt")).returncode == 0
    batch = tmp_path / "lot"
    batch.mkdir()
    for seed in sorted(SEEDS.glob("*.txt"))[1:]:
        shutil.copy(seed, batch / seed.name)
        for copy in range(2):  # more files, so the ingest overlaps the searches for a while
            shutil.copy(seed, batch / f"copie{copy}-{seed.name}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PLATEAU_DATA_DIR": str(data_dir)}
    server = subprocess.Popen(
        [*PLATEAU, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    statuses: list[int] = []
    stop = threading.Event()

    def search_until_stopped():
        with httpx.Client(base_url=url, timeout=30) as http:
            queries = ["souveraineté", '"protection des données"', "cloud OR IA", "numéri*", "Keepit~"]
            i = 0
            while not stop.is_set() and i < 2000:
                statuses.append(http.get("/api/search", params={"q": queries[i % len(queries)]}).status_code)
                statuses.append(http.get("/api/episodes").status_code)
                i += 1

    try:
        wait_until_healthy(url, time.monotonic() + 40)
        searchers = [threading.Thread(target=search_until_stopped) for _ in range(2)]
        for thread in searchers:
            thread.start()
        ingest = run(data_dir, "ingest", str(batch))
        stop.set()
        for thread in searchers:
            thread.join(60)
        assert ingest.returncode == 0, ingest.stderr
        assert "12 ajouté(s)" in ingest.stdout
        assert statuses and set(statuses) == {200}, sorted(set(statuses))
        with httpx.Client(base_url=url, timeout=30) as http:
            total = http.get("/api/search", params={"q": '"protection des données"'}).json()["total"]
            assert total >= 3  # the copies of 003 are searchable through the server
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=20)
    assert "LockError" not in errors and "Traceback" not in errors, errors[-2000:]
    assert run(data_dir, "check").returncode == 0


def test_check_fails_on_a_deleted_index_and_reindex_mends_it(tmp_path):
    data_dir = tmp_path / "data"
    run(data_dir, "ingest", str(SEEDS))
    shutil.rmtree(data_dir / "index")
    broken = run(data_dir, "check")
    assert broken.returncode == 1 and "plateau reindex" in broken.stderr
    assert run(data_dir, "reindex").returncode == 0
    assert run(data_dir, "check").returncode == 0


def children_of(pid: int) -> list[tuple[int, int, str]]:
    """(pid, niceness, command line) of the live processes whose parent is `pid`, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                command = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append((int(entry), int(fields[16]), command))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_an_upload_is_indexed_by_a_quieter_process_that_ends_with_its_worker(tmp_path, admin_token):
    """The server indexes an upload in a child process at a lower priority (searches first); killed
    outright, the server leaves no such process behind."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PLATEAU_DATA_DIR": str(tmp_path / "data"), "PLATEAU_ADMIN_TOKEN": admin_token}
    server = subprocess.Popen(
        [*PLATEAU, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_healthy(url, time.monotonic() + 40)
        seed = SEEDS / "000_6bda1f189f294344.txt"
        with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {admin_token}"}) as http:
            sent = http.post("/api/episodes", files={"file": (seed.name, seed.read_bytes())})
            assert sent.status_code == 201 and sent.json()["searchable"] is True, sent.text
            assert http.get("/api/search", params={"q": "souveraineté"}).json()["total"] > 0
        (indexer,) = [(pid, nice) for pid, nice, command in children_of(server.pid) if "spawn_main" in command]
        assert indexer[1] == 10  # limits.INDEX_NICENESS
    finally:
        server.kill()
        server.wait(10)
    deadline = time.monotonic() + 10
    while alive(indexer[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(indexer[0]), "the indexing process outlived its server"


def test_the_indexing_process_starts_at_its_lower_priority_and_the_worker_keeps_its_own():
    """Its start (a new interpreter importing the app, a second of CPU) used to run at the worker's
    priority until its initializer lowered it: at the first uploads under load, searches took twice
    their time for two seconds. Read at once, while the process is still importing."""
    from app.search import index as index_module

    own = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        index_module._apart_pool().submit(int)  # what an upload does first
        (indexer,) = [nice for _, nice, command in children_of(os.getpid()) if "spawn_main" in command]
        assert indexer == min(19, own + 10)  # limits.INDEX_NICENESS
        assert os.getpriority(os.PRIO_PROCESS, 0) == own
    finally:
        index_module._forget_apart_pool(wait=True)
    assert [command for _, _, command in children_of(os.getpid()) if "spawn_main" in command] == []
