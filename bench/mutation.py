"""A mutation score in an hour rather than days: mutmut on a seeded random sample of the mutants.
Prints; asserts nothing.

    .venv/bin/python -m bench.mutation [--sample 200] [--seed 1] [--children 1] [PATTERN ...]

`make mutation` tests every mutant of `[tool.mutmut]`'s modules (about 8,000), each against the
tests that cover its function: for the query parser, which nearly every search test goes through,
that is a minute of tests a mutant, days on two cores. A uniform random sample of n mutants gives
the same score within a margin that depends only on n (±7 points at 95 % for 200), so this draws
one, seeded (the same sample for the same source), among the mutants whose names match PATTERN
(fnmatch on mutmut's names, such as `app.search.*`; all by default), runs mutmut on those only, and
prints killed, timed out, survived and the score by module, the sample's score with its 95 %
interval (Wilson's), and the names of the survivors (`mutmut show NAME` gives the change). Mutants already tested
(mutants/ keeps mutmut's verdicts until their module changes) are not run again: a stopped run
resumes, and a larger sample of the same seed only adds to a smaller one.

Mutants of functions that no selected test runs are counted apart ("sans test"): mutmut does not run
them, and they are not in the score.
"""

import argparse
import fnmatch
import json
import math
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
MUTMUT = str(Path(sys.executable).with_name("mutmut"))
KILLED, TIMEOUT, SURVIVED, NO_TESTS = "tué", "délai dépassé", "survécu", "sans test"


def generate() -> None:
    """Write the mutants (mutmut's first step, about a minute) without testing any, through the same
    calls as `mutmut run` makes before its tests (mutmut is pinned, see pyproject.toml)."""
    from mutmut import __main__ as mutmut  # an extra (.[mutation]), imported only here

    os.chdir(ROOT)  # mutmut reads pyproject.toml and writes mutants/ where it runs
    mutmut.set_mutant_under_test("mutant_generation")
    mutmut.makedirs(MUTANTS, exist_ok=True)
    mutmut.copy_src_dir()
    mutmut.copy_also_copy_files()
    mutmut.setup_source_paths()
    mutmut.store_lines_covered_by_tests()
    mutmut.create_mutants(2)


def outcomes() -> dict[str, int | None]:
    """Every mutant's name and mutmut's exit code for it (None: not tested yet)."""
    found: dict[str, int | None] = {}
    for meta in MUTANTS.glob("app/**/*.meta"):
        found.update(json.loads(meta.read_text())["exit_code_by_key"])
    return found


def verdict(exit_code: int | None) -> str | None:
    from mutmut.stats import status_by_exit_code

    status = status_by_exit_code[exit_code]
    return {"killed": KILLED, "timeout": TIMEOUT, "survived": SURVIVED, "no tests": NO_TESTS}.get(status)


def wilson(killed: int, tested: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % interval of a proportion measured on a sample (Wilson's, right near 0 and 1 too)."""
    if not tested:
        return 0.0, 1.0
    p = killed / tested
    centre = (p + z * z / (2 * tested)) / (1 + z * z / tested)
    half = z * math.sqrt(p * (1 - p) / tested + z * z / (4 * tested * tested)) / (1 + z * z / tested)
    return max(0.0, centre - half), min(1.0, centre + half)


def score(counts: Counter) -> str:
    """mutmut's score: the share of the tested mutants that the tests caught (failed or hung on)."""
    tested = counts[KILLED] + counts[TIMEOUT] + counts[SURVIVED]
    return f"{100 * (counts[KILLED] + counts[TIMEOUT]) / tested:.1f} %" if tested else "–"


def module_of(name: str) -> str:
    return name.split(".x_")[0].split(".xǁ")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", default=["app.*"])
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--children", type=int, default=1, help="mutants testés en même temps")
    args = parser.parse_args()

    print("Génération des mutants…", flush=True)
    generate()
    found = outcomes()
    names = sorted(n for n in found if any(fnmatch.fnmatchcase(n, p) for p in args.patterns))
    if not names:
        sys.exit(f"Aucun mutant ne correspond à {' '.join(args.patterns)} (noms : app.search.query.x_parse__mutmut_1).")
    sample = sorted(random.Random(args.seed).sample(names, min(args.sample, len(names))))
    print(f"{len(sample)} mutants tirés (graine {args.seed}) sur {len(names)} : {' '.join(args.patterns)}", flush=True)
    pending = [name for name in sample if found.get(name) is None]  # a run stopped before resumes
    print(f"{len(sample) - len(pending)} déjà testés (mutants/), {len(pending)} à tester.", flush=True)
    if pending:
        run = subprocess.run([MUTMUT, "run", "--max-children", str(args.children), *pending], cwd=ROOT)
        if run.returncode:
            print(f"mutmut a fini avec le code {run.returncode} : les mutants non testés sont comptés à part.")

    found = outcomes()
    by_module: dict[str, Counter] = defaultdict(Counter)
    for name in sample:
        by_module[module_of(name)][verdict(found.get(name)) or "non testé"] += 1
    columns = (KILLED, TIMEOUT, SURVIVED, NO_TESTS)
    print(f"\n| module | {' | '.join(columns)} | score |\n|---|---|---|---|---|---|")
    total: Counter = Counter()
    for module, counts in sorted(by_module.items()):
        total += counts
        print(f"| {module} | {' | '.join(str(counts[c]) for c in columns)} | {score(counts)} |")
    print(f"| **échantillon** | {' | '.join(str(total[c]) for c in columns)} | {score(total)} |")
    tested = total[KILLED] + total[TIMEOUT] + total[SURVIVED]
    low, high = wilson(total[KILLED] + total[TIMEOUT], tested)
    print(f"\nScore (mutmut : tués et délais dépassés sur testés) : {score(total)}, 95 % : {low:.0%}–{high:.0%}.")
    if total[TIMEOUT]:
        low, high = wilson(total[KILLED], tested)
        strict = total[KILLED] / tested
        print(f"Sans compter les délais dépassés : {strict:.1%} (95 % : {low:.0%}–{high:.0%}).")
    if total["non testé"]:
        print(f"{total['non testé']} mutants du tirage n'ont pas été testés (arrêt ?) : relancer reprend.")
    survivors = [name for name in sample if verdict(found.get(name)) == SURVIVED]
    print("\nSurvivants (`mutmut show NOM`) :", *survivors, sep="\n  ")


if __name__ == "__main__":
    main()
