"""An open Index follows reindexes: every query is read with the generation it is ranked on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search import Index, build_index, open_index

from conftest import ENGINE_DATA

TITLE = "德州举办线上展会推介本地产品"  # ¶1 of expo-news: 德州 and 展会, not 德州云展会


def ranking(ix: Index) -> list[tuple[str, int, float, str]]:
    return [(h.doc_id, h.paragraph, h.score, h.snippet) for h in ix.search("德州云展会").hits]


def words(ix: Index) -> list[str]:
    return ix.parse("德州云展会").clauses[0].units[0].words


def highlighted(ix: Index) -> str:
    return ix.highlight(TITLE, "德州云展会")


#: Without the user dictionary, 德州云展会 is read as 德州 + 云 + 展会 ...
BEFORE = [
    ("expo-news", 3, 7.9022, "主办方表示，<mark>德州云展会</mark>将持续举办三天。"),
    ("expo-news", 2, 6.9053, "3月30日，首届<mark>德州云展会</mark>在线上开幕，200余家企业参展。"),
    ("expo-news", 1, 3.546, "<mark>德州</mark>举办线上<mark>展会</mark>推介本地产品"),
]
#: ... with it, as one word: the title no longer matches by its words, only by its bigrams.
AFTER = [
    ("expo-news", 3, 7.2406, "主办方表示，<mark>德州云展会</mark>将持续举办三天。"),
    ("expo-news", 2, 6.3682, "3月30日，首届<mark>德州云展会</mark>在线上开幕，200余家企业参展。"),
    ("expo-news", 1, 1.8724, TITLE),
]


@pytest.mark.parametrize("first", [ranking, words, highlighted], ids=lambda f: f.__name__)
def test_the_call_that_finds_a_new_dictionary_reads_the_query_with_it(tmp_path: Path,
                                                                      first) -> None:
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    shutil.copytree(ENGINE_DATA / "userdict", src)
    userdict = (src / "userdict.txt").read_text(encoding="utf-8")
    (src / "userdict.txt").unlink()
    build_index([src], ix_dir)
    with open_index(ix_dir, reload_interval=0) as live:
        assert ranking(live) == BEFORE
        assert words(live) == ["德州", "云", "展会"]
        assert highlighted(live) == "<mark>德州</mark>举办线上<mark>展会</mark>推介本地产品"

        (src / "userdict.txt").write_text(userdict, encoding="utf-8")
        assert build_index([src], ix_dir).full  # a new dictionary: a new generation

        # ``first`` is the call that notices the new generation; it answers like a fresh Index.
        with open_index(ix_dir) as fresh:
            assert first(live) == first(fresh)
            assert ranking(fresh) == AFTER
            assert words(fresh) == ["德州云展会"]
            assert highlighted(fresh) == TITLE
        assert ranking(live) == AFTER
        assert words(live) == ["德州云展会"]
        assert highlighted(live) == TITLE
