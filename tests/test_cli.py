"""The `plateau` command as a user runs it: ingest summary and exit codes, export round trips, backup."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEEDS, free_port, wait_until_healthy

PLATEAU = [str(Path(sys.executable).with_name("plateau"))]


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLATEAU_DATA_DIR": str(data_dir), **(env or {})}
    env.pop("PLATEAU_ADMIN_TOKEN", None)
    return subprocess.run(PLATEAU + list(args), env=env, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "neuf" / "data"  # does not exist yet: every command must create it


def test_ingest_on_a_fresh_data_dir_then_unchanged(data_dir):
    first = run(data_dir, "ingest", str(SEEDS))
    assert first.returncode == 0, first.stderr
    assert "5 ajouté(s), 0 mis à jour, 0 inchangé(s), 0 en échec" in first.stdout
    assert (data_dir / "plateau.db").exists() and (data_dir / "index").is_dir()
    again = run(data_dir, "ingest", str(SEEDS))
    assert "0 ajouté(s), 0 mis à jour, 5 inchangé(s), 0 en échec" in again.stdout


def test_ingest_if_empty_does_nothing_on_a_filled_archive(data_dir):
    run(data_dir, "ingest", str(SEEDS / "000_6bda1f189f294344.txt"))
    second = run(data_dir, "ingest", "--if-empty", str(SEEDS))
    assert "rien à faire" in second.stdout
    assert run(data_dir, "export", "2025-03-27-smart-tech").returncode == 1


def test_a_failed_file_is_reported_the_others_go_in_and_the_exit_is_non_zero(data_dir, tmp_path):
    folder = tmp_path / "lot"
    folder.mkdir()
    (folder / "ok.txt").write_bytes((SEEDS / "000_6bda1f189f294344.txt").read_bytes())
    (folder / "recule.txt").write_bytes(b"00:00Bonjour\n00:10suite\n00:05retour\n")
    result = run(data_dir, "ingest", str(folder))
    assert result.returncode == 1
    assert "1 ajouté(s)" in result.stdout and "1 en échec" in result.stdout
    assert "recule.txt" in result.stderr and "ligne 3" in result.stderr


def only_slug(data_dir: Path) -> str:
    """The slug of the one episode of an archive."""
    with sqlite3.connect(data_dir / "plateau.db") as db:
        ((slug,),) = db.execute("SELECT slug FROM episode").fetchall()
    return slug


@pytest.mark.parametrize("fmt", ["vtt", "srt", "json"])
def test_export_then_ingest_gives_the_same_caption_lines(data_dir, tmp_path, fmt):
    assert run(data_dir, "ingest", str(SEEDS / "002_e96e7b13769030ec.txt")).returncode == 0
    # seed 002's date has no year: the command reads it against the real day, so the slug is looked up
    slug = only_slug(data_dir)
    assert slug.endswith("-11-06-tech-co-la-quotidienne")
    exported = run(data_dir, "export", slug, "--format", fmt)
    assert exported.returncode == 0, exported.stderr
    path = tmp_path / f"copie.{fmt}"
    path.write_text(exported.stdout, encoding="utf-8")
    other = tmp_path / "autre"
    assert run(other, "ingest", str(path)).returncode == 0
    original = run(data_dir, "export", slug, "--format", "txt").stdout
    assert original.count("\n") == 1022
    copy_slug = only_slug(other)
    assert copy_slug == (slug if fmt == "json" else "copie")
    assert run(other, "export", copy_slug, "--format", "txt").stdout == original


def test_export_unknown_slug_or_format_says_what_to_do(data_dir):
    missing = run(data_dir, "export", "nope")
    assert missing.returncode == 1 and "Aucun épisode" in missing.stderr
    bad = run(data_dir, "export", "nope", "--format", "docx")
    assert bad.returncode == 2 and "vtt, srt, txt ou json" in bad.stderr


def test_backup_while_the_server_runs(data_dir, tmp_path):
    run(data_dir, "ingest", str(SEEDS))
    port = free_port()
    env = {**os.environ, "PLATEAU_DATA_DIR": str(data_dir)}
    server = subprocess.Popen(
        [*PLATEAU, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", time.monotonic() + 30)
        copy = tmp_path / "sauvegardes" / "plateau.db"
        result = run(data_dir, "backup", str(copy))
        assert result.returncode == 0, result.stderr
        assert httpx.get(f"http://127.0.0.1:{port}/api/episodes").json()["total"] == 5
    finally:
        server.terminate()
        server.wait(10)
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM episode").fetchone() == (5,)
    assert run(data_dir, "backup", str(copy)).returncode == 1  # never overwrites


def test_check_passes_on_a_consistent_archive(data_dir):
    run(data_dir, "ingest", str(SEEDS))
    result = run(data_dir, "check")
    assert result.returncode == 0, result.stderr


def test_ingest_says_when_an_episode_could_not_be_indexed_and_the_next_run_indexes_it(data_dir):
    from whoosh import index as windex

    run(data_dir, "ingest", str(SEEDS / "000_6bda1f189f294344.txt"))
    generation = (data_dir / "index" / "CURRENT").read_text().strip()
    held = windex.open_dir(str(data_dir / "index" / generation)).writer()  # another writer holds the index
    try:
        blocked = run(
            data_dir, "ingest", str(SEEDS / "001_17b833aa618b417f.txt"), env={"PLATEAU_INDEX_WRITER_TIMEOUT": "0.5"}
        )
        assert blocked.returncode == 1
        assert "ajouté mais pas cherchable : 001_17b833aa618b417f.txt" in blocked.stderr
        assert "1 ajouté(s)" in blocked.stdout and "dont 1 pas encore cherchable(s)" in blocked.stdout
        assert "plateau reindex" in blocked.stderr
    finally:
        held.cancel()
    assert run(data_dir, "check").returncode == 1
    again = run(data_dir, "ingest", str(SEEDS / "001_17b833aa618b417f.txt"))
    assert again.returncode == 0, again.stderr
    assert "1 inchangé(s)" in again.stdout
    assert run(data_dir, "check").returncode == 0
