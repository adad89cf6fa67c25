"""Measure the French stemmers on the seeds' words: which singular/plural pairs meet, which words merge.

    .venv/bin/python -m bench.stemming [--list]

The vocabulary is the folded words of the seed transcripts' caption lines (read with the app's
parsers), stop words left out as the index leaves them out. Three stemmers are compared:
- snowball: Snowball's French stemmer alone (whoosh.lang), what the index used before version 2;
- light: a port of Lucene's FrenchLightStemmer (Savoy's "UniNE" plural and feminine stemmer),
  on folded words;
- kept: app.search.analysis.stem, Snowball on the singular (analysis.singular).

Figures printed, nothing asserted:
- recall of conflation: the pairs of seed words that differ by a plural mark (-s, -x, -al/-aux) or
  a feminine one (-e, -es, -eur/-euse, -teur/-trice, -if/-ive, -en/-enne, -el/-elle, -eux/-euse...),
  and how many of them each stemmer takes to one stem; some pairs are no such pair ("e"/"ex"), the
  misses are listed so that a reader can judge;
- the borrowed words of issue 9, seen in the seeds or not, and whether their two numbers meet;
- over-stemming: how many distinct stems, how many pairs of words share a stem, the largest
  classes; and, against Snowball, the pairs of words a stemmer merges that Snowball kept apart
  ("added", to read for wrong merges) and those Snowball merged that it keeps apart ("lost");
- the same for quoted phrases, whose bi-words compare singular() forms: the pairs it merges.
"""

import argparse
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from itertools import combinations
from pathlib import Path

from whoosh.lang import stemmer_for_language

from app.ingest.formats import parse_transcript
from app.search.analysis import STOP_WORDS, compounds, singular, stem, words

ROOT = Path(__file__).resolve().parent.parent
BORROWED = [
    ("hyperscaler", "hyperscalers"),
    ("deepfake", "deepfakes"),
    ("token", "tokens"),
    ("cloud", "clouds"),
    ("center", "centers"),
    ("startup", "startups"),
    ("prompt", "prompts"),
    ("podcast", "podcasts"),
    ("chatbot", "chatbots"),
    ("leader", "leaders"),
    ("manager", "managers"),
    ("player", "players"),
    ("hacker", "hackers"),
    ("newsletter", "newsletters"),
    ("influenceur", "influenceurs"),
    ("cookie", "cookies"),
]
FEMININE_ENDINGS = [
    ("eur", "euse"),
    ("teur", "trice"),
    ("if", "ive"),
    ("en", "enne"),
    ("on", "onne"),
    ("el", "elle"),
    ("et", "ette"),
    ("eux", "euse"),
    ("er", "ere"),
    ("c", "que"),
]

_snowball = stemmer_for_language("fr")
_RUNS = re.compile(r"([^\W\d_])\1+")


def snowball(folded: str) -> str:
    return _snowball(folded)


def _norm(s: str) -> str:
    if len(s) > 4:
        s = _RUNS.sub(r"\1", s)  # doubled letters once: "appelle" → "apele"
    if len(s) > 4 and s.endswith("ie"):
        s = s[:-2]
    if len(s) > 4:
        if s[-1] == "r":
            s = s[:-1]
        for _ in range(2):
            if s[-1] == "e":
                s = s[:-1]
        if len(s) > 1 and s[-1] == s[-2] and s[-1].isalpha():
            s = s[:-1]
    return s


def light(s: str) -> str:
    """Lucene's FrenchLightStemmer (Savoy), on a folded word: its accented endings written plain."""
    if len(s) > 5 and s[-1] == "x":
        if s[-3:-1] == "au" and s[-4] != "e":
            s = s[:-2] + "l" + s[-1]  # journaux → journal
        s = s[:-1]
    if len(s) > 3 and s[-1] == "x":
        s = s[:-1]
    if len(s) > 3 and s[-1] == "s":
        s = s[:-1]
    n = len(s)
    for size, ending, cut, replace in (
        (9, "issement", 7, "r"),
        (8, "issant", 5, "r"),
    ):
        if n > size and s.endswith(ending):
            return _norm(s[:-cut] + replace)
    if n > 6 and s.endswith("ement"):
        s = s[:-4]
        if len(s) > 3 and s.endswith("ive"):
            s = s[:-2] + "f"
        return _norm(s)
    for size, ending, replacement in (
        (11, "ficatrice", "fier"),
        (10, "ficateur", "fier"),
        (9, "catrice", "quer"),
        (8, "cateur", "quer"),
        (8, "atrice", "er"),
        (7, "ateur", "er"),
    ):
        if n > size and s.endswith(ending):
            return _norm(s[: -len(ending)] + replacement)
    if n > 6 and s.endswith("trice"):
        s = s[:-5] + "teur"
    n = len(s)
    if n > 5 and s.endswith("ieme"):
        return _norm(s[:-4])
    if n > 7 and s.endswith("teuse"):
        return _norm(s[:-5] + "ter")
    if n > 6 and s.endswith("teur"):
        return _norm(s[:-4] + "ter")
    if n > 5 and s.endswith("euse"):
        return _norm(s[:-2])
    if n > 8 and s.endswith("ere"):
        return _norm(s[:-1])
    if n > 7 and s.endswith("ive"):
        return _norm(s[:-2] + "f")
    if n > 4 and s.endswith(("folle", "molle")):
        return _norm(s[:-3] + "u")
    if n > 9 and s.endswith("nnelle"):
        return _norm(s[:-5])
    if n > 9 and s.endswith("nnel"):
        return _norm(s[:-3])
    if n > 4 and s.endswith("ete"):
        s = s[:-1]
    if len(s) > 8 and s.endswith("ique"):
        s = s[:-4]
    n = len(s)
    if n > 8 and s.endswith("esse"):
        return _norm(s[:-3])
    if n > 7 and s.endswith("inage"):
        return _norm(s[:-3])
    if n > 9 and s.endswith("isation"):
        s = s[:-7]
        if len(s) > 5 and s.endswith("ual"):
            s = s[:-2] + "el"
        return _norm(s)
    if n > 9 and s.endswith("isateur"):
        return _norm(s[:-7])
    if n > 8 and s.endswith(("ation", "ition")):
        return _norm(s[:-5])
    return _norm(s)


STEMMERS: dict[str, Callable[[str], str]] = {"snowball": snowball, "light": light, "kept": stem}


def seed_words() -> tuple[Counter, list[str]]:
    """The seeds' words (stop words left out) with their counts, and their glued compounds."""
    vocabulary: Counter = Counter()
    glued: list[str] = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        for caption in parse_transcript(path.name, path.read_bytes()).captions:
            vocabulary.update(w for w in words(caption.text) if w not in STOP_WORDS)
            glued.extend(compounds(caption.text))
    return vocabulary, glued


def plural_pairs(vocabulary: set[str]) -> Iterator[tuple[str, str]]:
    for w in vocabulary:
        if w.endswith(("s", "x", "z")):
            continue
        forms = [w + "s", w + "x"]
        if w.endswith("al"):
            forms.append(w[:-2] + "aux")
        if w.endswith("ail"):
            forms.append(w[:-3] + "aux")
        yield from ((w, p) for p in forms if p in vocabulary)


def feminine_pairs(vocabulary: set[str]) -> Iterator[tuple[str, str]]:
    for w in vocabulary:
        if w.endswith(("e", "s", "x")) and not w.endswith("eux"):
            continue
        forms = [w + "e"] + [w[: -len(m)] + f for m, f in FEMININE_ENDINGS if w.endswith(m)]
        yield from ((w, g) for f in forms for g in (f, f + "s") if g in vocabulary and g != w)


def classes(f: Callable[[str], str], vocabulary: set[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for w in vocabulary:
        found[f(w)].add(w)
    return found


def merged(found: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {pair for c in found.values() for pair in combinations(sorted(c), 2)}


def shown(pairs, limit: int | None) -> str:
    pairs = sorted(pairs)
    text = ", ".join("/".join(p) for p in pairs[:limit])
    return text + (f", … ({len(pairs) - limit} more)" if limit is not None and len(pairs) > limit else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list every miss and merge, not the first ones")
    args = parser.parse_args()
    limit = None if args.list else 25
    counts, glued = seed_words()
    vocabulary = set(counts)
    plurals = sorted(set(plural_pairs(vocabulary)))
    feminines = sorted(set(feminine_pairs(vocabulary)))
    print(f"seed vocabulary: {len(vocabulary)} distinct words, {sum(counts.values())} occurrences (stop words out)")
    print(f"pairs in the seeds: {len(plurals)} singular/plural, {len(feminines)} masculine/feminine\n")

    print(f"{'stemmer':10} {'plural':>9} {'feminine':>9} {'borrowed':>9} {'stems':>6} {'merged':>7} {'largest':>7}")
    found = {name: classes(f, vocabulary) for name, f in STEMMERS.items()}
    for name, f in STEMMERS.items():
        plural_met = sum(f(a) == f(b) for a, b in plurals)
        feminine_met = sum(f(a) == f(b) for a, b in feminines)
        borrowed_met = sum(f(a) == f(b) for a, b in BORROWED)
        sizes = [len(c) for c in found[name].values()]
        print(
            f"{name:10} {plural_met:>4}/{len(plurals):<4} {feminine_met:>4}/{len(feminines):<4}"
            f" {borrowed_met:>4}/{len(BORROWED):<4} {len(found[name]):>6} {len(merged(found[name])):>7} {max(sizes):>7}"
        )
    print("\n(merged: pairs of distinct seed words that share a stem; largest: the largest class)\n")

    for name, f in STEMMERS.items():
        print(f"== {name}")
        print("  plural misses:", shown([(a, b) for a, b in plurals if f(a) != f(b)], limit))
        print("  feminine misses:", shown([(a, b) for a, b in feminines if f(a) != f(b)], limit))
        print("  borrowed misses:", shown([(a, b) for a, b in BORROWED if f(a) != f(b)], limit) or "none")
        largest = sorted(found[name].items(), key=lambda kv: (-len(kv[1]), kv[0]))[:5]
        print("  largest classes:", "; ".join(f"{k}: {' '.join(sorted(c))}" for k, c in largest))
        if name != "snowball":
            mine, before = merged(found[name]), merged(found["snowball"])
            print(f"  added merges ({len(mine - before)}):", shown(mine - before, limit))
            print(f"  lost merges ({len(before - mine)}):", shown(before - mine, limit))
        print()

    print("== quoted phrases: bi-words of singular() forms")
    met = sum(singular(a) == singular(b) for a, b in plurals)
    print(f"  plural pairs met: {met}/{len(plurals)} (before: 0, bi-words of the words as written)")
    print("  plural misses:", shown([(a, b) for a, b in plurals if singular(a) != singular(b)], limit))
    by_form = classes(singular, vocabulary)
    plural_set = set(plurals)
    others = [p for p in merged(by_form) if p not in plural_set]
    print(f"  other merges ({len(others)}):", shown(others, limit) or "none")
    print()

    print("== hyphenated words")
    glued_counts = Counter(glued)
    also = sorted(g for g in glued_counts if g in vocabulary)
    hyphenated, distinct = sum(glued_counts.values()), len(glued_counts)
    print(f"  {hyphenated} hyphenated words ({distinct} distinct glued forms) indexed glued too")
    print("  glued forms also written glued in the seeds:", ", ".join(also) or "none")


if __name__ == "__main__":
    main()
