"""Quoted phrases (``Generation.check_phrase`` in search/generation.py), on real indexes built
from .txt sources written here.

The index keeps no positions: a phrase's candidates are the paragraphs holding all its bigrams;
a phrase that is one run of ideographs must then occur in the paragraph's folded text as a
substring, any other phrase (spaces, Latin, digits) as a run of consecutive bigram tokens of it.
Verdicts are cached per index generation, so a reindex must never leave stale answers behind.
(How much checking a query may cause: tests/test_heavy_requests.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search import Index, build_index, open_index
from search.generation import PHRASE_CACHE

from conftest import write_release

#: A release genuinely in traditional script (kept so when indexed: no script repair).
TRADITIONAL = ("tw", "臺中市防汛整備記者會",
               "臺中市政府今日召開新聞發佈會，說明防汛整備工作。",  # ¶2
               "市府表示，各區公所已完成抽水機檢查。")  # ¶3
#: A simplified release with near misses of 新闻发布会 and full-width Latin and digits.
SIMPLIFIED = ("jn", "济南市新闻发布会",
              "济南市政府今天召开新闻发布会，介绍防汛工作。",  # ¶2
              "记者会上，新闻，发布会等字样出现。",  # ¶3: split by a comma
              "新闻稿显示听闻发布会将延期。",  # ¶4: every bigram of 新闻发布会, not in a row
              "会布发闻新，发布新闻会。",  # ¶5: its characters, out of order
              "本次ＲＣＥＰ協定说明会在济南举行。",  # ¶6: full-width Latin, traditional 協
              "型号ＡＢＣ　１２３的设备已到货。",  # ¶7: full-width letters, digits and space
              "型号ABC-123的设备另行通知。",  # ¶8: abc-123 is one token
              "RCEP协定生效后，企业受益。")  # ¶9

PER_PAGE = 100  # more than the index's paragraphs


def found(ix: Index, query: str) -> list[tuple[str, int]]:
    """``(doc_id, paragraph)`` of every hit, sorted; checks that the page holds them all."""
    result = ix.search(query, per_page=PER_PAGE)
    hits = sorted((h.doc_id, h.paragraph) for h in result.hits)
    assert result.total == len(hits), query
    return hits


@pytest.fixture(scope="module")
def phrase_ix(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("phrases")
    write_release(root / "src", *TRADITIONAL)
    write_release(root / "src", *SIMPLIFIED)
    report = build_index([root / "src"], root / "index")
    assert (report.releases, report.paragraphs, report.problems) == (2, 12, [])
    ix = open_index(root / "index")
    yield ix
    ix.close()


def test_fixture_texts_are_stored_as_written(phrase_ix: Index) -> None:
    """What the tests below rely on: the traditional release stays traditional, the full-width
    characters stay full-width (only the analysis folds them)."""
    tw = phrase_ix.document("tw")
    assert [p.text for p in tw.paragraphs] == list(TRADITIONAL[1:])
    jn = phrase_ix.document("jn")
    assert [p.text for p in jn.paragraphs] == list(SIMPLIFIED[1:])
    assert [p.section for p in jn.paragraphs] == ["title"] + ["body"] * 8


@pytest.mark.parametrize(("query", "expected"), [
    # simplified phrase, traditional paragraph (and the simplified ones)
    ('"新闻发布会"', [("jn", 1), ("jn", 2), ("tw", 2)]),
    ('"防汛整备"', [("tw", 1), ("tw", 2)]),
    ('"市府表示"', [("tw", 3)]),
    # traditional phrase, simplified paragraph (and the traditional one)
    ('"新聞發佈會"', [("jn", 1), ("jn", 2), ("tw", 2)]),
    ('"召開新聞發佈會"', [("jn", 2), ("tw", 2)]),
    ('"介紹防汛工作"', [("jn", 2)]),
    ('"記者會"', [("jn", 3), ("tw", 1)]),
    # mixed scripts in the phrase itself
    ('"新闻發佈会"', [("jn", 1), ("jn", 2), ("tw", 2)]),
    # curly quotes
    ("“新闻发布会”", [("jn", 1), ("jn", 2), ("tw", 2)]),
])
def test_phrase_finds_simplified_and_traditional_text(phrase_ix: Index, query: str,
                                                       expected: list) -> None:
    assert found(phrase_ix, query) == expected


@pytest.mark.parametrize(("query", "expected"), [
    # half-width query, full-width text (¶6) and half-width text (¶9)
    ('"rcep协定"', [("jn", 6), ("jn", 9)]),
    ('"RCEP協定"', [("jn", 6), ("jn", 9)]),
    # full-width query
    ('"ＲＣＥＰ協定"', [("jn", 6), ("jn", 9)]),
    ('"ｒｃｅｐ协定"', [("jn", 6), ("jn", 9)]),
    # letters and digits apart: ¶7 (full-width, ideographic space), not ¶8 (ABC-123, one token)
    ('"abc 123"', [("jn", 7)]),
    ('"ABC 123"', [("jn", 7)]),
    ('"ＡＢＣ　１２３"', [("jn", 7)]),
    ('"ＡＢＣ １２３的设备"', [("jn", 7)]),
    ('"abc-123"', [("jn", 8)]),
    ('"ＡＢＣ－１２３的设备"', [("jn", 8)]),
])
def test_phrase_folds_full_width_latin_and_digits(phrase_ix: Index, query: str,
                                                  expected: list) -> None:
    assert found(phrase_ix, query) == expected


def test_phrase_needs_its_characters_adjacent_and_in_order(phrase_ix: Index) -> None:
    # Without quotes, 新闻发布会 also matches ¶3 (split by a comma), ¶4 (every bigram, apart)
    # and ¶5 (its characters out of order); quoted, only the paragraphs holding it in a row.
    loose = found(phrase_ix, "新闻发布会")
    assert {("jn", 3), ("jn", 4), ("jn", 5)} <= set(loose)
    assert found(phrase_ix, '"新闻发布会"') == [("jn", 1), ("jn", 2), ("tw", 2)]
    # ¶4 holds 新闻, 闻发, 发布 and 布会 (新闻稿 ... 听闻发布会), but not 新闻发布会.
    assert found(phrase_ix, '"新闻发布"') == [("jn", 1), ("jn", 2), ("tw", 2)]
    assert found(phrase_ix, '"听闻发布会"') == [("jn", 4)]
    # ¶5 holds the characters (and 新闻, 发布), never in this order.
    assert found(phrase_ix, '"新闻会布"') == []
    assert found(phrase_ix, '"发布新闻会"') == [("jn", 5)]
    # Characters of one paragraph, not adjacent there.
    assert found(phrase_ix, '"稿显听闻"') == []
    assert found(phrase_ix, '"防汛发布"') == []
    assert found(phrase_ix, '"召開說明"') == []


def test_phrase_split_by_punctuation_in_the_text_is_not_found(phrase_ix: Index) -> None:
    # ¶3 reads 新闻，发布会: not the phrase 新闻发布会 (nor its traditional spelling).
    assert ("jn", 3) not in found(phrase_ix, '"新闻发布会"')
    assert ("jn", 3) not in found(phrase_ix, '"新聞發佈會"')
    assert found(phrase_ix, '"新闻，发布会"') == [("jn", 3)]  # typed with its comma
    assert found(phrase_ix, '"记者会上"') == [("jn", 3)]
    # 说明防汛 in ¶2 of tw is 說明防汛整備: found; 工作说明 never occurs in a row.
    assert found(phrase_ix, '"说明防汛"') == [("tw", 2)]
    assert found(phrase_ix, '"工作说明"') == []


@pytest.mark.parametrize(("query", "expected"), [
    # 发布会 as a phrase: jn ¶1-4 and tw ¶2; without the ones holding 新闻发布会
    ('"发布会"', [("jn", 1), ("jn", 2), ("jn", 3), ("jn", 4), ("tw", 2)]),
    ('"发布会" -"新闻发布会"', [("jn", 3), ("jn", 4)]),
    ('"发布会" -"新聞發佈會"', [("jn", 3), ("jn", 4)]),
    ('"發佈會" -“新闻发布会”', [("jn", 3), ("jn", 4)]),
    # a word with a negated phrase: 防汛 is in tw ¶1-2 and jn ¶2
    ("防汛", [("jn", 2), ("tw", 1), ("tw", 2)]),
    ('防汛 -"新闻发布会"', [("tw", 1)]),
    ('防汛 -"防汛整備"', [("jn", 2)]),
    # ¶4 has every bigram of 新闻发布会 but not the phrase: not excluded
    ('"新闻稿" -"新闻发布会"', [("jn", 4)]),
    # a negated phrase found nowhere excludes nothing; one split by a comma in ¶3 neither
    ('"发布会" -"会议发布会"', [("jn", 1), ("jn", 2), ("jn", 3), ("jn", 4), ("tw", 2)]),
    ('"记者会" -"记者会上新闻"', [("jn", 3), ("tw", 1)]),
    # mixed phrases, full-width or not
    ('"型号" -"abc 123"', [("jn", 8)]),
    ('"型号" -"ＡＢＣ　１２３"', [("jn", 8)]),
    ('"型号" -"abc-123"', [("jn", 7)]),
    ('"协定" -"ＲＣＥＰ協定"', []),
])
def test_negated_phrase_excludes_exactly_its_paragraphs(phrase_ix: Index, query: str,
                                                        expected: list) -> None:
    assert found(phrase_ix, query) == expected


def test_same_phrase_gives_the_same_answer_from_the_cache(phrase_ix: Index) -> None:
    first = found(phrase_ix, '"发布会" -"新闻发布会"')
    for _ in range(3):
        assert found(phrase_ix, '"新闻发布会"') == [("jn", 1), ("jn", 2), ("tw", 2)]
        assert found(phrase_ix, '"发布会" -"新闻发布会"') == first == [("jn", 3), ("jn", 4)]


# --------------------------------------------------------------------------- cache


def test_phrase_cache_follows_an_incremental_reindex(tmp_path: Path) -> None:
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    write_release(src, "news", "第一号通报", "今天召开新闻发布会。", "明天另有安排。", "后天休会。")
    write_release(src, "other", "第二号通报", "新闻，发布会之外的安排。")
    build_index([src], ix_dir)
    live = open_index(ix_dir, reload_interval=0)
    assert found(live, '"新闻发布会"') == [("news", 2)]
    assert found(live, '"新聞發佈會"') == [("news", 2)]
    assert found(live, '安排 -"新闻发布会"') == [("news", 3), ("other", 2)]

    # The phrase leaves ¶2 for ¶3 of the same release, and appears in the other release.
    write_release(src, "news", "第一号通报", "今天另有安排。", "明天召开新闻发布会。", "后天休会。")
    write_release(src, "other", "第二号通报", "新闻发布会之外的安排。")
    report = build_index([src], ix_dir)
    assert (report.full, report.updated, report.unchanged) == (False, 2, 0)
    assert report.generation == "g000001"  # committed into the generation `live` has open

    assert found(live, '"新闻发布会"') == [("news", 3), ("other", 2)]
    assert found(live, '"新聞發佈會"') == [("news", 3), ("other", 2)]
    assert found(live, '安排 -"新闻发布会"') == [("news", 2)]
    with open_index(ix_dir) as fresh:
        assert found(fresh, '"新闻发布会"') == [("news", 3), ("other", 2)]
        assert found(fresh, '安排 -"新闻发布会"') == [("news", 2)]

    # And again after a full reindex (a new generation): the phrase now only in ¶4.
    write_release(src, "news", "第一号通报", "今天另有安排。", "明天休会。", "后天召开新闻发布会。")
    (src / "other.txt").unlink()
    report = build_index([src], ix_dir, full=True)
    assert report.generation == "g000002"
    assert found(live, '"新闻发布会"') == [("news", 4)]
    assert found(live, '安排 -"新闻发布会"') == [("news", 2)]
    assert live.generation == "g000002"
    live.close()


def test_phrases_answer_right_after_the_cache_forgot_them(tmp_path: Path) -> None:
    """More phrases than the cache keeps (the cache itself: tests/test_generation.py)."""
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    write_release(src, "news", "第一号通报", "今天召开新闻发布会。")
    build_index([src], ix_dir)
    with open_index(ix_dir, reload_interval=3600) as ix:
        assert found(ix, '"新闻发布会"') == [("news", 2)]
        assert found(ix, '"今天召开"') == [("news", 2)]
        for n in range(PHRASE_CACHE + 5):
            assert found(ix, f'"新闻发布会{n}"') == []
            if n == PHRASE_CACHE // 2:
                assert found(ix, '"新闻发布会"') == [("news", 2)]  # used again: kept longer
        assert found(ix, '"今天召开"') == [("news", 2)]
        assert found(ix, '"新闻发布会"') == [("news", 2)]
        assert found(ix, '"新闻发布会0"') == []
        assert found(ix, '"召开新闻"') == [("news", 2)]


# --------------------------------------------------------------------------- same bigrams

#: ¶2 holds 新闻发 (in 新闻发言人); ¶3 holds the bigram tokens 新闻, 闻发 in a row (新闻，闻发言)
#: but not the substring 新闻发. Both phrases below have the same bigrams (新闻, 闻发) and are
#: checked differently, so the cache of phrase masks must tell them apart (it once keyed them
#: by their bigrams alone).
CACHE_KEY_RELEASE = ("x", "标题文字", "今天新闻发言人出席。", "这是新闻，闻发言稿。")


def _cache_key_index(tmp_path: Path) -> Path:
    write_release(tmp_path / "src", *CACHE_KEY_RELEASE)
    build_index([tmp_path / "src"], tmp_path / "index")
    return tmp_path / "index"


def test_phrases_with_the_same_bigrams_each_on_a_fresh_index(tmp_path: Path) -> None:
    ix_dir = _cache_key_index(tmp_path)
    with open_index(ix_dir) as ix:
        assert found(ix, '"新闻发"') == [("x", 2)]  # one run of ideographs: a substring
    with open_index(ix_dir) as ix:
        assert found(ix, '"新闻 闻发"') == [("x", 2), ("x", 3)]  # bigram tokens in a row


def test_phrase_cache_does_not_mix_phrases_with_the_same_bigrams(tmp_path: Path) -> None:
    with open_index(_cache_key_index(tmp_path)) as ix:
        assert found(ix, '"新闻 闻发"') == [("x", 2), ("x", 3)]
        assert found(ix, '"新闻发"') == [("x", 2)]  # not the cached mask of "新闻 闻发"
