"""How names are compared and turned into URLs: case and accent folding, fuzzy matching, slugs."""
from rapidfuzz import fuzz

from app.search.analysis import words

# Two spellings of a person's name are the same person when their folded forms (case, accents,
# hyphens and spaces ignored) score at least this on rapidfuzz's normalised Indel ratio (0-100).
# 90 accepts one dropped or changed letter in a 10+ letter name ("Imène Kabouya" / "Imen Kabouya"
# score 95.7) and refuses different people who share a first name ("Julien Pillot" / "Julien
# Marin" score 61).
SAME_PERSON_THRESHOLD = 90.0


def fold(text: str) -> str:
    """Lower case, accents removed, words separated by single spaces: the search's own folding."""
    return " ".join(words(text))


def name_key(name: str) -> str:
    """The folded name with its spaces removed, so "Van Agt" and "VanAgt" compare equal."""
    return fold(name).replace(" ", "")


def name_similarity(a: str, b: str) -> float:
    return fuzz.ratio(name_key(a), name_key(b))


def same_person(a: str, b: str) -> bool:
    return name_similarity(a, b) >= SAME_PERSON_THRESHOLD


def slugify(text: str, max_words: int = 8) -> str:
    words = fold(text).split()[:max_words]
    return "-".join(words) or "sans-titre"
