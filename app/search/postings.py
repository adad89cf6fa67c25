"""Posting lists decoded a block at a time, and those of frequent terms kept decoded for every query."""

import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict
from itertools import repeat

from app.search import whoosh_internals

_frequencies: dict[tuple[str, str, str], int] = {}


def doc_frequency(reader, fieldname: str, text: str) -> int:
    """A term's number of postings in a segment (deletions not subtracted), read once: a segment
    never changes, and a prefix's 64 expansions ask for it several times per segment."""
    key = (reader.segment().segment_id(), fieldname, text)
    found = _frequencies.get(key)
    if found is None:
        if len(_frequencies) > 500_000:
            _frequencies.clear()
        found = _frequencies[key] = reader.doc_frequency(fieldname, text)
    return found


class DecodedPostings:
    """Decoded posting lists of frequent terms, shared by every query of the process.

    The common words ("c est", "pour") are the slow ones: their thousands of blocks are
    decompressed and unpickled on every query. A segment never changes once written (deletions are
    applied apart), so a term's decoded docnums and weights stay valid for the segment's life, and
    so do a bi-word's positions and a term's postings grouped by (weight, length byte); the cache
    holds at most CAPACITY postings (4 bytes a docnum, 4 a weight; a position value counts as 8),
    least recently used out."""

    MIN_POSTINGS = 2048  # rarer terms decode in well under a millisecond
    CAPACITY = 8_000_000

    def __init__(self):
        self._items: OrderedDict = OrderedDict()
        self._size = 0
        self._sizes: dict = {}
        self._lock = threading.Lock()

    def get(self, reader, fieldname: str, text: str, raw, values: bool = False):
        """[(docnums, weights or None when all are 1)] of each block, or None for a rare term;
        with values, [(docnums, encoded values, weights)] instead (the positions of a bi-word).
        raw: the term's readable posting matcher (whoosh_internals.readable)."""
        if doc_frequency(reader, fieldname, text) < self.MIN_POSTINGS:
            return None
        key = (reader.segment().segment_id(), fieldname, text, values)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        weights = whoosh_internals.block_weights
        if values:
            found = [
                (
                    array("I", ids),
                    list(whoosh_internals.block_values(r)),
                    None if (w := weights(r)) is None else array("f", w),
                )
                for ids, r in whoosh_internals.blocks(raw)
            ]
        else:
            found = [
                (array("I", ids), None if (w := weights(r)) is None else array("f", w))
                for ids, r in whoosh_internals.blocks(raw)
            ]
        size = sum(len(b[0]) for b in found) * (8 if values else 1)  # a value costs about 8 docnums
        self._put(key, found, size)
        return found

    def _put(self, key, found, size: int) -> None:
        with self._lock:
            if key not in self._items:
                self._items[key] = found
                self._sizes[key] = size
                self._size += size
                while self._size > self.CAPACITY and len(self._items) > 1:
                    evicted, _ = self._items.popitem(last=False)
                    self._size -= self._sizes.pop(evicted)

    def groups(self, reader, fieldname: str, text: str, blocks, lengths) -> list[tuple[float, int, array]]:
        """A cached term's docnums by (weight, length byte): [(weight, length byte, docnums)]."""
        key = (reader.segment().segment_id(), fieldname, text, "groups")
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        by: dict[tuple[float, int], array] = {}
        for ids, weights in blocks:
            for pair, d in zip(
                # repeat() is endless: the lengths decide
                zip(weights if weights is not None else repeat(1.0), map(lengths.__getitem__, ids), strict=False),
                ids,
                strict=True,
            ):
                group = by.get(pair)
                if group is None:
                    group = by[pair] = array("I")
                group.append(d)
        found = [(w, lb, docs) for (w, lb), docs in by.items()]
        self._put(key, found, sum(len(docs) for _, _, docs in found))
        return found

    def peek(self, reader, fieldname: str, text: str, values: bool = False):
        """What get() gives if this term is in the cache already, else None."""
        segment = reader.segment().segment_id()
        with self._lock:
            if values:
                return self._items.get((segment, fieldname, text, True))
            found = self._items.get((segment, fieldname, text, False))
            if found is None:
                with_values = self._items.get((segment, fieldname, text, True))
                if with_values is not None:
                    found = [(ids, weights) for ids, _, weights in with_values]
        return found


# Read as postings.decoded at each use: a benchmark or a test may put a fresh cache in its place.
decoded = DecodedPostings()


def read_blocks(raw, wanted: list[int] | None = None) -> list[tuple[array, object]]:
    """[(docnums, weights or None)] of each block of a readable raw, or with wanted (sorted
    docnums) of each block that may hold one of them."""
    return [(array("I", ids), whoosh_internals.block_weights(r)) for ids, r in whoosh_internals.blocks(raw, wanted)]


def holding(blocks, wanted: list[int] | None):
    """The decoded blocks that may hold one of wanted (sorted docnums); all of them for None."""
    if wanted is None:
        yield from blocks
        return
    previous, n = -1, len(wanted)
    for block in blocks:
        last = block[0][-1]
        if (i := bisect_right(wanted, previous)) < n and wanted[i] <= last:
            yield block
        if last >= wanted[-1]:
            break
        previous = last
