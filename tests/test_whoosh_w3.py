"""search.whoosh_w3: what release-search relies on below Whoosh's public API, checked against
Whoosh's own public behaviour, so that a Whoosh upgrade that changes one of them fails here.

The indexes of these tests are real and small: 200 generated releases written by a full rebuild
(the bulk writer), and the same after five of them were changed by an incremental update
(Whoosh's writer): two segments, deletions in the first.

The writing side as a whole (:class:`~search.whoosh_w3.SegmentFiles`, ``PerDocWriter``,
``TermsFile``, ``commit_segments``, the format constants used by ``search.postingtable``) is
checked by the oracle tests of ``tests/test_writing.py``: an index written through them holds
exactly what Whoosh's own writer makes of the same documents. Here each piece is checked alone.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import whoosh.index
from whoosh.codec.whoosh3 import W3LeafMatcher, W3TermInfo
from whoosh.fields import ID, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter
from whoosh.util.numeric import byte_to_length, length_to_byte

from search import build_index, storage
from search.whoosh_w3 import (
    BLOCK,
    COMPOUND_SUFFIX,
    POSTINGS_SUFFIX,
    STORED_SUFFIX,
    TERMINFO,
    TERMS_SUFFIX,
    ClosingStorage,
    TermIndexWriter,
    column_suffix,
    culprit_file,
    length_bytes,
    lengths_suffix,
    moved_terminfos,
    newest_toc,
    open_segment_reader,
    read_postings,
    read_toc,
    segment_field_lengths,
    term_postings,
    terminfo_doc_frequency,
    toc_pattern,
)

from conftest import SEEDS, make_releases

SCORED = ("words", "bigrams", "title")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``bulk``: 200 releases as the full rebuild wrote them (one segment); ``grown``: the same
    after an incremental update (two segments, deletions in the first)."""
    root = tmp_path_factory.mktemp("w3")
    src, ix_dir = root / "src", root / "index"
    make_releases(src, 200, seed=3, paragraphs=2)
    assert build_index([src], ix_dir).full
    bulk = root / "bulk"
    shutil.copytree(storage.current_generation(ix_dir), bulk)
    make_releases(src, 5, seed=4, paragraphs=2)  # rewrites gen0000..gen0004
    report = build_index([src], ix_dir)
    assert (report.full, report.updated, report.paragraphs) == (False, 5, 600)
    gen = storage.current_generation(ix_dir)
    with open_reader(gen) as reader:
        assert len(leaves(reader)) == 2
        assert reader.has_deletions()
    return {"bulk": bulk, "grown": gen}


@pytest.fixture(scope="module")
def grown(built: dict[str, Path]) -> Path:
    return built["grown"]


@contextmanager
def open_reader(gen: Path) -> Iterator:
    ix = whoosh.index.open_dir(str(gen), indexname=storage.INDEX_NAME)
    with ix.reader() as reader:
        yield reader


def leaves(reader) -> list:
    return [leaf for leaf, _offset in reader.leaf_readers()]


def all_terms(leaf) -> Iterator[tuple[str, bytes]]:
    for fieldname in leaf.indexed_field_names():
        for btext in leaf.lexicon(fieldname):
            yield fieldname, btext


def bulk_segment_id(gen: Path) -> str:
    """The id of the segment the full rebuild wrote (the larger one)."""
    with open_reader(gen) as reader:
        leaf = max(leaves(reader), key=lambda r: r.doc_count_all())
        return leaf.segment().segment_id()


# ------------------------------------------------------------------------- reading


@pytest.mark.parametrize("which", ["bulk", "grown"])
def test_read_postings_equals_iterating_the_matcher(built: dict[str, Path], which: str) -> None:
    """On W3 leaf matchers (read a block at a time) and on the matchers Whoosh gives for a
    segment with deletions (read through the public API)."""
    longest = 0
    with open_reader(built[which]) as reader:
        for leaf in leaves(reader):
            for fieldname, btext in all_terms(leaf):
                expected_ids, expected_weights = [], []
                m = leaf.postings(fieldname, btext)
                while m.is_active():
                    expected_ids.append(m.id())
                    expected_weights.append(m.weight())
                    m.next()
                matcher = leaf.postings(fieldname, btext)
                assert isinstance(matcher, W3LeafMatcher) == (not leaf.has_deletions())
                ids, weights = read_postings(matcher)
                assert (list(ids), list(weights)) == (expected_ids, expected_weights), (
                    fieldname, btext.decode())
                longest = max(longest, len(ids))
    assert longest > 2 * BLOCK  # posting lists of several blocks were read


@pytest.mark.parametrize("which", ["bulk", "grown"])
def test_term_postings_are_the_matchers_postings(built: dict[str, Path], which: str) -> None:
    """Read in one piece: the postings Whoosh's matcher gives (the live ones, where the
    segment has deletions: term_postings keeps the deleted, the caller drops them), as
    float32 weights; None for a term the segment does not hold."""
    with open_reader(built[which]) as reader:
        for leaf in leaves(reader):
            for fieldname, btext in all_terms(leaf):
                expected = []
                m = leaf.postings(fieldname, btext)
                while m.is_active():
                    expected.append((m.id(), float(np.float32(m.weight()))))
                    m.next()
                ids, weights = term_postings(leaf, fieldname, btext.decode("utf-8"))
                assert (ids.dtype, weights.dtype) == (np.int64, np.float32)
                got = [(i, w) for i, w in zip(ids.tolist(), weights.tolist())
                       if not leaf.is_deleted(i)]
                assert got == expected, (fieldname, btext.decode())
            assert term_postings(leaf, "words", "没有这个词语") is None


def test_no_posting_list_is_inlined_in_its_term_info(grown: Path) -> None:
    """new_codec() (both writers use it) keeps every posting list in the postings file, as
    the bulk encoder writes them and read_postings reads them."""
    with open_reader(grown) as reader:
        for leaf in leaves(reader):
            for fieldname, btext in all_terms(leaf):
                assert not leaf.term_info(fieldname, btext).is_inlined()


def test_segment_field_lengths_equal_doc_field_length(grown: Path) -> None:
    with open_reader(grown) as reader:
        for leaf in leaves(reader):
            n = leaf.doc_count_all()
            for fieldname in (*SCORED, "doc_id"):  # doc_id has no lengths: zeros
                expected = [leaf.doc_field_length(d, fieldname) or 0 for d in range(n)]
                got = segment_field_lengths(leaf, fieldname, n)
                assert got.dtype == np.float32
                assert got.tolist() == expected, fieldname
            assert any(leaf.doc_field_length(d, "title") for d in range(n))


def test_length_bytes_is_whooshs_length_code() -> None:
    lengths = np.r_[np.arange(0, 120_000), [10**6, 2**31 - 1]]
    assert length_bytes(lengths).tolist() == [length_to_byte(int(n)) for n in lengths]


def test_read_toc_and_segment_readers_are_what_whoosh_opens(grown: Path) -> None:
    ix = whoosh.index.open_dir(str(grown), indexname=storage.INDEX_NAME)
    assert newest_toc(grown, storage.INDEX_NAME) == (
        grown / f"_{storage.INDEX_NAME}_{ix.latest_generation()}.toc")
    assert sorted(grown.glob(toc_pattern(storage.INDEX_NAME))) == [
        newest_toc(grown, storage.INDEX_NAME)]
    store = ClosingStorage(str(grown))
    try:
        toc = read_toc(store, storage.INDEX_NAME)
        assert toc.generation == ix.latest_generation()
        assert toc.schema.names() == ix.schema.names()
        with ix.reader() as reader:
            assert len(toc.segments) == len(leaves(reader))
            for segment, leaf in zip(toc.segments, leaves(reader)):
                alone = open_segment_reader(store, toc.schema, segment)
                try:
                    assert (alone.doc_count_all(), alone.doc_count()) == (
                        leaf.doc_count_all(), leaf.doc_count())
                    assert list(alone.all_stored_fields()) == list(leaf.all_stored_fields())
                    assert list(alone.lexicon("words")) == list(leaf.lexicon("words"))
                finally:
                    alone.close()
        opened = store.open_file(newest_toc(grown, storage.INDEX_NAME).name)
    finally:
        store.close_all()
    assert opened.is_closed


def test_file_name_suffixes_name_the_segments_files(grown: Path) -> None:
    seg_id = bulk_segment_id(grown)
    with open_reader(grown) as reader:
        schema = reader.schema
        (leaf,) = [r for r in leaves(reader) if r.segment().segment_id() == seg_id]
        # a column no document of the segment gives a value (these releases have no date,
        # publisher or speaker) is not written
        columns = {name for name, field in schema.items()
                   if field.column_type and leaf.has_column(name)}
    assert {"doc_id", "section"} <= columns
    expected = {TERMS_SUFFIX, POSTINGS_SUFFIX, STORED_SUFFIX}
    expected |= {lengths_suffix(name) for name in SCORED}
    expected |= {column_suffix(name) for name in columns}
    files = {p.name[len(seg_id):] for p in grown.glob(f"{seg_id}.*")}
    assert files == expected


def test_compound_suffix_names_a_compound_segment(tmp_path: Path) -> None:
    ix = whoosh.index.create_in(str(tmp_path), Schema(id=ID))
    writer = ix.writer(compound=True)
    writer.add_document(id="a")
    writer.commit()
    with ix.reader() as reader:
        seg_id = reader.segment().segment_id()
    assert [p.name for p in tmp_path.glob(f"{seg_id}*")] == [seg_id + COMPOUND_SUFFIX]


@pytest.mark.parametrize(("suffix", "damage", "read"), [
    (POSTINGS_SUFFIX, "zero", lambda r: [r.postings(f, t).all_ids() for f, t in all_terms(r)]),
    (STORED_SUFFIX, "truncate", lambda r: list(r.all_stored_fields())),
    (TERMS_SUFFIX, "truncate", lambda r: list(r.lexicon("words"))),
], ids=["postings", "stored", "terms"])
def test_culprit_file_names_the_damaged_file(grown: Path, tmp_path: Path, suffix: str,
                                             damage: str, read) -> None:
    gen = tmp_path / "gen"
    shutil.copytree(grown, gen)
    seg_id = bulk_segment_id(gen)
    path = gen / (seg_id + suffix)
    if damage == "zero":
        path.write_bytes(bytes(path.stat().st_size))
    else:
        os.truncate(path, path.stat().st_size // 2)
    store = ClosingStorage(str(gen))
    try:
        toc = read_toc(store, storage.INDEX_NAME)
        (segment,) = [s for s in toc.segments if s.segment_id() == seg_id]
        with pytest.raises(Exception) as caught:
            reader = open_segment_reader(store, toc.schema, segment)
            read(reader)
    finally:
        store.close_all()
    assert culprit_file(caught.value) == seg_id + suffix


def test_culprit_file_is_none_without_a_whoosh_file() -> None:
    try:
        raise ValueError("no file here")
    except ValueError as exc:
        assert culprit_file(exc) is None


# ------------------------------------------------------------------------- the W3 format


def test_terminfo_is_the_layout_of_w3_term_infos(grown: Path) -> None:
    """Every term info of the bulk-written term index, read raw, unpacks with TERMINFO into
    what Whoosh's reader reports; and TERMINFO-packed bytes read back through
    ``W3TermInfo.from_bytes``."""
    seg_id = bulk_segment_id(grown)
    raw = OrderedHashReader.open(FileStorage(str(grown)), seg_id + TERMS_SUFFIX)
    try:
        names = {number: name for name, number in raw.extras["fieldmap"].items()}
        items = list(raw.items())
    finally:
        raw.close()
    assert len(items) > 1000
    extents, values, infos = [], [], []
    with open_reader(grown) as reader:
        (leaf,) = [r for r in leaves(reader) if r.segment().segment_id() == seg_id]
        for key, value in items:
            (number,) = struct.unpack("!H", key[:2])
            ti = leaf.term_info(names[number], key[2:])
            (flags, weight, df, minlen, maxlen, maxweight, minid, maxid, offset,
             length) = TERMINFO.unpack(value)
            assert (flags, weight, df, byte_to_length(minlen), byte_to_length(maxlen),
                    maxweight, minid, maxid, offset) == (
                0, ti.weight(), ti.doc_frequency(), ti.min_length(), ti.max_length(),
                ti.max_weight(), ti.min_id(), ti.max_id(), ti.extent()[0])
            assert terminfo_doc_frequency(value) == ti.doc_frequency()
            values.append(value)
            infos.append(ti)
            extents.append((offset, length))
    for moved_bytes, ti, (offset, _length) in zip(moved_terminfos(values, 1000), infos, extents):
        moved = W3TermInfo.from_bytes(moved_bytes)
        assert moved.extent()[0] == offset + 1000
        assert (moved.weight(), moved.doc_frequency(), moved.max_id()) == (
            ti.weight(), ti.doc_frequency(), ti.max_id())
    # The posting lists, one after another, fill the postings file.
    extents.sort()
    assert extents[0][0] == 0
    assert all(a + n == b for (a, n), (b, _m) in zip(extents, extents[1:]))
    assert sum(n for _o, n in extents) == (grown / (seg_id + POSTINGS_SUFFIX)).stat().st_size

    packed = TERMINFO.pack(0, 7.0, 3, 2, 9, 4.0, 10, 99, 1234, 56)
    ti = W3TermInfo.from_bytes(packed)
    assert (ti.is_inlined(), ti.weight(), ti.doc_frequency(), ti.min_length(), ti.max_length(),
            ti.max_weight(), ti.min_id(), ti.max_id(), ti.extent()[0]) == (
        False, 7.0, 3, byte_to_length(2), byte_to_length(9), 4.0, 10, 99, 1234)


def test_term_index_writer_writes_the_bytes_of_whooshs_ordered_hash(tmp_path: Path) -> None:
    keys = sorted({f"{i % 7}{chr(0x4e00 + i * 37 % 20000)}{i}".encode() for i in range(3000)})
    items = [(k, k[::-1] * (1 + len(k) % 3)) for k in keys]
    storage = FileStorage(str(tmp_path))
    ours, stock = storage.create_file("ours"), storage.create_file("stock")
    writer = TermIndexWriter(ours)
    writer.extras["fieldmap"] = {"words": 0}
    writer.add_many(items[:1000])
    writer.add_many(items[1000:])
    writer.close()
    reference = OrderedHashWriter(stock)
    reference.extras["fieldmap"] = {"words": 0}
    for key, value in items:
        reference.add(key, value)
    reference.close()
    assert (tmp_path / "ours").read_bytes() == (tmp_path / "stock").read_bytes()


def _write_columns(writer_class, storage: FileStorage, docs: list[dict]) -> dict[str, bytes]:
    """The column files a per-document writer makes of ``docs`` (field -> value), by suffix."""
    from whoosh.codec.whoosh3 import W3Codec

    from search.whoosh_w3 import new_codec

    codec = new_codec()
    segment = codec.new_segment(storage, "T")
    field = ID(stored=True, sortable=True)
    writer = writer_class(codec, storage, segment)
    for docnum, doc in enumerate(docs):
        writer.start_doc(docnum)
        for name, value in sorted(doc.items()):
            writer.add_field(name, field, value, 0)
            writer.add_column_value(name, field.column_type, field.to_column_value(value))
        writer.finish_doc()
    writer.close()
    prefix = W3Codec.column_filename(segment, "x")[:-len(column_suffix("x"))]
    return {name[len(prefix):]: (Path(storage.folder) / name).read_bytes()
            for name in storage.list() if name.startswith(prefix)}


def test_per_document_writer_writes_the_column_files_of_whooshs(tmp_path: Path) -> None:
    """``PerDocWriter`` keeps the byte columns' values and writes each column in one go: the
    same files as Whoosh's writer adding them document by document, dense and sparse
    columns, long values (lengths past one byte), over 2**15 documents (Whoosh then writes
    the offsets too) and an empty value."""
    from whoosh.codec.whoosh3 import W3PerDocWriter

    from search.whoosh_w3 import STORED_LEVEL_1, PerDocWriter

    class Stock(W3PerDocWriter):  # Whoosh's writer, with our stored fields' level
        def _create_column(self, fieldname, column):
            super()._create_column(fieldname, STORED_LEVEL_1 if fieldname == "_stored"
                                   else column)

    docs = []
    for d in range(40000):
        doc = {"dense": f"r{d // 17}", "sparse": "长" * (d % 300) if d % 5 == 0 else None,
               "tail": "x" if 120 <= d < 130 else None, "empty": "" if d == 7 else None}
        docs.append({k: v for k, v in doc.items() if v is not None})
    docs[-1] = {}  # no value, no stored fields
    (tmp_path / "ours").mkdir()
    (tmp_path / "stock").mkdir()
    ours = _write_columns(PerDocWriter, FileStorage(str(tmp_path / "ours")), docs)
    stock = _write_columns(Stock, FileStorage(str(tmp_path / "stock")), docs)
    assert sorted(ours) == sorted(stock) == sorted(
        column_suffix(name) for name in ("_stored", "dense", "sparse", "tail", "empty"))
    for suffix in stock:
        assert ours[suffix] == stock[suffix], suffix


# ------------------------------------------------------------------------- committing


def test_commit_segments_leaves_one_table_of_contents_and_no_temporary_files(
        tmp_path: Path) -> None:
    """Like Whoosh's own commit: the empty index's table of contents (generation 0) and the
    writer's temporary folder do not outlive the build (else losing ``_MAIN_1.toc`` would
    silently open an empty index)."""
    build_index([SEEDS], tmp_path / "index", full=True)
    gen = storage.current_generation(tmp_path / "index")
    names = sorted(p.name for p in gen.iterdir())
    assert [n for n in names if n.endswith(".toc")] == ["_MAIN_1.toc"]
    assert [n for n in names if n.endswith(".tmp")] == []
    ix = whoosh.index.open_dir(str(gen), indexname=storage.INDEX_NAME)
    assert (ix.latest_generation(), ix.doc_count()) == (1, 31)
