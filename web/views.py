"""The HTML pages: search (``/``), a release (``/doc/<id>``), OpenSearch description and favicon."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, render_template, request, send_from_directory, url_for
from markupsafe import Markup

from search import DOC_PER_PAGE, MAX_DOC_PAGE, MAX_QUERY_LENGTH, SECTIONS
from search.errors import IndexCorruptError, IndexNotFoundError, QueryError
from search.models import IndexStats, Paragraph
from web.config import HOST_RE
from web.index_holder import current_index
from web.feed import FEED_ENTRIES, atom_feed, tag_authority
from web.markup import marked_html, page_window, paragraph_html, repair_summary, section_label, total_pages
from web.navigation import SORT_LABELS, chips, facets, month_chart
from web.params import (
    is_acceptable_doc_id,
    iter_hits,
    parse_positive_int,
    request_filter_params,
    request_search_params,
    run_search,
)

bp = Blueprint("pages", __name__)

#: Queries offered on the empty page.
EXAMPLE_QUERIES = ("统筹", "核酸检测", "外贸企业", "疫情防控", "復工復產")
#: Highest paragraph number (``hl``) taken from a URL.
MAX_PARAGRAPH = 1_000_000


@dataclass(frozen=True)
class ShownParagraph:
    """A paragraph of a release page, ready for the template."""

    number: int
    section: str
    label: str
    speaker: str | None
    organization: str | None
    html: Markup
    is_hit: bool


def _stats_or_none() -> IndexStats | None:
    try:
        return current_index().stats()
    except (IndexNotFoundError, IndexCorruptError):
        return None


def _search_url(query: str, page: int = 1, **state: str) -> str:
    """The search page for ``query``, page ``page``, with the filters and order in ``state``
    (empty values and the default order left out)."""
    args: dict[str, str | int] = {"q": query}
    if page != 1:
        args["page"] = page
    args.update({k: v for k, v in state.items() if v and not (k == "sort" and v == "relevance")})
    return url_for("pages.search_page", **args)


def _form(params) -> dict:
    """What the search form shows beside the query: the sections, the date inputs (whole
    days: a partial date is shown as the day it stands for) and the orders."""
    date_from, date_to = params.iso_days()
    return {"sections": [(s, section_label(s)) for s in SECTIONS], "date_from": date_from or "",
            "date_to": date_to or "", "sorts": SORT_LABELS}


@bp.get("/")
def search_page() -> str:
    """The search page: empty state, results with pagination, or the no-results state; beside
    the results, the facet counts and the matches per month."""
    params = request_search_params(api=False)
    filters = params.filters()
    state = {**filters, "sort": params.sort}
    if not params.query.strip() and not any(filters.values()):
        return render_template(
            "search.html",
            params=params,
            query=params.query,
            result=None,
            stats=_stats_or_none(),
            examples=[(q, _search_url(q)) for q in EXAMPLE_QUERIES],
            **_form(params),
        )
    result = run_search(current_index(), params)
    pages = total_pages(result.total, result.per_page)
    page_links = [
        (number, _search_url(params.query, number, **state) if number is not None else None)
        for number in page_window(result.page, pages)
    ]
    hits = [
        {
            "hit": hit,
            "label": section_label(hit.section),
            "snippet": marked_html(hit.snippet),
            "url": _paragraph_url(hit.doc_id, params.query, hit.paragraph),
        }
        for hit in result.hits
    ]

    def url(**args: str) -> str:
        return _search_url(params.query, **args)

    # the exports hold the matches in the page's order (the default order left out)
    exported = {k: v for k, v in state.items() if v and not (k == "sort" and v == "relevance")}

    return render_template(
        "search.html",
        params=params,
        query=params.query,
        result=result,
        hits=hits,
        pages=pages,
        page_links=page_links,
        prev_url=_search_url(params.query, result.page - 1, **state) if result.page > 1 else None,
        next_url=_search_url(params.query, result.page + 1, **state) if result.page < pages else None,
        first_url=_search_url(params.query, **state),
        filters=chips(filters, state, url),
        no_filters_url=_search_url(params.query, sort=params.sort) if filters else None,
        facets=facets(result, state, url),
        chart=month_chart(result, state, url),
        feed_url=url_for("pages.feed", q=params.query, **filters),
        csv_url=url_for("api.search_csv", q=params.query, **exported),
        jsonl_url=url_for("api.search_jsonl", q=params.query, **exported),
        section_label=section_label,
        **_form(params),
    )


def _shown(paragraph: Paragraph, html: Markup, hl: int | None) -> ShownParagraph:
    return ShownParagraph(
        number=paragraph.number,
        section=paragraph.section,
        label=section_label(paragraph.section),
        speaker=paragraph.speaker,
        organization=paragraph.organization,
        html=html,
        is_hit=paragraph.number == hl,
    )


def page_of(paragraph: int) -> int:
    """The page of a release page (:data:`search.DOC_PER_PAGE` paragraphs each) holding
    ``paragraph`` (paragraphs are numbered from 1 in order)."""
    return (paragraph - 1) // DOC_PER_PAGE + 1


def _paragraph_url(doc_id: str, query: str, paragraph: int) -> str:
    """The release page holding ``paragraph``, the query highlighted, scrolled to it."""
    page = page_of(paragraph)
    return url_for("pages.document_page", doc_id=doc_id, q=query, hl=paragraph,
                   page=page if page > 1 else None) + f"#p{paragraph}"


@bp.get("/doc/<path:doc_id>")
def document_page(doc_id: str) -> str:
    """A page of a release (:data:`search.DOC_PER_PAGE` paragraphs, ``page``: by default the
    one holding ``hl``), paragraphs anchored ``#pN``, the query highlighted, paragraph ``hl``
    marked, links to the other pages."""
    if not is_acceptable_doc_id(doc_id):
        abort(404)
    query = request.args.get("q", "")
    if len(query) > MAX_QUERY_LENGTH:
        query = ""
    try:
        hl: int | None = parse_positive_int(request.args.get("hl"), "hl", 0, MAX_PARAGRAPH) or None
    except QueryError:
        hl = None
    asked = parse_positive_int(request.args.get("page"), "page", 0, MAX_DOC_PAGE)  # 400 if bad
    page = asked or (page_of(hl) if hl else 1)
    index = current_index()
    release = index.document(doc_id, page=page, per_page=DOC_PER_PAGE)
    if page > release.pages:
        if asked:
            abort(404)
        page = 1  # hl past the last paragraph
        release = index.document(doc_id, page=page, per_page=DOC_PER_PAGE)
    # The query is read once for the whole page.
    highlighter = index.highlighter(query) if query.strip() else None

    def render(text: str) -> Markup:
        if highlighter is not None:
            return marked_html(highlighter.html(text))
        return Markup.escape(text)

    flags_of: dict[int, list[tuple[int, int, str]]] = {}
    for number, start, end, kind in release.flagged:
        flags_of.setdefault(number, []).append((start, end, kind))

    def render_paragraph(p: Paragraph) -> Markup:
        flags = flags_of.get(p.number)
        if not flags:
            return render(p.text)
        marks = highlighter.spans(p.text) if highlighter is not None else []
        return paragraph_html(p.text, marks, flags)

    def page_url(number: int) -> str:
        # With hl, page 1 is named too: without it, hl would pick its own page.
        return url_for("pages.document_page", doc_id=doc_id, q=query or None, hl=hl,
                       page=number if number > 1 or hl else None)

    paragraphs = [_shown(p, render_paragraph(p), hl) for p in release.paragraphs]
    # The title paragraph is paragraph 1: on page 1 only (the heading shows the title elsewhere).
    has_title_paragraph = any(p.section == "title" for p in release.paragraphs)
    first = (page - 1) * DOC_PER_PAGE + 1
    return render_template(
        "document.html",
        release=release,
        repaired=repair_summary(release.repairs),
        flagged_count=len(release.flagged),
        title_html=None if has_title_paragraph else render(release.title),
        source_url=release.url if release.url and release.url.startswith(("https://", "http://")) else None,
        paragraphs=paragraphs,
        query=query,
        back_url=_search_url(query) if query.strip() else url_for("pages.search_page"),
        within_url=url_for("pages.search_page"),
        page=page,
        first_number=first,
        last_number=first + len(release.paragraphs) - 1,
        page_links=[(n, page_url(n) if n is not None else None)
                    for n in page_window(page, release.pages)],
        prev_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if page < release.pages else None,
    )


def _site_root() -> str:
    """The site's root URL without the final slash: the configured ``BASE_URL``, else the
    request's scheme and ``Host`` if that is a valid ``host[:port]`` (else 400: no
    ``http:///``, no markup from a header)."""
    configured = current_app.config.get("BASE_URL")
    if configured:
        return configured
    host = request.host
    if not HOST_RE.fullmatch(host):
        abort(400)
    return f"{request.scheme}://{host}"


def _absolute(endpoint: str) -> str:
    # url_for's path below the app's root, so that a BASE_URL with a path is not doubled.
    path = url_for(endpoint).removeprefix(request.script_root)
    return _site_root() + path


@bp.get("/opensearch.xml")
def opensearch() -> Response:
    """The OpenSearch description, so browsers can add the site as a search engine.

    Its URLs are absolute (browsers need them so) and never taken from an unchecked ``Host``
    header: a forged header must not hand out, or get cached with, someone else's address."""
    body = render_template(
        "opensearch.xml",
        icon_url=_absolute("pages.favicon"),
        search_url=_absolute("pages.search_page"),
        api_url=_absolute("api.search"),
    )
    return Response(body, mimetype="application/opensearchdescription+xml")


@bp.get("/feed.atom")
def feed() -> Response:
    """The Atom feed of a search (``q`` and the filters, a ``sort`` aside): its newest 20
    matching paragraphs (by release date, ties by relevance, undated last)."""
    params = request_filter_params(sort="newest")
    filters = params.filters()
    root = _site_root()
    hits = []
    if params.query.strip() or filters:
        with iter_hits(current_index(), params, FEED_ENTRIES) as stream:
            hits = list(stream)

    def paragraph_url(hit) -> str:
        page = page_of(hit.paragraph)
        path = url_for("pages.document_page", doc_id=hit.doc_id, page=page if page > 1 else None)
        return root + path.removeprefix(request.script_root) + f"#p{hit.paragraph}"

    def absolute(endpoint: str) -> str:
        return root + url_for(endpoint, q=params.query, **filters).removeprefix(request.script_root)

    self_url = absolute("pages.feed")
    title = f"新闻发布会检索：{params.query.strip()}" if params.query.strip() else "新闻发布会检索"
    body = atom_feed(title=title, self_url=self_url, alternate_url=absolute("pages.search_page"),
                     feed_id=self_url, authority=tag_authority(root.split("://", 1)[1].split("/", 1)[0]),
                     hits=hits, paragraph_url=paragraph_url)
    return Response(body, content_type="application/atom+xml; charset=utf-8")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon."""
    return send_from_directory(current_app.static_folder or "static", "favicon.ico", mimetype="image/x-icon")
