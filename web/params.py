"""Validation of the request parameters shared by the HTML pages and the JSON API.

Nothing here trusts the input: numbers must be plain ASCII digits, sections must be known, and
every string has a length cap, so no user input reaches the engine in a shape it would reject
with anything but a :class:`ParamError` (which the app turns into a 400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from typing import TYPE_CHECKING

from werkzeug.datastructures import MultiDict

from search.documents import valid_doc_id
from search.errors import QueryError
from search.models import SECTIONS
from search.searcher import MAX_PER_PAGE, MAX_QUERY_LENGTH

if TYPE_CHECKING:
    from search import Index, SearchResult
#: The parameters of a search; each may be given at most once.
SEARCH_PARAMETERS = ("q", "page", "per_page", "section", "speaker", "doc")

_DIGITS = re.compile(r"[0-9]{1,12}")

#: JSON-schema (ECMA) pattern of a ``doc`` filter value the API accepts: empty, or not starting with
#: a dot and without slashes, backslashes or control characters (see :func:`is_acceptable_doc_id`).
DOC_ID_PATTERN = r"^([^./\\\x00-\x1f\x7f-\x9f][^/\\\x00-\x1f\x7f-\x9f]*)?$"


class ParamError(QueryError):
    """A request parameter is invalid; ``code`` is a stable machine-readable name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SearchParams:
    """The validated parameters of a search request."""

    query: str
    page: int
    per_page: int
    section: str | None
    speaker: str | None
    doc_id: str | None

    def run(self, index: Index) -> SearchResult:
        """Run this search on ``index``."""
        return index.search(self.query, page=self.page, per_page=self.per_page,
                            section=self.section, speaker=self.speaker, doc_id=self.doc_id)

    def filters(self) -> dict[str, str]:
        """The active filters as URL parameters (``section``, ``speaker``, ``doc``)."""
        out: dict[str, str] = {}
        if self.section:
            out["section"] = self.section
        if self.speaker:
            out["speaker"] = self.speaker
        if self.doc_id:
            out["doc"] = self.doc_id
        return out


def parse_positive_int(raw: str | None, name: str, default: int, maximum: int) -> int:
    """Parse ``raw`` as an integer in ``1..maximum``; missing or empty gives ``default``."""
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not _DIGITS.fullmatch(text):
        raise ParamError(f"invalid_{name}", f"{name} must be a positive integer")
    value = int(text)
    if value < 1:
        raise ParamError(f"invalid_{name}", f"{name} must be at least 1")
    if value > maximum:
        raise ParamError(f"invalid_{name}", f"{name} must be at most {maximum}")
    return value


def is_acceptable_doc_id(doc_id: str) -> bool:
    """Whether ``doc_id`` may be looked up: the engine's own rule for release ids."""
    return valid_doc_id(doc_id)


def _optional_text(raw: str | None, name: str, max_length: int) -> str | None:
    if raw is None or raw.strip() == "":
        return None
    if len(raw) > max_length:
        raise ParamError(f"invalid_{name}", f"{name} must be at most {max_length} characters")
    return raw.strip()


def parse_search_params(
    args: MultiDict[str, str],
    *,
    per_page: int,
    allow_per_page: bool,
    max_page: int,
    max_filter_length: int,
    strict: bool = False,
) -> SearchParams:
    """Validate ``q``, ``page``, ``per_page`` (if allowed), ``section``, ``speaker`` and ``doc``.

    ``strict`` (the JSON API, as its OpenAPI document says) also refuses an empty or padded
    ``page`` / ``per_page``, which the HTML pages read as the default.
    """
    for name in SEARCH_PARAMETERS:
        if len(args.getlist(name)) > 1:
            raise ParamError("repeated_parameter", f"{name} must be given at most once")
    if strict:
        for name in ("page", "per_page"):
            raw = args.get(name)
            if raw is not None and not _DIGITS.fullmatch(raw):
                raise ParamError(f"invalid_{name}", f"{name} must be a positive integer")
    query = args.get("q", "")
    if len(query) > MAX_QUERY_LENGTH:
        raise ParamError("query_too_long", f"q must be at most {MAX_QUERY_LENGTH} characters")
    page = parse_positive_int(args.get("page"), "page", 1, max_page)
    if allow_per_page:
        per_page = parse_positive_int(args.get("per_page"), "per_page", per_page, MAX_PER_PAGE)
    section = args.get("section") or None  # empty means all sections; anything else must be exact
    if section is not None and section not in SECTIONS:
        raise ParamError("invalid_section", f"section must be one of: {', '.join(SECTIONS)}")
    speaker = _optional_text(args.get("speaker"), "speaker", max_filter_length)
    raw_doc = args.get("doc")
    doc_id = _optional_text(raw_doc, "doc", max_filter_length)
    # Judged as sent (before stripping), as DOC_ID_PATTERN in the OpenAPI document describes it.
    if doc_id is not None and not (raw_doc is not None and is_acceptable_doc_id(raw_doc)):
        raise ParamError("invalid_doc", "doc is not a valid document id")
    return SearchParams(query, page, per_page, section, speaker, doc_id)


def request_search_params(*, api: bool) -> SearchParams:
    """The current request's search parameters, checked against the app's limits.

    The JSON API also takes ``per_page`` and is strict about empty or padded numbers; the HTML
    pages use the configured page size.
    """
    from flask import current_app, request

    config = current_app.config
    return parse_search_params(
        request.args,
        per_page=config["PER_PAGE"],
        allow_per_page=api,
        max_page=config["MAX_PAGE"],
        max_filter_length=config["MAX_FILTER_LENGTH"],
        strict=api,
    )
