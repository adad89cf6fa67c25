"""A quoted phrase as bi-words (shingles) of the SHINGLES field, in Whoosh's public query API."""

import itertools
from collections.abc import Callable

from whoosh import query as wq

from app.search.analysis import STOP_WORDS, TAIL_MARK, number_forms, shingle
from app.search.passages import EXACT, SHINGLES


class ShinglePhrase(wq.Or):
    """A phrase of three words or more as bi-words at consecutive positions, the first one in the
    passage's own lines (so the overlap never yields a quote twice), the next ones in its own lines
    or its tail. As a plain Whoosh query it is the Or of every own/tail split of the bi-words."""

    def __init__(self, pairs: list[str]):
        self.pairs = list(pairs)
        self.weights: dict = {}  # segment id -> bi-word -> {docnum: weight} of the matches, once matched
        options = [
            wq.Phrase(SHINGLES, pairs[:k] + [TAIL_MARK + p for p in pairs[k:]]) for k in range(len(pairs), 0, -1)
        ]
        super().__init__(options)

    def normalize(self):
        return self

    def forms(self, i: int) -> list[str]:
        """The index terms that may stand for the i-th bi-word."""
        return [self.pairs[i]] if i == 0 else [self.pairs[i], TAIL_MARK + self.pairs[i]]


def phrase_query(ws: list[str]) -> wq.Query:
    """A phrase as bi-words: it must start in a passage's own lines and may end in its tail.

    Its words meet in the singular or the plural (bi-words are made of singular() forms), in that
    order, every one of them; a quoted single word finds its other number too."""
    if len(ws) == 1:
        forms = number_forms(ws[0])
        return wq.Term(EXACT, forms[0]) if len(forms) == 1 else wq.Or([wq.Term(EXACT, f) for f in forms])
    pairs = [shingle(a, b) for a, b in itertools.pairwise(ws)]
    if len(pairs) == 1:
        return wq.Term(SHINGLES, pairs[0])
    return ShinglePhrase(pairs)


def glued_phrases(ws: list[str], frequency: Callable[[str], int]) -> list[list[str]]:
    """The phrase again with two neighbouring words written as one, for each pair whose glued form
    (in either number) the index holds: "e mail" → "email", "data center" → "datacenter".

    Never with a stop word, as analysis.compounds() never glues one: "en fin" is not "enfin",
    "la porte" not "Laporte". frequency(folded word): in how many passages the index holds it
    (Vocabulary.frequency)."""
    found = []
    for i in range(len(ws) - 1):
        if ws[i] in STOP_WORDS or ws[i + 1] in STOP_WORDS:
            continue
        glued = ws[i] + ws[i + 1]
        if any(frequency(f) for f in number_forms(glued)):
            found.append([*ws[:i], glued, *ws[i + 2 :]])
    return found
