"""Tests of search.repair on the real sample release, with the real OpenCC, pypinyin and jieba."""

from __future__ import annotations

import re
import string
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin.pinyin_dict import pinyin_dict

from search.repair import (
    RepairResult,
    is_annotated,
    repair_text,
    restore_lost_characters,
    strip_annotations,
)

SAMPLE = Path(__file__).resolve().parents[1] / "seeds" / "dezhou-press-conference-13.txt"

# Any pinyin annotation left after a character: "(tǒng)", "(xiàn)" ...
TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
LEFTOVER_ANNOTATION = re.compile(rf"\((?=[a-zü{TONED}]*[{TONED}])[a-zü{TONED}]+\)")

TAIWAN_RELEASE = (
    "行政院今(15)日召開記者會,說明「2023年度中央政府總預算案」(含特別預算)編列情形。"
    "主計總處表示,歲出規模較上(2022)年度增加4.2%,其中社會福利支出占比最高,"
    "並將持續推動數位轉型與淨零排放(詳見附件一)。"
)


@pytest.fixture(scope="module")
def sample() -> str:
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def repaired(sample: str) -> RepairResult:
    return repair_text(sample)


# ----------------------------------------------------------------------- the sample


def test_sample_has_483_annotations_all_stripped(sample: str) -> None:
    text, removed = strip_annotations(sample)
    assert removed == 483
    assert LEFTOVER_ANNOTATION.search(text) is None
    assert LEFTOVER_ANNOTATION.search(sample) is not None  # the check does find them


def test_sample_strip_changes_nothing_but_annotations(sample: str) -> None:
    text, removed = strip_annotations(sample)
    # Every removed annotation is 1 syllable plus its 2 parentheses; nothing else changed.
    annotations = re.findall(r"(?<=[\u4e00-\u9fffA-Za-z])\(([^()]+)\)", sample)
    pinyin = [a for a in annotations if not re.search(r"[\u4e00-\u9fff]", a)]
    assert len(pinyin) == 483
    assert len(sample) - len(text) == sum(len(a) + 2 for a in pinyin)


def test_sample_repair_counts(repaired: RepairResult) -> None:
    assert repaired.annotated is True
    assert repaired.counts == {"annotations": 483, "restored": 1, "script": 871}


def test_sample_repaired_words(repaired: RepairResult) -> None:
    for word in ("统筹", "陈晓强", "广交会", "外贸企业", "在当前", "德州市召开统筹疫情防控"):
        assert word in repaired.text, word
    assert LEFTOVER_ANNOTATION.search(repaired.text) is None
    assert "(" not in repaired.text.replace("(非德州新闻网)", "")


def test_sample_real_parenthesis_survives(repaired: RepairResult) -> None:
    # In the raw text it reads "(非德州新聞網(wǎng))": only the inner annotation goes.
    assert "来源:XXX(非德州新闻网)”的作品" in repaired.text


def test_sample_annotations_after_garbled_latin_are_removed(repaired: RepairResult) -> None:
    assert "11例?,F有本土无症状感染者" in repaired.text  # was "11例?,F(xiàn)有"
    assert "质效??茖W匹配核酸检测" in repaired.text  # was "質(zhì)效??茖W(xué)匹配"


# Every "?" of the sample, checked by hand: (raw, repaired, why).
SAMPLE_QUESTION_MARKS = [
    ("11例?,F(xiàn)有", "11例?,F有", "garbled '。現', no reading after '?': only the annotation goes"),
    (
        "冷鏈?zhǔn)称?、非冷鏈",
        "冷链?zhǔn)称?、非冷链",
        "garbled '食品': no character read zhǔn makes a word with 链 or 称",
    ),
    ("質(zhì)效??茖W(xué)匹配", "质效??茖W匹配", "garbled '。科學', no reading after '?'"),
    (
        "工業(yè)企業(yè)當(dāng)?shù)嘏涮茁?、拓寬",
        "工业企业当?shù)嘏涮茁?、拓宽",
        "garbled '地配套率': no character read shù makes a word with 当 or 嘏",
    ),
    ("居民健康?!跋M", "居民健康?!跋M", "garbled '。希望大家' (with a private-use character), no reading after '?'"),
    (
        "成果?!标悤詮?qiáng)說。",
        "成果?!标悤诠?qiáng)说。",
        "garbled '陳曉強說': no character read qiáng makes a word with 詮(诠) or 说",
    ),
    ("做了哪些工作?\n", "做了哪些工作?\n", "a real (ASCII) question mark"),
    (
        "二抓好企業(yè)當(dāng)?shù)嘏涮?。在?dāng)前疫情",
        "二抓好企业当?shù)嘏涮?。在当前疫情",
        "?shù) stays (as above); ?dāng) is restored: of the characters read dāng only 当 "
        "makes a word (当前) with 在/前",
    ),
    (
        "加強(qiáng)當(dāng)?shù)嘏涮?,保障",
        "加强当?shù)嘏涮?,保障",
        "no character read shù makes a word with 当 or 嘏",
    ),
    (
        "德州日?qǐng)?bào)新媒體出品",
        "德州日?qǐng)?bào)新媒体出品",
        "garbled '日報': no character read qǐng makes a word with 日 (right side is '?'), "
        "none read bào makes one with 新媒体 (left side is ')')",
    ),
]


def test_sample_question_marks_listed_exhaustively(sample: str) -> None:
    assert sample.count("?") == 18
    assert sum(raw.count("?") for raw, _, _ in SAMPLE_QUESTION_MARKS) == 18
    for raw, _, _ in SAMPLE_QUESTION_MARKS:
        assert sample.count(raw) == 1, raw


@pytest.mark.parametrize(("raw", "expected", "why"), SAMPLE_QUESTION_MARKS)
def test_sample_question_mark(repaired: RepairResult, raw: str, expected: str, why: str) -> None:
    assert expected in repaired.text, why


def test_sample_restore_alone(sample: str) -> None:
    text, restored = restore_lost_characters(sample)
    assert restored == 1
    assert text == sample.replace("在?dāng)前疫情", "在当前疫情")


# ------------------------------------------------------------------ lost characters


def test_restore_unambiguous() -> None:
    assert restore_lost_characters("在?dāng)前") == ("在当前", 1)
    # The left neighbour is found across its own annotation.
    assert restore_lost_characters("記者:在(zài)?dāng)前") == ("記者:在(zài)当前", 1)


def test_restore_never_invents() -> None:
    # Spec example: no character read zhǔn makes a word there.
    assert restore_lost_characters("冷鏈?zhǔn)称?、") == ("冷鏈?zhǔn)称?、", 0)
    # Ambiguous: 公士, 公式, 公示, 公室 (办公室), 公事 are all words.
    assert restore_lost_characters("辦公?shì)") == ("辦公?shì)", 0)
    # No neighbours at all.
    assert restore_lost_characters("?dāng)") == ("?dāng)", 0)
    # Not a syllable.
    assert restore_lost_characters("在?dang1)前") == ("在?dang1)前", 0)


def test_restore_neutral_tone_only_in_annotated_text() -> None:
    assert restore_lost_characters("我?men)的工作") == ("我?men)的工作", 0)
    annotated = "統(tǒng)籌(chóu)我?men)的工作"
    assert is_annotated(annotated)
    assert restore_lost_characters(annotated) == ("統(tǒng)籌(chóu)我们的工作", 1)


# ---------------------------------------------------------------------- annotations


@pytest.mark.parametrize(
    "text",
    [
        "來源:XXX(非德州新聞網)",
        "組織(abc)活動",
        "截至(2022)年",
        "參加RCEP(RCEP)展",
        "第一條(a)款、(b)款",
        "規定(TǑNG)",
        "英文ABC(xyz)",
        "數字2022(nián)",
        "（含）與(含)",
    ],
)
def test_real_parentheses_untouched(text: str) -> None:
    assert strip_annotations(text) == (text, 0)
    assert repair_text(text) == RepairResult(text=text, counts={}, annotated=False)


def test_strip_full_width_parentheses_with_pinyin() -> None:
    assert strip_annotations("統（tǒng）籌（chóu）（含）") == ("統籌（含）", 2)


def test_strip_neutral_tone_only_beside_toned_annotations() -> None:
    # Alone, an unmarked syllable may be anything: kept.
    assert strip_annotations("我們(men)的") == ("我們(men)的", 0)
    # In an annotated text it is the converter's neutral tone; one-letter "(a)" never is.
    assert strip_annotations("統(tǒng)籌(chóu)我們(men)的(a)") == ("統籌我們的(a)", 3)


def test_strip_after_garbled_latin_letter() -> None:
    assert strip_annotations("11例?,F(xiàn)有") == ("11例?,F有", 1)


# -------------------------------------------------------------------------- script


def test_traditional_release_unchanged() -> None:
    result = repair_text(TAIWAN_RELEASE)
    assert result == RepairResult(text=TAIWAN_RELEASE, counts={}, annotated=False)
    assert strip_annotations(TAIWAN_RELEASE) == (TAIWAN_RELEASE, 0)
    assert restore_lost_characters(TAIWAN_RELEASE) == (TAIWAN_RELEASE, 0)


def test_single_gloss_is_not_the_artifact() -> None:
    text = "本案涉及「犇(bēn)」字之用法,經審議後通過。"
    assert is_annotated(text) is False
    assert repair_text(text) == RepairResult(text=text, counts={}, annotated=False)
    assert strip_annotations(text) == ("本案涉及「犇」字之用法,經審議後通過。", 1)


def test_small_annotated_text() -> None:
    text = "德州市召開統(tǒng)籌疫情防控新聞發(fā)布會(huì)(2022)"
    result = repair_text(text)
    assert result == RepairResult(
        text="德州市召开统筹疫情防控新闻发布会(2022)",
        counts={"annotations": 3, "script": 6},
        annotated=True,
    )


# ---------------------------------------------------------------- property: strip


def _toned_syllables() -> list[str]:
    toned = set()
    for value in pinyin_dict.values():
        for reading in value.split(","):
            reading = unicodedata.normalize("NFC", reading)
            bare = "".join(
                c for c in unicodedata.normalize("NFD", reading) if c not in "\u0304\u0301\u030c\u0300"
            )
            if unicodedata.normalize("NFC", bare) != reading:
                toned.add(reading)
    return sorted(toned)


SYLLABLES = _toned_syllables()
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ASCII = st.text(alphabet=string.ascii_letters + string.digits + " ,.?!:;-/", min_size=1, max_size=6)
PAREN_INNER = st.text(
    alphabet=st.one_of(CJK, st.sampled_from(string.digits + string.ascii_uppercase + " ")),
    min_size=1,
    max_size=6,
)


@st.composite
def annotated_texts(draw: st.DrawFn) -> tuple[str, str, int]:
    """(text with injected annotations, the same text without them, how many injected)."""
    with_parts: list[str] = []
    without_parts: list[str] = []
    injected = 0

    def annotation() -> str:
        syllable = draw(st.sampled_from(SYLLABLES))
        return draw(st.sampled_from([f"({syllable})", f"（{syllable}）"]))

    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["cjk", "ascii", "paren", "nested", "decoy"]))
        if kind == "cjk":
            piece = draw(CJK)
        elif kind == "ascii":
            piece = draw(ASCII)
        elif kind == "paren":
            piece = "(" + draw(PAREN_INNER) + ")"
        elif kind == "decoy":  # pinyin in parentheses, but not after a letter: "5(nián)"
            piece = draw(st.sampled_from(string.digits + " ,.?!:;-/")) + annotation()
        else:  # "(非德州新聞網(wǎng))": a real parenthesis with an annotation inside
            inner = draw(st.text(alphabet=CJK, min_size=1, max_size=5))
            note = annotation()
            with_parts.append("(" + inner + note + ")")
            without_parts.append("(" + inner + ")")
            injected += 1
            continue
        with_parts.append(piece)
        without_parts.append(piece)
        ends_in_letter = re.search(r"[\u4e00-\u9fffA-Za-z]$", piece) is not None
        if ends_in_letter and draw(st.booleans()):
            with_parts.append(annotation())
            injected += 1
    return "".join(with_parts), "".join(without_parts), injected


@settings(max_examples=300, deadline=None)
@given(annotated_texts())
def test_strip_removes_exactly_the_injected_annotations(case: tuple[str, str, int]) -> None:
    text, expected, injected = case
    assert strip_annotations(text) == (expected, injected)
