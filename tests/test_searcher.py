"""search.searcher: ranking, query syntax, filters, snippets and the Python API on real indexes."""

from __future__ import annotations

import dataclasses
import html
import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import (
    MAX_QUERY_LENGTH,
    DocumentNotFoundError,
    Hit,
    IndexNotFoundError,
    IndexStats,
    QueryError,
    Release,
    SearchError,
    SearchResult,
    build_index,
    open_index,
)
from search import storage
from search.highlight import match_spans, snippet
from search.query import parse_query

from conftest import ENGINE_DATA, SAMPLE_ID

ALL = 100  # per_page large enough for every hit of the sample


def paras(result: SearchResult) -> list[int]:
    return [h.paragraph for h in result.hits]


def ranking(result: SearchResult) -> list[tuple[int, float]]:
    return [(h.paragraph, h.score) for h in result.hits]


def holding(result: SearchResult, *words: str) -> list[bool]:
    """For each hit, whether its text holds every one of ``words``."""
    return [all(w in h.text for w in words) for h in result.hits]


# --------------------------------------------------------------------------- simple words


@pytest.mark.parametrize(("query", "expected"), [
    ("统筹", {1, 2, 9, 20}),
    ("統籌", {1, 2, 9, 20}),
    ("陈晓强", {2, 6, 10}),
    ("陳曉強", {2, 6, 10}),
    ("广交会", {24}),
    ("廣交會", {24}),
    ("逯泽生", {20}),
    ("35834", {18}),
    ("29.95", {8}),
    ("RCEP", {24}),
    ("ｒｃｅｐ", {24}),
])
def test_words_find_exactly_their_paragraphs(sample_ix, query, expected):
    result = sample_ix.search(query, per_page=ALL)
    assert result.total == len(expected)
    assert set(paras(result)) == expected


def test_simplified_and_traditional_queries_rank_identically(sample_ix):
    a = sample_ix.search("核酸检测", per_page=ALL)
    b = sample_ix.search("核酸檢測", per_page=ALL)
    assert a.total == b.total == 7
    assert [(h.paragraph, h.score) for h in a.hits] == [(h.paragraph, h.score) for h in b.hits]
    assert set(paras(a)) == {5, 7, 8, 9, 17, 18, 21}


def test_snippets_mark_the_whole_word(sample_ix):
    result = sample_ix.search("核酸检测", per_page=ALL)
    for hit in result.hits:
        visible = html.unescape(re.sub(r"</?mark>", "", hit.snippet))
        assert "<mark>核酸检测</mark>" in hit.snippet
        # every occurrence is marked whole, never as two touching marks
        assert hit.snippet.count("<mark>核酸检测</mark>") == visible.count("核酸检测")
        assert "</mark><mark>" not in hit.snippet
    hit = sample_ix.search("广交会").hits[0]
    assert hit.snippet.count("<mark>") == 1
    assert "线上<mark>广交会</mark>、山东" in hit.snippet


def test_paragraphs_with_every_word_rank_first(sample_ix):
    # One word: ¶19-22 hold both 外贸 and 企业, the other hits one of them (¶24 first of
    # those: its sentence with 企业 says 贸易, sharing 贸 with 外贸).
    result = sample_ix.search("外贸企业", per_page=ALL)
    assert result.total == 12
    assert paras(result) == [19, 20, 22, 21, 24, 18, 16, 15, 23, 9, 17, 14]
    assert holding(result, "外贸", "企业") == [True] * 4 + [False] * 8
    assert all(holding(result, "企业")[i] or holding(result, "外贸")[i] for i in range(12))

    # Two clauses: ¶21 and ¶7 hold both, first (¶18 and ¶8 hold 核酸检测 alone).
    result = sample_ix.search("核酸检测 冷链", per_page=ALL)
    assert ranking(result) == [(21, 118.0306), (7, 61.2588), (18, 55.3467), (8, 55.0571),
                               (17, 38.5796), (5, 35.57), (9, 31.6801)]
    assert holding(result, "核酸检测", "冷链") == [True] * 2 + [False] * 5
    assert all(holding(result, "核酸检测"))


def test_unknown_compound_does_not_match_a_shared_character(sample_ix):
    # 区块链技术 shares only 链 with 冷链 (and 技术 appears nowhere in the sample).
    assert sample_ix.search("区块链技术").total == 0
    assert sample_ix.search("區塊鏈技術").total == 0


# --------------------------------------------------------------------------- syntax


def test_phrase_requires_adjacent_words(sample_ix):
    phrase = sample_ix.search('"疫情防控工作"', per_page=ALL)
    assert ranking(phrase) == [(21, 188.8845), (17, 156.5364), (5, 151.058), (9, 148.1211)]
    assert all(holding(phrase, "疫情防控工作"))
    # Unquoted, the paragraphs with its words apart match too (and the phrase ones score
    # the same).
    loose = sample_ix.search("疫情防控工作", per_page=ALL)
    assert loose.total == 19
    assert ranking(loose)[:4] == ranking(phrase)
    assert holding(loose, "疫情防控工作") == [True] * 4 + [False] * 15
    assert set(paras(sample_ix.search("“企业复工”", per_page=ALL))) == {19, 20}
    assert sample_ix.search('"工业 运行"').total == 0


def test_exclusion(sample_ix):
    assert set(paras(sample_ix.search("核酸检测 -冷链", per_page=ALL))) == {5, 8, 9, 17, 18}
    assert set(paras(sample_ix.search('"开门稳" -外贸', per_page=ALL))) == {9, 23}
    assert sample_ix.search("-冷链").total == 0  # nothing positive to rank


def test_or(sample_ix):
    result = sample_ix.search("广交会 OR 冷链", per_page=ALL)
    assert ranking(result) == [(24, 43.0476), (7, 13.3962), (21, 5.873)]
    # The paragraphs holding 工业 and 企业, or 冷链, come first.
    result = sample_ix.search("工业企业 OR 冷链", per_page=ALL)
    # (¶24 before ¶22 and ¶23: its sentence with 企业 says 断链, sharing 链 with 冷链.)
    assert paras(result) == [9, 16, 15, 14, 18, 21, 17, 7, 13, 24, 22, 19, 23, 20]
    either = [a or b for a, b in zip(holding(result, "工业", "企业"), holding(result, "冷链"))]
    assert either == [True] * 8 + [False] * 6


def test_field_filters(sample_ix):
    assert set(paras(sample_ix.search("section:answer 核酸检测", per_page=ALL))) == {17, 18, 21}
    assert set(paras(sample_ix.search("section:答 核酸检测", per_page=ALL))) == {17, 18, 21}
    assert set(paras(sample_ix.search("核酸检测", section="answer", per_page=ALL))) == {
        17, 18, 21}
    result = sample_ix.search("speaker:田汝勇 核酸检测", per_page=ALL)
    assert set(paras(result)) == {17, 18}
    assert {h.speaker for h in result.hits} == {"田汝勇"}
    assert set(paras(sample_ix.search("核酸检测", speaker="田汝勇", per_page=ALL))) == {17, 18}
    assert set(paras(sample_ix.search(f"doc:{SAMPLE_ID} RCEP"))) == {24}
    assert sample_ix.search("doc:no-such-release RCEP").total == 0
    # A filter alone lists the paragraphs it allows.
    answers = sample_ix.search("section:answer", per_page=ALL)
    assert set(paras(answers)) == set(range(14, 19)) | set(range(20, 25))
    assert {h.section for h in answers.hits} == {"answer"}
    assert sample_ix.search("section:credits", per_page=ALL).total == 3


def test_paging_slices_the_ranking(sample_ix):
    full = paras(sample_ix.search("核酸检测", per_page=ALL))
    page2 = sample_ix.search("核酸检测", page=2, per_page=3)
    assert (page2.page, page2.per_page, page2.total) == (2, 3, 7)
    assert paras(page2) == full[3:6]
    assert paras(sample_ix.search("核酸检测", page=3, per_page=3)) == full[6:]
    assert sample_ix.search("核酸检测", page=4, per_page=3).hits == []


def test_latin_names_are_found_whatever_their_case(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "trip.txt").write_text("代表团访问伊斯坦布尔\n\n代表团在İstanbul与土耳其企业座谈。\n",
                                  encoding="utf-8")
    build_index([src], tmp_path / "index")
    with open_index(tmp_path / "index") as ix:
        for query in ("istanbul", "ISTANBUL", "İstanbul"):
            result = ix.search(query)
            assert [h.paragraph for h in result.hits] == [2], query  # the title is 1
            assert "<mark>İstanbul</mark>" in result.hits[0].snippet


# --------------------------------------------------------------------------- credits rank low


@pytest.fixture(scope="module")
def ranking_ix(tmp_path_factory):
    path = tmp_path_factory.mktemp("ranking") / "index"
    build_index([ENGINE_DATA / "ranking"], path)
    ix = open_index(path)
    yield ix
    ix.close()


def test_fixture_sections(ranking_ix):
    rel = ranking_ix.document("cold-chain-briefing")
    assert [p.section for p in rel.paragraphs] == [
        "title", "body", "body", "credits", "boilerplate", "boilerplate"]


def test_credits_rank_below_body_with_the_same_match(ranking_ix):
    result = ranking_ix.search("王琳")
    assert [(h.paragraph, h.section) for h in result.hits] == [(3, "body"), (4, "credits")]


def test_boilerplate_ranks_below_body_with_the_same_match(ranking_ix):
    result = ranking_ix.search("冷链物流", per_page=ALL)
    # The title matches best, and gives its place and score to the release's best paragraph.
    assert [(h.paragraph, h.section, h.score) for h in result.hits] == [
        (2, "body", 70.2854), (1, "title", 70.2854), (3, "body", 55.6095),
        (6, "boilerplate", 20.7791)]


# --------------------------------------------------------------------------- hostile input

HOSTILE = [
    '"核酸', '-', 'OR OR', 'OR', 'section:', 'foo:bar', 'speaker:', 'doc:', '"', '""', '-"',
    '“核酸检测', '核酸”', 'a:b:c', '-section:answer', 'section:"answer"', '核酸 OR', 'OR 核酸',
    '\x00\x01核酸\x7f', '\u200b', '   ', '', '😀核酸😀', '<script>alert(1)</script>',
    '<mark>核酸</mark>', '&amp;&lt;', 'section:nonsense', '核酸' * 250, '((((', '*?~^',
    '\\', '%s%d', '\n\t\r', "'; DROP TABLE x; --",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_return_results_without_raising(sample_ix, query):
    result = sample_ix.search(query, per_page=ALL)
    assert result.total == len(result.hits)
    for hit in result.hits:
        assert_only_mark_markup(hit.snippet)


def test_hostile_queries_exact_outcomes(sample_ix):
    nucleic = paras(sample_ix.search("核酸", per_page=ALL))
    assert len(nucleic) == 7
    for q in ('"核酸', '核酸”', '\x00\x01核酸\x7f', '😀核酸😀', '核酸 OR', 'OR 核酸'):
        assert paras(sample_ix.search(q, per_page=ALL)) == nucleic, q
    for q in ('-', 'OR OR', 'OR', 'section:', 'foo:bar', '"', '""', '\u200b', '', '   '):
        assert sample_ix.search(q).total == 0, q


def test_query_length_limit(sample_ix):
    # 500 characters is allowed (and 核核 is no word of the sample), 501 is not
    assert sample_ix.search("核" * MAX_QUERY_LENGTH).total == 0
    for q in ("x" * (MAX_QUERY_LENGTH + 1), "核酸检测" * 2500):
        with pytest.raises(QueryError, match="q must be at most 500 characters"):
            sample_ix.search(q)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"page": 0}, "page"), ({"page": -1}, "page"), ({"per_page": 0}, "per_page"),
    ({"per_page": 101}, "per_page"), ({"section": "nonsense"}, "section"),
    ({"page": 100_000, "per_page": 100}, "too far"),
])
def test_bad_parameters_raise_query_error(sample_ix, kwargs, message):
    with pytest.raises(QueryError, match=message):
        sample_ix.search("核酸", **kwargs)


def test_lone_surrogate_query_is_searched_without_it(sample_ix):
    # A lone surrogate cannot reach OpenCC (UTF-8): it is folded to U+FFFD, and the rest of
    # the query still finds what it finds alone.
    expected = paras(sample_ix.search("核酸", per_page=ALL))
    assert paras(sample_ix.search("核酸\ud800", per_page=ALL)) == expected


def assert_only_mark_markup(fragment: str) -> None:
    bare = re.sub(r"</?mark>", "", fragment)
    assert "<" not in bare and ">" not in bare and '"' not in bare, fragment
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27);)", bare), fragment


_QUERY_ALPHABET = st.sampled_from(list('核酸检测冷链外贸企业统筹"“”-:<>&\'ORsectiondocspeaker 答'
                                       'mark/\x00😀'))
_TEXT_ALPHABET = st.sampled_from(list('核酸检测冷链外贸企业统筹<>&"\' mark/abc;#x27'))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=_QUERY_ALPHABET, max_size=40))
def test_random_queries_raise_nothing_and_snippets_only_mark(sample_ix, query):
    result = sample_ix.search(query, per_page=ALL)
    for hit in result.hits:
        assert_only_mark_markup(hit.snippet)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_TEXT_ALPHABET, min_size=1, max_size=400),
       st.text(alphabet=_QUERY_ALPHABET, max_size=20))
def test_snippet_of_random_text_is_escaped_text_with_marks(text, query):
    html_out = snippet(text, match_spans(text, parse_query(query)))
    assert_only_mark_markup(html_out)
    shown = html.unescape(re.sub(r"</?mark>", "", html_out)).strip("…")
    assert shown in text


# --------------------------------------------------------------------------- Python API


def test_result_dataclasses_have_the_documented_fields(sample_ix):
    result = sample_ix.search("广交会")
    assert isinstance(result, SearchResult)
    assert [f.name for f in dataclasses.fields(SearchResult)] == [
        "query", "total", "page", "per_page", "took_ms", "hits", "facets", "facet_counts",
        "timeline"]
    assert [f.name for f in dataclasses.fields(Hit)] == [
        "doc_id", "title", "paragraph", "section", "speaker", "date", "score", "text", "snippet",
        "publisher", "url", "organization"]
    hit = result.hits[0]
    assert (result.query, result.total, result.page, result.per_page) == ("广交会", 1, 1, 10)
    assert (hit.doc_id, hit.paragraph, hit.section, hit.speaker, hit.date) == (
        SAMPLE_ID, 24, "answer", "逯泽生", "2022-03-23")
    assert hit.title == "德州市召开统筹疫情防控和经济运行工作第十三场新闻发布会"
    assert hit.text.startswith("四是加大市场开拓力度。")
    assert isinstance(hit.score, float) and hit.score > 0
    assert html.unescape(re.sub(r"</?mark>", "", hit.snippet)) == hit.text


def test_document(sample_ix, sample_built):
    rel = sample_ix.document(SAMPLE_ID)
    assert isinstance(rel, Release)
    assert rel.title == "德州市召开统筹疫情防控和经济运行工作第十三场新闻发布会"
    assert rel.date == "2022-03-23"
    assert len(rel.paragraphs) == 31
    assert [p.number for p in rel.paragraphs] == list(range(1, 32))
    assert rel.repairs == {"annotations": 483, "mojibake": 8, "punctuation": 143, "restored": 1, "script": 878, "spaces": 1, "unrepaired_mojibake": 1}
    assert rel.source.endswith("seeds/dezhou-press-conference-13.txt")
    assert len(rel.content_hash) == 64
    p14 = rel.paragraphs[13]
    assert (p14.section, p14.speaker, p14.organization) == ("answer", "田汝勇", "市工信局")
    assert rel.paragraphs[0].section == "title"


def test_stats(sample_ix, sample_index):
    stats = sample_ix.stats()
    assert isinstance(stats, IndexStats)
    assert (stats.releases, stats.paragraphs) == (1, 31)
    assert stats.sections == {"title": 1, "body": 11, "question": 2, "answer": 10,
                              "credits": 3, "boilerplate": 4}
    assert stats.index_dir == str(sample_index)
    assert stats.generation == storage.current_generation(sample_index).name
    assert stats.size_bytes == storage.dir_size(storage.current_generation(sample_index))


def test_errors_derive_from_search_error(sample_ix, tmp_path):
    with pytest.raises(IndexNotFoundError):
        open_index(tmp_path / "missing")
    with pytest.raises(DocumentNotFoundError, match="no-such-id"):
        sample_ix.document("no-such-id")
    with pytest.raises(DocumentNotFoundError):
        sample_ix.document("")
    for cls in (IndexNotFoundError, DocumentNotFoundError, QueryError):
        assert issubclass(cls, SearchError)


def test_missing_generation_is_a_search_error(sample_index, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(sample_index, copy)
    shutil.rmtree(storage.current_generation(copy))
    with pytest.raises(SearchError, match="reindex --full"):
        open_index(copy)


# --------------------------------------------------------------------------- user dictionary

EXPO_TITLE = "德州举办线上展会推介本地产品"  # ¶1 of expo-news: 德州 and 展会, apart

#: Without a user dictionary, 德州云展会 is read as 德州 + 云 + 展会 (the title matches them) ...
WITHOUT_USERDICT = [
    ("expo-news", 3, 53.6286, "主办方表示，<mark>德州云展会</mark>将持续举办三天。"),
    ("expo-news", 2, 47.7675, "3月30日，首届<mark>德州云展会</mark>在线上开幕，200余家企业参展。"),
    ("expo-news", 1, 8.3265, "<mark>德州</mark>举办线上<mark>展会</mark>推介本地产品"),
]
#: ... with 德州云展会 in it, as one word, in the index and in queries: the title matches by
#: its bigrams only, and nothing of it is marked.
WITH_USERDICT = [
    ("expo-news", 3, 48.4421, "主办方表示，<mark>德州云展会</mark>将持续举办三天。"),
    ("expo-news", 2, 43.3132, "3月30日，首届<mark>德州云展会</mark>在线上开幕，200余家企业参展。"),
    ("expo-news", 1, 4.7773, EXPO_TITLE),
]


def expo_hits(ix, query: str = "德州云展会") -> list[tuple[str, int, float, str]]:
    return [(h.doc_id, h.paragraph, h.score, h.snippet) for h in ix.search(query).hits]


def expo_parse(ix):
    return ix.parse("德州云展会")


def expo_highlight(ix) -> str:
    return ix.highlight(EXPO_TITLE, "德州云展会")


@pytest.fixture(scope="module")
def userdict_ix(tmp_path_factory):
    path = tmp_path_factory.mktemp("userdict") / "index"
    report = build_index([ENGINE_DATA / "userdict"], path)
    ix = open_index(path)
    yield path, report, ix
    ix.close()


def test_userdict_in_source_folder_is_applied_at_index_and_query_time(userdict_ix):
    path, report, ix = userdict_ix
    assert (report.added, report.releases) == (1, 1)  # userdict.txt itself is no release
    assert expo_hits(ix, "德州云展会") == expo_hits(ix, "德州雲展會") == WITH_USERDICT
    assert expo_highlight(ix) == EXPO_TITLE


def test_userdict_option_overrides_folder(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ENGINE_DATA / "userdict", src)
    (src / "userdict.txt").unlink()
    other = tmp_path / "words.txt"
    other.write_text("德州云展会\n", encoding="utf-8")
    build_index([src], tmp_path / "index", userdict=other)
    with open_index(tmp_path / "index") as ix:
        assert expo_hits(ix) == WITH_USERDICT
    build_index([src], tmp_path / "plain")
    with open_index(tmp_path / "plain") as ix:
        assert expo_hits(ix) == WITHOUT_USERDICT
        assert expo_highlight(ix) == "<mark>德州</mark>举办线上<mark>展会</mark>推介本地产品"


@pytest.mark.parametrize("first", [expo_hits, expo_parse, expo_highlight],
                         ids=["search", "parse", "highlight"])
def test_the_call_that_finds_a_new_dictionary_reads_the_query_with_it(tmp_path, first):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    shutil.copytree(ENGINE_DATA / "userdict", src)
    userdict = (src / "userdict.txt").read_text(encoding="utf-8")
    (src / "userdict.txt").unlink()
    build_index([src], ix_dir)
    with open_index(ix_dir, reload_interval=0) as live:
        assert expo_hits(live) == WITHOUT_USERDICT
        without = expo_parse(live)

        (src / "userdict.txt").write_text(userdict, encoding="utf-8")
        assert build_index([src], ix_dir).full  # a new dictionary: a new generation

        # ``first`` is the call that finds the new generation: it answers like a fresh Index.
        answer = first(live)
        with open_index(ix_dir) as fresh:
            assert answer == first(fresh)
            assert expo_parse(fresh) != without
        assert expo_hits(live) == WITH_USERDICT
        assert expo_highlight(live) == EXPO_TITLE


# --------------------------------------------------------------------------- bigrams, negation


def test_bigram_field_finds_parts_of_words_jieba_does_not_know(sample_ix):
    # jieba (HMM) keeps the unknown name 逯泽生 whole: either half of it is found by its one
    # bigram alone (one paragraph holds each: the same score), the whole name by its word too.
    assert ranking(sample_ix.search("泽生")) == ranking(sample_ix.search("逯泽")) == [
        (20, 29.6235)]
    assert ranking(sample_ix.search("逯泽生")) == [(20, 87.7014)]
    assert "逯<mark>泽生</mark>" in sample_ix.search("泽生").hits[0].snippet


def test_negated_filter_excludes(sample_ix):
    result = sample_ix.search("核酸检测 -section:answer", per_page=ALL)
    assert set(paras(result)) == {5, 7, 8, 9}


# --------------------------------------------------------------------------- markup in text


@pytest.fixture(scope="module")
def markup_ix(tmp_path_factory):
    path = tmp_path_factory.mktemp("markup") / "index"
    build_index([ENGINE_DATA / "markup"], path)
    ix = open_index(path)
    yield ix
    ix.close()


def test_markup_in_text_is_escaped_in_snippets(markup_ix):
    hits = {h.paragraph: h.snippet for h in markup_ix.search("核酸检测").hits}
    assert hits == {
        2: "市网信办提醒：网页中的&lt;script&gt;alert(&quot;<mark>核酸检测</mark>&quot;)"
           "&lt;/script&gt;代码不会被执行。",
        4: "&lt;mark&gt;<mark>核酸检测</mark>&lt;/mark&gt;标签只是普通文字，&lt;/mark&gt;也是。",
    }
    (hit,) = markup_ix.search("quote").hits
    assert hit.snippet == ("价格比较：A&lt;B &amp; C&gt;D，&quot;冷链&quot;物流 &amp;amp; 外贸企业 "
                           "&amp;lt;统筹&amp;gt; &#x27;<mark>quote</mark>&#x27;。")


_MARKUP_QUERY = st.sampled_from(list('核酸检测冷链统筹<>&"\'/ markscriptabltqoeBD-:OR“”'))


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=_MARKUP_QUERY, max_size=30))
def test_random_queries_on_markup_text_only_mark(markup_ix, query):
    for hit in markup_ix.search(query, per_page=ALL).hits:
        assert_only_mark_markup(hit.snippet)
        assert html.unescape(re.sub(r"</?mark>", "", hit.snippet)) == hit.text


def test_parameter_filters_narrow_query_filters(sample_ix):
    in_query = ranking(sample_ix.search("speaker:田汝勇 核酸", per_page=ALL))
    assert in_query == ranking(sample_ix.search("核酸", speaker="田汝勇", per_page=ALL))
    assert in_query == [(18, 61.2188), (17, 43.6244)]  # 田汝勇 answers in ¶14-18
    # A parameter must hold as well as the query's own filter: no paragraph has two speakers.
    assert sample_ix.search("speaker:田汝勇 核酸", speaker="逯泽生").total == 0
    # Several speakers in the query are alternatives.
    both = sample_ix.search("speaker:田汝勇 speaker:逯泽生 企业", per_page=ALL)
    assert ranking(both) == [(16, 54.5242), (18, 54.5072), (22, 51.5933), (15, 49.512), (23, 49.4625),
                             (21, 49.3136), (24, 46.7272), (17, 45.1783), (14, 33.7711), (20, 31.277)]
    assert {(h.paragraph, h.speaker) for h in both.hits} == {
        (14, "田汝勇"), (15, "田汝勇"), (16, "田汝勇"), (17, "田汝勇"), (18, "田汝勇"),
        (20, "逯泽生"), (21, "逯泽生"), (22, "逯泽生"), (23, "逯泽生"), (24, "逯泽生")}


def test_search_result_to_dict_is_asdict(sample_ix):
    import dataclasses

    result = sample_ix.search("统筹 疫情")
    assert result.hits
    as_dict = dataclasses.asdict(result)
    # but each (value, count) of the facets and the timeline is an object
    as_dict["facets"] = {name: [{"value": v, "count": c} for v, c in values]
                         for name, values in as_dict["facets"].items()}
    as_dict["timeline"] = [{"value": v, "count": c} for v, c in as_dict["timeline"]]
    assert result.to_dict() == as_dict
    assert result.facets["month"] == [("2022-03", result.total)]
    assert list(result.to_dict()) == [f.name for f in dataclasses.fields(result)]
    assert list(result.to_dict()["hits"][0]) == [f.name for f in dataclasses.fields(result.hits[0])]
