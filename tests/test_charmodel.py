"""The character model (search/charmodel.py), the two judges (search/likelihood.py) and the
mechanisms that keep an unproven mojibake or lost character flagged (search/mojibake.py,
search/repair.py)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from scripts.build_charmodel import (
    OVERLAP,
    ground_truth_texts,
    sources_available,
    training_lines,
    training_texts,
)
from search.charmodel import _Model, _unpack, char_log_likelihood, manifest, normalize
from search.likelihood import CHAR_SURE, Score, lead, log_likelihood
from search.mojibake import DOCUMENT_PRIOR, document_prior, document_trigrams, gbk_shift_edits
from search.repair import lost_character_edits, repair_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "seeds" / "dezhou-press-conference-13.txt"
# the training text: ../shared/data and the git copies of the official documents in ../.mirror
needs_corpus = pytest.mark.skipif(not sources_available(),
                                  reason="the model's training text is not beside the repository")


# ------------------------------------------------------------------- held out


@pytest.fixture(scope="module")
def training():
    return training_texts()


@pytest.mark.slow
@needs_corpus
def test_no_ground_truth_paragraph_is_in_the_training_text(training) -> None:
    texts, left_out = training
    truth = ground_truth_texts()
    assert len(truth) == 241  # 120 CMRC2018 and 120 DRCD paragraphs, the sample release
    # every 8th stretch of OVERLAP characters of a ground-truth text (mostly ideographs) is
    # nowhere in the training text (so no ground-truth line of 24 or more either)
    held = set()
    for text in truth:
        folded = normalize(text)
        for i in range(0, len(folded) - OVERLAP, 8):
            window = folded[i:i + OVERLAP]
            if sum("\u4e00" <= c <= "\u9fff" for c in window) >= OVERLAP * 3 // 4:
                held.add(window)
    for name, these in texts.items():
        for text in these:
            folded = normalize(text)
            for i in range(len(folded) - OVERLAP + 1):
                assert folded[i:i + OVERLAP] not in held, (name, folded[i:i + OVERLAP])
    assert len([x for x in left_out if x.startswith(("cmrc2018/", "drcd/"))]) >= 240


@pytest.mark.slow
@needs_corpus
def test_the_shipped_model_was_built_from_that_text(training) -> None:
    texts, left_out = training
    _, digest = training_lines(texts)
    built = manifest()
    assert built["training_sha256"] == digest
    assert built["left_out"] == left_out


# ------------------------------------------------------------------- the model


def test_witten_bell_on_a_tiny_model() -> None:
    # vocabulary "ab" (ids 1, 2); counts: a 3, b 1; bigrams aa 1, ab 2; trigram aab 1
    bits = 16
    model = _Model({
        "vocab": np.array("ab"), "uni": np.array([3.0, 1.0], dtype=np.float32),
        "bi_keys": np.array([(1 << bits) | 1, (1 << bits) | 2], dtype=np.uint32),
        "bi_counts": np.array([1.0, 2.0], dtype=np.float32),
        "tri_keys": np.array([(((1 << bits) | 1) << bits) | 2], dtype=np.uint64),
        "tri_counts": np.array([1.0], dtype=np.float32)})
    p1 = {"a": 4 / 7, "b": 2 / 7}  # (count + 1) / (4 + 3)
    # after a: 3 followers, 2 kinds
    p2_ab = (2 + 2 * p1["b"]) / (3 + 2)
    p2_aa = (1 + 2 * p1["a"]) / (3 + 2)
    # after "aa": 1 follower, 1 kind
    p3_aab = (1 + 1 * p2_ab) / (1 + 1)
    assert model.log_prob("aab") == pytest.approx(math.log(p1["a"] * p2_aa * p3_aab))
    # "b" has no followers: the bigram level is the unigram
    assert model.log_prob("ba") == pytest.approx(math.log(p1["b"] * p1["a"]))


def test_the_model_knows_which_character_follows() -> None:
    assert char_log_likelihood("鉴于本网发布") > char_log_likelihood("鉴口碑网发布") + 4.5
    assert char_log_likelihood("先后任教于西南") > char_log_likelihood("先后任教在西南")
    assert normalize("Ｂ站2022年") == "a站0000年"


def test_the_word_judge_scores_an_ideographic_space_as_a_sign() -> None:
    # a layout space is free; the ideographic space is a sign of its own, as common as 「」
    assert log_likelihood("两 的") == log_likelihood("两的")
    assert log_likelihood("两\u3000的") == pytest.approx(log_likelihood("两」的") + math.log(5 / 3))


def test_the_lead_needs_both_judges() -> None:
    # the word judge's lead, held to the character judge's plus 2 unless it is 1 past the margin
    assert Score(-10.0, -20.0) - Score(-14.5, -22.5) == 4.5
    assert Score(-10.0, -20.0) - Score(-14.5, -21.0) == 3.5
    assert Score(-10.0, -20.0) - Score(-16.0, -18.0) == 5.0
    assert (Score(-1.0, -1.0) + 2.0).word == 1.0
    # against several: the least lead, and that of each judge's best other
    assert lead(Score(0.0, 0.0), [Score(-9.0, -3.0), Score(-3.0, -9.0)]) == 3.0
    assert lead(Score(0.0, 0.0), []) == math.inf


# --------------------------------------------------------------- mechanisms


def test_a_lost_byte_annotation_before_a_lone_byte_is_no_lost_character() -> None:
    # "?shěng)?" is one "、" a run of GBK one byte off made, not 省 and a lost byte
    text = "細訴中外古代典故?shěng)?名人故事"
    assert [(e.start, e.end, e.text, e.kind)
            for e in lost_character_edits(text, True, script="traditional")] == [
        (8, 16, None, "unrepaired_mojibake")]
    assert "省" not in repair_text(text).text


def test_a_lost_character_touching_a_flagged_run_is_flagged() -> None:
    edits = lost_character_edits("太養?显骸??yóu)太", True, protected=[(2, 6)],
                                 script="traditional")
    assert [(e.start, e.end, e.text, e.kind) for e in edits] == [
        (6, 11, None, "unrepaired_lost")]


def test_a_run_whose_next_character_still_shows_mojibake_is_not_cut_short() -> None:
    # "C" could end a run of one character (綜), but the private-use character after it shows
    # the run goes on
    text = "龍馬之妻?qú)C\ue384忠话?寫作"
    assert [e.text for e in gbk_shift_edits(text)] == [None]


def test_characters_the_text_itself_holds_are_of_its_script() -> None:
    # a converter left 于 in this traditional text: it is a candidate of the lost byte too
    text = "1982年畢業于西南政法大學法律系,先后任教?táo)谖髂?政法大學、深圳行政學院。"
    assert [(e.text, e.kind) for e in gbk_shift_edits(text)] == [(None, "unrepaired_mojibake")]
    assert "在西南" not in repair_text(text).text


def test_two_lost_characters_are_judged_as_a_pair() -> None:
    # "?tuán)?duì)" is 團隊 lost (or 對 made by a run of one): the best pair is scored as a
    # pair, not as the best first alone (專) with the best last after it -- else 對 leads
    text = "是《南華早報》、《明報》和《蘋果日報》等省報》的新聞(wén)?tuán)?duì),但兩份報章都"
    assert [(e.start, e.end, e.text, e.kind) for e in gbk_shift_edits(text)] == [
        (31, 42, None, "unrepaired_mojibake")]


def test_the_stored_counts_unpack_to_keys() -> None:
    # vocabulary "ab" (ids 1, 2): bigrams aa, ab (a has 2 followers), ba; trigram "aab"
    # (bigram aa has 1 follower); counts as bytes of log-count
    packed = {"vocab": np.array("ab"), "uni": np.array([3.0, 1.0], dtype=np.float32),
              "bi_first": np.array([2, 1], dtype=np.uint32),
              "bi_second": np.array([1, 2, 1], dtype=np.uint16),
              "bi_q": np.array([0, 16, 32], dtype=np.uint8),
              "tri_followers": np.array([1, 0, 0], dtype=np.uint16),
              "tri_last": np.array([2], dtype=np.uint16),
              "tri_q": np.array([16], dtype=np.uint8)}
    data = _unpack(packed)
    assert data["bi_keys"].tolist() == [(1 << 16) | 1, (1 << 16) | 2, (2 << 16) | 1]
    assert data["bi_counts"] == pytest.approx([1.0, math.e, math.e ** 2])
    assert data["tri_keys"].tolist() == [(((1 << 16) | 1) << 16) | 2]
    assert data["tri_counts"] == pytest.approx([math.e])


def test_a_run_most_often_begins_at_a_punctuation_mark() -> None:
    # the sample's "。“希望大家": the word judge is sure of 。, the character judge leads it over
    # 保 by 1.2 only; that a run begins at a mark far more often than at a character decides
    line = next(t for t in SAMPLE.read_text(encoding="utf-8").split("\n") if "跋M" in t)
    at = line.index("居民健康")
    text = line[at - 12:at + 30]
    assert [(e.start, e.end, e.text, e.kind) for e in gbk_shift_edits(text)] == [
        (16, 24, "。“希望大家給", "mojibake")]


def test_the_text_s_own_words_are_evidence() -> None:
    assert document_trigrams("以仁王(wáng)出家。以仁王") == frozenset({"以仁王", "仁王出", "王出家"})
    doc = document_trigrams("鼓励企业加强当地配套，保障")
    assert document_prior(doc, "企业", "当", "地配") == DOCUMENT_PRIOR  # 业当地 / 当地配
    assert document_prior(doc, "，", "地", "配套") == DOCUMENT_PRIOR  # 地配套
    assert document_prior(doc, "当", "他", "配套") == 0.0
    assert document_prior(doc, "加强", "。", "保障") == 0.0  # ideographs only


def test_a_very_sure_character_judge_decides_among_homophones() -> None:
    # 布 against 部 after 分 before 于: the word judge leads by 3.8 only (分布, 分部 are both
    # words), the character judge by 27
    best, other = Score(0.0, 0.0), Score(-3.8, -27.0)
    assert lead(best, [other]) == 3.8
    assert lead(best, [other], homophones=True) == pytest.approx(27.0 - CHAR_SURE)
    # not where the word judge prefers the other
    assert lead(best, [Score(0.5, -27.0)], homophones=True) == -0.5
    text = "爲輻鰭魚綱鱸形目隆頭魚亞目雀鯛科的其中一種。本魚分?bù)于印度太平洋區,包括印度"
    assert [(e.text, e.kind) for e in lost_character_edits(text, True, script="traditional")
            ] == [("布", "restored")]
