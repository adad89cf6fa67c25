"""How names are compared and turned into URLs: folding, the same-person threshold, slugs."""

from app.search.analysis import words

# Two spellings of a person's name are the same person when their keys (folded: case and accents
# ignored; spaces and hyphens dropped) score at least this on rapidfuzz's normalised Indel ratio
# (fuzz.ratio, 0-100). 90 accepts one dropped or changed letter in a 10+ letter name ("Imène
# Kabouya" / "Imen Kabouya" score 95.7) and refuses different people who share a first name
# ("Julien Pillot" / "Julien Marin" score 61). It cannot tell "Louis Dupont" from "Louise Dupont"
# (95.7): two such names in one panel stay two people, elsewhere an editor splits nothing but can
# merge, so the rule errs on the side of one page per person.
SAME_PERSON_THRESHOLD = 90.0


def fold(text: str) -> str:
    """Lower case, accents removed, words separated by single spaces: the search's own folding."""
    return " ".join(words(text))


def name_key(folded: str) -> str:
    """A folded name without its spaces, so "Van Agt" and "VanAgt" compare equal."""
    return folded.replace(" ", "")


def slugify(text: str, max_words: int = 8) -> str:
    return "-".join(fold(text).split()[:max_words]) or "sans-titre"
