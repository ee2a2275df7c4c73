"""The parameters of a search, validated once for every caller (Python, CLI, HTTP).

:class:`SearchParams` checks what an :meth:`search.Index.search` call may ask for and raises
:class:`~search.errors.QueryError` with a stable ``code`` and a message naming the parameter as
the HTTP API spells it (``q``, ``page``, ``per_page``, ``section``, ``speaker``, ``doc``, ``from``,
``to``, ``publisher``, ``org``, ``sort``); the web layer only turns URL strings into these values
first.

Dates are ISO dates, whole or partial (``2022-03-23``, ``2022-03``, ``2022``): as the start of a
range a partial date means its first day, as the end its last day. Internally a day is the
integer ``yyyymmdd`` (:func:`day_bound`), which sorts like the date.
"""

from __future__ import annotations

import calendar
import re
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


#: How results may be ordered: by relevance (the default), or by date, newest or oldest first
#: (ties by relevance, releases without a date last).
SORTS = ("relevance", "newest", "oldest")
#: Earliest and latest days a range may name (``yyyymmdd``): open ends of ranges.
FIRST_DAY, LAST_DAY = 1_01_01, 9999_12_31

_PARTIAL_DATE_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_YEAR = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|([2468][048]|[13579][26]|0[48])00)"
#: The dates :func:`day_bound` accepts, as a regular expression (ECMA and Python alike, for the
#: OpenAPI document): a year, a month of a year, or a day that exists (29 February in leap
#: years only); or empty.
DATE_PATTERN = (
    f"^(|{_YEAR}(-(0[1-9]|1[0-2]))?|{_YEAR}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
    f"|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)$"
)


def day_bound(text: str, end: bool = False) -> int | None:
    """The first day (or with ``end``, the last day) of the ISO date ``text``, whole or partial
    (``2022-03-23``, ``2022-03``, ``2022``), as ``yyyymmdd``; None if it is not a valid date."""
    match = _PARTIAL_DATE_RE.fullmatch(text)
    if match is None:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if year < 1 or (month is not None and not 1 <= month <= 12):
        return None
    if month is None:
        month, day = (12, 31) if end else (1, 1)
    last = calendar.monthrange(year, month)[1]
    if day is None:
        day = last if end else 1
    if not 1 <= day <= last:
        return None
    return year * 10000 + month * 100 + day


def day_range(text: str) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` days of a ``date:`` value of the query language: a date
    (``2022-03``: all of March) or a range ``A..B`` with either end left open (``2022-03..``,
    ``..2022-04``); None when malformed or reversed."""
    text = text.strip()
    if ".." not in text:
        first, last = day_bound(text), day_bound(text, end=True)
    else:
        start, _, stop = text.partition("..")
        if not start.strip() and not stop.strip():
            return None
        first = day_bound(start.strip()) if start.strip() else FIRST_DAY
        last = day_bound(stop.strip(), end=True) if stop.strip() else LAST_DAY
    if first is None or last is None or first > last:
        return None
    return first, last


def format_day(day: int) -> str:
    """``yyyymmdd`` as an ISO date."""
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


def _date_value(name: str, value: object, end: bool) -> str | None:
    """A ``from`` / ``to`` value: None when missing or empty, else checked (as written: no
    spaces)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise QueryError(f"{name} must be a date (YYYY-MM-DD, YYYY-MM or YYYY)",
                         code=f"invalid_{name}")
    if not value:
        return None
    if len(value) > 10 or day_bound(value, end) is None:
        raise QueryError(f"{name} must be a date (YYYY-MM-DD, YYYY-MM or YYYY)",
                         code=f"invalid_{name}")
    return value


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

    ``section`` is one of :data:`search.models.SECTIONS` (or None for all); ``speaker``,
    ``publisher``, ``org`` and ``doc_id`` are stripped, blank meaning no filter; ``doc_id`` must
    be a usable release id as given (see :func:`search.sources.valid_doc_id`). ``date_from``
    and ``date_to`` are inclusive ISO dates, whole or partial (see :func:`day_bound`), blank
    meaning an open end; a range ending before it starts is refused (``invalid_date_range``).
    ``sort`` is one of :data:`SORTS`.
    """

    query: str = ""
    page: int = 1
    per_page: int = 10
    section: str | None = None
    speaker: str | None = None
    doc_id: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    publisher: str | None = None
    org: str | None = None
    sort: str = "relevance"

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
        object.__setattr__(self, "publisher", _filter_value("publisher", self.publisher))
        object.__setattr__(self, "org", _filter_value("org", self.org))
        object.__setattr__(self, "date_from", _date_value("from", self.date_from, end=False))
        object.__setattr__(self, "date_to", _date_value("to", self.date_to, end=True))
        first, last = self.days()
        if first > last:
            raise QueryError("the date range ends before it starts (to is before from)",
                             code="invalid_date_range")
        if not isinstance(self.sort, str) or self.sort not in SORTS:
            raise QueryError(f"sort must be one of: {', '.join(SORTS)}", code="invalid_sort")

    def days(self) -> tuple[int, int]:
        """The inclusive ``(first, last)`` days of ``date_from`` / ``date_to`` (``yyyymmdd``;
        :data:`FIRST_DAY` / :data:`LAST_DAY` for an open end)."""
        first = day_bound(self.date_from) if self.date_from else FIRST_DAY
        last = day_bound(self.date_to, end=True) if self.date_to else LAST_DAY
        return first, last

    def iso_days(self) -> tuple[str | None, str | None]:
        """``date_from`` and ``date_to`` as the whole days they stand for (ISO), None when open:
        ``("2022-03-01", "2022-03-31")`` for ``"2022-03"`` and ``"2022-03"``."""
        first, last = self.days()
        return (format_day(first) if self.date_from else None,
                format_day(last) if self.date_to else None)

    def filters(self) -> dict[str, str]:
        """The active filters as URL parameters (``section``, ``speaker``, ``doc``, ``from``,
        ``to``, ``publisher``, ``org``)."""
        named = (("section", self.section), ("speaker", self.speaker), ("doc", self.doc_id),
                 ("from", self.date_from), ("to", self.date_to),
                 ("publisher", self.publisher), ("org", self.org))
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
