"""Saved web pages as releases (issue 13): decoding, the article without the page around it,
tables, metadata, pages with no article, JSONL records carrying HTML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from search import build_index, open_index
from search.documents import read_releases
from search.errors import SourceError
from search.html import declared_charset, extract_article
from search.sources import decode_html
from search.sources import Problem

HTML = Path(__file__).resolve().parent / "data" / "html"

GOV_BODY = [
    "5月6日上午，德州市人民政府新闻办公室召开“稳就业促发展”新闻发布会，市人力资源和社会保障局"
    "党组书记、局长王建国介绍全市稳就业工作有关情况，并回答记者提问。",
    "今年以来，全市人社系统坚持把稳就业作为头等大事，统筹推进高校毕业生、农民工、退役军人等重点"
    "群体就业。一季度，全市城镇新增就业1.2万人，完成年度目标的31.5%；城镇登记失业率控制在3%以内。",
    "下一步，我们将实施“就在德州”就业服务专项行动，举办线上线下招聘会100场以上，提供就业岗位5万个，"
    "帮助更多劳动者实现高质量充分就业。",
    "记者：对于高校毕业生，今年有哪些新的支持政策？",
    "王建国：今年我市出台了促进高校毕业生就业创业十条措施，对到我市企业就业的高校毕业生，给予每人"
    "每月最高1500元的生活补贴，补贴期限最长3年。",
]


def page(name: str) -> str:
    data = (HTML / name).read_bytes()
    return decode_html(data, name)[0]


# ---------------------------------------------------------------------------- decoding


def test_meta_charsets_are_found_in_the_head() -> None:
    assert declared_charset((HTML / "dzwww-news.html").read_bytes()) == "gb2312"
    assert declared_charset((HTML / "hk-press-big5.html").read_bytes()) == "big5"
    assert declared_charset(b'<html><head><meta charset="GBK"><title>') == "GBK"
    assert declared_charset(b"<?xml version='1.0' encoding='big5'?><html>") == "big5"
    assert declared_charset(b"<html><head><title>x</title></head>") is None


def test_gb2312_page_is_read_as_gb18030_with_its_character_references() -> None:
    data = (HTML / "dzwww-news.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text, bad = decode_html(data, "dzwww-news.html")
    assert bad == 0
    assert "<title>朱&#38229;基题词的德州学院迎来建校百年_德州新闻网</title>" in text
    # 镕 is not in GB2312: the page writes it as a reference, which the parser decodes.
    assert "朱镕基为学校题写校名" in "".join(extract_article(text, "p").paragraphs)
    # A GBK character in a page that says GB2312 is still read (GB18030 is a superset).
    gbk = "<meta charset=gb2312><p>朱镕基</p>".encode("gbk")
    assert decode_html(gbk, "x") == ("<meta charset=gb2312><p>朱镕基</p>", 0)


def test_big5_page_needing_hkscs_is_read_as_big5_hkscs() -> None:
    data = (HTML / "hk-press-big5.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("cp950")  # 埗 (of 深水埗) is a Hong Kong character
    text, bad = decode_html(data, "hk-press-big5.html")
    assert bad == 0
    assert "<title>深水埗區重建項目今日展開 - 新聞公報</title>" in text
    # Plain Big5 stays cp950 (Windows Big5, what Taiwanese pages are): ① is C7E9 there.
    assert decode_html("<meta charset=big5>①".encode("cp950"), "x") == ("<meta charset=big5>①", 0)


def test_http_header_charset_comes_before_the_page_and_utf8_before_both() -> None:
    body = "<html><head><meta charset=gb2312></head><body>統籌發展</body></html>"
    assert decode_html(body.encode("cp950"), "x", header_charset="big5")[0] == body
    assert decode_html(body.encode("gb18030"), "x", header_charset=None)[0] == body
    # Valid UTF-8 is UTF-8, whatever a copied template still declares.
    assert decode_html(body.encode("utf-8"), "x", header_charset="gbk")[0] == body
    with pytest.raises(SourceError, match="binary"):
        decode_html(b"\x89PNG\r\n\x1a\n\x00\x00", "x")


# ---------------------------------------------------------------------------- extraction


def test_government_portal_page_gives_the_article_only() -> None:
    article = extract_article(page("gov-portal.html"), "gov-portal.html")
    assert article.paragraphs == GOV_BODY
    assert article.title == "德州市“稳就业促发展”新闻发布会"
    assert article.date == "2023-05-06"
    assert article.publisher == "德州市人民政府"
    assert article.url == "http://www.dezhou.gov.cn/n1/art/2023/5/6/art_3401_12345.html"
    text = "\n".join(article.paragraphs)
    for chrome in ("当前位置", "首页", "热点排行", "相关推荐", "字体", "打印", "关闭窗口", "分享",
                   "扫一扫", "版权所有", "网站标识码", "ICP备", "公网安备", "document.write",
                   "_hmt", "事业单位公开招聘", "友情链接"):
        assert chrome not in text, chrome


def test_gb2312_news_page_metadata_from_og_tags() -> None:
    article = extract_article(page("dzwww-news.html"), "dzwww-news.html")
    assert article.title == "朱镕基题词的德州学院迎来建校百年"  # og:title, no "_德州新闻网"
    assert article.date == "2023-09-16"  # article:published_time
    assert article.publisher == "德州新闻网"  # og:site_name
    assert article.url == ("http://www.dezhoudaily.com/news/dezhou/folder136/2023/09/"
                           "2023-09-16/1234567.html")
    assert article.paragraphs == [
        "本报讯（记者 李明）9月15日，德州学院举行建校100周年纪念大会，来自海内外的3000余名校友和"
        "各界嘉宾齐聚一堂，共庆百年华诞。",
        "德州学院前身为1923年创办的山东省立第十一中学。1998年，时任国务院副总理朱镕基为学校题写"
        "校名，这幅题词至今仍悬挂在学校图书馆大厅。",
        "“百年来，学校累计培养各类人才20余万名。”德州学院党委书记在大会上说。学校现有全日制在校生"
        "2.1万人，开设本科专业68个。",
        "纪念大会后，学校还举办了校史展览、学术论坛和校友座谈会等系列活动。",
    ]  # no date/source line, share bar, QR line, ranking or footer


def test_big5_page_title_without_suffix_and_saved_from_url() -> None:
    article = extract_article(page("hk-press-big5.html"), "hk-press-big5.html")
    assert article.title == "深水埗區重建項目今日展開"
    assert article.url == "https://www.info.gov.hk/gia/general/202403/21/P2024032100567.htm"
    assert (article.publisher, article.date) == (None, None)  # the text's date is read later
    assert article.paragraphs[0] == (
        "市區重建局今日（三月二十一日）宣布，正式展開深水埗區兩個重建項目，涉及約四百個住戶。")
    assert article.paragraphs[-2:] == ["2024年3月21日（星期四）", "香港時間17時30分"]


def test_table_rows_become_paragraphs_with_cells_separated_by_spaces() -> None:
    article = extract_article(page("stats-table.htm"), "stats-table.htm")
    assert article.paragraphs == [
        "据统一核算，上半年全市实现地区生产总值1789.6亿元，按不变价格计算，同比增长5.8%。"
        "各县（市、区）情况如下：",
        "县（市、区）　地区生产总值（亿元）　同比增长（%）",
        "德城区　256.3　6.1",
        "陵城区　142.8　5.4",
        "禹城市　198.5　6.5",
        "乐陵市　151.2　5.2",
        "注：各县（市、区）数据为初步核算数。",
    ]
    assert (article.title, article.date, article.publisher) == (
        "2023年上半年全市各县（市、区）地区生产总值", "2023-07-28", "德州市统计局")


def test_a_page_without_article_is_refused() -> None:
    with pytest.raises(SourceError, match="no article text in the page"):
        extract_article(page("column-list.html"), "column-list.html")
    with pytest.raises(SourceError, match="no article"):
        extract_article("<html><body><img src=a.png></body></html>", "x")


@pytest.mark.parametrize("title, expected", [
    ("德州市召开新闻发布会_德州新闻网", "德州市召开新闻发布会"),
    ("德州市召开新闻发布会 - 鲁北晨报网", "德州市召开新闻发布会"),
    ("德州市召开新闻发布会_新闻发布会_德州市人民政府", "德州市召开新闻发布会"),
    ("德州市人民政府 | 德州市召开新闻发布会", "德州市召开新闻发布会"),
    ("一季度 - 二季度经济运行情况", "一季度 - 二季度经济运行情况"),
])
def test_site_names_are_cut_from_titles(title: str, expected: str) -> None:
    html = (f"<html><head><title>{title}</title><meta name=SiteName content=德州市人民政府>"
            "<meta name=ColumnName content=新闻发布会></head><body><div><p>"
            + "德州市今天召开新闻发布会，介绍全市稳就业工作情况。" * 3 + "</p></div></body></html>")
    assert extract_article(html, "x").title == expected


def test_date_line_and_source_line_when_the_page_has_no_metadata() -> None:
    html = ("<html><head><title>关于做好春季招聘工作的通知</title></head><body>"
            "<div class=info>发布时间：2023年3月8日　来源：市人社局</div><div class=con>"
            "<p>各县（市、区）人力资源和社会保障局：现就做好2023年春季招聘工作通知如下。</p>"
            "<p>一、各地要于3月底前举办专场招聘会不少于2场。</p></div></body></html>")
    article = extract_article(html, "x")
    assert (article.date, article.publisher) == ("2023-03-08", "市人社局")
    assert article.paragraphs == [
        "各县（市、区）人力资源和社会保障局：现就做好2023年春季招聘工作通知如下。",
        "一、各地要于3月底前举办专场招聘会不少于2场。"]


# ------------------------------------------------------------------ as release sources


def test_html_files_are_releases_with_their_stem_as_id(tmp_path: Path) -> None:
    for name, saved in (("gov-portal.html", "GOV-PORTAL.HTML"), ("stats-table.htm", "STATS-TABLE.htm"),
                        ("column-list.html", "COLUMN-LIST.HTML"),
                        ("hk-press-big5.html", "HK-PRESS-BIG5.html")):
        shutil.copy(HTML / name, tmp_path / saved)
    problems: list[Problem] = []
    releases = {r.doc_id: r for r in read_releases([tmp_path], problems)}
    assert problems == [Problem(str(tmp_path / "COLUMN-LIST.HTML"),
                                "no article text in the page (a list or index page?)", True)]
    assert sorted(releases) == ["GOV-PORTAL", "HK-PRESS-BIG5", "STATS-TABLE"]
    gov = releases["GOV-PORTAL"]
    assert [p.text for p in gov.paragraphs] == ["德州市“稳就业促发展”新闻发布会", *GOV_BODY]
    assert [p.section for p in gov.paragraphs][:2] == ["title", "body"]
    assert (gov.date, gov.publisher, gov.url) == (
        "2023-05-06", "德州市人民政府",
        "http://www.dezhou.gov.cn/n1/art/2023/5/6/art_3401_12345.html")
    assert gov.location == gov.source == str(tmp_path / "GOV-PORTAL.HTML")
    assert gov.content_hash and len(gov.content_hash) == 64
    assert releases["HK-PRESS-BIG5"].date == "2024-03-21"  # from the text, as for .txt files


def test_jsonl_records_may_carry_html_and_a_publisher(tmp_path: Path) -> None:
    lines = [
        {"id": "p1", "html": page("gov-portal.html"), "url": "https://example.org/p1"},
        {"id": "p2", "html": page("stats-table.htm"), "title": "上半年各县生产总值",
         "publisher": "德州市统计局办公室", "date": "2023-08-01"},
        {"id": "t1", "text": "标题\n正文", "publisher": "德州日报"},
        {"id": "p3", "html": page("column-list.html")},
        {"id": "p4", "html": 7},
    ]
    corpus = tmp_path / "pages.jsonl"
    corpus.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
                      encoding="utf-8")
    problems: list[Problem] = []
    releases = {r.doc_id: r for r in read_releases([corpus], problems)}
    assert problems == [
        Problem(f"{corpus}:4", "no article text in the page (a list or index page?)", True),
        Problem(f"{corpus}:5", 'invalid "html" (a string)', True),
    ]
    # The record's own fields win over the page's.
    assert (releases["p1"].title, releases["p1"].url, releases["p1"].publisher) == (
        "德州市“稳就业促发展”新闻发布会", "https://example.org/p1", "德州市人民政府")
    assert [p.text for p in releases["p1"].paragraphs][1:] == GOV_BODY
    assert (releases["p2"].title, releases["p2"].publisher, releases["p2"].date) == (
        "上半年各县生产总值", "德州市统计局办公室", "2023-08-01")
    assert releases["p2"].paragraphs[3].text == "德城区　256.3　6.1"
    assert (releases["t1"].publisher, releases["t1"].url) == ("德州日报", None)


def test_publisher_is_stored_with_the_release_and_incremental_reindex_of_pages(
        tmp_path: Path) -> None:
    src = tmp_path / "saved-pages"
    src.mkdir()
    shutil.copy(HTML / "gov-portal.html", src)
    shutil.copy(HTML / "dzwww-news.html", src)
    ix_dir = tmp_path / "index"
    assert build_index([src], ix_dir).added == 2
    report = build_index([src], ix_dir)
    assert (report.full, report.unchanged, report.added) == (False, 2, 0)
    (src / "dzwww-news.html").write_bytes(
        (HTML / "dzwww-news.html").read_bytes().replace("纪念大会后".encode("gb2312"),
                                                       "百年校庆后".encode("gb2312")))
    report = build_index([src], ix_dir)
    assert (report.updated, report.unchanged) == (1, 1)
    with open_index(ix_dir) as ix:
        rel = ix.document("dzwww-news")
        assert rel.publisher == "德州新闻网"
        assert rel.paragraphs[-1].text.startswith("百年校庆后")
        assert ix.manifest()["dzwww-news"].publisher == "德州新闻网"
        hit = ix.search("百年校庆").hits[0]
        assert (hit.doc_id, hit.publisher, hit.url) == (
            "dzwww-news", "德州新闻网",
            "http://www.dezhoudaily.com/news/dezhou/folder136/2023/09/2023-09-16/1234567.html")
