"""The one reader of Whoosh's private names (for speed), on only for the Whoosh version they were read in."""

# Everything else in app.search keeps to Whoosh's public API. What this module reads is how
# whoosh-reloaded 2.7.5 lays out a posting block (W3LeafMatcher), a field's length column
# (W3PerDocReader) and a Positions value, a BM25F scorer's per-posting function, and a segment's
# terms file read in order for a merge (W3TermsReader). Another
# version may move any of it without notice, so FAST is on only for the version this was written
# against; otherwise every caller takes Whoosh's public path (matchers, its collector, its codec),
# which finds the same passages in the same order, only slower. After an upgrade: re-read the
# private names below against the new whoosh/codec/whoosh3.py, then raise WRITTEN_FOR.
import logging
import zlib
from array import array
from bisect import bisect_right
from hashlib import md5
from importlib.metadata import PackageNotFoundError, version
from itertools import accumulate
from operator import sub
from pickle import dumps, loads
from struct import Struct

import whoosh
from whoosh.codec.base import OutOfOrderError
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

log = logging.getLogger(__name__)

WRITTEN_FOR = "2.7.5"  # the whoosh-reloaded whose private names this module reads


def _installed() -> str | None:
    try:
        return version("whoosh-reloaded")
    except PackageNotFoundError:
        return None


# On: callers read posting blocks, length columns and scorers through this module. Read at each
# call, so a test can turn it off.
FAST = _installed() == WRITTEN_FOR and whoosh.versionstring() == WRITTEN_FOR
if FAST:
    try:
        from whoosh.codec.whoosh3 import (
            LENGTHS_COLUMN,
            WHOOSH3_HEADER_MAGIC,
            W3Codec,
            W3FieldWriter,
            W3LeafMatcher,
            W3PerDocReader,
            W3TermInfo,
            W3TermsReader,
            _lenfield,
        )
        from whoosh.filedb.filetables import _lengths as _KEY_VALUE_LENGTHS
        from whoosh.filedb.filetables import md5_hash

        # a term's row in the terms file: W3TermInfo's fields, then where its postings are and their length
        _TERM_ROW = Struct(W3TermInfo._struct.format + "qi")
    except ImportError:
        FAST = False
if not FAST:
    log.warning(
        "whoosh-reloaded %s (whoosh %s), not %s: search reads the index through Whoosh's public API, slower",
        _installed(),
        whoosh.versionstring(),
        WRITTEN_FOR,
    )


# --- posting blocks ---------------------------------------------------------------------------


def raw_postings(reader, fieldname: str, text: str):
    """A term's posting matcher in a segment, deleted documents included (the caller subtracts
    them as sets); None when the segment does not hold the term."""
    try:
        matcher = reader.postings(fieldname, text)
    except TermNotFound:
        return None
    return matcher.child if isinstance(matcher, FilterMatcher) else matcher


def readable(raw) -> bool:
    """Whether raw's blocks can be read here: FAST, and a leaf of Whoosh's own codec with
    numeric ids; when not, the caller uses Whoosh's matchers."""
    return FAST and isinstance(raw, W3LeafMatcher) and not raw._byteids


def blocks(raw, wanted: list[int] | None = None):
    """Each posting block of a readable raw as (its docnums, raw positioned on it, for
    block_weights and block_values); with wanted (sorted docnums), only the blocks that may hold
    one of them are decoded (a block's header gives its last docnum)."""
    raw.reset()
    previous = -1
    n = len(wanted) if wanted is not None else 0
    while raw.is_active():
        last = raw._maxid
        if wanted is None or ((i := bisect_right(wanted, previous)) < n and wanted[i] <= last):
            if raw._data is None:
                raw._read_data()
            yield list(accumulate(raw._data[0])), raw  # ids are delta-encoded from 0 in each block
        if raw._lastblock or (wanted is not None and last >= wanted[-1]):
            break
        previous = last
        raw._next_block()


def block_weights(raw):
    """The weights of the block blocks() is on, or None when every weight is 1."""
    if raw._data[1] is None:
        return None
    raw._read_weights()
    return raw._weights


def block_values(raw):
    """The encoded values (Positions: see positions()) of the block blocks() is on."""
    return raw._data[2]


def positions(value: bytes) -> list[int]:
    """Decode a whoosh.formats.Positions value: frequency (4 bytes), then the pickled position deltas."""
    return list(accumulate(loads(value[4:])))


def frequency(value: bytes) -> float:
    """The weight (number of positions) at the head of a Positions value."""
    return float(int.from_bytes(value[:4], "big"))


# --- field lengths and scores -----------------------------------------------------------------


def length_bytes(reader, fieldname: str) -> bytes:
    """The length byte of each document of a segment in a field (what BM25 divides by, as the codec
    stores it: whoosh.util.numeric.length_to_byte), 0 for a document without the field."""
    if FAST:
        column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        return bytes(column) if column is not None else bytes(reader.doc_count_all())
    return bytes(length_to_byte(reader.doc_field_length(d, fieldname, None)) for d in range(reader.doc_count_all()))


def posting_score(scorer, weight: float, length_byte: int) -> float:
    """What a term's scorer gives a posting of this weight in a document of this length byte:
    scorer.score(matcher) without a matcher (WeightLengthScorer._score, BM25F's)."""
    return scorer._score(weight, byte_to_length(length_byte) if length_byte else 1)


# --- writing ----------------------------------------------------------------------------------


def writer_codec(compress: bool = True):
    """The codec for index writers: Whoosh's own, with field lengths held in memory while a
    segment's postings are written (a fifth of a rebuild); None (Whoosh's default) when not FAST.

    compress=False: posting blocks stored without zlib (a fifth of writing one episode's segment).
    Each block says whether it is compressed, so any reader of Whoosh's codec reads both; only the
    small segments of a few episodes are written so (a little larger on disk), until a merge
    writes them again compressed."""
    if not FAST:
        return None
    return _WriterCodec() if compress else _WriterCodec(compression=0)


if FAST:

    class _LengthsInMemory(W3PerDocReader):
        """Whoosh reads a document's field length from the column file once per posting when it
        writes a segment; this reads each field's length column once."""

        def __init__(self, storage, segment):
            super().__init__(storage, segment)
            self._length_tables: dict[str, list | None] = {}

        def doc_field_length(self, docnum, fieldname, default=0):
            if fieldname not in self._length_tables:
                column = self.length_column(fieldname)
                self._length_tables[fieldname] = (
                    None if column is None else [byte_to_length(b) if b else None for b in column]
                )
            table = self._length_tables[fieldname]
            if docnum > self._doccount:
                raise IndexError(f"Asked for docnum {docnum} of {self._doccount}")
            return default if table is None else table[docnum]

        def length_column(self, fieldname) -> bytes | None:
            """Each document's length byte in this field, or None when the field has none."""
            column = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            return None if column is None else bytes(column)

    GATHERED = 1 << 20  # bytes of a file's writes held before they are written (a rebuild's segments: hundreds of MB)

    class _PostingsInOneLoop(W3FieldWriter):
        """W3FieldWriter whose add_postings() writes the same bytes to the terms and postings files
        as Whoosh's (W3PostingsWriter's blocks, W3TermInfo's rows, OrderedHashWriter's entries) in
        one loop over each term's postings, the files' writes gathered a megabyte at a time.
        Whoosh's own makes some thirty calls per term: two thirds of writing one episode's segment
        (7,700 terms, 105 ms). tests/test_whoosh_writer.py checks the files are byte for byte
        Whoosh's."""

        def add_postings(self, schema, lengths, items):
            codec = self._codec
            if codec._inlinelimit != 1:  # postings inlined in the terms file: Whoosh's own loop
                return super().add_postings(schema, lengths, items)
            limit, level = codec._blocklimit, codec._compression
            tindex = self._tindex
            offsets, buckets, hash_of = tindex.index, tindex.buckets, tindex.hashfn
            md5_keys = hash_of is md5_hash  # its last 32 bits, without its call
            postfile, termfile = self._postfile, tindex.dbfile
            posts, terms = bytearray(), bytearray()
            posts_at, terms_at = postfile.tell(), termfile.tell()  # where the gathered bytes go
            lastkey = tindex.lastkey

            def write_term(prefix, btext, fixedsize, table, ids, weights, values):
                """One term's blocks to the postings file, its row to the terms file."""
                nonlocal lastkey, posts, posts_at, terms, terms_at
                mini_values: tuple | bytes | None  # as W3PostingsWriter._mini_values gives them
                mini_weights: tuple | float | None
                start = posts_at + len(posts)
                posts += WHOOSH3_HEADER_MAGIC
                count = len(ids)
                if count == 1:  # most terms (four in five of an episode's: its bi-words), in short
                    docnum, raw, payload = ids[0], weights[0], values[0]
                    total = array("f", weights)[0]  # what the block keeps of the weight
                    heaviest = raw if raw > 0 else 0
                    most = table[docnum] if table else 0  # the document's length byte
                    least = most or None
                    if fixedsize == 0:
                        mini_values = None
                    elif fixedsize is None or fixedsize < 0:
                        mini_values = (payload,) if payload else ()
                    else:
                        mini_values = payload or b""
                    data = dumps(((docnum,), None if total == 1.0 else total, mini_values), 2)
                    if level:
                        data = zlib.compress(data, level)
                    info = dumps((1, docnum, heaviest, level, most, most), 2)
                    posts += pack_int(-(len(info) + len(data)))
                    posts += info
                    posts += data
                else:
                    total = 0.0
                    least = None  # shortest document's length byte, over the blocks
                    most = heaviest = 0
                    for at in range(0, count, limit):
                        if count <= limit:
                            block_ids, raw, block_values = ids, weights, values
                        else:
                            block_ids, raw = ids[at : at + limit], weights[at : at + limit]
                            block_values = values[at : at + limit]
                        stored = array("f", raw)  # what the block keeps of the weights
                        block_max = max(raw)
                        if not block_max > 0:
                            block_max = 0
                        # a field length's byte grows with the length: the block's shortest and longest
                        sizes = [b for b in map(table.__getitem__, block_ids) if b] if table else None
                        shortest, longest = (min(sizes), max(sizes)) if sizes else (None, 0)
                        total += sum(stored)
                        least = shortest if least is None else min(least, shortest)
                        most = max(most, longest)
                        heaviest = max(heaviest, block_max)
                        first = stored[0]
                        if stored.count(first) != len(stored):
                            mini_weights = tuple(stored)
                        else:  # every weight the same
                            mini_weights = None if first == 1.0 else first
                        if fixedsize == 0:
                            mini_values = None
                        else:
                            block_values = [v for v in block_values if v]
                            if fixedsize is None or fixedsize < 0:
                                mini_values = tuple(block_values)
                            else:
                                mini_values = b"".join(block_values)
                        deltas = (block_ids[0], *map(sub, block_ids[1:], block_ids))
                        data = dumps((deltas, mini_weights, mini_values), 2)
                        if level:
                            data = zlib.compress(data, level)
                        info = dumps((len(block_ids), block_ids[-1], block_max, level, shortest or 0, longest), 2)
                        size = len(info) + len(data)
                        posts += pack_int(-size if at + limit >= count else size)
                        posts += info
                        posts += data
                value = _TERM_ROW.pack(
                    0, total, count, least or 0, most, heaviest, ids[0], ids[-1], start, posts_at + len(posts) - start
                )
                key = prefix + btext
                if key <= lastkey:
                    raise ValueError(f"Keys must increase: {lastkey!r}..{key!r}")
                lastkey = key
                at_term = terms_at + len(terms)
                offsets.append(at_term)
                terms += _KEY_VALUE_LENGTHS.pack(len(key), len(value))
                terms += key
                terms += value
                h = int.from_bytes(md5(key, usedforsecurity=False).digest()[12:]) if md5_keys else hash_of(key)
                buckets[h & 255].append((h, at_term))
                if len(posts) >= GATHERED:
                    postfile.write(bytes(posts))
                    posts_at += len(posts)
                    posts = bytearray()
                if len(terms) >= GATHERED:
                    termfile.write(bytes(terms))
                    terms_at += len(terms)
                    terms = bytearray()

            field = text = None
            prefix = b""
            fixedsize = table = None
            ids: list = []
            weights: list = []
            values: list = []
            for fieldname, btext, docnum, weight, value in items:
                if btext != text or fieldname != field:  # a new term: the one before is written
                    if ids:
                        write_term(prefix, text, fixedsize, table, ids, weights, values)
                        ids, weights, values = [], [], []
                    if fieldname != field:
                        if field is not None and fieldname < field:
                            raise OutOfOrderError(f"Field {field!r} .. {fieldname!r}")
                        field = fieldname
                        prefix = pack_ushort(self._fieldmap.setdefault(fieldname, len(self._fieldmap)))
                        fixedsize = schema[fieldname].format.fixed_value_size()
                        table = _length_bytes(lengths, fieldname)
                    elif btext < text:
                        raise OutOfOrderError(f"Term {field}:{text!r} .. {fieldname}:{btext!r}")
                    text = btext
                if docnum == -1:  # a spelling word, not a posting (Whoosh's own skips them too)
                    continue
                ids.append(docnum)
                weights.append(weight)
                values.append(value)
            if ids:
                write_term(prefix, text, fixedsize, table, ids, weights, values)
            postfile.write(bytes(posts))
            termfile.write(bytes(terms))
            tindex.lastkey = lastkey

    def _length_bytes(lengths, fieldname) -> bytes | None:
        """Each document's length byte in the field (0 without it), as the codec stores it; None
        when the segment has no lengths."""
        if lengths is None:
            return None
        if isinstance(lengths, _LengthsInMemory):
            return lengths.length_column(fieldname)
        return bytes(length_to_byte(lengths.doc_field_length(d, fieldname)) for d in range(lengths.doc_count_all()))

    class _WriterCodec(W3Codec):
        """Whoosh's codec (same files, read by the default codec) with field lengths held in memory
        while a segment's postings are written, and the postings written in one loop."""

        def per_document_reader(self, storage, segment):
            return _LengthsInMemory(storage, segment)

        def field_writer(self, storage, segment):
            return _PostingsInOneLoop(self, storage, segment)

        def new_segment(self, storage, indexname):
            # the segment (pickled in the index's table of contents) names Whoosh's own codec, so the
            # index on disk does not depend on this class
            return W3Codec().new_segment(storage, indexname)


# --- merging -----------------------------------------------------------------------------------


def merge_reader(reader):
    """What a merge hands writer.add_reader(): the segment reader itself, whose postings are read
    by merge_postings (FAST), or the reader as it is."""
    return _MergeReader(reader) if FAST else reader


class _MergeReader:
    """A segment reader for add_reader(), its iter_postings() replaced by merge_postings()."""

    def __init__(self, reader):
        self._reader = reader

    def __getattr__(self, name):
        return getattr(self._reader, name)

    def iter_postings(self):
        return merge_postings(self._reader)


def merge_postings(reader):
    """reader.iter_postings(): (field, term, docnum, weight, value) of each posting of a document
    not deleted, in the same order. Whoosh's own looks each term up again in the terms file's hash
    table and steps a matcher posting by posting: most of merging small segments (eight one-file
    segments: 7 s). This reads the terms file in its order and each posting block once."""
    terms = getattr(reader, "_terms", None)
    if not FAST or not isinstance(terms, W3TermsReader):
        yield from reader.iter_postings()
        return
    schema = reader.schema
    deleted = reader.deleted_docs_set
    for (fieldname, btext), terminfo in terms.items():
        if fieldname not in schema:
            continue
        matcher = terms._codec.postings_reader(terms._postfile, terminfo, schema[fieldname].format)
        if not isinstance(matcher, W3LeafMatcher):  # postings inlined in the terms file
            while matcher.is_active():
                if matcher.id() not in deleted:
                    yield fieldname, btext, matcher.id(), matcher.weight(), matcher.value()
                matcher.next()
            continue
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            matcher._read_values()
            for docnum, weight, value in zip(matcher._ids, matcher._weights, matcher._values, strict=True):
                if docnum not in deleted:
                    yield fieldname, btext, docnum, weight, value
            matcher._next_block()


# --- opening segments -------------------------------------------------------------------------


class _MappedFile:
    """A read-only file over a memoryview of the mapped compound segment: reads copy only what
    they return."""

    __slots__ = ("_at", "_view")

    def __init__(self, view):
        self._view = view
        self._at = 0

    def read(self, size: int | None = -1) -> bytes:
        start = self._at
        end = len(self._view) if size is None or size < 0 else min(len(self._view), start + size)
        self._at = end
        return bytes(self._view[start:end])

    def peek(self, size: int = 0) -> bytes:
        """The next bytes, without moving: pickle.load() reads through it what it would otherwise
        read opcode by opcode (a dozen read() calls for each posting block's header, which a
        merge reads for every term), then read()s only what it used. A few hundred bytes at most
        (pickle asks for far more): a block header is a few dozen."""
        return bytes(self._view[self._at : self._at + min(max(size, 1), 512)])

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._at + size)
        start = at = self._at
        while at < end:  # pickle reads lines only for protocol-0 opcodes: short ones
            chunk = bytes(self._view[at : min(end, at + 256)])
            newline = chunk.find(b"\n")
            if newline >= 0:
                at += newline + 1
                break
            at += len(chunk)
        self._at = at
        return bytes(self._view[start:at])

    def seek(self, offset: int, whence: int = 0) -> int:
        self._at = offset if whence == 0 else self._at + offset if whence == 1 else len(self._view) + offset
        return self._at

    def tell(self) -> int:
        return self._at

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _open_without_copy(self, buf, name=None, onclose=None):
    """BufferFile.__init__ in 2.7.5 wraps the mapped bytes in BytesIO, which copies them: every
    segment reader opened (each write's delete, each new searcher) copied the whole segment,
    0.45 s at 2,000 episodes. The same attributes, over the mapping itself."""
    self._buf = buf
    self._name = name
    self.file = _MappedFile(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


if FAST:
    from whoosh.filedb.structfile import BufferFile

    BufferFile.__init__ = _open_without_copy
