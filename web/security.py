"""Security headers and the per-request log line."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

logger = logging.getLogger("web.requests")

#: Only same-origin resources, no inline script or style, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _printable(text: str) -> str:
    """``text`` with control characters escaped, so a path cannot forge log lines."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _limit_body() -> None:
    """Refuse a request whose declared body exceeds ``MAX_CONTENT_LENGTH`` (413), whatever its method.

    Flask only enforces the limit when a view reads the body, and no view does: without this
    a GET carrying megabytes would be answered 200.
    """
    from flask import abort, current_app

    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def _finish(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    started = g.get("request_started")
    if started is not None and _log_enabled():
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("%s %s %d %.1fms", request.method, _printable(request.path), response.status_code, elapsed_ms)
    return response


def _log_enabled() -> bool:
    from flask import current_app

    return bool(current_app.config.get("LOG_REQUESTS", True))


def install(app: Flask) -> None:
    """Add the security headers to every response, refuse large bodies and log every request."""
    app.before_request(_start_timer)
    app.before_request(_limit_body)
    app.after_request(_finish)
