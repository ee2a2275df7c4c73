"""Postings of a bulk build as NumPy arrays: collected per worker, shared out by term, grouped
and encoded in Whoosh's W3 format.

A worker of the parallel full reindex (:mod:`search.writing`) collects one row per (term,
paragraph) in flat arrays instead of a Python list per term; the rows of the terms another
worker owns are handed over as arrays; the owner sorts all its rows by term and document number
in one NumPy call and encodes the posting lists with per-block statistics computed for all
blocks at once. Python-level work is left per term and per block, not per posting. The W3
format's constants (block size, term info layout, length code) come from
:mod:`search.whoosh_w3`.
"""

from __future__ import annotations

import itertools
import pickle
import zlib
from array import array
from dataclasses import dataclass

import numpy as np

from .whoosh_w3 import BLOCK, INT, POSTINGS_MAGIC, TERMINFO, length_bytes

#: Block data shorter than this is stored uncompressed (zlib would make it longer); the block
#: header says which, and Whoosh's reader honours it.
COMPRESS_MIN = 64


class PostingCollector:
    """The postings of one field, collected document by document (in increasing order):
    one row (term id, document number, weight) per term of a document."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._next_id = itertools.count()
        self.tids = array("q")
        self.docs = array("I")
        self.weights = array("f")  # as Whoosh keeps them: float32

    def add(self, docnum: int, weights: dict[str, float]) -> None:
        """Add a document's terms with their weights (counts, before the field's boost)."""
        self.tids.extend(map(self.vocab.setdefault, weights, self._next_id))
        self.docs.extend(itertools.repeat(docnum, len(weights)))
        self.weights.extend(weights.values())

    def add_many(self, docnums: list[int], documents: list[dict[str, float]]) -> None:
        """Add documents (their terms with their weights), ``documents[i]`` numbered
        ``docnums[i]``: the rows of :meth:`add` for each, made a batch at a time."""
        flatten = itertools.chain.from_iterable
        self.tids.extend(map(self.vocab.setdefault, flatten(documents), self._next_id))
        sizes = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
        self.docs.frombytes(np.repeat(np.asarray(docnums, dtype=np.uint32), sizes).tobytes())
        self.weights.extend(flatten([d.values() for d in documents]))

    def __len__(self) -> int:
        return len(self.vocab)

    def share(self) -> Share:
        """All the postings as one share."""
        return Share(terms=list(self.vocab),
                     ids=np.fromiter(self.vocab.values(), dtype=np.int64,
                                     count=len(self.vocab)),
                     tids=np.frombuffer(self.tids, dtype=np.int64),
                     docs=np.frombuffer(self.docs, dtype=np.uint32),
                     weights=np.frombuffer(self.weights, dtype=np.float32))

    def shares(self, parts: int) -> list[Share]:
        """The postings split into ``parts`` shares by term (by CRC-32 of the term, the same
        in every process, so every worker sends a term to the same owner)."""
        terms = list(self.vocab)
        local = np.fromiter(self.vocab.values(), dtype=np.int64, count=len(terms))
        owner_of_term = np.fromiter((zlib.crc32(t.encode("utf-8")) % parts for t in terms),
                                    dtype=np.int64, count=len(terms))
        tids = np.frombuffer(self.tids, dtype=np.int64)
        docs = np.frombuffer(self.docs, dtype=np.uint32)
        weights = np.frombuffer(self.weights, dtype=np.float32)
        owner = np.zeros(int(local.max()) + 1 if len(local) else 0, dtype=np.int64)
        owner[local] = owner_of_term
        row_owner = owner[tids] if len(tids) else np.zeros(0, dtype=np.int64)
        out = []
        for j in range(parts):
            rows = row_owner == j
            mine = owner_of_term == j
            out.append(Share(terms=[t for t, m in zip(terms, mine) if m], ids=local[mine],
                             tids=tids[rows].copy(), docs=docs[rows].copy(),
                             weights=weights[rows].copy()))
        return out


@dataclass
class Share:
    """Postings of some terms: ``terms[i]`` has the local id ``ids[i]``; each row is
    ``(tids, docs, weights)``."""

    terms: list[str]
    ids: np.ndarray
    tids: np.ndarray
    docs: np.ndarray
    weights: np.ndarray


def encode_shares(shares: list[Share], lengths: np.ndarray | None,
                  boost: float = 1.0) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Encode the posting lists of the terms in ``shares`` (from several workers; a term may
    be in several) in Whoosh's W3 format: returns ``(terms, blob)``, ``terms`` being
    ``(UTF-8 term, W3 term info)`` in byte order with offsets into ``blob``.

    The bytes are what ``W3PostingsWriter`` writes (blocks of 128 delta-coded document
    numbers, weights, per-block statistics), except that small blocks are not
    zlib-compressed. ``lengths[d]`` is document ``d``'s field length (``None`` for a field
    without lengths); weights are multiplied by ``boost`` and kept as float32, as Whoosh does.
    Tested against Whoosh's own writer and reader.
    """
    vocab: dict[str, int] = {}
    keys, docs, counts = [], [], []
    for share in shares:
        if not share.terms:
            continue
        lut = np.zeros(int(share.ids.max()) + 1, dtype=np.int64)
        lut[share.ids] = np.fromiter(
            (vocab.setdefault(t, len(vocab)) for t in share.terms), dtype=np.int64,
            count=len(share.terms))
        keys.append(lut[share.tids])
        docs.append(share.docs)
        counts.append(share.weights)
    if not vocab:
        return [], b""
    key = np.concatenate(keys)
    doc = np.concatenate(docs).astype(np.int64)
    count = (np.concatenate(counts).astype(np.float64) * boost).astype(np.float32)
    count = count.astype(np.float64)
    order = np.lexsort((doc, key))
    key, doc, count = key[order], doc[order], count[order]
    n = len(key)
    # Every term has rows, and term ids are 0..len(vocab)-1: group g is term id g.
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], n]
    # Blocks of up to BLOCK postings within each term.
    group = np.repeat(np.arange(len(starts)), ends - starts)
    pos = np.arange(n) - starts[group]
    bstarts = np.flatnonzero(pos % BLOCK == 0)
    bends = np.r_[bstarts[1:], n]
    deltas = np.empty(n, dtype=np.int64)
    deltas[0] = doc[0]
    deltas[1:] = doc[1:] - doc[:-1]
    deltas[bstarts] = doc[bstarts]  # each block's first id is absolute
    lens = lengths[doc].astype(np.int64) if lengths is not None else np.zeros(n, np.int64)
    bmin_len = np.minimum.reduceat(lens, bstarts)
    bmax_len = np.maximum.reduceat(lens, bstarts)
    bmax_w = np.maximum.reduceat(count, bstarts)
    bmin_w = np.minimum.reduceat(count, bstarts)
    bmin_b, bmax_b = length_bytes(bmin_len), length_bytes(bmax_len)
    g_weight = np.add.reduceat(count, starts)
    g_min_len = length_bytes(np.minimum.reduceat(lens, starts))
    g_max_len = length_bytes(np.maximum.reduceat(lens, starts))
    g_max_w = np.maximum.reduceat(count, starts)
    block_of_group = np.searchsorted(bstarts, starts)

    # Per-block and per-term figures as Python lists; per-row arrays are sliced block by block
    # (a list of every row would hold a Python object per posting).
    blast_l = doc[bends - 1].tolist()
    gfirst_l, glast_l = doc[starts].tolist(), doc[ends - 1].tolist()
    bends_l, bstarts_l = bends.tolist(), bstarts.tolist()
    bmin_b_l, bmax_b_l = bmin_b.tolist(), bmax_b.tolist()
    bmax_w_l, bmin_w_l = bmax_w.tolist(), bmin_w.tolist()
    starts_l, ends_l = starts.tolist(), ends.tolist()
    first_block_l = block_of_group.tolist()
    g_weight_l, g_max_w_l = g_weight.tolist(), g_max_w.tolist()
    g_min_len_l, g_max_len_l = g_min_len.tolist(), g_max_len.tolist()

    dumps = pickle.dumps
    pieces: list[bytes] = []
    out_terms: list[tuple[bytes, bytes]] = []
    offset = 0
    for btext, gid in sorted((t.encode("utf-8"), i) for t, i in vocab.items()):
        start, end = starts_l[gid], ends_l[gid]
        b = first_block_l[gid]
        blob = [POSTINGS_MAGIC]
        while True:
            bs, be = bstarts_l[b], bends_l[b]
            hi, lo = bmax_w_l[b], bmin_w_l[b]
            if hi == lo:
                mini = None if hi == 1.0 else hi
            else:
                mini = tuple(count[bs:be].tolist())
            data = dumps((tuple(deltas[bs:be].tolist()), mini, None), 2)
            comp = 0
            if len(data) >= COMPRESS_MIN:
                packed = zlib.compress(data, 3)
                if len(packed) < len(data):
                    data, comp = packed, 3
            info = dumps((be - bs, blast_l[b], hi, comp, bmin_b_l[b], bmax_b_l[b]), 2)
            size = len(info) + len(data)
            last = be >= end
            blob.append(INT.pack(-size if last else size))
            blob.append(info)
            blob.append(data)
            if last:
                break
            b += 1
        blob_bytes = b"".join(blob)
        out_terms.append((btext, TERMINFO.pack(
            0, g_weight_l[gid], end - start, g_min_len_l[gid], g_max_len_l[gid],
            g_max_w_l[gid], gfirst_l[gid], glast_l[gid], offset, len(blob_bytes))))
        pieces.append(blob_bytes)
        offset += len(blob_bytes)
    return out_terms, b"".join(pieces)


