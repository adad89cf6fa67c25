"""What `plateau` does around a command's work: the progress bar only on a terminal, file names printed
as they are, no migrations on a current archive, the cyclic collector left as it was by whoever
imports app.cli."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SEEDS

PLATEAU = str(Path(sys.executable).with_name("plateau"))


def run(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PLATEAU_DATA_DIR": str(data_dir), **env}
    for name in ("PLATEAU_ADMIN_TOKEN", "TTY_COMPATIBLE", "FORCE_COLOR"):
        if name not in env:
            environ.pop(name, None)
    return subprocess.run([PLATEAU, *args], env=environ, capture_output=True, text=True, timeout=120)


def python(code: str, data_dir: Path) -> str:
    environ = {**os.environ, "PLATEAU_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_progress_bar_is_drawn_on_a_terminal_and_nowhere_else(tmp_path):
    piped = run(tmp_path / "tube", "ingest", str(SEEDS))
    assert piped.returncode == 0, piped.stderr
    assert "5 ajouté(s)" in piped.stdout
    assert "Ingestion" not in piped.stderr and "\x1b[" not in piped.stderr + piped.stdout

    # TTY_COMPATIBLE=1: Rich takes the output for a terminal, as it does a real one
    shown = run(tmp_path / "terminal", "ingest", str(SEEDS), TTY_COMPATIBLE="1")
    assert shown.returncode == 0, shown.stderr
    assert "Ingestion" in shown.stderr  # the bar, erased once done
    assert "ajouté" in shown.stdout


def test_a_command_on_a_current_archive_loads_no_migrations_and_off_a_terminal_no_rich(tmp_path):
    data_dir = tmp_path / "data"
    assert run(data_dir, "ingest", str(SEEDS / "000_6bda1f189f294344.txt")).returncode == 0
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('alembic' in sys.modules, any(m.startswith('rich') for m in sys.modules)))\n"
        "sys.argv = ['plateau', 'ingest', sys.argv[1]]\n"
        "from app.cli import main\n"
        "main()\n"
    )
    environ = {**os.environ, "PLATEAU_DATA_DIR": str(data_dir)}
    again = subprocess.run(
        [sys.executable, "-c", code, str(SEEDS / "000_6bda1f189f294344.txt")],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert "1 inchangé(s)" in again.stdout
    assert again.stdout.strip().splitlines()[-1] == "False False"


def test_importing_the_command_leaves_the_collector_as_it_was(tmp_path):
    # app.cli loads its modules with the collector paused: whoever imports it gets it back as it was
    assert python("import gc, app.cli; print(gc.isenabled())", tmp_path) == "True"
    assert python("import gc; gc.disable(); import app.cli; print(gc.isenabled())", tmp_path) == "False"


def test_a_file_name_is_shown_as_it_is_even_with_what_looks_like_an_emoji_code(tmp_path):
    folder = tmp_path / "lot"
    folder.mkdir()
    (folder / "debat:fire:.txt").write_bytes((SEEDS / "000_6bda1f189f294344.txt").read_bytes())
    result = run(tmp_path / "data", "ingest", str(folder))
    assert result.returncode == 0, result.stderr
    assert "ajouté : debat:fire:.txt →" in result.stdout


def test_messages_keep_their_order_when_stdout_and_stderr_go_to_one_log(tmp_path):
    """`plateau ingest ... > log 2>&1`: each message is written when it is said, whatever stream
    it goes to (a block-buffered stdout would come out after every line of stderr)."""
    folder = tmp_path / "lot"
    folder.mkdir()
    (folder / "000_bon.txt").write_bytes((SEEDS / "000_6bda1f189f294344.txt").read_bytes())
    (folder / "zz_vide.txt").write_bytes(b"")
    environ = {**os.environ, "PLATEAU_DATA_DIR": str(tmp_path / "data")}
    environ.pop("PYTHONUNBUFFERED", None)
    done = subprocess.run(
        [PLATEAU, "ingest", str(folder)], env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert done.returncode == 1, done.stdout
    lines = done.stdout.splitlines()

    def at(start: str) -> int:
        return next(i for i, line in enumerate(lines) if line.startswith(start))

    added, failed = at("ajouté : 000_bon.txt"), at("échec : zz_vide.txt")
    summary, advice = at("1 ajouté(s)"), at("Des fichiers ont été refusés")
    assert added < failed < summary < advice, lines


def test_ingest_and_reindex_lower_their_priority_before_loading_anything(tmp_path):
    """`plateau ingest` and `reindex` take the batch priority before SQLAlchemy, Whoosh or the app
    load (their start ran at the server's priority); other commands keep the caller's."""
    code = (
        "import os, sys\n"
        "seen = {}\n"
        "class Watch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'sqlalchemy':\n"
        "            seen.setdefault('nice', os.getpriority(os.PRIO_PROCESS, 0))\n"
        "sys.meta_path.insert(0, Watch())\n"
        "sys.argv = ['plateau', *sys.argv[1:]]\n"
        "from app.entry import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('NICE', seen.get('nice'))\n"
    )
    environ = {**os.environ, "PLATEAU_DATA_DIR": str(tmp_path / "data")}
    caller = os.getpriority(os.PRIO_PROCESS, 0)
    for command, expected in (("ingest", max(caller, 10)), ("reindex", max(caller, 10)), ("check", caller)):
        done = subprocess.run(
            [sys.executable, "-c", code, command, "--help"], env=environ, capture_output=True, text=True, timeout=120
        )
        assert done.stdout.strip().splitlines()[-1] == f"NICE {expected}", (command, done.stdout, done.stderr)
    assert Path(PLATEAU).read_text().count("from app.entry import main") == 1  # the installed command
