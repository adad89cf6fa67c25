"""A real full disk and a real read-only data folder (a small tmpfs): the summary, reads served, no
half-written episode."""

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bench.generate import generate
from tests.conftest import TOKEN, free_port, wait_until_healthy
from tests.test_cli import PLATEAU, run
from tests.test_index_damage import Text

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of this size mounted on the folder (the tests run as root, as `make test` installs
    packages): a disk that really fills up, and a mount that really turns read-only."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode:
        pytest.fail(f"a tmpfs cannot be mounted here ({mounted.stderr.strip()}): these tests need root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path, leave_kib: int) -> Path:
    """A file that takes all the free space but `leave_kib`."""
    filler = disk / f"remplissage-{len(list(disk.glob('remplissage-*')))}"
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with open(filler, "wb") as out:
        chunk = b"\0" * (1 << 20)
        left = free - leave_kib * 1024
        while left > 0:
            left -= out.write(chunk[: min(len(chunk), left)])
    return filler


def caption_counts(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "plateau.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute(
            "SELECT e.source, count(c.id) FROM episode e LEFT JOIN caption_line c ON c.episode_id = e.id GROUP BY e.id"
        )
        return dict(rows.fetchall())


def lines_in(path: Path) -> int:
    from app.ingest.formats import parse_transcript

    return len(parse_transcript(path.name, path.read_bytes()).captions)


@pytest.fixture
def archive_on_tmpfs(tmp_path, seeded_archive) -> Iterator[Path]:
    with tmpfs(tmp_path / "disque", "64m") as disk:
        shutil.copytree(seeded_archive[0], disk / "data")
        yield disk


def test_a_full_disk_during_ingest_gives_the_summary_and_half_writes_nothing(archive_on_tmpfs, tmp_path):
    disk = archive_on_tmpfs
    data_dir = disk / "data"
    files = tmp_path / "lot"
    generate(files, episodes=8, lines=3000)
    filler = fill(disk, leave_kib=1500)  # room for a file or two, not for eight

    ingest = run(data_dir, "ingest", str(files))
    assert ingest.returncode == 1
    assert "Traceback" not in ingest.stderr, ingest.stderr[-3000:]
    summary = ingest.stdout.strip().splitlines()[-1]
    assert "en échec" in summary and "ajouté(s)" in summary, ingest.stdout
    refused = [line for line in ingest.stderr.splitlines() if line.startswith(("échec", "ajouté mais pas cherchable"))]
    assert refused, ingest.stderr
    assert all("disque plein" in line for line in refused), refused

    filler.unlink()
    stored = caption_counts(data_dir)
    for path in sorted(files.iterdir()):
        if path.name in stored:  # stored whole, or not at all
            assert stored[path.name] == lines_in(path), path.name
    assert sum(name in stored for name in os.listdir(files)) < 8, "the disk was not full"

    again = run(data_dir, "ingest", str(files))
    assert again.returncode == 0, again.stderr
    assert all(caption_counts(data_dir)[p.name] == lines_in(p) for p in files.iterdir())
    assert run(data_dir, "check").returncode == 0


@contextmanager
def serving(data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PLATEAU_DATA_DIR": str(data_dir), "PLATEAU_ADMIN_TOKEN": TOKEN}
    server = subprocess.Popen(
        [*PLATEAU, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_healthy(url, time.monotonic() + 40)
        except Exception:
            server.terminate()
            raise AssertionError(f"the server did not start: {server.communicate(timeout=10)[1][-3000:]}") from None
        yield url
    finally:
        server.terminate()
        server.wait(10)


def page_text(url: str) -> str:
    return str(Text(httpx.get(url).text))


def reads_are_served(url: str) -> None:
    assert httpx.get(f"{url}/episodes").status_code == 200
    assert httpx.get(f"{url}/api/search", params={"q": "souveraineté"}).json()["total"] > 0
    assert httpx.get(f"{url}/search", params={"q": "cloud"}).status_code == 200


def upload(url: str, folder: Path) -> httpx.Response:
    """A generated episode of 3,000 lines: far more than what a full disk's last pages hold."""
    (path,) = generate(folder, episodes=1, lines=3000)
    return httpx.post(f"{url}/api/episodes", headers=AUTH, files={"file": (path.name, path.read_bytes())}, timeout=60)


def test_the_server_serves_reads_on_a_full_disk_and_says_so(archive_on_tmpfs, tmp_path):
    disk = archive_on_tmpfs
    fill(disk, leave_kib=64)
    with serving(disk / "data") as url:
        health = httpx.get(f"{url}/healthz").json()
        assert health["status"] == "dégradé" and health["storage"].startswith("disque plein"), health
        reads_are_served(url)
        assert "disque de l'archive est plein" in page_text(f"{url}/")
        fill(disk, leave_kib=0)
        refused = upload(url, tmp_path / "envoi")
        assert refused.status_code == 507, refused.text[:300]
        assert "disque plein" in refused.json()["detail"]
        assert httpx.get(f"{url}/api/episodes").json()["total"] == 5  # nothing half-written
        reads_are_served(url)


def test_the_server_serves_reads_from_a_read_only_data_folder(archive_on_tmpfs, tmp_path):
    disk = archive_on_tmpfs
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    with serving(disk / "data") as url:
        health = httpx.get(f"{url}/healthz").json()
        assert health["status"] == "dégradé" and health["storage"].startswith("lecture seule"), health
        reads_are_served(url)
        assert "L'archive est en lecture seule" in page_text(f"{url}/")
        refused = upload(url, tmp_path / "envoi")
        assert refused.status_code == 503, refused.text[:300]
        assert "lecture seule" in refused.json()["detail"]
    checked = run(disk / "data", "check")
    assert checked.returncode == 0, checked.stderr
