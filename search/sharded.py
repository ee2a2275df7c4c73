"""Searching a sharded index: :class:`ShardedIndex` answers the API of
:class:`search.searcher.Index` over every shard named by the ``SHARDS`` manifest.

A query runs in three phases over the shards, each shard answering through a
:class:`ShardSearcher` (in this process, or in a Dask actor on a worker: :mod:`search.cluster`):

1. **statistics**: each shard counts, for the terms the query scores, its documents holding
   them, its field lengths and documents (and the same over whole releases, for the release
   prior); the sums are the index's statistics
   (:class:`search.statistics.CollectionStats`, as Elasticsearch's ``dfs_query_then_fetch``);
2. **top**: each shard ranks its paragraphs with those statistics and gives its best ``k``
   before re-ranking, with the re-ranking's boost of its first ones; the merge takes the best
   ``k`` of all, re-ranks the first :data:`~search.scoring.RERANK_DEPTH` and breaks ties by
   release id and paragraph, exactly as one index over all the releases does;
3. **hits**: the shards holding the page's paragraphs make their hits (snippets).

Each phase reads the query as one index does (:func:`search.searcher._parse`), expanded with
the index's synonyms, which travel with it (:data:`QueryArgs`).

So rankings and scores equal one index's (tested on CMRC2018 and DRCD questions). One limit is
per shard rather than per query: the text checks of quoted phrases and excluded words
(:data:`~search.scoring.MAX_CHECKED_PARAGRAPHS`), so past it a sharded index checks more.
Facet counts merge by adding up: each shard counts every value among its matches
(:meth:`search.columns.Columns.facet_totals`), the sums are the index's; a value spelt
differently in two shards is shown as its commonest spelling. Sorting by date merges as
:func:`search.scoring.by_date` orders. Suggestions are each shard's best, placed by their
best rank in any shard (the shards' counts are not summed: see :meth:`ShardedIndex.suggest`);
exports (:meth:`ShardedIndex.iter_hits`) are ranked at once and made a batch at a time.

A query uses the generations of one manifest throughout, so it sees every old shard or every
new one; the manifest is read again at most every ``reload_interval`` seconds.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from . import storage
from .errors import DocumentNotFoundError
from .faults import checkpoint
from .generation import Generation
from .highlight import Highlighter
from .lexicon import Lexicon
from .models import SECTIONS, Hit, IndexStats, Release, SearchResult, Suggestion
from .params import MAX_EXPORT_ROWS, SearchParams, SuggestParams, check_count, lenient_query
from .query import ParsedQuery
from .schema import ReleaseRecord
from .columns import FACET_LIMIT, FacetCounts, merge_facet_totals
from .scoring import (
    RERANK_DEPTH,
    UNDATED_LAST,
    Work,
    boosted,
    by_relevance,
    rank_candidates,
    scored_terms,
    title_after_body,
)
from .searcher import (_hit, _parse, check_document_page, first_releases, read_release,
                       search_result)
from .shards import Manifest, read_manifest, shard_of
from .sources import valid_doc_id
from .statistics import CollectionStats
from .synonyms import Synonyms, SynonymsFile

#: (query, SearchParams or None, Synonyms or None): a query as each shard reads it (None: the
#: words alone; the synonyms it is expanded with, the index's, so every shard expands alike).
QueryArgs = tuple
#: A shard's candidate: (tier, score, boosted score, release id, document number, day,
#: whether it is its release's title paragraph).
Candidate = tuple


def _read(lexicon: Lexicon, qargs: QueryArgs) -> ParsedQuery:
    """The query of ``qargs`` as one index reads it (:func:`search.searcher._parse`)."""
    query, params, synonyms = qargs
    return _parse(lexicon, query, params, synonyms)


_WORK_FIELDS = ("phrases_checked", "paragraphs_checked", "chars_checked", "paragraphs_unchecked")


class ShardSearcher:
    """One shard's side of a sharded search: its generations, opened by path as the manifests
    name them (the newest :data:`KEEP`; an older one is closed once its searches end), each
    phase of a query a method. Thread-safe; plain arguments and results (a Dask actor)."""

    KEEP = 2

    def __init__(self) -> None:
        self._gens: OrderedDict[str, Generation] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def _using(self, path: str):
        with self._lock:
            gen = self._gens.get(path)
            if gen is None:
                gen = Generation(Path(path))
                self._gens[path] = gen
                while len(self._gens) > self.KEEP:
                    _p, old = self._gens.popitem(last=False)
                    old.retire()
            self._gens.move_to_end(path)
            gen.acquire()
        try:
            yield gen
        finally:
            gen.release()

    def ping(self) -> bool:
        return True

    def lexicon(self, path: str) -> Lexicon:
        with self._using(path) as gen:
            return gen.lexicon

    def statistics(self, path: str, qargs: QueryArgs) -> CollectionStats:
        """Phase 1: this shard's statistics of the terms the query scores."""
        with self._using(path) as gen:
            return gen.stats(scored_terms(_read(gen.lexicon, qargs)))

    def top(self, path: str, qargs: QueryArgs, stats: CollectionStats, want: int,
            facets: bool = False) -> tuple[int, list[Candidate], dict, bool, dict | None]:
        """Phase 2: the matches counted, the best ``want`` as candidates, the work done,
        whether they are ranked by relevance (else by date) and, with ``facets``, the count of
        every value of each facet among the matches."""
        checkpoint("shard-searching")
        with self._using(path) as gen:
            work = Work()
            pq = _read(gen.lexicon, qargs)
            total, ranked, matched = rank_candidates(gen, pq, want, work, stats)
            relevance = by_relevance(pq)
            head = (boosted(gen, pq, ranked, stats) if relevance else None) or []
            ids = gen.doc_ids()
            day = gen.columns.day
            head_of = gen.postings.head_of
            out = [(t, s, head[i][1] if i < len(head) else s, ids[d], d, int(day[d]),
                    bool(head_of[d] == d)) for i, (t, s, d) in enumerate(ranked)]
            counted = gen.columns.facet_totals(matched) if facets else None
            return (total, out, {f: getattr(work, f) for f in _WORK_FIELDS}, relevance,
                    counted)

    def hits(self, path: str, qargs: QueryArgs, picks: list[tuple[int, float]]) -> list[Hit]:
        """Phase 3: the hits of ``(document number, score)`` picks."""
        with self._using(path) as gen:
            pq = _read(gen.lexicon, qargs)
            return [_hit(gen, pq, d, s) for d, s in picks]

    def paragraph_ids(self, path: str, docs: list[int]) -> list[str]:
        """``"<release id>#<paragraph number>"`` of each of ``docs``."""
        with self._using(path) as gen:
            ids = gen.doc_ids()
            return [f"{ids[d]}#{gen.paragraph_number(d)}" for d in docs]

    def suggest(self, path: str, prefix: str, limit: int) -> list[tuple[str, str]]:
        """This shard's best ``limit`` completions ``(text, kind)`` of ``prefix``."""
        with self._using(path) as gen:
            return gen.suggest(prefix, limit)

    def document(self, path: str, doc_id: str, page: int | None, per_page: int | None
                 ) -> Release:
        with self._using(path) as gen:
            return read_release(gen, doc_id, page, per_page)

    def counts(self, path: str) -> tuple[int, int, dict[str, int], int]:
        """Releases, paragraphs, paragraphs per section and bytes on disk."""
        with self._using(path) as gen:
            releases, paragraphs, sections = gen.counts()
            return releases, paragraphs, sections, storage.dir_size(gen.path)

    def manifest(self, path: str) -> dict[str, ReleaseRecord]:
        with self._using(path) as gen:
            return gen.manifest()

    def close(self) -> None:
        with self._lock:
            gens, self._gens = list(self._gens.values()), OrderedDict()
        for g in gens:
            g.retire()


class LocalShards:
    """The shards searched in this process, one :class:`ShardSearcher` each."""

    def __init__(self) -> None:
        self._searchers: list[ShardSearcher] = []

    def open(self, manifest: Manifest) -> None:
        while len(self._searchers) < manifest.count:
            self._searchers.append(ShardSearcher())

    def call(self, shard: int, method: str, *args):
        return getattr(self._searchers[shard], method)(*args)

    def map(self, method: str, calls: Sequence[tuple[int, tuple]]) -> list:
        """``method(*args)`` of each ``(shard, args)``, results in that order."""
        return [self.call(k, method, *args) for k, args in calls]

    def close(self) -> None:
        for s in self._searchers:
            s.close()


def merge(tops: Sequence[list[Candidate]], limit: int, relevance: bool = True,
          newest: bool = True) -> list[tuple[int, int, float]]:
    """The best ``limit`` of all shards' candidates as ``(shard, document number, score)``:
    what :func:`search.scoring.rank` gives for one index (the best RERANK_DEPTH re-ranked,
    ties by release id, then paragraph: a release lives in one shard, so its document numbers
    order its paragraphs). Not by ``relevance``: by date (``newest`` first or last, undated
    last), ties by tier, score, release id and paragraph, as :func:`search.scoring.by_date`."""
    if not relevance:
        def primary(day: int) -> int:
            return -day if newest else (day if day > 0 else UNDATED_LAST)

        dated = sorted(((primary(c[5]), not c[0], -c[1], c[3], c[4], k, c[1])
                        for k, cands in enumerate(tops) for c in cands))
        return [(k, d, round(s, 4)) for *_key, d, k, s in dated[:limit]]
    entries = [(t, s, b, did, d, k, title) for k, cands in enumerate(tops)
               for t, s, b, did, d, _day, title in cands]
    entries.sort(key=lambda e: (-e[0], -e[1], e[3], e[4]))
    entries = entries[:max(limit, RERANK_DEPTH)]
    depth = min(RERANK_DEPTH, len(entries))
    head = [(t, b, did, d, k, title) for t, _s, b, did, d, k, title in entries[:depth]]
    head.sort(key=lambda e: (-e[0], -e[1], e[2], e[3]))
    # A release lives in one shard: its id names it.
    head = title_after_body(head, [(e[2], e[5]) for e in head])
    ranked = [e[:5] for e in head] + [(t, s, did, d, k)
                                      for t, s, _b, did, d, k, _title in entries[depth:]]
    return [(k, d, round(s, 4)) for _t, s, _did, d, k in ranked[:limit]]


def per_shard(shards, method: str, picked: Sequence[tuple[int, int, float]], args) -> list:
    """``method`` asked once of each shard holding some of ``picked`` (``(shard, document
    number, score)``), with ``args(shard, its (document number, score) pairs)``; its answers,
    one per pair, back in the order of ``picked``."""
    by_shard: dict[int, list[tuple[int, float]]] = {}
    for k, d, s in picked:
        by_shard.setdefault(k, []).append((d, s))
    order = sorted(by_shard)
    made = shards.map(method, [(k, args(k, by_shard[k])) for k in order])
    found = {(k, d): x for k, xs in zip(order, made) for (d, _s), x in zip(by_shard[k], xs)}
    return [found[(k, d)] for k, d, _s in picked]


def merge_facets(totals: Sequence[dict]) -> FacetCounts:
    """The facet counts of all shards' matches from each shard's totals."""
    return merge_facet_totals(totals, FACET_LIMIT)


class ShardedHitStream:
    """The hits of :meth:`ShardedIndex.iter_hits`, as :class:`search.searcher.HitStream`
    gives them: ``query``, ``total``, ``rows``, ``truncated``; iterated in batches, each
    batch's hits made by the shards holding them."""

    BATCH = 256

    def __init__(self, query: str, total: int, shards, paths: list[str], qargs: QueryArgs,
                 ranked: list[tuple[int, int, float]]):
        self.query = query
        self.total = total
        self.rows = len(ranked)
        self._shards = shards
        self._paths = paths
        self._qargs = qargs
        self._ranked: list[tuple[int, int, float]] | None = ranked

    @property
    def truncated(self) -> bool:
        return self.total > self.rows

    def __iter__(self) -> Iterator[Hit]:
        ranked = self._ranked
        if ranked is None:
            return
        try:
            for start in range(0, len(ranked), self.BATCH):
                if self._ranked is None:
                    return
                batch = ranked[start:start + self.BATCH]
                yield from per_shard(self._shards, "hits", batch,
                                     lambda k, picks: (self._paths[k], self._qargs, picks))
        finally:
            self.close()

    def close(self) -> None:
        """Stop (later iterations yield nothing)."""
        self._ranked = None

    def __enter__(self) -> ShardedHitStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ShardedIndex:
    """A sharded index with the API of :class:`search.searcher.Index` (thread-safe).

    ``shards``: where the shards are searched, :class:`LocalShards` (default) or a cluster's
    actors (:class:`search.cluster.ClusterShards`)."""

    def __init__(self, index_dir: str | os.PathLike, *, reload_interval: float = 1.0,
                 shards=None, synonyms: str | os.PathLike | None = None):
        self.index_dir = Path(index_dir)
        self.reload_interval = reload_interval
        #: The synonyms queries are expanded with, found and reread as by Index (the file
        #: given, else the index directory's synonyms.txt), sent to the shards with each query.
        self._synonyms = SynonymsFile(self.index_dir, synonyms, reload_interval)
        self._shards = shards if shards is not None else LocalShards()
        self._lock = threading.RLock()
        self._manifest = read_manifest(self.index_dir)
        self._shards.open(self._manifest)
        self._checked = time.monotonic()
        self._lexicons: dict[str, Lexicon] = {}

    def _current(self) -> Manifest:
        """The manifest to search, read again every ``reload_interval`` seconds."""
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= self.reload_interval:
                self._checked = now
                try:
                    fresh = read_manifest(self.index_dir)
                except Exception:  # a reindex is switching files: keep serving what we have
                    fresh = self._manifest
                if fresh.serial != self._manifest.serial or fresh.count != self._manifest.count:
                    self._shards.open(fresh)
                    self._manifest = fresh
            return self._manifest

    @property
    def generation(self) -> str:
        """The name of the manifest searched (``m000003``)."""
        return self._current().name

    @property
    def shard_count(self) -> int:
        return self._current().count

    @property
    def lexicon(self) -> Lexicon:
        m = self._current()
        path = str(m.paths()[0])
        lex = self._lexicons.get(path)
        if lex is None:
            lex = self._lexicons[path] = self._shards.call(0, "lexicon", path)
        return lex

    @property
    def synonyms_path(self) -> Path | None:
        """The synonyms file given instead of the index directory's, if any."""
        return self._synonyms.path

    @property
    def synonyms(self) -> Synonyms:
        """As :attr:`search.searcher.Index.synonyms`."""
        return self._synonyms.get()

    def close(self) -> None:
        self._shards.close()

    def __enter__(self) -> ShardedIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _ranked(self, m: Manifest, qargs: QueryArgs, limit: int, work: Work | None = None,
                facets: bool = False):
        """(matches, merged ranking, each shard's candidates, each shard's facet totals)."""
        paths = [str(p) for p in m.paths()]
        everyone = list(range(m.count))
        parts = self._shards.map("statistics", [(k, (paths[k], qargs)) for k in everyone])
        stats = CollectionStats.combine(parts)
        tops = self._shards.map("top", [(k, (paths[k], qargs, stats, limit, facets))
                                        for k in everyone])
        if work is not None:
            for top in tops:
                for f in _WORK_FIELDS:
                    setattr(work, f, getattr(work, f) + top[2][f])
        cands = [top[1] for top in tops]
        params = qargs[1]
        newest = not (params is not None and params.sort == "oldest")
        merged = merge(cands, limit, relevance=tops[0][3], newest=newest)
        return sum(top[0] for top in tops), merged, cands, [top[4] for top in tops]

    def search(self, query: str, page: int = 1, per_page: int = 10, section: str | None = None,
               speaker: str | None = None, doc_id: str | None = None,
               work: Work | None = None, *, date_from: str | None = None,
               date_to: str | None = None, publisher: str | None = None,
               org: str | None = None, sort: str = "relevance",
               facets: bool = True) -> SearchResult:
        """As :meth:`search.searcher.Index.search` (``work`` is summed over the shards; its
        ``on_check`` is not called; facets are the shards' counts added up)."""
        t0 = time.perf_counter()
        params = SearchParams(query, page, per_page, section, speaker, doc_id, date_from,
                              date_to, publisher, org, sort)
        start = (page - 1) * per_page
        m = self._current()
        qargs = (query, params, self.synonyms)
        total, ranked, _c, totals = self._ranked(m, qargs, start + per_page, work, facets)
        picked = ranked[start:start + per_page]
        paths = [str(p) for p in m.paths()]
        hits = per_shard(self._shards, "hits", picked, lambda k, picks: (paths[k], qargs, picks))
        return search_result(params, t0, total, hits, merge_facets(totals) if facets else None)

    def iter_hits(self, query: str, section: str | None = None, speaker: str | None = None,
                  doc_id: str | None = None, limit: int = MAX_EXPORT_ROWS, *,
                  date_from: str | None = None, date_to: str | None = None,
                  publisher: str | None = None, org: str | None = None,
                  sort: str = "relevance") -> ShardedHitStream:
        """As :meth:`search.searcher.Index.iter_hits`: ranked over the shards at once, the
        hits made by their shards a batch at a time as the stream is read."""
        params = SearchParams(query, 1, 1, section, speaker, doc_id, date_from, date_to,
                              publisher, org, sort)
        check_count("limit", limit, MAX_EXPORT_ROWS)
        m = self._current()
        qargs = (query, params, self.synonyms)
        total, ranked, _c, _f = self._ranked(m, qargs, limit)
        return ShardedHitStream(query, total, self._shards, [str(p) for p in m.paths()],
                                qargs, ranked)

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """As :meth:`search.searcher.Index.suggest`, from every shard's best ``limit``: a
        completion is placed by its best rank in any shard, then by how many shards give it
        (shards hold releases by a hash of their id, so each one's frequencies are a sample of
        the whole index's; the counts are not summed)."""
        params = SuggestParams(prefix, limit)
        if not params.prefix.strip():
            return []
        m = self._current()
        found = self._shards.map("suggest", [(k, (str(p), params.prefix, params.limit))
                                             for k, p in enumerate(m.paths())])
        best: dict[tuple[str, str], list[int]] = {}
        for part in found:
            for rank, entry in enumerate(part):
                seen = best.setdefault(tuple(entry), [rank, 0, len(best)])
                seen[0] = min(seen[0], rank)
                seen[1] -= 1
        order = sorted(best, key=lambda e: best[e])
        return [Suggestion(text=text, kind=kind) for text, kind in order[:params.limit]]

    def ranked_doc_ids(self, query: str, k: int = 10) -> list[str]:
        """As :meth:`search.searcher.Index.ranked_doc_ids`."""
        query = lenient_query(query)
        check_count("k", k)
        m = self._current()
        qargs = (query, None, self.synonyms)

        def ranked_ids(limit: int) -> tuple[int, list[str]]:
            total, ranked, cands, _f = self._ranked(m, qargs, limit)
            ids = {(sh, c[4]): c[3] for sh, cs in enumerate(cands) for c in cs}
            return total, [ids[(sh, d)] for sh, d, _s in ranked]

        return first_releases(ranked_ids, k)

    def ranked_paragraph_ids(self, query: str, k: int = 10) -> list[str]:
        """As :meth:`search.searcher.Index.ranked_paragraph_ids`."""
        query = lenient_query(query)
        check_count("k", k)
        m = self._current()
        _total, ranked, _c, _f = self._ranked(m, (query, None, self.synonyms), k)
        paths = [str(p) for p in m.paths()]
        return per_shard(self._shards, "paragraph_ids", ranked,
                         lambda k, picks: (paths[k], [d for d, _s in picks]))

    def parse(self, query: str, section: str | None = None, speaker: str | None = None,
              doc_id: str | None = None) -> ParsedQuery:
        return _parse(self.lexicon, query, SearchParams(section=section, speaker=speaker,
                                                        doc_id=doc_id), self.synonyms)

    def highlighter(self, query: str) -> Highlighter:
        return Highlighter(_parse(self.lexicon, lenient_query(query), None, self.synonyms))

    def highlight(self, text: str, query: str) -> str:
        return self.highlighter(query).html(text)

    def document(self, doc_id: str, page: int | None = None, per_page: int | None = None
                 ) -> Release:
        """As :meth:`search.searcher.Index.document`: asked of the shard its id hashes to."""
        page, per_page = check_document_page(page, per_page)
        if not valid_doc_id(doc_id):
            raise DocumentNotFoundError(f"no release with id {doc_id!r}")
        m = self._current()
        k = shard_of(doc_id, m.count)
        return self._shards.call(k, "document", str(m.paths()[k]), doc_id, page, per_page)

    def stats(self) -> IndexStats:
        """The shards' counts added up."""
        m = self._current()
        paths = [str(p) for p in m.paths()]
        parts = self._shards.map("counts", [(k, (paths[k],)) for k in range(m.count)])
        sections: Counter = Counter()
        for _r, _p, counted, _b in parts:
            sections.update(counted)
        return IndexStats(releases=sum(p[0] for p in parts), paragraphs=sum(p[1] for p in parts),
                          sections={sec: sections[sec] for sec in SECTIONS if sections[sec]},
                          index_dir=str(self.index_dir), generation=m.name,
                          size_bytes=sum(p[3] for p in parts))

    def manifest(self) -> dict[str, ReleaseRecord]:
        m = self._current()
        out: dict[str, ReleaseRecord] = {}
        for part in self._shards.map("manifest", [(k, (str(p),)) for k, p in
                                                  enumerate(m.paths())]):
            out.update(part)
        return out
