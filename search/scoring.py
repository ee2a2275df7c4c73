"""Ranking: BM25 per term, fused per query unit, tiers of clauses and re-ranking of the top.

Ranking is BM25 computed per term over Whoosh's postings for three fields (jieba ``words``, CJK
``bigrams`` and the release ``title``) and fused with fixed weights (BM25F-style; the title only
lifts paragraphs that match by themselves). These levers find
the right paragraph of a long release:

* the release prior: the query's BM25 against the whole release (its paragraphs' term counts
  and lengths summed: :meth:`search.generation.Generation.release_scores`), added with a small
  weight to each matching paragraph of it, so the release that is about the question lifts its
  paragraphs without drowning the one that answers it;
* glue bigrams: a bigram of the query that straddles a function word (``星的`` in
  ``恒星的生命周期``) counts half: it says little about the paragraph; question bigrams
  (``什么``, ``哪一``: :func:`question_grams`) are not scored at all;
* proximity: in the re-ranked top, a paragraph whose best sentence holds more of the query's
  bigrams (weighted by IDF) is boosted, and so is one holding the query's numbers;
* shared characters: in the re-ranked top, a paragraph whose best sentence holds more of the
  characters of the query's content words (weighted by how rare the character is) is boosted:
  a paraphrase shares characters where it shares no word (``名称`` and ``称为``);
* a title paragraph in the re-ranked top gives its place to its release's best paragraph
  (:func:`title_after_body`).

Then:

* with several clauses (whitespace-separated words, quoted phrases, ``OR`` groups), paragraphs
  that match every clause come first; a clause matches when all its content words occur;
* a quoted phrase must occur (its bigrams in a row, checked on the stored text); ``-word`` and
  ``-field:value`` exclude; the checks on the text are bounded per query (see
  :func:`_check_phrases` and :data:`search.query.MAX_PHRASES`);
* short clauses found verbatim (after folding) in a top paragraph boost it;
* credits and boilerplate are scaled down, so body text with the same match ranks above them.

The weights were measured on CMRC2018 with ``benchmarks/relevance.py`` (see docs/ranking.md).
:func:`rank` reads an opened generation (:class:`search.generation.Generation`) through its
postings, masks and cached paragraphs; :func:`bm25` is the formula its posting cache applies.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .analysis import run_bigrams
from .charmodel import char_information
from .query import LOW_VALUE, QUESTION_CHARS, QUESTION_WORDS, ParsedQuery, Unit
from .script import CJK_RE
from .statistics import CollectionStats, release_field

# Ranking parameters (see docs/ranking.md for how they were chosen).
K1 = 1.2
B = 0.75
#: K1 and B of the paragraph fields, whose paragraphs are long and repeat their topic's words
#: (lower K1, a repeated word counts less; higher B, a long paragraph less); the title and the
#: release prior keep K1 and B.
FIELD_K1_B = {"words": (0.8, 0.9), "bigrams": (0.8, 0.9)}
W_WORDS = 1.0
W_BIGRAMS = 1.0
W_TITLE = 0.5
#: Weight of the release prior (the query's BM25 against the whole release).
W_RELEASE = 0.25
#: Weight of a query bigram that straddles a function word (see :func:`glue_grams`).
W_GLUE = 0.5
#: Boost of a re-ranked paragraph: × (1 + PROXIMITY × share ** PROXIMITY_POWER), share being
#: the part of the query bigrams' weight (IDF × term weight) that its best sentence holds.
PROXIMITY = 2.0
PROXIMITY_POWER = 2.0
#: Boost of a re-ranked paragraph by the share of the query's numbers and Latin words (``643``,
#: ``1937``, ``covid``) it holds as words: × (1 + NUMBER_BOOST × share).
NUMBER_BOOST = 0.3
#: Boost of a re-ranked paragraph by the characters of the query's content words its best
#: sentence holds: × (1 + CHAR_OVERLAP × share²), share being their part of the characters'
#: weight, a character weighing its information (:func:`search.charmodel.char_information`)
#: less CHAR_FLOOR (so a common character counts little, and ``的`` nothing).
CHAR_OVERLAP = 1.0
CHAR_FLOOR = 4.0
LOW_WEIGHT = 0.0  # function and question words: left to the bigrams
PHRASE_BOOST = 0.5
RERANK_DEPTH = 30
RERANK_MAX_CHARS = 16
TIER_MIN_CLAUSES = 2
#: The text checks of one query (quoted phrases, excluded words) look at no more than this
#: many paragraphs, and this many characters of their text, shared equally among its checks;
#: see :func:`_check_phrases` for what happens past them.
MAX_CHECKED_PARAGRAPHS = 2_000
MAX_CHECKED_CHARS = 200_000
#: Where a paragraph's sentences end (proximity is measured within a sentence).
SENTENCE_END_RE = re.compile(r"[。！？；!?;\n]+")
#: A query term that is a number or a Latin word (an alphanumeric ``bigrams`` term).
ALNUM_TERM_RE = re.compile(r"[0-9a-z\u00c0-\u024f]")
#: What may not touch an alphanumeric term for a paragraph to hold it as a word.
_ALNUM_CLASS = "0-9a-z\u00c0-\u024f"
#: Score factor of a paragraph by its section (1 for the others).
SECTION_FACTOR = {"credits": 0.5, "boilerplate": 0.4}


@dataclass
class Work:
    """What ranking one query did, counted as it goes (pass one to ``Index.search(work=...)``:
    tests and benchmarks count the work a query causes with it, deterministically)."""

    phrases_checked: int = 0  # phrases (and excluded words) looked for in the paragraphs' text
    paragraphs_checked: int = 0  # paragraphs a phrase was looked for in
    chars_checked: int = 0  # characters of text those checks counted
    paragraphs_unchecked: int = 0  # candidates past the budget (left out, or excluded)
    #: Called before each phrase is checked (a test holds a search in progress with it).
    on_check: Callable[[], None] | None = None


def bm25(tf: np.ndarray, lengths: np.ndarray, avgfl: float, population: int,
         k1: float = K1, b: float = B, doc_freq: int | None = None) -> np.ndarray:
    """BM25 scores of one term in the documents that hold it.

    ``tf`` is the term's count in each of them, ``lengths`` their field lengths; ``avgfl`` is
    the mean field length and ``population`` the number of documents the statistics count;
    ``doc_freq``, how many documents hold the term, is ``len(tf)`` unless given (a shard is
    given the whole index's).
    """
    weight = idf(len(tf) if doc_freq is None else doc_freq, population)
    denom = tf + k1 * (1 - b) + (k1 * b / avgfl) * lengths
    return (weight * tf * (k1 + 1) / denom).astype(np.float32)


def bm25_params(fieldname: str) -> tuple[float, float]:
    """``(k1, b)`` of a field's BM25 (:data:`FIELD_K1_B`, else :data:`K1` and :data:`B`)."""
    return FIELD_K1_B.get(fieldname, (K1, B))


def idf(df: int, population: int) -> float:
    """The IDF of a term held by ``df`` of ``population`` documents (BM25's, as Whoosh's)."""
    return math.log(population / (df + 1)) + 1.0


def rank(generation, query: ParsedQuery, limit: int, work: Work | None = None,
         stats: CollectionStats | None = None) -> tuple[int, list[tuple[int, float]]]:
    """The number of paragraphs of ``generation`` matching ``query`` and the best ``limit`` as
    ``(document number, score)``: the tier of those matching every clause first, then by score
    (ties in the order of ``generation.tie_order()``: by release id, then paragraph); or in the
    order ``query.sort`` asks for (see :func:`rank_matches`).

    Phrases and excluded words are checked within the budget of :func:`_check_phrases`.
    ``stats``: the collection statistics to score with (default: the generation's own; a
    sharded index gives those of all its shards, see :mod:`search.statistics`)."""
    total, ranked, _matched = rank_matches(generation, query, limit, work, stats)
    return total, ranked


def by_relevance(query: ParsedQuery) -> bool:
    """Whether ``query`` is ranked by relevance, with re-ranking (not by date, nor a list of
    filters alone)."""
    return bool(query.positive) and query.sort not in ("newest", "oldest")


def rank_matches(generation, query: ParsedQuery, limit: int, work: Work | None = None,
                 stats: CollectionStats | None = None
                 ) -> tuple[int, list[tuple[int, float]], np.ndarray]:
    """:func:`rank`, and the mask of every matching paragraph (for facet counts).

    ``query.sort`` ``"newest"`` / ``"oldest"`` orders the matches by their release date
    (``generation.columns.day``), ties by relevance (tier, then score; no re-ranking), then in
    tie order; paragraphs without a date come last either way. A query of filters alone
    lists its paragraphs newest first unless it asks for ``"oldest"``."""
    total, ranked, matched = rank_candidates(generation, query, limit, work, stats)
    if by_relevance(query):
        ranked = rerank(generation, query, ranked, stats)
    return total, [(d, round(s, 4)) for _t, s, d in ranked[:limit]], matched


def scored_terms(query: ParsedQuery) -> set[tuple[str, str]]:
    """The ``(field, term)`` pairs whose postings :func:`unit_scores` scores for ``query``:
    those a sharded index gathers statistics of (kept beside :func:`unit_scores`, which
    reads exactly these: a test checks it)."""
    out: set[tuple[str, str]] = set()
    for clause in query.positive:
        for unit in clause.units:
            for fieldname, term, _weight in _terms(unit):
                out.add((fieldname, term))
                if W_RELEASE and unit.grams:  # the release prior: the release as a document
                    out.add((release_field(fieldname), term))
            if W_TITLE:
                out.update(("title", g) for g in unit.grams)
    return out


def rank_candidates(generation, query: ParsedQuery, limit: int, work: Work | None = None,
                    stats: CollectionStats | None = None
                    ) -> tuple[int, list[tuple[bool, float, int]], np.ndarray]:
    """The number of paragraphs matching ``query``, the best of them as ``(tier, score,
    document number)`` in order and the mask of the matches: by relevance, the best
    ``max(limit, RERANK_DEPTH)`` before re-ranking (what :func:`rank_matches` re-ranks, and
    what each shard of a sharded index gives to be merged); by date, the first ``limit``."""
    p = generation.postings
    n = p.n
    allowed = p.live.copy()
    for name, values in query.filters.items():
        allowed &= generation.field_mask(name, values)
    for name, value in query.params:
        allowed &= generation.field_mask(name, [value] if isinstance(value, str) else value)
    for name, values in query.exclude.items():
        allowed &= ~generation.field_mask(name, values)
    positive = query.positive
    if not positive and not query.filters and not query.params:
        return 0, [], np.zeros(n, dtype=bool)
    # Scores first (whole posting lists, cheap), so that phrases are checked in the paragraphs
    # that rank highest and only in those that could be results.
    scored = [[(unit, unit_scores(generation, unit, stats)) for unit in clause.units]
              for clause in positive]
    base = np.zeros(n, dtype=np.float32)
    for units in scored:
        for _unit, s in units:
            base += s
    base *= generation.section_factors
    pool = allowed & (base > 0) if positive else allowed.copy()
    candidates_of: dict[int, np.ndarray] = {}  # id(unit) -> paragraphs with all its bigrams
    for clause in positive:
        if all(u.phrase for u in clause.units):  # a quoted phrase is required
            holds_one = np.zeros(n, dtype=bool)
            for unit in clause.units:
                candidates_of[id(unit)] = generation.all_bigrams(unit.grams)
                holds_one |= candidates_of[id(unit)]
            pool &= holds_one
    found = _check_phrases(generation, query, pool, base, candidates_of, work)
    for clause in query.negative:
        for unit in clause.units:
            excluded = found.get(id(unit))
            allowed &= ~(excluded if excluded is not None else generation.all_bigrams(unit.grams))
    tie = generation.tie_order()
    if not positive:
        docs = np.flatnonzero(allowed)
        order = by_date(generation.columns.day[docs], np.zeros(len(docs)), tie[docs], limit,
                        newest=query.sort != "oldest")
        return len(docs), [(True, 0.0, int(d)) for d in docs[order]], allowed

    tiered = len(positive) >= TIER_MIN_CLAUSES
    scores = np.zeros(n, dtype=np.float32)
    tier = np.ones(n, dtype=bool)
    for clause, units in zip(positive, scored):
        clause_ok = np.zeros(n, dtype=bool)
        for unit, scores_of_unit in units:
            covered = np.ones(n, dtype=bool)
            if tiered:
                for c in unit.concepts:
                    covered &= generation.concept_mask(c)
            if unit.phrase:
                required = found.get(id(unit))
                if required is None:  # one bigram (its postings are exact), or read by words
                    required = candidates_of.get(id(unit))
                    if required is None:
                        required = generation.all_bigrams(unit.grams)
                scores_of_unit = scores_of_unit * required
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
    matched = np.zeros(n, dtype=bool)
    matched[candidates] = True
    if not total:
        return 0, [], matched
    # Tier first: lift tier-1 scores above every tier-0 score, then take the top.
    key = scores[candidates].astype(np.float64)
    key[tier[candidates]] += float(key.max()) + 1.0
    if query.sort in ("newest", "oldest"):
        order = by_date(generation.columns.day[candidates], key, tie[candidates], limit,
                        newest=query.sort == "newest")
        return total, [(bool(tier[candidates[i]]), float(scores[candidates[i]]),
                        int(candidates[i])) for i in order], matched
    want = min(total, max(limit, RERANK_DEPTH))
    if want < total:
        # The best ``want``; of those tied with the last one, the first in tie order
        # (argpartition alone picks any of them).
        cut = np.partition(-key, want - 1)[want - 1]
        better = np.flatnonzero(-key < cut)
        tied = np.flatnonzero(-key == cut)
        tied = tied[np.argsort(tie[candidates[tied]], kind="stable")]
        top = np.concatenate([better, tied[:want - len(better)]])
    else:
        top = np.arange(total)
    top = top[np.lexsort((tie[candidates[top]], -key[top]))]
    return total, [(bool(tier[candidates[i]]), float(scores[candidates[i]]),
                    int(candidates[i])) for i in top], matched


#: The day an undated paragraph sorts as, oldest first: after every date.
UNDATED_LAST = 99_999_999


def by_date(days: np.ndarray, key: np.ndarray, docs: np.ndarray, limit: int, newest: bool
            ) -> np.ndarray:
    """Positions of the first ``limit`` of ``docs`` by date (``days``, ``yyyymmdd``, 0 for
    none: last either way), newest or oldest first; ties by descending ``key`` (relevance),
    then ``docs`` (their tie order). Sorts only the paragraphs that can make the cut."""
    if limit <= 0:
        return np.zeros(0, dtype=np.int64)
    days = days.astype(np.int64)
    primary = -days if newest else np.where(days > 0, days, UNDATED_LAST)
    if limit < len(docs):
        cut = np.partition(primary, limit - 1)[limit - 1]
        some = np.flatnonzero(primary <= cut)  # every paragraph of the last day taken
    else:
        some = np.arange(len(docs))
    return some[np.lexsort((docs[some], -key[some], primary[some]))][:limit]


def _check_phrases(generation, query: ParsedQuery, pool: np.ndarray, base: np.ndarray,
                   candidates_of: dict[int, np.ndarray], work: Work | None
                   ) -> dict[int, np.ndarray]:
    """``id(unit) -> paragraphs to treat as holding it`` for each unit checked on the text:
    the quoted phrases and the excluded words and phrases of more than one bigram (the parser
    leaves at most MAX_PHRASES of them).

    Only candidates in ``pool`` (the paragraphs that could be results) are checked, best
    ``base`` score first (ties by document number), and all the checks of the query share
    :data:`MAX_CHECKED_PARAGRAPHS` paragraphs and :data:`MAX_CHECKED_CHARS` characters: each
    check in turn gets an equal share of what the checks before it left.
    A candidate past its share is not checked: it counts as not holding a required phrase (left
    out) and as holding an excluded one (excluded), so every hit is right and the limits only
    ever leave paragraphs out.
    """
    checks = [(u, c.negated) for c in query.clauses for u in c.units
              if len(u.grams) > 1 and not u.by_words and (u.phrase or c.negated)]
    if not checks:
        return {}
    left_paragraphs, left_chars = MAX_CHECKED_PARAGRAPHS, MAX_CHECKED_CHARS
    found: dict[int, np.ndarray] = {}
    for i, (unit, negated) in enumerate(checks):
        # An equal share of what is left: what one check does not use goes to the next ones.
        share_paragraphs = left_paragraphs // (len(checks) - i)
        share_chars = left_chars // (len(checks) - i)
        if work is not None:
            if work.on_check is not None:
                work.on_check()
            work.phrases_checked += 1
        mask = candidates_of.get(id(unit))
        if mask is None:
            mask = generation.all_bigrams(unit.grams)
        candidates = np.flatnonzero(mask & pool)
        docs = _best(candidates, base, share_paragraphs)
        holds, chars = generation.check_phrase(unit.folded, unit.grams, docs,
                                               share_paragraphs, share_chars)
        checked = docs[:len(holds)]
        left_paragraphs -= len(holds)
        left_chars -= chars
        if negated:  # excluded: every candidate but those checked and found without it
            out = mask.copy()
            out[checked[~holds]] = False
        else:
            out = np.zeros(len(pool), dtype=bool)
            out[checked[holds]] = True
        found[id(unit)] = out
        if work is not None:
            work.paragraphs_checked += len(holds)
            work.chars_checked += chars
            work.paragraphs_unchecked += len(candidates) - len(holds)
    return found


def _best(docs: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` of ``docs`` (document numbers in order) by descending ``key``, ties by
    document number, without sorting them all."""
    if k < len(docs):
        neg = -key[docs]
        cut = np.partition(neg, k - 1)[k - 1]
        docs = np.concatenate([docs[neg < cut], docs[neg == cut]])
    return docs[np.lexsort((docs, -key[docs]))][:k]


def glue_grams(unit: Unit) -> set[str]:
    """The unit's bigrams that straddle two jieba words one of which is a function word
    (:data:`search.query.LOW_VALUE`) and that no word of the unit holds: ``星的`` and ``的生``
    in ``恒星的生命周期``, but not ``目的`` in ``主要目的``; nor a bigram of two single
    characters (jieba splits a name it does not know so: ``曾炯``, ``地大``, whose bigram is
    all that finds them)."""
    inside = {w[i:i + 2] for w in unit.words for i in range(len(w) - 1)}
    return {a[-1] + b[0] for a, b in zip(unit.words, unit.words[1:])
            if (a in LOW_VALUE or b in LOW_VALUE) and a[-1] + b[0] not in inside
            and not (len(a) == 1 and len(b) == 1)}


def _asks(word: str) -> bool:
    """Whether ``word`` is a question word (:data:`search.query.QUESTION_WORDS`, or it holds
    one of :data:`search.query.QUESTION_CHARS`)."""
    return word in QUESTION_WORDS or any(c in QUESTION_CHARS for c in word)


def question_grams(unit: Unit) -> set[str]:
    """The unit's bigrams that say what is asked rather than what the answer holds: those
    inside one function word (``什么``, ``时候``, ``可以``: :data:`search.query.LOW_VALUE`,
    whose words are not scored either) and those overlapping a question word
    (:data:`search.query.QUESTION_WORDS` or a word holding one of
    :data:`search.query.QUESTION_CHARS`: ``据哪`` and ``哪一`` in ``依据哪一条约``)."""
    folded = unit.folded
    asked = [False] * len(folded)
    out = set()
    at = 0
    for w in unit.words:
        i = folded.find(w, at)
        if i < 0:
            continue
        at = i + len(w)
        if w in LOW_VALUE:
            out.update(w[k:k + 2] for k in range(len(w) - 1))
        if _asks(w):
            asked[i:at] = [True] * len(w)
    for start, run in run_bigrams(folded):
        for k, g in enumerate(run):
            if len(g) == 2 and (asked[start + k] or asked[start + k + 1]):
                out.add(g)
    return out


def _terms(unit: Unit) -> list[tuple[str, str, float]]:
    """``(field, term, weight)`` of the unit's scored terms: its words (not stray characters
    or function words) and its bigrams (glue bigrams at :data:`W_GLUE`; not the
    :func:`question_grams`, unless nothing else would be scored)."""
    out = []
    for w in unit.words:
        if unit.is_stray(w):
            continue
        weight = W_WORDS * (LOW_WEIGHT if w in LOW_VALUE else 1.0)
        if weight:
            out.append(("words", w, weight))
    glue = glue_grams(unit)
    asked = question_grams(unit)
    grams = [g for g in unit.grams if g not in asked]
    if not out and not grams:  # a query of question words alone: they are all it has
        grams = unit.grams
    out.extend(("bigrams", g, W_BIGRAMS * (W_GLUE if g in glue else 1.0)) for g in grams)
    return out


def unit_scores(generation, unit: Unit, stats: CollectionStats | None = None) -> np.ndarray:
    """BM25F of one unit: jieba words + bigrams, plus, for paragraphs that match, the release
    prior and the title (scored with ``stats``, by default the generation's own; the terms
    are those of :func:`scored_terms`)."""
    p = generation.postings
    out = np.zeros(p.n, dtype=np.float32)
    terms = _terms(unit)
    for fieldname, term, weight in terms:
        ids, s = generation.scores(fieldname, term, stats)
        out[ids] += weight * s
    if W_RELEASE and unit.grams:
        matched = np.flatnonzero(out > 0)
        if len(matched):
            release = np.zeros(p.n_heads, dtype=np.float32)  # by position in p.heads
            for fieldname, term, weight in terms:
                releases, s = generation.release_scores(fieldname, term, stats)
                release[releases] += weight * s
            out[matched] += W_RELEASE * release[p.release_of[matched]]
    if W_TITLE and unit.grams:
        # The release title (on its head paragraph) lifts the release's paragraphs that
        # match by themselves.
        matched = np.flatnonzero(out > 0)
        if len(matched):
            title = np.zeros(p.n, dtype=np.float32)
            for g in unit.grams:
                ids, s = generation.scores("title", g, stats)
                title[ids] += s
            out[matched] += W_TITLE * title[p.head_of[matched]]
    return out


def rerank(generation, query: ParsedQuery, ranked: list[tuple[bool, float, int]],
           stats: CollectionStats | None = None) -> list[tuple[bool, float, int]]:
    """Boost the top ``(tier, score, document number)`` entries whose paragraph contains a
    short clause verbatim (after folding), holds the query's bigrams or characters close
    together or its numbers, and sort them again (ties in tie order); then a release's title
    paragraph gives its place to the release's best paragraph (:func:`title_after_body`)."""
    head = boosted(generation, query, ranked, stats)
    if head is None:
        head = ranked[:RERANK_DEPTH]
    else:
        order = generation.tie_order()
        head.sort(key=lambda x: (-x[0], -x[1], order[x[2]]))
    head_of = generation.postings.head_of
    moved = title_after_body(head, [(int(head_of[d]), d == head_of[d]) for _t, _s, d in head])
    return moved + ranked[len(head):]


def title_after_body(entries: list[tuple], releases: list[tuple[object, bool]]) -> list[tuple]:
    """``entries`` (``(tier, score, ...)``, in ranking order: the re-ranked top) with each
    title paragraph that precedes a paragraph of its own release of the same tier moved to
    just after the first of them, which takes the title's place and score: the title stands
    for its release (it matches every question about the release alike), the paragraph is
    the answer. ``releases[i]`` is entry ``i``'s ``(release, is its title paragraph)``.
    The order stays by tier and score, and a release's place in the ranking does not change.
    """
    first: dict[tuple, int] = {}  # (release, tier) -> position of its first body paragraph
    for i, ((release, is_title), e) in enumerate(zip(releases, entries)):
        if not is_title:
            first.setdefault((release, e[0]), i)
    out: list[tuple] = []
    taken: set[int] = set()
    for i, ((release, is_title), e) in enumerate(zip(releases, entries)):
        if i in taken:
            continue
        j = first.get((release, e[0]), -1) if is_title else -1
        if j > i:
            body = entries[j]
            out.append((body[0], e[1], *body[2:]))
            taken.add(j)
        out.append(e)
    return out


def boosted(generation, query: ParsedQuery, ranked: list[tuple[bool, float, int]],
            stats: CollectionStats | None = None) -> list[tuple[bool, float, int]] | None:
    """The first RERANK_DEPTH entries of ``ranked`` with the re-ranking's boost applied, not
    sorted again; None if the query boosts nothing. The boost of a paragraph depends on its
    text and the IDFs of ``stats`` alone (by default the generation's), so each shard of a
    sharded index boosts its paragraphs as one index would (:mod:`search.sharded`)."""
    needles = ["".join(u.folded.split()) for c in query.positive for u in c.units]
    needles = [x for x in needles if 2 <= len(x) <= RERANK_MAX_CHARS]
    weights = _gram_idf(generation, query, stats) if PROXIMITY else {}
    total = sum(weights.values())
    chars = _char_weights(query) if CHAR_OVERLAP else {}
    char_total = sum(chars.values())
    numbers = sorted({g for c in query.positive for u in c.units for g in u.grams
                      if ALNUM_TERM_RE.match(g)}) if NUMBER_BOOST else []
    # The numbers as whole words (not 64 inside 1643), all in one scan.
    number_finder = re.compile(
        f"(?<![{_ALNUM_CLASS}])(" + "|".join(map(re.escape, numbers)) + f")(?![{_ALNUM_CLASS}])"
    ) if numbers else None
    if (not needles and not total and not numbers and not char_total) or not ranked:
        return None
    depth = min(RERANK_DEPTH, len(ranked))
    head = []
    docs = generation.paragraphs([d for _t, _s, d in ranked[:depth]])
    for (tier, s, d), (_fields, folded) in zip(ranked[:depth], docs):
        text = "".join(folded.split())
        found = sum(1 for x in needles if x in text)
        if found:
            s *= 1.0 + PHRASE_BOOST * found / len(needles)
        ends = ([m.start() for m in SENTENCE_END_RE.finditer(folded)]
                if total or char_total else [])
        if total:
            share = _best_sentence(folded, ends, weights) / total
            s *= 1.0 + PROXIMITY * share ** PROXIMITY_POWER
        if char_total:
            share = _best_sentence(folded, ends, chars) / char_total
            s *= 1.0 + CHAR_OVERLAP * share * share
        if number_finder is not None:
            held = set(number_finder.findall(folded))
            s *= 1.0 + NUMBER_BOOST * len(held) / len(numbers)
        head.append((tier, s, d))
    return head


def _gram_idf(generation, query: ParsedQuery, stats: CollectionStats | None = None
              ) -> dict[str, float]:
    """The IDF, times its weight as a term (:func:`_terms`: glue bigrams count half, question
    bigrams not at all), of each distinct bigram of the query's positive units that some
    paragraph holds (the weights of :func:`_best_sentence`; with ``stats``, a sharded
    index's)."""
    out: dict[str, float] = {}
    for clause in query.positive:
        for unit in clause.units:
            for fieldname, g, weight in _terms(unit):
                if fieldname == "bigrams" and len(g) == 2 and g not in out:
                    weight *= generation.idf("bigrams", g, stats)
                    if weight > 0:
                        out[g] = weight
    return out


def _char_weights(query: ParsedQuery) -> dict[str, float]:
    """The CJK characters of the query's positive units' content words (not function or
    question words: :data:`search.query.LOW_VALUE`, :data:`search.query.QUESTION_WORDS`,
    words holding :data:`search.query.QUESTION_CHARS`), each weighing its information less
    :data:`CHAR_FLOOR` (the weights of :func:`_best_sentence` for :data:`CHAR_OVERLAP`; a
    fixed table, so every shard weighs them alike)."""
    out: dict[str, float] = {}
    for clause in query.positive:
        for unit in clause.units:
            for w in unit.words:
                if w in LOW_VALUE or _asks(w):
                    continue
                for c in w:
                    if c not in out and CJK_RE.match(c):
                        out[c] = char_information(c) - CHAR_FLOOR
    return {c: x for c, x in out.items() if x > 0}


def _best_sentence(folded: str, ends: list[int], weights: dict[str, float]) -> float:
    """The largest weight sum of the query's bigrams or characters (``weights``) one
    sentence of ``folded`` holds (each counted once): the query's words close together.
    ``ends`` are where its sentences end (:data:`SENTENCE_END_RE`), found once for both
    sums."""
    sums: dict[int, float] = {}
    # Bigram by bigram with str.find (much faster than one regex of all of them), in a fixed
    # order so that each sentence's sum adds up alike in every process (a sharded index
    # boosts in its workers' processes, whose set orders differ).
    for g in sorted(weights):
        w = weights[g]
        seen = -1
        i = folded.find(g)
        while i >= 0:
            sentence = bisect_right(ends, i)
            if sentence != seen:  # occurrences come in order: a sentence's are in a row
                sums[sentence] = sums.get(sentence, 0.0) + w
                seen = sentence
            i = folded.find(g, i + 1)
    return max(sums.values(), default=0.0)
