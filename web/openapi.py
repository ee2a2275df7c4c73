"""The OpenAPI 3.1 document of the JSON API (served at ``/api/openapi.json``)."""

from __future__ import annotations

import copy
from typing import Any

from search import (
    DATE_PATTERN,
    DOC_PER_PAGE,
    FACETS,
    MAX_DOC_ID_LENGTH,
    MAX_DOC_PAGE,
    MAX_DOC_PER_PAGE,
    MAX_EXPORT_ROWS,
    MAX_FILTER_LENGTH,
    MAX_PER_PAGE,
    MAX_QUERY_LENGTH,
    MAX_SUGGEST_LIMIT,
    SECTIONS,
    SORTS,
    SUGGESTION_KINDS,
)
from web.config import DEFAULTS
from web.params import DOC_ID_PATTERN

_NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


SCHEMAS: dict[str, Any] = {
    "Hit": {
        "type": "object",
        "required": ["doc_id", "title", "paragraph", "section", "speaker", "date", "score", "text", "snippet",
                     "publisher", "url", "organization"],
        "additionalProperties": False,
        "properties": {
            "doc_id": {"type": "string"},
            "title": {"type": "string"},
            "paragraph": {"type": "integer", "minimum": 1},
            "section": {"type": "string", "enum": list(SECTIONS)},
            "speaker": _NULLABLE_STRING,
            "date": _NULLABLE_STRING,
            "score": {"type": "number"},
            "text": {"type": "string", "description": "The displayed paragraph (plain text)."},
            "snippet": {"type": "string", "description": "HTML: text escaped, query matches in <mark>."},
            "publisher": {"type": ["string", "null"], "description": "Who published the release (a web page's site)."},
            "url": {"type": ["string", "null"], "description": "The release's original (its web page), when known."},
            "organization": {"type": ["string", "null"], "description": "The speaker's organisation, when known."},
        },
    },
    "FacetValue": {
        "type": "object",
        "required": ["value", "count"],
        "additionalProperties": False,
        "properties": {
            "value": {"type": "string", "minLength": 1},
            "count": {"type": "integer", "minimum": 1, "description": "Matching paragraphs with this value."},
        },
    },
    "SearchResult": {
        "type": "object",
        "required": ["query", "total", "page", "per_page", "took_ms", "hits", "facets", "facet_counts",
                     "timeline"],
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "took_ms": {"type": "number", "minimum": 0},
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "facets": {
                "type": "object",
                "description": "All the matches (not only this page) counted by the release's month (`2022-03`), "
                               "publisher, the speaker's organisation (`org`), speaker and section: the 10 "
                               "commonest values of each, most first (ties by value); paragraphs without a value "
                               "are not counted.",
                "required": list(FACETS),
                "additionalProperties": False,
                "properties": {name: {"type": "array", "maxItems": 10,
                                      "items": {"$ref": "#/components/schemas/FacetValue"}} for name in FACETS},
            },
            "facet_counts": {
                "type": "object",
                "description": "The number of distinct values of each facet among the matches.",
                "required": list(FACETS),
                "additionalProperties": False,
                "properties": {name: {"type": "integer", "minimum": 0} for name in FACETS},
            },
            "timeline": {
                "type": "array",
                "description": "Matches per month, every month that has any, in chronological order.",
                "items": {"$ref": "#/components/schemas/FacetValue"},
            },
        },
    },
    "Paragraph": {
        "type": "object",
        "required": ["number", "text", "section", "speaker", "organization"],
        "additionalProperties": False,
        "properties": {
            "number": {"type": "integer", "minimum": 1},
            "text": {"type": "string"},
            "section": {"type": "string", "enum": list(SECTIONS)},
            "speaker": _NULLABLE_STRING,
            "organization": _NULLABLE_STRING,
        },
    },
    "Release": {
        "type": "object",
        "required": ["doc_id", "title", "paragraphs", "date", "source", "location", "url", "content_hash",
                     "repairs", "publisher", "flagged", "paragraph_count", "page", "per_page", "pages"],
        "additionalProperties": False,
        "properties": {
            "doc_id": {"type": "string"},
            "title": {"type": "string"},
            "paragraphs": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Paragraph"},
                "description": "The paragraphs of page `page` (none past the last page).",
            },
            "date": _NULLABLE_STRING,
            "source": _NULLABLE_STRING,
            "location": _NULLABLE_STRING,
            "url": _NULLABLE_STRING,
            "content_hash": {"type": "string"},
            "repairs": {"type": "object", "additionalProperties": {"type": "integer"}},
            "publisher": {"type": ["string", "null"], "description": "Who published the release (a web page's site)."},
            # spans left unrepaired: [paragraph, start, end, kind], offsets in the paragraph
            "flagged": {"type": "array", "items": {
                "type": "array", "minItems": 4, "maxItems": 4,
                "prefixItems": [{"type": "integer", "minimum": 1},
                                {"type": "integer", "minimum": 0},
                                {"type": "integer", "minimum": 0}, {"type": "string"}]}},
            "paragraph_count": {"type": "integer", "minimum": 1, "description": "Paragraphs in the release."},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_DOC_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_DOC_PER_PAGE},
            "pages": {"type": "integer", "minimum": 1, "description": "Pages of `per_page` paragraphs."},
        },
    },
    "SuggestResult": {
        "type": "object",
        "required": ["query", "suggestions"],
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string"},
            "suggestions": {
                "type": "array",
                "maxItems": MAX_SUGGEST_LIMIT,
                "items": {
                    "type": "object",
                    "required": ["text", "kind"],
                    "additionalProperties": False,
                    "properties": {
                        "text": {"type": "string", "minLength": 1},
                        "kind": {"type": "string", "enum": list(SUGGESTION_KINDS)},
                    },
                },
            },
        },
    },
    "ExportRow": {
        "type": "object",
        "description": "One line of /api/search.jsonl (the columns of /api/search.csv); a cut export ends "
                       'with {"truncated": true, "total", "rows", "note"} instead.',
        "required": ["doc_id", "title", "paragraph", "section", "speaker", "org", "date", "publisher", "url",
                     "score", "text"],
        "additionalProperties": False,
        "properties": {
            "doc_id": {"type": "string"},
            "title": {"type": "string"},
            "paragraph": {"type": "integer", "minimum": 1},
            "section": {"type": "string", "enum": list(SECTIONS)},
            "speaker": _NULLABLE_STRING,
            "org": _NULLABLE_STRING,
            "date": _NULLABLE_STRING,
            "publisher": _NULLABLE_STRING,
            "url": _NULLABLE_STRING,
            "score": {"type": "number"},
            "text": {"type": "string"},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "index", "releases", "paragraphs", "generation"],
        "additionalProperties": False,
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "index": {"type": "boolean"},
            "releases": {"type": "integer", "minimum": 0},
            "paragraphs": {"type": "integer", "minimum": 0},
            "generation": _NULLABLE_STRING,
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
}


def _query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def openapi_document() -> dict[str, Any]:
    """Build the OpenAPI 3.1 document (a fresh dict on each call)."""
    json_of = lambda ref: {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}  # noqa: E731
    doc_id_parameter = {
        "name": "doc_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_DOC_ID_LENGTH},
    }
    export_headers = {
        "X-Total-Count": {"description": "Every match of the search.", "schema": {"type": "integer", "minimum": 0}},
        "X-Export-Rows": {"description": "Rows exported.", "schema": {"type": "integer", "minimum": 0}},
        "X-Export-Truncated": {"description": "Whether the export was cut at its limit.",
                               "schema": {"type": "string", "enum": ["true", "false"]}},
    }

    def export(operation_id: str, what: str, media_type: str, file: str, description: str
               ) -> dict[str, Any]:
        """An export of every match of a search: the search's parameters but page and
        per_page (set below), streamed as ``media_type``."""
        return {"get": {
            "operationId": operation_id,
            "summary": f"Every match of a search as {what} (up to {MAX_EXPORT_ROWS:,} rows)",
            "description": description,
            "parameters": [],
            "responses": {
                "200": {"description": file, "headers": export_headers,
                        "content": {media_type: {"schema": {"type": "string"}}}},
                "400": _error_response("Invalid parameters."),
                "503": _error_response("No index has been built."),
            },
        }}

    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "release-search API",
            "version": "1.0.0",
            "description": "Full-text search over Chinese press releases (simplified and traditional script).",
        },
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Search paragraphs of the releases",
                    "description": "The query language: words, \"phrases\", `-word`, `OR`, and filters `section:`, "
                                   "`speaker:`, `doc:`, `publisher:`, `org:` and `date:` (`date:2022-03-23`, "
                                   "`date:2022-03`, `date:2022`, `date:2022-03-01..2022-04-15`, `date:2022-03..`, "
                                   "`date:..2022-04`; a malformed one is read as words), each negatable with `-`.",
                    "parameters": [
                        _query_parameter(
                            "q", "The query; blank gives total 0.", {"type": "string", "maxLength": MAX_QUERY_LENGTH}
                        ),
                        _query_parameter(
                            "page",
                            "1-based page number.",
                            {"type": "integer", "minimum": 1, "maximum": DEFAULTS["MAX_PAGE"], "default": 1},
                        ),
                        _query_parameter(
                            "per_page",
                            "Hits per page.",
                            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 10},
                        ),
                        _query_parameter(
                            "section", "Only this section (empty: all).", {"type": "string", "enum": ["", *SECTIONS]}
                        ),
                        _query_parameter(
                            "speaker",
                            "Only paragraphs of this speaker (blank: all).",
                            {"type": "string", "maxLength": MAX_FILTER_LENGTH},
                        ),
                        _query_parameter(
                            "doc",
                            "Only this release (blank: all).",
                            {"type": "string", "maxLength": MAX_FILTER_LENGTH, "pattern": DOC_ID_PATTERN},
                        ),
                        _query_parameter(
                            "from",
                            "Only releases dated on or after this day (inclusive; `2022-03` means from 1 March, "
                            "`2022` from 1 January; empty: open). After `to`: 400 `invalid_date_range`.",
                            {"type": "string", "pattern": DATE_PATTERN},
                        ),
                        _query_parameter(
                            "to",
                            "Only releases dated on or before this day (inclusive; `2022-03` means up to 31 "
                            "March, `2022` up to 31 December; empty: open).",
                            {"type": "string", "pattern": DATE_PATTERN},
                        ),
                        _query_parameter(
                            "publisher",
                            "Only releases of this publisher, compared folded (script, width, case; blank: all).",
                            {"type": "string", "maxLength": MAX_FILTER_LENGTH},
                        ),
                        _query_parameter(
                            "org",
                            "Only paragraphs whose speaker is of this organisation, e.g. `市商务局` (blank: all).",
                            {"type": "string", "maxLength": MAX_FILTER_LENGTH},
                        ),
                        _query_parameter(
                            "sort",
                            "Order of the hits: `relevance` (default; without words: newest first), `newest` or "
                            "`oldest` (ties by relevance, undated releases last).",
                            {"type": "string", "enum": ["", *SORTS], "default": "relevance"},
                        ),
                    ],
                    "responses": {
                        "200": {"description": "A page of hits.", "content": json_of("SearchResult")},
                        "400": _error_response("Invalid parameters."),
                        "503": _error_response("No index has been built."),
                    },
                }
            },
            "/api/search.csv": export(
                "exportCsv", "CSV", "text/csv", "The CSV file, streamed.",
                "UTF-8 with a BOM; columns doc_id, title, paragraph, section, speaker, org, date, "
                "publisher, url, score, text; a text cell starting with = + - @, tab or CR gets a "
                "leading ' (no formulas); a cut export ends with a `# truncated: ...` row."),
            "/api/search.jsonl": export(
                "exportJsonl", "JSON Lines", "application/jsonl", "The JSON Lines file, streamed.",
                'One ExportRow per line; a cut export ends with {"truncated": true, "total", '
                '"rows", "note"}.'),
            "/api/suggest": {
                "get": {
                    "operationId": "suggest",
                    "summary": "Completions of what is typed (titles, speakers, organisations, publishers, words)",
                    "parameters": [
                        _query_parameter(
                            "q", "The prefix, in either script; blank gives none.",
                            {"type": "string", "maxLength": MAX_QUERY_LENGTH},
                        ),
                        _query_parameter(
                            "limit", "Most suggestions.",
                            {"type": "integer", "minimum": 1, "maximum": MAX_SUGGEST_LIMIT, "default": 10},
                        ),
                    ],
                    "responses": {
                        "200": {"description": "The suggestions, most frequent first.",
                                "content": json_of("SuggestResult")},
                        "400": _error_response("Invalid parameters."),
                        "503": _error_response("No index has been built."),
                    },
                }
            },
            "/api/documents/{doc_id}": {
                "get": {
                    "operationId": "getDocument",
                    "summary": "One release with a page of its paragraphs",
                    "parameters": [
                        doc_id_parameter,
                        _query_parameter(
                            "page",
                            "1-based page of paragraphs.",
                            {"type": "integer", "minimum": 1, "maximum": MAX_DOC_PAGE, "default": 1},
                        ),
                        _query_parameter(
                            "per_page",
                            "Paragraphs per page.",
                            {"type": "integer", "minimum": 1, "maximum": MAX_DOC_PER_PAGE, "default": DOC_PER_PAGE},
                        ),
                    ],
                    "responses": {
                        "200": {"description": "The release and a page of its paragraphs.", "content": json_of("Release")},
                        "400": _error_response("Invalid parameters."),
                        "404": _error_response("No release with this id."),
                        "503": _error_response("No index has been built."),
                    },
                }
            },
            "/api/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Whether the index is available, with its counts",
                    "responses": {
                        "200": {"description": "The index is available.", "content": json_of("Health")},
                        "503": {"description": "No index has been built.", "content": json_of("Health")},
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": copy.deepcopy(SCHEMAS)},
    }
    paths = document["paths"]
    for path in ("/api/search.csv", "/api/search.jsonl"):
        paths[path]["get"]["parameters"] = [
            copy.deepcopy(p) for p in paths["/api/search"]["get"]["parameters"]
            if p["name"] not in ("page", "per_page")]
    return document
