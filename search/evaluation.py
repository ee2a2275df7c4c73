"""Ranking quality: evaluate an index against queries with known relevant documents.

Inputs are the usual IR test-collection files:

* queries, JSONL: one ``{"id": ..., "text": ...}`` object per line;
* qrels, TSV: ``query_id<TAB>doc_id[<TAB>relevance]`` per line, relevance an integer
  (default 1; 0 means judged not relevant, higher grades are more relevant);
* or paragraph qrels, TSV: ``query_id<TAB>release_id<TAB>n`` per line, the relevant paragraph
  being line ``n`` (counted from 1) of the release's ``text`` (:func:`load_paragraph_qrels`).

:func:`evaluate` runs every query through ``ranked_doc_ids(text, k)`` (or, judged by
paragraph, ``ranked_paragraph_ids(text, k)``) of any ranker (the engine's
:class:`search.Index` or the benchmark baseline) and returns an :class:`EvaluationReport`.
A paragraph is named :func:`paragraph_id` ``"<release id>#<number>"`` with the engine's
numbering: the title is paragraph 1, so line ``n`` of the text is paragraph ``n + 1`` (blank
lines are not paragraphs; the DRCD and CMRC2018 releases have none). The metric functions (:func:`reciprocal_rank`, :func:`recall`,
:func:`ndcg`, ...) are pure and take one ranking at a time.

Definitions (``k`` is the cut-off, ranks are 1-based, a ranking's repeated ids count once):

* reciprocal rank@k: ``1 / rank`` of the first relevant document in the top ``k``, else 0;
* recall@k: relevant documents in the top ``k`` divided by the number of relevant documents;
* nDCG@k: DCG with linear gain, ``sum(grade / log2(rank + 1))`` over the top ``k``, divided by
  the DCG of the ideal ordering of all judged grades (also cut at ``k``);
* latency percentiles interpolate linearly between the closest ranks (numpy's default).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from .errors import QueryError, SourceError

#: Relevance judgements: query id -> doc id -> grade (0 = judged not relevant).
Qrels = dict[str, dict[str, int]]

#: What a ranking lists and the qrels judge: whole releases or paragraphs.
BY = ("release", "paragraph")


def paragraph_id(doc_id: str, number: int) -> str:
    """The id of paragraph ``number`` (the title is 1) of release ``doc_id``: ``"id#number"``
    (unambiguous: the number after the last ``#``)."""
    return f"{doc_id}#{number}"


class Ranker(Protocol):
    """Anything that ranks documents for a query (the engine's index, the naive baseline)."""

    def ranked_doc_ids(self, query: str, k: int = 10) -> list[str]:
        """Distinct doc ids, best first, at most ``k``."""
        ...

    # Rankers evaluated by paragraph also have
    # ``ranked_paragraph_ids(query, k) -> list[str]`` (paragraph_id of each, best first).


@dataclass(frozen=True)
class EvalQuery:
    """One query of the test collection."""

    id: str
    text: str
    source: str = ""  # "path:line" it was read from, for error messages


# -- loading ------------------------------------------------------------------------------


def _open_text(path: str | os.PathLike[str], what: str):
    try:
        return Path(path).open(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot open {what} file: {exc.strerror}", str(path)) from exc


def iter_json_lines(path: str | os.PathLike[str], what: str) -> Iterator[tuple[str, dict]]:
    """``("path:line", object)`` for each non-blank line of a JSONL file.

    Raises :class:`SourceError` with ``path:line`` for a missing or unreadable file, text that
    is not UTF-8, or a line that is not a JSON object.
    """
    with _open_text(path, what) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SourceError(f"malformed JSON: {exc.msg}", where) from exc
                if not isinstance(record, dict):
                    raise SourceError(f"expected a JSON object on each line of the {what} file",
                                      where)
                yield where, record
        except UnicodeDecodeError as exc:
            raise SourceError(f"not UTF-8 text: {exc.reason}", str(path)) from exc


def load_queries(path: str | os.PathLike[str]) -> list[EvalQuery]:
    """Read a queries JSONL file, in file order; blank lines are skipped.

    Raises :class:`SourceError` with ``path:line`` for a missing or unreadable file, a line that
    is not a JSON object, a missing or non-string ``id``/``text``, an empty text or a repeated id.
    """
    queries: list[EvalQuery] = []
    seen: dict[str, str] = {}
    for where, record in iter_json_lines(path, "queries"):
        query_id, text = record.get("id"), record.get("text")
        if not isinstance(query_id, str) or not query_id:
            raise SourceError('"id" must be a non-empty string', where)
        if not isinstance(text, str) or not text.strip():
            raise SourceError(f'query {query_id}: "text" must be a non-empty string', where)
        if query_id in seen:
            first = seen[query_id].rsplit(":", 1)[1]
            raise SourceError(f"duplicate query id {query_id} (first on line {first})", where)
        seen[query_id] = where
        queries.append(EvalQuery(query_id, text, where))
    return queries


def _tsv_rows(path: str | os.PathLike[str], what: str) -> Iterator[tuple[str, list[str]]]:
    """``("path:line", columns)`` for each non-blank line of a tab-separated file; raises
    :class:`SourceError` for a missing or unreadable file or text that is not UTF-8."""
    with _open_text(path, what) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                line = line.rstrip("\r\n")
                if line.strip():
                    yield f"{path}:{number}", line.split("\t")
        except UnicodeDecodeError as exc:
            raise SourceError(f"not UTF-8 text: {exc.reason}", str(path)) from exc


def load_qrels(path: str | os.PathLike[str]) -> Qrels:
    """Read a qrels TSV file: ``query_id<TAB>doc_id[<TAB>relevance]`` per line.

    Blank lines are skipped. Raises :class:`SourceError` with ``path:line`` for a missing or
    unreadable file, a line with other than 2 or 3 columns, an empty id, a relevance that is
    not a non-negative integer, or a repeated (query, doc) pair.
    """
    qrels: Qrels = {}
    for where, columns in _tsv_rows(path, "qrels"):
        if len(columns) not in (2, 3):
            raise SourceError(
                f"expected 2 or 3 tab-separated columns "
                f"(query_id, doc_id[, relevance]), found {len(columns)}",
                where,
            )
        query_id, doc_id = columns[0].strip(), columns[1].strip()
        if not query_id or not doc_id:
            raise SourceError("empty query id or doc id", where)
        grade = 1
        if len(columns) == 3:
            raw = columns[2].strip()
            if not raw.isdigit():
                raise SourceError(
                    f"relevance must be a non-negative integer, found {raw!r}", where
                )
            grade = int(raw)
        judged = qrels.setdefault(query_id, {})
        if doc_id in judged:
            raise SourceError(f"duplicate judgement for {query_id} / {doc_id}", where)
        judged[doc_id] = grade
    return qrels


def load_paragraph_qrels(path: str | os.PathLike[str]) -> Qrels:
    """Read paragraph qrels: ``query_id<TAB>release_id<TAB>n`` per line, the relevant
    paragraph being line ``n`` (from 1) of the release's text, i.e. the engine's paragraph
    ``n + 1`` (the title is paragraph 1); keyed by :func:`paragraph_id`, grade 1.

    Blank lines are skipped. Raises :class:`SourceError` with ``path:line`` for a missing or
    unreadable file, a line with other than 3 columns, an empty id, an ``n`` that is not a
    positive integer, or a repeated judgement.
    """
    qrels: Qrels = {}
    for where, columns in _tsv_rows(path, "qrels"):
        if len(columns) != 3:
            raise SourceError(
                f"expected 3 tab-separated columns (query_id, release_id, line n of "
                f"the release's text), found {len(columns)}", where)
        query_id, doc_id, raw = (c.strip() for c in columns)
        if not query_id or not doc_id:
            raise SourceError("empty query id or release id", where)
        if not raw.isdigit() or int(raw) < 1:
            raise SourceError(
                f"the line number must be a positive integer, found {raw!r}", where)
        key = paragraph_id(doc_id, int(raw) + 1)
        judged = qrels.setdefault(query_id, {})
        if key in judged:
            raise SourceError(
                f"duplicate judgement for {query_id} / {doc_id} line {raw}", where)
        judged[key] = 1
    return qrels


# -- metrics ------------------------------------------------------------------------------


def _distinct(ranking: Iterable[str], k: int) -> list[str]:
    """The first ``k`` distinct ids of ``ranking``."""
    out: list[str] = []
    for doc_id in ranking:
        if len(out) == k:
            break
        if doc_id not in out:
            out.append(doc_id)
    return out


def _check_k(k: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise QueryError(f"k must be a positive integer, got {k!r}")


def first_relevant_rank(
    ranking: Sequence[str], relevance: Mapping[str, int], k: int
) -> int | None:
    """1-based rank of the first document with grade > 0 in the top ``k``, or None."""
    _check_k(k)
    for rank, doc_id in enumerate(_distinct(ranking, k), start=1):
        if relevance.get(doc_id, 0) > 0:
            return rank
    return None


def reciprocal_rank(ranking: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    """``1 / rank`` of the first relevant document within the top ``k``, 0.0 if none."""
    rank = first_relevant_rank(ranking, relevance, k)
    return 0.0 if rank is None else 1.0 / rank


def recall(ranking: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents (grade > 0) found in the top ``k``.

    Raises :class:`QueryError` when ``relevance`` holds no relevant document.
    """
    _check_k(k)
    relevant = {doc_id for doc_id, grade in relevance.items() if grade > 0}
    if not relevant:
        raise QueryError("recall is undefined without a relevant document")
    found = sum(1 for doc_id in _distinct(ranking, k) if doc_id in relevant)
    return found / len(relevant)


def dcg(grades: Iterable[int]) -> float:
    """Discounted cumulative gain of grades in rank order: ``sum(g / log2(rank + 1))``."""
    return sum(grade / math.log2(rank + 1) for rank, grade in enumerate(grades, start=1))


def ndcg(ranking: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    """Normalised DCG of the top ``k`` with graded relevance and any number of relevant docs.

    Raises :class:`QueryError` when ``relevance`` holds no relevant document.
    """
    _check_k(k)
    ideal = dcg(sorted((g for g in relevance.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        raise QueryError("nDCG is undefined without a relevant document")
    return dcg(relevance.get(doc_id, 0) for doc_id in _distinct(ranking, k)) / ideal


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation; 0.0 for no values."""
    if not 0 <= p <= 100:
        raise QueryError(f"percentile must be within 0..100, got {p}")
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# -- evaluation ---------------------------------------------------------------------------


@dataclass
class QueryFailure:
    """A query whose relevant document was not ranked first."""

    query_id: str
    text: str
    expected: list[str]  # relevant doc ids, best grade first
    rank: int | None  # rank of the first relevant doc in the top k, None if missing
    returned: list[str]  # the top k doc ids the ranker returned


@dataclass
class EvaluationReport:
    """Aggregate ranking quality over a query set (means over queries)."""

    queries: int
    k: int
    recall_at_1: float
    recall_at_k: float
    mrr_at_k: float
    ndcg_at_k: float
    no_hit: int  # queries for which the ranker returned nothing at all
    missed: int  # queries with no relevant doc in the top k (includes no_hit)
    latency_p50_ms: float
    latency_p95_ms: float
    failures: list[QueryFailure] = field(default_factory=list)  # worst first
    by: str = "release"  # what was ranked and judged: releases or paragraphs (see BY)

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (floats as computed, failures as dicts)."""
        return asdict(self)


def evaluate(
    ix: Ranker,
    queries: Sequence[EvalQuery],
    qrels: Mapping[str, Mapping[str, int]],
    k: int = 10,
    failures: int = 0,
    by: str = "release",
) -> EvaluationReport:
    """Run every query through ``ix.ranked_doc_ids(text, k)`` (``by="paragraph"``:
    ``ix.ranked_paragraph_ids(text, k)``, the qrels keyed by :func:`paragraph_id`) and
    measure the rankings.

    ``failures`` is how many of the worst queries to report: those whose first relevant
    document is missing from the top ``k`` come first (in query order), then those ranked
    lowest; queries ranked first are never failures. Judgements for queries that are not in
    ``queries`` are ignored. Raises :class:`QueryError` for a bad ``k``/``failures`` or an empty
    query set and :class:`SourceError` (with the query's ``path:line``) for a query without a
    relevant document in ``qrels``.
    """
    _check_k(k)
    if not isinstance(failures, int) or isinstance(failures, bool) or failures < 0:
        raise QueryError(f"failures must be a non-negative integer, got {failures!r}")
    if by not in BY:
        raise QueryError(f"by must be one of {', '.join(BY)}, got {by!r}")
    if not queries:
        raise QueryError("no queries to evaluate")
    ranked = ix.ranked_doc_ids if by == "release" else ix.ranked_paragraph_ids
    for query in queries:
        if not any(grade > 0 for grade in qrels.get(query.id, {}).values()):
            raise SourceError(
                f"query {query.id} has no relevant document in the qrels", query.source or query.id
            )

    r1 = rk = rr = nd = 0.0
    no_hit = missed = 0
    latencies: list[float] = []
    worst: list[tuple[int, int, QueryFailure]] = []
    for position, query in enumerate(queries):
        relevance = qrels[query.id]
        start = time.perf_counter()
        ranking = ranked(query.text, k)
        latencies.append((time.perf_counter() - start) * 1000.0)
        ranking = _distinct(ranking, k)
        if not ranking:
            no_hit += 1
        rank = first_relevant_rank(ranking, relevance, k)
        if rank is None:
            missed += 1
        r1 += recall(ranking, relevance, 1)
        rk += recall(ranking, relevance, k)
        rr += 0.0 if rank is None else 1.0 / rank
        nd += ndcg(ranking, relevance, k)
        if rank != 1:
            expected = [
                doc_id
                for doc_id, grade in sorted(relevance.items(), key=lambda item: -item[1])
                if grade > 0
            ]
            failure = QueryFailure(query.id, query.text, expected, rank, ranking)
            worst.append((-(rank if rank is not None else k + 1), position, failure))

    worst.sort(key=lambda item: (item[0], item[1]))
    n = len(queries)
    return EvaluationReport(
        queries=n,
        k=k,
        recall_at_1=r1 / n,
        recall_at_k=rk / n,
        mrr_at_k=rr / n,
        ndcg_at_k=nd / n,
        no_hit=no_hit,
        missed=missed,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        failures=[failure for _, _, failure in worst[:failures]],
        by=by,
    )


def evaluate_files(
    index_dir: str | os.PathLike[str],
    queries_path: str | os.PathLike[str],
    qrels_path: str | os.PathLike[str],
    k: int = 10,
    failures: int = 0,
    by: str = "release",
) -> EvaluationReport:
    """Load the queries and qrels files and :func:`evaluate` the index at ``index_dir``
    (``by="paragraph"``: the qrels are paragraph qrels, see :func:`load_paragraph_qrels`)."""
    from . import open_index  # late import: the engine is not needed to compute metrics

    if by not in BY:
        raise QueryError(f"by must be one of {', '.join(BY)}, got {by!r}")
    queries = load_queries(queries_path)
    qrels = load_qrels(qrels_path) if by == "release" else load_paragraph_qrels(qrels_path)
    ix = open_index(index_dir)
    try:
        return evaluate(ix, queries, qrels, k=k, failures=failures, by=by)
    finally:
        ix.close()


def format_report(report: EvaluationReport) -> str:
    """A readable plain-text table of the report, followed by its failures."""
    k = report.k
    rows = [
        ("queries", f"{report.queries}"),
        (f"MRR@{k}", f"{report.mrr_at_k:.4f}"),
        ("Recall@1", f"{report.recall_at_1:.4f}"),
        (f"Recall@{k}", f"{report.recall_at_k:.4f}"),
        (f"nDCG@{k}", f"{report.ndcg_at_k:.4f}"),
        ("no hit", f"{report.no_hit}"),
        (f"missed (not in top {k})", f"{report.missed}"),
        ("latency p50", f"{report.latency_p50_ms:.1f} ms"),
        ("latency p95", f"{report.latency_p95_ms:.1f} ms"),
    ]
    if report.by != "release":  # the usual case goes without saying
        rows.insert(1, ("judged by", report.by))
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    if report.failures:
        lines.append("")
        count = len(report.failures)
        lines.append(f"worst {count} {'query' if count == 1 else 'queries'}:")
        for failure in report.failures:
            where = "missing" if failure.rank is None else f"rank {failure.rank}"
            lines.append(f"- {failure.query_id} ({where}): {failure.text}")
            lines.append(f"    expected: {', '.join(failure.expected)}")
            lines.append(f"    returned: {', '.join(failure.returned) or '(nothing)'}")
    return "\n".join(lines)
