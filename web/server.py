"""Run the web app: build the index first if it is missing, then serve with waitress.

``python -m web.server [--index-dir DIR] [--host H] [--port P] [--debug] [--source PATH ...]
[--base-url URL] [--connection-limit N] [--channel-timeout S] [--request-timeout S]`` does the
same as ``release-search serve``. ``--port 0`` picks a free port; the line
``Serving on http://HOST:PORT`` is printed (and flushed) once the socket is bound.

Idle and slow clients cannot lock others out: up to :data:`CONNECTION_LIMIT` connections are
open at once (waitress's own default, 100, was used up by 100 idle clients), an idle connection
is closed after :data:`CHANNEL_TIMEOUT` seconds, and a request must arrive whole within
:data:`REQUEST_TIMEOUT` seconds of its first byte, however busily it trickles in (waitress
itself only closes connections that fall silent). On the internet, put a reverse proxy in
front (README: "Serving on the internet") for limits per client address.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path

from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

from search.errors import SearchError
from web import create_app
from web.config import load_config

#: Threads answering requests under waitress.
THREADS = 8
#: Largest request body waitress buffers (it answers 413 itself beyond); the app refuses any body
#: over its ``MAX_CONTENT_LENGTH`` (16 KiB) with its own 413.
MAX_REQUEST_BODY = 1024 * 1024
#: Most connections open at once (``--connection-limit``); past it, new connections wait in the
#: kernel's listen queue (waitress's backlog, 1024) until others close.
CONNECTION_LIMIT = 1000
#: Seconds a connection with no request in progress stays open (``--channel-timeout``).
CHANNEL_TIMEOUT = 30
#: Seconds a client has, from a request's first byte, to send all of it: request line, headers
#: and body (``--request-timeout``).
REQUEST_TIMEOUT = 10
#: How often (seconds) waitress checks the timeouts: they act within this long of expiring.
CLEANUP_INTERVAL = 1
#: File descriptors kept for the index, logs and the server's own sockets besides connections.
RESERVED_FILES = 64

logger = logging.getLogger("web.server")


def ensure_index(index_dir: str, sources: Sequence[str]) -> bool:
    """Build the index from ``sources`` if none exists at ``index_dir``; return whether it was built."""
    from search import IndexNotFoundError, build_index, open_index

    try:
        open_index(index_dir).close()
    except IndexNotFoundError:
        report = build_index([Path(s) for s in sources], index_dir)
        print(report.summary(), flush=True)
        return True
    return False


class ServeError(SearchError):
    """The server cannot start (the address is in use, not local, not allowed)."""


def _check_bindable(host: str, port: int) -> None:
    """Raise ServeError if ``host:port`` cannot be bound (checked with a socket of our own,
    closed at once: waitress leaves a half-built server's sockets open when its bind fails)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:  # port taken, address not ours, no permission, unknown host...
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


class _Channel(HTTPChannel):
    """A waitress connection that remembers when the request it is receiving began."""

    request_started = 0.0

    def received(self, data: bytes) -> bool:
        before = self.request
        result = super().received(data)
        if self.request is not None and self.request is not before:  # a new request began
            self.request_started = time.monotonic()
        return result


class _Server(TcpWSGIServer):
    """waitress's TCP server plus a deadline for receiving each request."""

    channel_class = _Channel

    def __init__(self, *args, request_timeout: int, **kwargs) -> None:
        self.request_timeout = request_timeout
        super().__init__(*args, **kwargs)

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # closes connections idle for channel_timeout
        cutoff = time.monotonic() - self.request_timeout
        late = [channel for channel in self.active_channels.values()
                if not channel.requests and channel.request is not None
                and channel.request_started < cutoff and not channel.will_close]
        for channel in late:
            channel.will_close = True  # the main loop closes it without an answer
        if late:
            logger.info("closed %d connection%s that did not send a whole request within %d s",
                        len(late), "" if len(late) == 1 else "s", self.request_timeout)


def _ensure_open_files(connection_limit: int) -> None:
    """Raise the soft limit on open files if ``connection_limit`` connections need it (up to
    the hard limit); ServeError if even that is too low."""
    import resource

    needed = connection_limit + RESERVED_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard == resource.RLIM_INFINITY or hard >= needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        return
    raise ServeError(f"--connection-limit {connection_limit} needs {needed} open files, but this "
                     f"process may open at most {hard} (ulimit -n): lower --connection-limit")


def create_server(app, host: str, port: int, *, connection_limit: int = CONNECTION_LIMIT,
                  channel_timeout: int = CHANNEL_TIMEOUT, request_timeout: int = REQUEST_TIMEOUT):
    """waitress's ``create_server`` for TCP, with :class:`_Server` on every listening socket;
    returns the server to ``run()`` and the port bound."""
    from waitress.adjustments import Adjustments
    from waitress.server import MultiSocketServer
    from waitress.task import ThreadedTaskDispatcher

    adj = Adjustments(
        host=host, port=port, threads=THREADS, max_request_body_size=MAX_REQUEST_BODY,
        connection_limit=connection_limit, channel_timeout=channel_timeout,
        cleanup_interval=CLEANUP_INTERVAL,
        # select() cannot watch descriptors past 1023; poll() has no such limit.
        asyncore_use_poll=True,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    socket_map: dict = {}
    servers = [_Server(app, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=info,
                       request_timeout=request_timeout) for info in adj.listen]
    if len(servers) == 1:
        return servers[0], servers[0].effective_port
    listening = [(s.effective_host, s.effective_port) for s in servers]
    return (MultiSocketServer(socket_map, adj, listening, dispatcher, servers[-1].log_info),
            servers[0].effective_port)


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("web").setLevel(logging.INFO)


def serve(
    index_dir: str,
    host: str = "127.0.0.1",
    port: int = 5000,
    debug: bool = False,
    sources: Sequence[str] = ("seeds",),
    base_url: str | None = None,
    connection_limit: int = CONNECTION_LIMIT,
    channel_timeout: int = CHANNEL_TIMEOUT,
    request_timeout: int = REQUEST_TIMEOUT,
    synonyms: str | None = None,
    scheduler: str | None = None,
) -> None:
    """Serve the search site for the index at ``index_dir`` (built from ``sources`` if missing).

    Runs waitress with :data:`THREADS` threads and the given connection limit and timeouts;
    ``base_url`` (else ``RELEASE_SEARCH_BASE_URL``) is the site's public root URL.
    ``debug=True`` uses Flask's development server instead. ``synonyms`` (else
    ``RELEASE_SEARCH_SYNONYMS``) is a synonyms file read instead of the index directory's.
    ``scheduler``: search a sharded index in actors on that Dask cluster. Blocks until the
    server stops.
    """
    _configure_logging()
    config = {"INDEX_DIR": index_dir}
    if synonyms is not None:
        config["SYNONYMS"] = synonyms
    if base_url is not None:
        config["BASE_URL"] = base_url
    if scheduler:
        config["SCHEDULER"] = scheduler
    load_config(os.environ, config)  # a bad BASE_URL is an error before any index is built
    if not debug:
        _ensure_open_files(connection_limit)
    ensure_index(index_dir, sources)
    from search import load_dictionary

    # Pay jieba's dictionary load now, not in the first reader's request.
    logging.getLogger("web").info("jieba dictionary loaded in %.2f s", load_dictionary())
    app = create_app(config)
    if scheduler:  # the actors start now, and a cluster that cannot be reached is said now
        app.extensions["release_search"].get()
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    _check_bindable(host, port)
    try:
        server, bound_port = create_server(app, host, port, connection_limit=connection_limit,
                                           channel_timeout=channel_timeout,
                                           request_timeout=request_timeout)
    except OSError as exc:  # lost a race for the port since the check
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    logger.info("at most %d connections; idle ones closed after %d s; a request must arrive "
                "within %d s of its first byte", connection_limit, channel_timeout, request_timeout)
    print(f"Serving on http://{host}:{bound_port}", flush=True)
    server.run()


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point of ``python -m web.server``."""
    parser = argparse.ArgumentParser(prog="python -m web.server", description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default="index")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("--source", action="append", dest="sources", help="source file or folder (repeatable)")
    parser.add_argument("--base-url", default=None, help="the site's public root URL")
    parser.add_argument("--connection-limit", type=int, default=CONNECTION_LIMIT)
    parser.add_argument("--channel-timeout", type=int, default=CHANNEL_TIMEOUT)
    parser.add_argument("--request-timeout", type=int, default=REQUEST_TIMEOUT)
    args = parser.parse_args(argv)
    for name in ("connection_limit", "channel_timeout", "request_timeout"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    try:
        serve(args.index_dir, args.host, args.port, args.debug, tuple(args.sources or ("seeds",)),
              base_url=args.base_url, connection_limit=args.connection_limit,
              channel_timeout=args.channel_timeout, request_timeout=args.request_timeout)
    except SearchError as exc:
        raise SystemExit(f"Error: {exc}") from None


if __name__ == "__main__":
    main()
