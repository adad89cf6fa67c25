"""The index writers' codec (whoosh_internals.writer_codec) writes a segment's terms and postings
files byte for byte as Whoosh's own codec does: any Whoosh reader, and a later Whoosh version's
merge, reads them as its own."""

import pytest
from whoosh import fields
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import RamStorage

from app.search import whoosh_internals


def segment_files(schema: fields.Schema, codec, write) -> dict[str, bytes]:
    """The terms and postings files of the one segment write(writer) makes with this codec, by
    extension (a segment's file names hold its random id)."""
    storage = RamStorage()
    ix = storage.create_index(schema)
    writer = ix.writer(codec=codec, compound=False)
    write(writer)
    writer.commit(merge=False)
    return {
        name.rsplit(".", 1)[1]: storage.open_file(name).read()
        for name in storage.list()
        if name.endswith((".trm", ".pst"))
    }


def test_every_kind_of_posting_list_is_written_as_whoosh_writes_it():
    """Terms in one posting (of weight 1 and 2) and in several blocks (exactly 128, 129, 256, 300 of them), weights
    all 1, all the same, all different; fields with positions, frequencies, characters, no value;
    scored and not; documents without a field."""
    schema = fields.Schema(
        key=fields.ID(stored=True),
        text=fields.TEXT(),
        chars=fields.TEXT(chars=True),
        tags=fields.KEYWORD(scorable=True, lowercase=True),
        year=fields.NUMERIC(),
        plain=fields.TEXT(phrase=False),
    )

    def write(writer):
        for n in range(300):
            words = ["partout", f"mot{n % 7}"]
            words += ["cent"] * (n < 128) + ["cent29"] * (n < 129) + ["deux"] * (n < 256)
            words += ["double", "double"] * (n % 5 == 0) + ["rare"] * (n == 17) + ["solo", "solo"] * (n == 3)
            words += [f"seul{n}"]
            words += ["varie"] * (1 + n % 4)
            doc = {"key": f"d{n}", "text": " ".join(words), "year": 2000 + n % 30}
            if n % 3:
                doc["chars"] = " ".join(reversed(words))
                doc["tags"] = " ".join(f"t{(n * k) % 11}" for k in range(1 + n % 5))
            if n % 2:
                doc["plain"] = " ".join(words[: 1 + n % len(words)])
            writer.add_document(**doc)

    for level in (3, 0):
        ours = segment_files(schema, whoosh_internals.writer_codec(compress=bool(level)), write)
        whoosh = segment_files(schema, W3Codec(compression=level), write)
        assert set(ours) == {"trm", "pst"}
        assert ours == whoosh, f"compression {level}"


@pytest.mark.parametrize("gathered", [None, 4096])
def test_a_real_archives_segments_are_written_as_whoosh_writes_them(seeded, index, monkeypatch, gathered):
    """The seeds' passages (the archive's own schema and analysis), rewritten from the index's
    segments as a merge does; also with the writes gathered 4 KB at a time, as a rebuild's large
    segments are a megabyte at a time."""
    if gathered:
        monkeypatch.setattr(whoosh_internals, "GATHERED", gathered)
    readers = [leaf.reader() for leaf, _ in index.searcher().searcher.leaf_searchers()]
    assert sum(r.doc_count() for r in readers) > 100

    def write(writer):
        for reader in readers:
            writer.add_reader(reader)

    for level in (3, 0):
        ours = segment_files(index.schema, whoosh_internals.writer_codec(compress=bool(level)), write)
        whoosh = segment_files(index.schema, W3Codec(compression=level), write)
        assert len(ours["pst"]) > 100_000 and ours == whoosh, f"compression {level}"
