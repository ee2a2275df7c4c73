"""The JSON API under ``/api``: search, documents, health and the OpenAPI document."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, abort, jsonify

from search.errors import IndexCorruptError, IndexNotFoundError
from web.index_holder import current_index
from web.openapi import openapi_document
from web.params import is_acceptable_doc_id, request_search_params, run_search

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search() -> Response:
    """Search; the body is ``SearchResult.to_dict()`` (``dataclasses.asdict``), as ``release-search search --json``."""
    result = run_search(current_index(), request_search_params(api=True))
    return jsonify(result.to_dict())


@bp.get("/documents/<path:doc_id>")
def document(doc_id: str) -> Response:
    """One release with its paragraphs (``dataclasses.asdict(Release)``)."""
    if not is_acceptable_doc_id(doc_id):
        abort(404)
    return jsonify(dataclasses.asdict(current_index().document(doc_id)))


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
