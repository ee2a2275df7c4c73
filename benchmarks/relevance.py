"""Relevance benchmark: the engine against the naive Whoosh+jieba baseline on CMRC2018 and DRCD.

Builds both indexes in temporary directories and prints, for the three CMRC2018 pairings (clean
corpus / simplified queries, annotated corpus / simplified queries, clean corpus / traditional
queries, judged by release: one paragraph each) and the two DRCD pairings (multi-paragraph
releases with the traditional and with the simplified questions, judged by paragraph),
MRR@k, Recall@1, nDCG@k and latency p50/p95 of each, the target and the spread between the
engine's MRR figures of each data set::

    python -m benchmarks.relevance [--data DIR] [--k 10] [--engine-only | --naive-only]

``--data`` is a folder holding ``corpus.jsonl``, ``corpus_annotated.jsonl``, ``queries.jsonl``,
``queries_traditional.jsonl`` and ``qrels.tsv``, or a folder with a ``cmrc2018/`` subfolder
holding them; by default ``../shared/data`` relative to the repository root. The DRCD files
(``releases.jsonl``, ``queries.jsonl``, ``queries_simplified.jsonl``, ``qrels_paragraphs.tsv``)
are read from its ``drcd/`` subfolder or, given the CMRC2018 folder itself, a ``drcd/``
folder beside it; without them only CMRC2018 is measured.

The naive baseline indexes each paragraph of a DRCD release as a document of its own (with the
release title), the engine whole releases.
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
from search.evaluation import (  # noqa: E402
    EvaluationReport,
    evaluate,
    load_paragraph_qrels,
    load_qrels,
    load_queries,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
DATA_FILES = (
    "corpus.jsonl",
    "corpus_annotated.jsonl",
    "queries.jsonl",
    "queries_traditional.jsonl",
    "qrels.tsv",
)

DRCD_FILES = ("releases.jsonl", "queries.jsonl", "queries_simplified.jsonl",
              "qrels_paragraphs.tsv")

#: The target MRR@10 of the engine on the CMRC2018 pairings (issue 15).
TARGET_MRR = 0.990
#: The target paragraph MRR@10 of the engine on the DRCD releases (issue 15).
TARGET_DRCD_MRR = 0.975

ENGINES = ("naive", "engine")


@dataclass(frozen=True)
class Pairing:
    """A corpus file evaluated with a queries file."""

    name: str
    corpus: str
    queries: str
    qrels: str = "qrels.tsv"
    by: str = "release"  # what is ranked and judged (search.evaluation.BY)
    target: float = TARGET_MRR
    dataset: str = "CMRC2018"


PAIRINGS = (
    Pairing("clean / simplified", "corpus.jsonl", "queries.jsonl"),
    Pairing("annotated / simplified", "corpus_annotated.jsonl", "queries.jsonl"),
    Pairing("clean / traditional", "corpus.jsonl", "queries_traditional.jsonl"),
)

DRCD_PAIRINGS = (
    Pairing("DRCD releases / traditional", "releases.jsonl", "queries.jsonl",
            "qrels_paragraphs.tsv", "paragraph", TARGET_DRCD_MRR, "DRCD"),
    Pairing("DRCD releases / simplified", "releases.jsonl", "queries_simplified.jsonl",
            "qrels_paragraphs.tsv", "paragraph", TARGET_DRCD_MRR, "DRCD"),
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


def resolve_drcd_dir(data: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder holding the DRCD files: ``data/drcd``, ``data`` itself, or (``data`` being
    the CMRC2018 folder) a ``drcd`` folder beside it; None when none has all of them."""
    base = Path(data) if data is not None else DEFAULT_DATA
    for candidate in (base / "drcd", base, base.parent / "drcd"):
        if all((candidate / name).is_file() for name in DRCD_FILES):
            return candidate
    return None


def _engine_ranker(corpus: Path, index_dir: Path, by_paragraph: bool = False):
    from search import build_index, open_index

    build_index([corpus], index_dir, full=True)
    return open_index(index_dir)


def _naive_ranker(corpus: Path, index_dir: Path, by_paragraph: bool = False) -> NaiveIndex:
    build_naive_index(corpus, index_dir, by_paragraph=by_paragraph)
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
    qrels = {(p.qrels, p.by): (load_qrels if p.by == "release" else load_paragraph_qrels)(
        data / p.qrels) for p in pairings}
    queries = {name: load_queries(data / name) for name in {p.queries for p in pairings}}
    reports: dict[tuple[str, str], EvaluationReport] = {}
    with tempfile.TemporaryDirectory(prefix="relevance-") as scratch:
        root = Path(work_dir) if work_dir is not None else Path(scratch)
        for engine in engines:
            factory = {"naive": _naive_ranker, "engine": _engine_ranker}[engine]
            for corpus, by in dict.fromkeys((p.corpus, p.by) for p in pairings):
                index_dir = root / f"{engine}-{Path(corpus).stem}-{by}"
                ranker = factory(data / corpus, index_dir, by_paragraph=by == "paragraph")
                try:
                    for pairing in pairings:
                        if (pairing.corpus, pairing.by) == (corpus, by):
                            reports[(engine, pairing.name)] = evaluate(
                                ranker, queries[pairing.queries],
                                qrels[(pairing.qrels, pairing.by)], k=k, by=by
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
            f"| {result.pairing.name} | {_mrr(n)} | {_mrr(e)} | {result.pairing.target:.3f} "
            f"| {_r1(n)} | {_r1(e)} | {_ndcg(n)} | {_ndcg(e)} | {_latency(n)} | {_latency(e)} |"
        )
    counts: dict[str, int] = {}
    for r in results:
        report = r.engine or r.naive
        if report is not None:
            counts.setdefault(r.pairing.dataset, report.queries)
    if counts:
        lines.append("")
        if len(set(counts.values())) == 1:
            lines.append(f"queries per pairing: {next(iter(counts.values()))}")
        else:
            lines.append("queries per pairing: " + ", ".join(
                f"{n} ({name})" for name, n in counts.items()))
    spreads: dict[str, list[float]] = {}
    for r in results:
        if r.engine is not None:
            spreads.setdefault(r.pairing.dataset, []).append(r.engine.mrr_at_k)
    if spreads:
        text = ", ".join(f"{max(v) - min(v):.3f}" if len(spreads) == 1
                         else f"{name} {max(v) - min(v):.3f}" for name, v in spreads.items())
        lines.append(f"engine MRR@{k} spread (max - min over the pairings): {text}")
        below = [r.pairing.name for r in results
                 if r.engine and r.engine.mrr_at_k < r.pairing.target]
        lines.append(
            f"below target: {', '.join(below)}" if below else "all pairings meet the target"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.relevance",
        description="MRR@k of the engine and the naive baseline on CMRC2018 (clean, annotated, "
                    "traditional) and on the DRCD releases by paragraph (traditional, simplified).",
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
        drcd_dir = resolve_drcd_dir(args.data)
        results = measure(data_dir, k=args.k, engines=engines)
        if drcd_dir is not None:
            results += measure(drcd_dir, k=args.k, engines=engines, pairings=DRCD_PAIRINGS)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"data: {data_dir}" + (f", {drcd_dir}" if drcd_dir is not None else
                                 " (no DRCD data found: CMRC2018 only)"))
    print(format_table(results, k=args.k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
