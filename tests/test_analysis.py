"""search.analysis: jieba and bigram tokenizers under Whoosh's contract, folding, user words."""

from __future__ import annotations

import pickle

import jieba
import opencc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.analysis import (
    BigramAnalyzer,
    JiebaTokenizer,
    WordAnalyzer,
    bigrams,
    query_words,
    tokens_with_offsets,
)
from search.lexicon import Lexicon
from search.script import fold
from search.schema import build_schema


def toks(analyzer, text: str, mode: str = "index") -> list[tuple[str, int, int, int]]:
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in tokens_with_offsets(analyzer, text, mode=mode)]


def assert_offsets_slice(analyzer, text: str, mode: str = "index") -> None:
    """Every token's text is the folded slice of the source its offsets point at."""
    folded = fold(text)
    for t in tokens_with_offsets(analyzer, text, mode=mode):
        assert 0 <= t.startchar < t.endchar <= len(text)
        assert t.text == folded[t.startchar:t.endchar], (text, t.text, t.startchar, t.endchar)


# --------------------------------------------------------------------------- folding


def test_fold_keeps_length_and_converts_script_width_and_case():
    assert fold("核酸檢測") == "核酸检测"
    assert fold("ＲＣＥＰ　２９．９５") == "rcep 29.95"
    assert fold("統籌疫情防控和經濟運行") == "统筹疫情防控和经济运行"
    for s in ("後來 髮型 乾燥", "ＡＢＣ１２３", "İstanbul", "ǅ", "ﬁ"):
        assert len(fold(s)) == len(s)


# --------------------------------------------------------------------------- jieba words


def test_jieba_segmentation_checked_first():
    # The expectations below rest on jieba's own dictionary: 核酸检测 is two words for it,
    # 中华人民共和国 is one word (whose parts are dictionary words too).
    assert jieba.lcut("核酸检测") == ["核酸", "检测"]
    assert jieba.lcut("中华人民共和国") == ["中华人民共和国"]


def test_positions_count_tokens_and_skip_punctuation():
    assert toks(WordAnalyzer(), "“外防输入、内防反弹”总策略") == [
        ("外防", 0, 1, 3), ("输入", 1, 3, 5), ("内防", 2, 6, 8), ("反弹", 3, 8, 10),
        ("总", 4, 11, 12), ("策略", 5, 12, 14)]


def test_index_mode_emits_subwords_at_the_same_position():
    assert toks(WordAnalyzer(), "中华人民共和国成立") == [
        ("中华人民共和国", 0, 0, 7), ("中华", 0, 0, 2), ("华人", 0, 1, 3), ("人民", 0, 2, 4),
        ("共和", 0, 4, 6), ("共和国", 0, 4, 7), ("成立", 1, 7, 9)]


def test_query_mode_is_precise():
    assert toks(WordAnalyzer(), "中华人民共和国成立", mode="query") == [
        ("中华人民共和国", 0, 0, 7), ("成立", 1, 7, 9)]


def test_user_word_is_one_token_with_subwords_in_index_mode():
    lex = Lexicon([("核酸检测", None, None)])
    assert toks(WordAnalyzer(lex), "全员核酸检测") == [
        ("全员", 0, 0, 2), ("核酸检测", 1, 2, 6), ("核酸", 1, 2, 4), ("检测", 1, 4, 6)]
    assert toks(WordAnalyzer(lex), "全员核酸检测", mode="query") == [
        ("全员", 0, 0, 2), ("核酸检测", 1, 2, 6)]
    assert query_words("核酸检测结果", lex) == [("核酸检测", 0, 4), ("结果", 4, 6)]
    assert query_words("核酸检测结果") == [("核酸", 0, 2), ("检测", 2, 4), ("结果", 4, 6)]


def test_traditional_input_folds_with_offsets_into_the_original():
    text = "全員核酸檢測結果"
    assert toks(WordAnalyzer(), text) == [
        ("全员", 0, 0, 2), ("核酸", 1, 2, 4), ("检测", 2, 4, 6), ("结果", 3, 6, 8)]
    assert toks(WordAnalyzer(), text) == toks(WordAnalyzer(), "全员核酸检测结果")
    for t in tokens_with_offsets(WordAnalyzer(), text):
        assert t.text == fold(text[t.startchar:t.endchar])


def test_full_width_numbers_latin_and_codes_survive():
    text = "ＲＣＥＰ雙向貿易展 35834家 29.95萬"
    assert toks(WordAnalyzer(), text) == [
        ("rcep", 0, 0, 4), ("双向", 1, 4, 6), ("贸易", 2, 6, 8), ("展", 3, 8, 9),
        ("35834", 4, 10, 15), ("家", 5, 15, 16), ("29.95", 6, 17, 22), ("万", 7, 22, 23)]
    for t in tokens_with_offsets(WordAnalyzer(), text):
        assert t.text == fold(text[t.startchar:t.endchar])


def test_unknown_name_is_one_hmm_word_and_two_bigrams():
    assert toks(WordAnalyzer(), "逯泽生表示") == [("逯泽生", 0, 0, 3), ("表示", 1, 3, 5)]
    assert bigrams("逯泽生") == ["逯泽", "泽生"]


# --------------------------------------------------------------------------- bigrams


def test_bigram_tokens_positions_and_offsets():
    assert toks(BigramAnalyzer(), "ＲＣＥＰ雙向貿易展 35834家") == [
        ("rcep", 0, 0, 4), ("双向", 1, 4, 6), ("向贸", 2, 5, 7), ("贸易", 3, 6, 8),
        ("易展", 4, 7, 9), ("35834", 5, 10, 15), ("家", 6, 15, 16)]
    assert bigrams("逯") == ["逯"]
    assert bigrams("A-1 x86-64 3.5%") == ["a-1", "x86-64", "3.5"]


# --------------------------------------------------------------------------- pickling


def test_analyzers_pickle_and_compare_equal():
    lex = Lexicon([("德州云展会", None, None)])
    for ana in (WordAnalyzer(), WordAnalyzer(lex), BigramAnalyzer()):
        again = pickle.loads(pickle.dumps(ana))
        assert again == ana
        assert toks(again, "德州云展会核酸檢測") == toks(ana, "德州云展会核酸檢測")
    assert WordAnalyzer(lex) != WordAnalyzer()
    assert WordAnalyzer() == WordAnalyzer()
    schema = pickle.loads(pickle.dumps(build_schema(lex)))
    for name in ("words", "bigrams", "title"):  # the analysed fields Whoosh stores pickled
        assert schema[name] == build_schema(lex)[name]
    assert schema["words"].analyzer == WordAnalyzer(lex)


def test_lexicon_from_file_folds_words_and_skips_comments(tmp_path):
    path = tmp_path / "userdict.txt"
    path.write_text("# comment\n德州雲展會 10 nz\n\n核酸检测\n", encoding="utf-8")
    lex = Lexicon.from_file(path)
    assert lex.entries == (("德州云展会", 10, "nz"), ("核酸检测", None, None))
    assert lex == Lexicon([("德州云展会", 10, "nz"), ("核酸检测", None, None)])
    assert lex.fingerprint() != Lexicon().fingerprint()
    assert toks(JiebaTokenizer(lex), "德州雲展會", mode="query") == [("德州云展会", 0, 0, 5)]


# --------------------------------------------------------------------------- properties

_SIMPLIFIED = ("统筹疫情防控和经济运行工作第十三场新闻发布会德州市副市长陈晓强通报最新进展情况工信局商务局"
               "相关负责人就社会关注问题答记者问核酸检测结果均为阴性广交会外贸企业复工复产冷链物流运输"
               "发后里面干余台系只准适钟历范")
_OTHER = "ＡＢＣ１２３ａｂ　abcXYZ0189.-_' ,.;:!?()“”、。：？！<>&\"\n\t"
_ALPHABET = st.sampled_from(_SIMPLIFIED + _OTHER)
_s2t = opencc.OpenCC("s2t")


def _traditional(text: str) -> str:
    return _s2t.convert(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_offsets_always_slice_the_source(text):
    for ana in (WordAnalyzer(), BigramAnalyzer()):
        assert_offsets_slice(ana, text)
        assert_offsets_slice(ana, text, mode="query")
    trad = _traditional(text)
    assert_offsets_slice(WordAnalyzer(), trad)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_traditional_and_simplified_give_the_same_token_stream(text):
    trad = _traditional(text)
    if len(trad) != len(text):  # OpenCC never changes the length for these characters
        pytest.fail(f"s2t changed the length of {text!r}")
    for ana in (WordAnalyzer(), BigramAnalyzer()):
        for mode in ("index", "query"):
            assert toks(ana, trad, mode) == toks(ana, text, mode)


@pytest.mark.parametrize("text", ["統籌", "核酸檢測", "ＲＣＥＰ", "陳曉強", "廣交會"])
def test_fold_of_examples_matches_simplified(text):
    expected = {"統籌": "统筹", "核酸檢測": "核酸检测", "ＲＣＥＰ": "rcep", "陳曉強": "陈晓强",
                "廣交會": "广交会"}[text]
    assert fold(text) == expected


# ------------------------------------------------------------------------ segmenting

def _corpus_texts() -> list[str]:
    import json
    from pathlib import Path

    data = Path(__file__).parent / "data"
    texts = []
    for path in [*data.glob("*_subset/corpus*.jsonl"), *data.glob("repair/*.jsonl")]:
        with path.open(encoding="utf-8") as f:
            texts.extend(json.loads(line)["text"] for line in f)
    texts += [p.read_text(encoding="utf-8") for p in (data / "repair" / "releases").glob("*.txt")]
    return texts


def test_segmenter_gives_jiebas_tokens_on_the_corpora() -> None:
    # CMRC2018, DRCD (annotated copies too) and the sample release, as written and folded
    lexicon = Lexicon()
    texts = _corpus_texts()
    assert len(texts) > 400
    for text in texts + [fold(t) for t in texts]:
        assert lexicon.cut(text) == list(lexicon.jieba().cut(text, HMM=True)), text[:40]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(
    list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同"
         "工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起"
         "圳鑫犇淼焱垚昇喆堃晞玥瑄琰婧嫣蒨 abXY12.%,，。-+#&_\n\r\t\u3000") + ["\r\n", "😀", "𠀀"]),
    max_size=40).map("".join))
def test_segmenter_gives_jiebas_tokens_on_any_text(text: str) -> None:
    # unknown characters and names go to the HMM, where ties are broken as jieba breaks them
    assert Lexicon().cut(text) == list(Lexicon().jieba().cut(text, HMM=True))


def test_segmenter_knows_the_user_words() -> None:
    lexicon = Lexicon([("市工信局", 50, None), ("德州新闻网", None, "nz")])
    text = "市工信局在德州新闻网发布"
    assert lexicon.cut(text) == list(lexicon.jieba().cut(text, HMM=True))
    assert lexicon.cut(text)[:3] == ["市工信局", "在", "德州新闻网"]


def test_segmenter_splits_the_words_jieba_is_told_to_split() -> None:
    # a user word of count 0 is split by jieba's HMM for every tokenizer of the process, also
    # for a segmenter made before it was added
    plain = Lexicon()
    text = "鑫犇淼焱垚了"
    plain.cut(text)
    Lexicon([("鑫犇", 0, None)]).cut(text)
    try:
        assert plain.cut(text) == list(plain.jieba().cut(text, HMM=True))
    finally:
        jieba.finalseg.Force_Split_Words.discard("鑫犇")
