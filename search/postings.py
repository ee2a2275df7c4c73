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
from .scoring import bm25
from .statistics import CollectionStats
from .whoosh_w3 import read_postings, segment_field_lengths

#: Fields indexed on the head paragraph of each release only.
HEAD_FIELDS = frozenset({"title"})

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
        else:
            self.head_of = np.arange(self.n, dtype=np.int32)

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
        """Live documents holding a term (what BM25's idf counts)."""
        return len(self._raw_cached(fieldname, text)[0])

    def stats(self, terms) -> CollectionStats:
        """This generation's statistics of ``terms`` ((field, term) pairs) and their fields."""
        terms = list(terms)
        return CollectionStats({f: self.field_stats(f) for f in {f for f, _t in terms}},
                               {(f, t): self.doc_freq(f, t) for f, t in terms})

    def raw(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and term frequencies of ``text`` in ``fieldname``."""
        all_ids: list = []
        all_w: list = []
        for leaf, offset in self._leaves:
            try:
                if (fieldname, text) not in leaf:
                    continue
                ids, weights = read_postings(leaf.postings(fieldname, text))
            except SearchError:
                raise
            except Exception as exc:  # Whoosh raises bare Exception on damaged blocks
                raise IndexCorruptError.unreadable(
                    f"read the postings of {self.where}", self.where, exc) from None
            if offset:
                ids = [i + offset for i in ids]
            all_ids.extend(ids)
            all_w.extend(weights)
        if not all_ids:
            return EMPTY_IDS, EMPTY_SCORES
        ids = np.asarray(all_ids, dtype=np.int32)
        tf = np.asarray(all_w, dtype=np.float32)
        keep = self.live[ids]
        if not keep.all():
            ids, tf = ids[keep], tf[keep]
        return ids, tf

    def _raw_cached(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`raw` through the cache (a sharded search reads a term's postings for its
        document frequency, then for its scores)."""
        key = ("raw", fieldname, text)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        return self._remember(key, self.raw(fieldname, text))

    def scores(self, fieldname: str, text: str, stats: CollectionStats | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and BM25 scores of one term (cached), with this generation's own
        statistics or with ``stats`` (gathered across the shards of an index)."""
        key = (fieldname, text) if stats is None else (fieldname, text, stats.key(fieldname, text))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        ids, tf = self.raw(fieldname, text) if stats is None else self._raw_cached(fieldname, text)
        if len(ids):
            lens = self.lengths(fieldname)
            # Live statistics: deleted documents linger in the segments until a merge.
            if stats is None:
                scores = bm25(tf, lens[ids], self._avgfl[fieldname],
                              self._population(fieldname))
            else:
                scores = bm25(tf, lens[ids], stats.avgfl(fieldname), stats.population(fieldname),
                              doc_freq=stats.doc_freq(fieldname, text))
        else:
            scores = EMPTY_SCORES
        return self._remember(key, (ids, scores))

    def _remember(self, key, value):
        ids = value[0]
        with self._lock:
            self._cache[key] = value
            self._entries += len(ids)
            while self._entries > self.max_entries and len(self._cache) > 1:
                _k, (old_ids, _s) = self._cache.popitem(last=False)
                self._entries -= len(old_ids)
        return value

    def mask(self, ids: np.ndarray) -> np.ndarray:
        """A boolean vector over all document numbers, true at ``ids``."""
        m = np.zeros(self.n, dtype=bool)
        m[ids] = True
        return m
