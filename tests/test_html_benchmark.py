"""Smoke run of benchmarks/html_pages.py: the generated crawl is what it says, and every page
of it gives its article."""

from __future__ import annotations

from benchmarks.html_pages import measure_extraction, write_crawl
from search.documents import read_releases


def test_generated_crawl_pages_extract_to_their_releases(tmp_path) -> None:
    crawl = tmp_path / "crawl.warc.gz"
    assert write_crawl(crawl, 20) > 20 * 2000
    result = measure_extraction(crawl)
    assert result["pages"] == 20 and result["pages_per_s"] > 0
    problems: list = []
    releases = list(read_releases([crawl], problems))
    assert problems == []
    assert len(releases) == 20
    for rel in releases:
        assert rel.publisher == "德州市人民政府"
        assert rel.title.endswith("新闻发布会")  # "_德州市人民政府" cut
        text = "\n".join(p.text for p in rel.paragraphs)
        for chrome in ("当前位置", "热点排行", "相关推荐", "字体", "打印本页", "分享到", "扫一扫",
                       "版权所有", "ICP备"):
            assert chrome not in text, (chrome, rel.doc_id)
    table = [p.text for p in releases[0].paragraphs if p.text.startswith("德城区　")]
    assert len(table) == 1  # page 0 has a table: one paragraph per row
