"""The ranking rules for questions typed as sentences (issue 15), each on a small real index:
question words are not scored, a number of the question lifts the paragraph holding it, a
name jieba splits into single characters counts fully, a paraphrase sharing the question's
characters is lifted, a release's title paragraph gives its place to the release's best
paragraph, and the paragraph fields have their own K1 and B."""

from __future__ import annotations

import json

import pytest

from search import build_index, open_index, scoring
from search.lexicon import Lexicon
from search.query import parse_query
from search.scoring import _char_weights, _terms, glue_grams, question_grams, title_after_body


def unit(text: str):
    return parse_query(text, Lexicon()).clauses[0].units[0]


def test_question_grams_are_those_over_question_and_function_words():
    # 哪一 is a question word: the bigrams over it go, 依据 and 条约 stay.
    assert question_grams(unit("台湾割让给日本是依据哪一条约")) == {"据哪", "哪一", "一条"}
    # Inside a function word (时候), or over a question word (什么, 谁).
    assert question_grams(unit("宫缩通常发生在什么时候")) == {"在什", "什么", "么时", "时候"}
    assert question_grams(unit("光学的作者是谁")) == {"是谁"}
    assert question_grams(unit("冷链物流")) == set()


def test_question_grams_are_not_scored_unless_nothing_else_is():
    scored = {t for f, t, _w in _terms(unit("宫缩通常发生在什么时候")) if f == "bigrams"}
    assert scored == {"宫缩", "缩通", "通常", "常发", "发生", "生在"}
    # A query of question words alone keeps them: it asks for them.
    assert [t for _f, t, _w in _terms(unit("什么"))] == ["什么"]


def test_a_name_split_into_single_characters_is_no_glue():
    # jieba splits the name 曾炯 (曾 is also a function word): its bigram counts fully.
    u = unit("曾炯在国内的地位")
    assert u.words[:2] == ["曾", "炯"]
    assert "曾炯" not in glue_grams(u)
    assert {"在国", "的地"} <= glue_grams(u)


def test_title_after_body_keeps_each_release_in_its_place():
    entries = [(True, 9.0, "a1"), (True, 8.0, "b2"), (True, 7.0, "a3"), (True, 6.0, "b1"),
               (True, 5.0, "a2")]
    releases = [("a", True), ("b", False), ("a", False), ("b", True), ("a", False)]
    assert title_after_body(entries, releases) == [
        (True, 9.0, "a3"), (True, 9.0, "a1"), (True, 8.0, "b2"), (True, 6.0, "b1"),
        (True, 5.0, "a2")]
    # A body paragraph of another tier stays where it is.
    tiers = [(True, 9.0, "a1"), (False, 8.0, "a2")]
    assert title_after_body(tiers, [("a", True), ("a", False)]) == tiers


def one_release_index(tmp_path_factory, release: dict):
    """An index of ``release`` (a JSONL record), open for the module's tests."""
    name = release["id"]
    src = tmp_path_factory.mktemp(f"{name}-src")
    (src / f"{name}.jsonl").write_text(json.dumps(release, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    path = tmp_path_factory.mktemp(name) / "index"
    build_index([src], path)
    return open_index(path)


@pytest.fixture(scope="module")
def history_ix(tmp_path_factory):
    ix = one_release_index(tmp_path_factory, {
        "id": "byzantium",
        "title": "拜占庭帝国",
        "text": "\n".join([
            "拜占庭帝国的皇帝统治帝国的东部，拜占庭帝国的皇帝统治了一千多年。",
            "643年，君士坦斯二世统治拜占庭帝国。",
            "拜占庭帝国的首都是君士坦丁堡。",
        ]),
    })
    yield ix
    ix.close()


def test_the_number_of_a_question_lifts_the_paragraph_holding_it(history_ix):
    # ¶2 repeats 皇帝 and 统治 (it scores higher before the re-ranking), ¶3 holds 643: the
    # number decides.
    hits = history_ix.search("643年的时候谁统治了拜占庭帝国？").hits
    assert [(h.paragraph, h.score) for h in hits] == [
        (3, 80.5805), (2, 60.9958), (1, 22.2315), (4, 17.8853)]
    assert history_ix.ranked_paragraph_ids("643年的時候，誰統治了拜占庭帝國?", 2) == [
        "byzantium#3", "byzantium#2"]
    # Without the number, the paragraph that says most about the rulers comes first.
    assert [h.paragraph for h in history_ix.search("谁统治了拜占庭帝国？").hits][:1] == [2]


def test_char_weights_are_the_content_words_characters_by_their_information():
    weights = _char_weights(parse_query("这座大桥的名称是什么？", Lexicon()))
    # 的, 是 and 什么 are function and question words; rarer characters weigh more.
    assert {c: round(w, 3) for c, w in weights.items()} == {
        "这": 2.602, "座": 4.639, "大": 1.344, "桥": 4.914, "名": 2.536, "称": 2.955}


@pytest.fixture(scope="module")
def bridge_ix(tmp_path_factory):
    ix = one_release_index(tmp_path_factory, {
        "id": "bridge", "title": "金门大桥",
        "text": "\n".join(["大桥于1937年通车。", "大桥被称为金门桥。"])})
    yield ix
    ix.close()


def test_a_paraphrase_sharing_characters_is_lifted(bridge_ix, monkeypatch):
    # 名称 is not in ¶3, which says 称为: the shared 称 lifts it above ¶2, which shares only
    # 大桥 with the question (as ¶3 does) and, shorter, scores higher before the re-ranking.
    question = "这座大桥的名称是什么？"
    assert [(h.paragraph, h.score) for h in bridge_ix.search(question).hits] == [
        (3, 6.8339), (1, 6.8339), (2, 5.9128)]
    assert bridge_ix.ranked_paragraph_ids("這座大橋的名稱是什麼？", 1) == ["bridge#3"]
    monkeypatch.setattr(scoring, "CHAR_OVERLAP", 0.0)
    assert [(h.paragraph, h.score) for h in bridge_ix.search(question).hits] == [
        (2, 6.1644), (1, 6.1644), (3, 5.0388)]


def test_paragraph_fields_score_with_their_own_k1_and_b(history_ix):
    assert scoring.bm25_params("words") == scoring.bm25_params("bigrams") == (0.8, 0.9)
    assert scoring.bm25_params("title") == (scoring.K1, scoring.B) == (1.2, 0.75)
    gen = history_ix._current()
    # 统治: twice in ¶2 (the longer), once in ¶3: the repeat in a long paragraph counts less
    # than with the title's K1 and B (1.4135 and 1.3150).
    ids, scores = gen.scores("bigrams", "统治")
    assert [gen.paragraph_number(int(d)) for d in ids] == [2, 3]
    assert [round(float(x), 4) for x in scores] == [1.3449, 1.3144]
