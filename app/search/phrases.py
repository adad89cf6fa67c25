"""A quoted phrase as bi-words (shingles) of the SHINGLES field, in Whoosh's public query API."""

import itertools

from whoosh import query as wq

from app.search.analysis import TAIL_MARK, shingle
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
    """A phrase as bi-words: it must start in a passage's own lines and may end in its tail."""
    if len(ws) == 1:
        return wq.Term(EXACT, ws[0])
    pairs = [shingle(a, b) for a, b in itertools.pairwise(ws)]
    if len(pairs) == 1:
        return wq.Term(SHINGLES, pairs[0])
    return ShinglePhrase(pairs)
