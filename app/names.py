"""How names are compared and turned into URLs: case and accent folding, fuzzy matching, slugs."""
import re
import unicodedata

from rapidfuzz import fuzz

# Two spellings of a person's name are the same person when their folded forms (case, accents,
# hyphens and spaces ignored) score at least this on rapidfuzz's normalised Indel ratio (0-100).
# 90 accepts one dropped or changed letter in a 10+ letter name ("Imène Kabouya" / "Imen Kabouya"
# score 95.7) and refuses different people who share a first name ("Julien Pillot" / "Julien
# Marin" score 61).
SAME_PERSON_THRESHOLD = 90.0


def fold(text: str) -> str:
    """Lower case, accents removed, anything but letters and digits turned into single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", " ", stripped.lower()).strip()


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
