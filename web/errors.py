"""Error responses: JSON ``{"error": {"code", "message"}}`` under ``/api/``, Chinese HTML pages elsewhere.

Nothing a user sends produces a traceback: engine errors map to 400/404/503, and any other
exception is logged and answered with a generic 500 that never includes ``str(exc)``.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from search.errors import (
    DocumentNotFoundError,
    IndexCorruptError,
    IndexNotFoundError,
    QueryError,
    SearchError,
)
logger = logging.getLogger("web.errors")

#: Chinese titles and explanations of the HTML error pages.
HTML_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("请求无效", "请求的参数无效，请检查后重试。"),
    404: ("未找到页面", "您要找的页面或新闻稿不存在，可能已被删除或链接有误。"),
    405: ("不支持的请求方法", "此地址不支持该请求方法。"),
    413: ("请求过大", "请求内容超出了允许的大小。"),
    500: ("服务器内部错误", "服务器处理请求时出错，请稍后再试。"),
    503: ("检索服务暂不可用", "索引尚未建立或暂时无法读取，请先运行 release-search reindex。"),
}

#: Machine-readable codes of the HTTP errors.
HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    500: "internal_error",
    503: "index_unavailable",
}


def wants_json() -> bool:
    """Whether the current request is an API request (answered in JSON)."""
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, html_detail: str | None = None) -> tuple[Response | str, int]:
    """An error in the format of the current route: JSON for the API, an HTML page otherwise."""
    if wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    title, default_detail = HTML_MESSAGES.get(status, (f"错误 {status}", ""))
    return (
        render_template("error.html", status=status, title=title, detail=html_detail or default_detail),
        status,
    )


def _query_error(exc: QueryError) -> tuple[Response | str, int]:
    return error_response(400, exc.code, str(exc), f"参数无效：{exc}")


def _document_not_found(exc: DocumentNotFoundError) -> tuple[Response | str, int]:
    return error_response(404, "document_not_found", "no release with this id", "没有找到这篇新闻稿。")


def _index_unavailable(exc: SearchError) -> tuple[Response | str, int]:
    logger.warning("index unavailable: %s", exc)
    return error_response(503, "index_unavailable", "the search index is not available")


def _search_error(exc: SearchError) -> tuple[Response | str, int]:
    logger.exception("unexpected search error")
    return error_response(500, "internal_error", "internal server error")


def _http_error(exc: HTTPException) -> Response | HTTPException:
    status = exc.code or 500
    if status < 400:
        return exc
    code = HTTP_CODES.get(status, "http_error")
    response = make_response(error_response(status, code, exc.name.lower() if exc.name else code))
    valid_methods = getattr(exc, "valid_methods", None)
    if valid_methods:  # a 405 must say which methods are allowed (RFC 9110)
        response.headers["Allow"] = ", ".join(sorted(valid_methods))
    return response


def _unexpected(exc: Exception) -> tuple[Response | str, int]:
    logger.exception("unhandled exception on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "internal server error")


def install(app: Flask) -> None:
    """Register the error handlers on ``app``."""
    app.register_error_handler(QueryError, _query_error)
    app.register_error_handler(DocumentNotFoundError, _document_not_found)
    app.register_error_handler(IndexNotFoundError, _index_unavailable)
    app.register_error_handler(IndexCorruptError, _index_unavailable)
    app.register_error_handler(SearchError, _search_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
