"""Writing a whole segment through Whoosh's own codec, for full rebuilds.

Whoosh's ``SegmentWriter`` analyses each field separately, pushes every posting through a
sorting pool and then hands postings one by one to the codec (asking the per-document length
for each). A full rebuild knows all its documents up front, so :class:`SegmentBuilder` instead

* analyses each paragraph once (:func:`search.analysis.index_term_counts_many`: one folding, one
  jieba pass, bigrams, no token objects), in worker processes when asked to;
* keeps the postings as NumPy rows (term, document number, count) rather than a Python list
  per term (:class:`search.postingtable.PostingCollector`);
* encodes whole posting lists in Whoosh's W3 format, block statistics for all blocks at once
  (:func:`search.postingtable.encode_shares`), and writes the term index in one pass.

The result is one ordinary W3 segment: Whoosh opens, searches, merges and updates it like its
own (tested: same terms, postings, lengths and stored fields as the stock writer's). One
segment rather than one per process, because each segment repeats the term dictionary, which
is most of the index's size.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import heapq
import logging
import multiprocessing
import os
import pickle
import queue as _queue
import shutil
import struct
import time
import traceback
from array import array
from collections import deque
from collections.abc import Callable, Iterable

import numpy as np
from whoosh import columns
from whoosh.analysis import IDTokenizer
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3PerDocWriter
from whoosh.fields import ID, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.formats import Existence
from whoosh.index import TOC, clean_files
from whoosh.util.numeric import length_to_byte

from .analysis import index_term_counts_many
from .lexicon import Lexicon
from .errors import SearchError
from .postingtable import (
    LONG,
    TERMINFO,
    PostingCollector,
    encode_shares,
)

log = logging.getLogger(__name__)

#: Fields the builder analyses itself (one pass for both), instead of through their analyzers.
WORDS, BIGRAMS = "words", "bigrams"
FAST_FIELDS = (WORDS, BIGRAMS)


_LENGTHS = struct.Struct("!ii")  # filetables._lengths: a hash record's key and value sizes


def _with_offset(terminfo: bytes, offset: int) -> bytes:
    at = TERMINFO.size
    return terminfo[:at] + LONG.pack(offset) + terminfo[at + LONG.size:]


STORED_LEVEL_1 = columns.PickleColumn(columns.CompressedBytesColumn(level=1))


class _TermIndexWriter(OrderedHashWriter):
    """Whoosh's term index file (an ordered hash), taking many keys in one write."""

    def add_many(self, items: Iterable[tuple[bytes, bytes]]) -> None:
        """Add ``(key, value)`` pairs in increasing key order: the same file as calling
        ``add`` for each."""
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
        # HashWriter._write_hashes, with each bucket's table packed in one call instead of
        # one write per slot: the same bytes.
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


class _TermsFile:
    """The segment's postings (``.pst``) and term index (``.trm``) files, written the way
    Whoosh's W3 field writer writes them."""

    def __init__(self, storage: FileStorage, segment):
        self.postfile = segment.create_file(storage, W3Codec.POSTS_EXT)
        self.tindex = _TermIndexWriter(segment.create_file(storage, W3Codec.TERMS_EXT))
        self.fieldmap = self.tindex.extras["fieldmap"] = {}

    def field_id(self, fieldname: str) -> bytes:
        fid = self.fieldmap.setdefault(fieldname, len(self.fieldmap))
        return struct.pack("!H", fid)  # whoosh.system.pack_ushort

    def close(self) -> None:
        self.tindex.close()
        self.postfile.close()


class _PerDocWriter(W3PerDocWriter):
    """Whoosh's per-document writer, plus writing a field's lengths column in one go after
    the documents (the parallel writer learns them from its workers at the end), and stored
    fields compressed with zlib level 1 instead of 3 (Whoosh's reader decompresses any level;
    half the compression time for a few per cent more bytes)."""

    def _create_column(self, fieldname, column):
        if fieldname == "_stored":
            column = STORED_LEVEL_1
        super()._create_column(fieldname, column)

    def add_lengths(self, fieldname: str, lengths: array) -> None:
        column = f"_{fieldname}_len"  # whoosh.codec.whoosh3._lenfield
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


class SegmentBuilder:
    """Builds one new segment of the index in ``storage`` from documents given in order.

    ``add_document`` takes the same keyword fields as Whoosh's ``writer.add_document``;
    ``finish`` writes the terms and returns the segment, ready for :func:`commit_segments`.
    """

    def __init__(self, storage: FileStorage, schema: Schema, indexname: str,
                 lexicon: Lexicon):
        self.storage = storage
        self.schema = schema
        self.lexicon = lexicon
        self.codec = W3Codec()
        self.segment = self.codec.new_segment(storage, indexname)
        self._perdoc = _PerDocWriter(self.codec, storage, self.segment)
        self.docnum = 0
        # fieldname -> the postings of the fields this builder analyses
        self._postings: dict[str, PostingCollector] = {}
        # fieldname -> length of that field in each document
        self._lengths: dict[str, array] = {}
        # fieldname -> (field, indexed as the whole value?, column type)
        self._plans = {name: (field, _is_plain_id(field), field.column_type)
                       for name, field in schema.items()}

    def _lengths_for(self, fieldname: str) -> array:
        arr = self._lengths.get(fieldname)
        if arr is None:
            arr = self._lengths[fieldname] = array("I")
        if len(arr) < self.docnum:
            arr.extend([0] * (self.docnum - len(arr)))
        return arr

    def _post(self, fieldname: str, weights: dict) -> None:
        collector = self._postings.get(fieldname)
        if collector is None:
            collector = self._postings[fieldname] = PostingCollector()
        collector.add(self.docnum, weights)

    def add_document(self, **fields) -> None:
        """Analyse and add one document (the next document number)."""
        self.add_documents([fields])

    def add_documents(self, docs: list[dict]) -> None:
        """Analyse and add documents (analysed together: see
        :func:`search.analysis.index_term_counts_many`)."""
        texts = [_fast_text(d) for d in docs]
        counts = iter(index_term_counts_many([t for t in texts if t is not None], self.lexicon))
        for doc, text in zip(docs, texts):
            if text is None:
                self.add_analyzed(doc, None)
                continue
            words, nwords, grams, ngrams = next(counts)
            self._post(WORDS, words)
            self._post(BIGRAMS, grams)
            self.add_analyzed(doc, {WORDS: nwords, BIGRAMS: ngrams})

    def add_stored(self, fields: dict) -> None:
        """Add one document but for its ``words`` and ``bigrams`` postings and lengths, which
        worker processes make from its text; see :meth:`set_lengths`."""
        self.add_analyzed(fields, {WORDS: 0, BIGRAMS: 0})

    def set_lengths(self, lengths: dict[str, array]) -> None:
        """The field lengths of every document, for fields added with :meth:`add_stored`."""
        for name, values in lengths.items():
            if len(values) != self.docnum:
                raise SearchError(f"{len(values)} lengths for {self.docnum} documents")
            self._perdoc.add_lengths(name, values)

    def add_analyzed(self, fields: dict, lengths: dict[str, int] | None) -> None:
        """Add one document whose ``words`` and ``bigrams`` postings are written elsewhere
        (by :meth:`add_documents` or worker processes), given their ``lengths``."""
        plans = self._plans
        perdoc = self._perdoc
        names = sorted(name for name in fields if not name.startswith("_"))
        for name in names:
            if name not in plans:
                raise SearchError(f"no field named {name!r} in the schema")
        perdoc.start_doc(self.docnum)
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
                        self._post(name, {value: 1})
                    else:
                        weights = {}
                        boost = field.format.field_boost
                        for btext, freq, weight, _vbytes in field.index(value):
                            weights[btext.decode("utf-8")] = weight / boost if boost else 0.0
                            if field.scorable:
                                length += freq
                        self._post(name, weights)
                    if field.scorable and length:
                        self._lengths_for(name).append(length)
                perdoc.add_field(name, field, value if field.stored else None, length)
                if column:
                    perdoc.add_column_value(name, column, field.to_column_value(value))
        except BaseException:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self.docnum += 1

    def cancel(self) -> None:
        """Close the files after a failure (the caller discards the directory)."""
        with contextlib.suppress(Exception):  # best effort once something went wrong
            if not self._perdoc.is_closed:
                self._perdoc.close()

    def finish(self, encoded: dict[str, Callable[[], list[tuple[list, bytes]]]] | None = None):
        """Write the postings and close the segment's files; returns the segment.

        ``encoded`` maps a field to a function giving the shares of its terms that worker
        processes encoded (``(terms, blob)`` pairs, each term in one share only; see
        :func:`_worker`); it is called when the field's turn comes, in field-name order, so
        the other fields are written while the workers finish.
        """
        self._perdoc.close()
        encoded = encoded or {}
        out = _TermsFile(self.storage, self.segment)
        try:
            for name in sorted(set(self._postings) | set(encoded)):
                fieldobj = self.schema[name]
                fid = out.field_id(name)
                if name in encoded:
                    _copy_shares(out, fid, encoded.pop(name)())
                    continue
                share = self._postings.pop(name).share()
                lengths = (np.frombuffer(self._lengths_for(name), dtype=np.uint32)
                           if fieldobj.scorable else None)
                _copy_shares(out, fid, [encode_shares([share], lengths,
                                                      fieldobj.format.field_boost)])
        finally:
            out.close()
        self.segment.set_doc_count(self.docnum)
        return self.segment


def _copy_shares(out: _TermsFile, fid: bytes, shares: list[tuple[list, bytes]]) -> None:
    """Append each share's blob to the postings file, then add all the shares' terms to the
    term index in byte order, their offsets moved by where their blob landed."""
    streams = []
    for terms, blob in shares:
        base = out.postfile.tell()
        out.postfile.write(blob)
        if base:
            terms = [(btext, _with_offset(info, LONG.unpack(info[_EXTENT])[0] + base))
                     for btext, info in terms]
        streams.append(terms)
    merged = streams[0] if len(streams) == 1 else heapq.merge(*streams)
    out.tindex.add_many((fid + btext, info) for btext, info in merged)


def _is_plain_id(field) -> bool:
    """An ``ID`` field indexing its value as one term (Whoosh's ``IDTokenizer``, no
    filters, ``Existence`` postings)."""
    return (isinstance(field, ID) and type(field.analyzer) is IDTokenizer
            and type(field.format) is Existence)


def _fast_text(fields: dict) -> str | None:
    """The paragraph text when ``words`` and ``bigrams`` both index it (one analysis pass)."""
    text = fields.get(WORDS)
    if isinstance(text, str) and fields.get(BIGRAMS) == text:
        return text
    return None


def commit_segments(storage: FileStorage, schema: Schema, indexname: str,
                    segments: list) -> None:
    """Make ``segments`` the content of the (new, empty) index ``indexname`` in ``storage``."""
    TOC(schema, segments, 1).write(storage, indexname)
    # As Whoosh's own commit does: remove the empty index's table of contents (a lost new one
    # must not let the empty index open) and the per-document writer's temporary folder.
    clean_files(storage, indexname, 1, segments)
    storage.temp_storage(f"{indexname}.tmp").destroy()


# --- analysis and encoding in worker processes -------------------------------------------------

#: Paragraphs per task sent to a worker (a consecutive range of document numbers), and per
#: batch analysed together in one process.
CHUNK = 1024
#: Documents the parent stores at a time while the workers' task queue is full.
STORE_BATCH = 128
_EXTENT = slice(TERMINFO.size, TERMINFO.size + LONG.size)  # the term info's offset


def _worker(k: int, procs: int, tasks, outbox, barrier, tmpdir: str, lexicon: Lexicon,
            boosts: dict[str, float]) -> None:
    """Worker ``k`` of ``procs``.

    1. analyses the chunks of paragraphs it takes from ``tasks`` (``(first document number,
       texts)``, until ``None``) into one posting collector per field, and writes the chunks'
       field lengths for the parent and the other workers;
    2. hands the postings of the terms other workers own (by CRC-32) to them through files in
       ``tmpdir``, and takes theirs for the terms it owns;
    3. encodes its terms' posting lists, in byte order, into one blob per field, and writes
       ``(terms, blob)`` for the parent: ``terms`` is ``(btext, term info)`` with offsets into
       the blob.
    """
    try:
        lexicon.jieba()  # loaded here, while the parent reads the first chunk
        # Millions of postings live until the process ends: the cycle collector would walk
        # them again and again and never find garbage.
        gc.disable()
        t0 = time.perf_counter()
        collectors = {WORDS: PostingCollector(), BIGRAMS: PostingCollector()}
        lengths: list[tuple[int, bytes, bytes]] = []
        for base, texts in iter(tasks.get, None):
            wlen, glen = array("I"), array("I")
            for i, (words, nwords, grams, ngrams) in enumerate(
                    index_term_counts_many(texts, lexicon)):
                collectors[WORDS].add(base + i, words)
                collectors[BIGRAMS].add(base + i, grams)
                wlen.append(nwords)
                glen.append(ngrams)
            lengths.append((base, wlen.tobytes(), glen.tobytes()))
        _dump(os.path.join(tmpdir, f"lengths-{k}"), lengths)
        outbox.put(("lengths", k, None))  # messages stay small: a killed sender cuts none
        log.debug("worker %d: analysed %d chunks by %.2f s (%.2f CPU-s)", k, len(lengths),
                  time.perf_counter() - t0, time.process_time())

        # Exchange: every term belongs to one worker, which encodes its whole posting list.
        own: dict[str, object] = {}
        for name in FAST_FIELDS:
            shares = collectors.pop(name).shares(procs)
            for j in range(procs):
                if j != k:
                    _dump(os.path.join(tmpdir, f"{name}-{k}-to-{j}"), shares[j])
            own[name] = shares[k]
            del shares
        barrier.wait()
        log.debug("worker %d: exchanged by %.2f s (%.2f CPU-s)", k,
                  time.perf_counter() - t0, time.process_time())

        doc_lengths = _all_lengths(tmpdir, procs)
        for name in sorted(FAST_FIELDS):  # the order the parent writes them in
            shares = [own.pop(name) if j == k else
                      _load(os.path.join(tmpdir, f"{name}-{j}-to-{k}")) for j in range(procs)]
            _dump(os.path.join(tmpdir, f"{name}-{k}-encoded"),
                  encode_shares(shares, np.frombuffer(doc_lengths[name], dtype=np.uint32),
                                boosts[name]))
            del shares
            outbox.put(("encoded", k, name))
        log.debug("worker %d: encoded by %.2f s (%.2f CPU-s)", k,
                  time.perf_counter() - t0, time.process_time())
    except BaseException as exc:  # reported to the parent, which raises
        barrier.abort()
        log.debug("worker %d failed:\n%s", k, traceback.format_exc())
        outbox.put(("error", k, f"{type(exc).__name__}: {exc}"[:500]))


def _all_lengths(tmpdir: str, procs: int) -> dict[str, array]:
    """Every document's field lengths (block statistics need them), from every worker."""
    parts: list[tuple[int, bytes, bytes]] = []
    for j in range(procs):
        parts.extend(_load(os.path.join(tmpdir, f"lengths-{j}")))
    out = {WORDS: array("I"), BIGRAMS: array("I")}
    for _base, wlen, glen in sorted(parts):
        out[WORDS].frombytes(wlen)
        out[BIGRAMS].frombytes(glen)
    return out


def _dump(path: str, obj) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)


def _load(path: str):
    with open(path, "rb") as f:
        return pickle.load(f)


def write_segment(releases: Iterable[list[dict]], dirname: str, schema: Schema,
                  indexname: str, lexicon: Lexicon, procs: int = 1) -> list:
    """Write the documents of ``releases`` (one list of documents per release, in order) into
    one new segment of the index in ``dirname``; returns ``[segment]`` (``[]`` if there were
    no documents).

    With ``procs`` > 1, forked worker processes analyse chunks of paragraphs while this
    process reads the sources and stores the documents; then the workers exchange postings,
    so that each owns a share of the terms, and encode them; finally this process copies the
    shares into the segment and writes the term index. A worker's failure is raised here as
    SearchError, once the workers are stopped. Every document must give ``words`` and
    ``bigrams`` the same text (as :func:`search.indexer.paragraph_docs` does).
    """
    builder = SegmentBuilder(FileStorage(dirname), schema, indexname, lexicon)
    try:
        if procs <= 1:
            segment = _write_serial(builder, releases)
        else:
            segment = _write_parallel(builder, releases, dirname, procs)
    except BaseException:
        builder.cancel()
        raise
    return [segment] if builder.docnum else []


def _write_serial(builder: SegmentBuilder, releases: Iterable[list[dict]]):
    batch: list[dict] = []
    for docs in releases:
        batch.extend(docs)
        if len(batch) >= CHUNK:
            builder.add_documents(batch)
            batch = []
    builder.add_documents(batch)
    return builder.finish()


def _write_parallel(builder: SegmentBuilder, releases: Iterable[list[dict]], dirname: str,
                    procs: int):
    schema, lexicon = builder.schema, builder.lexicon
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    tasks = ctx.Queue(maxsize=4 * procs)
    outbox = ctx.Queue()
    barrier = ctx.Barrier(procs)
    tmpdir = os.path.join(dirname, "parts.tmp")
    os.makedirs(tmpdir, exist_ok=True)
    boosts = {name: schema[name].format.field_boost for name in FAST_FIELDS}
    workers: list = []
    try:
        for k in range(procs):
            w = ctx.Process(target=_worker, daemon=True,
                            args=(k, procs, tasks, outbox, barrier, tmpdir, lexicon, boosts))
            w.start()
            workers.append(w)
        # Feeding the workers comes first: documents are stored (in order) while the task
        # queue is full, and the rest once everything is read.
        pending: deque[dict] = deque()

        def feed(item) -> None:
            while pending and tasks.full():
                for _ in range(min(STORE_BATCH, len(pending))):
                    builder.add_stored(pending.popleft())
            _send(tasks, item, workers, outbox)

        base, texts = 0, []
        for docs in releases:
            for doc in docs:
                text = _fast_text(doc)
                if text is None:
                    raise SearchError("a document does not index the same text as words "
                                      "and bigrams")
                texts.append(text)
                pending.append(doc)
            if len(texts) >= CHUNK:
                feed((base, texts))
                base, texts = base + len(texts), []
        if texts:
            feed((base, texts))
        for _ in workers:
            feed(None)
        log.debug("parent: read %d documents by %.2f s", base + len(texts),
                  time.perf_counter() - t0)
        while pending:
            builder.add_stored(pending.popleft())
        log.debug("parent: stored %d documents by %.2f s", builder.docnum,
                  time.perf_counter() - t0)
        senders = {"lengths": set(), **{name: set() for name in FAST_FIELDS}}

        def wait_for(what: str) -> None:
            while len(senders[what]) < procs:
                kind, k, value = _receive(outbox, workers)
                if kind == "error":
                    raise SearchError(f"an indexing worker failed: {value}")
                senders[value or kind].add(k)  # "lengths" written, or a field encoded

        def shares(name: str) -> list[tuple[list, bytes]]:
            wait_for(name)
            log.debug("parent: %s encoded by %.2f s", name, time.perf_counter() - t0)
            return [_load(os.path.join(tmpdir, f"{name}-{k}-encoded")) for k in range(procs)]

        wait_for("lengths")
        builder.set_lengths(_all_lengths(tmpdir, procs))
        segment = builder.finish({name: functools.partial(shares, name)
                                  for name in FAST_FIELDS})
        for w in workers:
            w.join()
        log.debug("parent: wrote the segment by %.2f s", time.perf_counter() - t0)
        return segment
    finally:
        # A worker killed while reading the task queue leaves it unread: do not wait at exit
        # for the queue's feeder thread to write the rest.
        tasks.cancel_join_thread()
        for w in workers:
            if w.is_alive():
                w.kill()
                w.join()
        shutil.rmtree(tmpdir, ignore_errors=True)


def _send(queue, item, workers, outbox) -> None:
    while True:
        try:
            queue.put(item, timeout=1.0)
            return
        except _queue.Full:
            _check_workers(workers)
            try:  # while the parent feeds them, workers only ever report an error
                _kind, _k, value = outbox.get_nowait()
            except _queue.Empty:
                continue
            raise SearchError(f"an indexing worker failed: {value}")


def _receive(outbox, workers):
    while True:
        try:
            return outbox.get(timeout=1.0)
        except _queue.Empty:
            _check_workers(workers)


def _check_workers(workers) -> None:
    for w in workers:
        if w.exitcode not in (None, 0):
            raise SearchError(f"an indexing worker died (exit code {w.exitcode})")
