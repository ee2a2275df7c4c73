"""search.foldedtext: each paragraph's folded text, kept by the index so that a query does not
fold it again.

What an index keeps for a paragraph must be exactly ``fold(text[:EXAMINED_CHARS])`` (what
matching read when it folded at query time), however the index was written: the bulk writer in
one process or in workers, or Whoosh's writer in an incremental update; an index written before
the column existed asks for one full rebuild.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import whoosh.index
from whoosh.writing import CLEAR

from search import IndexCorruptError, build_index, open_index, storage
from search.documents import read_releases
from search.foldedtext import EXAMINED_CHARS, column_value, examined_fold, pack, unpack
from search.generation import Generation
from search.indexer import FORMAT
from search.schema import paragraph_docs
from search.script import fold, fold_many

from conftest import write_release

TRADITIONAL = "國務院新聞辦公室舉行發佈會，介紹「十四五」規劃綱要的編製情況。"
FULL_WIDTH = "ＡＢＣ公司２０２２年營收增長１２％，ＣＥＯ表示：「明年繼續投資。」"
MIXED = "市工信局與德州市工業和信息化局联合发布《ＧＤＰ报告》，Ｇｒｅｅｋ ΟΔΟΣ 一词。"
LONG = "德州市召開新聞發佈會，" * 2100  # 23,100 characters: longer than EXAMINED_CHARS


def write_sources(src: Path) -> None:
    write_release(src, "trad", "新聞發佈會", TRADITIONAL, FULL_WIDTH)
    write_release(src, "mixed", "ＧＤＰ報告", MIXED)
    write_release(src, "long", "長段落", LONG)


def kept(index_dir: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """(doc_id, paragraph) -> (stored text, folded text the index keeps for it)."""
    gen = Generation(storage.current_generation(index_dir))
    try:
        docs = list(range(gen.postings.n))
        fields = [gen.stored(d) for d in docs]
        folded = gen.folded(docs, [f["text"] for f in fields])
        return {(f["doc_id"], f["paragraph"]): (f["text"], g) for f, g in zip(fields, folded)}
    finally:
        gen.close()


@pytest.mark.parametrize("procs", [1, 2])
def test_the_index_keeps_fold_of_each_paragraph(tmp_path: Path, procs: int) -> None:
    src = tmp_path / "src"
    write_sources(src)
    build_index([src], tmp_path / "index", full=True, procs=procs)
    found = kept(tmp_path / "index")
    assert found[("trad", 2)] == (
        TRADITIONAL, "国务院新闻办公室举行发布会,介绍「十四五」规划纲要的编制情况。")
    assert found[("trad", 3)] == (
        FULL_WIDTH, "abc公司2022年营收增长12%,ceo表示:「明年继续投资。」")
    assert found[("mixed", 2)] == (
        MIXED, "市工信局与德州市工业和信息化局联合发布《gdp报告》,greek οδος 一词。")
    text, folded = found[("long", 2)]
    assert (len(text), len(folded)) == (23_100, EXAMINED_CHARS)
    assert folded == fold(LONG[:EXAMINED_CHARS]) == ("德州市召开新闻发布会," * 1819)[:EXAMINED_CHARS]
    assert all(g == fold(t[:EXAMINED_CHARS]) for t, g in found.values())
    assert len(found) == 7


def test_an_incremental_update_keeps_them_too(tmp_path: Path) -> None:
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    write_release(src, "first", "第一場發佈會", "先說明情況。")
    build_index([src], ix_dir, full=True)
    write_sources(src)
    report = build_index([src], ix_dir)
    assert (report.full, report.added) == (False, 3)
    found = kept(ix_dir)
    assert len(found) == 9
    assert all(g == fold(t[:EXAMINED_CHARS]) for t, g in found.values())
    assert found[("first", 2)] == ("先說明情況。", "先说明情况。")
    with open_index(ix_dir, reload_interval=0) as ix:
        hit, = ix.search('"工业和信息化局"').hits  # a phrase, checked on the kept text
        assert (hit.doc_id, hit.paragraph) == ("mixed", 2)
        assert "<mark>工業和信息化局</mark>" in hit.snippet


def test_values_are_small_and_read_back_exactly() -> None:
    for text in ("", "abc", TRADITIONAL, FULL_WIDTH, MIXED, LONG, "\ud83dx"):
        value = column_value(text)
        assert unpack(text, value) == examined_fold(text) == fold(text[:EXAMINED_CHARS])
    # Against the text as preset dictionary: a few bytes where little is folded.
    simplified = "德州市召开新闻发布会，介绍全市经济运行情况和下一步工作安排。"
    assert len(column_value(simplified)) < len(simplified.encode()) / 4
    assert len(column_value(FULL_WIDTH)) < len(FULL_WIDTH.encode()) / 2
    # A paragraph's fold, when the analyzers have it, is used as it is unless the text is cut.
    assert examined_fold("國家", "given") == "given"
    assert examined_fold(LONG, "given") == fold(LONG[:EXAMINED_CHARS])
    with pytest.raises(ValueError, match="not a folded text"):
        unpack(TRADITIONAL, b"\xff\xff damaged")
    with pytest.raises(ValueError, match="does not fit the paragraph"):
        unpack(TRADITIONAL, pack("短", "短"))


def test_fold_many_is_fold_of_each_text() -> None:
    """Width and case fold text by text: a lower() that changes a length (İ) in one text must
    not change how another (a word-final Σ) is lowered."""
    texts = ["ΟΔΟΣ", "İstanbul", TRADITIONAL, FULL_WIDTH]
    assert fold_many(texts) == [fold(t) for t in texts]
    assert fold_many(texts)[:2] == ["οδος", "istanbul"]


def test_an_index_without_the_column_asks_for_one_full_rebuild(tmp_path: Path) -> None:
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    write_sources(src)
    build_index([src], ix_dir, full=True)
    gen = storage.current_generation(ix_dir)
    # The generation as the previous format wrote it: the same paragraphs, no folded column.
    ix = whoosh.index.open_dir(str(gen), indexname=storage.INDEX_NAME)
    writer = ix.writer()
    for rel in read_releases([src], []):
        for doc in paragraph_docs(rel, folded=False):
            writer.add_document(**doc)
    writer.commit(mergetype=CLEAR)
    with pytest.raises(IndexCorruptError, match="cannot find the folded texts"):
        open_index(ix_dir)
    meta_path = gen / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["fingerprint"]["format"] = FORMAT - 1
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=f"has format {FORMAT - 1}, this version reads "
                                                f"format {FORMAT}: a full rebuild is needed"):
        open_index(ix_dir)
    report = build_index([src], ix_dir)
    assert report.full
    with open_index(ix_dir) as ix:
        hit = ix.search("国务院新闻办公室").hits[0]
        assert (hit.doc_id, hit.paragraph) == ("trad", 2)
        assert "<mark>國務院新聞辦公室</mark>" in hit.snippet


def test_each_shard_keeps_its_paragraphs_and_searches_as_one_index(tmp_path: Path) -> None:
    from search.shards import read_manifest, reindex_sharded

    src = tmp_path / "src"
    write_sources(src)
    write_release(src, "more", "第二場發佈會", "國務院新聞辦公室再次舉行發佈會。")
    reindex_sharded([src], tmp_path / "sharded", shards=2)
    build_index([src], tmp_path / "single", full=True)
    found: dict = {}
    for path in read_manifest(tmp_path / "sharded").paths():
        gen = Generation(path)
        try:
            docs = list(range(gen.postings.n))
            fields = [gen.stored(d) for d in docs]
            part = {(f["doc_id"], f["paragraph"]): g for f, g in
                    zip(fields, gen.folded(docs, [f["text"] for f in fields]))}
        finally:
            gen.close()
        assert part  # both shards hold releases
        found.update(part)
    assert found == {k: g for k, (_t, g) in kept(tmp_path / "single").items()}
    with open_index(tmp_path / "sharded") as sharded, open_index(tmp_path / "single") as one:
        for query in ("国务院新闻办公室", '"发布会"', "ceo 投资"):
            assert sharded.search(query).hits == one.search(query).hits
        assert [h.doc_id for h in one.search("国务院新闻办公室").hits][:2] == ["trad", "more"]
