"""Where the app's templates, static files and migrations are: the one place every module asks.

They live at the top of the repository (templates/, static/, migrations/). An installed package
(`pip install .`, a wheel, the Docker image) carries copies inside itself, under app/_resources/ (see
setup.py); a checkout or an editable install (`make run`) has no such folder and reads the
repository's own. Either way the answer does not depend on the working directory.
"""

from importlib.resources import files
from pathlib import Path

BUNDLED = "_resources"  # the folder setup.py fills in a built package


def _package_dir() -> Path:
    package = files(__package__)
    if not isinstance(package, Path):  # e.g. imported from a zip: Jinja, Starlette and Alembic need folders
        raise RuntimeError(f"Plateau must be installed as files on disk, not imported from {package}")
    return package


def locate(name: str) -> Path:
    """The folder `name` (templates, static, migrations): the installed copy, else the repository's."""
    package = _package_dir()
    candidates = (package / BUNDLED / name, package.parent / name)
    for folder in candidates:
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"no {name}/ folder for Plateau: looked in " + ", ".join(map(str, candidates)))


TEMPLATES = locate("templates")
STATIC = locate("static")
MIGRATIONS = locate("migrations")
