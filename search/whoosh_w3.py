"""Everything release-search relies on below Whoosh's public API: the W3 codec's files.

Searching and incremental updates go through Whoosh's public API (``whoosh.index``,
``fields``, ``analysis``, ``formats``, ``query``, ``searching``). Three jobs need more, and get
it here only:

* the bulk writer of full rebuilds (:mod:`search.writing`, :mod:`search.postingtable`) writes a
  W3 segment itself: :class:`SegmentFiles`, :class:`TermsFile`, :class:`TermIndexWriter`,
  :func:`commit_segments` and the format constants (:data:`TERMINFO`, :func:`length_bytes`...);
* the posting cache (:mod:`search.postings`) reads whole posting lists and length columns:
  :func:`term_postings`, :func:`read_postings`, :func:`segment_field_lengths`;
* the integrity check (:mod:`search.check`) reads each segment on its own and names the file
  at fault: :func:`read_toc`, :func:`open_segment_reader`, :class:`ClosingStorage`,
  :func:`culprit_file` and the file name suffixes;
* an incremental update that fails or is cancelled removes what its writer wrote:
  :func:`abandon_writer`, :func:`discard_uncommitted`.

Each use of a Whoosh internal is commented with the behaviour it relies on (as of
Whoosh-Reloaded 2.7), and ``tests/test_whoosh_w3.py`` checks each against Whoosh's public
behaviour, so that an upgrade that changes one fails there.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import pickle
import re
import shutil
import struct
import zlib
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from whoosh import columns
from whoosh.analysis import IDTokenizer
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3LeafMatcher,
    W3PerDocWriter,
    W3TermInfo,
    W3TermsReader,
    _lenfield,
)
from whoosh.fields import ID, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.filedb.structfile import StructFile
from whoosh.formats import Existence
from whoosh.index import TOC, clean_files
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.util.numeric import _length_byte_cache, byte_to_length, length_to_byte

from .errors import SearchError


def new_codec() -> W3Codec:
    """The codec of every segment the index writes (bulk and incremental alike)."""
    # Whoosh's default inline limit (1): no posting list is inlined into its term info, which
    # the bulk encoder relies on too. Larger limits need whoosh-reloaded's misnamed
    # ``set_inline`` patched, and then merging segments fails on inlined ID-field postings
    # (their values read back as str): found by review, see test_many_incremental_updates.
    return W3Codec()


# --- the W3 format ------------------------------------------------------------------------------

#: Starts each posting list (W3PostingsWriter writes it before the first block; W3LeafMatcher
#: checks it).
POSTINGS_MAGIC = WHOOSH3_HEADER_MAGIC
#: Postings per block: the codec's ``blocklimit`` (W3Codec's default, 128).
BLOCK = new_codec()._blocklimit
#: A block's length before it (whoosh.system.pack_int; negative for the last block, as
#: W3LeafMatcher._goto reads it).
INT = struct.Struct("!i")
#: A term info whose postings are in the postings file (not inlined): W3TermInfo.to_bytes packs
#: W3TermInfo._struct (flags 0, total weight, doc frequency, min and max length bytes, max
#: weight, first and last document number), then the list's offset (long) and length (int).
TERMINFO = struct.Struct(W3TermInfo._struct.format + "qi")

# Whoosh stores lengths as one byte each, length_to_byte's logarithmic code: the byte is the
# first entry of util.numeric._length_byte_cache not below the length, 255 from 106374 on.
_LENGTH_CODES = np.asarray(_length_byte_cache, dtype=np.int64)
_BYTE_TO_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """``whoosh.util.numeric.length_to_byte`` of each length (Whoosh's one-byte code)."""
    codes = np.searchsorted(_LENGTH_CODES, lengths, side="left")
    return np.where(lengths >= 106374, 255, codes)


#: :data:`TERMINFO` as a NumPy record (big-endian, packed), to read or write many at once.
TERMINFO_DTYPE = np.dtype([("flags", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlen", "u1"),
                           ("maxlen", "u1"), ("maxweight", ">f4"), ("minid", ">u4"),
                           ("maxid", ">u4"), ("offset", ">i8"), ("length", ">i4")])
if TERMINFO_DTYPE.itemsize != TERMINFO.size:
    raise ImportError("TERMINFO_DTYPE does not match W3TermInfo's layout")


def split_terminfos(raw: bytes) -> list[bytes]:
    """Packed :data:`TERMINFO` records (``TERMINFO_DTYPE`` arrays' bytes), one by one."""
    width = TERMINFO.size
    return [raw[i:i + width] for i in range(0, len(raw), width)]


def moved_terminfos(terminfos: list[bytes], by: int) -> list[bytes]:
    """Each of ``terminfos`` (:data:`TERMINFO`) with its postings offset moved by ``by``
    bytes."""
    records = np.frombuffer(b"".join(terminfos), dtype=TERMINFO_DTYPE).copy()
    records["offset"] += by
    return split_terminfos(records.tobytes())


def terminfo_doc_frequency(terminfo: bytes) -> int:
    """The document frequency a :data:`TERMINFO` records."""
    return TERMINFO.unpack_from(terminfo)[2]


# File names: a segment writes ``<segment id><suffix>`` files (Segment.make_filename), or one
# compound file; a column ``name`` is ``.<name>.col`` (W3Codec.column_filename).
TERMS_SUFFIX = W3Codec.TERMS_EXT
POSTINGS_SUFFIX = W3Codec.POSTS_EXT
COMPOUND_SUFFIX = ".seg"  # codec.base.Segment.COMPOUND_EXT


def column_suffix(column: str) -> str:
    """The file name suffix of a segment's column ``column``."""
    return f".{column}{W3Codec.COLUMN_EXT}"


#: The stored fields' column (W3PerDocWriter writes them as the column ``_stored``).
STORED_SUFFIX = column_suffix("_stored")


def lengths_suffix(fieldname: str) -> str:
    """The file name suffix of a field's lengths column (W3's ``_<field>_len``)."""
    return column_suffix(_lenfield(fieldname))


def toc_pattern(indexname: str) -> str:
    """The glob of an index's tables of contents: Whoosh writes one
    ``_<indexname>_<generation>.toc`` per commit (TOC._filename)."""
    return f"_{indexname}_*.toc"


def newest_toc(directory: Path, indexname: str) -> Path | None:
    """The table of contents of the newest generation in ``directory`` (the one Whoosh
    opens), or None."""
    def generation(path: Path) -> int:
        number = path.name[len(indexname) + 2:-len(".toc")]
        return int(number) if number.isdigit() else -1

    tocs = sorted(directory.glob(toc_pattern(indexname)), key=generation)
    return tocs[-1] if tocs else None


# --- reading ------------------------------------------------------------------------------------


def read_postings(matcher) -> tuple[list, list]:
    """The document numbers and weights of a fresh matcher's postings: the same as iterating
    it with ``id()`` and ``weight()``, but a W3 block at a time."""
    ids: list = []
    weights: list = []
    if isinstance(matcher, W3LeafMatcher):
        m = matcher
        # W3LeafMatcher loads a block lazily: _read_ids / _read_weights decode the current
        # block into _ids (absolute document numbers) and _weights (an array of floats;
        # None is taken as all 1.0); _lastblock marks the last block, _next_block moves on.
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids.extend(m._ids)
            w = m._weights
            weights.extend(w if w is not None else [1.0] * len(m._ids))
            if m._lastblock:
                break
            m._next_block()
        return ids, weights
    m = matcher  # another codec, or postings inlined in their term info: the public way
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return ids, weights


def term_postings(leaf, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The document numbers (int64) and weights (float32) of a term's postings in one
    segment reader ``leaf``, deleted documents included or not (the caller keeps the live
    ones); None when the segment does not hold the term. The same postings as
    :func:`read_postings` of ``leaf.postings(fieldname, text)``, a W3 posting list read in one
    piece and decoded a block at a time with NumPy."""
    try:
        info = leaf.term_info(fieldname, text)
    except TermNotFound:
        return None
    # SegmentReader._terms is the codec's terms reader; W3TermsReader._postfile its postings
    # file, where a term info's extent() is its posting list: the magic number, then blocks
    # of a length (INT, negative for the last), the pickled info (postings, max id, max
    # weight, compression, min and max length bytes) and the data (pickled (delta-coded ids,
    # weights, values), zlib-compressed when the info says so), as W3LeafMatcher reads them.
    # Weights are None (all 1.0), one float for all, or one each.
    postfile = getattr(getattr(leaf, "_terms", None), "_postfile", None)
    if not isinstance(leaf._terms, W3TermsReader) or postfile is None or info.is_inlined():
        ids, weights = read_postings(leaf.postings(fieldname, text))
        return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32)
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes keeps unpack_int's 1-tuple
        (length,) = length
    raw = postfile.get(offset, length)
    if raw[:len(POSTINGS_MAGIC)] != POSTINGS_MAGIC:
        raise Exception(f"Block tag error {raw[:len(POSTINGS_MAGIC)]!r}")  # as Whoosh's
    f = io.BytesIO(raw)
    f.seek(len(POSTINGS_MAGIC))
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    while True:
        start = f.tell()
        (size,) = INT.unpack(f.read(INT.size))
        end = start + INT.size + abs(size)
        count, _maxid, _maxweight, compression, _minlen, _maxlen = pickle.load(f)
        data = raw[f.tell():end]
        deltas, w, _values = pickle.loads(zlib.decompress(data) if compression else data)
        ids.append(np.cumsum(np.asarray(deltas, dtype=np.int64)))
        if w is None:
            weights.append(np.ones(count, dtype=np.float32))
        elif isinstance(w, float):
            weights.append(np.full(count, w, dtype=np.float32))
        else:
            weights.append(np.asarray(w, dtype=np.float32))
        if size < 0:
            break
        f.seek(end)
    return np.concatenate(ids), np.concatenate(weights)


def segment_field_lengths(leaf, fieldname: str, count: int) -> np.ndarray:
    """The field lengths of one segment's ``count`` documents (0 for none), as
    ``leaf.doc_field_length`` gives them, read in one block from the W3 lengths column."""
    try:
        # SegmentReader._perdoc is the W3PerDocReader; its _cached_reader opens a column (None
        # if the segment has none), a NumericColumn reader whose bytes, one per document,
        # start at _basepos in _dbfile; _count is how many it holds.
        reader = leaf._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if reader is None:
            return np.zeros(count, dtype=np.float32)
        raw = np.frombuffer(reader._dbfile.get(reader._basepos, reader._count), dtype=np.uint8)
        codes = np.zeros(count, dtype=np.uint8)
        codes[:min(count, len(raw))] = raw[:count]
        return _BYTE_TO_LENGTH[codes]
    except AttributeError:  # another codec: ask document by document
        dfl = leaf.doc_field_length
        return np.array([dfl(d, fieldname, 0) for d in range(count)], dtype=np.float32)


def read_toc(storage: FileStorage, indexname: str) -> TOC:
    """The newest table of contents of the index (its ``schema`` and ``segments``)."""
    return TOC.read(storage, indexname)  # what whoosh.index.FileIndex reads to open


def open_segment_reader(storage: FileStorage, schema: Schema, segment) -> SegmentReader:
    """A reader of one segment alone (what ``ix.reader()`` combines, one per segment)."""
    return SegmentReader(storage, schema, segment)


class ClosingStorage(FileStorage):
    """A read-only FileStorage that remembers the files it opened, so that they can all be
    closed even when Whoosh gives up half-way through reading a damaged file."""

    def __init__(self, path: str) -> None:
        super().__init__(path, readonly=True)
        self._opened: list = []

    def open_file(self, name, **kwargs):
        """Open a file (FileStorage.open_file), to be closed by :meth:`close_all`."""
        f = super().open_file(name, **kwargs)
        self._opened.append(f)
        return f

    def close_all(self) -> None:
        """Close every file opened so far."""
        for f in self._opened:
            if not f.is_closed:
                with contextlib.suppress(Exception):  # already half-closed by Whoosh
                    f.close()
        self._opened.clear()


def culprit_file(exc: BaseException) -> str | None:
    """The name of the innermost Whoosh file being read when ``exc`` was raised, or None."""
    # Whoosh's errors do not name the file: find the StructFile objects (their _name is the
    # storage's file name) among the locals of the traceback's frames, or among the
    # attributes of the objects there (the readers hold their files).
    name = None
    tb = exc.__traceback__
    while tb is not None:  # innermost frame last: keep the last file seen
        for value in tb.tb_frame.f_locals.values():
            found = _file_name(value)
            if found is None and hasattr(value, "__dict__"):
                found = next((n for n in map(_file_name, vars(value).values()) if n), None)
            if found:
                name = found
        tb = tb.tb_next
    return name


def _file_name(value) -> str | None:
    if isinstance(value, StructFile):
        name = getattr(value, "_name", None)
        return name if isinstance(name, str) else None
    return None


# --- writing ------------------------------------------------------------------------------------

#: Stored fields compressed with zlib level 1 instead of W3's 3 (Whoosh's reader decompresses
#: any level; half the compression time for a few per cent more bytes).
STORED_LEVEL = 1
STORED_LEVEL_1 = columns.PickleColumn(columns.CompressedBytesColumn(level=STORED_LEVEL))

_LENGTHS = struct.Struct("!ii")  # filetables._lengths: a hash record's key and value sizes


class TermIndexWriter(OrderedHashWriter):
    """Whoosh's term index file (an ordered hash), taking many keys in one write."""

    def add_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        """Add ``(key, value)`` pairs in increasing key order: the same file as calling
        ``add`` for each."""
        # OrderedHashWriter.add: records the record's position in ``index``, keeps
        # ``lastkey``; HashWriter.add: writes the sizes, key and value, and files
        # (hash, position) in ``buckets[hash & 255]``.
        dbfile = self.dbfile
        pos = dbfile.tell()
        out: list[bytes] = []
        index_append = self.index.append
        buckets = self.buckets
        last = self.lastkey
        md5_hash = self.hashtype == 0
        for key, value in items:
            if key <= last:
                raise ValueError(f"keys must increase: {last!r}..{key!r}")
            last = key
            index_append(pos)
            if md5_hash:  # filetables.md5_hash: the digest's low 32 bits
                h = int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest()[12:], "big")
            else:
                h = self.hashfn(key)
            buckets[h & 255].append((h, pos))
            out.append(_LENGTHS.pack(len(key), len(value)))
            out.append(key)
            out.append(value)
            pos += _LENGTHS.size + len(key) + len(value)
        dbfile.write(b"".join(out))
        self.lastkey = last

    def _write_hashes(self) -> None:
        # HashWriter._write_hashes (called by close), with each bucket's table packed in one
        # call instead of one write per slot: the same bytes.
        dbfile = self.dbfile
        for entries in self.buckets:
            pos = dbfile.tell()
            numslots = 2 * len(entries)
            self.directory.append((pos, numslots))
            table = [0] * (2 * numslots)  # hash value, position per slot; (0, 0) is empty
            for hashval, position in entries:
                slot = (hashval >> 8) % numslots
                while table[2 * slot] or table[2 * slot + 1]:
                    slot = (slot + 1) % numslots
                table[2 * slot] = hashval
                table[2 * slot + 1] = position
            if numslots:
                dbfile.write(struct.pack("!" + "Iq" * numslots, *table))


class TermsFile:
    """A new segment's postings (``.pst``) and term index (``.trm``) files, written the way
    Whoosh's W3FieldWriter writes them."""

    def __init__(self, storage: FileStorage, segment):
        self._postfile = segment.create_file(storage, POSTINGS_SUFFIX)
        self._tindex = TermIndexWriter(segment.create_file(storage, TERMS_SUFFIX))
        # W3FieldWriter numbers the fields in the term index's extras["fieldmap"].
        self._fieldmap = self._tindex.extras["fieldmap"] = {}

    def field_id(self, fieldname: str) -> bytes:
        """The prefix of the field's keys in the term index (W3FieldWriter.finish_term: the
        field's number, whoosh.system.pack_ushort)."""
        fid = self._fieldmap.setdefault(fieldname, len(self._fieldmap))
        return struct.pack("!H", fid)

    def add_postings(self, blob: bytes) -> int:
        """Append encoded posting lists; returns the offset they start at."""
        base = self._postfile.tell()
        self._postfile.write(blob)
        return base

    def add_terms(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        """Add ``(field id + term bytes, term info)`` pairs in increasing key order."""
        self._tindex.add_many(items)

    def close(self) -> None:
        """Write the term index's tables and close both files."""
        self._tindex.close()
        self._postfile.close()


def _growable_typecode(largest: int) -> str:
    """The type code a ``whoosh.util.numlists.GrowableArray(allow_longs=False)`` ends with
    once ``largest`` (its largest value) was appended: it starts as "B" and each value that
    overflows retypes it by that value (GrowableArray._retype)."""
    if largest < 2**8:
        return "B"
    if largest < 2**16:
        return "H"
    if largest < 2**31:
        return "i"
    if largest < 2**32:
        return "I"
    raise OverflowError(f"{largest} is too big for a column's lengths")


_NUMPY_TYPE = {"B": np.uint8, "H": np.uint16, "i": np.int32, "I": np.uint32}


def _as_growable_array(values: np.ndarray) -> array:
    code = _growable_typecode(int(values.max()) if len(values) else 0)
    out = array(code)
    out.frombytes(values.astype(_NUMPY_TYPE[code]).tobytes())  # native order, as array's
    return out


class _BufferedValues:
    """The values of one byte column, by increasing document number, until they are written
    all at once (:func:`_write_var_bytes`)."""

    __slots__ = ("docs", "values")

    def __init__(self) -> None:
        self.docs = array("q")
        self.values: list[bytes] = []


def _write_var_bytes(writer, buffered: _BufferedValues) -> None:
    """Give a fresh ``VarBytesColumn.Writer`` the values of ``buffered`` in one write: the
    same state (hence the same file at ``finish``) as one ``add(docnum, value)`` per value."""
    # VarBytesColumn.Writer.add(docnum, v) first fills the documents since the last one with
    # empty values (length 0, offset: the running total), then writes v to _dbfile, appends
    # len(v) to _lengths and the running total _offset_base to _offsets (GrowableArrays),
    # adds len(v) to _offset_base and sets _count to docnum + 1; finish(doccount) fills up to
    # doccount and writes the arrays and their type codes.
    docs = np.frombuffer(buffered.docs, dtype=np.int64)
    count = int(docs[-1]) + 1
    lengths = np.zeros(count, dtype=np.int64)
    lengths[docs] = np.fromiter(map(len, buffered.values), dtype=np.int64,
                                count=len(buffered.values))
    offsets = np.zeros(count, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    writer._dbfile.write(b"".join(buffered.values))
    writer._lengths.array = _as_growable_array(lengths)
    writer._offsets.array = _as_growable_array(offsets)
    writer._offset_base = int(offsets[-1] + lengths[-1])
    writer._count = count


class PerDocWriter(W3PerDocWriter):
    """Whoosh's per-document writer, plus writing a field's lengths column in one go after
    the documents (the parallel writer learns them from its workers at the end), stored
    fields at :data:`STORED_LEVEL_1`, and the byte columns (the ``sortable`` ID fields and
    the stored fields) kept in memory and written in one go at :meth:`close`: the same files,
    without a column writer's calls per document."""

    def __init__(self, *args, **kwargs):
        self._buffered: dict[str, _BufferedValues] = {}
        super().__init__(*args, **kwargs)

    def _create_column(self, fieldname, column):
        # W3PerDocWriter.__init__ creates its "_stored" column through _create_column.
        if fieldname == "_stored":
            column = STORED_LEVEL_1
        super()._create_column(fieldname, column)

    def add_column_value(self, fieldname, column, value):
        # base.PerDocWriter.add_column_value: creates the column on its first value, then
        # adds the value for the current document (_docnum).
        if type(column) is not columns.VarBytesColumn:
            super().add_column_value(fieldname, column, value)
            return
        if not self._has_column(fieldname):
            self._create_column(fieldname, column)
        self._buffer(fieldname, value)

    def _buffer(self, fieldname: str, value: bytes) -> None:
        buffered = self._buffered.get(fieldname)
        if buffered is None:
            buffered = self._buffered[fieldname] = _BufferedValues()
        buffered.docs.append(self._docnum)
        buffered.values.append(value)

    def finish_doc(self):
        # W3PerDocWriter.finish_doc adds the document's stored fields (a dict, in the order
        # add_field met them) to the "_stored" column unless there are none; STORED_LEVEL_1's
        # writer stores each as PickleColumn does (pickle protocol 2), compressed as
        # CompressedBytesColumn does (zlib at its level), in a VarBytesColumn.
        sf = self._storedfields
        if sf:
            self._buffer("_stored", zlib.compress(pickle.dumps(sf, 2), STORED_LEVEL))
            sf.clear()
        self._indoc = False

    def close(self):
        for fieldname, buffered in self._buffered.items():
            writer = self._get_column(fieldname)
            while isinstance(writer, columns.WrappedColumnWriter):  # the pickling of _stored
                writer = writer._child
            _write_var_bytes(writer, buffered)
        self._buffered.clear()
        super().close()

    def add_column_values(self, fieldname: str, column, values: list[bytes]) -> None:
        """The values of the byte column ``fieldname`` (a ``VarBytesColumn``) of every
        document, ``values[d]`` for document ``d``, given after the documents (instead of
        with each of them)."""
        if type(column) is not columns.VarBytesColumn or self._has_column(fieldname):
            raise SearchError(f"the {fieldname!r} column cannot be written now")
        if not values:
            return  # no document: no column, as a writer given no value writes none
        self._create_column(fieldname, column)
        buffered = self._buffered[fieldname] = _BufferedValues()
        buffered.docs.extend(range(len(values)))
        buffered.values.extend(values)

    def add_lengths(self, fieldname: str, lengths: array) -> None:
        """Write the lengths column of ``fieldname``: ``lengths[d]`` for document ``d``."""
        # What add_field does per document: a byte in the _<field>_len column (through the
        # _has_column/_create_column/_get_column column writers), the total in _fieldlengths.
        column = _lenfield(fieldname)
        if self._has_column(column):
            raise SearchError(f"the lengths of {fieldname!r} were already written")
        self._create_column(column, LENGTHS_COLUMN)
        writer = self._get_column(column)
        total = 0
        for docnum, n in enumerate(lengths):
            if n:
                writer.add(docnum, length_to_byte(n))
                total += n
        self._fieldlengths[fieldname] += total


#: ``post(fieldname, {term: weight})``: takes one document's postings of a field.
Post = Callable[[str, dict], None]


class SegmentFiles:
    """The files of one new W3 segment of the index ``indexname`` in ``dirname``: the
    per-document files first, document by document, then the terms (:meth:`terms`), then
    :meth:`finish`."""

    def __init__(self, dirname: str, schema: Schema, indexname: str):
        self.storage = FileStorage(dirname)
        self.schema = schema
        codec = new_codec()
        self.segment = codec.new_segment(self.storage, indexname)
        self._perdoc = PerDocWriter(codec, self.storage, self.segment)
        # fieldname -> (field, indexed as the whole value?, column type)
        self._plans = {name: (field, _is_plain_id(field), field.column_type)
                       for name, field in schema.items()}

    def add_document(self, docnum: int, fields: dict, lengths: dict[str, int] | None,
                     post: Post) -> dict[str, int]:
        """Add document ``docnum`` (the next one) as Whoosh's ``SegmentWriter.add_document``
        does, but handing each indexed field's term weights to ``post(fieldname, {term:
        weight})`` instead of a posting pool. Fields named in ``lengths`` are not analysed:
        their postings are made elsewhere, and ``lengths`` gives their lengths. Returns the
        non-zero lengths of the scorable fields."""
        # A copy of SegmentWriter.add_document (no boosts, vectors or _stored_ values): the
        # field names in order, "_" names skipped, None values skipped; field.index() gives
        # (term bytes, frequency, weight × field boost, value) and the length counts
        # frequencies of scorable fields; the per-document writer takes the stored value,
        # the length and the column value.
        plans = self._plans
        perdoc = self._perdoc
        names = sorted(name for name in fields if not name.startswith("_"))
        for name in names:
            if name not in plans:
                raise SearchError(f"no field named {name!r} in the schema")
        found: dict[str, int] = {}
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field, plain_id, column = plans[name]
                length = 0
                if field.indexed:
                    if lengths is not None and name in lengths:
                        length = lengths[name]
                    elif plain_id and isinstance(value, str):  # what field.index() gives
                        post(name, {value: 1})
                    else:
                        weights = {}
                        boost = field.format.field_boost
                        for btext, freq, weight, _vbytes in field.index(value):
                            weights[btext.decode("utf-8")] = weight / boost if boost else 0.0
                            if field.scorable:
                                length += freq
                        post(name, weights)
                    if field.scorable and length:
                        found[name] = length
                perdoc.add_field(name, field, value if field.stored else None, length)
                if column:
                    perdoc.add_column_value(name, column, field.to_column_value(value))
        except BaseException:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        return found

    def add_lengths(self, fieldname: str, lengths: array) -> None:
        """The lengths of a field whose documents were added with lengths 0."""
        self._perdoc.add_lengths(fieldname, lengths)

    def add_column_values(self, fieldname: str, values: list[bytes]) -> None:
        """The values of the byte column ``fieldname`` of every document, whose documents
        were added without them."""
        self._perdoc.add_column_values(fieldname, self.schema[fieldname].column_type, values)

    def terms(self) -> TermsFile:
        """Close the per-document files and open the terms files (for the caller to close)."""
        self._perdoc.close()
        return TermsFile(self.storage, self.segment)

    def finish(self, doccount: int):
        """The written segment, ready for :func:`commit_segments`."""
        self.segment.set_doc_count(doccount)
        return self.segment

    def cancel(self) -> None:
        """Close the files after a failure (the caller discards the directory)."""
        with contextlib.suppress(Exception):  # best effort once something went wrong
            if not self._perdoc.is_closed:
                self._perdoc.close()


def _is_plain_id(field) -> bool:
    """An ``ID`` field indexing its value as one term (Whoosh's ``IDTokenizer``, no
    filters, ``Existence`` postings)."""
    return (isinstance(field, ID) and type(field.analyzer) is IDTokenizer
            and type(field.format) is Existence)


def commit_segments(dirname: str, schema: Schema, indexname: str, segments: list) -> None:
    """Make ``segments`` the content of the (new, empty) index ``indexname`` in ``dirname``."""
    storage = FileStorage(dirname)
    # SegmentWriter._commit_toc for generation 1: the table of contents, then clean_files
    # removes the empty index's one (a lost new one must not let the empty index open).
    TOC(schema, segments, 1).write(storage, indexname)
    clean_files(storage, indexname, 1, segments)
    # And as SegmentWriter._finish: the per-document writer's temporary folder goes.
    storage.temp_storage(f"{indexname}.tmp").destroy()


# --- abandoning an update -----------------------------------------------------------------------


def abandon_writer(writer) -> None:
    """Close a ``SegmentWriter`` that will not commit, even one whose files can no longer be
    flushed (a full disk), release its lock, and remove the files it wrote
    (:func:`discard_uncommitted`)."""
    if not writer.is_closed:
        try:
            writer.cancel()
        except Exception:
            # SegmentWriter.cancel closes the new segment's files (_close_segment: flushing
            # them may fail again), then _finish closes the cached searcher (its
            # _orig_close), destroys the temporary storage and releases the write lock; do
            # the rest of _finish by hand, each step on its own.
            searcher = getattr(writer, "_searcher", None)
            if searcher is not None:
                with contextlib.suppress(Exception):
                    searcher._orig_close()
                writer._searcher = None
            if writer.writelock:
                with contextlib.suppress(Exception):
                    writer.writelock.release()
            writer.is_closed = True
    discard_uncommitted(writer.storage.folder, writer.indexname)


def discard_uncommitted(dirname: str, indexname: str) -> None:
    """Remove from the index ``indexname`` in ``dirname`` what no committed state uses: files
    of segments that its newest table of contents does not list, other tables of contents,
    half-written ones, and the writers' temporary folder (``<indexname>.tmp``)."""
    storage = FileStorage(dirname)
    toc = TOC.read(storage, indexname)
    # What SegmentWriter._commit_toc does after a commit (clean_files keeps the files of the
    # listed segments and the newest table of contents).
    clean_files(storage, indexname, toc.generation, toc.segments)
    # TOC.write writes "<toc name>.<time>" and renames it: a failed write leaves that behind.
    half_written = re.compile(rf"^_{re.escape(indexname)}_[0-9]+\.toc\..+$")
    for name in storage.list():
        if half_written.match(name):
            with contextlib.suppress(OSError):
                storage.delete_file(name)
    # SegmentWriter's temporary storage (the posting pool's runs): temp_storage(name) is the
    # folder "<name>" beside the index (FileStorage.temp_storage).
    shutil.rmtree(Path(dirname) / f"{indexname}.tmp", ignore_errors=True)
