"""Ranking quality floors on the CMRC2018 subset (tests/data/cmrc2018_subset, CC BY-SA 4.0).

The engine and the naive Whoosh+jieba baseline (benchmarks/naive.py) are built once for this
module, on the clean and on the annotated (traditional script + pinyin) corpus, and evaluated
with simplified and traditional questions: the same pairings as ``python -m benchmarks.relevance``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.relevance import (
    DRCD_PAIRINGS,
    PAIRINGS,
    PairingResult,
    format_table,
    measure,
    resolve_data_dir,
    resolve_drcd_dir,
)
from search.errors import SourceError

SUBSET = Path(__file__).parent / "data" / "cmrc2018_subset"
DRCD = Path(__file__).parent / "data" / "drcd_subset"

# MRR@10 of the engine on the subset (355 questions, 122 paragraphs) when these floors were set:
#   clean / simplified 0.9939, annotated / simplified 0.9939, clean / traditional 0.9939
# The floors are the measured values minus 0.01.
ENGINE_FLOOR = {
    "clean / simplified": 0.984,
    "annotated / simplified": 0.984,
    "clean / traditional": 0.984,
}

# The baseline is deterministic (Whoosh 2.7.5, jieba 0.42.1): its MRR@10 on the subset.
NAIVE_MRR = {
    "clean / simplified": 0.9930,
    "annotated / simplified": 0.7854,
    "clean / traditional": 0.7663,
}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, PairingResult]:
    work = tmp_path_factory.mktemp("relevance")
    return {r.pairing.name: r for r in measure(SUBSET, k=10, work_dir=work)}


def test_all_pairings_measured(results):
    assert list(results) == [p.name for p in PAIRINGS]
    for result in results.values():
        assert result.engine is not None and result.naive is not None
        assert result.engine.queries == result.naive.queries == 355
        assert result.engine.no_hit == 0


@pytest.mark.parametrize("pairing", list(ENGINE_FLOOR))
def test_engine_mrr_floor(results, pairing):
    report = results[pairing].engine
    assert report.mrr_at_k >= ENGINE_FLOOR[pairing], report.mrr_at_k


@pytest.mark.parametrize("pairing", list(NAIVE_MRR))
def test_naive_baseline_mrr(results, pairing):
    assert round(results[pairing].naive.mrr_at_k, 4) == NAIVE_MRR[pairing]


@pytest.mark.parametrize("pairing", ["annotated / simplified", "clean / traditional"])
def test_engine_beats_naive_on_script_and_pinyin_noise(results, pairing):
    assert results[pairing].engine.mrr_at_k > results[pairing].naive.mrr_at_k
    assert results[pairing].engine.recall_at_1 > results[pairing].naive.recall_at_1


def test_table_lists_every_pairing(results):
    table = format_table(list(results.values()), k=10).splitlines()
    assert table[0].startswith("| corpus / queries | naive MRR@10 | engine MRR@10 | target |")
    assert [line.split(" | ")[0] for line in table[2:5]] == [
        "| clean / simplified", "| annotated / simplified", "| clean / traditional"
    ]
    assert table[2].split(" | ")[1] == f"{results['clean / simplified'].naive.mrr_at_k:.3f}"
    assert table[6] == "queries per pairing: 355"
    assert table[7].startswith("engine MRR@10 spread (max - min over the pairings): ")


def test_data_dir_resolution(tmp_path):
    assert resolve_data_dir(SUBSET) == SUBSET
    (tmp_path / "cmrc2018").symlink_to(SUBSET)
    assert resolve_data_dir(tmp_path) == tmp_path / "cmrc2018"
    with pytest.raises(SourceError) as info:
        resolve_data_dir(tmp_path / "absent")
    assert str(info.value).startswith(f"{tmp_path / 'absent'}: no CMRC2018 retrieval data")


# -- DRCD releases, judged by paragraph (tests/data/drcd_subset, CC BY-SA 3.0) ----------------

# Paragraph MRR@10 on the subset (59 questions, 32 releases of 59 paragraphs) when set: engine
# 0.9831 with both scripts; the naive baseline (one document per paragraph) is deterministic.
DRCD_ENGINE_FLOOR = 0.973
DRCD_NAIVE_MRR = {"DRCD releases / traditional": 0.9525, "DRCD releases / simplified": 0.8217}


@pytest.fixture(scope="module")
def drcd_results(tmp_path_factory) -> dict[str, PairingResult]:
    work = tmp_path_factory.mktemp("drcd")
    return {r.pairing.name: r for r in measure(DRCD, k=10, work_dir=work, pairings=DRCD_PAIRINGS)}


def test_drcd_pairings_by_paragraph(drcd_results):
    assert list(drcd_results) == [p.name for p in DRCD_PAIRINGS]
    for name, result in drcd_results.items():
        assert result.engine.by == result.naive.by == "paragraph"
        assert result.engine.queries == result.naive.queries == 59
        assert result.engine.mrr_at_k >= DRCD_ENGINE_FLOOR
        assert round(result.naive.mrr_at_k, 4) == DRCD_NAIVE_MRR[name]
    # the engine is script-blind: both scripts rank alike
    assert len({r.engine.mrr_at_k for r in drcd_results.values()}) == 1


def test_table_with_both_data_sets(results, drcd_results):
    table = format_table(list(results.values()) + list(drcd_results.values())).splitlines()
    assert [line.split(" | ")[0] for line in table[2:7]] == [
        "| clean / simplified", "| annotated / simplified", "| clean / traditional",
        "| DRCD releases / traditional", "| DRCD releases / simplified"]
    assert table[3].split(" | ")[3] == "0.990" and table[5].split(" | ")[3] == "0.975"
    assert table[8] == "queries per pairing: 355 (CMRC2018), 59 (DRCD)"
    assert table[9].startswith("engine MRR@10 spread (max - min over the pairings): CMRC2018 ")


def test_drcd_dir_resolution(tmp_path):
    assert resolve_drcd_dir(DRCD) == DRCD
    (tmp_path / "drcd").symlink_to(DRCD)
    assert resolve_drcd_dir(tmp_path) == tmp_path / "drcd"
    (tmp_path / "cmrc2018").symlink_to(SUBSET)
    assert resolve_drcd_dir(tmp_path / "cmrc2018") == tmp_path / "drcd"
    assert resolve_drcd_dir(SUBSET) is None
