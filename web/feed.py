"""The Atom 1.0 feed of a search (``/feed.atom``): its newest matching paragraphs.

Built with :mod:`xml.etree.ElementTree` (every text escaped by the serializer, never pasted
into markup), after the characters XML 1.0 cannot hold are replaced by U+FFFD. RFC 4287: the
feed has ``id``, ``title``, ``updated``, ``author``, ``link rel="self"`` (and ``alternate``,
the search page); each entry ``id`` (a ``tag:`` URI from the site's host, the release id and
the paragraph number: the same across reindexes), ``title`` (release title and paragraph
number), ``link`` to the paragraph on its release page, ``updated`` (the release date), a text
``summary`` (the paragraph) and, when known, an ``author`` (the speaker, else the publisher).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import quote

from search.models import Hit

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Entries in a feed.
FEED_ENTRIES = 20
#: When a release has no date (and an empty feed's ``updated``): RFC 4287 needs a time.
UNDATED = "1970-01-01T00:00:00Z"
#: What XML 1.0 cannot hold: C0 controls but tab, LF and CR; lone surrogates; U+FFFE, U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The feed's own author (RFC 4287: required unless every entry has one).
SITE_NAME = "新闻发布会检索"


def xml_text(text: str | None) -> str:
    """``text`` with the characters XML cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text or "")


def atom_time(date: str | None) -> str:
    """An ISO date as an RFC 3339 time (midnight UTC); :data:`UNDATED` without one."""
    return f"{date}T00:00:00Z" if date and _DATE.match(date) else UNDATED


def tag_authority(host: str) -> str:
    """The ``tag:`` URI authority of a site's host: the host without its port; an IPv6 literal,
    which RFC 4151 does not allow there (a DNS name or an e-mail address), gives ``localhost``
    (set ``BASE_URL`` for ids that name the site)."""
    if host.startswith("[") or host.count(":") > 1:
        return "localhost"
    return host.rsplit(":", 1)[0] if ":" in host else host


def entry_id(authority: str, hit: Hit) -> str:
    """The id of a paragraph's entry, the same for the same paragraph of the same release in
    every generation (RFC 4151 ``tag:`` URI)."""
    return f"tag:{authority},2026:doc/{quote(hit.doc_id, safe='')}/p{hit.paragraph}"


def atom_feed(*, title: str, self_url: str, alternate_url: str, feed_id: str, authority: str,
              hits: list[Hit], paragraph_url: Callable[[Hit], str]) -> bytes:
    """The feed as UTF-8 XML bytes, with an XML declaration."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
        if text is not None:
            el.text = xml_text(text)
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "updated", max((atom_time(h.date) for h in hits), default=UNDATED))
    sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    author = sub(feed, "author")
    sub(author, "name", SITE_NAME)
    sub(feed, "generator", "release-search")
    for hit in hits:
        entry = sub(feed, "entry")
        sub(entry, "id", entry_id(authority, hit))
        sub(entry, "title", f"{hit.title} 第{hit.paragraph}段")
        sub(entry, "link", rel="alternate", type="text/html", href=paragraph_url(hit))
        sub(entry, "updated", atom_time(hit.date))
        who = hit.speaker or hit.publisher
        if who:
            sub(sub(entry, "author"), "name", who)
        sub(entry, "summary", hit.text, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
