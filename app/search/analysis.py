"""French analysis shared by indexing, querying and highlighting: fold, split, stem, shingle."""

import re
import unicodedata
from functools import lru_cache

from whoosh.lang import stemmer_for_language, stopwords_for_language

# The version of what this module makes of a text (terms, stems, bi-words): an index built by an
# older version is rebuilt. 2: plurals normalised before stemming and in bi-words; glued compounds.
ANALYSIS_VERSION = 2

# \w on the original (NFC) text keeps accented letters inside words and splits on the
# apostrophes of elisions (l', d', qu' with ' or ’), hyphens and punctuation.
WORD = re.compile(r"\w+")
# words joined by hyphens ("e-mail", "start-ups", "a-t-il"), on the NFC text
HYPHENATED = re.compile(r"\w+(?:-\w+)+")

ELISIONS = frozenset({"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"})

_stem = stemmer_for_language("fr")


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Lower case and strip accents (œ→oe, æ→ae): 'Données' and 'donnees' meet before stemming."""
    word = word.casefold()
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word.replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# "pas" carries the meaning of a sentence ("pas souverain"): searchable, although Whoosh lists it.
STOP_WORDS = (
    frozenset(fold(w) for w in stopwords_for_language("fr"))
    | ELISIONS
    | frozenset(
        {
            "a",
            "y",
            "ca",
            "est",
            "ont",
            "etre",
            "fait",
            "plus",
            "tres",
            "ils",
            "elles",
            "les",
            "cette",
            "cet",
            "si",
            "donc",
            "alors",
            "aussi",
            "tout",
            "tous",
            "bien",
            "comme",
        }
    )
) - frozenset({"pas"})


# Words whose final s or x is no plural mark and would otherwise meet another word:
# fois/foi, mois/moi, Paris/pari, souris/souri, peux/peu.
INVARIABLE = frozenset({"fois", "mois", "paris", "souris", "peux"})


@lru_cache(maxsize=200_000)
def singular(folded: str) -> str:
    """The folded word without its plural mark, French or borrowed: "hyperscalers" → "hyperscaler",
    "journaux" → "journal", "réseaux" → "reseau", "enjeux" → "enjeu", "vidéos" → "video".

    Quoted phrases compare these, and stem() starts from them. Stop words ("les", "des") and words
    of three letters or less ("pas", "bus", "cas") are kept as they are, and so are words ending
    in "ss" (business, process): a phrase stays exact but for the number of its words."""
    if len(folded) < 4 or folded in STOP_WORDS or folded in INVARIABLE:
        return folded
    if folded == "travaux":
        return "travail"
    if folded.endswith("aux") and not folded.endswith("eaux") and len(folded) >= 5:
        return folded[:-3] + "al"  # journaux, réseaux sociaux, canaux
    if folded.endswith(("aux", "eux", "oux")):
        return folded[:-1]  # eaux, jeux, bijoux
    if folded.endswith("s") and not folded.endswith("ss"):
        return folded[:-1]
    return folded


def number_forms(folded: str) -> list[str]:
    """The words singular() takes to the same form as this one: what a quoted single word
    matches ("hyperscaler" → hyperscaler, hyperscalers; "journal" → journal, journals, journaux)."""
    one = singular(folded)
    candidates = [folded, one, one + "s", one + "x"]
    if one.endswith("al"):
        candidates.append(one[:-2] + "aux")
    if one == "travail":
        candidates.append("travaux")
    return sorted({c for c in candidates if singular(c) == one})


@lru_cache(maxsize=200_000)
def stem(folded: str) -> str:
    """Snowball's French stem of the singular: Snowball alone stems a singular and its plural
    apart when the singular ends as a verb would ("hyperscaler" → hyperscal, "hyperscalers" →
    hyperscaler; "petit" → pet, "petits" → petit), or keeps the s after a vowel ("vidéos", "lois").
    bench/stemming.py measures both on the seeds.

    A word in -eux goes to Snowball whole, which takes "heureuses" and "nombreux" to the same stem
    (it writes -euse as -eux); the x of that stem is then dropped, so "enjeux" meets "enjeu"."""
    if folded.endswith("eux"):
        found = _stem(folded)
        return found[:-1] if found.endswith("eux") and folded not in INVARIABLE else found
    found = _stem(singular(folded))
    return found[:-1] if found.endswith("eux") else found


def words(text: str) -> list[str]:
    """The folded, unstemmed words of a text, in order: what phrases and prefixes match."""
    # Composed first: a decomposed "é" (e + accent) would otherwise split the word at the accent.
    return [fold(m) for m in WORD.findall(unicodedata.normalize("NFC", text))]


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """(folded word, start, end) in the original text: where the highlighter puts <mark>."""
    return [(fold(m.group()), m.start(), m.end()) for m in WORD.finditer(text)]


def body_terms(folded_words: list[str]) -> list[str]:
    """Stemmed words without stop words: what plain (unquoted) words match."""
    return [stem(w) for w in folded_words if w not in STOP_WORDS]


def compounds(text: str) -> list[str]:
    """The folded glued forms of a text's hyphenated words, in order: "e-mail" → "email",
    "start-ups" → "startups", so that "email" finds "e-mail". A word made with a stop word
    ("peut-être", "dit-il", "a-t-il", "au-delà", "celui-ci"), or of numbers only ("2020-2025"),
    gives none: its glued form is no word anyone types, and would only crowd the suggestions."""
    found: list[str] = []
    if "-" not in text:
        return found  # most caption lines: no regular expression run for them
    for m in HYPHENATED.finditer(unicodedata.normalize("NFC", text)):
        parts = [fold(p) for p in m.group().split("-")]
        if not any(p in STOP_WORDS or p == "ci" for p in parts) and not all(p.isdigit() for p in parts):
            found.append("".join(parts))
    return found


def shingle(first: str, second: str) -> str:
    """A bi-word of the SHINGLES field: two folded words, each without its plural mark, so that a
    quoted phrase meets its words in the singular or the plural ("les hyperscalers américains")."""
    return f"{singular(first)} {singular(second)}"


TAIL_MARK = "|"  # prefixes the shingles that belong to the next passage's core
