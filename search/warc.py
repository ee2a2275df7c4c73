"""Web crawls as sources: the HTML pages of ``.warc`` / ``.warc.gz`` files (read with warcio).

Every ``response`` record holding an HTML page (HTTP status 200, ``Content-Type`` text/html or
application/xhtml+xml, or no type and markup that starts like HTML) is a release; its article
is extracted like a saved page's (:mod:`search.html`), its charset taken from the HTTP header
first.  The other responses are skipped and counted by kind (:data:`SKIPPED_KINDS`): images,
style sheets and other non-HTML payloads, redirects (3xx), error and other non-200 responses.
Records of other types (requests, metadata, revisits, warcinfo) are not pages and are ignored.

A release's id comes from its URL (:func:`warc_id`): the host, a dash and the first 16 hex
digits of the SHA-256 of the normalised URL (``www.dezhou.gov.cn-3f2a9c1b7d4e5f60``), so it
stays the same across reindexes and crawls.  The same URL crawled more than once (in one file
or several): the newest page record (by ``WARC-Date``; on a tie, the later one) is read, the
others counted as older copies.  Where a record was read is ``FILE#URL``.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from search.errors import SourceError

__all__ = ["SKIPPED_KINDS", "WarcPage", "WarcPlan", "iter_pages", "normalize_url", "plan_warcs",
           "warc_id"]

#: The kinds of skipped crawl records counted in a reindex report, with how the summary
#: names them.
SKIPPED_KINDS = {
    "not_html": "not HTML",
    "redirect": "redirects",
    "error": "error responses",
    "older_copy": "older copies of a URL",
}

_HTML_START_RE = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)",
                            re.IGNORECASE | re.DOTALL)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DRAIN_BYTES = 1024 * 1024


def normalize_url(url: str) -> str:
    """``url`` as a WARC-Target-URI gives it, without ``<>`` (WARC 1.0), surrounding space,
    its fragment and a default port; scheme and host in lower case."""
    url = url.strip().removeprefix("<").removesuffix(">").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # not a URL we can take apart: used as it is
        return url.split("#", 1)[0]
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.username or parts.password:
        host = parts.netloc.rsplit("@", 1)[0] + "@" + host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path, parts.query, ""))


def warc_id(url: str) -> str:
    """The release id of the page at ``url``: ``<host>-<16 hex digits of sha256(url)>``, with
    ``url`` normalised (:func:`normalize_url`)."""
    normal = normalize_url(url)
    try:
        host = urlsplit(normal).hostname or "page"
    except ValueError:
        host = "page"
    host = re.sub(r"[^0-9A-Za-z.\-]", "_", host).strip(".") or "page"
    digest = hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{host[:100]}-{digest}"


@dataclass
class _Page:
    """Where a page record is: file number, record number, its WARC-Date."""

    file: int
    record: int
    date: str


@dataclass
class WarcPlan:
    """Which record of each URL is read: the newest page record of the URL across the files
    (``file, record`` numbers by normalised URL)."""

    files: dict[Path, int]
    newest: dict[str, tuple[int, int]]
    truncated: set[tuple[int, int]]  # page records cut off by the end of their file

    def is_newest(self, path: Path, record: int, url: str) -> bool:
        return self.newest.get(url) == (self.files.get(path), record)


def _kind(record) -> str | None:
    """``"page"``, a key of :data:`SKIPPED_KINDS`, or None for a record that is no response."""
    if record.rec_type != "response":
        return None
    http = record.http_headers
    if http is None:  # dns: and other non-HTTP responses
        return "not_html"
    try:
        status = int(http.get_statuscode() or 0)
    except ValueError:
        status = 0
    if 300 <= status < 400:
        return "redirect"
    if status != 200:
        return "error"
    content_type = http.get_header("Content-Type")
    if content_type is None:
        return "maybe"  # decided on the payload
    from search.html import is_html_content_type

    return "page" if is_html_content_type(content_type) else "not_html"


def _records(path: Path):
    """warcio's records of ``path``; raises :class:`SourceError` for a file that is no WARC."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    with open(path, "rb") as fh:
        try:
            yield from ArchiveIterator(fh)
        except ArchiveLoadFailed as error:
            raise SourceError(f"not a readable WARC file ({error})", str(path)) from None
        except Exception as error:  # warcio fails in many ways on damaged data
            if isinstance(error, (OSError, SourceError)) and getattr(error, "errno", None):
                raise  # an I/O error, reported as such
            raise SourceError(f"damaged WARC file ({type(error).__name__}: {error})"[:300],
                              str(path)) from None


def _target(record) -> str:
    return normalize_url(record.rec_headers.get_header("WARC-Target-URI") or "")


def plan_warcs(paths: list[Path]) -> WarcPlan:
    """A first pass over the WARC files ``paths`` (headers only): the newest page record of
    each URL.  A file that cannot be read here is left to the reading pass to report."""
    files = {path: number for number, path in enumerate(paths)}
    pages: dict[str, _Page] = {}
    truncated: set[tuple[int, int]] = set()
    for path, number in files.items():
        try:
            for index, record in enumerate(_records(path)):
                if _kind(record) not in ("page", "maybe"):
                    continue
                # A record cut off by the end of the file is not a copy of its page: an older
                # complete one is read instead.
                while record.raw_stream.read(_DRAIN_BYTES):
                    pass
                if getattr(record.raw_stream, "limit", 0):
                    truncated.add((number, index))
                    continue
                url = _target(record)
                date = record.rec_headers.get_header("WARC-Date") or ""
                seen = pages.get(url)
                # ISO dates compare as text; on a tie the later record wins.
                if seen is None or date >= seen.date:
                    pages[url] = _Page(number, index, date)
        except (SourceError, OSError):
            continue
    return WarcPlan(files, {url: (p.file, p.record) for url, p in pages.items()}, truncated)


@dataclass
class WarcPage:
    """One page record of a crawl, as :func:`iter_pages` gives it."""

    uri: str  # normalised (normalize_url)
    date: str  # WARC-Date, as recorded
    content_type: str  # the HTTP Content-Type ("" when none)
    payload: bytes | None  # the HTTP body, decoded from any transfer or content encoding
    problem: str | None = None  # why it is not read (payload None)

    @property
    def doc_id(self) -> str:
        return warc_id(self.uri)

    @property
    def digest(self) -> str:
        """sha256 of what makes the release: URL, Content-Type (its charset) and payload."""
        return hashlib.sha256(
            self.uri.encode("utf-8", "surrogatepass") + b"\n"
            + self.content_type.encode("latin-1", "replace") + b"\n" + (self.payload or b"")
        ).hexdigest()


def iter_pages(path: Path, limit: int, *, plan: WarcPlan | None = None,
               tally: Counter | None = None) -> Iterator[WarcPage]:
    """The pages of the WARC file ``path`` to read: the newest HTML page record of each URL
    (``plan``, from :func:`plan_warcs`; made for this file alone when not given).  Skipped
    records are counted in ``tally``; a page over ``limit`` bytes or cut off by the end of the
    file comes with its ``problem``.  Raises :class:`SourceError` for a file that is no WARC
    or is damaged."""
    if plan is None or path not in plan.files:
        plan = plan_warcs([path])
    tally = Counter() if tally is None else tally
    for index, record in enumerate(_records(path)):
        kind = _kind(record)
        if kind is None:
            continue
        if kind not in ("page", "maybe"):
            tally[kind] += 1
            continue
        uri = _target(record)
        date = record.rec_headers.get_header("WARC-Date") or ""
        content_type = record.http_headers.get_header("Content-Type") or ""
        if (plan.files[path], index) in plan.truncated:
            yield WarcPage(uri, date, content_type, None,
                           "truncated record (the file ends inside it)")
            continue
        if not plan.is_newest(path, index, uri):
            tally["older_copy"] += 1
            continue
        size = record.length or 0
        payload = record.content_stream().read(limit + 1)
        if len(payload) > limit or size > limit + 64 * 1024:  # HTTP headers come on top
            yield WarcPage(uri, date, content_type, None,
                           f"page too large (over the limit of {limit:,} bytes per release)")
            continue
        if kind == "maybe" and not _HTML_START_RE.match(payload[:4096]):
            tally["not_html"] += 1
            continue
        yield WarcPage(uri, date, content_type, payload)
