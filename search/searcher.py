"""The search API: :class:`Index` serves the current generation of an index directory.

It answers searches (ranked by :mod:`search.scoring`, shown as hits with snippets), releases
(whole or a page of paragraphs at a time) and statistics, and opens the next generation
(:mod:`search.generation`) when a reindex publishes one or commits an incremental update.

The index lock is held only to find the generation to use (and open the next one); the work
of a request runs outside it, so one heavy request never holds up the others.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from . import storage
from .columns import FacetCounts
from .errors import DocumentNotFoundError
from .generation import Generation
from .highlight import Highlighter, match_spans, snippet
from .lexicon import Lexicon
from .models import (Hit, IndexStats, Paragraph, Release, ReleasePage, SearchResult,
                     Suggestion)
from .params import MAX_EXPORT_ROWS, SearchParams, SuggestParams, check_count, lenient_query
from .query import ParsedQuery, parse_query
from .schema import ReleaseRecord
from .scoring import Work, rank, rank_matches
from .sources import valid_doc_id
from .expansion import expand
from .synonyms import Synonyms, SynonymsFile


#: Paragraphs of a release per page (``/doc/<id>?page=N``, ``/api/documents/<id>``).
DOC_PER_PAGE = 200
#: Most paragraphs of a release one page may hold.
MAX_DOC_PER_PAGE = 1_000
#: Highest page of a release that may be asked for.
MAX_DOC_PAGE = 1_000_000


class Index:
    """A searchable release-search index.

    Thread-safe. It notices when a reindex in another process publishes a new generation or
    commits an incremental update (checked at most every ``reload_interval`` seconds) and
    reopens itself; searches in progress finish on the data they started with (the generation
    they use is closed when the last of them ends), and each query is read with the
    dictionary of the generation it is ranked on.
    """

    def __init__(self, index_dir: str | os.PathLike, *, reload_interval: float = 1.0,
                 synonyms: str | os.PathLike | None = None):
        self.index_dir = Path(index_dir)
        self.reload_interval = reload_interval
        #: The synonyms queries are expanded with (:class:`search.synonyms.SynonymsFile`):
        #: the file given, else ``synonyms.txt`` in the index directory (reindex copies it
        #: there) when there is one; SourceError if a file given is missing.
        self._synonyms = SynonymsFile(self.index_dir, synonyms, reload_interval)
        self._lock = threading.RLock()  # which generation is current; held only to switch
        self._checked = time.monotonic()
        self._generation = self._open()

    @property
    def synonyms_path(self) -> Path | None:
        """The synonyms file given instead of the index directory's, if any."""
        return self._synonyms.path

    @property
    def synonyms(self) -> Synonyms:
        """The synonyms queries are expanded with: the built-in groups and the user's file,
        reread (checked at most every ``reload_interval`` seconds) when it changes; a file
        that cannot be read then leaves the groups as they were."""
        return self._synonyms.get()

    # -- opening and reloading ------------------------------------------------------------

    def _open(self) -> Generation:
        return Generation(storage.current_generation(self.index_dir))

    def _current(self) -> Generation:
        """The generation to search, reopened if a reindex published new data (call under the
        lock; the generation replaced is retired: closed once no search uses it)."""
        gen = self._generation
        now = time.monotonic()
        if not gen.retired and now - self._checked < self.reload_interval:
            return gen
        self._checked = now
        if gen.retired:
            self._generation = self._open()
            return self._generation
        try:
            path = storage.current_generation(self.index_dir)
            stale = path != gen.path or not gen.up_to_date()
        except Exception:  # a reindex is switching files: keep serving what we have
            return gen
        if stale:
            try:
                new = self._open()
            except Exception:
                return gen
            self._generation = new
            gen.retire()
        return self._generation

    @contextmanager
    def _using(self) -> Iterator[Generation]:
        """The current generation, counted as in use (so not closed) until the block ends."""
        with self._lock:
            gen = self._current()
            gen.acquire()
        try:
            yield gen
        finally:
            gen.release()

    @property
    def generation(self) -> str:
        """The name of the generation searched (``g000001``)."""
        with self._lock:
            return self._current().name

    @property
    def lexicon(self) -> Lexicon:
        """The dictionary of the current generation (queries are read with it)."""
        with self._lock:
            return self._current().lexicon

    def close(self) -> None:
        """Close the open files (once the searches in progress end; a later call reopens
        them)."""
        with self._lock:
            self._generation.retire()

    def __del__(self) -> None:
        gen = getattr(self, "_generation", None)
        if gen is not None:
            gen.retire()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- public API -----------------------------------------------------------------------

    def search(self, query: str, page: int = 1, per_page: int = 10, section: str | None = None,
               speaker: str | None = None, doc_id: str | None = None,
               work: Work | None = None, *, date_from: str | None = None,
               date_to: str | None = None, publisher: str | None = None,
               org: str | None = None, sort: str = "relevance",
               facets: bool = True) -> SearchResult:
        """Rank the paragraphs matching ``query`` and return one page of hits (``work``, if
        given, counts what the ranking did).

        ``section``, ``speaker``, ``doc_id``, ``publisher`` and ``org`` (the speaker's
        organisation) each narrow the matches to that value (speakers, publishers and
        organisations compared folded: ``德州新聞網`` finds ``德州新闻网``); ``date_from`` and
        ``date_to`` to releases dated within them (inclusive ISO dates, partial allowed:
        ``"2022-03"`` as ``date_from`` means from 1 March, as ``date_to`` up to 31 March).
        ``sort`` is ``"relevance"``, ``"newest"`` or ``"oldest"`` (ties by relevance, undated
        releases last); without words the matches are listed newest first. With ``facets``
        (the default) the result counts all the matches by month, publisher, organisation,
        speaker and section (:class:`~search.models.SearchResult`). Invalid parameters raise
        :class:`~search.errors.QueryError` (see :class:`~search.params.SearchParams`)."""
        t0 = time.perf_counter()
        params = SearchParams(query, page, per_page, section, speaker, doc_id, date_from,
                              date_to, publisher, org, sort)
        start = (page - 1) * per_page
        counted = None
        with self._using() as gen:
            pq = _parse(gen.lexicon, query, params, self.synonyms)
            total, ranked, matched = rank_matches(gen, pq, start + per_page, work)
            hits = [_hit(gen, pq, d, s) for d, s in ranked[start:start + per_page]]
            if facets:
                counted = gen.columns.facets(matched)
        return search_result(params, t0, total, hits, counted)

    def iter_hits(self, query: str, section: str | None = None, speaker: str | None = None,
                  doc_id: str | None = None, limit: int = MAX_EXPORT_ROWS, *,
                  date_from: str | None = None, date_to: str | None = None,
                  publisher: str | None = None, org: str | None = None,
                  sort: str = "relevance") -> HitStream:
        """Every hit of a search (the filters and orders of :meth:`search`), in order, up to
        ``limit`` (at most :data:`~search.params.MAX_EXPORT_ROWS`), as a :class:`HitStream`:
        ``total`` is known at once (the ranking is done here, so bad parameters raise
        QueryError here), the hits are read as they are iterated, in batches. The stream keeps
        its generation open until it is exhausted or closed
        (``with ix.iter_hits(q) as hits: ...``)."""
        params = SearchParams(query, 1, 1, section, speaker, doc_id, date_from, date_to,
                              publisher, org, sort)
        check_count("limit", limit, MAX_EXPORT_ROWS)
        with self._lock:
            gen = self._current()
            gen.acquire()
        try:
            pq = _parse(gen.lexicon, query, params, self.synonyms)
            total, ranked = rank(gen, pq, limit)
        except BaseException:
            gen.release()
            raise
        return HitStream(query, total, gen, pq, ranked)

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """Up to ``limit`` completions of ``prefix`` (typed in either script, folded as the
        analyzers fold): release titles, speakers, organisations, publishers and frequent
        indexed words that start with it, the most frequent first; none for a blank prefix.
        QueryError past :data:`~search.params.MAX_QUERY_LENGTH` characters or for a ``limit``
        outside 1..:data:`~search.params.MAX_SUGGEST_LIMIT`."""
        params = SuggestParams(prefix, limit)
        if not params.prefix.strip():
            return []
        with self._using() as gen:
            found = gen.suggest(params.prefix, params.limit)
        return [Suggestion(text=text, kind=kind) for text, kind in found]

    def ranked_doc_ids(self, query: str, k: int = 10) -> list[str]:
        """Distinct release ids of the best paragraphs, best first (no snippets: fast)."""
        query = lenient_query(query)
        check_count("k", k)
        with self._using() as gen:
            pq = _parse(gen.lexicon, query, None, self.synonyms)
            ids = gen.doc_ids()

            def ranked_ids(limit: int) -> tuple[int, list[str]]:
                total, ranked = rank(gen, pq, limit)
                return total, [ids[d] for d, _s in ranked]

            return first_releases(ranked_ids, k)

    def ranked_paragraph_ids(self, query: str, k: int = 10) -> list[str]:
        """The best ``k`` paragraphs as ``"<release id>#<paragraph number>"`` (the title is
        paragraph 1; :func:`search.evaluation.paragraph_id`), best first (no snippets: fast)."""
        query = lenient_query(query)
        check_count("k", k)
        with self._using() as gen:
            pq = _parse(gen.lexicon, query, None, self.synonyms)
            _total, ranked = rank(gen, pq, k)
            ids = gen.doc_ids()
            return [f"{ids[d]}#{gen.paragraph_number(d)}" for d, _s in ranked]

    def parse(self, query: str, section: str | None = None, speaker: str | None = None,
              doc_id: str | None = None) -> ParsedQuery:
        """``query`` read with the dictionary of the current generation."""
        return _parse(self.lexicon, query, SearchParams(section=section, speaker=speaker,
                                                        doc_id=doc_id), self.synonyms)

    def highlighter(self, query: str) -> Highlighter:
        """``query`` read once (with the current generation's dictionary) to highlight any
        number of texts: ``.html(text)`` is what :meth:`highlight` returns."""
        lexicon = self.lexicon
        return Highlighter(_parse(lexicon, lenient_query(query), None, self.synonyms))

    def highlight(self, text: str, query: str) -> str:
        """The whole ``text`` as escaped HTML with the matches of ``query`` in ``<mark>``."""
        return self.highlighter(query).html(text)

    def document(self, doc_id: str, page: int | None = None, per_page: int | None = None
                 ) -> Release:
        """The release ``doc_id`` with all its paragraphs; or, given ``page`` or ``per_page``
        (1 and :data:`DOC_PER_PAGE` by default), a :class:`~search.models.ReleasePage` with
        that page of them (none past the last page) and the paragraph count."""
        page, per_page = check_document_page(page, per_page)
        with self._using() as gen:
            return read_release(gen, doc_id, page, per_page)

    def stats(self) -> IndexStats:
        """Counts of the live releases and paragraphs, and where the index is."""
        with self._using() as gen:
            releases, paragraphs, sections = gen.counts()
        return IndexStats(releases=releases, paragraphs=paragraphs, sections=sections,
                          index_dir=str(self.index_dir), generation=gen.name,
                          size_bytes=storage.dir_size(gen.path))

    def manifest(self) -> dict[str, ReleaseRecord]:
        """``doc_id -> release record`` (content hash, source, paragraphs...)."""
        with self._using() as gen:
            return gen.manifest()


def search_result(params: SearchParams, t0: float, total: int, hits: list[Hit],
                  counted: FacetCounts | None) -> SearchResult:
    """The :class:`SearchResult` of a search begun at ``t0`` (``time.perf_counter()``), with
    its facets when counted: one index's or a sharded index's alike."""
    result = SearchResult(query=params.query, total=total, page=params.page,
                          per_page=params.per_page,
                          took_ms=round((time.perf_counter() - t0) * 1000, 2), hits=hits)
    if counted is not None:
        result.facets, result.facet_counts = counted.top, counted.distinct
        result.timeline = counted.timeline
    return result


def first_releases(ranked_ids: Callable[[int], tuple[int, list[str]]], k: int) -> list[str]:
    """The first ``k`` distinct release ids of a ranking: ``ranked_ids(limit)`` gives the
    number of matches and the release ids of the best ``limit`` paragraphs, best first; asked
    for 20 ``k`` paragraphs, then four times as many while that holds fewer than ``k``
    releases and more paragraphs match."""
    limit = 20 * k
    while True:
        total, ids = ranked_ids(limit)
        out = list(dict.fromkeys(ids))[:k]
        if len(out) == k or len(ids) >= total:
            return out
        limit *= 4


def check_document_page(page: int | None, per_page: int | None
                        ) -> tuple[int | None, int | None]:
    """The page of a release asked for, checked: both None for the whole release, else with
    the defaults filled in (raises QueryError)."""
    if page is None and per_page is None:
        return None, None
    page = 1 if page is None else page
    per_page = DOC_PER_PAGE if per_page is None else per_page
    check_count("page", page, MAX_DOC_PAGE)
    check_count("per_page", per_page, MAX_DOC_PER_PAGE)
    return page, per_page


def read_release(gen: Generation, doc_id: str, page: int | None, per_page: int | None
                 ) -> Release:
    """Release ``doc_id`` of ``gen``, whole (``page`` None) or one page of it (see
    :meth:`Index.document`); raises DocumentNotFoundError."""
    paged = page is not None
    count = len(gen.release_docnums(doc_id)) if valid_doc_id(doc_id) else 0
    if not count:
        raise DocumentNotFoundError(f"no release with id {doc_id!r}")
    start, stop = ((page - 1) * per_page, page * per_page) if paged else (0, count)
    rows = gen.rows(doc_id, start, stop) if start < count else []
    head = rows[0] if start == 0 else gen.rows(doc_id, 0, 1)[0]
    rec = ReleaseRecord.from_stored(head.get("release")) or ReleaseRecord("", count)
    fields = dict(
        doc_id=doc_id, title=head.get("title", ""),
        paragraphs=[Paragraph(number=r["paragraph"], text=r.get("text", ""),
                              section=r.get("section", "body"),
                              speaker=r.get("speaker_name"),
                              organization=r.get("organization")) for r in rows],
        date=head.get("date") or None, source=rec.source, location=rec.location,
        url=rec.url, content_hash=rec.content_hash or "", repairs=dict(rec.repairs),
        publisher=rec.publisher, flagged=[list(f) for f in rec.flagged])
    if not paged:
        return Release(**fields)
    return ReleasePage(**fields, paragraph_count=count, page=page, per_page=per_page,
                       pages=-(-count // per_page))


class HitStream:
    """The hits of :meth:`Index.iter_hits`: ``query``, ``total`` (every match), ``rows`` (how
    many it yields: ``min(total, limit)``) and ``truncated`` (``total > rows``); iterating
    yields :class:`~search.models.Hit`s best first, read in batches without filling the
    generation's caches. Closing it (or reaching its end) lets its generation go."""

    BATCH = 256

    def __init__(self, query: str, total: int, gen: Generation, pq: ParsedQuery,
                 ranked: list[tuple[int, float]]):
        self.query = query
        self.total = total
        self.rows = len(ranked)
        self._gen: Generation | None = gen
        self._pq = pq
        self._ranked = ranked
        self._lock = threading.Lock()

    @property
    def truncated(self) -> bool:
        return self.total > self.rows

    def __iter__(self) -> Iterator[Hit]:
        try:
            heads: dict[int, dict] = {}
            for start in range(0, len(self._ranked), self.BATCH):
                gen = self._gen
                if gen is None:
                    return
                batch = self._ranked[start:start + self.BATCH]
                yield from _hits_uncached(gen, self._pq, batch, heads)
        finally:
            self.close()

    def close(self) -> None:
        """Let the generation go (once; later iterations yield nothing)."""
        with self._lock:
            gen, self._gen = self._gen, None
        if gen is not None:
            gen.release()

    def __enter__(self) -> HitStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def _hits_uncached(gen: Generation, pq: ParsedQuery, ranked: list[tuple[int, float]],
                   heads: dict[int, dict]) -> list[Hit]:
    """The hits of ``ranked``, as :func:`_hit` makes them, read around the generation's
    paragraph cache (an export must not push out what searches keep there)."""
    fields = [gen.stored(d) for d, _s in ranked]
    folded = gen.folded([d for d, _s in ranked], [f.get("text", "") for f in fields])
    out = []
    for (docnum, score), f, fold_text in zip(ranked, fields, folded):
        head_num = int(gen.postings.head_of[docnum]) if gen.postings.n else docnum
        head = heads.get(head_num)
        if head is None:
            head = heads[head_num] = f if head_num == docnum else gen.stored(head_num)
        out.append(_make_hit(gen, pq, f, head, score, fold_text))
    return out


def _make_hit(gen: Generation, pq: ParsedQuery, f: dict, head: dict, score: float,
              folded: str) -> Hit:
    text = f.get("text", "")
    spans = match_spans(text, pq, gen.lexicon, folded=folded)
    record = head.get("release")
    record = record if isinstance(record, dict) else {}
    return Hit(doc_id=f["doc_id"], title=head.get("title", ""), paragraph=f["paragraph"],
               section=f.get("section", "body"), speaker=f.get("speaker_name"),
               date=f.get("date") or None, score=score, text=text,
               snippet=snippet(text, spans), publisher=record.get("publisher"),
               url=record.get("url"), organization=f.get("organization"))


def _hit(gen: Generation, pq: ParsedQuery, docnum: int, score: float) -> Hit:
    """The hit of paragraph ``docnum``: its stored fields, release title and snippet."""
    f, folded = gen.paragraphs([docnum])[0]
    return _make_hit(gen, pq, f, gen.head(docnum), score, folded)


def _parse(lexicon: Lexicon, query: str, params: SearchParams | None,
           synonyms: Synonyms | None = None) -> ParsedQuery:
    """``query`` parsed, with the filters and the order of ``params`` (None: the words
    alone), then expanded with ``synonyms`` (:func:`search.expansion.expand`: the words, the
    ``speaker:`` / ``org:`` filters and the ``speaker`` / ``org`` parameters). The one way a
    query is read for ranking, by an index and by each shard of a sharded one alike."""
    pq = parse_query(query, lexicon)
    if params is not None:
        for name, value in (("section", params.section), ("speaker", params.speaker),
                            ("doc", params.doc_id), ("publisher", params.publisher),
                            ("org", params.org)):
            if value:
                pq.params.append((name, value))
        if params.date_from or params.date_to:
            first, last = params.days()
            pq.params.append(("date", f"{first}..{last}"))
        pq.sort = params.sort
    return expand(pq, synonyms, lexicon)
