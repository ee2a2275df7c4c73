"""Searching an index: ranking, filters, paging, snippets and whole releases.

Ranking is BM25F computed term by term over Whoosh's postings for three fields (jieba ``words``,
CJK ``bigrams`` and the release ``title``), fused with fixed weights, then:

* paragraphs that match every clause of the query come first (a clause is a whitespace-separated
  word, a quoted phrase or an ``OR`` group; a clause matches when all its content words occur);
* within a tier, the score is scaled by the share of the query's content words the paragraph has,
  and boosted when it contains a clause verbatim (after folding);
* credits and boilerplate are scaled down, so body text with the same match ranks above them.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import whoosh.index
from whoosh.query import Phrase, Term

from . import storage
from .analysis import Lexicon, bigrams, fold
from .errors import DocumentNotFoundError, IndexCorruptError, QueryError
from .highlight import match_spans, render, snippet
from .models import SECTIONS, Hit, IndexStats, Paragraph, Release, SearchResult
from .query import LOW_VALUE, ParsedQuery, Unit, parse_query

MAX_QUERY_LENGTH = 500
MAX_PER_PAGE = 100

# Ranking parameters (see docs/ranking.md for how they were chosen).
K1 = 1.2
B = 0.75
W_WORDS = 1.0
W_BIGRAMS = 1.0
W_TITLE = 0.5
LOW_WEIGHT = 0.1
COVERAGE_POWER = 0.0
PHRASE_BOOST = 0.5
RERANK_DEPTH = 50
TIER_MIN_CLAUSES = 2
SECTION_FACTOR = {"credits": 0.5, "boilerplate": 0.4}


@dataclass
class _State:
    """One opened generation: Whoosh searcher plus per-generation caches."""

    generation: Path
    ix: whoosh.index.Index
    searcher: object
    lexicon: Lexicon
    opened: float = field(default_factory=time.monotonic)
    postings: dict = field(default_factory=dict)
    lengths: dict = field(default_factory=dict)
    avgfl: dict = field(default_factory=dict)
    doc_ids: list | None = None
    sections: list | None = None

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
            raise IndexCorruptError(
                f"cannot open the index in {gen} ({type(exc).__name__}); "
                "run `release-search reindex --full` to rebuild it", str(gen)) from None
        lexicon = ix.schema["words"].analyzer[0].lexicon
        return _State(generation=gen, ix=ix, searcher=searcher, lexicon=lexicon)

    def _current(self) -> _State:
        now = time.monotonic()
        if now - self._checked < self.reload_interval:
            return self._state
        with self._lock:
            self._checked = now
            st = self._state
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
                old = st
                # Let searches still running on the old state finish; close it a bit later.
                timer = threading.Timer(30.0, _close_quietly, args=(old,))
                timer.daemon = True
                timer.start()
        return self._state

    @property
    def generation(self) -> str:
        return self._current().generation.name

    @property
    def lexicon(self) -> Lexicon:
        return self._state.lexicon

    def close(self) -> None:
        with self._lock:
            _close_quietly(self._state)

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
        st = self._current()
        pq = self.parse(query, section=section, speaker=speaker, doc_id=doc_id)
        with self._lock:
            ranked = self._rank(st, pq)
            start = (page - 1) * per_page
            hits = [self._hit(st, pq, d, s) for d, s in ranked[start:start + per_page]]
        took = (time.perf_counter() - t0) * 1000
        return SearchResult(query=query, total=len(ranked), page=page, per_page=per_page,
                            took_ms=round(took, 2), hits=hits)

    def ranked_doc_ids(self, query: str, k: int = 10) -> list[str]:
        """Distinct release ids of the best paragraphs, best first (no snippets: fast)."""
        if len(query) > MAX_QUERY_LENGTH:
            query = query[:MAX_QUERY_LENGTH]
        st = self._current()
        pq = self.parse(query)
        out: list[str] = []
        with self._lock:
            ranked = self._rank(st, pq)
            ids = self._doc_id_column(st)
            for d, _s in ranked:
                did = ids[d]
                if did not in out:
                    out.append(did)
                    if len(out) == k:
                        break
        return out

    def parse(self, query: str, section: str | None = None, speaker: str | None = None,
              doc_id: str | None = None) -> ParsedQuery:
        pq = parse_query(query, self._state.lexicon)
        for name, value in (("section", section), ("speaker", speaker), ("doc", doc_id)):
            if value:
                pq.filters.setdefault(name, []).append(value)
        return pq

    def highlight(self, text: str, query: str) -> str:
        """The whole ``text`` as escaped HTML with the matches of ``query`` in ``<mark>``."""
        pq = parse_query(query[:MAX_QUERY_LENGTH], self._state.lexicon)
        return render(text, match_spans(text, pq, self._state.lexicon))

    def document(self, doc_id: str) -> Release:
        """The release ``doc_id`` with all its paragraphs."""
        st = self._current()
        with self._lock:
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
                       url=rec.get("url"), content_hash=rec.get("hash", ""),
                       repairs=dict(rec.get("repairs") or {}))

    def stats(self) -> IndexStats:
        st = self._current()
        with self._lock:
            r = st.reader
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
        st = self._current()
        with self._lock:
            return {r["doc_id"]: r.get("release") or {}
                    for r in st.searcher.documents(head="1")}

    # -- ranking --------------------------------------------------------------------------

    def _lengths(self, st: _State, fieldname: str) -> list[int]:
        lens = st.lengths.get(fieldname)
        if lens is None:
            r = st.reader
            n = r.doc_count_all()
            lens = [r.doc_field_length(d, fieldname, 0) for d in range(n)]
            st.lengths[fieldname] = lens
            st.avgfl[fieldname] = (r.field_length(fieldname) / max(1, r.doc_count())) or 1.0
        return lens

    def _postings(self, st: _State, fieldname: str, text: str) -> dict[int, float]:
        """``docnum -> BM25 score`` of one term in one field (cached per generation)."""
        key = (fieldname, text)
        hit = st.postings.get(key)
        if hit is not None:
            return hit
        r = st.reader
        out: dict[int, float] = {}
        if (fieldname, text) in r:
            lens = self._lengths(st, fieldname)
            avgfl = st.avgfl[fieldname]
            n = r.doc_count_all()
            df = r.doc_frequency(fieldname, text)
            idf = math.log(n / (df + 1)) + 1.0
            m = r.postings(fieldname, text)
            k1b = K1 * (1 - B)
            k1bl = K1 * B / avgfl
            deleted = r.has_deletions()
            while m.is_active():
                d = m.id()
                if not (deleted and r.is_deleted(d)):
                    tf = m.weight()
                    out[d] = idf * tf * (K1 + 1) / (tf + k1b + k1bl * lens[d])
                m.next()
        if len(st.postings) > 20000:
            st.postings.clear()
        st.postings[key] = out
        return out

    def _doc_id_column(self, st: _State) -> list:
        if st.doc_ids is None:
            st.doc_ids = list(st.reader.column_reader("doc_id"))
        return st.doc_ids

    def _section_column(self, st: _State) -> list:
        if st.sections is None:
            st.sections = list(st.reader.column_reader("section"))
        return st.sections

    def _docs_for(self, st: _State, q) -> set[int]:
        return set(st.searcher.docs_for_query(q))

    def _phrase_docs(self, st: _State, unit: Unit) -> set[int]:
        grams = unit.grams
        if not grams:
            return set()
        q = Term("bigrams", grams[0]) if len(grams) == 1 else Phrase("bigrams", grams)
        return self._docs_for(st, q)

    def _concept_docs(self, st: _State, word: str) -> set[int]:
        docs = set(self._postings(st, "words", word))
        grams = bigrams(word)
        if grams:
            common = None
            for g in grams:
                ds = self._postings(st, "bigrams", g).keys()
                common = set(ds) if common is None else common & ds
                if not common:
                    break
            docs |= common or set()
        return docs

    def _field_docs(self, st: _State, name: str, values: list[str]) -> set[int]:
        fieldname = {"doc": "doc_id"}.get(name, name)
        docs: set[int] = set()
        for v in values:
            v = fold(v) if name == "speaker" else v
            docs |= self._docs_for(st, Term(fieldname, v))
        return docs

    def _filter_docs(self, st: _State, pq: ParsedQuery) -> set[int] | None:
        allowed: set[int] | None = None
        for name, values in pq.filters.items():
            docs = self._field_docs(st, name, values)
            allowed = docs if allowed is None else allowed & docs
        return allowed

    def _rank(self, st: _State, pq: ParsedQuery) -> list[tuple[int, float]]:
        allowed = self._filter_docs(st, pq)
        positive = pq.positive
        if not positive:
            if allowed is None:
                return []
            excluded = self._excluded(st, pq)
            return [(d, 0.0) for d in sorted(allowed - excluded)]

        scores: dict[int, float] = defaultdict(float)
        n_concepts = 0
        concept_hits: dict[int, int] = defaultdict(int)
        clause_ok: list[set[int]] = []
        for clause in positive:
            ok: set[int] = set()
            for unit in clause.units:
                unit_scores = self._unit_scores(st, unit)
                concepts = unit.concepts
                required = self._phrase_docs(st, unit) if unit.phrase else None
                if required is not None:
                    unit_scores = {d: s for d, s in unit_scores.items() if d in required}
                for d, s in unit_scores.items():
                    scores[d] += s
                covered = None
                for c in concepts:
                    cd = self._concept_docs(st, c)
                    if required is not None:
                        cd &= required
                    if len(clause.units) == 1:
                        for d in cd:
                            concept_hits[d] += 1
                    covered = set(cd) if covered is None else covered & cd
                if required is not None:
                    covered = required if covered is None else covered
                ok |= covered or set()
            if len(clause.units) == 1:
                n_concepts += len(clause.units[0].concepts)
            else:
                n_concepts += 1
                for d in ok:
                    concept_hits[d] += 1
            clause_ok.append(ok)

        # Paragraphs must satisfy every phrase-only clause.
        required_all = [ok for clause, ok in zip(positive, clause_ok)
                        if all(u.phrase for u in clause.units)]
        excluded = self._excluded(st, pq)
        sections = self._section_column(st)
        ranked = []
        for d, s in scores.items():
            if s <= 0 or d in excluded or (allowed is not None and d not in allowed):
                continue
            if any(d not in ok for ok in required_all):
                continue
            frac = concept_hits.get(d, 0) / n_concepts if n_concepts else 1.0
            s *= (0.25 + 0.75 * frac) ** COVERAGE_POWER
            s *= SECTION_FACTOR.get(sections[d], 1.0)
            tier = all(d in ok for ok in clause_ok) if TIER_MIN_CLAUSES <= len(clause_ok) else True
            ranked.append((tier, s, d))
        ranked.sort(key=lambda x: (-x[0], -x[1], x[2]))
        ranked = self._rerank(st, pq, ranked)
        return [(d, round(s, 4)) for _t, s, d in ranked]

    def _unit_scores(self, st: _State, unit: Unit) -> dict[int, float]:
        out: dict[int, float] = defaultdict(float)
        for w in unit.words:
            if unit.is_stray(w):
                continue
            weight = W_WORDS * (LOW_WEIGHT if w in LOW_VALUE else 1.0)
            for d, s in self._postings(st, "words", w).items():
                out[d] += weight * s
        for g in unit.grams:
            for d, s in self._postings(st, "bigrams", g).items():
                out[d] += W_BIGRAMS * s
        # The release title only lifts paragraphs that match by themselves.
        for g in unit.grams:
            for d, s in self._postings(st, "title", g).items():
                if d in out:
                    out[d] += W_TITLE * s
        return out

    def _excluded(self, st: _State, pq: ParsedQuery) -> set[int]:
        out: set[int] = set()
        for name, values in pq.exclude.items():
            out |= self._field_docs(st, name, values)
        for clause in pq.negative:
            for unit in clause.units:
                out |= self._phrase_docs(st, unit)
        return out

    def _rerank(self, st: _State, pq: ParsedQuery, ranked: list) -> list:
        """Boost the top paragraphs that contain a clause verbatim (after folding)."""
        needles = ["".join(u.folded.split()) for c in pq.positive for u in c.units]
        needles = [n for n in needles if len(n) >= 2]
        if not needles or not ranked:
            return ranked
        depth = min(RERANK_DEPTH, len(ranked))
        head = []
        for tier, s, d in ranked[:depth]:
            text = "".join(fold(st.searcher.stored_fields(d).get("text", "")).split())
            found = sum(1 for n in needles if n in text)
            if found:
                s *= 1.0 + PHRASE_BOOST * found / len(needles)
            head.append((tier, s, d))
        head.sort(key=lambda x: (-x[0], -x[1], x[2]))
        return head + ranked[depth:]

    # -- hits -----------------------------------------------------------------------------

    def _hit(self, st: _State, pq: ParsedQuery, docnum: int, score: float) -> Hit:
        f = st.searcher.stored_fields(docnum)
        text = f.get("text", "")
        spans = match_spans(text, pq, st.lexicon)
        return Hit(doc_id=f["doc_id"], title=f.get("title", ""), paragraph=f["paragraph"],
                   section=f.get("section", "body"), speaker=f.get("speaker_name"),
                   date=f.get("date") or None, score=score, text=text,
                   snippet=snippet(text, spans))


def _close_quietly(st: _State) -> None:
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
