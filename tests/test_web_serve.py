"""The options of ``release-search serve``, on the live server (waitress in a subprocess).

Idle and slow clients cannot lock others out: the connection limit, idle timeout and request
deadline (``--connection-limit / --channel-timeout / --request-timeout``) are exercised with
real sockets, idle ones that send nothing and slow ones that send a header line now and then
and never finish their request. ``--base-url`` fixes the URLs of ``/opensearch.xml``.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from test_web_support import REPO, SEEDS, LiveServer

from search import build_index
from search.cli import main
from web import server as web_server


class CliServer(LiveServer):
    """``python -m search serve OPTIONS`` (the CLI users run) in a subprocess."""

    def __init__(self, index_dir: Path, log_dir: Path, *options: str) -> None:
        super().__init__(index_dir, [SEEDS], log_dir)
        self.options = options

    def __enter__(self) -> CliServer:
        command = [sys.executable, "-m", "search", "serve", "--index-dir", str(self.index_dir), "--port", "0",
                   *self.options]
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err)
        self.base_url = self._wait_for_address()
        return self


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("connections") / "index"
    build_index([SEEDS], path)
    return path


def address(server: LiveServer) -> tuple[str, int]:
    url = urlsplit(server.base_url)
    return url.hostname or "", url.port or 80


def connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(address(server), timeout=10)


def wait_closed(sock: socket.socket, limit: float) -> bytes:
    """Block until the server closes ``sock`` (at most ``limit`` seconds); what it sent first."""
    sock.settimeout(limit)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


@pytest.fixture
def slow_clients() -> Iterator[list[socket.socket]]:
    """Sockets appended here get one more header line every 0.5 s until the test ends."""
    clients: list[socket.socket] = []
    stop = threading.Event()

    def drip() -> None:
        n = 0
        while not stop.wait(0.5):  # the clients' pace: this is what a slow client is
            n += 1
            for sock in list(clients):
                try:
                    sock.sendall(f"X-Slow-{n}: still coming\r\n".encode())
                except OSError:
                    clients.remove(sock)
                    sock.close()

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    yield clients
    stop.set()
    thread.join(timeout=5)
    for sock in clients:
        sock.close()


def test_150_idle_and_slow_connections_do_not_stop_a_normal_request(
    index_dir: Path, tmp_path: Path, slow_clients: list[socket.socket]
) -> None:
    with LiveServer(index_dir, [SEEDS], tmp_path) as server:  # the defaults of `serve`
        idle = [connect(server) for _ in range(75)]
        for _ in range(75):
            sock = connect(server)
            sock.sendall(b"GET /api/search?q=%E7%BB%9F%E7%AD%B9 HTTP/1.1\r\nHost: x\r\n")
            slow_clients.append(sock)
        try:
            started = time.monotonic()
            response = requests.get(server.base_url + "/api/search?q=统筹", timeout=10)
            assert response.status_code == 200
            assert response.json()["total"] == 4
            assert time.monotonic() - started < 5
            assert len(slow_clients) == 75  # all still held open: the request got in beside them
        finally:
            for sock in idle:
                sock.close()
        assert "connection limit" not in server.stderr()


def test_a_request_not_sent_whole_in_time_is_cut_off(index_dir: Path, tmp_path: Path) -> None:
    with CliServer(index_dir, tmp_path, "--request-timeout", "2", "--channel-timeout", "60") as server:
        sock = connect(server)
        started = time.monotonic()
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        received = b""
        closed = False
        while not closed and time.monotonic() - started < 15:
            # One header line every 0.3 s: always active, never finished.
            if select.select([sock], [], [], 0.3)[0]:
                received = wait_closed(sock, 5)
                closed = True
            else:
                try:
                    sock.sendall(b"X-Slow: still coming\r\n")
                except OSError:  # reset while sending: closed too
                    closed = True
        elapsed = time.monotonic() - started
        sock.close()
        assert closed and received == b""
        assert 2 <= elapsed < 8, elapsed
        assert requests.get(server.base_url + "/api/health", timeout=10).status_code == 200
    assert "closed 1 connection that did not send a whole request within 2 s" in server.stderr()


def test_an_idle_connection_is_closed_after_the_channel_timeout(index_dir: Path, tmp_path: Path) -> None:
    with CliServer(index_dir, tmp_path, "--channel-timeout", "2") as server:
        started = time.monotonic()  # before the server can have accepted the connection
        sock = connect(server)
        assert wait_closed(sock, 15) == b""
        elapsed = time.monotonic() - started
        sock.close()
        assert 2 <= elapsed < 8, elapsed
        # Between requests of a kept-alive connection too.
        sock = connect(server)
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        received = wait_closed(sock, 15)
        elapsed = time.monotonic() - started
        sock.close()
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")
        assert 2 <= elapsed < 8, elapsed


def test_the_connection_limit_holds_new_connections_until_others_close(index_dir: Path, tmp_path: Path) -> None:
    with CliServer(index_dir, tmp_path, "--connection-limit", "20", "--channel-timeout", "2") as server:
        idle = [connect(server) for _ in range(30)]
        try:
            started = time.monotonic()
            response = requests.get(server.base_url + "/api/health", timeout=20)
            elapsed = time.monotonic() - started
        finally:
            for sock in idle:
                sock.close()
        assert response.status_code == 200
        assert elapsed >= 1.5, elapsed  # waited for idle connections to time out
        assert "total open connections reached the connection limit" in server.stderr()


def test_serve_refuses_a_connection_limit_beyond_the_open_files_limit(index_dir: Path) -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard limit on open files")
    too_many = hard
    done = subprocess.run([sys.executable, "-m", "search", "serve", "--index-dir", str(index_dir), "--port", "0",
                           "--connection-limit", str(too_many)], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: --connection-limit {too_many} needs {too_many + 64} open files")
    assert "Traceback" not in done.stderr


def test_cli_defaults_are_the_servers() -> None:
    defaults = {p.name: p.default for p in main.commands["serve"].params}
    assert (defaults["connection_limit"], defaults["channel_timeout"], defaults["request_timeout"]) == (
        web_server.CONNECTION_LIMIT, web_server.CHANNEL_TIMEOUT, web_server.REQUEST_TIMEOUT) == (1000, 30, 10)


def opensearch_templates(server: LiveServer, host: str) -> tuple[int, list[str]]:
    """Status and URL templates of /opensearch.xml asked for with ``Host: host`` (sent raw)."""
    with connect(server) as sock:
        sock.sendall(f"GET /opensearch.xml HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        response = wait_closed(sock, 10)
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if status != 200:
        return status, []
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    return status, [u.get("template") or "" for u in ET.fromstring(body).findall("os:Url", ns)]


def test_serve_base_url_is_used_whatever_the_host_header(index_dir: Path, tmp_path: Path) -> None:
    with CliServer(index_dir, tmp_path, "--base-url", "https://search.example.org/") as server:
        for host in ("evil.example", "a b", ""):
            assert opensearch_templates(server, host) == (200, [
                "https://search.example.org/?q={searchTerms}",
                "https://search.example.org/api/search?q={searchTerms}"])


def test_serve_without_base_url_refuses_an_invalid_host_header(index_dir: Path, tmp_path: Path) -> None:
    with LiveServer(index_dir, [SEEDS], tmp_path) as server:
        assert opensearch_templates(server, "search.example:8080") == (200, [
            "http://search.example:8080/?q={searchTerms}", "http://search.example:8080/api/search?q={searchTerms}"])
        for host in ("a b", "", "x/y"):
            assert opensearch_templates(server, host) == (400, [])


def test_serve_refuses_a_bad_base_url_before_anything_else(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "search", "serve", "--index-dir", str(tmp_path / "index"),
                           "--port", "0", "--base-url", "search.example.org"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("Error: BASE_URL must be an http:// or https:// URL of the site's root, without query "
                           "or fragment, got 'search.example.org'\n")
    assert not (tmp_path / "index").exists()
