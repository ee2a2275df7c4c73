"""The JSON API under ``/api``: search, documents, health and the OpenAPI document."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, abort, current_app, jsonify, request

from search import (
    DOC_PER_PAGE,
    MAX_DOC_PAGE,
    MAX_DOC_PER_PAGE,
    MAX_SUGGEST_LIMIT,
    csv_chunks,
    jsonl_chunks,
)
from search.errors import IndexCorruptError, IndexNotFoundError
from web.index_holder import current_index
from web.openapi import openapi_document
from web.params import (
    is_acceptable_doc_id,
    iter_hits,
    parse_positive_int,
    request_filter_params,
    reject_repeated,
    request_search_params,
    require_digits,
    run_search,
)

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search() -> Response:
    """Search; the body is ``SearchResult.to_dict()`` (``dataclasses.asdict``), as ``release-search search --json``."""
    result = run_search(current_index(), request_search_params(api=True))
    return jsonify(result.to_dict())


class _Export:
    """A streamed export body that lets the hits' generation go when the server closes the
    response, even if the body was never read (WSGI calls ``close``)."""

    def __init__(self, stream, chunks):
        self._stream = stream
        self._chunks = chunks

    def __iter__(self):
        for chunk in self._chunks:
            yield chunk.encode("utf-8")

    def close(self) -> None:
        self._stream.close()


def _export(kind: str) -> Response:
    stream = iter_hits(current_index(), request_filter_params(),
                       current_app.config["EXPORT_ROWS"])
    if kind == "csv":
        chunks, mimetype = csv_chunks(stream, stream.total), "text/csv"
    else:
        chunks, mimetype = jsonl_chunks(stream, stream.total), "application/jsonl"
    response = Response(_Export(stream, chunks), mimetype=mimetype)
    response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="release-search.{kind}"'
    response.headers["X-Total-Count"] = str(stream.total)
    response.headers["X-Export-Rows"] = str(stream.rows)
    response.headers["X-Export-Truncated"] = "true" if stream.truncated else "false"
    return response


@bp.get("/search.csv")
def search_csv() -> Response:
    """Every match of a search (``q``, ``section``, ``speaker``, ``doc``), best first, up to
    ``MAX_EXPORT_ROWS``, as CSV (UTF-8 with a BOM; text cells guarded against formulas); a cut
    export ends with a ``# truncated: ...`` row and says so in ``X-Export-Truncated``."""
    return _export("csv")


@bp.get("/search.jsonl")
def search_jsonl() -> Response:
    """The same export as JSON Lines: one object per match, then ``{"truncated": true, ...}``
    if it was cut."""
    return _export("jsonl")


@bp.get("/suggest")
def suggest() -> Response:
    """Completions of ``q`` (``limit``, 10 by default): ``{"query", "suggestions": [{"text",
    "kind"}]}``; none for a blank ``q``."""
    reject_repeated(request.args, ("q", "limit"))
    require_digits(request.args, ("limit",))  # strict, as /api/search
    limit = parse_positive_int(request.args.get("limit"), "limit", 10, MAX_SUGGEST_LIMIT)
    query = request.args.get("q", "")
    found = current_index().suggest(query, limit=limit)
    return jsonify({"query": query, "suggestions": [s.to_dict() for s in found]})


@bp.get("/documents/<path:doc_id>")
def document(doc_id: str) -> Response:
    """A page of a release's paragraphs (``page``, ``per_page``: 1 and ``DOC_PER_PAGE`` by
    default) with the release's fields, then ``paragraph_count``, ``page``, ``per_page`` and
    ``pages`` (``dataclasses.asdict(ReleasePage)``); a page past the last has no paragraphs."""
    if not is_acceptable_doc_id(doc_id):
        abort(404)
    reject_repeated(request.args, ("page", "per_page"))
    require_digits(request.args, ("page", "per_page"))  # strict, as /api/search
    page = parse_positive_int(request.args.get("page"), "page", 1, MAX_DOC_PAGE)
    per_page = parse_positive_int(request.args.get("per_page"), "per_page", DOC_PER_PAGE,
                                  MAX_DOC_PER_PAGE)
    return jsonify(dataclasses.asdict(current_index().document(doc_id, page=page,
                                                               per_page=per_page)))


@bp.get("/health")
def health() -> tuple[Response, int]:
    """Whether the index is present, with its release and paragraph counts and generation."""
    try:
        stats = current_index().stats()
    except (IndexNotFoundError, IndexCorruptError):
        body = {"status": "unavailable", "index": False, "releases": 0, "paragraphs": 0, "generation": None}
        return jsonify(body), 503
    body = {
        "status": "ok",
        "index": True,
        "releases": stats.releases,
        "paragraphs": stats.paragraphs,
        "generation": stats.generation,
    }
    return jsonify(body), 200


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())
