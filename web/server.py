"""Run the web app: build the index first if it is missing, then serve with waitress.

``python -m web.server [--index-dir DIR] [--host H] [--port P] [--debug] [--source PATH ...]``
does the same as ``release-search serve``. ``--port 0`` picks a free port; the line
``Serving on http://HOST:PORT`` is printed (and flushed) once the socket is bound.
"""

from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import Sequence
from pathlib import Path

from search.errors import SearchError
from web import create_app

#: Threads answering requests under waitress.
THREADS = 8
#: Largest request body waitress buffers (it answers 413 itself beyond); the app refuses any body
#: over its ``MAX_CONTENT_LENGTH`` (16 KiB) with its own 413.
MAX_REQUEST_BODY = 1024 * 1024


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
) -> None:
    """Serve the search site for the index at ``index_dir`` (built from ``sources`` if missing).

    Runs waitress with :data:`THREADS` threads; ``debug=True`` uses Flask's development server
    instead. Blocks until the server stops.
    """
    _configure_logging()
    ensure_index(index_dir, sources)
    from search import load_dictionary

    # Pay jieba's dictionary load now, not in the first reader's request.
    logging.getLogger("web").info("jieba dictionary loaded in %.2f s", load_dictionary())
    app = create_app({"INDEX_DIR": index_dir})
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    import waitress

    _check_bindable(host, port)
    try:
        server = waitress.create_server(
            app, host=host, port=port, threads=THREADS, max_request_body_size=MAX_REQUEST_BODY
        )
    except OSError as exc:  # lost a race for the port since the check
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    print(f"Serving on http://{host}:{server.effective_port}", flush=True)  # type: ignore[union-attr]
    server.run()


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point of ``python -m web.server``."""
    parser = argparse.ArgumentParser(prog="python -m web.server", description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", default="index")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("--source", action="append", dest="sources", help="source file or folder (repeatable)")
    args = parser.parse_args(argv)
    try:
        serve(args.index_dir, args.host, args.port, args.debug, tuple(args.sources or ("seeds",)))
    except SearchError as exc:
        raise SystemExit(f"Error: {exc}") from None


if __name__ == "__main__":
    main()
