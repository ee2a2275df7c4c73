"""The Atom feed of a search (``/feed.atom``): parsed by feedparser and checked against the
elements RFC 4287 requires; newest first, stable entry ids, empty and hostile feeds."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from search import build_index, open_index
from web import create_app

from conftest import write_release

ATOM = "{http://www.w3.org/2005/Atom}"
MARKER = "鲁西北"
DATED = 30  # releases, dated 2022-01-01 onwards, one matching paragraph each
HOSTILE_TEXT = f"{MARKER}<script>alert(1)</script>\x01\x0b &amp; ]]> 结束"


def write_dated(path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(DATED):
            day = f"2022-{i // 28 + 1:02d}-{i % 28 + 1:02d}"
            speaker = ("王海燕", None, "田汝勇")[i % 3]
            text = [f"第{i}场发布会通报了{MARKER}地区的情况。"]
            if speaker:
                text.append("记者：有什么进展？")
                text.append(f"市工信局副局长{speaker}：{MARKER}工作稳步推进。")
            f.write(json.dumps({"id": f"d{i:03d}", "title": f"第{i}场新闻发布会", "date": day,
                                "text": "\n".join(text),
                                "publisher": "德州市人民政府" if i % 2 else None},
                               ensure_ascii=False) + "\n")


@pytest.fixture(scope="module")
def feed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("feed")
    src = base / "src"
    src.mkdir()
    write_dated(src / "dated.jsonl")
    write_release(src, "hostile", "<b>标题</b>\x02", HOSTILE_TEXT)
    build_index([src], base / "index")
    return base / "index"


@pytest.fixture(scope="module")
def client(feed_index: Path):
    return create_app({"INDEX_DIR": str(feed_index), "TESTING": True}).test_client()


def get_feed(client, **args):
    r = client.get("/feed.atom", query_string=args)
    assert r.status_code == 200, r.data
    assert r.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    parsed = feedparser.parse(r.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return ET.fromstring(r.data), parsed


def check_rfc4287(root: ET.Element) -> None:
    """The elements RFC 4287 (4.1.1, 4.1.2) requires of a feed and of each entry."""
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    assert [link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert root.find(f"{ATOM}author/{ATOM}name").text  # so no entry needs its own
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        links = entry.findall(f"{ATOM}link")
        assert links and links[0].get("rel") == "alternate"
        assert entry.find(f"{ATOM}summary").get("type") == "text"


def test_feed_is_the_newest_twenty_matches(client, feed_index: Path) -> None:
    root, parsed = get_feed(client, q=MARKER)
    check_rfc4287(root)
    with open_index(feed_index) as ix:
        with ix.iter_hits(MARKER, sort="newest", limit=20) as stream:
            newest = list(stream)
        total = stream.total
        dates = sorted((h.date or "" for h in ix.iter_hits(MARKER)), reverse=True)
    assert total > 20 and len(parsed.entries) == 20
    assert [h.date or "" for h in newest] == dates[:20]  # the newest of all the matches
    assert [e.id for e in parsed.entries] == [
        f"tag:localhost,2026:doc/{h.doc_id}/p{h.paragraph}" for h in newest]
    dates = [e.updated for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)
    assert parsed.feed.updated == dates[0]
    for entry, hit in zip(parsed.entries, newest):
        assert entry.title == f"{hit.title} 第{hit.paragraph}段"
        assert entry.link == f"http://localhost/doc/{hit.doc_id}#p{hit.paragraph}"
        assert entry.updated == f"{hit.date}T00:00:00Z"
        assert entry.summary == hit.text
        assert entry.get("author") == (hit.speaker or hit.publisher)
    assert parsed.feed.title == f"新闻发布会检索：{MARKER}"
    self_link = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_link == [f"http://localhost/feed.atom?q=%E9%B2%81%E8%A5%BF%E5%8C%97"]
    assert parsed.feed.id == self_link[0]


def test_filters_narrow_the_feed(client, feed_index: Path) -> None:
    _root, parsed = get_feed(client, q=MARKER, section="answer")
    with open_index(feed_index) as ix:
        total = ix.search(MARKER, section="answer").total
    assert len(parsed.entries) == min(20, total)
    assert all(e.get("author") in ("王海燕", "田汝勇") for e in parsed.entries)
    for doc in ("d004", "d005"):  # without and with an answer
        _root, parsed = get_feed(client, q=MARKER, doc=doc)
        with open_index(feed_index) as ix, ix.iter_hits(MARKER, doc_id=doc, sort="newest") as stream:
            want = [f"tag:localhost,2026:doc/{doc}/p{h.paragraph}" for h in stream]
        assert [e.id for e in parsed.entries] == want and len(want) == (1 if doc == "d004" else 2)


def test_date_and_publisher_filters_narrow_the_feed(client, feed_index: Path) -> None:
    _root, parsed = get_feed(client, q=MARKER, **{"from": "2022-01-10", "to": "2022-01"},
                             publisher="德州市人民政府", sort="oldest")  # the feed is newest first
    with open_index(feed_index) as ix:
        with ix.iter_hits(MARKER, date_from="2022-01-10", date_to="2022-01",
                          publisher="德州市人民政府", sort="newest") as stream:
            want = [f"tag:localhost,2026:doc/{h.doc_id}/p{h.paragraph}" for h in stream]
    assert [e.id for e in parsed.entries] == want[:20] and want
    assert all("2022-01-10" <= e.updated[:10] <= "2022-01-31" for e in parsed.entries)
    # odd releases have the publisher: d011, d013, ... within 10-31 January
    assert {e.id.split("/")[1] for e in parsed.entries} == {f"d{i:03d}" for i in range(9, 28) if i % 2}
    r = client.get("/feed.atom", query_string={"q": MARKER, "from": "2022-02", "to": "2022-01"})
    assert r.status_code == 400


def test_entry_ids_are_stable_across_reindexes(tmp_path: Path, feed_index: Path, client) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_dated(src / "dated.jsonl")
    write_release(src, "hostile", "<b>标题</b>\x02", HOSTILE_TEXT)
    build_index([src], tmp_path / "index", full=True)
    before = [e.id for e in get_feed(client, q=MARKER)[1].entries]
    build_index([src], tmp_path / "index", full=True)  # a new generation
    other = create_app({"INDEX_DIR": str(tmp_path / "index"), "TESTING": True}).test_client()
    assert [e.id for e in get_feed(other, q=MARKER)[1].entries] == before


@pytest.mark.parametrize("args", [{"q": "量子计算机"}, {"q": ""}, {}, {"q": "<img src=x>"},
                                  {"q": MARKER, "doc": "missing"}])
def test_no_match_is_a_valid_empty_feed(client, args: dict) -> None:
    root, parsed = get_feed(client, **args)
    check_rfc4287(root)
    assert parsed.entries == []
    assert root.find(f"{ATOM}updated").text == "1970-01-01T00:00:00Z"
    if args.get("q") == "<img src=x>":
        assert parsed.feed.title == "新闻发布会检索：<img src=x>"  # text, escaped in the XML
        assert b"<img" not in client.get("/feed.atom", query_string=args).data


def test_hostile_text_is_escaped(client) -> None:
    r = client.get("/feed.atom", query_string={"q": MARKER, "doc": "hostile"})
    assert b"<script>" not in r.data and b"<b>" not in r.data
    root, parsed = get_feed(client, q=MARKER, doc="hostile")
    [entry] = parsed.entries
    assert entry.summary == HOSTILE_TEXT.replace("\x01", "\ufffd").replace("\x0b", "\ufffd")
    assert entry.title == "<b>标题</b>\ufffd 第2段"
    assert entry.updated == "1970-01-01T00:00:00Z"  # undated
    _root, parsed = get_feed(client, q="<script>")  # a hostile query finds the hostile text
    assert parsed.feed.title == "新闻发布会检索：<script>"
    assert [e.id for e in parsed.entries] == ["tag:localhost,2026:doc/hostile/p2"]


def test_bad_parameters_are_400(client) -> None:
    for args in ({"q": "陈" * 10_000}, {"q": MARKER, "section": "nope"}, {"q": [MARKER, "x"]}):
        r = client.get("/feed.atom", query_string=args)
        assert r.status_code == 400
        assert "Traceback" not in r.get_data(as_text=True)


def test_search_page_links_the_feed(client) -> None:
    page = client.get("/", query_string={"q": MARKER, "section": "answer"}).get_data(as_text=True)
    href = "/feed.atom?q=%E9%B2%81%E8%A5%BF%E5%8C%97&amp;section=answer"
    assert f'<link rel="alternate" type="application/atom+xml" title="{MARKER} - 新闻发布会检索" ' \
           f'href="{href}">' in page
    assert f'<a class="feed-link" href="{href}" type="application/atom+xml">' in page
    empty = client.get("/").get_data(as_text=True)
    assert "application/atom+xml" not in empty


def test_base_url_and_host_header(feed_index: Path) -> None:
    app = create_app({"INDEX_DIR": str(feed_index), "TESTING": True,
                      "BASE_URL": "https://search.example.org/releases/"})
    r = app.test_client().get("/feed.atom", query_string={"q": MARKER},
                              headers={"Host": "evil.example"})
    parsed = feedparser.parse(r.data)
    assert parsed.entries[0].id.startswith("tag:search.example.org,2026:doc/")
    assert parsed.entries[0].link.startswith("https://search.example.org/releases/doc/")
    assert b"evil.example" not in r.data
    bad = create_app({"INDEX_DIR": str(feed_index), "TESTING": True}).test_client()
    assert bad.get("/feed.atom", query_string={"q": MARKER},
                   headers={"Host": "a<b>"}).status_code == 400


@pytest.mark.parametrize("host,authority", [
    ("search.example.org", "search.example.org"), ("search.example.org:8080", "search.example.org"),
    ("127.0.0.1:5000", "127.0.0.1"), ("[::1]:5000", "localhost"), ("[2001:db8::1]", "localhost"),
    ("::1", "localhost")])
def test_tag_authority_is_a_dns_name(host, authority) -> None:
    from web.feed import tag_authority

    assert tag_authority(host) == authority
