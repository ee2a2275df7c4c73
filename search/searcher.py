"""Searching an index: ranking, filters, paging, snippets and whole releases.

Ranking is BM25 computed per term over Whoosh's postings for three fields (jieba ``words``, CJK
``bigrams`` and the release ``title``) and fused with fixed weights (BM25F-style; the title only
lifts paragraphs that match by themselves). Then:

* with several clauses (whitespace-separated words, quoted phrases, ``OR`` groups), paragraphs
  that match every clause come first; a clause matches when all its content words occur;
* a quoted phrase must occur (its bigrams in a row, checked on the stored text); ``-word`` and ``-field:value`` exclude;
* short clauses found verbatim (after folding) in a top paragraph boost it;
* credits and boilerplate are scaled down, so body text with the same match ranks above them.

The weights were measured on CMRC2018 with ``benchmarks/relevance.py`` (see docs/ranking.md).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import whoosh.index
from whoosh.query import Term

from . import storage
from .analysis import CJK_RUN_RE, Lexicon, bigrams, fold, fold_many, folded_bigrams
from .errors import DocumentNotFoundError, IndexCorruptError, QueryError
from .highlight import match_spans, render, snippet
from .models import SECTIONS, Hit, IndexStats, Paragraph, Release, SearchResult
from .postings import Postings
from .query import LOW_VALUE, ParsedQuery, Unit, parse_query

MAX_QUERY_LENGTH = 500
MAX_PER_PAGE = 100

# Ranking parameters (see docs/ranking.md for how they were chosen).
K1 = 1.2
B = 0.75
W_WORDS = 1.0
W_BIGRAMS = 1.0
W_TITLE = 0.5
LOW_WEIGHT = 0.0  # function and question words: left to the bigrams
PHRASE_BOOST = 0.5
RERANK_DEPTH = 30
RERANK_MAX_CHARS = 16
PHRASE_CACHE = 128  # phrase masks kept per generation
PARAGRAPH_CACHE = 4096  # stored fields and folded texts kept per generation
TIER_MIN_CLAUSES = 2
SECTION_FACTOR = {"credits": 0.5, "boilerplate": 0.4}


@dataclass
class _State:
    """One opened generation: Whoosh searcher plus per-generation caches."""

    generation: Path
    ix: whoosh.index.Index
    searcher: object
    lexicon: Lexicon
    postings: Postings
    doc_ids: list | None = None
    section_factors: np.ndarray | None = None
    closed: bool = False
    phrases: OrderedDict = field(default_factory=OrderedDict)  # grams -> mask (LRU)
    paragraphs: OrderedDict = field(default_factory=OrderedDict)  # docnum -> (fields, folded)

    @property
    def reader(self):
        return self.searcher.reader()


class Index:
    """A searchable release-search index.

    Thread-safe. It notices when a reindex in another process publishes a new generation or
    commits an incremental update (checked at most every ``reload_interval`` seconds) and
    reopens itself; searches in progress finish on the data they started with.
    """

    def __init__(self, index_dir: str | os.PathLike, *, reload_interval: float = 1.0):
        self.index_dir = Path(index_dir)
        self.reload_interval = reload_interval
        self._lock = threading.RLock()
        self._checked = time.monotonic()
        self._state = self._open()

    # -- opening and reloading ------------------------------------------------------------

    def _open(self) -> _State:
        gen = storage.current_generation(self.index_dir)
        try:
            ix = whoosh.index.open_dir(str(gen), indexname=storage.INDEX_NAME)
            searcher = ix.searcher()
        except Exception as exc:  # Whoosh raises many kinds on damaged files
            raise IndexCorruptError.unreadable(f"open the index in {gen}", gen, exc) from None
        lexicon = ix.schema["words"].analyzer[0].lexicon
        postings = Postings(searcher.reader(), K1, B, where=str(gen))
        st = _State(generation=gen, ix=ix, searcher=searcher, lexicon=lexicon,
                    postings=postings)
        # Whoosh opens per-document files lazily; open them now, while they surely exist (an
        # incremental reindex may merge and delete this generation's segments later).
        try:
            for name in ("words", "bigrams", "title"):
                postings.lengths(name)
            self._section_factors(st)
            if postings.n:
                searcher.stored_fields(0)
        except IndexCorruptError:
            _close_quietly(st)
            raise
        except Exception as exc:
            _close_quietly(st)
            raise IndexCorruptError.unreadable(f"read the index in {gen}", gen, exc) from None
        return st

    def _current(self) -> _State:
        """The state to search, reopened if a reindex published new data (call under the lock:
        nothing else is using the old state then, so it is closed at once)."""
        st = self._state
        now = time.monotonic()
        if not st.closed and now - self._checked < self.reload_interval:
            return st
        self._checked = now
        if st.closed:
            self._state = self._open()
            return self._state
        try:
            gen = storage.current_generation(self.index_dir)
            stale = gen != st.generation or not st.searcher.up_to_date()
        except Exception:  # a reindex is switching files: keep serving what we have
            return st
        if stale:
            try:
                new = self._open()
            except Exception:
                return st
            self._state = new
            _close_quietly(st)
        return self._state

    @property
    def generation(self) -> str:
        with self._lock:
            return self._current().generation.name

    @property
    def lexicon(self) -> Lexicon:
        """The dictionary of the current generation (queries are read with it)."""
        with self._lock:
            return self._current().lexicon

    def close(self) -> None:
        """Close the open files (a later call reopens them)."""
        with self._lock:
            _close_quietly(self._state)

    def __del__(self) -> None:
        state = getattr(self, "_state", None)
        if state is not None:
            _close_quietly(state)

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- public API -----------------------------------------------------------------------

    def search(self, query: str, page: int = 1, per_page: int = 10, section: str | None = None,
               speaker: str | None = None, doc_id: str | None = None) -> SearchResult:
        """Rank the paragraphs matching ``query`` and return one page of hits."""
        t0 = time.perf_counter()
        _check_params(query, page, per_page, section)
        start = (page - 1) * per_page
        with self._lock:
            st = self._current()
            pq = _parse(st.lexicon, query, section=section, speaker=speaker, doc_id=doc_id)
            total, ranked = self._rank(st, pq, start + per_page)
            hits = [self._hit(st, pq, d, s) for d, s in ranked[start:start + per_page]]
        took = (time.perf_counter() - t0) * 1000
        return SearchResult(query=query, total=total, page=page, per_page=per_page,
                            took_ms=round(took, 2), hits=hits)

    def ranked_doc_ids(self, query: str, k: int = 10) -> list[str]:
        """Distinct release ids of the best paragraphs, best first (no snippets: fast)."""
        if len(query) > MAX_QUERY_LENGTH:
            query = query[:MAX_QUERY_LENGTH]
        limit = 20 * k
        with self._lock:
            st = self._current()
            pq = parse_query(query, st.lexicon)
            ids = self._doc_id_column(st)
            while True:
                total, ranked = self._rank(st, pq, limit)
                out = []
                for d, _s in ranked:
                    did = ids[d]
                    if did not in out:
                        out.append(did)
                        if len(out) == k:
                            return out
                if len(ranked) >= total:
                    return out
                limit *= 4

    def parse(self, query: str, section: str | None = None, speaker: str | None = None,
              doc_id: str | None = None) -> ParsedQuery:
        """``query`` read with the dictionary of the current generation."""
        return _parse(self.lexicon, query, section=section, speaker=speaker, doc_id=doc_id)

    def highlight(self, text: str, query: str) -> str:
        """The whole ``text`` as escaped HTML with the matches of ``query`` in ``<mark>``."""
        lexicon = self.lexicon
        pq = parse_query(query[:MAX_QUERY_LENGTH], lexicon)
        return render(text, match_spans(text, pq, lexicon))

    def document(self, doc_id: str) -> Release:
        """The release ``doc_id`` with all its paragraphs."""
        with self._lock:
            st = self._current()
            rows = list(st.searcher.documents(doc_id=doc_id)) if doc_id else []
        if not rows:
            raise DocumentNotFoundError(f"no release with id {doc_id!r}")
        rows.sort(key=lambda r: r["paragraph"])
        head = next((r for r in rows if r.get("release")), rows[0])
        rec = head.get("release") or {}
        paragraphs = [Paragraph(number=r["paragraph"], text=r.get("text", ""),
                                section=r.get("section", "body"),
                                speaker=r.get("speaker_name"),
                                organization=r.get("organization")) for r in rows]
        return Release(doc_id=doc_id, title=head.get("title", ""), paragraphs=paragraphs,
                       date=head.get("date") or None, source=rec.get("source"),
                       location=rec.get("location"), url=rec.get("url"),
                       content_hash=rec.get("hash", ""), repairs=dict(rec.get("repairs") or {}))

    def stats(self) -> IndexStats:
        with self._lock:
            st = self._current()
            s = st.searcher  # count live documents: deleted ones linger until a merge
            sections = {sec: len(self._docs_for(st, Term("section", sec))) for sec in SECTIONS}
            releases = len(self._docs_for(st, Term("head", "1")))
            paragraphs = s.doc_count()
        return IndexStats(releases=releases, paragraphs=paragraphs,
                          sections={k: v for k, v in sections.items() if v},
                          index_dir=str(self.index_dir), generation=st.generation.name,
                          size_bytes=storage.dir_size(st.generation))

    def manifest(self) -> dict[str, dict]:
        """``doc_id -> release record`` (content hash, source, paragraphs...)."""
        with self._lock:
            st = self._current()
            return {r["doc_id"]: r.get("release") or {}
                    for r in st.searcher.documents(head="1")}

    # -- ranking --------------------------------------------------------------------------

    def _column(self, st: _State, name: str) -> list:
        try:
            return list(st.reader.column_reader(name))
        except Exception as exc:  # damaged column file
            raise IndexCorruptError.unreadable(
                f"read the {name} column in {st.generation}", st.generation, exc) from None

    def _doc_id_column(self, st: _State) -> list:
        if st.doc_ids is None:
            st.doc_ids = self._column(st, "doc_id")
        return st.doc_ids

    def _section_factors(self, st: _State) -> np.ndarray:
        if st.section_factors is None:
            st.section_factors = np.array(
                [SECTION_FACTOR.get(s, 1.0) for s in self._column(st, "section")],
                dtype=np.float32)
        return st.section_factors

    def _docs_for(self, st: _State, q) -> set[int]:
        return set(st.searcher.docs_for_query(q))

    def _mask_for(self, st: _State, q) -> np.ndarray:
        m = np.zeros(st.postings.n, dtype=bool)
        docs = list(st.searcher.docs_for_query(q))
        if docs:
            m[np.asarray(docs, dtype=np.int64)] = True
        return m

    def _phrase_mask(self, st: _State, unit: Unit) -> np.ndarray:
        """Paragraphs whose bigram tokens contain the phrase's in a row: the paragraphs with
        all its bigrams, checked on their stored text (the index keeps no positions)."""
        needle = unit.folded.strip()
        key = (needle, tuple(unit.grams))  # the text decides how it is checked
        cached = st.phrases.get(key)
        if cached is not None:
            st.phrases.move_to_end(key)
            return cached
        mask = self._all_bigrams(st, unit.grams)
        if len(unit.grams) > 1:
            candidates = np.flatnonzero(mask)
            texts = [self._stored(st, int(d)).get("text", "") for d in candidates]
            if CJK_RUN_RE.fullmatch(needle):  # one run of ideographs: a substring test
                # Most paragraphs match as stored; only the others need folding.
                unsure = [i for i, t in enumerate(texts) if needle not in t]
                folded = fold_many([texts[i] for i in unsure])
                for i, f in zip(unsure, folded):
                    if needle not in f:
                        mask[candidates[i]] = False
            else:
                for d, f in zip(candidates, fold_many(texts)):
                    if not contains_run(folded_bigrams(f), unit.grams):
                        mask[d] = False
        st.phrases[key] = mask
        while len(st.phrases) > PHRASE_CACHE:
            st.phrases.popitem(last=False)
        return mask

    def _all_bigrams(self, st: _State, grams: list[str]) -> np.ndarray:
        """Paragraphs that have every one of ``grams``."""
        p = st.postings
        mask = np.zeros(p.n, dtype=bool)
        if not grams:
            return mask
        mask[p.bm25("bigrams", grams[0])[0]] = True
        for g in grams[1:]:
            if not mask.any():
                break
            mask &= p.mask(p.bm25("bigrams", g)[0])
        return mask

    def _concept_mask(self, st: _State, word: str) -> np.ndarray:
        """Paragraphs that contain ``word``: as a jieba word, or all of its bigrams."""
        p = st.postings
        return p.mask(p.bm25("words", word)[0]) | self._all_bigrams(st, bigrams(word))

    def _field_mask(self, st: _State, name: str, values: list[str]) -> np.ndarray:
        fieldname = {"doc": "doc_id"}.get(name, name)
        m = np.zeros(st.postings.n, dtype=bool)
        for v in values:
            v = fold(v) if name == "speaker" else v
            m |= self._mask_for(st, Term(fieldname, v))
        return m

    def _rank(self, st: _State, pq: ParsedQuery, limit: int) -> tuple[int, list[tuple[int, float]]]:
        """The number of matching paragraphs and the best ``limit`` as ``(docnum, score)``."""
        p = st.postings
        n = p.n
        allowed = p.live.copy()
        for name, values in pq.filters.items():
            allowed &= self._field_mask(st, name, values)
        for name, value in pq.params:
            allowed &= self._field_mask(st, name, [value])
        for name, values in pq.exclude.items():
            allowed &= ~self._field_mask(st, name, values)
        for clause in pq.negative:
            for unit in clause.units:
                allowed &= ~self._phrase_mask(st, unit)
        positive = pq.positive
        if not positive:
            if not pq.filters and not pq.params:
                return 0, []
            docs = np.flatnonzero(allowed)
            return len(docs), [(int(d), 0.0) for d in docs[:limit]]

        tiered = len(positive) >= TIER_MIN_CLAUSES
        scores = np.zeros(n, dtype=np.float32)
        tier = np.ones(n, dtype=bool)
        for clause in positive:
            clause_ok = np.zeros(n, dtype=bool)
            for unit in clause.units:
                unit_scores = self._unit_scores(st, unit)
                covered = np.ones(n, dtype=bool)
                if tiered:
                    for c in unit.concepts:
                        covered &= self._concept_mask(st, c)
                if unit.phrase:
                    required = self._phrase_mask(st, unit)
                    unit_scores *= required
                    covered &= required
                scores += unit_scores
                clause_ok |= covered
            if all(u.phrase for u in clause.units):
                allowed &= clause_ok  # a quoted phrase is required
            tier &= clause_ok
        if not tiered:
            tier[:] = True
        scores *= self._section_factors(st)
        candidates = np.flatnonzero((scores > 0) & allowed)
        total = len(candidates)
        if not total:
            return 0, []
        # Tier first: lift tier-1 scores above every tier-0 score, then take the top.
        key = scores[candidates].astype(np.float64)
        key[tier[candidates]] += float(key.max()) + 1.0
        want = min(total, max(limit, RERANK_DEPTH))
        if want < total:
            top = np.argpartition(-key, want - 1)[:want]
        else:
            top = np.arange(total)
        top = top[np.lexsort((candidates[top], -key[top]))]
        ranked = [(bool(tier[candidates[i]]), float(scores[candidates[i]]), int(candidates[i]))
                  for i in top]
        ranked = self._rerank(st, pq, ranked)
        return total, [(d, round(s, 4)) for _t, s, d in ranked[:limit]]

    def _unit_scores(self, st: _State, unit: Unit) -> np.ndarray:
        """BM25F of one unit: jieba words + bigrams, plus the title for paragraphs that match."""
        p = st.postings
        out = np.zeros(p.n, dtype=np.float32)
        for w in unit.words:
            if unit.is_stray(w):
                continue
            weight = W_WORDS * (LOW_WEIGHT if w in LOW_VALUE else 1.0)
            if not weight:
                continue
            ids, s = p.bm25("words", w)
            out[ids] += weight * s
        for g in unit.grams:
            ids, s = p.bm25("bigrams", g)
            out[ids] += W_BIGRAMS * s
        if W_TITLE and unit.grams:
            # The release title (on its head paragraph) lifts the release's paragraphs that
            # match by themselves.
            matched = np.flatnonzero(out > 0)
            if len(matched):
                title = np.zeros(p.n, dtype=np.float32)
                for g in unit.grams:
                    ids, s = p.bm25("title", g)
                    title[ids] += s
                out[matched] += W_TITLE * title[p.head_of[matched]]
        return out

    def _rerank(self, st: _State, pq: ParsedQuery, ranked: list) -> list:
        """Boost the top paragraphs that contain a short clause verbatim (after folding)."""
        needles = ["".join(u.folded.split()) for c in pq.positive for u in c.units]
        needles = [x for x in needles if 2 <= len(x) <= RERANK_MAX_CHARS]
        if not needles or not ranked:
            return ranked
        depth = min(RERANK_DEPTH, len(ranked))
        head = []
        docs = self._paragraphs(st, [d for _t, _s, d in ranked[:depth]])
        for (tier, s, d), (_fields, folded) in zip(ranked[:depth], docs):
            text = "".join(folded.split())
            found = sum(1 for x in needles if x in text)
            if found:
                s *= 1.0 + PHRASE_BOOST * found / len(needles)
            head.append((tier, s, d))
        head.sort(key=lambda x: (-x[0], -x[1], x[2]))
        return head + ranked[depth:]

    # -- hits -----------------------------------------------------------------------------

    def _stored(self, st: _State, docnum: int) -> dict:
        try:
            return st.searcher.stored_fields(docnum)
        except Exception as exc:  # damaged stored-fields column
            raise IndexCorruptError.unreadable(
                f"read stored fields in {st.generation}", st.generation, exc) from None

    def _paragraphs(self, st: _State, docnums: list[int]) -> list[tuple[dict, str]]:
        """``(stored fields, folded text)`` of each paragraph, through a per-generation LRU
        (the top of a ranking is read by the re-ranking, the hits and the next query alike);
        the paragraphs not cached are folded in one pass."""
        cache = st.paragraphs
        missing = [d for d in dict.fromkeys(docnums) if d not in cache]
        if missing:
            fields = [self._stored(st, d) for d in missing]
            for d, f, folded in zip(missing, fields,
                                    fold_many([f.get("text", "") for f in fields])):
                cache[d] = (f, folded)
        out = []
        for d in docnums:
            cache.move_to_end(d)
            out.append(cache[d])
        while len(cache) > PARAGRAPH_CACHE:
            cache.popitem(last=False)
        return out

    def _title(self, st: _State, docnum: int) -> str:
        head = int(st.postings.head_of[docnum]) if st.postings.n else docnum
        return self._paragraphs(st, [head])[0][0].get("title", "")

    def _hit(self, st: _State, pq: ParsedQuery, docnum: int, score: float) -> Hit:
        f, folded = self._paragraphs(st, [docnum])[0]
        text = f.get("text", "")
        spans = match_spans(text, pq, st.lexicon, folded=folded)
        return Hit(doc_id=f["doc_id"], title=self._title(st, docnum), paragraph=f["paragraph"],
                   section=f.get("section", "body"), speaker=f.get("speaker_name"),
                   date=f.get("date") or None, score=score, text=text,
                   snippet=snippet(text, spans))


def contains_run(tokens: list[str], run: list[str]) -> bool:
    """True if ``run`` occurs in ``tokens`` as consecutive items."""
    n = len(run)
    first = run[0]
    for i in range(len(tokens) - n + 1):
        if tokens[i] == first and tokens[i:i + n] == run:
            return True
    return False


def _parse(lexicon: Lexicon, query: str, section: str | None = None, speaker: str | None = None,
           doc_id: str | None = None) -> ParsedQuery:
    pq = parse_query(query, lexicon)
    for name, value in (("section", section), ("speaker", speaker), ("doc", doc_id)):
        if value:
            pq.params.append((name, value))
    return pq


def _close_quietly(st: _State) -> None:
    st.closed = True
    try:
        st.searcher.close()
    except Exception:
        pass


def _check_params(query: str, page: int, per_page: int, section: str | None) -> None:
    if not isinstance(query, str):
        raise QueryError("the query must be a string")
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"the query is longer than {MAX_QUERY_LENGTH} characters")
    if not isinstance(page, int) or page < 1:
        raise QueryError("page must be a whole number from 1")
    if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"per_page must be a whole number from 1 to {MAX_PER_PAGE}")
    if section is not None and section not in SECTIONS:
        raise QueryError(f"section must be one of {', '.join(SECTIONS)}")
    if page * per_page > 100_000:
        raise QueryError("page is too far: narrow the query instead")


def open_index(index_dir: str | os.PathLike = "index", *, reload_interval: float = 1.0) -> Index:
    """Open the index in ``index_dir``; raises IndexNotFoundError if none was built."""
    return Index(index_dir, reload_interval=reload_interval)
