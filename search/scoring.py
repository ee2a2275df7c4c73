"""Ranking: BM25 per term, fused per query unit, tiers of clauses and re-ranking of the top.

Ranking is BM25 computed per term over Whoosh's postings for three fields (jieba ``words``, CJK
``bigrams`` and the release ``title``) and fused with fixed weights (BM25F-style; the title only
lifts paragraphs that match by themselves). Then:

* with several clauses (whitespace-separated words, quoted phrases, ``OR`` groups), paragraphs
  that match every clause come first; a clause matches when all its content words occur;
* a quoted phrase must occur (its bigrams in a row, checked on the stored text); ``-word`` and ``-field:value`` exclude;
* short clauses found verbatim (after folding) in a top paragraph boost it;
* credits and boilerplate are scaled down, so body text with the same match ranks above them.

The weights were measured on CMRC2018 with ``benchmarks/relevance.py`` (see docs/ranking.md).
:func:`rank` reads an opened generation (:class:`search.generation.Generation`) through its
postings, masks and cached paragraphs; :func:`bm25` is the formula its posting cache applies.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .query import LOW_VALUE, ParsedQuery, Unit

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
TIER_MIN_CLAUSES = 2
#: Score factor of a paragraph by its section (1 for the others).
SECTION_FACTOR = {"credits": 0.5, "boilerplate": 0.4}


@dataclass
class Work:
    """What ranking one query did, counted as it goes (pass one to ``Index.search(work=...)``:
    tests and benchmarks count the work a query causes with it, deterministically)."""

    phrases_checked: int = 0  # phrases (and excluded words) looked for in the paragraphs' text
    paragraphs_checked: int = 0  # paragraphs a phrase was looked for in
    #: Called before each phrase is checked (a test holds a search in progress with it).
    on_check: Callable[[], None] | None = None


def bm25(tf: np.ndarray, lengths: np.ndarray, avgfl: float, population: int,
         k1: float = K1, b: float = B) -> np.ndarray:
    """BM25 scores of one term in the documents that hold it.

    ``tf`` is the term's count in each of them, ``lengths`` their field lengths; ``avgfl`` is
    the mean field length and ``population`` the number of documents the statistics count.
    """
    idf = math.log(population / (len(tf) + 1)) + 1.0
    denom = tf + k1 * (1 - b) + (k1 * b / avgfl) * lengths
    return (idf * tf * (k1 + 1) / denom).astype(np.float32)


def rank(generation, query: ParsedQuery, limit: int, work: Work | None = None
         ) -> tuple[int, list[tuple[int, float]]]:
    """The number of paragraphs of ``generation`` matching ``query`` and the best ``limit`` as
    ``(document number, score)``: the tier of those matching every clause first, then by score
    (ties by document number)."""
    p = generation.postings
    n = p.n
    allowed = p.live.copy()
    for name, values in query.filters.items():
        allowed &= generation.field_mask(name, values)
    for name, value in query.params:
        allowed &= generation.field_mask(name, [value])
    for name, values in query.exclude.items():
        allowed &= ~generation.field_mask(name, values)
    for clause in query.negative:
        for unit in clause.units:
            allowed &= ~generation.phrase_mask(unit.folded, unit.grams, work)
    positive = query.positive
    if not positive:
        if not query.filters and not query.params:
            return 0, []
        docs = np.flatnonzero(allowed)
        return len(docs), [(int(d), 0.0) for d in docs[:limit]]

    tiered = len(positive) >= TIER_MIN_CLAUSES
    scores = np.zeros(n, dtype=np.float32)
    tier = np.ones(n, dtype=bool)
    for clause in positive:
        clause_ok = np.zeros(n, dtype=bool)
        for unit in clause.units:
            scores_of_unit = unit_scores(generation, unit)
            covered = np.ones(n, dtype=bool)
            if tiered:
                for c in unit.concepts:
                    covered &= generation.concept_mask(c)
            if unit.phrase:
                required = generation.phrase_mask(unit.folded, unit.grams, work)
                scores_of_unit *= required
                covered &= required
            scores += scores_of_unit
            clause_ok |= covered
        if all(u.phrase for u in clause.units):
            allowed &= clause_ok  # a quoted phrase is required
        tier &= clause_ok
    if not tiered:
        tier[:] = True
    scores *= generation.section_factors
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
    ranked = rerank(generation, query, ranked)
    return total, [(d, round(s, 4)) for _t, s, d in ranked[:limit]]


def unit_scores(generation, unit: Unit) -> np.ndarray:
    """BM25F of one unit: jieba words + bigrams, plus the title for paragraphs that match."""
    p = generation.postings
    out = np.zeros(p.n, dtype=np.float32)
    for w in unit.words:
        if unit.is_stray(w):
            continue
        weight = W_WORDS * (LOW_WEIGHT if w in LOW_VALUE else 1.0)
        if not weight:
            continue
        ids, s = p.scores("words", w)
        out[ids] += weight * s
    for g in unit.grams:
        ids, s = p.scores("bigrams", g)
        out[ids] += W_BIGRAMS * s
    if W_TITLE and unit.grams:
        # The release title (on its head paragraph) lifts the release's paragraphs that
        # match by themselves.
        matched = np.flatnonzero(out > 0)
        if len(matched):
            title = np.zeros(p.n, dtype=np.float32)
            for g in unit.grams:
                ids, s = p.scores("title", g)
                title[ids] += s
            out[matched] += W_TITLE * title[p.head_of[matched]]
    return out


def rerank(generation, query: ParsedQuery, ranked: list[tuple[bool, float, int]]
           ) -> list[tuple[bool, float, int]]:
    """Boost the top ``(tier, score, document number)`` entries whose paragraph contains a
    short clause verbatim (after folding), and sort them again."""
    needles = ["".join(u.folded.split()) for c in query.positive for u in c.units]
    needles = [x for x in needles if 2 <= len(x) <= RERANK_MAX_CHARS]
    if not needles or not ranked:
        return ranked
    depth = min(RERANK_DEPTH, len(ranked))
    head = []
    docs = generation.paragraphs([d for _t, _s, d in ranked[:depth]])
    for (tier, s, d), (_fields, folded) in zip(ranked[:depth], docs):
        text = "".join(folded.split())
        found = sum(1 for x in needles if x in text)
        if found:
            s *= 1.0 + PHRASE_BOOST * found / len(needles)
        head.append((tier, s, d))
    head.sort(key=lambda x: (-x[0], -x[1], x[2]))
    return head + ranked[depth:]
