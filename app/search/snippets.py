"""Find where a hit's match starts and build its snippet: the one place that marks HTML safe."""

import itertools
from dataclasses import dataclass

from markupsafe import Markup, escape

from app.search.analysis import STOP_WORDS, singular, stem, word_spans
from app.search.windows import smallest_window

SNIPPET_CHARS = 220
# a snippet people can scan: about this many words, a few of them before the first matched word
SNIPPET_WORDS = 30
SNIPPET_LEAD = 8


@dataclass
class Located:
    line: int  # index in the given lines of the caption line where the match starts
    snippet: Markup  # about SNIPPET_WORDS words around the match, with "…" where cut
    text: str
    passage: Markup  # the whole passage, highlighted as the snippet is


def _marked(
    tokens: list[tuple[int, str, int, int]], stems: set[str], exact: set[str], phrases: list[list[str]]
) -> set[int]:
    """The tokens the search matched: its words, and its phrases' words compared in the singular,
    as the index compares them. Two tokens with one character between them on a line ("e-mail"),
    neither a stop word, also count as their glued word, which the index holds for a hyphenated
    word (analysis.compounds): "email" marks "e-mail", and so does the quoted "email"."""

    def searched(w: str) -> bool:
        return w in exact or (w not in STOP_WORDS and stem(w) in stems)

    n = len(tokens)
    glued: list[str | None] = [None] * n
    for i, ((line, first, _, first_end), (next_line, second, second_start, _)) in enumerate(itertools.pairwise(tokens)):
        if line == next_line and second_start - first_end == 1 and first not in STOP_WORDS and second not in STOP_WORDS:
            glued[i] = first + second
    marked = set()
    for i, (_, w, _, _) in enumerate(tokens):
        if searched(w):
            marked.add(i)
        elif (g := glued[i]) is not None and searched(g):
            marked.update((i, i + 1))
    if not phrases:
        return marked
    forms = [singular(w) for _, w, _, _ in tokens]
    for phrase in phrases:
        wanted = [singular(w) for w in phrase]
        for start in range(n):
            i = start
            for w in wanted:
                if i < n and forms[i] == w:
                    i += 1
                elif i < n and (g := glued[i]) is not None and singular(g) == w:
                    i += 2
                else:
                    break
            else:
                marked.update(range(start, i))
    return marked


def locate(
    lines: list[str],
    own_lines: int,
    stems: set[str],
    exact: set[str],
    phrases: list[list[str]],
    windows: list[list[set[str]]] | None = None,
    machine: list[str | None] | None = None,
) -> Located:
    """lines: a passage's own lines followed by a few of the next ones (for phrases and windows
    across the end). windows: groups of plain words that must stand close together, each word as
    its stems: the match then starts where the smallest window holding a group's words begins.
    machine: for each line an editor corrected, the machine's text (None elsewhere): when the
    corrected lines hold no match, the match is the old spelling's, which starts the hit there."""
    tokens = [(li, w, s, e) for li, text in enumerate(lines) for (w, s, e) in word_spans(text)]
    marked = _marked(tokens, stems, exact, phrases)
    line = _match_line(tokens, marked, len(lines), own_lines, windows)
    if line is None and machine and any(machine):
        old = [m if m is not None else text for m, text in zip(machine, lines, strict=False)]
        old_tokens = [(li, w, s, e) for li, text in enumerate(old) for (w, s, e) in word_spans(text)]
        line = _match_line(old_tokens, _marked(old_tokens, stems, exact, phrases), len(old), own_lines, windows)
    line = line or 0
    # the passage runs past its own lines when a phrase crosses its end
    last_marked_line = max((tokens[i][0] for i in marked if tokens[i][0] >= line), default=line)
    last_line = max(min(own_lines, len(lines)) - 1, last_marked_line, line)
    # the plain text runs from the match line, far enough to show a phrase that crosses a line break
    end = line
    length = len(lines[line]) if lines else 0
    while end + 1 < len(lines) and (end < last_marked_line or length < SNIPPET_CHARS // 2):
        end += 1
        length += len(lines[end]) + 1
    spans = _marked_spans(tokens, marked, len(lines))
    passage = Markup(" ").join(_highlight(lines[li], spans[li]) for li in range(last_line + 1))
    return Located(
        line=line,
        snippet=_cropped(lines, tokens, marked, spans, line, last_line),
        text=" ".join(lines[line : end + 1]),
        passage=passage,
    )


def _marked_spans(tokens, marked: set[int], n_lines: int) -> list[list[tuple[int, int]]]:
    """Each line's matched words, (start, end) in its text, in order: read once per passage, not
    once per line shown (which read every word of the passage for each of its lines)."""
    spans: list[list[tuple[int, int]]] = [[] for _ in range(n_lines)]
    for i in sorted(marked):
        li, _, s, e = tokens[i]
        spans[li].append((s, e))
    return spans


def _highlight(text: str, spans: list[tuple[int, int]], start: int = 0, stop: int | None = None) -> Markup:
    """A caption line (or its [start:stop] slice) escaped, with its matched words (spans) in <mark>."""
    stop = len(text) if stop is None else stop
    html, cursor = [], start
    for s, e in _merge(text, [(s, e) for s, e in spans if s >= start and e <= stop]):
        html.append(escape(text[cursor:s]))
        html.append(Markup("<mark>") + escape(text[s:e]) + Markup("</mark>"))
        cursor = e
    html.append(escape(text[cursor:stop]))
    return Markup("").join(html)


def _cropped(lines: list[str], tokens, marked: set[int], spans, line: int, last_line: int) -> Markup:
    """About SNIPPET_WORDS words from the match line on, a few before its first matched word, with
    an ellipsis where the passage is cut; matched words a little further on are kept in."""
    shown = [i for i, (tl, _, _, _) in enumerate(tokens) if line <= tl <= last_line]
    if not shown:
        return Markup(" ").join(escape(text) for text in lines[line : last_line + 1])
    first_marked = min((i for i in shown if i in marked), default=shown[0])
    start = max(shown[0], first_marked - SNIPPET_LEAD)
    stop = min(shown[-1], start + SNIPPET_WORDS - 1)
    later = [i for i in shown if i in marked and stop < i < start + SNIPPET_WORDS + SNIPPET_LEAD]
    stop = max([stop, *later])
    before = start > 0  # words of the passage before the snippet: its earlier lines, or this line's start
    after = stop < shown[-1]
    pieces = []
    first_line, last = tokens[start][0], tokens[stop][0]
    for li in range(first_line, last + 1):
        text = lines[li]
        s = tokens[start][2] if li == first_line and start != shown[0] else 0
        e = _word_end(text, tokens[stop][3]) if li == last and stop != shown[-1] else len(text)
        pieces.append(_highlight(text, spans[li], s, e))
    snippet = Markup(" ").join(pieces)
    return (Markup("… ") if before else Markup("")) + snippet + (Markup(" …") if after else Markup(""))


def _word_end(text: str, end: int) -> int:
    """The end of a cut after a word: its closing punctuation kept ("données," "fin."), no space."""
    while end < len(text) and not text[end].isspace() and not text[end].isalnum():
        end += 1
    return end


def _match_line(tokens, marked: set[int], n_lines: int, own_lines: int, windows) -> int | None:
    """The own line where the match starts: the smallest window's, else the first marked word's."""
    window = _smallest_window(tokens, n_lines, own_lines, windows or [])
    if window is not None:
        return window[1]
    first = min((i for i in marked if tokens[i][0] < own_lines), default=None)
    return tokens[first][0] if first is not None else None


def _smallest_window(tokens, n_lines: int, own_lines: int, windows: list[list[set[str]]]) -> tuple[int, int] | None:
    """(span, first line) of the smallest window of any group, as the index found it (windows.py)."""
    if not windows:
        return None
    line_stems: list[set[str]] = [set() for _ in range(n_lines)]
    for li, w, _, _ in tokens:
        if w not in STOP_WORDS:
            line_stems[li].add(stem(w))
    found = [
        smallest_window([[li for li in range(n_lines) if line_stems[li] & forms] for forms in group], own_lines)
        for group in windows
    ]
    return min((w for w in found if w is not None), default=None)


def _merge(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Adjacent marked words separated by spaces or an apostrophe become one <mark>."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and text[merged[-1][1] : s].strip(" '’-") == "":
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged
