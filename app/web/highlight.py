"""Which words of a caption line a search matched, as plain (text, marked) parts the template wraps in <mark>.

The search's own snippets come from app.search already marked up; this is for whole transcript lines,
and it never builds HTML itself, so autoescaping stays in charge.
"""

from dataclasses import dataclass, field

from app.search.analysis import STOP_WORDS, WORD, fold, number_forms, singular, stem, word_spans
from app.search.query import Fuzzy, Phrase, Prefix, QueryError, Word, leaves, parse


@dataclass
class Terms:
    stems: set[str] = field(default_factory=set)
    exact: set[str] = field(default_factory=set)
    prefixes: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.stems or self.exact or self.prefixes or self.phrases)


def terms_of(q: str | None) -> Terms:
    """The words a query looks for, negated ones left out; a query that cannot parse marks nothing."""
    terms = Terms()
    if not q or not q.strip():
        return terms
    try:
        tree = parse(q)
    except QueryError:
        return terms
    if tree is None:
        return terms
    for leaf, negated in leaves(tree):
        if negated:
            continue
        if isinstance(leaf, Word):
            if leaf.text not in STOP_WORDS:
                terms.stems.add(stem(leaf.text))
        elif isinstance(leaf, Phrase):
            if len(leaf.words) == 1:
                terms.exact.update(number_forms(leaf.words[0]))  # singular and plural meet, quoted too
            else:
                terms.phrases.append([singular(w) for w in leaf.words])
        elif isinstance(leaf, Prefix):
            terms.prefixes.append(leaf.text)
        elif isinstance(leaf, Fuzzy):
            terms.exact.add(leaf.text)
    return terms


def searched_words(words: set[str], terms: Terms) -> set[str]:
    """Those of these words (as written) that parts() may mark; a phrase needs its first word.

    Run on every distinct word of an episode (1,400 in an hour): a kind of term the query has not
    costs nothing, and the prefixes are one startswith()."""
    firsts = {phrase[0] for phrase in terms.phrases}
    exact, stems, prefixes = terms.exact, terms.stems, tuple(terms.prefixes)
    found = set()
    for word in words:
        w = fold(word)
        if (
            w in exact
            or (stems and w not in STOP_WORDS and stem(w) in stems)
            or (prefixes and w.startswith(prefixes))
            or (firsts and singular(w) in firsts)
        ):
            found.add(word)
    return found


def marked_parts(texts: list[str], terms: Terms) -> list[list[tuple[str, bool]] | None]:
    """parts() of each line that holds a searched word; None for the others, most lines of an
    episode. Each distinct word of the episode is folded and stemmed once, not at each line that
    says it, and a line without a searched word is never cut."""
    if not terms:
        return [None] * len(texts)
    findall = WORD.findall
    words = [findall(text) for text in texts]
    searched = searched_words(set().union(*words), terms)
    if not searched:
        return [None] * len(texts)
    return [
        None if searched.isdisjoint(found) else parts(text, terms) for text, found in zip(texts, words, strict=True)
    ]


def parts(text: str, terms: Terms) -> list[tuple[str, bool]]:
    """The line cut into pieces, each flagged when it is a searched word (or part of a searched phrase)."""
    if not terms:
        return [(text, False)]
    spans = word_spans(text)
    folded = [w for w, _, _ in spans]
    exact, stems, prefixes = terms.exact, terms.stems, tuple(terms.prefixes)
    marked = set()
    for i, w in enumerate(folded):
        if w in exact or (stems and w not in STOP_WORDS and stem(w) in stems) or (prefixes and w.startswith(prefixes)):
            marked.add(i)
    if terms.phrases:
        numberless = [singular(w) for w in folded]  # phrases are held as singulars (terms_of)
        for phrase in terms.phrases:
            n = len(phrase)
            for i in range(len(folded) - n + 1):
                if numberless[i : i + n] == phrase:
                    marked.update(range(i, i + n))
    if not marked:
        return [(text, False)]
    pieces, cursor = [], 0
    for i in sorted(marked):
        _, start, end = spans[i]
        if start > cursor:
            pieces.append((text[cursor:start], False))
        pieces.append((text[start:end], True))
        cursor = end
    if cursor < len(text):
        pieces.append((text[cursor:], False))
    return pieces
