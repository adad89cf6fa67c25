"""Find where a hit's match starts and build its snippet: the one place that marks HTML safe."""

import itertools
from dataclasses import dataclass

from markupsafe import Markup, escape

from app.search.analysis import STOP_WORDS, singular, stem, word_spans
from app.search.windows import smallest_window

SNIPPET_CHARS = 220


@dataclass
class Located:
    line: int  # index in the given lines of the caption line where the match starts
    snippet: Markup
    text: str


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
    # the snippet runs from the match line, far enough to show a phrase that crosses a line break
    last_marked_line = max((tokens[i][0] for i in marked if tokens[i][0] >= line), default=line)
    end = line
    length = len(lines[line]) if lines else 0
    while end + 1 < len(lines) and (end < last_marked_line or length < SNIPPET_CHARS // 2):
        end += 1
        length += len(lines[end]) + 1
    pieces, plain = [], []
    for li in range(line, end + 1):
        text = lines[li]
        spans = [(s, e) for i, (tl, _, s, e) in enumerate(tokens) if tl == li and i in marked]
        html, cursor = [], 0
        for s, e in _merge(text, spans):
            html.append(escape(text[cursor:s]))
            html.append(Markup("<mark>") + escape(text[s:e]) + Markup("</mark>"))
            cursor = e
        html.append(escape(text[cursor:]))
        pieces.append(Markup("").join(html))
        plain.append(text)
    return Located(line=line, snippet=Markup(" ").join(pieces), text=" ".join(plain))


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
