"""Which characters follow which: a character trigram model of simplified Chinese text, the
second judge of a repair's candidates beside the word model (:mod:`search.likelihood`).

jieba's dictionary knows words, not what comes between them: ``神武的皇帝`` and ``神武帝皇帝``
are alike to it, ``任教于`` and ``任教在`` too.  This model knows that ``的皇`` is common and
``帝皇`` rare.  It is an interpolated Witten-Bell trigram model (unigram, bigram and trigram
counts, each level interpolated with the one below by how many different characters follow a
history) over folded text (:func:`search.script.fold`: simplified, half-width, lower case;
digits read as ``0``, Latin letters as ``a``, white space as `` ``, a line break begins and
ends a line).

The counts are package data (``search/data/charmodel.npz``, 4.5 MB, stored compactly: see
:func:`_unpack`), built by ``scripts/build_charmodel.py`` from 20 million characters: CMRC2018
and DRCD paragraphs and questions, the PRC's laws and regulations and the government work
reports (official documents, free of copyright), none of it part of the repair's ground truth
(``tests/data/repair``; ``tests/test_charmodel.py`` holds that), and from the words of jieba's
dictionary weighted by their frequency; see ``search/data/README.md`` for sources and
licenses.
"""

from __future__ import annotations

import functools
import json
import math
from importlib import resources

import numpy as np

from .script import fold

__all__ = ["DATA_FILE", "char_information", "char_log_likelihood", "normalize"]

DATA_FILE = "charmodel.npz"
#: The line boundary: a line begins and ends with it.
BOUNDARY = "\n"
_BITS = 16  # a character's id in a key: the vocabulary stays below 65,536
#: A stored bigram or trigram count is one byte: round(log(count) / QUANTUM).
QUANTUM = 1 / 16


def _class(c: str) -> str:
    if c.isdigit() and c.isascii():
        return "0"
    if c.isascii() and c.isalpha():
        return "a"
    if c.isspace() and c != "\n":
        return " "
    return c


_CLASS_TABLE = {**{ord(d): "0" for d in "0123456789"},
                **{ord(a): "a" for a in "abcdefghijklmnopqrstuvwxyz"},
                ord("\t"): " ", ord("\r"): " ", 0x3000: " "}


def normalize(text: str) -> str:
    """``text`` as the model reads it: folded, digits ``0``, Latin letters ``a``, spaces."""
    return fold(text).translate(_CLASS_TABLE)


class _Model:
    def __init__(self, data: dict[str, np.ndarray]):
        self.vocab = {c: i + 1 for i, c in enumerate(str(data["vocab"]))}  # 0: unknown
        size = len(self.vocab) + 1
        self.uni = np.zeros(size, dtype=np.float64)
        self.uni[1:] = data["uni"]
        total = float(self.uni.sum())
        # unigram: add one (an unknown character is less likely than any seen once)
        self.p1 = (self.uni + 1.0) / (total + size)
        self.bi_keys = data["bi_keys"].astype(np.int64)
        self.bi_counts = data["bi_counts"].astype(np.float64)
        self.tri_keys = data["tri_keys"].astype(np.int64)
        self.tri_counts = data["tri_counts"].astype(np.float64)
        # per history: the count of what follows it and how many different characters do
        self.h1_count = np.zeros(size)
        self.h1_types = np.zeros(size)
        np.add.at(self.h1_count, self.bi_keys >> _BITS, self.bi_counts)
        np.add.at(self.h1_types, self.bi_keys >> _BITS, 1.0)
        hist = self.tri_keys >> _BITS
        self.h2_keys, first = np.unique(hist, return_index=True)
        self.h2_count = np.add.reduceat(self.tri_counts, first)
        self.h2_types = np.diff(np.append(first, len(hist))).astype(np.float64)

    def ids(self, text: str) -> np.ndarray:
        get = self.vocab.get
        return np.fromiter((get(c, 0) for c in text), dtype=np.int64, count=len(text))

    @staticmethod
    def _find(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        at = np.searchsorted(keys, wanted)
        at = np.minimum(at, len(keys) - 1)
        return np.where(keys[at] == wanted, values[at], 0.0)

    def log_prob(self, text: str) -> float:
        x = self.ids(text)
        if len(x) == 0:
            return 0.0
        p1 = self.p1[x]
        # bigram level, positions 1..n-1 (history x[t-1])
        v, w = x[:-1], x[1:]
        c_vw = self._find(self.bi_keys, self.bi_counts, (v << _BITS) | w)
        c_v, t_v = self.h1_count[v], self.h1_types[v]
        p2 = np.where(c_v > 0, (c_vw + t_v * p1[1:]) / np.maximum(c_v + t_v, 1e-12), p1[1:])
        total = math.log(p1[0]) + float(np.log(p2[:1]).sum())
        if len(x) > 2:
            u, v, w = x[:-2], x[1:-1], x[2:]
            h = (u << _BITS) | v
            c_uvw = self._find(self.tri_keys, self.tri_counts, (h << _BITS) | w)
            at = np.minimum(np.searchsorted(self.h2_keys, h), len(self.h2_keys) - 1)
            seen = self.h2_keys[at] == h
            c_h = np.where(seen, self.h2_count[at], 0.0)
            t_h = np.where(seen, self.h2_types[at], 0.0)
            lower = p2[1:]
            p3 = np.where(c_h > 0, (c_uvw + t_h * lower) / np.maximum(c_h + t_h, 1e-12), lower)
            total += float(np.log(p3).sum())
        return total


def _unpack(data) -> dict[str, np.ndarray]:
    """The stored (compact) counts as keys and counts: bigrams as how many follow each
    character and the second characters, trigrams as how many follow each bigram and the last
    characters, counts as bytes of log-count (:data:`QUANTUM`)."""
    vocab = str(data["vocab"])
    first = np.repeat(np.arange(1, len(vocab) + 1, dtype=np.int64),
                      data["bi_first"].astype(np.int64))
    bi_keys = (first << _BITS) | data["bi_second"].astype(np.int64)
    history = np.repeat(bi_keys, data["tri_followers"].astype(np.int64))
    return {"vocab": data["vocab"], "uni": data["uni"], "bi_keys": bi_keys,
            "bi_counts": np.exp(data["bi_q"].astype(np.float64) * QUANTUM),
            "tri_keys": (history << _BITS) | data["tri_last"].astype(np.int64),
            "tri_counts": np.exp(data["tri_q"].astype(np.float64) * QUANTUM)}


@functools.cache
def _model() -> _Model:
    with resources.files("search").joinpath("data", DATA_FILE).open("rb") as f:
        with np.load(f) as data:
            return _Model(_unpack(data))


@functools.lru_cache(maxsize=65536)
def char_log_likelihood(text: str) -> float:
    """The natural log-probability of ``text`` (normalized first, see :func:`normalize`)
    under the character model; only differences between texts of similar context mean
    anything."""
    return _model().log_prob(normalize(text))


@functools.cache
def _information() -> tuple[dict[str, float], float]:
    # Only the unigram counts: np.load reads an .npz member when it is asked for.
    with resources.files("search").joinpath("data", DATA_FILE).open("rb") as f:
        with np.load(f) as data:
            vocab, uni = str(data["vocab"]), data["uni"].astype(np.float64)
    size = len(vocab) + 1
    total = float(uni.sum()) + size
    # As the model's unigram level: add one (an unknown character the rarest of all).
    bits = -np.log((uni + 1.0) / total)
    return dict(zip(vocab, bits.tolist())), math.log(total)


def char_information(c: str) -> float:
    """How much a character says: minus the natural log of its unigram probability in the
    model (folded text: pass a simplified character), by the model's add-one estimate;
    ``的`` 3.7, ``国`` 4.9, ``称`` 7.0, ``硫`` 9.9."""
    table, unknown = _information()
    return table.get(c, unknown)


def manifest() -> dict:
    """What the model was built from (sources, counts, the hash of its training text)."""
    with resources.files("search").joinpath("data", DATA_FILE).open("rb") as f:
        with np.load(f) as data:
            return json.loads(str(data["manifest"]))
