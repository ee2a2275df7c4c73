"""Hardening of the real server (``python -m web.server``, waitress, free loopback port).

* reindex under load: 8 concurrent clients keep querying while a full and then an incremental
  reindex run in another process; no request fails and the new releases become findable
  without a restart;
* soak (``slow``): ``benchmarks.soak`` with 2,000 requests and 3 reindexes: no errors, bounded
  memory growth, no leaked file descriptor or mapping of a superseded index file;
* safe defaults: loopback bind, path-like ids, no write methods, security headers on every
  response, request size limits, one log line per request.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from test_web_support import DOC_ID, REPO, SEEDS, STARTUP_LIMIT_S, LiveServer

from benchmarks.soak import FdCounts, fd_counts, open_index_files, soak, stale_index_files
from search import build_index
from web import create_app
from web.security import CONTENT_SECURITY_POLICY

#: Added to the sources before the full reindex (its words are not in the seed).
FLOOD_RELEASE = """济南市召开防汛抗旱工作新闻发布会
6月1日,济南市政府新闻办公室召开防汛抗旱工作新闻发布会,介绍全市汛期准备情况。
记者:今年汛期全市做了哪些准备?
市水务局副局长王明:全市已储备防汛物资,组织防汛抗旱演练十二次。
"""
#: Added before the incremental reindex.
TYPHOON_RELEASE = """青岛市台风防御工作新闻发布会
8月3日,青岛市召开台风防御工作新闻发布会,通报台风梅花的防御部署。
市应急管理局局长李华:全市转移渔船一千二百艘,台风梅花过境期间未发生人员伤亡。
"""
CLIENTS = 8


def _reindex(sources: Path, index_dir: Path, *, full: bool) -> str:
    """``python -m search reindex`` in its own process; returns its summary line."""
    command = [sys.executable, "-m", "search", "reindex", str(sources), "--index-dir", str(index_dir)]
    if full:
        command.append("--full")
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# ------------------------------------------------------------------- reindex under load


@dataclass(frozen=True)
class Outcome:
    """One answer a load client got."""

    path: str
    status: int
    body: dict | None  # None: not valid JSON
    at: float  # time.monotonic() when the answer arrived


LOAD_PATHS = [
    "/api/search?q=" + quote("统筹"),
    "/api/search?q=" + quote("防汛抗旱"),
    "/api/search?q=" + quote("台风梅花"),
    "/api/health",
    f"/api/documents/{DOC_ID}",
    "/api/search?q=" + quote("疫情") + "&page=2&per_page=5",
]


def _total(outcomes: list[Outcome], path: str) -> list[int]:
    return [o.body["total"] for o in outcomes if o.path == path and o.body is not None]


def test_reindex_under_load_fails_no_request_and_switches_data(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    index_dir = tmp_path / "index"
    build_index([sources], index_dir)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    stop = threading.Event()

    with LiveServer(index_dir, [sources], tmp_path) as live:
        pid = live.process.pid if live.process else None

        def client(number: int) -> None:
            with requests.Session() as session:
                i = number
                while not stop.is_set():
                    path = LOAD_PATHS[i % len(LOAD_PATHS)]
                    i += 1
                    try:
                        response = session.get(live.base_url + path, timeout=60)
                        status, text = response.status_code, response.text
                    except requests.RequestException as exc:
                        status, text = -1, repr(exc)
                    try:
                        body = json.loads(text)
                    except ValueError:
                        body = None
                    with lock:
                        outcomes.append(Outcome(path, status, body, time.monotonic()))

        def seen_by_clients(path: str, since: float) -> bool:
            with lock:
                return any(o.path == path and o.at > since and o.body and o.body.get("total", 0) > 0
                           for o in outcomes)

        def wait_for_clients(path: str, since: float) -> None:
            deadline = time.monotonic() + STARTUP_LIMIT_S  # a guard against hanging, not a timed assertion
            while not seen_by_clients(path, since) and time.monotonic() < deadline:
                time.sleep(0.1)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        try:
            while len(outcomes) < 4 * CLIENTS:  # every client under way on the old data
                time.sleep(0.05)
            (sources / "jinan-flood-control.txt").write_text(FLOOD_RELEASE, encoding="utf-8")
            full = _reindex(sources, index_dir, full=True)
            t_full = time.monotonic()
            wait_for_clients(LOAD_PATHS[1], t_full)
            (sources / "qingdao-typhoon.txt").write_text(TYPHOON_RELEASE, encoding="utf-8")
            incremental = _reindex(sources, index_dir, full=False)
            t_incremental = time.monotonic()
            wait_for_clients(LOAD_PATHS[2], t_incremental)
        finally:
            stop.set()
            for t in threads:
                t.join()
        health = live.get("/api/health").json()
        still_running = live.process is not None and live.process.poll() is None
        same_process = live.process is not None and live.process.pid == pid

    assert full.startswith("full reindex: 2 added, 0 updated, 0 removed, 0 unchanged; 2 releases, 35 paragraphs")
    assert incremental.startswith("incremental reindex: 1 added, 0 updated, 0 removed, 2 unchanged; "
                                  "3 releases, 38 paragraphs")
    failed = [o for o in outcomes if o.status != 200 or o.body is None]
    assert failed == []
    assert len(outcomes) >= 8 * CLIENTS
    # Every client kept getting answers, and the answers switched to the new data: the flood
    # release was not findable before the full reindex and was after it, likewise the typhoon one.
    flood, typhoon = _total(outcomes, LOAD_PATHS[1]), _total(outcomes, LOAD_PATHS[2])
    assert flood[0] == 0 and flood[-1] == 3 and set(flood) == {0, 3}
    assert typhoon[0] == 0 and typhoon[-1] == 3 and set(typhoon) == {0, 3}
    assert set(_total(outcomes, LOAD_PATHS[0])) == {4}  # the seed's answer never wavered
    assert {o.body["generation"] for o in outcomes if o.path == "/api/health"} == {"g000001", "g000002"}
    assert (health["releases"], health["paragraphs"], health["generation"]) == (3, 38, "g000002")
    assert still_running and same_process  # no restart


# ------------------------------------------------------------------------------ soak


@pytest.mark.slow
def test_soak_2000_requests_and_3_reindexes(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    index_dir = tmp_path / "index"
    build_index([sources], index_dir)
    with LiveServer(index_dir, [sources], tmp_path) as live:
        assert live.process is not None
        report = soak(live.base_url, live.process.pid, 2000, threads=8, reindexes=3,
                      index_dir=index_dir, sources=sources)
    print(report.to_dict())
    assert report.failures() == []
    assert report.requests >= 2000 and report.errors == 0, report.error_samples
    assert report.rss_growth is not None and report.rss_growth < 0.10
    assert (report.generation_before, report.generation_after) == ("g000001", "g000003")
    assert (report.releases_before, report.releases_after) == (1, 3)
    assert report.fds_before is not None and report.fds_after is not None
    # Other than the index's own (one set per live segment), the same files are open.
    assert (report.fds_after.files - report.index_fds_after
            == report.fds_before.files - report.index_fds_before)
    assert report.index_fds_after > 0
    assert report.fds_after.deleted == 0
    assert report.stale_files == []


def test_fd_counts_see_open_and_deleted_files(tmp_path: Path) -> None:
    before = fd_counts(os.getpid())
    kept = (tmp_path / "kept").open("w")
    doomed = (tmp_path / "doomed").open("w")
    os.unlink(tmp_path / "doomed")
    try:
        during = fd_counts(os.getpid())
    finally:
        kept.close()
        doomed.close()
    assert (during.files - before.files, during.deleted - before.deleted) == (1, 1)
    assert during.total - before.total == 2
    assert isinstance(before, FdCounts)


def test_stale_index_files_flags_an_old_generation_held_open(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    (index_dir / "g000001").mkdir(parents=True)
    (index_dir / "g000002").mkdir()
    (index_dir / "CURRENT").write_text("g000002\n", encoding="utf-8")
    live = (index_dir / "g000002" / "a.seg").open("w")
    old = (index_dir / "g000001" / "b.seg").open("w")
    try:
        held = open_index_files(os.getpid(), index_dir)
        stale = stale_index_files(os.getpid(), index_dir)
    finally:
        live.close()
        old.close()
    root = index_dir.resolve()
    assert held == [str(root / "g000001" / "b.seg"), str(root / "g000002" / "a.seg")]
    assert stale == [str(root / "g000001" / "b.seg")]


# ------------------------------------------------------------------------ safe defaults


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("hardening")
    with LiveServer(base / "index", [SEEDS], base) as live:
        yield live


def _raw(server: LiveServer, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Send ``path`` byte for byte (requests would normalise ``..``); (status, headers, body)."""
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            address, hex_port = cols[1].rsplit(":", 1)
            if cols[3] == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_serve_binds_to_loopback_by_default(server: LiveServer, tmp_path: Path) -> None:
    from search.cli import main

    (host_option,) = [p for p in main.commands["serve"].params if p.name == "host"]
    assert host_option.default == "127.0.0.1"
    # The live server was started without --host: it listens on 127.0.0.1 only.
    port = int(server.base_url.rsplit(":", 1)[1])
    assert server.base_url.startswith("http://127.0.0.1:")
    assert _listening_addresses(port) == {"0100007F"}
    # And so does `release-search serve` itself.
    shutil.copytree(server.index_dir, tmp_path / "index")
    out = tmp_path / "serve.out"
    with out.open("wb") as stdout:
        process = subprocess.Popen([sys.executable, "-m", "search", "serve", "--index-dir", str(tmp_path / "index"),
                                    "--port", "0"], cwd=REPO, stdout=stdout, stderr=subprocess.DEVNULL,
                                   env=dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1"))
    try:
        line = ""
        deadline = time.monotonic() + STARTUP_LIMIT_S  # a guard against hanging
        while not line and time.monotonic() < deadline and process.poll() is None:
            line = next((x for x in out.read_text().splitlines() if x.startswith("Serving on ")), "")
            time.sleep(0.05)
        assert re.fullmatch(r"Serving on http://127\.0\.0\.1:\d+", line), line
        assert _listening_addresses(int(line.rsplit(":", 1)[1])) == {"0100007F"}
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.parametrize("path", [
    "/doc/../../etc/passwd",
    "/doc/..%2F..%2Fetc%2Fpasswd",
    "/doc/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/doc/%2e%2e",
    "/doc/.",
    "/doc/%2Fetc%2Fpasswd",
    "/doc/..%5C..%5Cetc%5Cpasswd",
    "/doc/" + "a" * 10_000,
    "/api/documents/../../etc/passwd",
    "/api/documents/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/api/documents/%2e%2e%2f",
    "/api/documents/" + "a" * 10_000,
    "/api/documents/" + quote("统" * 3_000),
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2F..%2F..%2Fetc%2Fpasswd",
    "/%2e%2e/%2e%2e/etc/passwd",
])
def test_path_like_and_overlong_ids_are_404(server: LiveServer, path: str) -> None:
    status, headers, body = _raw(server, "GET", path)
    assert status == 404
    assert b"root:" not in body and b"/bin/" not in body
    if path.startswith("/api/"):
        assert json.loads(body) == {"error": {"code": "not_found", "message": "not found"}}
    else:
        assert '<span class="status">404</span>' in body.decode("utf-8")


def test_path_like_doc_filter_is_400(server: LiveServer) -> None:
    status, _h, body = _raw(server, "GET", "/api/search?q=x&doc=" + quote("../../etc/passwd", safe=""))
    assert (status, json.loads(body)) == (400, {"error": {"code": "invalid_doc",
                                                          "message": "doc is not a valid document id"}})


def _concrete(rule: str) -> str:
    return (rule.replace("<path:doc_id>", DOC_ID).replace("<path:filename>", "style.css"))


def test_every_route_is_read_only(server: LiveServer) -> None:
    rules = sorted(r.rule for r in create_app({"INDEX_DIR": "unused"}).url_map.iter_rules())
    assert rules == ["/", "/api/documents/<path:doc_id>", "/api/health", "/api/openapi.json", "/api/search",
                     "/api/search.csv", "/api/search.jsonl", "/api/suggest", "/doc/<path:doc_id>", "/favicon.ico",
                     "/feed.atom", "/opensearch.xml", "/static/<path:filename>"]
    for rule in create_app({"INDEX_DIR": "unused"}).url_map.iter_rules():
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    answers = {}
    for rule in rules:
        path = _concrete(rule)
        assert _raw(server, "GET", path)[0] == 200, path
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            status, headers, _body = _raw(server, method, path, body=b"x=1",
                                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            answers[(method, path)] = (status, headers.get("Allow"))
    assert {a for a in answers.values()} == {(405, "GET, HEAD, OPTIONS")}, answers
    assert not [r for r in rules if re.search(r"reindex|admin|upload|write|delete", r)]


SECURITY_CASES = [
    ("GET", "/", 200),
    ("GET", "/?q=" + quote("统筹"), 200),
    ("GET", f"/doc/{DOC_ID}", 200),
    ("GET", "/api/search?q=" + quote("统筹"), 200),
    ("GET", f"/api/documents/{DOC_ID}", 200),
    ("GET", "/api/health", 200),
    ("GET", "/api/openapi.json", 200),
    ("GET", "/opensearch.xml", 200),
    ("GET", "/favicon.ico", 200),
    ("GET", "/static/style.css", 200),
    ("GET", "/static/app.js", 200),
    ("GET", "/static/favicon.svg", 200),
    ("GET", "/static/missing.css", 404),
    ("GET", "/nowhere", 404),
    ("GET", "/api/nowhere", 404),
    ("GET", "/doc/missing", 404),
    ("GET", "/api/search?page=0", 400),
    ("GET", "/?page=0", 400),
    ("POST", "/api/search", 405),
    ("DELETE", "/", 405),
    ("HEAD", "/", 200),
    ("OPTIONS", "/api/search", 200),
]


@pytest.mark.parametrize(("method", "path", "status"), SECURITY_CASES, ids=[f"{m} {p[:30]}" for m, p, _ in SECURITY_CASES])
def test_security_headers_on_every_response(server: LiveServer, method: str, path: str, status: int) -> None:
    got, headers, _body = _raw(server, method, path)
    assert got == status
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def _raw_head_only(server: LiveServer, head: bytes) -> bytes:
    """Send a hand-written request head (and nothing more); return the raw answer."""
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def test_request_size_limits_are_4xx(server: LiveServer) -> None:
    # a long query string: the app's own 400
    status, headers, body = _raw(server, "GET", "/api/search?q=" + "a" * 100_000)
    assert (status, json.loads(body)["error"]["code"]) == (400, "query_too_long")
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    # a URL or header beyond waitress' 256 KiB header limit: waitress answers 431 itself
    assert _raw(server, "GET", "/api/search?q=" + "a" * 300_000)[0] == 431
    assert _raw(server, "GET", "/api/search?q=x", headers={"X-Padding": "a" * 300_000})[0] == 431
    # a body over the app's 16 KiB limit, whatever the method: the app's 413, with its headers
    for method, path in (("GET", "/api/search?q=x"), ("GET", "/"), ("POST", "/api/search")):
        status, headers, body = _raw(server, method, path, body=b"a" * 100_000)
        assert status == 413, (method, path)
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    status, _h, body = _raw(server, "GET", "/api/search?q=x", body=b"a" * 100_000)
    assert json.loads(body) == {"error": {"code": "payload_too_large", "message": "request entity too large"}}
    # a declared body over waitress' 1 MiB buffer: refused before it is read
    answer = _raw_head_only(server, b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n")
    # a chunked body over the app's limit
    chunk = b"a" * 20_000
    answer = _raw_head_only(server, b"GET /api/search?q=x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                            b"Connection: close\r\n\r\n" + b"%x\r\n" % len(chunk) + chunk + b"\r\n0\r\n\r\n")
    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 413 Request Entity Too Large", b"HTTP/1.1 413 REQUEST ENTITY TOO LARGE")


def test_one_log_line_per_request_with_its_time(server: LiveServer) -> None:
    marker = uuid.uuid4().hex
    sent = [("GET", f"/api/search?q={marker}", 200, "/api/search"),
            ("GET", f"/doc/{marker}", 404, f"/doc/{marker}"),
            ("POST", f"/api/documents/{marker}", 405, f"/api/documents/{marker}"),
            ("GET", f"/static/{marker}.css", 404, f"/static/{marker}.css"),
            ("GET", f"/api/documents/{marker}%0Aforged%20200", 404, f"/api/documents/{marker}\\nforged 200")]
    for method, path, status, _logged in sent:
        assert _raw(server, method, path)[0] == status
    deadline = time.monotonic() + 10  # the log is written asynchronously by another process
    pattern = r"INFO web\.requests: {} {} {} \d+\.\dms"
    while time.monotonic() < deadline:
        log = server.stderr()
        if all(re.search(pattern.format(m, re.escape(logged), s), log) for m, _p, s, logged in sent[1:]):
            break
        time.sleep(0.1)
    lines = [line for line in server.stderr().splitlines() if marker in line]
    assert len(lines) == 4  # the search logs its path only (no query string)
    for method, _path, status, logged in sent[1:]:
        assert re.search(pattern.format(method, re.escape(logged), status), log), logged
    assert not [line for line in server.stderr().splitlines() if line.startswith("forged")]


@pytest.mark.parametrize(("query", "code", "message"), [
    ("q=a&q=b", "repeated_parameter", "q must be given at most once"),
    ("q=a&per_page=&per_page=5", "repeated_parameter", "per_page must be given at most once"),
    ("q=a&page=", "invalid_page", "page must be a positive integer"),
    ("q=a&per_page=%205", "invalid_per_page", "per_page must be a positive integer"),
    ("q=a&page=1001", "invalid_page", "page must be at most 1000"),
    ("q=a&section=%20answer", "invalid_section",
     "section must be one of: title, body, question, answer, credits, boilerplate"),
    ("q=a&doc=.hidden", "invalid_doc", "doc is not a valid document id"),
])
def test_api_parameters_are_exactly_as_documented(server: LiveServer, query: str, code: str, message: str) -> None:
    status, _h, body = _raw(server, "GET", "/api/search?" + query)
    assert (status, json.loads(body)) == (400, {"error": {"code": code, "message": message}})


def test_html_search_stays_lenient_with_blank_numbers(server: LiveServer) -> None:
    assert _raw(server, "GET", "/?q=" + quote("统筹") + "&page=&section=")[0] == 200
    status, _h, body = _raw(server, "GET", "/api/search?q=" + quote("统筹") + "&section=")
    assert (status, json.loads(body)["total"]) == (200, 4)
