"""The parameters of a search, validated once for every caller (Python, CLI, HTTP).

:class:`SearchParams` checks what an :meth:`search.Index.search` call may ask for and raises
:class:`~search.errors.QueryError` with a stable ``code`` and a message naming the parameter as
the HTTP API spells it (``q``, ``page``, ``per_page``, ``section``, ``speaker``, ``doc``); the web
layer only turns URL strings into these values first.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sources import valid_doc_id
from .errors import QueryError
from .models import SECTIONS

#: Longest query, in characters.
MAX_QUERY_LENGTH = 500
#: Most hits on one page.
MAX_PER_PAGE = 100
#: Deepest hit a page may reach (``page * per_page``): a deeper page means a vaguer query.
MAX_DEPTH = 100_000
#: Longest ``speaker`` or ``doc`` filter value.
MAX_FILTER_LENGTH = 200
#: Most hits an export (``Index.iter_hits``: CSV, JSON Lines, ``search --all``) holds.
MAX_EXPORT_ROWS = 10_000
#: Most suggestions one request may ask for.
MAX_SUGGEST_LIMIT = 50


def _whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_count(name: str, value: object, maximum: int | None = None) -> None:
    """Raise QueryError unless ``value`` is a whole number from 1 (to ``maximum``)."""
    if not _whole_number(value):
        raise QueryError(f"{name} must be a positive integer", code=f"invalid_{name}")
    if value < 1:
        raise QueryError(f"{name} must be at least 1", code=f"invalid_{name}")
    if maximum is not None and value > maximum:
        raise QueryError(f"{name} must be at most {maximum}", code=f"invalid_{name}")


def _filter_value(name: str, value: object) -> str | None:
    """A ``speaker`` / ``doc`` value: None when missing or blank, else stripped."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise QueryError(f"{name} must be a string", code=f"invalid_{name}")
    if len(value) > MAX_FILTER_LENGTH:
        raise QueryError(f"{name} must be at most {MAX_FILTER_LENGTH} characters",
                         code=f"invalid_{name}")
    return value.strip() or None


def lenient_query(query: object) -> str:
    """``query`` cut to :data:`MAX_QUERY_LENGTH`, for the readers that take a long query
    rather than refuse it (highlighting, evaluation); QueryError if it is not a string."""
    if not isinstance(query, str):
        raise QueryError("q must be a string", code="invalid_query")
    return query[:MAX_QUERY_LENGTH]


@dataclass(frozen=True)
class SearchParams:
    """A valid search request; constructing one checks every field.

    ``section`` is one of :data:`search.models.SECTIONS` (or None for all); ``speaker`` and
    ``doc_id`` are stripped, blank meaning no filter; ``doc_id`` must be a usable release id
    as given (see :func:`search.sources.valid_doc_id`).
    """

    query: str = ""
    page: int = 1
    per_page: int = 10
    section: str | None = None
    speaker: str | None = None
    doc_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.query, str):
            raise QueryError("q must be a string", code="invalid_query")
        if len(self.query) > MAX_QUERY_LENGTH:
            raise QueryError(f"q must be at most {MAX_QUERY_LENGTH} characters",
                             code="query_too_long")
        check_count("page", self.page)
        check_count("per_page", self.per_page, MAX_PER_PAGE)
        if self.page * self.per_page > MAX_DEPTH:
            raise QueryError("page is too far: narrow the query instead", code="invalid_page")
        if self.section is not None and self.section not in SECTIONS:
            raise QueryError(f"section must be one of: {', '.join(SECTIONS)}",
                             code="invalid_section")
        object.__setattr__(self, "speaker", _filter_value("speaker", self.speaker))
        raw_doc = self.doc_id
        doc_id = _filter_value("doc", raw_doc)
        if doc_id is not None and not valid_doc_id(raw_doc):
            raise QueryError("doc is not a valid document id", code="invalid_doc")
        object.__setattr__(self, "doc_id", doc_id)

    def filters(self) -> dict[str, str]:
        """The active filters as URL parameters (``section``, ``speaker``, ``doc``)."""
        named = (("section", self.section), ("speaker", self.speaker), ("doc", self.doc_id))
        return {name: value for name, value in named if value}


@dataclass(frozen=True)
class SuggestParams:
    """A valid suggestion request: ``prefix`` (``q`` in the API) is a string of at most
    :data:`MAX_QUERY_LENGTH` characters, as a query (a blank one has no suggestions);
    ``limit`` is from 1 to :data:`MAX_SUGGEST_LIMIT`."""

    prefix: str = ""
    limit: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.prefix, str):
            raise QueryError("q must be a string", code="invalid_query")
        if len(self.prefix) > MAX_QUERY_LENGTH:
            raise QueryError(f"q must be at most {MAX_QUERY_LENGTH} characters",
                             code="query_too_long")
        check_count("limit", self.limit, MAX_SUGGEST_LIMIT)
