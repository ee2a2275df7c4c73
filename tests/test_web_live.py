"""The real server over HTTP: ``python -m web.server`` (waitress) in a subprocess on a free loopback port.

Covers startup with a missing index (built from the sources first), live reindex without restart,
and 500 generated hostile requests (no 5xx, no injected markup).
"""

from __future__ import annotations

import http.client
import json
import random
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from test_web_support import DOC_ID, SEEDS, STARTUP_LIMIT_S, LiveServer

from search import build_index
from web.markup import marked_html
from web.security import CONTENT_SECURITY_POLICY

#: A second release, added while the server runs (its words are not in the seed).
NEW_RELEASE = """济南市召开防汛抗旱工作新闻发布会
6月1日,济南市政府新闻办公室召开防汛抗旱工作新闻发布会,介绍全市汛期准备情况。
记者:今年汛期全市做了哪些准备?
市水务局副局长王明:全市已储备防汛物资,组织防汛抗旱演练十二次。
"""
NEW_DOC_ID = "jinan-flood-control"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server started with no index: it must build one from the seeds first."""
    base = tmp_path_factory.mktemp("live")
    with LiveServer(base / "index", [SEEDS], base) as live:
        yield live


def test_server_builds_missing_index_and_serves(server: LiveServer) -> None:
    assert "1 releases, 31 paragraphs" in server.stdout()
    health = server.get("/api/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "index": True, "releases": 1, "paragraphs": 31, "generation": "g000001"}
    assert health.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert health.headers["X-Frame-Options"] == "DENY"
    page = server.get("/?q=" + quote("统筹"))
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '找到 <strong id="total">4</strong> 条结果' in page.text
    api = server.get("/api/search?q=" + quote("核酸檢測")).json()
    assert (api["total"], sorted(h["paragraph"] for h in api["hits"])) == (7, [5, 7, 8, 9, 17, 18, 21])
    doc = server.get(f"/doc/{DOC_ID}?q={quote('统筹')}&hl=2")
    assert doc.status_code == 200 and 'id="p2" class="para para-body hit-paragraph"' in doc.text
    assert server.get("/doc/missing").status_code == 404
    assert server.get("/api/search?page=0").json() == {
        "error": {"code": "invalid_page", "message": "page must be at least 1"}
    }
    # one log line per request: method, path, status, time in ms
    assert "web.requests: GET /api/health 200 " in server.stderr()
    assert "web.requests: GET /doc/missing 404 " in server.stderr()


def test_live_reindex_is_served_without_restart(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    index_dir = tmp_path / "index"
    build_index([sources], index_dir)
    with LiveServer(index_dir, [sources], tmp_path) as live:
        before = live.get("/api/search?q=" + quote("防汛抗旱")).json()
        assert before["total"] == 0
        statuses: list[int] = []
        totals: list[int] = []
        stop = threading.Event()

        def keep_searching() -> None:
            while not stop.is_set():
                response = live.get("/api/search?q=" + quote("统筹"))
                statuses.append(response.status_code)
                totals.append(response.json()["total"])

        worker = threading.Thread(target=keep_searching)
        worker.start()
        try:
            (sources / f"{NEW_DOC_ID}.txt").write_text(NEW_RELEASE, encoding="utf-8")
            report = build_index([sources], index_dir)
            assert "1 added" in report.summary()
            found = None
            deadline = time.monotonic() + STARTUP_LIMIT_S  # a guard against hanging, not a timed assertion
            while time.monotonic() < deadline:
                response = live.get("/api/search?q=" + quote("防汛抗旱"))
                statuses.append(response.status_code)
                if response.json()["total"] > 0:
                    found = response.json()
                    break
                time.sleep(0.2)
        finally:
            stop.set()
            worker.join()
        assert found is not None, "the new release never appeared"
        assert {h["doc_id"] for h in found["hits"]} == {NEW_DOC_ID}
        assert set(statuses) == {200}
        assert totals and set(totals) == {4}  # searches kept answering, from old and new index alike
        assert live.process is not None and live.process.poll() is None  # same process: no restart
        health = live.get("/api/health").json()
        assert (health["releases"], health["paragraphs"]) == (2, 35)
        page = live.get(f"/doc/{NEW_DOC_ID}?q={quote('防汛')}")
        assert page.status_code == 200
        assert "<mark>防汛</mark>" in page.text


# ------------------------------------------------------------------------- hostile input

FRAGMENTS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "</mark><b>x</b>",
    "<mark>",
    "'",
    '"',
    "`",
    "(",
    ")",
    "((",
    "))(",
    "[",
    "]",
    "{",
    "}",
    "OR",
    "AND",
    "NOT",
    "or",
    "-",
    "--",
    "-统筹",
    ":",
    "title:",
    "section:answer",
    "speaker:田汝勇",
    "doc:x",
    "*",
    "?",
    "~2",
    "^3",
    '"统筹',
    '"核酸 检测"',
    "\\",
    "&amp;",
    "&#x3c;script&#x3e;",
    "&lt;",
    "统筹",
    "核酸檢測",
    "疫情",
    "防控",
    "市商务局",
    "田汝勇",
    "a",
    "Z",
    "\u200b",
    "\ufeff",
    "\u202e",
    "\u0000",
    "\x1b[31m",
    "\t",
    "\r\n",
    "😀",
    "𠀀",
    "ｆｕｌｌ",
    "é",
    "\u0301",
    "%",
    "%%",
    "+",
    "&",
    "=",
    "#",
    "/",
    "../",
    "..\\",
    "javascript:alert(1)",
    "data:text/html,x",
    "99999999999999999999",
    "-1",
    "0",
    "1e9",
    "NaN",
    "统" * 300,
    "x" * 520,
]
#: Raw (already percent-encoded) pieces: invalid UTF-8, encoded surrogates, lone percent signs.
RAW_FRAGMENTS = ["%ED%A0%80", "%ED%BF%BF", "%C0%AF", "%FF%FE", "%80", "%E4%B8", "%", "%zz", "%2", "%00", "%25"]
NUMBERS = [
    "-1",
    "0",
    "1",
    "2",
    "3",
    "99999999999999999999",
    str(2**63),
    "1e3",
    "0x10",
    " 3",
    "٣",
    "1.5",
    "",
    "NaN",
    "-0",
    "+1",
    "1_0",
    "１",
]
SECTIONS = ["title", "body", "question", "answer", "credits", "boilerplate", "bogus", "<b>", "", "ANSWER"]
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "link",
    "script",
    "body",
    "header",
    "a",
    "form",
    "input",
    "select",
    "option",
    "button",
    "main",
    "section",
    "h1",
    "h2",
    "p",
    "strong",
    "span",
    "ul",
    "li",
    "ol",
    "nav",
    "footer",
    "kbd",
    "code",
    "div",
    "article",
    # the facets, the date inputs and the chart of matches per month (SVG drawn on the server)
    "aside",
    "h3",
    "label",
    "figure",
    "figcaption",
    "details",
    "summary",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "svg",
    "desc",
    "rect",
    "line",
    "text",
    "mark",
}
#: Classes of the elements holding highlighted text: only <mark> may appear inside (and, on a
#: release page, <span class="flagged" title="..."> around what the repair could not prove).
HIGHLIGHT_CLASSES = {"snippet", "para-text", "release-title"}


@dataclass(frozen=True)
class HostileCase:
    path: str  # URL path and query, already percent-encoded
    q: str | None  # the decoded query when it round-trips exactly (no raw fragments), else None


def _value(rng: random.Random) -> tuple[str, bool]:
    """An encoded hostile value and whether it is clean (decodes to the joined fragments)."""
    parts: list[str] = []
    clean = True
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.15:
            parts.append(rng.choice(RAW_FRAGMENTS))
            clean = False
        else:
            parts.append(quote(rng.choice(FRAGMENTS) + rng.choice(["", " ", "  ", " OR ", "-"]), safe=""))
    return "".join(parts), clean


def hostile_cases(count: int = 500, seed: int = 20240501) -> list[HostileCase]:
    rng = random.Random(seed)
    cases: list[HostileCase] = []
    for _ in range(count):
        endpoint = rng.choice(["/", "/", "/api/search", "/api/search", "/doc/", "/api/documents/"])
        params: list[str] = []
        q_encoded, q_clean = _value(rng)
        params.append("q=" + q_encoded)
        for name in ("page", "per_page", "hl"):
            if rng.random() < 0.4:
                params.append(f"{name}={quote(rng.choice(NUMBERS), safe='')}")
        if rng.random() < 0.3:
            params.append("section=" + quote(rng.choice(SECTIONS), safe=""))
        for name in ("speaker", "doc"):
            if rng.random() < 0.2:
                params.append(f"{name}={_value(rng)[0]}")
        if endpoint.endswith("/") and endpoint != "/":
            segment = rng.choice([DOC_ID, quote(rng.choice(FRAGMENTS), safe=""), rng.choice(RAW_FRAGMENTS), "a" * 300])
            endpoint += segment
        path = endpoint + "?" + "&".join(params)
        cases.append(HostileCase(path, unquote(q_encoded) if q_clean else None))
    return cases


class StructureChecker(HTMLParser):
    """Records the problems of a page: foreign tags, event attributes, scripts, markup inside highlights."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.search_box_value: str | None = None
        self._stack: list[tuple[str, bool]] = []  # (tag, inside a highlight element)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        inside = bool(self._stack) and self._stack[-1][1]
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"foreign tag <{tag}>")
        if inside and tag != "mark" and not (
                tag == "span" and set(attributes) == {"class", "title"}
                and attributes["class"] == "flagged"):  # a span the repair left, marked
            self.problems.append(f"<{tag}> inside highlighted text")
        if any(name.startswith("on") for name in attributes) or "style" in attributes:
            self.problems.append(f"event or style attribute on <{tag}>")
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "input" and attributes.get("id") == "q":
            self.search_box_value = attributes.get("value")
        if tag in ("meta", "link", "input"):
            return  # void elements
        classes = set((attributes.get("class") or "").split())
        self._stack.append((tag, inside or bool(classes & HIGHLIGHT_CLASSES)))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break


def check_html(text: str) -> StructureChecker:
    checker = StructureChecker()
    checker.feed(text)
    checker.close()
    return checker


def test_hostile_requests_never_fail_or_inject(server: LiveServer) -> None:
    cases = hostile_cases()
    assert len(cases) == 500
    failures: list[str] = []
    statuses: dict[int, int] = {}
    # http.client sends the path byte for byte (requests/urllib3 re-quote a URL with invalid escapes).
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    for case in cases:
        connection.request("GET", case.path)
        raw = connection.getresponse()
        status = raw.status
        text = raw.read().decode("utf-8")
        statuses[status] = statuses.get(status, 0) + 1
        where = f"{case.path[:120]} -> {status}"
        if status >= 500:
            failures.append(f"5xx: {where}")
        if "Traceback" in text:
            failures.append(f"traceback: {where}")
        if raw.getheader("Content-Security-Policy") != CONTENT_SECURITY_POLICY:
            failures.append(f"no CSP: {where}")
        content_type = raw.getheader("Content-Type", "")
        if content_type.startswith("text/html"):
            checker = check_html(text)
            failures += [f"{p}: {where}" for p in checker.problems]
            if checker.scripts != [{"src": "/static/app.js", "defer": None}]:
                failures.append(f"scripts {checker.scripts}: {where}")
            # the injected tags may only appear escaped (event attributes are checked by the
            # parser; the page's own chart is an <svg>, the injected one "<svg/onload")
            if any(raw_tag in text for raw_tag in ("<script>alert", "<img", "<svg/onload", "<b>")):
                failures.append(f"raw injection: {where}")
            on_search_page = case.path.startswith("/?") and status == 200
            if on_search_page and case.q is not None and checker.search_box_value != case.q:
                failures.append(f"search box {checker.search_box_value!r} != {case.q!r}: {where}")
        elif content_type.startswith("application/json"):
            body = json.loads(text)
            if status == 200 and "hits" in body:
                if case.q is not None and body["query"] != case.q:
                    failures.append(f"query {body['query']!r} != {case.q!r}: {where}")
                for hit in body["hits"]:
                    if marked_html(hit["snippet"]) != hit["snippet"]:
                        failures.append(f"markup in snippet {hit['snippet'][:80]!r}: {where}")
            elif status >= 400:
                error = body.get("error", {})
                if not (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
                    failures.append(f"bad error body {body}: {where}")
        else:
            failures.append(f"content type {content_type}: {where}")
    connection.close()
    assert failures == []
    # the generator exercises successes and each kind of rejection
    assert statuses.get(200, 0) > 100 and statuses.get(400, 0) > 50 and statuses.get(404, 0) > 20, statuses
    assert set(statuses) <= {200, 400, 404}, statuses


def test_structure_checker_flags_injected_markup() -> None:
    page = (
        '<html><head><script src="/static/app.js" defer></script></head><body>'
        '<p class="snippet">a<mark>b</mark><img src=x onerror=alert(1)></p><iframe></iframe></body></html>'
    )
    checker = check_html(page)
    assert checker.problems == [
        "foreign tag <img>",
        "<img> inside highlighted text",
        "event or style attribute on <img>",
        "foreign tag <iframe>",
    ]
    assert check_html('<p class="snippet">a<mark>b</mark>c</p>').problems == []


def test_a_taken_port_is_a_clean_error(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    from click.testing import CliRunner

    from search.cli import main

    index_dir = tmp_path / "index"
    build_index([SEEDS], index_dir)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--index-dir", str(index_dir), "--port", str(port)])
        assert result.exit_code == 1
        assert f"Error: cannot listen on 127.0.0.1:{port}: Address already in use" in result.output
        done = subprocess.run(
            [sys.executable, "-m", "web.server", "--index-dir", str(index_dir), "--port", str(port)],
            capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 1
        assert f"Error: cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
        assert "Traceback" not in done.stderr
