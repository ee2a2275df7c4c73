"""The collection statistics BM25 reads, a generation's own or gathered across shards.

Per field: how many documents the statistics count (the population) and the sum of their
lengths (the mean length follows); per term: how many live documents hold it. The release
prior of :mod:`search.scoring` scores each release as one document: its statistics are those
of a field named by :func:`release_field` (``release:words``): the live releases, the sum of
their lengths (their paragraphs' summed) and the releases holding a term, gathered and added up
as the paragraphs' (a release lives in one shard). A generation
scores with its own (:class:`search.postings.Postings` computes them). A sharded index first
gathers each shard's for the terms of a query and adds them up, then every shard scores with
the sums (as Elasticsearch's ``dfs_query_then_fetch`` does), so a paragraph scores in its shard
exactly as in one index over all the releases. Sums of whole numbers, so adding them up in any
order gives the same figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


#: The prefix of the pseudo-field of a field's statistics over whole releases.
RELEASE_PREFIX = "release:"


def release_field(fieldname: str) -> str:
    """The name of ``fieldname``'s statistics with each release as one document."""
    return RELEASE_PREFIX + fieldname


def release_base(fieldname: str) -> str | None:
    """The field a :func:`release_field` name is of (None for a field of paragraphs)."""
    return fieldname[len(RELEASE_PREFIX):] if fieldname.startswith(RELEASE_PREFIX) else None


@dataclass(frozen=True)
class CollectionStats:
    """``fields``: field -> (population, sum of the lengths); ``doc_freqs``: (field, term) ->
    documents holding it. Only the terms gathered for one query are known."""

    fields: dict[str, tuple[int, float]] = field(default_factory=dict)
    doc_freqs: dict[tuple[str, str], int] = field(default_factory=dict)

    def population(self, fieldname: str) -> int:
        return max(1, self.fields[fieldname][0])

    def avgfl(self, fieldname: str) -> float:
        """The mean field length (1 where nothing has a length, as a generation's own)."""
        population, total = self.fields[fieldname]
        return total / max(1, population) or 1.0

    def doc_freq(self, fieldname: str, text: str) -> int:
        """Documents holding the term; a term not gathered is a bug (its score would silently
        use one shard's figure), so it raises LookupError."""
        try:
            return self.doc_freqs[(fieldname, text)]
        except KeyError:
            raise LookupError(f"term {fieldname}:{text!r} was not gathered") from None

    def key(self, fieldname: str, text: str) -> tuple:
        """What a term's scores depend on, beyond its postings (a cache key)."""
        return (self.population(fieldname), self.avgfl(fieldname),
                self.doc_freq(fieldname, text))

    @classmethod
    def combine(cls, parts: Iterable[CollectionStats]) -> CollectionStats:
        """The statistics of the union of the shards ``parts`` describe."""
        fields: dict[str, tuple[int, float]] = {}
        freqs: dict[tuple[str, str], int] = {}
        for part in parts:
            for name, (population, total) in part.fields.items():
                p, t = fields.get(name, (0, 0.0))
                fields[name] = (p + population, t + total)
            for term, n in part.doc_freqs.items():
                freqs[term] = freqs.get(term, 0) + n
        return cls(fields, freqs)
