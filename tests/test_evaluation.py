"""search.evaluation: metric values on hand-made rankings, input errors with file:line, and an
evaluation of a real (tiny) engine index and baseline index built from the CMRC2018 subset."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.naive import NaiveIndex, build_naive_index
from search import build_index
from search.errors import IndexNotFoundError, QueryError, SearchError, SourceError
from search.evaluation import (
    EvalQuery,
    EvaluationReport,
    QueryFailure,
    dcg,
    evaluate,
    evaluate_files,
    first_relevant_rank,
    format_report,
    load_paragraph_qrels,
    load_qrels,
    load_queries,
    ndcg,
    paragraph_id,
    percentile,
    recall,
    reciprocal_rank,
)

SUBSET = Path(__file__).parent / "data" / "cmrc2018_subset"
DRCD = Path(__file__).parent / "data" / "drcd_subset"


# -- pure metrics -------------------------------------------------------------------------


def test_reciprocal_rank_of_first_relevant_document():
    assert reciprocal_rank(["a", "b", "c"], {"c": 1}, 10) == 1 / 3
    assert reciprocal_rank(["c", "b"], {"c": 1}, 10) == 1.0
    assert reciprocal_rank(["a", "b", "c", "d"], {"d": 1, "b": 2}, 10) == 0.5


def test_reciprocal_rank_is_zero_beyond_cutoff_or_when_missing():
    assert reciprocal_rank(["a", "b", "c"], {"c": 1}, 2) == 0.0
    assert reciprocal_rank(["a", "b"], {"z": 1}, 10) == 0.0
    assert reciprocal_rank([], {"z": 1}, 10) == 0.0


def test_repeated_ids_count_once():
    assert reciprocal_rank(["a", "a", "c"], {"c": 1}, 10) == 0.5
    assert reciprocal_rank(["a", "a", "c"], {"c": 1}, 2) == 0.5
    assert first_relevant_rank(["a", "a", "a", "b"], {"b": 1}, 2) == 2


def test_grade_zero_is_not_relevant():
    assert reciprocal_rank(["a", "b"], {"a": 0, "b": 1}, 10) == 0.5
    assert first_relevant_rank(["a"], {"a": 0}, 10) is None


def test_recall_with_several_relevant_documents():
    relevance = {"b": 1, "d": 1, "x": 1}
    assert recall(["a", "b", "c", "d"], relevance, 1) == 0.0
    assert recall(["a", "b", "c", "d"], relevance, 3) == 1 / 3
    assert recall(["a", "b", "c", "d"], relevance, 4) == 2 / 3
    assert recall(["b", "d", "x"], relevance, 10) == 1.0


def test_dcg_uses_linear_gain_and_log2_discount():
    assert dcg([3, 2, 0, 1]) == 3 + 2 / math.log2(3) + 0 + 1 / math.log2(5)
    assert dcg([]) == 0.0


def test_ndcg_single_relevant_document():
    assert ndcg(["a"], {"a": 1}, 10) == 1.0
    assert ndcg(["x", "y", "a"], {"a": 1}, 10) == 0.5  # 1 / log2(4)
    assert ndcg(["x", "y", "a"], {"a": 1}, 2) == 0.0


def test_ndcg_graded_relevance_and_several_relevant_documents():
    relevance = {"a": 1, "b": 0, "c": 3, "d": 2}
    # DCG = 1/log2(2) + 0 + 3/log2(4) = 2.5; ideal order c, d, a = 3 + 2/log2(3) + 1/2
    expected = 2.5 / (3 + 2 / math.log2(3) + 0.5)
    assert ndcg(["a", "b", "c"], relevance, 3) == pytest.approx(expected, rel=1e-12)
    assert round(expected, 6) == 0.525005
    assert ndcg(["c", "d", "a"], relevance, 3) == 1.0
    # the ideal DCG is cut at k too: with k=1 only the best grade counts
    assert ndcg(["d"], relevance, 1) == 2 / 3


def test_metrics_reject_undefined_inputs():
    with pytest.raises(QueryError, match="without a relevant document"):
        ndcg(["a"], {"a": 0}, 10)
    with pytest.raises(QueryError, match="without a relevant document"):
        recall(["a"], {}, 10)
    with pytest.raises(QueryError, match="k must be a positive integer, got 0"):
        reciprocal_rank(["a"], {"a": 1}, 0)


def test_percentile_interpolates_linearly():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([float(v) for v in range(1, 21)], 95) == pytest.approx(19.05, rel=1e-12)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) == 0.0
    assert percentile([1.0, 9.0], 0) == 1.0
    assert percentile([1.0, 9.0], 100) == 9.0


# -- evaluate() on hand-made rankings -----------------------------------------------------


class FixedRanker:
    """A ranker answering each query text with a fixed ranking (hand-made test rankings)."""

    def __init__(self, rankings: dict[str, list[str]]):
        self.rankings = rankings
        self.calls: list[tuple[str, int]] = []

    def ranked_doc_ids(self, query: str, k: int = 10) -> list[str]:
        self.calls.append((query, k))
        return self.rankings[query][:k]


QUERIES = [
    EvalQuery("q1", "first"),
    EvalQuery("q2", "second"),
    EvalQuery("q3", "third"),
    EvalQuery("q4", "fourth"),
]
QRELS = {
    "q1": {"d1": 1},
    "q2": {"d2": 1},
    "q3": {"d3": 1},
    "q4": {"d4": 2, "d5": 1},
    "unused": {"d9": 1},
}
RANKER = {
    "first": ["d1", "x"],
    "second": ["x", "d2"],
    "third": [],
    "fourth": ["x", "y", "z"],
}


def test_evaluate_aggregates_exact_metrics():
    ranker = FixedRanker(RANKER)
    report = evaluate(ranker, QUERIES, QRELS, k=10)
    assert ranker.calls == [("first", 10), ("second", 10), ("third", 10), ("fourth", 10)]
    assert report.queries == 4
    assert report.k == 10
    assert report.mrr_at_k == (1 + 0.5 + 0 + 0) / 4
    assert report.recall_at_1 == 0.25
    assert report.recall_at_k == 0.5
    assert report.ndcg_at_k == pytest.approx((1 + 1 / math.log2(3)) / 4, rel=1e-12)
    assert report.no_hit == 1
    assert report.missed == 2
    assert 0 <= report.latency_p50_ms <= report.latency_p95_ms
    assert report.failures == []


def test_evaluate_cutoff_changes_mrr():
    report = evaluate(FixedRanker(RANKER), QUERIES, QRELS, k=1)
    assert report.mrr_at_k == 0.25
    assert report.missed == 3


def test_evaluate_lists_worst_queries_missing_first():
    report = evaluate(FixedRanker(RANKER), QUERIES, QRELS, k=10, failures=3)
    assert report.failures == [
        QueryFailure("q3", "third", ["d3"], None, []),
        QueryFailure("q4", "fourth", ["d4", "d5"], None, ["x", "y", "z"]),
        QueryFailure("q2", "second", ["d2"], 2, ["x", "d2"]),
    ]
    # never more than the queries not ranked first
    assert len(evaluate(FixedRanker(RANKER), QUERIES, QRELS, failures=50).failures) == 3


def test_report_to_dict_is_json_serialisable():
    report = evaluate(FixedRanker(RANKER), QUERIES, QRELS, k=10, failures=1)
    data = report.to_dict()
    assert list(data) == [
        "queries", "k", "recall_at_1", "recall_at_k", "mrr_at_k", "ndcg_at_k",
        "no_hit", "missed", "latency_p50_ms", "latency_p95_ms", "failures", "by",
    ]
    assert data["failures"] == [
        {"query_id": "q3", "text": "third", "expected": ["d3"], "rank": None, "returned": []}
    ]
    assert json.loads(json.dumps(data)) == data


def test_format_report_table():
    report = EvaluationReport(
        queries=4, k=10, recall_at_1=0.25, recall_at_k=0.5, mrr_at_k=0.375,
        ndcg_at_k=0.4077324383928644, no_hit=1, missed=2,
        latency_p50_ms=1.25, latency_p95_ms=12.5,
        failures=[
            QueryFailure("q3", "third", ["d3"], None, []),
            QueryFailure("q2", "second", ["d2"], 2, ["x", "d2"]),
        ],
    )
    assert format_report(report) == "\n".join([
        "queries                 4",
        "MRR@10                  0.3750",
        "Recall@1                0.2500",
        "Recall@10               0.5000",
        "nDCG@10                 0.4077",
        "no hit                  1",
        "missed (not in top 10)  2",
        "latency p50             1.2 ms",
        "latency p95             12.5 ms",
        "",
        "worst 2 queries:",
        "- q3 (missing): third",
        "    expected: d3",
        "    returned: (nothing)",
        "- q2 (rank 2): second",
        "    expected: d2",
        "    returned: x, d2",
    ])


def test_evaluate_rejects_bad_parameters():
    ranker = FixedRanker(RANKER)
    with pytest.raises(QueryError, match="k must be a positive integer"):
        evaluate(ranker, QUERIES, QRELS, k=0)
    with pytest.raises(QueryError, match="failures must be a non-negative integer"):
        evaluate(ranker, QUERIES, QRELS, failures=-1)
    with pytest.raises(QueryError, match="no queries to evaluate"):
        evaluate(ranker, [], QRELS)
    assert ranker.calls == []


# -- loading and input errors -------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_load_queries_and_qrels(tmp_path):
    queries = write(
        tmp_path / "q.jsonl",
        '{"id": "a", "text": "甲"}\n\n{"id": "b", "text": "乙", "extra": 1}\n',
    )
    qrels = write(tmp_path / "r.tsv", "a\td1\nb\td2\t2\n\nb\td3\t0\n")
    assert load_queries(queries) == [
        EvalQuery("a", "甲", f"{queries}:1"),
        EvalQuery("b", "乙", f"{queries}:3"),
    ]
    assert load_qrels(qrels) == {"a": {"d1": 1}, "b": {"d2": 2, "d3": 0}}


def test_subset_files_load():
    queries = load_queries(SUBSET / "queries.jsonl")
    qrels = load_qrels(SUBSET / "qrels.tsv")
    assert len(queries) == 355
    assert queries[0] == EvalQuery(
        "DEV_0_QUERY_0", "《战国无双3》是由哪两个公司合作开发的？", f"{SUBSET / 'queries.jsonl'}:1"
    )
    assert len(qrels) == 355
    assert qrels["DEV_0_QUERY_0"] == {"DEV_0": 1}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "text": "甲"}\n{"id": "b", "text": \n', ":2: malformed JSON: Expecting value"),
        ('["a", "甲"]\n', ':1: expected a JSON object on each line of the queries file'),
        ('{"id": "a", "text": "甲"}\n\n{"text": "乙"}\n', ':3: "id" must be a non-empty string'),
        ('{"id": "a", "text": "  "}\n', ':1: query a: "text" must be a non-empty string'),
        ('{"id": "a", "text": "甲"}\n{"id": "a", "text": "乙"}\n',
         ":2: duplicate query id a (first on line 1)"),
    ],
)
def test_bad_queries_file_names_file_and_line(tmp_path, content, message):
    path = write(tmp_path / "queries.jsonl", content)
    with pytest.raises(SourceError) as info:
        load_queries(path)
    assert str(info.value).startswith(f"{path}{message}")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a\td1\nb\td2\t1\textra\n",
         ":2: expected 2 or 3 tab-separated columns (query_id, doc_id[, relevance]), found 4"),
        ("a\td1\n\nb d2\n",
         ":3: expected 2 or 3 tab-separated columns (query_id, doc_id[, relevance]), found 1"),
        ("a\td1\tyes\n", ":1: relevance must be a non-negative integer, found 'yes'"),
        ("a\td1\t-1\n", ":1: relevance must be a non-negative integer, found '-1'"),
        ("a\t\t1\n", ":1: empty query id or doc id"),
        ("a\td1\na\td1\t2\n", ":2: duplicate judgement for a / d1"),
    ],
)
def test_bad_qrels_file_names_file_and_line(tmp_path, content, message):
    path = write(tmp_path / "qrels.tsv", content)
    with pytest.raises(SourceError) as info:
        load_qrels(path)
    assert str(info.value) == f"{path}{message}"


def test_missing_files_are_source_errors(tmp_path):
    with pytest.raises(SourceError) as info:
        load_queries(tmp_path / "nope.jsonl")
    assert str(info.value) == f"{tmp_path / 'nope.jsonl'}: cannot open queries file: No such file or directory"
    with pytest.raises(SourceError) as info:
        load_qrels(tmp_path / "nope.tsv")
    assert str(info.value) == f"{tmp_path / 'nope.tsv'}: cannot open qrels file: No such file or directory"


def test_non_utf8_file_is_a_source_error(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_bytes('{"id": "a", "text": "甲"}\n'.encode("gbk"))
    with pytest.raises(SourceError, match="not UTF-8 text"):
        load_queries(path)


def test_query_without_qrels_names_its_line(tmp_path):
    queries = write(tmp_path / "q.jsonl", '{"id": "a", "text": "甲"}\n{"id": "b", "text": "乙"}\n')
    qrels = write(tmp_path / "r.tsv", "a\td1\nb\td2\t0\n")
    with pytest.raises(SourceError) as info:
        evaluate(FixedRanker({"甲": [], "乙": []}), load_queries(queries), load_qrels(qrels))
    assert str(info.value) == f"{queries}:2: query b has no relevant document in the qrels"
    assert isinstance(info.value, SearchError)


# -- a real tiny index --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    """5 subset paragraphs, their 15 questions and 2 extra questions that cannot succeed."""
    root = tmp_path_factory.mktemp("tiny")
    corpus_lines = (SUBSET / "corpus.jsonl").read_text(encoding="utf-8").splitlines(True)[:5]
    query_lines = (SUBSET / "queries.jsonl").read_text(encoding="utf-8").splitlines(True)[:15]
    corpus = write(root / "corpus.jsonl", "".join(corpus_lines))
    extra = [
        json.dumps({"id": "wrong", "text": "光荣"}, ensure_ascii=False) + "\n",  # only in DEV_0
        json.dumps({"id": "nothing", "text": "xyzzy"}) + "\n",  # matches no paragraph
    ]
    queries = write(root / "queries.jsonl", "".join(query_lines + extra))
    qrels = (SUBSET / "qrels.tsv").read_text(encoding="utf-8") + "wrong\tDEV_7\nnothing\tDEV_0\n"
    build_index([corpus], root / "engine", full=True)
    build_naive_index(corpus, root / "naive")
    return {
        "corpus": corpus,
        "queries": queries,
        "qrels": write(root / "qrels.tsv", qrels),
        "engine": root / "engine",
        "naive": root / "naive",
    }


def check_tiny_report(report: EvaluationReport) -> None:
    assert report.queries == 17
    assert report.mrr_at_k == 15 / 17
    assert report.recall_at_1 == 15 / 17
    assert report.recall_at_k == 15 / 17
    assert report.ndcg_at_k == 15 / 17
    assert report.no_hit == 1
    assert report.missed == 2
    assert [(f.query_id, f.rank, f.expected, f.returned) for f in report.failures] == [
        ("wrong", None, ["DEV_7"], ["DEV_0"]),
        ("nothing", None, ["DEV_0"], []),
    ]
    assert 0 < report.latency_p50_ms <= report.latency_p95_ms


def test_evaluate_files_on_engine_index(tiny):
    report = evaluate_files(tiny["engine"], tiny["queries"], tiny["qrels"], k=10, failures=5)
    check_tiny_report(report)


def test_evaluate_on_naive_index(tiny):
    with NaiveIndex(tiny["naive"]) as ix:
        report = evaluate(ix, load_queries(tiny["queries"]), load_qrels(tiny["qrels"]), failures=5)
    check_tiny_report(report)


def test_evaluate_files_errors(tiny, tmp_path):
    with pytest.raises(IndexNotFoundError):
        evaluate_files(tmp_path / "no-index", tiny["queries"], tiny["qrels"])
    with pytest.raises(SourceError) as info:
        evaluate_files(tiny["engine"], tiny["queries"], tmp_path / "missing.tsv")
    assert str(info.value).startswith(f"{tmp_path / 'missing.tsv'}: cannot open qrels file")
    with pytest.raises(QueryError):
        evaluate_files(tiny["engine"], tiny["queries"], tiny["qrels"], k=0)


# -- judged by paragraph ------------------------------------------------------------------


def test_load_paragraph_qrels_numbers_lines_after_the_title(tmp_path):
    qrels = write(tmp_path / "p.tsv", "a\tr1\t1\n\nb\tr#2\t3\nb\tr1\t2\n")
    assert load_paragraph_qrels(qrels) == {"a": {"r1#2": 1}, "b": {"r#2#4": 1, "r1#3": 1}}
    assert paragraph_id("r#2", 4) == "r#2#4"


@pytest.mark.parametrize("text, message", [
    ("a\tr1\n", ":1: expected 3 tab-separated columns (query_id, release_id, line n of the "
                 "release's text), found 2"),
    ("a\tr1\t0\n", ":1: the line number must be a positive integer, found '0'"),
    ("a\tr1\tx\n", ":1: the line number must be a positive integer, found 'x'"),
    ("a\t\t1\n", ":1: empty query id or release id"),
    ("a\tr1\t1\na\tr1\t1\n", ":2: duplicate judgement for a / r1 line 1"),
])
def test_load_paragraph_qrels_errors(tmp_path, text, message):
    path = write(tmp_path / "p.tsv", text)
    with pytest.raises(SourceError) as info:
        load_paragraph_qrels(path)
    assert str(info.value) == f"{path}{message}"


class ParagraphRanker(FixedRanker):
    def ranked_doc_ids(self, query, k=10):
        raise AssertionError("judged by paragraph: paragraphs are ranked")

    def ranked_paragraph_ids(self, query, k=10):
        return FixedRanker.ranked_doc_ids(self, query, k)


def test_evaluate_by_paragraph_ranks_paragraphs():
    qrels = {"q1": {"r#3": 1}, "q2": {"r#2": 1}}
    queries = [EvalQuery("q1", "first"), EvalQuery("q2", "second")]
    ranker = ParagraphRanker({"first": ["r#2", "r#3"], "second": ["r#2"]})
    report = evaluate(ranker, queries, qrels, by="paragraph")
    assert (report.by, report.mrr_at_k, report.recall_at_1) == ("paragraph", 0.75, 0.5)
    assert format_report(report).splitlines()[:3] == [
        "queries                 2", "judged by               paragraph", "MRR@10                  0.7500"]
    with pytest.raises(QueryError, match="by must be one of release, paragraph"):
        evaluate(ranker, queries, qrels, by="sentence")


@pytest.fixture(scope="module")
def drcd(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("drcd")
    build_index([DRCD / "releases.jsonl"], root / "engine", full=True)
    build_naive_index(DRCD / "releases.jsonl", root / "naive", by_paragraph=True)
    return {"engine": root / "engine", "naive": root / "naive"}


def test_paragraph_qrels_name_the_engines_paragraphs(drcd):
    """Line n of a release's text is the engine's paragraph n + 1 (the title is paragraph 1),
    checked by slicing the source releases."""
    from search import open_index
    from search.repair import repair_text

    releases = {r["id"]: r for r in map(json.loads, (DRCD / "releases.jsonl").read_text(
        encoding="utf-8").splitlines())}
    qrels = load_paragraph_qrels(DRCD / "qrels_paragraphs.tsv")
    lines = [line.split("\t") for line in (DRCD / "qrels_paragraphs.tsv").read_text(
        encoding="utf-8").splitlines()]
    assert len(qrels) == len(lines) == 59
    with open_index(drcd["engine"]) as ix:
        # The engine shows the repaired text (title and text repaired together: script,
        # spaces, punctuation), line for line.
        repaired = {rid: repair_text(r["title"] + "\n" + r["text"]).text.split("\n")
                    for rid, r in releases.items()}
        unchanged = 0
        for rid, release in releases.items():
            doc = ix.document(rid)
            text_lines = release["text"].split("\n")
            assert [p.number for p in doc.paragraphs] == list(range(1, len(text_lines) + 2))
            assert [p.text for p in doc.paragraphs] == repaired[rid]
        for qid, rid, n in lines:
            (key,) = qrels[qid]
            release_id, number = key.rsplit("#", 1)
            assert (release_id, int(number)) == (rid, int(n) + 1)
            paragraph = ix.document(rid).paragraphs[int(number) - 1]
            line = releases[rid]["text"].split("\n")[int(n) - 1]
            assert paragraph.text == repaired[rid][int(n)]
            unchanged += paragraph.text == line
        assert unchanged == 56  # the other 3 lines had a space or a mark repaired


def test_engine_and_naive_by_paragraph_on_drcd(drcd):
    from search import open_index

    queries = load_queries(DRCD / "queries.jsonl")
    qrels = load_paragraph_qrels(DRCD / "qrels_paragraphs.tsv")
    with open_index(drcd["engine"]) as ix:
        top = ix.ranked_paragraph_ids(queries[0].text, 3)
        assert len(top) == 3 and all(t.rsplit("#", 1)[1].isdigit() for t in top)
        engine = evaluate(ix, queries, qrels, by="paragraph")
    with NaiveIndex(drcd["naive"]) as ix:
        naive = evaluate(ix, queries, qrels, by="paragraph")
    assert engine.queries == naive.queries == 59
    assert engine.by == naive.by == "paragraph"
    assert engine.mrr_at_k > 0.9 and naive.mrr_at_k > 0.5
    report = evaluate_files(drcd["engine"], DRCD / "queries.jsonl",
                            DRCD / "qrels_paragraphs.tsv", by="paragraph")
    assert report.mrr_at_k == engine.mrr_at_k


def test_cli_evaluate_by_paragraph(drcd):
    from click.testing import CliRunner

    from search.cli import main

    args = ["evaluate", "--index-dir", str(drcd["engine"]), "--queries",
            str(DRCD / "queries_simplified.jsonl"), "--qrels", str(DRCD / "qrels_paragraphs.tsv")]
    result = CliRunner().invoke(main, args + ["--paragraphs", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["queries"], data["by"]) == (59, "paragraph")
    expected = evaluate_files(drcd["engine"], DRCD / "queries_simplified.jsonl",
                              DRCD / "qrels_paragraphs.tsv", by="paragraph")
    assert data["mrr_at_k"] == expected.mrr_at_k
    # Without --paragraphs the third column is a relevance grade and the ids are releases'.
    result = CliRunner().invoke(main, args + ["--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["by"] == "release"
