"""Writing a whole segment through Whoosh's own codec, for full rebuilds.

Whoosh's ``SegmentWriter`` analyses each field separately, pushes every posting through a
sorting pool and then hands postings one by one to the codec (asking the per-document length
for each). A full rebuild knows all its documents up front, so :class:`SegmentBuilder` instead

* analyses each paragraph once (:func:`search.analysis.index_term_counts_many`: one folding, one
  jieba pass, bigrams, no token objects), in worker processes when asked to, and keeps its
  folded text (the ``folded`` column, :mod:`search.foldedtext`) from that one folding;
* keeps the postings as NumPy rows (term, document number, count) rather than a Python list
  per term (:class:`search.postingtable.PostingCollector`);
* encodes whole posting lists in Whoosh's W3 format, block statistics for all blocks at once
  (:func:`search.postingtable.encode_shares`), and writes the term index in one pass.

The result is one ordinary W3 segment, its files written through Whoosh's own codec classes
(:mod:`search.whoosh_w3`): Whoosh opens, searches, merges and updates it like its own (tested:
same terms, postings, lengths and stored fields as the stock writer's). One
segment rather than one per process, because each segment repeats the term dictionary, which
is most of the index's size.
"""

from __future__ import annotations

import functools
import gc
import itertools
import logging
import multiprocessing
import os
import pickle
import queue as _queue
import shutil
import signal
import threading
import time
import traceback
from array import array
from collections import deque
from collections.abc import Callable, Iterable

import numpy as np
from whoosh.fields import Schema

from .analysis import index_term_counts_many
from .foldedtext import COLUMN as FOLDED
from .foldedtext import column_value
from .lexicon import Lexicon
from .errors import SearchError
from .faults import checkpoint
from .postingtable import PostingCollector, encode_shares
from .whoosh_w3 import SegmentFiles, TermsFile, moved_terminfos

log = logging.getLogger(__name__)

#: Fields the builder analyses itself (one pass for both), instead of through their analyzers.
WORDS, BIGRAMS = "words", "bigrams"
FAST_FIELDS = (WORDS, BIGRAMS)


class SegmentBuilder:
    """Builds one new segment of the index ``indexname`` in ``dirname`` from documents given
    in order.

    ``add_document`` takes the same keyword fields as Whoosh's ``writer.add_document``;
    ``finish`` writes the terms and returns the segment, ready for
    :func:`search.whoosh_w3.commit_segments`.
    """

    def __init__(self, dirname: str, schema: Schema, indexname: str, lexicon: Lexicon,
                 term_sinks: dict[str, TermSink] | None = None):
        self.schema = schema
        self.lexicon = lexicon
        self._sinks = term_sinks or {}
        self._files = SegmentFiles(dirname, schema, indexname)
        self.docnum = 0
        # fieldname -> the postings of the fields this builder analyses
        self._postings: dict[str, PostingCollector] = {}
        # fieldname -> length of that field in each document
        self._lengths: dict[str, array] = {}

    def _lengths_for(self, fieldname: str) -> array:
        arr = self._lengths.get(fieldname)
        if arr is None:
            arr = self._lengths[fieldname] = array("I")
        if len(arr) < self.docnum:
            arr.extend([0] * (self.docnum - len(arr)))
        return arr

    def _collector(self, fieldname: str) -> PostingCollector:
        collector = self._postings.get(fieldname)
        if collector is None:
            collector = self._postings[fieldname] = PostingCollector()
        return collector

    def _post(self, fieldname: str, weights: dict) -> None:
        self._collector(fieldname).add(self.docnum, weights)

    def add_document(self, **fields) -> None:
        """Analyse and add one document (the next document number)."""
        self.add_documents([fields])

    def add_documents(self, docs: list[dict]) -> None:
        """Analyse and add documents (analysed together: see
        :func:`search.analysis.index_term_counts_many`)."""
        texts = [_fast_text(d) for d in docs]
        counts = iter(index_term_counts_many([t for t in texts if t is not None], self.lexicon))
        analysed: list[int] = []
        words: list[dict] = []
        grams: list[dict] = []
        for doc, text in zip(docs, texts):
            if text is None:
                self.add_analyzed(doc, None)
                continue
            w, nwords, g, ngrams, folded = next(counts)
            analysed.append(self.docnum)
            words.append(w)
            grams.append(g)
            self.add_analyzed({**doc, FOLDED: column_value(text, folded)},
                              {WORDS: nwords, BIGRAMS: ngrams})
        for name, documents in ((WORDS, words), (BIGRAMS, grams)):
            if documents:
                self._collector(name).add_many(analysed, documents)

    def add_stored(self, fields: dict) -> None:
        """Add one document but for its ``words`` and ``bigrams`` postings and lengths and its
        ``folded`` column value, which worker processes make from its text; see
        :meth:`set_lengths` and :meth:`set_folded`."""
        if FOLDED in fields:
            fields = {k: v for k, v in fields.items() if k != FOLDED}
        self.add_analyzed(fields, {WORDS: 0, BIGRAMS: 0})

    def set_lengths(self, lengths: dict[str, array]) -> None:
        """The field lengths of every document, for fields added with :meth:`add_stored`."""
        for name, values in lengths.items():
            if len(values) != self.docnum:
                raise SearchError(f"{len(values)} lengths for {self.docnum} documents")
            self._files.add_lengths(name, values)

    def set_folded(self, values: list[bytes]) -> None:
        """The ``folded`` column value of every document (all added with :meth:`add_stored`)."""
        if len(values) != self.docnum:
            raise SearchError(f"{len(values)} folded texts for {self.docnum} documents")
        self._files.add_column_values(FOLDED, values)

    def add_analyzed(self, fields: dict, lengths: dict[str, int] | None) -> None:
        """Add one document whose ``words`` and ``bigrams`` postings are written elsewhere
        (by :meth:`add_documents` or worker processes), given their ``lengths``."""
        found = self._files.add_document(self.docnum, fields, lengths, self._post)
        for name, length in found.items():
            self._lengths_for(name).append(length)
        self.docnum += 1

    def cancel(self) -> None:
        """Close the files after a failure (the caller discards the directory)."""
        self._files.cancel()

    def finish(self, encoded: dict[str, Callable[[], list[tuple[list, bytes]]]] | None = None):
        """Write the postings and close the segment's files; returns the segment.

        ``encoded`` maps a field to a function giving the shares of its terms that worker
        processes encoded (``(terms, blob)`` pairs, each term in one share only; see
        :func:`_worker`); it is called when the field's turn comes, in field-name order, so
        the other fields are written while the workers finish.
        """
        encoded = encoded or {}
        out = self._files.terms()
        try:
            for name in sorted(set(self._postings) | set(encoded)):
                fieldobj = self.schema[name]
                fid = out.field_id(name)
                if name in encoded:
                    shares = encoded.pop(name)()
                else:
                    share = self._postings.pop(name).share()
                    lengths = (np.frombuffer(self._lengths_for(name), dtype=np.uint32)
                               if fieldobj.scorable else None)
                    shares = [encode_shares([share], lengths, fieldobj.format.field_boost)]
                _copy_shares(out, fid, shares, self._sinks.get(name))
                del shares
                checkpoint("writing-terms")
        finally:
            out.close()
        return self._files.finish(self.docnum)


#: ``sink(terms)``: takes a field's ``(term bytes, W3 term info)`` in byte order, as written.
TermSink = Callable[[list[tuple[bytes, bytes]]], None]


def _copy_shares(out: TermsFile, fid: bytes, shares: list[tuple[list, bytes]],
                 sink: TermSink | None = None) -> None:
    """Append each share's blob to the postings file, then add all the shares' terms to the
    term index in byte order, their offsets moved by where their blob landed (and hand them
    to ``sink``)."""
    streams = []
    for terms, blob in shares:
        base = out.add_postings(blob)
        if base and terms:
            terms = list(zip([btext for btext, _info in terms],
                             moved_terminfos([info for _btext, info in terms], base)))
        streams.append(terms)
    # each stream is in byte order and no term is in two: sorting merges them (in C)
    merged = streams[0] if len(streams) == 1 else sorted(itertools.chain(*streams))
    if sink is not None:
        sink(merged)
    out.add_terms([(fid + btext, info) for btext, info in merged])


def _fast_text(fields: dict) -> str | None:
    """The paragraph text when ``words`` and ``bigrams`` both index it (one analysis pass)."""
    text = fields.get(WORDS)
    if isinstance(text, str) and fields.get(BIGRAMS) == text:
        return text
    return None


# --- analysis and encoding in worker processes -------------------------------------------------

#: Paragraphs per task sent to a worker (a consecutive range of document numbers), and per
#: batch analysed together in one process.
CHUNK = 1024
#: Documents the parent stores at a time while the workers' task queue is full.
STORE_BATCH = 128


def _worker(k: int, procs: int, tasks, outbox, barrier, tmpdir: str, lexicon: Lexicon,
            boosts: dict[str, float]) -> None:
    """Worker ``k`` of ``procs``.

    1. analyses the chunks of paragraphs it takes from ``tasks`` (``(first document number,
       texts)``, until ``None``) into one posting collector per field, and writes the chunks'
       field lengths (for the parent and the other workers) and ``folded`` column values (for
       the parent);
    2. hands the postings of the terms other workers own (by CRC-32) to them through files in
       ``tmpdir``, and takes theirs for the terms it owns;
    3. encodes its terms' posting lists, in byte order, into one blob per field, and writes
       ``(terms, blob)`` for the parent: ``terms`` is ``(btext, term info)`` with offsets into
       the blob.
    """
    try:
        # The parent's SIGTERM handler (search.indexer) is for the parent: a worker sent
        # SIGTERM dies of it, and the parent reports that.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        lexicon.jieba()  # loaded here, while the parent reads the first chunk
        # Millions of postings live until the process ends: the cycle collector would walk
        # them again and again and never find garbage.
        gc.disable()
        t0 = time.perf_counter()
        collectors = {WORDS: PostingCollector(), BIGRAMS: PostingCollector()}
        lengths: list[tuple[int, bytes, bytes]] = []
        folded: list[tuple[int, list[bytes]]] = []
        waiting, analysing = f"worker-{k}-waiting", f"worker-{k}-analysing"
        while True:
            checkpoint(waiting)
            task = tasks.get()
            if task is None:
                break
            base, texts = task
            counted = index_term_counts_many(texts, lexicon)
            docnums = range(base, base + len(counted))
            collectors[WORDS].add_many(docnums, [c[0] for c in counted])
            collectors[BIGRAMS].add_many(docnums, [c[2] for c in counted])
            lengths.append((base, array("I", [c[1] for c in counted]).tobytes(),
                            array("I", [c[3] for c in counted]).tobytes()))
            folded.append((base, [column_value(t, c[4]) for t, c in zip(texts, counted)]))
            del counted
            checkpoint(analysing)
        _dump(os.path.join(tmpdir, f"lengths-{k}"), lengths)
        _dump(os.path.join(tmpdir, f"folded-{k}"), folded)
        del folded
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
    except threading.BrokenBarrierError:
        pass  # the worker that broke the barrier failed, and reports why
    except BaseException as exc:  # reported to the parent, which raises
        log.debug("worker %d failed:\n%s", k, traceback.format_exc())
        if isinstance(exc, OSError) and exc.errno:  # raised again as such (a full disk...)
            outbox.put(("oserror", k, (exc.errno, exc.strerror, exc.filename)))
        else:
            outbox.put(("error", k, f"{type(exc).__name__}: {exc}"[:500]))
        barrier.abort()


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


def _all_folded(tmpdir: str, procs: int) -> list[bytes]:
    """Every document's ``folded`` column value, from every worker."""
    parts: list[tuple[int, list[bytes]]] = []
    for j in range(procs):
        parts.extend(_load(os.path.join(tmpdir, f"folded-{j}")))
    return [value for _base, values in sorted(parts, key=lambda p: p[0]) for value in values]


def _dump(path: str, obj) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)


def _load(path: str):
    with open(path, "rb") as f:
        return pickle.load(f)


def write_segment(releases: Iterable[list[dict]], dirname: str, schema: Schema,
                  indexname: str, lexicon: Lexicon, procs: int = 1,
                  term_sinks: dict[str, TermSink] | None = None) -> list:
    """Write the documents of ``releases`` (one list of documents per release, in order) into
    one new segment of the index in ``dirname``; returns ``[segment]`` (``[]`` if there were
    no documents).

    With ``procs`` > 1, forked worker processes analyse chunks of paragraphs while this
    process reads the sources and stores the documents; then the workers exchange postings,
    so that each owns a share of the terms, and encode them; finally this process copies the
    shares into the segment and writes the term index. A worker's failure is raised here as
    SearchError, once the workers are stopped. Every document must give ``words`` and
    ``bigrams`` the same text (as :func:`search.schema.paragraph_docs` does); its ``folded``
    column value is made from the analysis (one given is replaced).
    ``term_sinks[field]`` is given that field's terms and term infos as they are written.
    """
    builder = SegmentBuilder(dirname, schema, indexname, lexicon, term_sinks)
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
                if kind in ("error", "oserror"):
                    raise _worker_error(kind, value)
                senders[value or kind].add(k)  # "lengths" written, or a field encoded

        def shares(name: str) -> list[tuple[list, bytes]]:
            wait_for(name)
            log.debug("parent: %s encoded by %.2f s", name, time.perf_counter() - t0)
            return [_load(os.path.join(tmpdir, f"{name}-{k}-encoded")) for k in range(procs)]

        wait_for("lengths")
        checkpoint("workers-exchanging")
        builder.set_lengths(_all_lengths(tmpdir, procs))
        builder.set_folded(_all_folded(tmpdir, procs))
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
                kind, _k, value = outbox.get_nowait()
            except _queue.Empty:
                continue
            raise _worker_error(kind, value)


def _worker_error(kind: str, value) -> Exception:
    """The exception to raise for a worker's ``("error" | "oserror", k, value)`` message."""
    if kind == "oserror":
        return OSError(*value)
    return SearchError(f"an indexing worker failed: {value}")


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
