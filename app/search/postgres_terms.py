"""PostgreSQL's side of the search contract: passages as rows with a tsvector, Plateau's compiled
queries as tsquery (app/search/postgres.py stores and reads them).

- `words` holds, at each word's position, its stem (what plain words match), its folded form after
  "=" (prefixes, typos, a quoted word), its first START_LETTERS letters after "<" (a prefix of that
  length, `comp*`, when it stands for all its words), and the pair it starts with the next word,
  both in the singular, after ">" (phrases, compared in the singular as the bi-words of the Whoosh
  index are).
  Weight A marks the passage's own lines; the next lines, which a phrase or a window of words may
  run into, carry the default weight D. A plain word then is 'stem':A, a phrase
  of three words '>a b':A <-> '>b c' (it starts in the own lines, may end in the next), an
  exclusion !(…).
- Plain words together (windows.WordsNear) must stand within WINDOW_LINES consecutive lines: the
  tsquery finds the passages holding them all, and the stems of each line (`lines`, what Whoosh's
  LINES column holds) decide, in Python, as matching.py does (Plan).
"""

import re
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
WORDS_LAYOUT = f"pg3.{LAYOUT}"
PAIR = ">"  # before two neighbouring words' singulars, a space between them
START = "<"  # before the first START_LETTERS letters of a folded word
START_LETTERS = 4
NOTHING = "'#'"  # a lexeme no passage holds: the tsquery of a query that finds nothing
EXTRA_GAP = 2  # words with no place in a phrase (glued forms, a corrected line's old words) sit this far apart


# --- passages as rows ----------------------------------------------------------------------------


def _lexeme(term: str) -> str:
    if "'" not in term and "\\" not in term:
        return "'" + term + "'"
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(entries: dict[str, list[tuple[int, bool]]]) -> str:
    """A tsvector written out: each lexeme with its positions, A where a position is in the own lines.
    Most lexemes of a passage stand once: written without sorting (half of an episode's analysis)."""
    parts = []
    for lexeme in sorted(entries):
        positions = entries[lexeme]
        if len(positions) == 1:
            p, own = positions[0]
            parts.append(f"{_lexeme(lexeme)}:{p}{'A' if own else ''}")
            continue
        positions = sorted(set(positions))[:256]
        parts.append(_lexeme(lexeme) + ":" + ",".join(f"{p}A" if own else str(p) for p, own in positions))
    return " ".join(parts)


def _adder(entries: dict[str, list[tuple[int, bool]]]) -> Callable[[str, int, bool], None]:
    def add(term: str, position: int, own: bool) -> None:
        entries.setdefault(term, []).append((position, own))

    return add


def _folded_adder(add: Callable[[str, int, bool], None]) -> Callable[[str, int], None]:
    """Adds a word of the own lines in its folded form, and its start: a prefix of START_LETTERS
    letters then reads one list of passages, not those of the dozens of words it stands for (`inte*`,
    38 words: 1 s at 2,000 episodes, the index merging their lists)."""

    def add_folded(word: str, position: int) -> None:
        add("=" + word, position, True)
        if len(word) >= START_LETTERS:
            add(START + word[:START_LETTERS], position, True)

    return add_folded


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
        add_folded = _folded_adder(add)
        position = 1
        extras: list[tuple[list[str], bool, bool]] = []  # (words, own, stems only)
        for i in range(lo, max(window_end, phrase_end)):
            own = i < hi
            for w in line_words[i]:
                add_word(w, position, own)
                if own:
                    add_folded(w, position)
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
                    add_folded(w, position)
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


def _pairs(forms: list[str]) -> list[str]:
    singulars = [singular(w) for w in forms]
    return [PAIR + a + " " + b for a, b in pairwise(singulars)]


def _phrase(forms: list[str]) -> str:
    """Folded words in a row, compared in the singular, as their pairs in a row; the first one in
    the own lines. A pair is rarer than either of its words ("de la" against "de" and "la"), so
    the words index finds the passages of a phrase of common words without reading them."""
    if len(forms) == 1:  # no phrase of one word is made (a quoted word is EXACT's): its folded form
        return weighted("=" + forms[0], True)
    pairs = _pairs(forms)
    return "(" + " <-> ".join(weighted(pair, i == 0) for i, pair in enumerate(pairs)) + ")"


# --- what the words index is asked for -------------------------------------------------------------

# The words index reads the whole list of passages of each pair it is asked for: a phrase of
# frequent pairs ("mais c est que": "c est" is in 4 passages out of 5) costs the length of every
# list (0.2 s at 2,000 episodes) for a handful of passages. Some of its pairs, read through the
# index, then the whole phrase checked on each passage found (the row's words unpacked), cost the
# lists of those pairs and the checks. Relative costs, measured at 2,000 episodes (RUM): a list
# entry read ~0.45 µs, a passage's words checked ~6 µs.
CHECK_COST = 13  # checking a passage's words, in list entries read
UNLISTED_SHARE = 0.25  # a pair missing from the statistics: this much of the least frequent one listed

Shares = Callable[[str], float]  # the share of the passages holding a lexeme (PostgreSQL's statistics)


def looked_up_pairs(pairs: list[str], share: Shares) -> list[int] | None:
    """Which pairs of a phrase the words index is asked for (their positions in the phrase), the
    phrase then checked on the passages holding them all; None: the whole phrase, through the index.

    The rarest pair first, then the next rarest that is no neighbour of a chosen one (neighbours
    share a word: they come together, one does not narrow the other) while reading its list costs
    less than the checks it saves (shares taken as independent)."""
    if len(pairs) < 2:
        return None
    by_share = sorted(range(len(pairs)), key=lambda i: (share(pairs[i]), i))
    chosen = [by_share[0]]
    found = share(pairs[by_share[0]])  # the share of the passages holding every chosen pair
    cost = found
    for i in by_share[1:]:
        if any(abs(i - j) == 1 for j in chosen):
            continue
        more = share(pairs[i])
        if more >= found * (1 - more) * CHECK_COST:
            break
        chosen.append(i)
        found *= more
        cost += more
    if cost + found * CHECK_COST >= sum(share(p) for p in pairs):
        return None
    return sorted(chosen)


def _lexemes(tsquery: str) -> list[str]:
    return [m.replace("''", "'").replace("\\\\", "\\") for m in re.findall(r"'((?:[^']|'')*)'", tsquery)]


def fewer_passages(some: str, others: str, share: Shares) -> bool:
    """Whether the passages of tsquery `some` are surely fewer than those of `others`, from the
    shares of their lexemes: all of some's (as if in none together) against the rarest of others'
    (as if all in the same passages)."""
    theirs = [share(lexeme) for lexeme in _lexemes(others)]
    return bool(theirs) and sum(share(lexeme) for lexeme in _lexemes(some)) <= min(theirs)


def _looked_up(forms: list[str], share: Shares | None) -> str:
    """What the words index is asked for a phrase: some of its pairs (looked_up_pairs), all of
    them anywhere in the passage (the whole phrase is checked afterwards), or the phrase itself."""
    if share is None or len(forms) < 3:
        return _phrase(forms)
    pairs = _pairs(forms)
    chosen = looked_up_pairs(pairs, share)
    if chosen is None:
        return _phrase(forms)
    return "(" + " & ".join(weighted(pairs[i], i == 0) for i in chosen) + ")"


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


def _phrase_forms(q) -> list[str] | None:
    """The folded words of a phrase of the compiled query, None for anything else."""
    if isinstance(q, ShinglePhrase):
        return [q.pairs[0].split(" ")[0]] + [pair.split(" ")[1] for pair in q.pairs]
    if isinstance(q, wq.Term) and q.fieldname == SHINGLES:
        return q.text.split(" ")
    return None


Starts = dict[frozenset[str], str]  # the folded words of a prefix of START_LETTERS letters, all of them: the prefix


def to_tsquery(q, starts: Starts | None = None) -> str:
    """The tsquery of a compiled Whoosh query (query.compile_query): exact, but for plain words
    together, whose tsquery finds the passages that hold them all (windows decide, in Python), and
    the exclusion of such words, left to Python. starts: prefixes whose words the query holds all
    of (Vocabulary.starts), looked up by their start ("<comp"), which is in the same places."""
    return _tsquery(q, _phrase, starts or {})


def lookup_tsquery(q, share: Shares, starts: Starts | None = None) -> str:
    """What the words index is asked for a compiled query: its tsquery, but for phrases, some of
    whose pairs are looked up (_looked_up): it finds every passage the query finds, and some more,
    which the query's own tsquery then turns away. Excluded phrases stay whole: asking for less of
    what a passage must not hold would turn away passages the query finds."""
    return _tsquery(q, lambda forms: _looked_up(forms, share), starts or {})


def _tsquery(q, phrase: Callable[[list[str]], str], starts: Starts) -> str:
    if _is_null(q):
        return NOTHING
    if isinstance(q, WordsNear):
        return "(" + " & ".join("(" + " | ".join(_lexeme(f) for f in forms) + ")" for forms in q.words) + ")"
    forms = _phrase_forms(q)
    if forms is not None:
        return phrase(forms)
    if isinstance(q, wq.Term):
        if q.fieldname == BODY:
            return weighted(q.text, True)
        if q.fieldname == EXACT:
            return weighted("=" + q.text, True)
        raise ValueError(f"no tsquery for a term of {q.fieldname}")
    if isinstance(q, wq.AndNot):
        if has_windows(q.b):
            return _tsquery(q.a, phrase, starts)
        return f"({_tsquery(q.a, phrase, starts)} & !{to_tsquery(q.b, starts)})"
    if isinstance(q, wq.Or) and starts:
        folded = frozenset(c.text for c in q.subqueries if isinstance(c, wq.Term) and c.fieldname == EXACT)
        if len(folded) == len(q.subqueries) and folded in starts:
            return weighted(START + starts[folded], True)
    if isinstance(q, (wq.And, wq.Or)):
        parts = [_tsquery(c, phrase, starts) for c in q.subqueries]
        if not parts:
            return NOTHING
        return "(" + (" & " if isinstance(q, wq.And) else " | ").join(parts) + ")"
    raise ValueError(f"no tsquery for {q!r}")


def phrase_pairs(q) -> list[str]:
    """The pairs of the phrases of three words or more of a compiled query, where the words index
    may be asked for fewer of them (lookup_tsquery)."""
    forms = _phrase_forms(q)
    if forms is not None:
        return _pairs(forms) if len(forms) >= 3 else []
    if isinstance(q, wq.AndNot):
        return phrase_pairs(q.a)  # excluded phrases stay whole
    if isinstance(q, (wq.And, wq.Or)):
        return [pair for c in q.subqueries for pair in phrase_pairs(c)]
    return []


@dataclass
class Plan:
    """What one search asks of the passages table: its tsquery, and where plain words together must
    be checked in Python, the tsquery of each part (atom) of the query, evaluated per candidate."""

    query: str
    atoms: list = field(default_factory=list)  # the queries evaluated by SQL, and windows by Python
    starts: Starts = field(default_factory=dict)  # prefixes looked up by their start (to_tsquery)

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


def plan(q, starts: Starts | None = None) -> Plan:
    found = Plan(to_tsquery(q, starts), root=q, starts=starts or {})
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
