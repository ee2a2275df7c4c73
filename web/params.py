"""Reading search parameters from a request's query string.

This layer only turns URL strings into values (numbers must be plain ASCII digits, each
parameter given at most once, the site's deepest page); the library's
:class:`search.SearchParams` validates them, the one validation every caller shares. Every
problem is a :class:`search.errors.QueryError` with a ``code``, which the app answers with 400.
"""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from search import MAX_PER_PAGE, SearchParams, valid_doc_id
from search.errors import QueryError

#: The parameters of a search; each may be given at most once.
SEARCH_PARAMETERS = ("q", "page", "per_page", "section", "speaker", "doc", "from", "to", "publisher",
                     "org", "sort")

_DIGITS = re.compile(r"[0-9]+")

#: JSON-schema (ECMA) pattern of a ``doc`` filter value the API accepts: empty, or not starting with
#: a dot and without slashes, backslashes or control characters (see :func:`search.valid_doc_id`).
DOC_ID_PATTERN = r"^([^./\\\x00-\x1f\x7f-\x9f][^/\\\x00-\x1f\x7f-\x9f]*)?$"


def parse_positive_int(raw: str | None, name: str, default: int, maximum: int) -> int:
    """Parse ``raw`` as an integer in ``1..maximum``; missing or empty gives ``default``."""
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not _DIGITS.fullmatch(text):
        raise QueryError(f"{name} must be a positive integer", code=f"invalid_{name}")
    # Any run of digits is a number, however long: compare lengths before converting, so a
    # 5,000-digit page is "too deep" (not int()'s digit limit, nor "not an integer").
    significant = text.lstrip("0")
    if len(significant) > len(str(maximum)):
        raise QueryError(f"{name} must be at most {maximum}", code=f"invalid_{name}")
    value = int(significant or "0")
    if value < 1:
        raise QueryError(f"{name} must be at least 1", code=f"invalid_{name}")
    if value > maximum:
        raise QueryError(f"{name} must be at most {maximum}", code=f"invalid_{name}")
    return value


def is_acceptable_doc_id(doc_id: str) -> bool:
    """Whether ``doc_id`` may be looked up: the engine's own rule for release ids."""
    return valid_doc_id(doc_id)


def reject_repeated(args: MultiDict[str, str], names) -> None:
    """QueryError (``repeated_parameter``) if any of ``names`` is given more than once."""
    for name in names:
        if len(args.getlist(name)) > 1:
            raise QueryError(f"{name} must be given at most once", code="repeated_parameter")


def require_digits(args: MultiDict[str, str], names) -> None:
    """The JSON API's strict numbers: QueryError (``invalid_<name>``) if any of ``names`` is
    given but is not ASCII digits alone (empty, padded, signed, full-width)."""
    for name in names:
        raw = args.get(name)
        if raw is not None and not _DIGITS.fullmatch(raw):
            raise QueryError(f"{name} must be a positive integer", code=f"invalid_{name}")


def parse_search_params(
    args: MultiDict[str, str],
    *,
    per_page: int,
    allow_per_page: bool,
    max_page: int,
    strict: bool = False,
) -> SearchParams:
    """The search in ``q``, ``page``, ``per_page`` (if allowed), ``section``, ``speaker``, ``doc``,
    ``from``, ``to``, ``publisher``, ``org`` and ``sort``.

    ``strict`` (the JSON API, as its OpenAPI document says) also refuses an empty or padded
    ``page`` / ``per_page``, which the HTML pages read as the default. An empty ``section``
    means all sections, an empty ``from`` / ``to`` an open end, an empty ``sort`` relevance.
    """
    reject_repeated(args, SEARCH_PARAMETERS)
    if strict:
        require_digits(args, ("page", "per_page"))
    page = parse_positive_int(args.get("page"), "page", 1, max_page)
    if allow_per_page:
        per_page = parse_positive_int(args.get("per_page"), "per_page", per_page, MAX_PER_PAGE)
    return SearchParams(query=args.get("q", ""), page=page, per_page=per_page,
                        section=args.get("section") or None, speaker=args.get("speaker"),
                        doc_id=args.get("doc"), date_from=args.get("from"),
                        date_to=args.get("to"), publisher=args.get("publisher"),
                        org=args.get("org"), sort=args.get("sort") or "relevance")


def request_filter_params(*, sort: str | None = None) -> SearchParams:
    """The current request's query, filters and ``sort`` (or the order ``sort`` if given),
    for the answers that hold every match or the newest rather than a page (exports, the
    feed): ``page`` and ``per_page`` are not read."""
    from flask import request

    args = request.args
    reject_repeated(args, SEARCH_PARAMETERS)
    return SearchParams(query=args.get("q", ""), section=args.get("section") or None,
                        speaker=args.get("speaker"), doc_id=args.get("doc"),
                        date_from=args.get("from"), date_to=args.get("to"),
                        publisher=args.get("publisher"), org=args.get("org"),
                        sort=sort or args.get("sort") or "relevance")


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
        strict=api,
    )


def iter_hits(index, params: SearchParams, limit: int):
    """Every hit of ``params`` on ``index``, up to ``limit`` (a ``search.HitStream``)."""
    return index.iter_hits(params.query, section=params.section, speaker=params.speaker,
                           doc_id=params.doc_id, limit=limit, date_from=params.date_from,
                           date_to=params.date_to, publisher=params.publisher, org=params.org,
                           sort=params.sort)


def run_search(index, params: SearchParams):
    """Run ``params`` on ``index`` (a :class:`search.Index`)."""
    return index.search(params.query, page=params.page, per_page=params.per_page,
                        section=params.section, speaker=params.speaker, doc_id=params.doc_id,
                        date_from=params.date_from, date_to=params.date_to,
                        publisher=params.publisher, org=params.org, sort=params.sort)
