"""Relevance benchmark: the engine against the naive Whoosh+jieba baseline on CMRC2018.

Builds both indexes in temporary directories for the clean and the annotated corpus and prints,
for the three pairings (clean corpus / simplified queries, annotated corpus / simplified
queries, clean corpus / traditional queries), MRR@k, Recall@1, nDCG@k and latency p50/p95 of
each, the target and the spread between the engine's three MRR figures::

    python -m benchmarks.relevance [--data DIR] [--k 10] [--engine-only | --naive-only]

``--data`` is a folder holding ``corpus.jsonl``, ``corpus_annotated.jsonl``, ``queries.jsonl``,
``queries_traditional.jsonl`` and ``qrels.tsv``, or a folder with a ``cmrc2018/`` subfolder
holding them; by default ``../shared/data`` relative to the repository root.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.naive import NaiveIndex, build_naive_index  # noqa: E402
from search.errors import SourceError  # noqa: E402
from search.evaluation import EvaluationReport, evaluate, load_qrels, load_queries  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
DATA_FILES = (
    "corpus.jsonl",
    "corpus_annotated.jsonl",
    "queries.jsonl",
    "queries_traditional.jsonl",
    "qrels.tsv",
)

#: The target MRR@10 of the engine for every pairing.
TARGET_MRR = 0.985

ENGINES = ("naive", "engine")


@dataclass(frozen=True)
class Pairing:
    """A corpus file evaluated with a queries file."""

    name: str
    corpus: str
    queries: str


PAIRINGS = (
    Pairing("clean / simplified", "corpus.jsonl", "queries.jsonl"),
    Pairing("annotated / simplified", "corpus_annotated.jsonl", "queries.jsonl"),
    Pairing("clean / traditional", "corpus.jsonl", "queries_traditional.jsonl"),
)


@dataclass
class PairingResult:
    """The reports of one pairing; None for an engine that was not run."""

    pairing: Pairing
    naive: EvaluationReport | None
    engine: EvaluationReport | None


def resolve_data_dir(data: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the data files: ``data`` itself or its ``cmrc2018/`` subfolder.

    Raises :class:`SourceError` naming the missing files when neither has all of them.
    """
    base = Path(data) if data is not None else DEFAULT_DATA
    for candidate in (base, base / "cmrc2018"):
        if all((candidate / name).is_file() for name in DATA_FILES):
            return candidate
    missing = [name for name in DATA_FILES if not (base / name).is_file()]
    raise SourceError(
        f"no CMRC2018 retrieval data here or in its cmrc2018/ subfolder "
        f"(missing {', '.join(missing)}); pass --data DIR",
        str(base),
    )


def _engine_ranker(corpus: Path, index_dir: Path):
    from search import build_index, open_index

    build_index([corpus], index_dir, full=True)
    return open_index(index_dir)


def _naive_ranker(corpus: Path, index_dir: Path) -> NaiveIndex:
    build_naive_index(corpus, index_dir)
    return NaiveIndex(index_dir)


def measure(
    data_dir: str | os.PathLike[str],
    k: int = 10,
    engines: Sequence[str] = ENGINES,
    work_dir: str | os.PathLike[str] | None = None,
    pairings: Sequence[Pairing] = PAIRINGS,
) -> list[PairingResult]:
    """Build the indexes each pairing needs (once per corpus and engine) and evaluate them.

    ``work_dir`` receives the indexes (a temporary folder, removed afterwards, when None).
    """
    data = Path(data_dir)
    qrels = load_qrels(data / "qrels.tsv")
    queries = {name: load_queries(data / name) for name in {p.queries for p in pairings}}
    reports: dict[tuple[str, str], EvaluationReport] = {}
    with tempfile.TemporaryDirectory(prefix="relevance-") as scratch:
        root = Path(work_dir) if work_dir is not None else Path(scratch)
        for engine in engines:
            factory = {"naive": _naive_ranker, "engine": _engine_ranker}[engine]
            for corpus in dict.fromkeys(p.corpus for p in pairings):
                index_dir = root / f"{engine}-{Path(corpus).stem}"
                ranker = factory(data / corpus, index_dir)
                try:
                    for pairing in pairings:
                        if pairing.corpus == corpus:
                            reports[(engine, pairing.name)] = evaluate(
                                ranker, queries[pairing.queries], qrels, k=k
                            )
                finally:
                    ranker.close()
    return [
        PairingResult(p, reports.get(("naive", p.name)), reports.get(("engine", p.name)))
        for p in pairings
    ]


def _mrr(report: EvaluationReport | None) -> str:
    return "–" if report is None else f"{report.mrr_at_k:.3f}"


def _r1(report: EvaluationReport | None) -> str:
    return "–" if report is None else f"{report.recall_at_1:.3f}"


def _ndcg(report: EvaluationReport | None) -> str:
    return "–" if report is None else f"{report.ndcg_at_k:.3f}"


def _latency(report: EvaluationReport | None) -> str:
    if report is None:
        return "–"
    return f"{report.latency_p50_ms:.1f} / {report.latency_p95_ms:.1f}"


def format_table(results: Sequence[PairingResult], k: int = 10) -> str:
    """The Markdown table of the results, then the spread of the engine's MRR figures."""
    header = (
        f"| corpus / queries | naive MRR@{k} | engine MRR@{k} | target "
        f"| naive R@1 | engine R@1 | naive nDCG@{k} | engine nDCG@{k} "
        f"| naive p50 / p95 ms | engine p50 / p95 ms |"
    )
    lines = [header, "|" + " --- |" * header.count(" | ") + " --- |"]
    for result in results:
        n, e = result.naive, result.engine
        lines.append(
            f"| {result.pairing.name} | {_mrr(n)} | {_mrr(e)} | {TARGET_MRR:.3f} "
            f"| {_r1(n)} | {_r1(e)} | {_ndcg(n)} | {_ndcg(e)} | {_latency(n)} | {_latency(e)} |"
        )
    queries = next((r.engine or r.naive for r in results if r.engine or r.naive), None)
    if queries is not None:
        lines.append("")
        lines.append(f"queries per pairing: {queries.queries}")
    engine_mrr = [r.engine.mrr_at_k for r in results if r.engine is not None]
    if engine_mrr:
        lines.append(
            f"engine MRR@{k} spread (max - min over the pairings): "
            f"{max(engine_mrr) - min(engine_mrr):.3f}"
        )
        below = [r.pairing.name for r in results if r.engine and r.engine.mrr_at_k < TARGET_MRR]
        lines.append(
            f"below target {TARGET_MRR:.3f}: {', '.join(below)}" if below else "all pairings meet the target"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.relevance",
        description="MRR@k of the engine and the naive baseline on CMRC2018 (clean, annotated, traditional).",
    )
    parser.add_argument("--data", help=f"data folder (default {DEFAULT_DATA})")
    parser.add_argument("--k", type=int, default=10, help="rank cut-off (default 10)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--engine-only", action="store_true", help="skip the naive baseline")
    only.add_argument("--naive-only", action="store_true", help="skip the engine")
    args = parser.parse_args(argv)
    if args.k < 1:
        parser.error("--k must be at least 1")
    engines = ("engine",) if args.engine_only else ("naive",) if args.naive_only else ENGINES
    try:
        data_dir = resolve_data_dir(args.data)
        results = measure(data_dir, k=args.k, engines=engines)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"data: {data_dir}")
    print(format_table(results, k=args.k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
