"""PostgreSQL's side of the search contract: passages as rows with a tsvector, Plateau's compiled
queries as tsquery (app/search/postgres.py stores and reads them).

- `words` holds, at each word's position, its stem (what plain words match), its folded form after
  "=" (prefixes, typos, a quoted word), and the pair it starts with the next word, both in the
  singular, after ">" (phrases, compared in the singular as the bi-words of the Whoosh index are).
  Weight A marks the passage's own lines; the next lines, which a phrase or a window of words may
  run into, carry the default weight D. A plain word then is 'stem':A, a phrase
  of three words '>a b':A <-> '>b c' (it starts in the own lines, may end in the next), an
  exclusion !(…).
- Plain words together (windows.WordsNear) must stand within WINDOW_LINES consecutive lines: the
  tsquery finds the passages holding them all, and the stems of each line (`lines`, what Whoosh's
  LINES column holds) decide, in Python, as matching.py does (Plan).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

from whoosh import query as wq

from app.search.analysis import STOP_WORDS, compounds, singular, stem, words
from app.search.passages import (
    BODY,
    CORE_LINES,
    EXACT,
    LAYOUT,
    OWN_MARK,
    SHINGLES,
    TAIL_WORDS,
    _own_mark,
    cut_passages,
)
from app.search.phrases import ShinglePhrase
from app.search.windows import WordsNear, line_masks, smallest_window_of_masks

# What the rows' words hold (episode stamps start with it): a change re-indexes every episode.
WORDS_LAYOUT = f"pg2.{LAYOUT}"
PAIR = ">"  # before two neighbouring words' singulars, a space between them
NOTHING = "'#'"  # a lexeme no passage holds: the tsquery of a query that finds nothing
EXTRA_GAP = 2  # words with no place in a phrase (glued forms, a corrected line's old words) sit this far apart


# --- passages as rows ----------------------------------------------------------------------------


def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(entries: dict[str, list[tuple[int, bool]]]) -> str:
    """A tsvector written out: each lexeme with its positions, A where a position is in the own lines."""
    parts = []
    for lexeme in sorted(entries):
        positions = sorted(set(entries[lexeme]))[:256]
        parts.append(_lexeme(lexeme) + ":" + ",".join(f"{p}{'A' if own else ''}" for p, own in positions))
    return " ".join(parts)


def _adder(entries: dict[str, list[tuple[int, bool]]]) -> Callable[[str, int, bool], None]:
    def add(term: str, position: int, own: bool) -> None:
        entries.setdefault(term, []).append((position, own))

    return add


def _phrase_adder(add: Callable[[str, int, bool], None]) -> Callable[[str, int, bool], None]:
    """Adds the pair a word of a phrase ends with the word just before it, both in the singular, at
    that word's position, when they are neighbours: a phrase looks for its pairs."""
    last: list = [None, -1, False]  # the previous word, its position, whether it is in the own lines

    def add_word(word: str, position: int, own: bool) -> None:
        form = singular(word)
        if last[1] == position - 1:
            add(PAIR + last[0] + " " + form, last[1], last[2])
        last[:] = [form, position, own]

    return add_word


def _phrase_end(line_words: list[list[str]], hi: int) -> int:
    """The end of the lines a phrase starting before line `hi` may run into: TAIL_WORDS words on."""
    end, borrowed = hi, 0
    while end < len(line_words) and borrowed < TAIL_WORDS:
        borrowed += len(line_words[end])
        end += 1
    return end


def passage_rows(episode_id: int, lines) -> list[dict]:
    """The rows of search_passage for an episode's lines (index.episode_lines): the passages that
    cut_passages makes, each with its words at their positions."""
    passages = cut_passages(lines)
    index_of = {line[0]: i for i, line in enumerate(lines)}
    line_words = [words(line[2]) for line in lines]
    glued = [compounds(line[2]) for line in lines]
    # the machine's words of the lines an editor corrected: they still find the passage
    machine = [words(line[4]) if len(line) > 4 and line[4] is not None else None for line in lines]
    replaced = [
        [w for w in ws + compounds(line[4]) if w not in set(line_words[i] + glued[i])] if ws is not None else []
        for i, (ws, line) in enumerate(zip(machine, lines, strict=True))
    ]
    rows = []
    for p in passages:
        lo = index_of[p.first]
        hi = lo + len(p.starts)
        window_end = lo + len(p.window)
        phrase_end = _phrase_end(line_words, hi)
        entries: dict[str, list[tuple[int, bool]]] = {}
        add = _adder(entries)
        add_word = _phrase_adder(add)
        position = 1
        extras: list[tuple[list[str], bool, bool]] = []  # (words, own, stems only)
        for i in range(lo, max(window_end, phrase_end)):
            own = i < hi
            for w in line_words[i]:
                add_word(w, position, own)
                if own:
                    add("=" + w, position, True)
                if w not in STOP_WORDS and (own or i < window_end):
                    add(stem(w), position, own)
                position += 1
            if own or i < window_end:
                extras.append((glued[i] + replaced[i], own, not own))
        if any(ws is not None for ws in machine[lo:phrase_end]):
            # the passage as the machine wrote it, apart: a quote of either version finds it, and
            # never one that runs from one version into the other
            version = [ws if ws is not None else line_words[i] for i, ws in enumerate(machine)]
            position += EXTRA_GAP
            for i in range(lo, _phrase_end(version, hi)):
                for w in version[i]:
                    add_word(w, position, i < hi)
                    position += 1
        position += EXTRA_GAP
        for extra, own, stems_only in extras:
            for w in extra:
                if not stems_only:
                    add("=" + w, position, True)
                if w not in STOP_WORDS:
                    add(stem(w), position, own)
                position += EXTRA_GAP
        mark = _own_mark(p).decode("utf-8")
        rows.append(
            {
                "episode_id": episode_id,
                "number": p.number,
                "first_line": p.first,
                "last_line": lines[hi - 1][0],
                "start": p.starts[0],
                "starts": p.starts,
                "speaker_id": p.speaker,
                "text": "\n".join(line[2] for line in lines[lo:hi]),
                "lines": mark + "\n".join(" ".join(terms) for terms in p.window),
                "words": tsvector_literal(entries),
            }
        )
    return rows


# --- queries as tsquery --------------------------------------------------------------------------


def weighted(lexeme: str, own: bool) -> str:
    return _lexeme(lexeme) + (":A" if own else "")


def _phrase(forms: list[str]) -> str:
    """Folded words in a row, compared in the singular, as their pairs in a row; the first one in
    the own lines. A pair is rarer than either of its words ("de la" against "de" and "la"), so
    the words index finds the passages of a phrase of common words without reading them."""
    singulars = [singular(w) for w in forms]
    if len(singulars) == 1:  # no phrase of one word is made (a quoted word is EXACT's): its folded form
        return weighted("=" + forms[0], True)
    pairs = [PAIR + a + " " + b for a, b in pairwise(singulars)]
    return "(" + " <-> ".join(weighted(pair, i == 0) for i, pair in enumerate(pairs)) + ")"


def _is_null(q) -> bool:
    return q is wq.NullQuery or isinstance(q, type(wq.NullQuery))


def has_windows(q) -> bool:
    if isinstance(q, WordsNear):
        return True
    if isinstance(q, ShinglePhrase):
        return False
    if isinstance(q, (wq.And, wq.Or)):
        return any(has_windows(c) for c in q.subqueries)
    if isinstance(q, wq.AndNot):
        return has_windows(q.a) or has_windows(q.b)
    return False


def to_tsquery(q) -> str:
    """The tsquery of a compiled Whoosh query (query.compile_query): exact, but for plain words
    together, whose tsquery finds the passages that hold them all (windows decide, in Python), and
    the exclusion of such words, left to Python."""
    if _is_null(q):
        return NOTHING
    if isinstance(q, WordsNear):
        return "(" + " & ".join("(" + " | ".join(_lexeme(f) for f in forms) + ")" for forms in q.words) + ")"
    if isinstance(q, ShinglePhrase):
        return _phrase([q.pairs[0].split(" ")[0]] + [pair.split(" ")[1] for pair in q.pairs])
    if isinstance(q, wq.Term):
        if q.fieldname == BODY:
            return weighted(q.text, True)
        if q.fieldname == EXACT:
            return weighted("=" + q.text, True)
        if q.fieldname == SHINGLES:
            return _phrase(q.text.split(" "))
        raise ValueError(f"no tsquery for a term of {q.fieldname}")
    if isinstance(q, wq.AndNot):
        if has_windows(q.b):
            return to_tsquery(q.a)
        return f"({to_tsquery(q.a)} & !{to_tsquery(q.b)})"
    if isinstance(q, (wq.And, wq.Or)):
        parts = [to_tsquery(c) for c in q.subqueries]
        if not parts:
            return NOTHING
        return "(" + (" & " if isinstance(q, wq.And) else " | ").join(parts) + ")"
    raise ValueError(f"no tsquery for {q!r}")


@dataclass
class Plan:
    """What one search asks of the passages table: its tsquery, and where plain words together must
    be checked in Python, the tsquery of each part (atom) of the query, evaluated per candidate."""

    query: str
    atoms: list = field(default_factory=list)  # the queries evaluated by SQL, and windows by Python

    def matches(self, found: list[bool], lines: str) -> bool:
        """Whether a candidate matches, from whether it matched each atom's tsquery."""
        return self._eval(self.root, found, lines)

    root: object = None

    def _eval(self, q, found, lines) -> bool:
        if isinstance(q, (WordsNear, ShinglePhrase, wq.Term)) or _is_null(q):
            i = self.atoms.index(q)
            if not found[i]:
                return False
            return not isinstance(q, WordsNear) or window_holds(q, lines)
        if isinstance(q, wq.AndNot):
            return self._eval(q.a, found, lines) and not self._eval(q.b, found, lines)
        if isinstance(q, wq.And):
            return all(self._eval(c, found, lines) for c in q.subqueries)
        if isinstance(q, wq.Or):
            return any(self._eval(c, found, lines) for c in q.subqueries)
        raise ValueError(f"cannot evaluate {q!r}")


def window_holds(near: WordsNear, lines: str) -> bool:
    """Whether the passage owns a window of its words (WordsNear.window, on the stored lines)."""
    own = CORE_LINES
    if lines.startswith(OWN_MARK):
        head, _, lines = lines.partition("\n")
        own = int(head[len(OWN_MARK) :])
    return smallest_window_of_masks(line_masks(lines, near.words), own) is not None


def plan(q) -> Plan:
    found = Plan(to_tsquery(q), root=q)
    if has_windows(q):

        def collect(node):
            if isinstance(node, (WordsNear, ShinglePhrase, wq.Term)) or _is_null(node):
                if not any(node is a for a in found.atoms):
                    found.atoms.append(node)
            elif isinstance(node, wq.AndNot):
                collect(node.a)
                collect(node.b)
            else:
                for child in node.subqueries:
                    collect(child)

        collect(q)
    return found
