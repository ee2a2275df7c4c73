"""An index grown by incremental reindexes ranks exactly like one built in a single full reindex.

Incremental updates delete documents (they linger in the segments until a merge), append new
ones at the end and merge segments now and then; the ranking must not see any of that: the same
statistics (live documents only), the same scores, the same hits.
"""

from __future__ import annotations

import random
import shutil
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import pytest

from search import Index, build_index, open_index

from conftest import ENGINE_DATA, FILLER_WORDS, SEEDS, write_release

QUERIES = [
    "统筹", "核酸检测", "外贸 物流", "外贸企业", '"疫情防控"', "交通 OR 教育", "企业 -外贸",
    "section:body 交通", "section:answer 企业", "speaker:田汝勇 核酸", "冷链物流", "王琳",
    "新闻发布会", "第3号", '"科技创新" 服务', "医疗 卫生 群众", "疫情防控工作", "RCEP",
]


def filler(rnd: random.Random, words: int) -> str:
    return "".join(rnd.choice(FILLER_WORDS) for _ in range(words)) + "。"


def write_filler(src: Path, doc_id: str, number: int, seed: int) -> None:
    """A release of three filler paragraphs of different lengths (so the lengths matter)."""
    rnd = random.Random(seed)
    write_release(src, doc_id, f"第{number}号新闻发布会", *(filler(rnd, n) for n in (8, 20, 35)))


def answers(ix: Index) -> dict[str, list[tuple[str, int, float]]]:
    """Every hit of every query as ``(doc_id, paragraph, score)`` in ranking order, hits of the
    same score next to each other by (doc_id, paragraph): ties are ranked by document number,
    which differs between the indexes."""
    out = {}
    for q in QUERIES:
        result = ix.search(q, per_page=100)
        assert result.total == len(result.hits) < 100, q
        hits = [(h.doc_id, h.paragraph, h.score) for h in result.hits]
        out[q] = [hit for _score, tied in groupby(hits, key=itemgetter(2)) for hit in sorted(tied)]
    return out


def reindex(src: Path, ix_dir: Path, **expected: int) -> None:
    report = build_index([src], ix_dir)
    assert not report.full
    assert {k: getattr(report, k) for k in expected} == expected


@pytest.fixture(scope="module")
def grown_and_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Index, Index]:
    root = tmp_path_factory.mktemp("grown")
    src, grown, built = root / "src", root / "grown", root / "built"
    for i in range(10):
        write_filler(src, f"gen{i:02d}", i, seed=i)
    assert build_index([src], grown).full

    # Add: the sample release (questions, answers, speakers) and one with credits.
    shutil.copy(SEEDS / "dezhou-press-conference-13.txt", src)
    shutil.copy(ENGINE_DATA / "ranking" / "cold-chain-briefing.txt", src)
    write_filler(src, "gen10", 10, seed=10)
    reindex(src, grown, added=3, updated=0, removed=0, unchanged=10)

    # Update three, remove two.
    for i in (1, 4, 7):
        write_filler(src, f"gen{i:02d}", i, seed=100 + i)
    for i in (2, 5):
        (src / f"gen{i:02d}.txt").unlink()
    reindex(src, grown, added=0, updated=3, removed=2, unchanged=8)

    # Update what was added and updated before, remove one added before, add two.
    write_filler(src, "gen10", 10, seed=210)
    write_filler(src, "gen04", 4, seed=204)
    (src / "cold-chain-briefing.txt").unlink()
    write_filler(src, "gen11", 11, seed=11)
    write_filler(src, "gen12", 12, seed=12)
    reindex(src, grown, added=2, updated=2, removed=1, unchanged=8)

    # Put the credits release back and update the sample (one paragraph fewer).
    shutil.copy(ENGINE_DATA / "ranking" / "cold-chain-briefing.txt", src)
    lines = (SEEDS / "dezhou-press-conference-13.txt").read_text(encoding="utf-8").splitlines()
    (src / "dezhou-press-conference-13.txt").write_text("\n".join(lines[:-1]) + "\n",
                                                        encoding="utf-8")
    reindex(src, grown, added=1, updated=1, removed=0, unchanged=11)

    assert build_index([src], built).full
    with open_index(grown) as g, open_index(built) as b:
        yield g, b


def test_grown_index_ranks_like_a_full_rebuild(grown_and_built) -> None:
    grown, built = grown_and_built
    expected = answers(built)
    assert all(expected.values())  # every query finds something
    assert answers(grown) == expected


def test_grown_index_counts_and_ids_like_a_full_rebuild(grown_and_built) -> None:
    grown, built = grown_and_built
    a, b = grown.stats(), built.stats()
    assert (a.releases, a.paragraphs, a.sections) == (b.releases, b.paragraphs, b.sections)
    assert a.releases == 13
    assert grown.manifest().keys() == built.manifest().keys()
    for q in QUERIES:  # all the releases found (the order of ties differs)
        assert sorted(grown.ranked_doc_ids(q, 50)) == sorted(built.ranked_doc_ids(q, 50)), q
