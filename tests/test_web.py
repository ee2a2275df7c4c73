"""Flask test-client tests of every route of the web front end, against a real index built from ``seeds/``."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_web_support import DOC_ID, SEEDS

from search import Index, build_index
from web import create_app
from web.config import ConfigError, load_config
from web.index_holder import EXTENSION_KEY
from web.markup import marked_html, page_window, section_label, total_pages
from search.errors import QueryError
from web.params import is_acceptable_doc_id, parse_positive_int
from web.security import CONTENT_SECURITY_POLICY

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def index_dir(sample_index: Path) -> Path:
    """The session's index of ``seeds/`` (read only)."""
    return sample_index


@pytest.fixture(scope="session")
def index(sample_ix: Index) -> Index:
    """The same index opened directly, to compute expected values."""
    return sample_ix


@pytest.fixture
def app(index_dir: Path) -> Flask:
    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def missing_client(tmp_path: Path) -> FlaskClient:
    """A client of an app whose index was never built."""
    return create_app({"INDEX_DIR": str(tmp_path / "nothing-here")}).test_client()


def paragraphs_containing(index: Index, word: str) -> set[int]:
    return {p.number for p in index.document(DOC_ID).paragraphs if word in p.text}


class PageParser(HTMLParser):
    """Collects tags, ids, attributes and the text of chosen elements of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.append(attributes["id"] or "")

    def handle_data(self, data: str) -> None:
        self.text += data

    def find(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        """Attributes of the ``tag`` elements whose attributes include ``wanted`` (``class_`` for class)."""
        wanted = {k.rstrip("_"): v for k, v in wanted.items()}
        found = []
        for name, attributes in self.tags:
            if name != tag:
                continue
            if all(
                (v in (attributes.get(k) or "").split()) if k == "class" else attributes.get(k) == v
                for k, v in wanted.items()
            ):
                found.append(attributes)
        return found


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


# ------------------------------------------------------------------------ search page


def test_empty_state_shows_index_stats_and_example_queries(client: FlaskClient, index: Index) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    stats = index.stats()
    assert (stats.releases, stats.paragraphs) == (1, 31)
    assert '<strong id="stat-releases">1</strong> 篇新闻稿' in html
    assert '<strong id="stat-paragraphs">31</strong> 个段落' in html
    page = parse(html)
    examples = [a["href"] for a in page.find("a") if (a["href"] or "").startswith("/?q=")]
    assert examples == [f"/?q={quote(q)}" for q in ("统筹", "核酸检测", "外贸企业", "疫情防控", "復工復產")]
    assert page.find("input", id="q", name="q", value="")


def test_empty_state_without_index_says_to_reindex(missing_client: FlaskClient) -> None:
    response = missing_client.get("/")
    assert response.status_code == 200
    assert "索引尚未建立，请先运行 <code>release-search reindex</code>。" in response.get_data(as_text=True)


def test_search_page_lists_highlighted_hits(client: FlaskClient, index: Index) -> None:
    response = client.get("/?q=统筹")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    expected = paragraphs_containing(index, "统筹")
    assert expected == {1, 2, 9, 20}
    assert '找到 <strong id="total">4</strong> 条结果' in html
    assert re.search(r'用时 <span id="took">\d+\.\d</span> 毫秒', html)
    page = parse(html)
    assert page.find("input", id="q", value="统筹")
    links = [a["href"] for a in page.find("a") if (a["href"] or "").startswith("/doc/")]
    result = index.search("统筹")
    assert links == [f"/doc/{DOC_ID}?q={quote('统筹')}&hl={h.paragraph}#p{h.paragraph}" for h in result.hits]
    assert {h.paragraph for h in result.hits} == expected
    assert html.count('<li class="hit">') == 4
    assert html.count("<mark>统筹</mark>") >= 4
    for hit in result.hits:
        assert f'<p class="snippet">{hit.snippet}</p>' in html
    assert '<span class="date">2022-03-23</span>' in html
    assert '<span class="paragraph-number">第 20 段</span>' in html
    assert '<span class="section section-answer">回答</span>' in html
    assert '<span class="speaker">发言人：逯泽生</span>' in html
    assert '<span class="section section-title">标题</span>' in html
    assert 'class="pagination"' not in html


def test_filter_without_words_lists_the_filtered_paragraphs(client: FlaskClient) -> None:
    response = client.get("/?speaker=田汝勇")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '找到 <strong id="total">5</strong> 条结果' in html
    assert html.count('<li class="hit">') == 5
    assert html.count('<span class="speaker">发言人：田汝勇</span>') == 5
    api = client.get("/api/search?speaker=田汝勇&per_page=100").get_json()
    assert sorted(h["paragraph"] for h in api["hits"]) == [14, 15, 16, 17, 18]


def test_traditional_query_finds_the_same_paragraphs(client: FlaskClient) -> None:
    simplified = client.get("/api/search?q=核酸检测&per_page=100").get_json()
    traditional = client.get("/api/search?q=核酸檢測&per_page=100").get_json()
    assert simplified["total"] == traditional["total"] == 7
    assert sorted(h["paragraph"] for h in simplified["hits"]) == [5, 7, 8, 9, 17, 18, 21]
    assert sorted(h["paragraph"] for h in traditional["hits"]) == [5, 7, 8, 9, 17, 18, 21]


def test_pagination_links_and_second_page(client: FlaskClient, index: Index) -> None:
    assert len(paragraphs_containing(index, "疫情")) == 17
    q = quote("疫情")
    first = client.get("/?q=疫情").get_data(as_text=True)
    assert first.count('<li class="hit">') == 10
    assert "，第 1/2 页" in first
    assert '<span class="prev disabled">上一页</span>' in first
    assert f'<a class="next" rel="next" href="/?q={q}&amp;page=2">下一页</a>' in first
    assert '<span class="current" aria-current="page">1</span>' in first
    assert f'<a class="page" href="/?q={q}&amp;page=2">2</a>' in first
    second = client.get("/?q=疫情&page=2").get_data(as_text=True)
    assert second.count('<li class="hit">') == 7
    assert f'<a class="prev" rel="prev" href="/?q={q}">上一页</a>' in second
    assert '<span class="next disabled">下一页</span>' in second
    assert '<span class="current" aria-current="page">2</span>' in second
    page_one = {h.paragraph for h in index.search("疫情").hits}
    page_two = {h.paragraph for h in index.search("疫情", page=2).hits}
    assert page_one | page_two == paragraphs_containing(index, "疫情")
    for number in page_two:
        assert f"hl={number}#p{number}" in second


def test_page_past_the_end_offers_the_first_page(client: FlaskClient) -> None:
    html = client.get("/?q=疫情&page=5").get_data(as_text=True)
    assert "第 5 页没有结果，共 2 页。" in html
    assert f'<a href="/?q={quote("疫情")}">返回第 1 页</a>' in html


def test_no_results_state_suggests_what_to_try(client: FlaskClient) -> None:
    html = client.get("/?q=量子计算机").get_data(as_text=True)
    assert '找到 <strong id="total">0</strong> 条结果' in html
    assert "没有找到与“量子计算机”相关的结果" in html
    assert "减少关键词" in html
    assert "换用另一种字体（简体/繁体）书写关键词" in html
    assert "移除筛选条件" not in html
    filtered = client.get("/?q=量子计算机&section=credits").get_data(as_text=True)
    assert f'<a href="/?q={quote("量子计算机")}">移除筛选条件</a>' in filtered


def test_section_and_speaker_filters(client: FlaskClient, index: Index) -> None:
    questions = client.get("/api/search?q=疫情&section=question").get_json()
    assert [(h["paragraph"], h["section"]) for h in questions["hits"]] in (
        [(13, "question"), (19, "question")],
        [(19, "question"), (13, "question")],
    )
    speaker = client.get("/api/search?q=疫情&speaker=田汝勇&per_page=100").get_json()
    expected = {p.number for p in index.document(DOC_ID).paragraphs if p.speaker == "田汝勇" and "疫情" in p.text}
    assert expected == {14, 15, 16, 17}
    assert {h["paragraph"] for h in speaker["hits"]} == expected
    html = client.get("/?q=疫情&section=question&speaker=田汝勇").get_data(as_text=True)
    assert '<option value="question" selected>提问</option>' in html
    assert '<input type="hidden" name="speaker" value="田汝勇">' in html
    assert "段落：提问" in html and "发言人：田汝勇" in html
    assert f'href="/?q={quote("疫情")}&amp;speaker={quote("田汝勇")}"' in html  # remove the section filter
    in_doc = client.get(f"/api/search?q=疫情&doc={DOC_ID}").get_json()
    assert in_doc["total"] == 17
    elsewhere = client.get("/api/search?q=疫情&doc=no-such-release").get_json()
    assert elsewhere["total"] == 0


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("/?q=疫情&page=0", "page must be at least 1"),
        ("/?q=疫情&page=-1", "page must be a positive integer"),
        ("/?q=疫情&page=abc", "page must be a positive integer"),
        # Any number of digits is a number: past the deepest page, say which page that is.
        ("/?q=疫情&page=99999999999999999999", "page must be at most 1000"),
        ("/?q=疫情&page=1001", "page must be at most 1000"),
        ("/?q=疫情&section=bogus", "section must be one of: title, body, question, answer, credits, boilerplate"),
        ("/?q=" + "统" * 501, "q must be at most 500 characters"),
    ],
)
def test_search_page_bad_parameters_are_html_400(client: FlaskClient, query: str, detail: str) -> None:
    response = client.get(query)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<h1><span class="status">400</span> 请求无效</h1>' in html
    assert f"<p>参数无效：{detail}</p>" in html


def test_search_page_without_index_is_503(missing_client: FlaskClient) -> None:
    response = missing_client.get("/?q=统筹")
    assert response.status_code == 503
    assert '<h1><span class="status">503</span> 检索服务暂不可用</h1>' in response.get_data(as_text=True)


def test_query_markup_is_escaped(client: FlaskClient) -> None:
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    html = client.get("/?q=" + quote(evil)).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<img" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"' in html
    page = parse(html)
    assert page.find("input", id="q", value=evil)
    assert [t for t, _ in page.tags if t in ("script", "img")] == ["script"]


# ----------------------------------------------------------------------- release page


def test_release_page_shows_every_paragraph_anchored(client: FlaskClient, index: Index) -> None:
    release = index.document(DOC_ID)
    response = client.get(f"/doc/{DOC_ID}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = parse(html)
    anchors = [i for i in page.ids if re.fullmatch(r"p\d+", i)]
    assert anchors == [f"p{n}" for n in range(1, 32)]
    assert len(release.paragraphs) == 31
    assert '<h1 id="p1" class="release-title para">德州市召开统筹疫情防控和经济运行工作第十三场新闻发布会</h1>' in html
    assert "<mark>" not in html
    assert "hit-paragraph" not in html
    assert "<title>德州市召开统筹疫情防控和经济运行工作第十三场新闻发布会 - 新闻发布会检索</title>" in html
    assert '<span class="paragraph-count">共 31 段</span>' in html
    assert 'class="pagination"' not in html  # one page


def test_release_page_question_and_answer_with_speaker(client: FlaskClient) -> None:
    html = client.get(f"/doc/{DOC_ID}").get_data(as_text=True)
    page = parse(html)
    assert [a["id"] for a in page.find("div", class_="qa-question")] == ["p13", "p19"]
    assert [a["id"] for a in page.find("div", class_="qa-answer")] == [
        f"p{n}" for n in (*range(14, 19), *range(20, 25))
    ]
    assert html.count('<span class="speaker">田汝勇</span>') == 5
    assert html.count('<span class="organization">市工信局</span>') == 5
    assert html.count('<span class="speaker">逯泽生</span>') == 5
    assert html.count('<span class="organization">市商务局</span>') == 5
    assert html.count('<span class="section section-question">提问</span>') == 2


def test_release_page_highlights_query_and_marks_hit(client: FlaskClient, index: Index) -> None:
    html = client.get(f"/doc/{DOC_ID}?q=统筹&hl=9").get_data(as_text=True)
    page = parse(html)
    assert [a["id"] for a in page.find("div", class_="hit-paragraph")] == ["p9"]
    text9 = index.document(DOC_ID).paragraphs[8].text
    # (Paragraph 9 also holds the span the repair left, marked: tests/test_web_repairs.py.)
    unflagged = re.sub(r'<span class="flagged" title="[^"]*">([^<]*)</span>', r"\1", html)
    assert f'<p class="para-text">{index.highlight(text9, "统筹")}</p>' in unflagged
    # paragraphs containing the word are highlighted, the title included
    assert html.count("<mark>统筹</mark>") == sum(
        index.highlight(p.text, "统筹").count("<mark>统筹</mark>") for p in index.document(DOC_ID).paragraphs
    )
    assert '<h1 id="p1" class="release-title para"><mark>统筹</mark>' not in html  # title starts with 德州市
    assert "德州市召开<mark>统筹</mark>疫情防控" in html
    assert f'<a href="/?q={quote("统筹")}">← 返回搜索结果</a>' in html


def test_release_page_ignores_bad_hl_and_overlong_query(client: FlaskClient) -> None:
    response = client.get(f"/doc/{DOC_ID}?q={'统' * 501}&hl=abc")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<mark>" not in html and "hit-paragraph" not in html


def test_unknown_release_is_html_404(client: FlaskClient) -> None:
    response = client.get("/doc/no-such-release")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<h1><span class="status">404</span> 未找到页面</h1>' in html
    assert "没有找到这篇新闻稿。" in html


@pytest.mark.parametrize(
    "path",
    [
        "/doc/" + "a" * 201,
        "/doc/../etc/passwd",
        "/doc/a/b",
        "/doc/.hidden",
        "/doc/%2e%2e",
        "/doc/a%5Cb",
        "/doc/a%00b",
        "/api/documents/" + "a" * 201,
        "/api/documents/a/b",
        "/api/documents/..%2Fx",
    ],
)
def test_path_like_and_overlong_ids_are_404_without_the_engine(missing_client: FlaskClient, path: str) -> None:
    # The app has no index: reaching the engine would answer 503, so 404 proves it was not touched.
    response = missing_client.get(path)
    assert response.status_code == 404


def test_is_acceptable_doc_id() -> None:
    assert is_acceptable_doc_id(DOC_ID)
    assert is_acceptable_doc_id("a" * 200)
    assert not is_acceptable_doc_id("a" * 201)
    for bad in ("", "a/b", "a\\b", ".", "..", ".x", "a\x00b", "a\nb"):
        assert not is_acceptable_doc_id(bad), bad


# ------------------------------------------------------------------------------ JSON API


def test_api_search_is_exactly_the_search_result(client: FlaskClient, index: Index) -> None:
    body = client.get("/api/search?q=统筹&page=1&per_page=3").get_json()
    expected = index.search("统筹", page=1, per_page=3).to_dict()
    assert list(body) == ["query", "total", "page", "per_page", "took_ms", "hits", "facets",
                          "facet_counts", "timeline"]
    assert isinstance(body.pop("took_ms"), float | int)
    expected.pop("took_ms")
    assert body == expected
    assert (body["total"], body["page"], body["per_page"], len(body["hits"])) == (4, 1, 3, 3)
    for hit in body["hits"]:
        assert list(hit) == ["doc_id", "title", "paragraph", "section", "speaker", "date", "score", "text", "snippet",
                             "publisher", "url", "organization"]
        assert "<mark>统筹</mark>" in hit["snippet"]


def test_api_search_matches_the_cli_json(client: FlaskClient, index_dir: Path) -> None:
    import json

    from click.testing import CliRunner

    from search.cli import main

    result = CliRunner().invoke(main, ["search", "--index-dir", str(index_dir), "--json", "统筹"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.output)
    api = client.get("/api/search?q=统筹").get_json()
    cli.pop("took_ms")
    api.pop("took_ms")
    assert api == cli


def test_api_search_blank_query_is_empty(client: FlaskClient) -> None:
    body = client.get("/api/search?q=%20%20").get_json()
    nothing = {name: [] for name in ("month", "publisher", "org", "speaker", "section")}
    assert body == {"query": "  ", "total": 0, "page": 1, "per_page": 10, "took_ms": body["took_ms"], "hits": [],
                    "facets": nothing, "facet_counts": dict.fromkeys(nothing, 0), "timeline": []}
    assert client.get("/api/search").get_json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("page=0", "invalid_page", "page must be at least 1"),
        ("page=-3", "invalid_page", "page must be a positive integer"),
        ("page=abc", "invalid_page", "page must be a positive integer"),
        ("page=1.5", "invalid_page", "page must be a positive integer"),
        ("page=%D9%A3", "invalid_page", "page must be a positive integer"),  # Arabic-Indic digit 3
        ("per_page=101", "invalid_per_page", "per_page must be at most 100"),
        ("per_page=0", "invalid_per_page", "per_page must be at least 1"),
        ("per_page=1e3", "invalid_per_page", "per_page must be a positive integer"),
        ("page=1234567890123", "invalid_page", "page must be at most 1000"),
        ("page=" + "9" * 5000, "invalid_page", "page must be at most 1000"),
        ("page=0000000000000", "invalid_page", "page must be at least 1"),
        ("per_page=00000000000000101", "invalid_per_page", "per_page must be at most 100"),
        ("q=" + "a" * 501, "query_too_long", "q must be at most 500 characters"),
        (
            "section=bogus",
            "invalid_section",
            "section must be one of: title, body, question, answer, credits, boilerplate",
        ),
        ("doc=..%2Fetc", "invalid_doc", "doc is not a valid document id"),
        ("speaker=" + "x" * 201, "invalid_speaker", "speaker must be at most 200 characters"),
    ],
)
def test_api_bad_parameters_are_400_json(client: FlaskClient, query: str, code: str, message: str) -> None:
    response = client.get("/api/search?" + (query if query.startswith("q=") else "q=疫情&" + query))
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": {"code": code, "message": message}}


def test_api_document(client: FlaskClient, index: Index) -> None:
    response = client.get(f"/api/documents/{DOC_ID}")
    assert response.status_code == 200
    body = response.get_json()
    assert body == dataclasses.asdict(index.document(DOC_ID, page=1))
    # Today's fields, in their order, then the paging fields: a small release is one page.
    assert list(body) == ["doc_id", "title", "paragraphs", "date", "source", "location", "url",
                          "content_hash", "repairs", "publisher", "flagged", "paragraph_count",
                          "page", "per_page", "pages"]
    assert body["paragraphs"] == dataclasses.asdict(index.document(DOC_ID))["paragraphs"]
    assert (body["paragraph_count"], body["page"], body["per_page"], body["pages"]) == (31, 1, 200, 1)
    assert body["title"] == "德州市召开统筹疫情防控和经济运行工作第十三场新闻发布会"
    assert body["date"] == "2022-03-23"
    assert len(body["paragraphs"]) == 31
    assert body["paragraphs"][13] == {
        "number": 14,
        "text": body["paragraphs"][13]["text"],
        "section": "answer",
        "speaker": "田汝勇",
        "organization": "市工信局",
    }


def test_api_document_pages(client: FlaskClient, index: Index) -> None:
    body = client.get(f"/api/documents/{DOC_ID}?page=2&per_page=10").get_json()
    assert [p["number"] for p in body["paragraphs"]] == list(range(11, 21))
    assert (body["paragraph_count"], body["page"], body["per_page"], body["pages"]) == (31, 2, 10, 4)
    assert body["paragraphs"] == dataclasses.asdict(index.document(DOC_ID))["paragraphs"][10:20]
    last = client.get(f"/api/documents/{DOC_ID}?page=4&per_page=10").get_json()
    assert [p["number"] for p in last["paragraphs"]] == [31]
    past = client.get(f"/api/documents/{DOC_ID}?page=5&per_page=10").get_json()
    assert (past["paragraphs"], past["pages"], past["title"]) == ([], 4, body["title"])


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("page=0", "invalid_page", "page must be at least 1"),
        ("page=", "invalid_page", "page must be a positive integer"),
        ("page=%201", "invalid_page", "page must be a positive integer"),
        ("page=1000001", "invalid_page", "page must be at most 1000000"),
        ("per_page=0", "invalid_per_page", "per_page must be at least 1"),
        ("per_page=1001", "invalid_per_page", "per_page must be at most 1000"),
        ("per_page=x", "invalid_per_page", "per_page must be a positive integer"),
        ("page=1&page=2", "repeated_parameter", "page must be given at most once"),
    ],
)
def test_api_document_bad_paging_is_400_json(client: FlaskClient, query: str, code: str, message: str) -> None:
    response = client.get(f"/api/documents/{DOC_ID}?{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error": {"code": code, "message": message}}


def test_api_unknown_document_and_route_are_404_json(client: FlaskClient) -> None:
    response = client.get("/api/documents/no-such-release")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "document_not_found", "message": "no release with this id"}}
    response = client.get("/api/nothing")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "not found"}}


def test_api_wrong_method_is_405_json(client: FlaskClient) -> None:
    response = client.post("/api/search", data={"q": "统筹"})
    assert response.status_code == 405
    assert response.get_json() == {"error": {"code": "method_not_allowed", "message": "method not allowed"}}
    assert client.post("/").status_code == 405


def test_api_health(client: FlaskClient, index: Index) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "index": True,
        "releases": 1,
        "paragraphs": 31,
        "generation": index.stats().generation,
    }


def test_api_without_index(missing_client: FlaskClient) -> None:
    health = missing_client.get("/api/health")
    assert health.status_code == 503
    assert health.get_json() == {
        "status": "unavailable",
        "index": False,
        "releases": 0,
        "paragraphs": 0,
        "generation": None,
    }
    search = missing_client.get("/api/search?q=统筹")
    assert search.status_code == 503
    assert search.get_json() == {"error": {"code": "index_unavailable", "message": "the search index is not available"}}


def test_openapi_document_validates_and_describes_the_responses(client: FlaskClient) -> None:
    from openapi_schema_validator import OAS31Validator
    from openapi_spec_validator import validate

    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert sorted(spec["paths"]) == ["/api/documents/{doc_id}", "/api/health", "/api/openapi.json", "/api/search",
                                     "/api/search.csv", "/api/search.jsonl", "/api/suggest"]

    def validator(name: str) -> OAS31Validator:
        return OAS31Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})

    validator("SearchResult").validate(client.get("/api/search?q=疫情&per_page=100").get_json())
    validator("Release").validate(client.get(f"/api/documents/{DOC_ID}").get_json())
    validator("Release").validate(client.get(f"/api/documents/{DOC_ID}?page=9&per_page=5").get_json())
    document = spec["paths"]["/api/documents/{doc_id}"]["get"]
    assert [p["name"] for p in document["parameters"]] == ["doc_id", "page", "per_page"]
    assert sorted(document["responses"]) == ["200", "400", "404", "503"]
    validator("Health").validate(client.get("/api/health").get_json())
    validator("SuggestResult").validate(client.get("/api/suggest?q=市&limit=50").get_json())
    for line in client.get("/api/search.jsonl?q=疫情").get_data(as_text=True).splitlines():
        validator("ExportRow").validate(json.loads(line))
    validator("Error").validate(client.get("/api/search?page=0").get_json())
    assert not validator("SearchResult").is_valid({"query": "x"})


# ------------------------------------------------------------------ opensearch, favicon


def test_opensearch_description(client: FlaskClient) -> None:
    response = client.get("/opensearch.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(response.data)
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    assert root.findtext("os:ShortName", namespaces=ns) == "新闻发布会检索"
    templates = {u.get("type"): u.get("template") for u in root.findall("os:Url", ns)}
    assert templates == {
        "text/html": "http://localhost/?q={searchTerms}",
        "application/json": "http://localhost/api/search?q={searchTerms}",
    }
    html = client.get("/").get_data(as_text=True)
    assert (
        '<link rel="search" type="application/opensearchdescription+xml" title="新闻发布会检索" href="/opensearch.xml">'
        in html
    )


OPENSEARCH_NS = {"os": "http://a9.com/-/spec/opensearch/1.1/"}


def opensearch_urls(response) -> dict[str, str]:
    """The icon and the URL templates of an OpenSearch description, by type."""
    assert response.status_code == 200, response.data
    root = ET.fromstring(response.data)
    urls = {u.get("type") or "": u.get("template") or "" for u in root.findall("os:Url", OPENSEARCH_NS)}
    urls["icon"] = root.findtext("os:Image", namespaces=OPENSEARCH_NS) or ""
    return urls


def test_opensearch_uses_the_configured_base_url_whatever_the_host(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = {
        "text/html": "https://search.example.org/releases/?q={searchTerms}",
        "application/json": "https://search.example.org/releases/api/search?q={searchTerms}",
        "icon": "https://search.example.org/releases/favicon.ico",
    }
    configured = create_app({"INDEX_DIR": str(index_dir), "BASE_URL": "https://search.example.org/releases/"})
    for host in ("evil.example", "a b", ""):
        assert opensearch_urls(configured.test_client().get("/opensearch.xml", headers={"Host": host})) == expected
    monkeypatch.setenv("RELEASE_SEARCH_BASE_URL", "https://search.example.org/releases")
    from_env = create_app({"INDEX_DIR": str(index_dir)})
    assert opensearch_urls(from_env.test_client().get("/opensearch.xml", headers={"Host": "evil.example"})) == expected


@pytest.mark.parametrize(
    ("host", "base"),
    [("search.example:8080", "http://search.example:8080"), ("127.0.0.1:5000", "http://127.0.0.1:5000"),
     ("[::1]:5000", "http://[::1]:5000"), ("localhost", "http://localhost")],
)
def test_opensearch_without_a_base_url_uses_a_valid_host(client: FlaskClient, host: str, base: str) -> None:
    assert opensearch_urls(client.get("/opensearch.xml", headers={"Host": host})) == {
        "text/html": f"{base}/?q={{searchTerms}}",
        "application/json": f"{base}/api/search?q={{searchTerms}}",
        "icon": f"{base}/favicon.ico",
    }


@pytest.mark.parametrize("host", ["", "a b", "evil.example/x", "user@evil.example", 'x"><y', "evil.example:port", "-x-"])
def test_opensearch_without_a_base_url_refuses_an_invalid_host(client: FlaskClient, host: str) -> None:
    response = client.get("/opensearch.xml", headers={"Host": host})
    assert response.status_code == 400
    assert "http:///" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["search.example.org", "ftp://search.example.org/", "https://", "https://a b/", "https://x.org/?q=1",
            "https://x.org/#top", "https://user@x.org/", "https://x.org:99999/"],
)
def test_a_bad_base_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({}, {"BASE_URL": url})
    assert str(caught.value) == (
        f"BASE_URL must be an http:// or https:// URL of the site's root, without query or fragment, got {url!r}"
    )


def test_favicon(client: FlaskClient) -> None:
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/x-icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


# ---------------------------------------------------------------------------- safety


@pytest.mark.parametrize(
    "path",
    ["/", "/?q=统筹", f"/doc/{DOC_ID}", "/api/search?q=统筹", "/static/style.css", "/nowhere", "/api/search?page=0"],
)
def test_security_headers_on_every_response(client: FlaskClient, path: str) -> None:
    with client.get(path) as response:
        headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path", ["/", "/?q=疫情", "/?q=量子计算机", f"/doc/{DOC_ID}?q=统筹&hl=2", "/doc/none", "/?page=0"]
)
def test_pages_have_no_inline_script_or_style_and_no_external_resources(client: FlaskClient, path: str) -> None:
    page = parse(client.get(path).get_data(as_text=True))
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert scripts == [{"src": "/static/app.js", "defer": None}]
    assert not [tag for tag, _ in page.tags if tag == "style"]
    assert not [attrs for _, attrs in page.tags if "style" in attrs or any(k.startswith("on") for k in attrs)]
    for tag, attrs in page.tags:
        if tag in ("link", "script", "img"):
            url = attrs.get("href") or attrs.get("src") or ""
            assert url.startswith("/"), url


def test_static_files_served_locally(client: FlaskClient) -> None:
    with client.get("/static/style.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css"
        assert b"@import" not in css.data and b"url(" not in css.data
    with client.get("/static/app.js") as js:
        assert js.status_code == 200 and js.mimetype == "text/javascript"
        assert b'event.key !== "/"' in js.data


def test_unexpected_exception_is_generic_500(app: Flask) -> None:
    def explode() -> str:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/explode", "explode", explode)
    app.add_url_rule("/api/explode", "api_explode", explode)
    client = app.test_client()
    html = client.get("/explode")
    assert html.status_code == 500
    assert '<h1><span class="status">500</span> 服务器内部错误</h1>' in html.get_data(as_text=True)
    assert b"secret internal detail" not in html.data and b"Traceback" not in html.data
    api = client.get("/api/explode")
    assert api.status_code == 500
    assert api.get_json() == {"error": {"code": "internal_error", "message": "internal server error"}}


def test_request_log_line(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="web.requests"):
        client.get("/api/health")
        client.get("/doc/a%0Ab")
    lines = [r.getMessage() for r in caplog.records if r.name == "web.requests"]
    assert len(lines) == 2
    assert re.fullmatch(r"GET /api/health 200 \d+\.\dms", lines[0])
    assert re.fullmatch(r"GET /doc/a\\nb 404 \d+\.\dms", lines[1])


def test_marked_html_allows_only_mark_tags() -> None:
    assert marked_html("a<mark>b</mark>&amp;c") == "a<mark>b</mark>&amp;c"
    assert marked_html("<mark>x</mark><script>y</script>") == "<mark>x</mark>&lt;script&gt;y&lt;/script&gt;"
    assert marked_html('<b onclick="z">') == "&lt;b onclick=&#34;z&#34;&gt;"


def test_section_labels() -> None:
    assert [section_label(s) for s in ("title", "body", "question", "answer", "credits", "boilerplate")] == [
        "标题",
        "正文",
        "提问",
        "回答",
        "署名",
        "声明",
    ]


def test_page_window() -> None:
    assert page_window(1, 1) == [1]
    assert page_window(1, 2) == [1, 2]
    assert page_window(6, 12) == [1, None, 4, 5, 6, 7, 8, None, 12]
    assert page_window(1, 12) == [1, 2, 3, None, 12]
    assert page_window(12, 12) == [1, None, 10, 11, 12]
    assert page_window(1, 0) == []
    assert (total_pages(17, 10), total_pages(20, 10), total_pages(0, 10)) == (2, 2, 0)


def test_parse_positive_int() -> None:
    assert parse_positive_int(None, "page", 1, 10) == 1
    assert parse_positive_int("", "page", 1, 10) == 1
    assert parse_positive_int(" 7 ", "page", 1, 10) == 7
    assert parse_positive_int("0000000000007", "page", 1, 10) == 7
    for bad in ("0", "11", "-1", "+1", "1_0", "٣", "x", "9" * 13):
        with pytest.raises(QueryError, match="page must be"):
            parse_positive_int(bad, "page", 1, 10)
    for digits in ("9" * 13, "1" + "0" * 100_000):
        with pytest.raises(QueryError) as caught:
            parse_positive_int(digits, "page", 1, 10)
        assert str(caught.value) == "page must be at most 10"


# ------------------------------------------------------------------ configuration, index


def test_configuration_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RELEASE_SEARCH_INDEX_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("RELEASE_SEARCH_PER_PAGE", "20")
    monkeypatch.setenv("RELEASE_SEARCH_LOG_REQUESTS", "off")
    app = create_app()
    assert app.config["INDEX_DIR"] == str(tmp_path / "from-env")
    assert app.config["PER_PAGE"] == 20
    assert app.config["LOG_REQUESTS"] is False
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * 1024
    app = create_app({"INDEX_DIR": tmp_path / "from-mapping"})
    assert app.config["INDEX_DIR"] == str(tmp_path / "from-mapping")
    assert app.config["PER_PAGE"] == 20
    monkeypatch.setenv("RELEASE_SEARCH_PER_PAGE", "many")
    with pytest.raises(ConfigError, match="RELEASE_SEARCH_PER_PAGE: expected an integer, got 'many'"):
        create_app()
    assert load_config({}, None)["INDEX_DIR"] == "index"


def test_per_page_configuration_applies_to_html(index_dir: Path) -> None:
    client = create_app({"INDEX_DIR": str(index_dir), "PER_PAGE": 5}).test_client()
    html = client.get("/?q=疫情").get_data(as_text=True)
    assert html.count('<li class="hit">') == 5
    assert "，第 1/4 页" in html


def test_index_is_opened_once_per_app_and_lazily(app: Flask, client: FlaskClient) -> None:
    holder = app.extensions[EXTENSION_KEY]
    assert not holder.is_open
    client.get("/api/health")
    first = holder.get()
    client.get("/?q=统筹")
    client.get("/api/search?q=疫情")
    assert holder.get() is first


def test_index_built_after_start_is_picked_up(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    client = create_app({"INDEX_DIR": str(index_dir)}).test_client()
    assert client.get("/api/health").status_code == 503
    build_index([SEEDS], index_dir)
    assert client.get("/api/health").get_json()["paragraphs"] == 31
