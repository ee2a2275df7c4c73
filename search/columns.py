"""A generation's per-paragraph columns as NumPy arrays: what searches filter, sort and count by.

An opened generation (:mod:`search.generation`) reads the index's columns (see
:mod:`search.schema`) once into a :class:`Columns`:

* ``day``: each paragraph's release date as the integer ``yyyymmdd`` (0 when the release has
  no date), which sorts like the date; ``month`` codes follow from it;
* ``publisher``, ``org`` (the speaker's organisation), ``speaker`` and ``section`` as *codes*:
  one small integer per paragraph, 0 for none. Values that fold alike (script, width, case:
  :func:`search.script.fold`) share a code, so ``publisher:德州新聞網`` finds ``德州新闻网``; a
  code's label is the most common of its spellings.

Filters are then comparisons of integer arrays, and the facet counts of a search are one
``np.bincount`` of the codes of its matches per field: nothing is read per hit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .models import FACETS
from .script import fold

#: Values listed per facet (the most frequent; the number of distinct values is given beside).
FACET_LIMIT = 10
#: The column (schema field) each coded facet is read from.
FIELDS = {"publisher": "publisher", "org": "organization", "speaker": "speaker_name",
          "section": "section"}


@dataclass
class Coded:
    """One column as codes: ``codes[d]`` is paragraph ``d``'s code (0: no value),
    ``labels[c]`` the value shown for code ``c`` (``labels[0] == ""``), ``keys`` the code of
    each folded value, ``order[c]`` the rank of ``labels[c]`` in sorted order (for ties)."""

    codes: np.ndarray
    labels: list[str]
    keys: dict[str, int] = field(default_factory=dict)
    order: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))


def _decoded(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""


def code_values(values: Sequence, n: int, folded: bool = True) -> Coded:
    """``values`` (one per paragraph; missing ones past the end) coded; with ``folded``,
    values that fold alike share a code."""
    raw: dict = {"": 0, b"": 0}
    raw_codes = np.fromiter((raw.setdefault(v or "", len(raw) - 1) for v in values),
                            dtype=np.int32, count=len(values))
    if len(raw_codes) < n:  # documents past the last column value (an empty segment)
        raw_codes = np.concatenate([raw_codes, np.zeros(n - len(raw_codes), dtype=np.int32)])
    del raw[b""]
    spellings = [_decoded(v) for v in raw]  # raw code -> value (distinct as stored)
    counts = np.bincount(raw_codes, minlength=len(spellings))
    keys: dict[str, int] = {}
    remap = np.zeros(len(spellings), dtype=np.int32)
    best: dict[int, tuple[int, str]] = {}  # code -> (count, spelling) of its commonest spelling
    for rc, value in enumerate(spellings[1:], 1):
        key = fold(value) if folded else value
        code = keys.setdefault(key, len(keys) + 1)
        remap[rc] = code
        seen = best.get(code)
        if seen is None or (int(counts[rc]), value) > seen:
            best[code] = (int(counts[rc]), value)
    labels = [""] + [best[c][1] for c in range(1, len(keys) + 1)]
    order = np.zeros(len(labels), dtype=np.int64)
    order[np.array(sorted(range(len(labels)), key=labels.__getitem__), dtype=np.int64)] = \
        np.arange(len(labels))
    return Coded(codes=remap[raw_codes], labels=labels, keys=keys, order=order)


def iso_day(value: str) -> int:
    """An ISO date ``YYYY-MM-DD`` as ``yyyymmdd`` (0 if it is not one)."""
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        digits = value[:4] + value[5:7] + value[8:]
        if digits.isascii() and digits.isdigit():
            return int(digits)
    return 0


def _months(day: np.ndarray) -> Coded:
    """Month codes in chronological order (code 0: no date)."""
    month = day // 100
    distinct = np.unique(month[month > 0])
    codes = np.zeros(len(day), dtype=np.int32)
    if len(distinct):
        codes[month > 0] = np.searchsorted(distinct, month[month > 0]).astype(np.int32) + 1
    labels = [""] + [f"{m // 100:04d}-{m % 100:02d}" for m in distinct.tolist()]
    return Coded(codes=codes, labels=labels, keys={v: i for i, v in enumerate(labels) if i},
                 order=np.arange(len(labels), dtype=np.int64))


@dataclass
class FacetCounts:
    """The facet counts of a set of paragraphs: per facet, the :data:`FACET_LIMIT` commonest
    values with their counts (most first, ties by value), the number of distinct values, and
    the count of every month in chronological order."""

    top: dict[str, list[tuple[str, int]]]
    distinct: dict[str, int]
    timeline: list[tuple[str, int]]


class Columns:
    """The columns of one generation's ``n`` paragraphs; ``read(fieldname)`` gives a column's
    values by document number (missing ones at the end: none)."""

    def __init__(self, read: Callable[[str], Sequence], n: int):
        self.n = n
        dates: dict[str, int] = {}
        values = read("date")
        day = np.fromiter((dates[v] if v in dates else dates.setdefault(v, iso_day(_decoded(v)))
                           for v in values), dtype=np.int32, count=len(values))
        if len(day) < n:
            day = np.concatenate([day, np.zeros(n - len(day), dtype=np.int32)])
        #: Release date of each paragraph, ``yyyymmdd``; 0: none.
        self.day = day
        self.coded: dict[str, Coded] = {"month": _months(day)}
        for facet, fieldname in FIELDS.items():
            self.coded[facet] = code_values(read(fieldname), n, folded=facet != "section")

    def value_mask(self, facet: str, values: list[str]) -> np.ndarray:
        """The paragraphs whose ``facet`` is any of ``values`` (compared folded)."""
        coded = self.coded[facet]
        wanted = [c for c in (coded.keys.get(fold(v) if facet != "section" else v)
                              for v in values) if c]
        if not wanted:
            return np.zeros(self.n, dtype=bool)
        if len(wanted) == 1:
            return coded.codes == wanted[0]
        return np.isin(coded.codes, wanted)

    def day_mask(self, first: int, last: int) -> np.ndarray:
        """The paragraphs dated from day ``first`` to day ``last`` (``yyyymmdd``, inclusive)."""
        return (self.day >= first) & (self.day <= last)

    def facets(self, mask: np.ndarray, limit: int = FACET_LIMIT) -> FacetCounts:
        """The facet counts of the paragraphs in ``mask``."""
        top: dict[str, list[tuple[str, int]]] = {}
        distinct: dict[str, int] = {}
        timeline: list[tuple[str, int]] = []
        for facet, coded, counts in self._counts(mask):
            present = np.flatnonzero(counts)
            distinct[facet] = len(present)
            best = present[np.lexsort((coded.order[present], -counts[present]))][:limit]
            top[facet] = [(coded.labels[c], int(counts[c])) for c in best.tolist()]
            if facet == "month":
                timeline = [(coded.labels[c], int(counts[c])) for c in present.tolist()]
        return FacetCounts(top=top, distinct=distinct, timeline=timeline)

    def facet_totals(self, mask: np.ndarray) -> dict[str, dict[str, int]]:
        """Every value of each facet among the paragraphs in ``mask`` with its count: what
        a shard gives, for :func:`merge_facet_totals` to add up across the shards."""
        return {facet: {coded.labels[c]: int(counts[c]) for c in np.flatnonzero(counts).tolist()}
                for facet, coded, counts in self._counts(mask)}

    def _counts(self, mask: np.ndarray):
        """``(facet, its coded column, the count of each code)`` of the paragraphs in
        ``mask``, facet by facet; code 0 (no value) counts nothing."""
        picked = np.flatnonzero(mask)  # once: a boolean index per facet costs 3-4 times more
        for facet in FACETS:
            coded = self.coded[facet]
            counts = np.bincount(coded.codes[picked], minlength=len(coded.labels))
            counts[0] = 0  # paragraphs without a value are not a value
            yield facet, coded, counts


def merge_facet_totals(totals: Sequence[dict[str, dict[str, int]]], limit: int = FACET_LIMIT
                       ) -> FacetCounts:
    """The facet counts of the union of the shards whose :meth:`Columns.facet_totals` are
    ``totals``: counts of values that fold alike added up, shown as the spelling counted most
    (a shard's label is its own commonest spelling), the commonest first, ties by value."""
    top: dict[str, list[tuple[str, int]]] = {}
    distinct: dict[str, int] = {}
    timeline: list[tuple[str, int]] = []
    for facet in FACETS:
        summed: dict[str, int] = {}
        spellings: dict[str, dict[str, int]] = {}
        for part in totals:
            for label, n in part.get(facet, {}).items():
                key = label if facet == "month" else fold(label)
                summed[key] = summed.get(key, 0) + n
                spellings.setdefault(key, {})[label] = spellings.get(key, {}).get(label, 0) + n
        shown = {key: min(sp, key=lambda lb: (-sp[lb], lb)) for key, sp in spellings.items()}
        rows = sorted(((shown[k], n) for k, n in summed.items()), key=lambda r: (-r[1], r[0]))
        distinct[facet] = len(rows)
        top[facet] = rows[:limit]
        if facet == "month":
            timeline = sorted(rows)
    return FacetCounts(top=top, distinct=distinct, timeline=timeline)
