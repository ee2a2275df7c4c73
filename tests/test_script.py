"""search.script: the one home of script handling (CJK class, OpenCC that keeps lengths, folding)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from search.script import (
    CJK_RE,
    canonical_simplified,
    convert,
    convert_lines,
    fold,
    fold_many,
    is_cjk,
    to_simplified,
)

# Characters whose OpenCC conversion is by phrase or changes a length somewhere.
TRICKY = "統籌經濟運行發佈會後臺乾隆頭髮著麵條干涉裏面核復覆ab1 ,\n"


def test_cjk_class_covers_every_ideograph_block_and_nothing_else() -> None:
    ideographs = ["\u3400", "\u4e00", "\u9fff", "\uf900", "\U00020000", "\U0002a700",
                  "\U0002b740", "\U0002ebf0", "\U0002f800", "\U00030000", "\U00031350"]
    assert all(CJK_RE.fullmatch(c) for c in ideographs)
    others = ["a", "1", "，", "。", "\u3000", "ａ", "\u3041", "\uac00", "\U0002a6e0",
              "\U0002fa20", "\U0001f600"]
    assert not any(CJK_RE.fullmatch(c) for c in others)
    assert is_cjk("统筹") and not is_cjk("统筹2022") and not is_cjk("")


def test_to_simplified() -> None:
    assert to_simplified("統籌疫情防控和經濟運行") == "统筹疫情防控和经济运行"
    assert to_simplified("") == ""


def test_canonical_form_is_the_same_for_simplified_and_its_traditional_form() -> None:
    # s2t turns 复 in 核复 into 覆 by phrase; the round trip makes both texts agree.
    assert canonical_simplified("核复") == canonical_simplified(convert("s2t", "核复"))


def test_lone_surrogates_cross_into_opencc_as_replacement_characters() -> None:
    assert to_simplified("統\ud83d籌") == "统\ufffd筹"
    assert fold("統\ud83d籌") == "统\ufffd筹"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(TRICKY), max_size=60))
def test_conversion_keeps_length(text: str) -> None:
    for config in ("t2s", "s2t"):
        assert len(convert(config, text)) == len(text)
    assert len(fold(text)) == len(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(TRICKY.replace("\n", "")), max_size=20),
                max_size=8))
def test_batched_conversions_equal_one_by_one(lines: list[str]) -> None:
    assert convert_lines("t2s", lines) == [convert("t2s", line) for line in lines]
    assert fold_many(lines) == [fold(line) for line in lines]


def test_fold_dotted_capital_i_as_i() -> None:
    # lower() gives i and a combining dot: folding keeps the length with the i alone
    assert fold("İstanbul İzmir") == "istanbul izmir"


def test_fold_width_case_and_ideographic_space() -> None:
    assert fold("ＡＢＣ１２３\u3000統籌") == "abc123 统筹"
