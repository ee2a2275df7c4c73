"""Web crawls as sources (issue 13): the HTML pages of WARC files, built here with warcio's
writer; ids from URLs, the newest record of a URL, skipped records counted."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from search import build_index, open_index
from search.cli import main
from search.documents import read_releases
from search.sources import Problem, read_sources
from search.warc import normalize_url, warc_id

HTML = Path(__file__).resolve().parent / "data" / "html"

GOV_URL = "http://www.dezhou.gov.cn/n1/art/2023/5/6/art_3401_12345.html"
NEWS_URL = "http://www.dezhoudaily.com/news/dezhou/folder136/2023/09/2023-09-16/1234567.html"
HK_URL = "https://www.info.gov.hk/gia/general/202403/21/P2024032100567.htm"
LIST_URL = "http://www.dezhou.gov.cn/col/col3401/index.html"


def expected_id(host: str, url: str) -> str:
    """The documented id: host, a dash, 16 hex digits of the SHA-256 of the URL."""
    return f"{host}-{hashlib.sha256(url.encode()).hexdigest()[:16]}"


class Crawl:
    """Writes WARC records the way crawlers do (a request, then its response)."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = open(path, "wb")
        self.writer = WARCWriter(self.fh, gzip=path.suffix == ".gz")

    def response(self, uri: str, body: bytes, *, status: str = "200 OK",
                 content_type: str | None = "text/html", date: str = "2024-04-01T08:00:00Z",
                 headers: list[tuple[str, str]] = ()) -> None:
        request = StatusAndHeaders(f"GET {uri} HTTP/1.1", [("Host", "x")], is_http_request=True)
        self.writer.write_record(self.writer.create_warc_record(
            uri, "request", http_headers=request, warc_headers_dict={"WARC-Date": date}))
        fields = [("Content-Type", content_type)] if content_type else []
        http = StatusAndHeaders(status, fields + list(headers), protocol="HTTP/1.1")
        self.writer.write_record(self.writer.create_warc_record(
            uri, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
            warc_headers_dict={"WARC-Date": date}))

    def close(self) -> None:
        self.fh.close()


def site_crawl(path: Path) -> Path:
    """A crawl of pages, an image, a redirect, a 404, a list page and a page crawled twice."""
    crawl = Crawl(path)
    crawl.writer.write_record(crawl.writer.create_warcinfo_record(path.name, {"software": "t"}))
    crawl.response(GOV_URL, (HTML / "gov-portal.html").read_bytes(),
                   date="2024-04-01T08:00:00Z")
    crawl.response("http://www.dezhou.gov.cn/images/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00",
                   content_type="image/png")
    crawl.response("http://www.dezhou.gov.cn/xwfb/", b"", status="301 Moved Permanently",
                   headers=[("Location", "http://www.dezhou.gov.cn/xwfb/index.html")])
    crawl.response("http://www.dezhou.gov.cn/xwfb/a9.html", b"<html>Not Found</html>",
                   status="404 Not Found")
    crawl.response(LIST_URL, (HTML / "column-list.html").read_bytes())
    # The GB2312 page without a charset in the page: only the HTTP header says it.
    news = (HTML / "dzwww-news.html").read_bytes().replace(
        b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312" />', b"")
    crawl.response(NEWS_URL, news, content_type="text/html; charset=GB2312",
                   date="2024-04-01T08:01:00Z")
    # The same URL again, crawled later and changed: this one is read.
    crawl.response(GOV_URL, (HTML / "gov-portal.html").read_bytes().replace(
        "一季度，全市城镇新增就业1.2万人".encode(), "一季度，全市城镇新增就业1.3万人".encode()),
        date="2024-04-08T08:00:00Z")
    crawl.close()
    return path


def test_ids_come_from_urls_stably() -> None:
    assert warc_id(GOV_URL) == expected_id("www.dezhou.gov.cn", GOV_URL)
    assert warc_id(GOV_URL) == "www.dezhou.gov.cn-69ab5c5b903ef3d6"  # the README's example
    assert warc_id(GOV_URL) == "www.dezhou.gov.cn-" + hashlib.sha256(
        b"http://www.dezhou.gov.cn/n1/art/2023/5/6/art_3401_12345.html").hexdigest()[:16]
    # WARC 1.0's <...>, a fragment, the default port and upper-case host are the same URL.
    for same in (f"<{GOV_URL}>", GOV_URL + "#top", GOV_URL.replace(".cn/", ".cn:80/"),
                 GOV_URL.replace("www.dezhou.gov.cn", "WWW.Dezhou.GOV.cn")):
        assert normalize_url(same) == GOV_URL
        assert warc_id(same) == warc_id(GOV_URL)
    assert warc_id(GOV_URL + "?page=2") != warc_id(GOV_URL)
    assert warc_id("https://" + GOV_URL[7:]) != warc_id(GOV_URL)


@pytest.mark.parametrize("name", ["site.warc.gz", "site.warc"])
def test_each_newest_html_page_is_a_release_and_the_rest_is_counted(tmp_path, name) -> None:
    crawl = site_crawl(tmp_path / name)
    problems: list[Problem] = []
    tally: Counter = Counter()
    releases = {r.doc_id: r for r in read_releases([tmp_path], problems, tally=tally)}
    gov, news = warc_id(GOV_URL), warc_id(NEWS_URL)
    assert sorted(releases) == sorted([gov, news])
    assert problems == [Problem(f"{crawl}#{LIST_URL}",
                                "no article text in the page (a list or index page?)", True)]
    assert tally == {"not_html": 1, "redirect": 1, "error": 1, "older_copy": 1}
    rel = releases[gov]
    assert "一季度，全市城镇新增就业1.3万人" in rel.paragraphs[2].text  # the newer record
    assert (rel.title, rel.date, rel.publisher, rel.url) == (
        "德州市“稳就业促发展”新闻发布会", "2023-05-06", "德州市人民政府", GOV_URL)
    assert (rel.location, rel.source) == (f"{crawl}#{GOV_URL}", str(crawl))
    rel = releases[news]
    assert rel.title == "朱镕基题词的德州学院迎来建校百年"  # GB2312 by the HTTP header
    assert rel.publisher == "德州新闻网"


def test_newest_record_of_a_url_wins_across_files(tmp_path) -> None:
    old, new = Crawl(tmp_path / "b-week1.warc.gz"), Crawl(tmp_path / "a-week2.warc.gz")
    body = (HTML / "gov-portal.html").read_bytes()
    old.response(GOV_URL, body, date="2024-04-01T08:00:00Z")
    new.response(GOV_URL, body.replace("王建国".encode(), "王建民".encode()),
                 date="2024-04-08T08:00:00Z")
    old.close()
    new.close()
    problems: list[Problem] = []
    records = list(read_sources(sorted(tmp_path.iterdir()), problems))
    assert problems == []
    assert [r.location for r in records] == [f"{tmp_path / 'a-week2.warc.gz'}#{GOV_URL}"]
    assert "王建民" in records[0].html


def test_damaged_and_non_warc_files_are_reported(tmp_path) -> None:
    good = site_crawl(tmp_path / "good.warc.gz")
    (tmp_path / "fake.warc").write_text("这不是WARC文件\n", encoding="utf-8")
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(good.read_bytes()[:-700])  # into the last record: the newer GOV_URL page
    good.unlink()
    problems: list[Problem] = []
    releases = list(read_releases([tmp_path], problems))
    assert [(p.source, p.message) for p in problems if LIST_URL not in p.source] == [
        (f"{cut}#{GOV_URL}", "truncated record (the file ends inside it)"),
        (str(tmp_path / "fake.warc"), "not a readable WARC file (Unknown archive format, "
                                      "first line: ['这不是WARC文件'])")]
    # The older, complete record of GOV_URL is read instead of the cut one.
    assert [r.location for r in releases] == [f"{cut}#{GOV_URL}", f"{cut}#{NEWS_URL}"]
    assert "一季度，全市城镇新增就业1.2万人" in releases[0].paragraphs[2].text


def test_reindex_of_a_crawl_summary_and_incremental_update(runner, tmp_path) -> None:
    (tmp_path / "crawl").mkdir()
    crawl = site_crawl(tmp_path / "crawl" / "site.warc.gz")
    ix_dir = tmp_path / "index"
    result = runner.invoke(main, ["reindex", str(tmp_path / "crawl"), "--index-dir", str(ix_dir)])
    assert result.exit_code == 0, result.output
    assert ("2 releases, 11 paragraphs; repairs: none; crawl records skipped: 1 not HTML, "
            "1 redirects, 1 error responses, 1 older copies of a URL (the newest record of a "
            "URL is read); 1 problems (1 skipped);") in result.stdout
    assert result.stderr == (f"skipped: {crawl}#{LIST_URL}: no article text in the page "
                             "(a list or index page?)\n")
    # The crawl goes on: a newer record of the news page is appended.
    with open(crawl, "ab") as fh:
        writer = WARCWriter(fh, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=gb2312")],
                                protocol="HTTP/1.1")
        body = (HTML / "dzwww-news.html").read_bytes().replace(
            "纪念大会后".encode("gb2312"), "百年校庆后".encode("gb2312"))
        writer.write_record(writer.create_warc_record(
            NEWS_URL, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
            warc_headers_dict={"WARC-Date": "2024-04-09T08:00:00Z"}))
    result = runner.invoke(main, ["reindex", str(tmp_path / "crawl"), "--index-dir", str(ix_dir),
                                  "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["full"], report["updated"], report["unchanged"]) == (False, 1, 1)
    assert report["skipped_records"] == {"not_html": 1, "redirect": 1, "error": 1,
                                         "older_copy": 2}
    with open_index(ix_dir) as ix:
        rel = ix.document(warc_id(NEWS_URL))
        assert rel.paragraphs[-1].text.startswith("百年校庆后")
        assert (rel.publisher, rel.url) == ("德州新闻网", NEWS_URL)


def test_parallel_full_reindex_of_a_crawl_matches_the_serial_one(tmp_path) -> None:
    src = tmp_path / "crawl"
    src.mkdir()
    site_crawl(src / "site.warc.gz")
    one = build_index([src], tmp_path / "one", full=True, procs=1)
    two = build_index([src], tmp_path / "two", full=True, procs=2)
    assert (one.releases, one.paragraphs) == (two.releases, two.paragraphs) == (2, 11)
    # The pages were parsed in worker processes: their problems and counts come back.
    assert [str(p) for p in two.problems] == [str(p) for p in one.problems] == [
        f"{src / 'site.warc.gz'}#{LIST_URL}: no article text in the page (a list or index "
        "page?) (skipped)"]
    assert one.skipped_records == two.skipped_records == {
        "not_html": 1, "redirect": 1, "error": 1, "older_copy": 1}
    with open_index(tmp_path / "one") as a, open_index(tmp_path / "two") as b:
        assert a.manifest() == b.manifest()
        for doc_id in a.manifest():
            assert a.document(doc_id) == b.document(doc_id)
