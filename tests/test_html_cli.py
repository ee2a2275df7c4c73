"""A folder of saved pages, as a new user has it (issue 13): ``release-search reindex
saved-pages/``, then find, filter and open the releases, with publisher and source link, on
the command line, the search page and the JSON API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from search.cli import main
from web import create_app

from conftest import ROOT

HTML = Path(__file__).resolve().parent / "data" / "html"
GOV_URL = "http://www.dezhou.gov.cn/n1/art/2023/5/6/art_3401_12345.html"


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """``saved-pages/`` (every test page) indexed by a real ``release-search reindex``; returns
    the index directory."""
    root = tmp_path_factory.mktemp("user")
    shutil.copytree(HTML, root / "saved-pages", ignore=shutil.ignore_patterns("*.md"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "search", "reindex", "saved-pages/",
                           "--index-dir", "index"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("full reindex: 4 added, 0 updated, 0 removed, 0 unchanged; "
                                  "4 releases, 26 paragraphs; repairs: none; "
                                  "1 problems (1 skipped); ")
    assert done.stderr == ("skipped: saved-pages/column-list.html: no article text in the "
                           "page (a list or index page?)\n")
    return root / "index"


def test_find_filter_and_open_on_the_command_line(runner, saved: Path) -> None:
    result = runner.invoke(main, ["search", "高校毕业生", "--section", "answer",
                                  "--index-dir", str(saved)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1 results for '高校毕业生' (")
    assert lines[2] == "1. 德州市“稳就业促发展”新闻发布会 · 2023-05-06 · 德州市人民政府"
    assert lines[3].startswith("   gov-portal ¶6 [answer · 王建国] score ")
    assert lines[5] == f"   {GOV_URL}"

    result = runner.invoke(main, ["search", "乐陵", "--json", "--index-dir", str(saved)])
    hits = json.loads(result.stdout)["hits"]
    assert [(h["doc_id"], h["text"], h["publisher"]) for h in hits] == [
        ("stats-table", "乐陵市　151.2　5.2", "德州市统计局")]

    result = runner.invoke(main, ["search", "深水埗", "--doc", "hk-press-big5", "--json",
                                  "--index-dir", str(saved)])
    assert {h["url"] for h in json.loads(result.stdout)["hits"]} == {
        "https://www.info.gov.hk/gia/general/202403/21/P2024032100567.htm"}

    result = runner.invoke(main, ["show", "dzwww-news", "--index-dir", str(saved)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "朱镕基题词的德州学院迎来建校百年"
    assert lines[1].startswith("dzwww-news · 2023-09-16 · ")
    assert lines[2] == ("德州新闻网 · http://www.dezhoudaily.com/news/dezhou/folder136/2023/09/"
                        "2023-09-16/1234567.html")

    result = runner.invoke(main, ["show", "gov-portal", "--json", "--index-dir", str(saved)])
    data = json.loads(result.stdout)
    assert (data["publisher"], data["url"], data["date"]) == (
        "德州市人民政府", GOV_URL, "2023-05-06")
    assert [p["section"] for p in data["paragraphs"]] == [
        "title", "body", "body", "body", "question", "answer"]


def test_hits_and_api_show_publisher_and_source_link(saved: Path) -> None:
    client = create_app({"INDEX_DIR": str(saved), "TESTING": True}).test_client()
    html = client.get("/", query_string={"q": "稳就业"}).get_data(as_text=True)
    assert '<span class="publisher">来源：德州市人民政府</span>' in html
    assert (f'<a class="source-link" href="{GOV_URL}" rel="noopener noreferrer nofollow">原文</a>'
            in html)
    # A page without a known URL has no link.
    html = client.get("/", query_string={"q": "乐陵"}).get_data(as_text=True)
    assert '<span class="publisher">来源：德州市统计局</span>' in html
    assert "source-link" not in html

    body = client.get("/api/search", query_string={"q": "稳就业", "per_page": 1}).get_json()
    assert (body["hits"][0]["publisher"], body["hits"][0]["url"]) == ("德州市人民政府", GOV_URL)
    release = client.get("/api/documents/dzwww-news").get_json()
    assert (release["publisher"], release["title"]) == ("德州新闻网", "朱镕基题词的德州学院迎来建校百年")
    assert client.get("/api/health").get_json()["releases"] == 4


def test_the_release_page_shows_publisher_and_source_link(saved: Path) -> None:
    client = create_app({"INDEX_DIR": str(saved), "TESTING": True}).test_client()
    hit = client.get("/api/search", query_string={"q": "稳就业", "per_page": 1}).get_json()
    html = client.get(f"/doc/{hit['hits'][0]['doc_id']}").get_data(as_text=True)
    assert '<span class="publisher">来源：德州市人民政府</span>' in html
    assert (f'<a class="source-link" href="{GOV_URL}" rel="noopener noreferrer nofollow">'
            "原文链接</a>") in html
    html = client.get("/doc/stats-table").get_data(as_text=True)  # no known URL: no link
    assert '<span class="publisher">来源：德州市统计局</span>' in html
    assert "source-link" not in html


def test_a_hit_url_that_is_no_web_address_is_not_a_link(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "feed.jsonl").write_text(json.dumps({
        "id": "j1", "text": "甲市召开新闻发布会\n甲市冷链物流运行平稳。", "url": "javascript:alert(1)",
        "publisher": "<b>甲市</b>"}, ensure_ascii=False) + "\n", encoding="utf-8")
    from search import build_index

    build_index([src], tmp_path / "index")
    client = create_app({"INDEX_DIR": str(tmp_path / "index"), "TESTING": True}).test_client()
    html = client.get("/", query_string={"q": "冷链"}).get_data(as_text=True)
    assert "javascript:alert" not in html
    assert '<span class="publisher">来源：&lt;b&gt;甲市&lt;/b&gt;</span>' in html
