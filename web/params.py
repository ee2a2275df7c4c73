"""Validation of the request parameters shared by the HTML pages and the JSON API.

Nothing here trusts the input: numbers must be plain ASCII digits, sections must be known, and
every string has a length cap, so no user input reaches the engine in a shape it would reject
with anything but a :class:`ParamError` (which the app turns into a 400).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from search.models import SECTIONS

#: Same caps as ``search.searcher`` (duplicated so that validation needs no index).
MAX_PER_PAGE = 100
MAX_QUERY_LENGTH = 500
#: Longest doc id a URL may carry.
MAX_DOC_ID_LENGTH = 200

_DIGITS = re.compile(r"[0-9]{1,12}")


class ParamError(ValueError):
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
    """Whether ``doc_id`` may be looked up: not empty, not too long, not path-like, no control characters."""
    if not doc_id or len(doc_id) > MAX_DOC_ID_LENGTH:
        return False
    if "/" in doc_id or "\\" in doc_id or doc_id.startswith("."):
        return False
    return not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in doc_id)


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
) -> SearchParams:
    """Validate ``q``, ``page``, ``per_page`` (if allowed), ``section``, ``speaker`` and ``doc``."""
    query = args.get("q", "")
    if len(query) > MAX_QUERY_LENGTH:
        raise ParamError("query_too_long", f"q must be at most {MAX_QUERY_LENGTH} characters")
    page = parse_positive_int(args.get("page"), "page", 1, max_page)
    if allow_per_page:
        per_page = parse_positive_int(args.get("per_page"), "per_page", per_page, MAX_PER_PAGE)
    section = _optional_text(args.get("section"), "section", max_filter_length)
    if section is not None and section not in SECTIONS:
        raise ParamError("invalid_section", f"section must be one of: {', '.join(SECTIONS)}")
    speaker = _optional_text(args.get("speaker"), "speaker", max_filter_length)
    doc_id = _optional_text(args.get("doc"), "doc", max_filter_length)
    if doc_id is not None and not is_acceptable_doc_id(doc_id):
        raise ParamError("invalid_doc", "doc is not a valid document id")
    return SearchParams(query, page, per_page, section, speaker, doc_id)
