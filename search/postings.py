"""Whoosh postings as NumPy arrays, scored with BM25 once per term and generation.

Ranking adds whole posting lists into a score vector (``scores[ids] += weight * bm25``) instead
of walking Whoosh matchers posting by posting, and keeps the arrays of recently used terms, so a
warm searcher answers from memory. Postings are read block by block from Whoosh's own codec
(W3 leaf matchers); other matchers (inlined lists) are read through the public API.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from .errors import IndexCorruptError, SearchError
from .scoring import bm25, bm25_params, idf
from .statistics import CollectionStats, release_base, release_field
from .whoosh_w3 import segment_field_lengths, term_postings

#: Fields indexed on the head paragraph of each release only.
HEAD_FIELDS = frozenset({"title"})

#: Terms whose per-release scores are kept (release lists are short: a count suffices).
RELEASE_TERMS = 20_000

EMPTY_IDS = np.zeros(0, dtype=np.int32)
EMPTY_SCORES = np.zeros(0, dtype=np.float32)


class Postings:
    """Per-generation cache of term postings and BM25 statistics (thread-safe)."""

    def __init__(self, reader, max_entries: int = 3_000_000, where: str = "the index"):
        self.reader = reader
        self.where = where
        self.n = reader.doc_count_all()  # document numbers, deleted ones included
        self.live_count = reader.doc_count()
        self.n_live = max(1, self.live_count)
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._cache: OrderedDict = OrderedDict()
        self._entries = 0
        self._lengths: dict[str, np.ndarray] = {}
        self._release_lengths: dict[str, tuple[np.ndarray, float, float]] = {}
        self._release_cache: OrderedDict = OrderedDict()
        self._avgfl: dict[str, float] = {}
        self._length_sums: dict[str, float] = {}
        self._leaves = list(reader.leaf_readers())
        self.live = np.ones(self.n, dtype=bool)
        if reader.has_deletions():
            for leaf, offset in self._leaves:
                if leaf.has_deletions():
                    for d in range(leaf.doc_count_all()):
                        if leaf.is_deleted(d):
                            self.live[offset + d] = False
        # A release's paragraphs have consecutive document numbers, head first (see schema):
        # head_of[d] is the head of d's release, whose document carries the release title.
        heads, _tf = self.raw("head", "1")
        self.heads = np.sort(heads)
        self.n_heads = max(1, len(self.heads))
        if len(self.heads):
            where = np.searchsorted(self.heads, np.arange(self.n), side="right") - 1
            self.head_of = self.heads[np.maximum(where, 0)].astype(np.int32)
            #: The release of each document, as its head's position in ``heads``.
            self.release_of = np.maximum(where, 0).astype(np.int32)
        else:
            self.head_of = np.arange(self.n, dtype=np.int32)
            self.release_of = np.zeros(self.n, dtype=np.int32)

    def lengths(self, fieldname: str) -> np.ndarray:
        """Field lengths of all documents (deleted ones count 0)."""
        arr = self._lengths.get(fieldname)
        if arr is None:
            with self._lock:
                arr = self._lengths.get(fieldname)
                if arr is None:
                    arr = np.zeros(self.n, dtype=np.float32)
                    for leaf, offset in self._leaves:
                        count = leaf.doc_count_all()
                        arr[offset:offset + count] = segment_field_lengths(leaf, fieldname, count)
                    arr[~self.live] = 0
                    # Summed in float64: exact for whole lengths, so the sums of shards add
                    # up to the sum of one index (a float32 sum rounds past 2**24).
                    self._length_sums[fieldname] = float(arr.sum(dtype=np.float64))
                    self._avgfl[fieldname] = (self._length_sums[fieldname]
                                              / self._population(fieldname) or 1.0)
                    self._lengths[fieldname] = arr
        return arr

    def _population(self, fieldname: str) -> int:
        """How many documents a field's statistics count: the release title is indexed on
        each release's head paragraph only."""
        return self.n_heads if fieldname in HEAD_FIELDS else self.n_live

    def field_stats(self, fieldname: str) -> tuple[int, float]:
        """(documents counted, sum of their lengths) of a field: this generation's share of
        :class:`~search.statistics.CollectionStats`."""
        self.lengths(fieldname)
        counted = len(self.heads) if fieldname in HEAD_FIELDS else self.live_count
        return counted, self._length_sums[fieldname]

    def doc_freq(self, fieldname: str, text: str) -> int:
        """Live documents holding a term (what BM25's idf counts); of a
        :func:`~search.statistics.release_field`, the live releases holding it."""
        base = release_base(fieldname)
        if base is not None:
            return len(self.release_counts(base, text)[0])
        return len(self.counts(fieldname, text)[0])

    def stats(self, terms) -> CollectionStats:
        """This generation's statistics of ``terms`` ((field, term) pairs) and their fields
        (a :func:`~search.statistics.release_field`: the live releases and the sum of their
        lengths)."""
        terms = list(terms)
        fields = {}
        for f in {f for f, _t in terms}:
            base = release_base(f)
            fields[f] = (self.field_stats(f) if base is None
                         else (len(self.heads), self.release_lengths(base)[2]))
        return CollectionStats(fields, {(f, t): self.doc_freq(f, t) for f, t in terms})

    def raw(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and term frequencies of ``text`` in ``fieldname``."""
        all_ids: list[np.ndarray] = []
        all_w: list[np.ndarray] = []
        for leaf, offset in self._leaves:
            try:
                found = term_postings(leaf, fieldname, text)
            except SearchError:
                raise
            except Exception as exc:  # Whoosh raises bare Exception on damaged blocks
                raise IndexCorruptError.unreadable(
                    f"read the postings of {self.where}", self.where, exc) from None
            if found is None:
                continue
            all_ids.append(found[0] + offset if offset else found[0])
            all_w.append(found[1])
        if not all_ids or not sum(map(len, all_ids)):
            return EMPTY_IDS, EMPTY_SCORES
        ids = np.concatenate(all_ids).astype(np.int32)
        tf = np.concatenate(all_w).astype(np.float32)
        keep = self.live[ids]
        if not keep.all():
            ids, tf = ids[keep], tf[keep]
        return ids, tf

    def counts(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and counts of one term (:meth:`raw` through the cache: kept with
        its own scores, or alone when a sharded search reads a term's postings for its
        document frequency, then for its scores)."""
        with self._lock:
            for key in ((fieldname, text), ("raw", fieldname, text)):
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    return hit[0], hit[-1]
        ids, tf = self._remember(("raw", fieldname, text), self.raw(fieldname, text))
        return ids, tf

    def scores(self, fieldname: str, text: str, stats: CollectionStats | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and BM25 scores of one term (cached), with this generation's own
        statistics or with ``stats`` (gathered across the shards of an index)."""
        key = (fieldname, text) if stats is None else (fieldname, text, stats.key(fieldname, text))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit[0], hit[1]
        if stats is None:
            with self._lock:  # counts read for a sharded search's statistics: move them here
                raw = self._cache.pop(("raw", fieldname, text), None)
                if raw is not None:
                    self._entries -= len(raw[0])
            ids, tf = raw if raw is not None else self.raw(fieldname, text)
        else:
            ids, tf = self.counts(fieldname, text)
        if len(ids):
            lens = self.lengths(fieldname)
            # Live statistics: deleted documents linger in the segments until a merge.
            k1, b = bm25_params(fieldname)
            if stats is None:
                scores = bm25(tf, lens[ids], self._avgfl[fieldname],
                              self._population(fieldname), k1, b)
            else:
                scores = bm25(tf, lens[ids], stats.avgfl(fieldname), stats.population(fieldname),
                              k1, b, doc_freq=stats.doc_freq(fieldname, text))
        else:
            scores = EMPTY_SCORES
        # Its own scores are kept with the counts (the release prior sums them per release).
        value = (ids, scores, tf) if stats is None else (ids, scores)
        self._remember(key, value)
        return ids, scores

    def _remember(self, key, value):
        """Keep ``value`` (document numbers first) under ``key``, within ``max_entries``."""
        ids = value[0]
        with self._lock:
            self._cache[key] = value
            self._entries += len(ids)
            while self._entries > self.max_entries and len(self._cache) > 1:
                _k, old = self._cache.popitem(last=False)
                self._entries -= len(old[0])
        return value

    def idf(self, fieldname: str, text: str, stats: CollectionStats | None = None) -> float:
        """The IDF of one term, as :func:`search.scoring.bm25` computes it (0 when no document
        holds it), with this generation's statistics or ``stats``."""
        if stats is not None:
            df = stats.doc_freq(fieldname, text)
            return idf(df, stats.population(fieldname)) if df else 0.0
        df = len(self.counts(fieldname, text)[0])
        return idf(df, self._population(fieldname)) if df else 0.0

    # -- per-release aggregates: a release is one document made of its paragraphs -----------

    def release_lengths(self, fieldname: str) -> tuple[np.ndarray, float, float]:
        """Each release's field length (the sum of its paragraphs'), by its position in
        :attr:`heads`, the mean over the live releases and their sum (float64: exact, so the
        sums of shards add up to one index's)."""
        got = self._release_lengths.get(fieldname)
        if got is None:
            lens = self.lengths(fieldname)
            totals = np.zeros(self.n_heads, dtype=np.float64)
            live = self.live & (lens > 0)
            np.add.at(totals, self.release_of[live], lens[live])
            total = float(totals.sum())
            got = (totals.astype(np.float32), total / self.n_heads or 1.0, total)
            with self._lock:
                self._release_lengths[fieldname] = got
        return got

    def release_counts(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The releases holding ``text`` (positions in :attr:`heads`) and its count in each
        (its paragraphs' counts summed)."""
        ids, tf = self.counts(fieldname, text)
        if not len(ids):
            return EMPTY_IDS, EMPTY_SCORES
        release = self.release_of[ids]  # non-decreasing: a release's paragraphs are in a row
        starts = np.flatnonzero(np.r_[True, release[1:] != release[:-1]])
        return release[starts], np.add.reduceat(tf, starts)

    def release_scores(self, fieldname: str, text: str, stats: CollectionStats | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The releases holding one term (positions in :attr:`heads`; ``release_of[d]`` is
        paragraph ``d``'s) and its BM25 scores with each release as one document: statistics
        over releases (:meth:`release_counts`, :meth:`release_lengths`, the live release
        count), or those of ``stats`` for the field's
        :func:`~search.statistics.release_field` (a sharded index: a release lives in one
        shard, so its counts are whole and the shards' release counts and lengths add up).
        Cached like :meth:`scores`."""
        rfield = release_field(fieldname)
        key = (fieldname, text) if stats is None else (fieldname, text, stats.key(rfield, text))
        with self._lock:
            hit = self._release_cache.get(key)
            if hit is not None:
                self._release_cache.move_to_end(key)
                return hit
        releases, tf = self.release_counts(fieldname, text)
        if len(releases):
            totals, mean, _total = self.release_lengths(fieldname)
            if stats is None:
                value = (releases, bm25(tf, totals[releases], mean, self.n_heads))
            else:
                value = (releases, bm25(tf, totals[releases], stats.avgfl(rfield),
                                        stats.population(rfield),
                                        doc_freq=stats.doc_freq(rfield, text)))
        else:
            value = (EMPTY_IDS, EMPTY_SCORES)
        with self._lock:
            self._release_cache[key] = value
            while len(self._release_cache) > RELEASE_TERMS:
                self._release_cache.popitem(last=False)
        return value

    def mask(self, ids: np.ndarray) -> np.ndarray:
        """A boolean vector over all document numbers, true at ``ids``."""
        m = np.zeros(self.n, dtype=bool)
        m[ids] = True
        return m
