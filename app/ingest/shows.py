"""Which known show an episode's first minutes name, however the captions spell it ("Smartech")."""

from collections.abc import Iterable

from rapidfuzz import fuzz, process

from app.names import fold, name_key

# The shows this archive is made for: known before any episode of theirs is in it, so the first
# one whose description forgets its show still finds it in its captions.
KNOWN_SHOWS = ("SMART TECH", "Tech & Co, la quotidienne")

# Names are compared as folded letters without spaces or hyphens ("Smart Tech", "smart-tech" and
# "SMART TECH" are all "smarttech"), then on rapidfuzz's normalised Indel ratio (fuzz.ratio,
# 0-100), since machine-made captions drift: "Smartech" scores 94.1, one letter dropped from nine;
# "l'ActuTech" scores 70.6 and is not SMART TECH.
SAME_SHOW_THRESHOLD = 90.0
# A short name is easily said by chance, and one changed letter is a large part of it: below
# FUZZY_FROM letters only the exact letters count, and below SHORTEST a name is not listened for
# ("Tech" would be found in every episode).
FUZZY_FROM = 8
SHORTEST = 5


def show_named_in(introduction: str, shows: Iterable[tuple[str, str]]) -> str | None:
    """The show whose name the introduction (folded words of the first minutes) says first.

    `shows` are (name, spelling) pairs: a show may be listened for under several spellings (its
    name, its slug), and the name is what is returned. When two shows are said, the first said
    wins: a show introduces itself before it mentions another.
    """
    words = introduction.split()
    spellings = []
    for name, spelling in shows:
        folded = fold(spelling)
        if len(name_key(folded)) >= SHORTEST:
            spellings.append((name, name_key(folded), len(folded.split())))
    if not words or not spellings:
        return None
    # Every run of consecutive words, glued: "smart tech" and "smartech" are both candidates. One
    # word more than the longest name is enough: a longer run cannot score the threshold.
    windows: list[str] = []
    starts: list[int] = []
    for size in range(1, max(n for _, _, n in spellings) + 2):
        for start in range(len(words) - size + 1):
            windows.append("".join(words[start : start + size]))
            starts.append(start)
    best: tuple[int, float, str] | None = None  # (where it is said, minus its score, the show)
    for name, key, _ in spellings:
        cutoff = SAME_SHOW_THRESHOLD if len(key) >= FUZZY_FROM else 100.0
        for _, score, index in process.extract(key, windows, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None):
            found = (starts[index], -score, name)
            if best is None or found < best:
                best = found
    return best[2] if best else None
