"""French analysis shared by indexing, querying and highlighting: fold, split, stem, shingle."""

import re
import unicodedata
from functools import lru_cache

from whoosh.lang import stemmer_for_language, stopwords_for_language

# \w on the original (NFC) text keeps accented letters inside words and splits on the
# apostrophes of elisions (l', d', qu' with ' or ’), hyphens and punctuation.
WORD = re.compile(r"\w+")

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


@lru_cache(maxsize=200_000)
def stem(folded: str) -> str:
    return _stem(folded)


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


def shingle(first: str, second: str) -> str:
    return f"{first} {second}"


TAIL_MARK = "|"  # prefixes the shingles that belong to the next passage's core
