"""Postings of a bulk build as NumPy arrays: collected per worker, shared out by term, grouped
and encoded in Whoosh's W3 format.

A worker of the parallel full reindex (:mod:`search.writing`) collects one row per (term,
paragraph) in flat arrays instead of a Python list per term; the rows of the terms another
worker owns are handed over as arrays; the owner sorts all its rows by term and document number
in one NumPy call and encodes the posting lists with per-block statistics computed for all
blocks at once. The blocks' pickles (W3 stores each block's ids, weights and statistics as
protocol-2 pickles of tuples) are written by NumPy too, byte for byte as ``pickle.dumps``
writes them: Python-level work is left per compressed block and per term. The W3
format's constants (block size, term info layout, length code) come from
:mod:`search.whoosh_w3`.
"""

from __future__ import annotations

import itertools
import zlib
from array import array
from dataclasses import dataclass

import numpy as np

from .whoosh_w3 import BLOCK, POSTINGS_MAGIC, TERMINFO_DTYPE, length_bytes, split_terminfos

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
    # Term ids in byte order, so that sorting the rows by term puts the posting lists in the
    # order they are written.
    terms = sorted({t for share in shares for t in share.terms})  # code point order: UTF-8's
    vocab = {t: i for i, t in enumerate(terms)}
    btexts = [t.encode("utf-8") for t in terms]
    del terms
    keys, docs, counts = [], [], []
    for share in shares:
        if not share.terms:
            continue
        lut = np.zeros(int(share.ids.max()) + 1, dtype=np.int64)
        lut[share.ids] = np.fromiter(map(vocab.__getitem__, share.terms), dtype=np.int64,
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

    nblocks = len(bstarts)
    bcount = bends - bstarts
    block_group = group[bstarts]
    first_block = np.r_[True, block_group[1:] != block_group[:-1]]
    last_block = np.r_[block_group[1:] != block_group[:-1], True]

    # Each block's data: the pickle of (delta-coded ids, weights, None), weights None when
    # all are 1.0, one float when all are the same; stored zlib-compressed when it has at
    # least COMPRESS_MIN bytes and that is shorter (a flag in the block's info).
    uniform = bmax_w == bmin_w
    mini_kind = np.where(uniform, np.where(bmax_w == 1.0, 0, 1), 2)
    data_len = _block_data_sizes(bcount, np.add.reduceat(_pickled_ints_sizes(deltas), bstarts),
                                 mini_kind)
    comp = np.zeros(nblocks, dtype=np.int64)
    stored_len = data_len.copy()
    packed: list[bytes] = []
    tried = np.flatnonzero(data_len >= COMPRESS_MIN)
    if len(tried):
        rows = _rows_of(bstarts[tried], bcount[tried])
        raw, raw_len = _pickle_blocks_data(deltas[rows], count[rows],
                                           _excl_cumsum(bcount[tried]), bcount[tried],
                                           mini_kind[tried], bmax_w[tried])
        for b, off, size in zip(tried.tolist(), _excl_cumsum(raw_len).tolist(),
                                raw_len.tolist()):
            z = zlib.compress(raw[off:off + size], 3)
            if len(z) < size:
                comp[b] = 3
                stored_len[b] = len(z)
                packed.append(z)
        del raw
    # Each block's info: the pickle of (postings, last id, max weight, compression, min
    # length byte, max length byte).
    info_len = _block_info_sizes(bcount, doc[bends - 1], bmin_b, bmax_b)

    # The posting lists in term byte order: each the magic number, then its blocks, each its
    # size (negative for the last), info and data; written in place.
    magic = len(POSTINGS_MAGIC)
    size = info_len + stored_len
    block_at = _excl_cumsum(magic * first_block + 4 + size)
    total = int(block_at[-1] + magic * first_block[-1] + 4 + size[-1])
    out = np.empty(total, dtype=np.uint8)
    _put(out, block_at[first_block], _byte_rows(list(POSTINGS_MAGIC), int(first_block.sum())))
    header_at = block_at + magic * first_block
    _put(out, header_at, np.where(last_block, -size, size).astype(">i4")  # whoosh_w3.INT
         .view(np.uint8).reshape(-1, 4))
    _pickle_block_info(bcount, doc[bends - 1], bmax_w, comp, bmin_b, bmax_b, out,
                       header_at + 4)
    data_at = header_at + 4 + info_len
    plain = comp == 0
    if plain.any():
        rows = _rows_of(bstarts[plain], bcount[plain])
        _pickle_blocks_data(deltas[rows], count[rows], _excl_cumsum(bcount[plain]),
                            bcount[plain], mini_kind[plain], bmax_w[plain], out,
                            data_at[plain])
    for at, z in zip(data_at[~plain].tolist(), packed):
        out[at:at + len(z)] = np.frombuffer(z, dtype=np.uint8)
    blob = out.tobytes()
    del out
    term_off = block_at[first_block]
    term_len = np.diff(np.r_[term_off, total])

    infos = np.empty(len(btexts), dtype=TERMINFO_DTYPE)
    infos["flags"] = 0
    infos["weight"] = g_weight
    infos["df"] = ends - starts
    infos["minlen"] = g_min_len
    infos["maxlen"] = g_max_len
    infos["maxweight"] = g_max_w
    infos["minid"] = doc[starts]
    infos["maxid"] = doc[ends - 1]
    infos["offset"] = term_off
    infos["length"] = term_len
    return list(zip(btexts, split_terminfos(infos.tobytes()))), blob


def _rows_of(bstarts: np.ndarray, bcount: np.ndarray) -> np.ndarray:
    """The row numbers of the blocks starting at ``bstarts`` with ``bcount`` rows, in order."""
    return np.repeat(bstarts - _excl_cumsum(bcount), bcount) + np.arange(int(bcount.sum()))


# Pickle protocol 2, as ``pickle.dumps(obj, 2)`` writes the few shapes of a W3 block: PROTO 2;
# a small int as BININT1 (K), BININT2 (M) or BININT (J), little-endian; a float as BINFLOAT
# (G, big-endian double); None (N); a tuple of one to three items as the items then TUPLE1-3,
# a longer one as MARK, the items, TUPLE; each tuple then memoized (BINPUT n, q); STOP.
_PROTO = b"\x80\x02"
_MARK, _TUPLE, _NONE, _STOP, _BINPUT = 0x28, 0x74, 0x4E, 0x2E, 0x71
_TUPLE_N = np.array([0, 0x85, 0x86, 0x87], dtype=np.uint8)


def _pickled_ints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's pickle opcode and argument, as rows of 5 bytes and their lengths."""
    v = np.asarray(values, dtype=np.int64)
    if len(v) and (v.min() < 0 or v.max() >= 2**31):
        raise ValueError("a posting value out of the pickled range")
    small, mid = v < 256, v < 65536
    rows = np.zeros((len(v), 5), dtype=np.uint8)
    rows[:, 0] = np.where(small, ord("K"), np.where(mid, ord("M"), ord("J")))
    rows[:, 1:] = v.astype("<i4").view(np.uint8).reshape(-1, 4)
    return rows, _pickled_ints_sizes(v)


def _pickled_ints_sizes(values: np.ndarray) -> np.ndarray:
    """The lengths of :func:`_pickled_ints`."""
    return np.where(values < 256, 2, np.where(values < 65536, 3, 5))


def _pickled_floats(values: np.ndarray) -> np.ndarray:
    """Each value's BINFLOAT, as rows of 9 bytes."""
    rows = np.empty((len(values), 9), dtype=np.uint8)
    rows[:, 0] = ord("G")
    rows[:, 1:] = np.asarray(values, dtype=">f8").view(np.uint8).reshape(-1, 8)
    return rows


def _excl_cumsum(values: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values), dtype=np.int64)
    if len(values) > 1:
        np.cumsum(values[:-1], out=out[1:])
    return out


def _put(out: np.ndarray, at: np.ndarray, rows: np.ndarray, lens: np.ndarray | None = None
         ) -> None:
    """Write row ``i`` of ``rows`` (its first ``lens[i]`` bytes: all without ``lens``) at
    ``out[at[i]:]``."""
    width = rows.shape[1]
    whole = width if lens is None else int(lens.min(initial=width))
    for j in range(width):  # a column at a time: no index array per byte
        if j < whole:
            out[at + j] = rows[:, j]
        else:
            keep = lens > j
            out[at[keep] + j] = rows[keep, j]


def _byte_rows(code: int | list[int], n: int) -> np.ndarray:
    return np.tile(np.asarray(code if isinstance(code, list) else [code], dtype=np.uint8),
                   (n, 1))


#: Postings pickled at a time (bounds the scratch arrays: some 50 bytes a posting).
PICKLE_ROWS = 1 << 20


def _block_data_sizes(bcount: np.ndarray, ids_sizes: np.ndarray, mini_kind: np.ndarray
                      ) -> np.ndarray:
    """The lengths of :func:`_pickle_block_data`'s pickles, from the blocks' postings, the
    sum of their ids' pickled sizes and their kind of weights."""
    long_ = (bcount > 3).astype(np.int64)
    mini = np.select([mini_kind == 0, mini_kind == 1], [1, 9], long_ + 9 * bcount + 3)
    return 2 + long_ + ids_sizes + 3 + mini + 5


def _pickle_blocks_data(deltas, count, bstarts, bcount, mini_kind, bmax_w,
                        out: np.ndarray | None = None, at: np.ndarray | None = None
                        ) -> tuple[bytes, np.ndarray]:
    """:func:`_pickle_block_data` of runs of blocks of about :data:`PICKLE_ROWS` postings:
    into ``out`` at ``at`` (block by block), or else concatenated into new bytes; and the
    pickles' lengths."""
    nblocks = len(bstarts)
    if not nblocks:
        return b"", np.zeros(0, dtype=np.int64)
    sizes = _block_data_sizes(bcount, np.add.reduceat(_pickled_ints_sizes(deltas), bstarts),
                              mini_kind)
    own = out is None
    if own:
        at = _excl_cumsum(sizes)
        out = np.empty(int(sizes.sum()), dtype=np.uint8)
    lo = 0
    while lo < nblocks:
        hi = max(lo + 1, int(np.searchsorted(bstarts, bstarts[lo] + PICKLE_ROWS, "right")))
        first, last = int(bstarts[lo]), int(bstarts[hi - 1] + bcount[hi - 1])
        _pickle_block_data(deltas[first:last], count[first:last], bstarts[lo:hi] - first,
                           bcount[lo:hi], mini_kind[lo:hi], bmax_w[lo:hi], sizes[lo:hi],
                           out, at[lo:hi])
        lo = hi
    return (out.tobytes() if own else b""), sizes


def _pickle_block_data(deltas: np.ndarray, count: np.ndarray, bstarts: np.ndarray,
                       bcount: np.ndarray, mini_kind: np.ndarray, bmax_w: np.ndarray,
                       size: np.ndarray, out: np.ndarray, at: np.ndarray) -> None:
    """Write ``pickle.dumps((tuple(ids), weights, None), 2)`` of every block (``size[i]``
    bytes) at ``out[at[i]:]``; ``weights`` is None (kind 0), the block's one weight (1) or
    all of them (2)."""
    nblocks = len(bstarts)
    long_ = (bcount > 3).astype(np.int64)
    close = np.where(long_, _TUPLE, _TUPLE_N[np.minimum(bcount, 3)]).astype(np.uint8)
    ids, ids_len = _pickled_ints(deltas)
    ids_at = _excl_cumsum(ids_len)  # within the blocks' ids, then moved to each block
    ids_sum = np.add.reduceat(ids_len, bstarts)
    _put(out, at, np.tile(np.frombuffer(_PROTO + b"(", dtype=np.uint8), (nblocks, 1)),
         2 + long_)
    row_block = np.repeat(np.arange(nblocks), bcount)
    ids_start = at + 2 + long_ - ids_at[bstarts]
    _put(out, ids_start[row_block] + ids_at, ids, ids_len)
    mini_at = at + 2 + long_ + ids_sum + 3
    _put(out, mini_at - 3, np.stack([close, np.full(nblocks, _BINPUT, np.uint8),
                                     np.zeros(nblocks, np.uint8)], axis=1))
    none, one, many = mini_kind == 0, mini_kind == 1, mini_kind == 2
    out[mini_at[none]] = _NONE
    _put(out, mini_at[one], _pickled_floats(bmax_w[one]))
    if many.any():
        out[mini_at[many & (long_ == 1)]] = _MARK
        rows = many[row_block]
        pos = np.arange(len(deltas)) - np.repeat(bstarts, bcount)
        _put(out, (mini_at + long_)[row_block[rows]] + 9 * pos[rows],
             _pickled_floats(count[rows]))
        _put(out, (mini_at + long_ + 9 * bcount)[many],
             np.stack([close[many], np.full(int(many.sum()), _BINPUT, np.uint8),
                       np.ones(int(many.sum()), np.uint8)], axis=1))
    memo = np.where(many, 2, 1).astype(np.uint8)
    _put(out, at + size - 5, np.stack([np.full(nblocks, _NONE, np.uint8),
                                       np.full(nblocks, 0x87, np.uint8),
                                       np.full(nblocks, _BINPUT, np.uint8), memo,
                                       np.full(nblocks, _STOP, np.uint8)], axis=1))


def _block_info_sizes(bcount, last_ids, bmin_b, bmax_b) -> np.ndarray:
    """The lengths of :func:`_pickle_block_info`'s pickles (the compression flag, 0 or 3,
    pickles to two bytes)."""
    return (3 + _pickled_ints_sizes(bcount) + _pickled_ints_sizes(last_ids) + 9 + 2
            + _pickled_ints_sizes(bmin_b) + _pickled_ints_sizes(bmax_b) + 4)


def _pickle_block_info(bcount, last_ids, bmax_w, comp, bmin_b, bmax_b,
                       out: np.ndarray | None = None, at: np.ndarray | None = None
                       ) -> tuple[bytes, np.ndarray]:
    """``pickle.dumps((postings, last id, max weight, compression, min length byte, max
    length byte), 2)`` of every block: into ``out`` at ``at``, or else concatenated into new
    bytes; and their lengths."""
    nblocks = len(bcount)
    parts = [(_byte_rows(list(_PROTO + b"("), nblocks), np.full(nblocks, 3)),
             _pickled_ints(bcount), _pickled_ints(last_ids),
             (_pickled_floats(bmax_w), np.full(nblocks, 9)),
             _pickled_ints(comp), _pickled_ints(bmin_b), _pickled_ints(bmax_b),
             (_byte_rows([_TUPLE, _BINPUT, 0, _STOP], nblocks), np.full(nblocks, 4))]
    size = sum(lens for _rows, lens in parts)
    own = out is None
    if own:
        at = _excl_cumsum(size)
        out = np.empty(int(size.sum()), dtype=np.uint8)
    for rows, lens in parts:
        _put(out, at, rows, lens)
        at = at + lens
    return (out.tobytes() if own else b""), size
