"""Packaging: a plain `pip install .` serves pages, static files and migrations from any folder, and
the Dockerfile builds from that install (checked by reading it: Docker does not run here)."""

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, SEEDS, free_port

DOCKERFILE = ROOT / "Dockerfile"
RESOURCES = ("templates", "static", "migrations")
BIN = "Scripts" if os.name == "nt" else "bin"


# --- the Dockerfile, read --------------------------------------------------------------------


@dataclass
class Stage:
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (KEYWORD, arguments)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def read_dockerfile(path: Path = DOCKERFILE) -> list[Stage]:
    """Its stages, each a list of instructions (continuation lines joined, comments dropped)."""
    stages: list[Stage] = []
    logical = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not logical and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if logical and line.lstrip().startswith("#"):  # a comment inside a continued instruction
            continue
        if line.rstrip().endswith("\\"):
            logical += line.rstrip()[:-1] + " "
            continue
        keyword, _, args = (logical + line).strip().partition(" ")
        logical = ""
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(alias))
        stages[-1].instructions.append((keyword, args))
    return stages


def words(args: str) -> list[str]:
    """An instruction's arguments, exec form (JSON) or shell form."""
    return json.loads(args) if args.startswith("[") else shlex.split(args)


def copies(stage: Stage) -> list[tuple[list[str], str, dict[str, str]]]:
    """(sources, destination, flags) of each COPY/ADD of a stage."""
    found = []
    for keyword, args in stage.instructions:
        if keyword not in ("COPY", "ADD"):
            continue
        parts = words(args)
        flags = dict(part[2:].partition("=")[::2] for part in parts if part.startswith("--"))
        paths = [part for part in parts if not part.startswith("--")]
        found.append((paths[:-1], paths[-1], flags))
    return found


def env_of(stage: Stage) -> dict[str, str]:
    env = {}
    for args in stage.all("ENV"):
        for item in shlex.split(args):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def command_of(stage: Stage) -> list[str]:
    """The command the container runs: ENTRYPOINT then CMD, a `sh -c` script split into words."""
    command = [word for kw in ("ENTRYPOINT", "CMD") for args in stage.all(kw)[-1:] for word in words(args)]
    if command[:2] == ["sh", "-c"]:
        command = shlex.split(command[2])
    return command


def dockerignored(name: str) -> bool:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return any(fnmatch.fnmatch(name, pattern.removeprefix("**/")) for pattern in patterns)


def test_dockerfile_copies_files_that_exist():
    stages = read_dockerfile()
    sources = [
        source for stage in stages for sources, _, flags in copies(stage) if "from" not in flags for source in sources
    ]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which the repository lacks"
        assert not dockerignored(source), f"the Dockerfile copies {source}, which .dockerignore leaves out"


def test_dockerfile_installs_the_package_and_runs_it_as_make_run_does():
    build, final = read_dockerfile()[0], read_dockerfile()[-1]
    # the build stage has what a wheel is made from, and installs it: not editable
    built_from = {Path(source).name for sources, _, flags in copies(build) if "from" not in flags for source in sources}
    assert {"pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "app", *RESOURCES} <= built_from
    installs = [args for args in build.all("RUN") if re.search(r"pip install\b[^&]*\s\.(\s|$)", args)]
    assert installs, "the build stage must `pip install .`"
    assert not any(re.search(r"\s(-e|--editable)\b", args) for args in installs)
    # the image runs the installed package, not a source tree copied beside it
    shipped = [source for sources, _, flags in copies(final) if "from" not in flags for source in sources]
    assert not {"app", "pyproject.toml", *RESOURCES} & set(shipped), shipped
    # the steps of `make run`: ingest the seeds into an empty archive, then serve
    command = command_of(final)
    assert command[:3] == ["plateau", "ingest", "--if-empty"], command
    seeds = {destination for sources, destination, _ in copies(final) if sources == ["seeds"]}
    assert command[3] in seeds
    assert command[4:6] == ["&&", "exec"] and command[6:8] == ["plateau", "serve"], command


def test_dockerfile_runs_as_a_user_on_the_exposed_port_with_data_in_the_volume():
    final = read_dockerfile()[-1]
    keywords = [keyword for keyword, _ in final.instructions]
    users = final.all("USER")
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the server must not run as root"
    run_at = min(i for i, kw in enumerate(keywords) if kw in ("CMD", "ENTRYPOINT"))
    assert max(i for i, kw in enumerate(keywords) if kw == "USER") < run_at
    command = command_of(final)
    serve = command[command.index("serve") :]
    port = serve[serve.index("--port") + 1]
    assert [args.split("/")[0] for args in final.all("EXPOSE")] == [port] == ["8000"]
    assert serve[serve.index("--host") + 1] == "0.0.0.0"  # reachable through the published port
    volumes = [volume for args in final.all("VOLUME") for volume in words(args)]
    assert volumes == ["/data"]
    assert env_of(final)["PLATEAU_DATA_DIR"] == "/data"


# --- the package, built and installed --------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """This environment, minus anything that would point Python or Plateau back at the checkout."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PLATEAU_", "PYTHON", "PIP_", "VIRTUAL_ENV"))
    }
    return {**env, **extra}


def run(*command, cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=clean_env(**extra), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """What the Dockerfile's build stage copies, in a folder of its own: packages are built from it
    (a build in the checkout would leave build/ there for everyone else)."""
    source = tmp_path_factory.mktemp("source")
    for sources, destination, flags in copies(read_dockerfile()[0]):
        assert "from" not in flags
        for name in sources:
            target = source / (Path(name).name if destination.endswith("/") else destination)
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]"))
            else:
                shutil.copy2(ROOT / name, target)
    return source


def test_the_source_distribution_carries_the_folders(source, tmp_path):
    """`python -m build` makes the wheel from the sdist: the folders must be in it (MANIFEST.in)."""
    build = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    name = run(sys.executable, "-c", build, tmp_path, cwd=source).stdout.strip().splitlines()[-1]
    with tarfile.open(tmp_path / name) as archive:
        names = {member.name.partition("/")[2] for member in archive.getmembers() if member.isfile()}
    assert {"setup.py", "MANIFEST.in", "templates/base.html", "migrations/env.py", "static/css/plateau.css"} <= names
    for folder in RESOURCES:
        assert {path for path in names if path.startswith(f"{folder}/")} == {
            path.relative_to(source).as_posix() for path in (source / folder).rglob("*") if path.is_file()
        }


@pytest.fixture(scope="module")
def installed(source, tmp_path_factory) -> Path:
    """A fresh virtual environment with Plateau installed from its wheel, not editable; the
    dependencies come from this environment's site-packages (no network)."""
    tmp = tmp_path_factory.mktemp("packaging")
    wheels = tmp / "wheels"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-index",
        "--no-build-isolation",
        "-q",
        "-w",
        wheels,
        source,
        cwd=tmp,
    )
    [wheel] = wheels.glob("plateau-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for name in RESOURCES:
        assert any(path.startswith(f"app/_resources/{name}/") for path in names), f"the wheel has no {name}/"
    assert "app/_resources/templates/base.html" in names
    assert "app/_resources/migrations/env.py" in names
    assert not any("__pycache__" in path for path in names)

    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    python = venv / BIN / "python"
    purelib = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp).stdout.strip()
    )
    # Plain path lines: this environment's packages are importable, its .pth files (among them the
    # editable install's finder, which maps `app` to the checkout) are not run.
    dependencies = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    (purelib / "plateau-test-dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel, cwd=tmp)
    return venv


def test_the_installed_package_reads_nothing_from_the_checkout(installed, tmp_path):
    probe = (
        "import app, app.resources as r; print(app.__file__); print(r.TEMPLATES); print(r.STATIC); print(r.MIGRATIONS)"
    )
    paths = [Path(line) for line in run(installed / BIN / "python", "-c", probe, cwd=tmp_path).stdout.splitlines()]
    assert len(paths) == 4
    for path in paths:
        assert path.resolve().is_relative_to(installed.resolve()), path
        assert not path.resolve().is_relative_to(ROOT), path


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz").status_code == 200
    except httpx.TransportError:
        return False


def test_the_installed_plateau_migrates_ingests_and_serves_from_any_folder(installed, tmp_path):
    plateau = installed / BIN / "plateau"
    data = tmp_path / "data"  # fresh: the first command creates it and applies the migrations
    seed = sorted(SEEDS.glob("*.txt"))[0]
    run(plateau, "ingest", seed, cwd=tmp_path, PLATEAU_DATA_DIR=str(data))
    assert (data / "plateau.db").is_file()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(plateau), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=clean_env(PLATEAU_DATA_DIR=str(data)),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`plateau serve` did not start:\n{log.read_text()}")
            time.sleep(0.1)
        with httpx.Client(base_url=url, timeout=30) as http:
            home = http.get("/")
            assert home.status_code == 200, home.text
            assets = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', home.text))
            assert assets, "the home page names no static file"
            for asset in assets:
                assert http.get(asset).status_code == 200, asset
            docs = http.get("/docs")
            assert docs.status_code == 200, docs.text
            for asset in set(re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text)):
                assert http.get(asset).status_code == 200, asset
            episodes = re.findall(r'href="(/episodes/[^"/?#]+)"', home.text)
            assert episodes, "the home page links to no episode"
            episode = http.get(episodes[0])
            assert episode.status_code == 200, episode.text
            assert 'id="t-' in episode.text  # the transcript, rendered
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
