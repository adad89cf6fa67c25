"""Packaging step pyproject.toml cannot say: the top-level folders the app reads at run time go in the wheel.

templates/, static/ and migrations/ stay at the top of the repository. A built package (`pip install .`,
a wheel) carries copies of them under app/_resources/, where app/resources.py finds them; a checkout or
an editable install (`make run`) reads the repository's folders directly. MANIFEST.in puts the same
folders in a source distribution, so a wheel built from one has them too.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RESOURCES = ("templates", "static", "migrations")  # keep in step with app/resources.py and MANIFEST.in
BUNDLE = Path("app", "_resources")  # inside the built package
IGNORED = shutil.ignore_patterns("__pycache__", "*.py[cod]")


class build_py_with_resources(build_py):
    """build_py, plus a copy of each RESOURCES folder in the build tree (not in an editable install)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib, BUNDLE)
        shutil.rmtree(target, ignore_errors=True)  # no file left over from an earlier build
        for name in RESOURCES:
            source = ROOT / name
            if not source.is_dir():  # e.g. a source distribution made without MANIFEST.in
                raise FileNotFoundError(f"{source} is missing: the package would serve no {name}")
            shutil.copytree(source, target / name, ignore=IGNORED)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        target = Path(self.build_lib, BUNDLE)
        if not self.editable_mode and target.is_dir():
            outputs += [str(path) for path in sorted(target.rglob("*")) if path.is_file()]
        return outputs


setup(cmdclass={"build_py": build_py_with_resources})
