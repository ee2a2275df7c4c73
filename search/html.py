"""Web pages as releases: decoding an HTML page, and extracting its article and metadata.

* charsets: what a page declares (:func:`declared_charset`: ``<meta charset>``, ``<meta
  http-equiv="Content-Type">``, an XML declaration; :func:`charset_of_content_type` for an
  HTTP header) and the codec to read it with (:func:`charset_codec`: GB2312 and GBK as their
  superset GB18030, Latin-1 as Windows-1252); :func:`search.sources.decode_html` decides.
* :func:`extract_article` -- trafilatura's main-text extraction (precision mode): the
  article's paragraphs in order, without navigation, breadcrumbs, related-article and ranking
  lists, share bars, font-size widgets, print links, QR-code lines, scripts and footers (what
  trafilatura keeps of these is dropped by :data:`CHROME_RE`); a table becomes one paragraph
  per row, its cells separated by ideographic spaces.  Metadata: the title without its site suffix, the
  publication date, the publisher and the page's URL (see :func:`extract_article`).

trafilatura is imported on first use: searching never needs it.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from search.errors import SourceError

__all__ = [
    "CHROME_RE",
    "MIN_ARTICLE_CHARS",
    "Article",
    "charset_codec",
    "charset_of_content_type",
    "declared_charset",
    "extract_article",
    "is_html_content_type",
]

#: An article of fewer characters (title excluded) is no article: what is left of a list or
#: index page once its navigation is gone.
MIN_ARTICLE_CHARS = 20

#: How much of a page is searched for its ``<meta charset>`` (the declaration belongs in the
#: head; browsers look at the first 1024 bytes, real pages put scripts before it).
_PRESCAN_BYTES = 8192


@dataclass
class Article:
    """What a page gives: its article's paragraphs and metadata (None when not found)."""

    paragraphs: list[str]
    title: str | None = None
    date: str | None = None  # ISO YYYY-MM-DD
    publisher: str | None = None
    url: str | None = None


# ---------------------------------------------------------------------------- decoding

_META_CHARSET_RE = re.compile(
    rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml\s[^>]*encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_CONTENT_TYPE_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)

#: Declared charsets read with another codec: GB2312/GBK with their superset GB18030, Latin-1
#: and ASCII as Windows-1252 (as browsers do), UTF-16 (impossible in an ASCII meta tag) as
#: UTF-8.  Big5 (cp950 or Big5-HKSCS) is decided on the data by search.sources.
_CODEC_OF = {
    "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "hz": "gb18030",
    "latin_1": "cp1252", "ascii": "cp1252", "cp1252": "cp1252",
    "utf_16": "utf-8", "utf_16_le": "utf-8", "utf_16_be": "utf-8", "utf_8": "utf-8",
}
_BIG5_FAMILY = {"big5", "big5hkscs", "cp950"}
#: Labels Python does not know, as pages write them.
_LABELS = {"x-gbk": "gbk", "gb_2312-80": "gb2312", "csgb2312": "gb2312", "chinese": "gb2312",
           "x-euc-cn": "gb2312", "x-x-big5": "big5", "cn-big5": "big5", "csbig5": "big5",
           "x-big5": "big5", "unicode": "utf-8"}


def charset_of_content_type(value: str | None) -> str | None:
    """The ``charset`` parameter of a ``Content-Type`` header value, if any."""
    if not value:
        return None
    match = _CONTENT_TYPE_CHARSET_RE.search(value)
    return match.group(1) if match else None


def is_html_content_type(value: str | None) -> bool:
    """Whether a ``Content-Type`` value names an HTML page."""
    kind = (value or "").split(";", 1)[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def declared_charset(data: bytes) -> str | None:
    """The charset the page declares in its first bytes (meta tag or XML declaration)."""
    head = data[:_PRESCAN_BYTES]
    match = _XML_DECL_RE.match(head) or _META_CHARSET_RE.search(head)
    return match.group(1).decode("ascii") if match else None


def charset_codec(label: str | None) -> str | None:
    """The Python codec to read a page declaring charset ``label`` with (``"big5"`` for the
    Big5 family, decided on the data; None: unknown label)."""
    if not label:
        return None
    label = label.strip().lower()
    try:
        name = codecs.lookup(_LABELS.get(label, label)).name.replace("-", "_")
    except LookupError:
        return None
    if name in _BIG5_FAMILY:
        return "big5"
    return _CODEC_OF.get(name, name)


# ---------------------------------------------------------------------------- metadata

def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _metas(tree) -> dict[str, str]:
    """The page's ``<meta>`` values by lower-cased ``name``/``property``/``itemprop`` (the
    first of each)."""
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        content = _clean(meta.get("content"))
        if not content:
            continue
        for attr in ("name", "property", "itemprop"):
            key = (meta.get(attr) or "").strip().lower()
            if key:
                found.setdefault(key, content)
    return found


_DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})")
_PUBLISHED_LINE_RE = re.compile(
    r"(?:发布时间|发布日期|发表时间|发文日期|發佈時間|發布日期|发稿时间|时间|日期)\s*[:：]\s*"
    + _DATE_RE.pattern)
_SOURCE_LINE_RE = re.compile(r"(?:信息来源|稿件来源|文章来源|来源|來源)\s*[:：]\s*"
                             r"([^\s　|｜【】\[\]<>()（）:：]{2,30})")


def _iso(text: str | None) -> str | None:
    """The date at the start of ``text`` (``2023-05-06 10:30``, ``2023年5月6日``,
    ``2023-09-16T08:15:00+08:00``) as ISO, if it is a real date."""
    match = _DATE_RE.match((text or "").strip())
    if not match:
        return None
    try:
        return _dt.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return None


#: Trailing title parts that name a site or column, not the article: ``标题_德州新闻网``,
#: ``标题 - 鲁北晨报网``, ``标题 - 新闻公报``.
_SITE_PART_RE = re.compile(
    r"(?:网|网站|網|網站|门户|門戶|政府|频道|頻道|在线|在線|官网|官網|日报|日報|晚报|晚報|晨报|晨報|"
    r"时报|時報|新闻|新聞|公报|公報|首页|首頁|客户端|中心|电视台|電視台|广播电视台)$"
    r"|^[A-Za-z0-9.\- ]+$")
_TITLE_SEPARATOR_RE = re.compile(r"\s*(?:_|\||｜|--|——|—| - | – |－)\s*")


def _strip_site(title: str, names: set[str]) -> str:
    """``title`` without the site (and column) names before or after it."""
    parts = [p for p in _TITLE_SEPARATOR_RE.split(title) if p]
    if len(parts) < 2:
        return title
    while len(parts) > 1 and (parts[-1] in names or _SITE_PART_RE.search(parts[-1])):
        parts.pop()
    while len(parts) > 1 and parts[0] in names:
        parts.pop(0)
    if len(parts) == 1:
        return parts[0]
    # What is left keeps its own separators: "一季度 - 二季度 经济运行" is one title.
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end] if 0 <= start < end else title


def _absolute_url(href: str | None, base: str | None) -> str | None:
    href = (href or "").strip()
    if not href:
        return None
    url = urljoin(base, href) if base else href
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def _page_url(tree, metas: dict[str, str], base: str | None) -> str | None:
    """The page's own URL: its canonical link, ``og:url``, else ``base`` (where it was
    fetched).  A canonical link to a site's home page (a template's mistake) is ignored."""
    for href in [*tree.xpath("//link[@rel='canonical']/@href"), metas.get("og:url")]:
        url = _absolute_url(href, base)
        if url is None:
            continue
        if urlsplit(url).path.strip("/") == "" and base and urlsplit(base).path.strip("/"):
            continue
        return url
    return base


_SAVED_FROM_RE = re.compile(r"<!--\s*saved from url=\(\d+\)(https?://[^\s>]+?)\s*-->", re.I)


def saved_from(html: str) -> str | None:
    """The URL a browser noted when it saved the page (``<!-- saved from url=(0043)... -->``)."""
    match = _SAVED_FROM_RE.search(html[:2048])
    return match.group(1) if match else None


# ---------------------------------------------------------------------- article text

#: Lines of page furniture that trafilatura can leave in: breadcrumbs, font-size widgets,
#: print and close links, share bars, QR codes, footers and the date/source line under the
#: title (its values are the page's metadata).  Checked on lines of at most 120 characters.
CHROME_RE = re.compile(
    r"^(?:当前位置|您现在的位置|你现在的位置|您的位置|你的位置|所在位置|現在位置|目前位置)\s*[:：]"
    r"|字体\s*[:：]?\s*[【\[]?\s*(?:大\s*中\s*小|小\s*中\s*大)|字號\s*[:：]|【\s*字体|【\s*字號"
    r"|^[【\[\s]*(?:打印本页|打印此页|打印|关闭窗口|关闭本页|关闭|返回顶部|收藏|纠错)[】\]\s]*"
    r"(?:[【\[\s]*(?:打印本页|打印此页|打印|关闭窗口|关闭本页|关闭|返回顶部|收藏|纠错)[】\]\s]*)*$"
    r"|^分享(?:到|至)?\s*[:：]|扫一扫|扫描二维码|二维码|掃描二維碼"
    r"|版权所有|版權所有|网站标识码|ICP备|ICP證|ICP证|公网安备|公網安備|主办单位\s*[:：]"
    r"|承办单位\s*[:：]|技术支持\s*[:：]|浏览次数\s*[:：]|阅读次数\s*[:：]|点击数\s*[:：]"
    r"|^(?:(?:发布时间|发布日期|发表时间|时间|日期)\s*[:：]\s*)?(?:19|20)\d{2}\s*[-/年.]\s*\d{1,2}"
    r"\s*[-/月.]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?[\s　]*"
    r"(?:$|(?:信息来源|来源|來源|作者|编辑|责任编辑|浏览|点击)\s*[:：])"
    r"|^(?:信息来源|来源|來源)\s*[:：]\s*\S{1,30}$")

_CHROME_MAX_CHARS = 120


def _is_chrome(line: str) -> bool:
    return len(line) <= _CHROME_MAX_CHARS and CHROME_RE.search(line) is not None


def _lines(element) -> list[str]:
    """The text of an extracted element, split at its ``<lb/>`` line breaks."""
    out: list[str] = []
    current: list[str] = []

    def walk(node) -> None:
        if node.tag == "lb":
            out.append("".join(current))
            current.clear()
        elif node.text:
            current.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                current.append(child.tail)

    walk(element)
    out.append("".join(current))
    return [line for line in (_clean(x) for x in out) if line]


def _paragraphs(body) -> list[str]:
    """The extracted body (trafilatura's XML: ``head``, ``p``, ``list``/``item``,
    ``table``/``row``/``cell``, ``quote``...) as paragraphs in order: one per item and one per
    table row (cells separated by ideographic spaces, U+3000)."""
    out: list[str] = []
    for element in body:
        if element.tag == "table":
            for row in element.iter("row"):
                cells = [_clean(" ".join(cell.itertext())) for cell in row.iter("cell")]
                # U+3000, the Chinese typographic gap: repair removes ASCII spaces beside
                # Chinese punctuation, which would glue cells like "县（市、区）" to the next.
                line = "\u3000".join(c for c in cells if c)
                if line:
                    out.append(line)
        elif element.tag == "list":
            for item in element.iter("item"):
                out.extend(_lines(item))
        elif element.tag in ("graphic", "ref") and not _clean(" ".join(element.itertext())):
            continue
        else:
            out.extend(_lines(element))
    return out


def extract_article(html: str, source: str, base_url: str | None = None) -> Article:
    """The article of the page ``html`` (fetched from ``base_url``, when known).

    Metadata: title -- the ``ArticleTitle`` meta of Chinese government sites, ``og:title``,
    the article's ``h1``, else ``<title>``, without the site (or column) name before or after
    it; date -- ``PubDate``/``article:published_time``-style metas, ``<time datetime>``, a
    ``发布时间：`` line, else htmldate's reading of the markup (no date: the release's text is
    searched later); publisher -- ``og:site_name``, the ``SiteName`` meta, else the page's
    ``来源：`` line (or ``ContentSource`` meta); URL -- the canonical link, ``og:url``, else
    ``base_url`` or the URL a browser noted when saving the page.

    Raises :class:`SourceError` when the page holds no article (fewer than
    :data:`MIN_ARTICLE_CHARS` characters besides the title, as on a list page).
    """
    import trafilatura

    # lxml refuses text with an encoding declaration: the text is decoded already.
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html, count=1)
    tree = trafilatura.load_html(html)
    if tree is None:
        raise SourceError("not an HTML page (no article found)", source)
    metas = _metas(tree)
    base_url = base_url or saved_from(html)
    url = _page_url(tree, metas, base_url)
    page_text = _clean(" ".join(tree.itertext())) if tree.find(".//body") is not None else ""
    site = metas.get("og:site_name") or metas.get("sitename") or metas.get("application-name")
    source_line = _SOURCE_LINE_RE.search(page_text)
    publisher = site or metas.get("contentsource") or (
        source_line.group(1) if source_line else None)
    date = next((iso for iso in map(_iso, (
        metas.get("pubdate"), metas.get("article:published_time"), metas.get("publishdate"),
        metas.get("publish_date"), metas.get("datepublished"), metas.get("og:release_date"),
        metas.get("dc.date.issued"), metas.get("dc.date"), metas.get("firstpublishedtime"),
        *tree.xpath("//time/@datetime"))) if iso), None)
    if date is None and (line := _PUBLISHED_LINE_RE.search(page_text)):
        date = _iso(line.group(0)[line.start(1) - line.start(0):])
    names = {n for n in (site, metas.get("sitename"), metas.get("columnname"), publisher) if n}
    head_title = _clean(tree.findtext(".//title"))
    title_meta = metas.get("articletitle") or metas.get("og:title")

    doc = trafilatura.bare_extraction(
        tree, url=base_url, favor_precision=True, include_tables=True, include_comments=False,
        include_images=False, include_links=False, with_metadata=False, deduplicate=False)
    body = getattr(doc, "body", None) if doc is not None else None
    paragraphs = _paragraphs(body) if body is not None else []
    h1 = None
    if paragraphs and body is not None and len(body) and body[0].tag == "head":
        h1 = paragraphs[0]
    title = _strip_site(title_meta or h1 or head_title, names) if (
        title_meta or h1 or head_title) else None
    # The title is paragraph 1 of the release; the page repeats it as its h1.
    while paragraphs and title and paragraphs[0] in (title, h1, head_title):
        paragraphs.pop(0)
    paragraphs = [p for p in paragraphs if not _is_chrome(p)]
    if sum(len(p) for p in paragraphs) < MIN_ARTICLE_CHARS:
        raise SourceError("no article text in the page (a list or index page?)", source)
    if date is None:
        date = _htmldate(html, url)
    return Article(paragraphs=paragraphs, title=title or None, date=date,
                   publisher=publisher, url=url)


def _htmldate(html: str, url: str | None) -> str | None:
    """htmldate's reading of the page's markup and URL (not of its text: the release's own
    date line is read later, with the text's rules)."""
    from htmldate import find_date

    try:
        found = find_date(html, url=url, extensive_search=False, original_date=True)
    except Exception:  # htmldate fails on odd markup: the text may still give a date
        return None
    return _iso(found)
