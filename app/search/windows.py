"""Plain words close together: all within WINDOW_LINES consecutive caption lines, in any order,
whichever passages own those lines.

A window belongs to the passage that owns its first line, and only a minimal window counts (one
with no shorter window inside it that holds every word): so a quote that runs over a passage
boundary is found once, by the passage where it starts, and never again by its neighbour.
"""

from bisect import bisect_left
from functools import lru_cache

from whoosh import query as wq

from app.search.passages import BODY, CORE_LINES, OWN_MARK, WINDOW_LINES


def smallest_window(lines_of: list[list[int]], own: int = CORE_LINES) -> tuple[int, int] | None:
    """lines_of: for each word, the sorted lines where one of its forms stands (0 = the passage's
    first line), in the order they were typed. The (span in lines, first line) of the smallest
    minimal window of at most WINDOW_LINES lines that holds every word and starts in the first `own`
    lines (of two as short, the one that reads them in order, then the first); None if none does.
    """
    if not lines_of or any(not lines for lines in lines_of):
        return None
    starts = sorted({line for lines in lines_of for line in lines})
    ends = []
    for start in starts:
        end = start
        for lines in lines_of:
            i = bisect_left(lines, start)
            if i == len(lines):
                end = -1  # a word has no line from here on: no window starts here or later
                break
            end = max(end, lines[i])
        if end < 0:
            break
        ends.append(end)
    best = None
    for i, (start, end) in enumerate(zip(starts, ends, strict=False)):
        if start >= own:
            break
        # minimal: the window from the next start ends later (ends never decrease)
        if i + 1 < len(ends) and ends[i + 1] <= end:
            continue
        span = end - start + 1
        if span > WINDOW_LINES:
            continue
        # of two windows as short, the one with the words in the order typed: what was remembered
        key = (span, not _in_order(lines_of, start, end), start)
        if best is None or key < best:
            best = key
    return (best[0], best[2]) if best is not None else None


def _in_order(lines_of: list[list[int]], start: int, end: int) -> bool:
    """Whether the words can be read in the given order within lines start..end (line by line)."""
    line = start
    for lines in lines_of:
        i = bisect_left(lines, line)
        if i == len(lines) or lines[i] > end:
            return False
        line = lines[i]
    return True


@lru_cache(maxsize=65536)
def smallest_window_of_masks(masks: tuple[int, ...], own: int = CORE_LINES) -> tuple[int, int] | None:
    """smallest_window of words given as bit masks of their lines (bit n: line n): a passage sees
    few lines, so the same masks recur and each answer is worked out once."""
    return smallest_window([[n for n in range(mask.bit_length()) if mask >> n & 1] for mask in masks], own)


def line_masks(lines: str, words: list[list[str]]) -> tuple[int, ...]:
    """For each word (its forms), a bit mask of the lines that hold it (bit n: line n), from a
    passage's stored LINES: its lines' stems, space-separated, a line per line."""
    split = lines.split("\n")
    masks = []
    for forms in words:
        mask = 0
        for n, line in enumerate(split):
            for form in forms:
                # a substring first, in C; a whole word only then ("cloud" is in "clouds")
                if form in line and form in line.split():
                    mask |= 1 << n
                    break
        masks.append(mask)
    return tuple(masks)


class WordsNear(wq.And):
    """Plain words, each given as its index forms (stems), all within a window of consecutive lines.

    matching.py finds the passages that own such a window. As a plain Whoosh query it is the And
    of the words in the passages' own lines, which a window may leave: Whoosh never matches it."""

    def __init__(self, words: list[list[str]]):
        self.words = [sorted(set(forms)) for forms in words]
        # segment id -> {docnum of a match: span in lines of its smallest window, or None until
        # asked for (a passage holding every word in its own lines matches without reading them)}
        self.spans: dict[str, dict[int, int | None]] = {}
        self.readers: dict = {}  # segment id -> its LINES column (matching.lines_column)
        super().__init__([wq.Or([wq.Term(BODY, t) for t in forms]) for forms in self.words])

    def window(self, lines, docnum: int) -> tuple[int, int] | None:
        """The (span, first line) of the smallest window this passage owns, from its LINES column."""
        text = lines[docnum].decode("utf-8")
        own = CORE_LINES
        if text.startswith(OWN_MARK):  # a passage cut short where the speaker changes
            head, _, text = text.partition("\n")
            own = int(head[len(OWN_MARK) :])
        return smallest_window_of_masks(line_masks(text, self.words), own)

    def span(self, segment_id: str, docnum: int) -> int | None:
        """The lines of a match's smallest window (read on first use); None for a passage it does not match."""
        known = self.spans.get(segment_id)
        if known is None or docnum not in known:
            return None
        found = known[docnum]
        if found is None:
            window = self.window(self.readers[segment_id], docnum)
            assert window is not None  # every word in its own lines: a window inside them
            found = known[docnum] = window[0]
        return found

    def normalize(self):
        return self

    def __repr__(self):
        return f"WordsNear({self.words!r})"


def proximity(span: int) -> float:
    """What a window's closeness multiplies a passage's score by: words on one line count double,
    words spread over a whole window a sixth more."""
    return 1.0 + 1.0 / span
