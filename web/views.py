"""The HTML pages: search (``/``), a release (``/doc/<id>``), OpenSearch description and favicon."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, render_template, request, send_from_directory, url_for
from markupsafe import Markup

from search import MAX_QUERY_LENGTH, SECTIONS
from search.errors import IndexCorruptError, IndexNotFoundError, QueryError
from search.models import IndexStats, Paragraph
from web.config import HOST_RE
from web.index_holder import current_index
from web.markup import marked_html, page_window, section_label, total_pages
from web.params import is_acceptable_doc_id, parse_positive_int, request_search_params, run_search

bp = Blueprint("pages", __name__)

#: Queries offered on the empty page.
EXAMPLE_QUERIES = ("统筹", "核酸检测", "外贸企业", "疫情防控", "復工復產")


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


def _search_url(query: str, page: int = 1, **filters: str) -> str:
    args: dict[str, str | int] = {"q": query}
    if page != 1:
        args["page"] = page
    args.update({k: v for k, v in filters.items() if v})
    return url_for("pages.search_page", **args)


@bp.get("/")
def search_page() -> str:
    """The search page: empty state, results with pagination, or the no-results state."""
    params = request_search_params(api=False)
    filters = params.filters()
    if not params.query.strip() and not any(filters.values()):
        return render_template(
            "search.html",
            params=params,
            query=params.query,
            result=None,
            stats=_stats_or_none(),
            examples=[(q, _search_url(q)) for q in EXAMPLE_QUERIES],
            sections=[(s, section_label(s)) for s in SECTIONS],
        )
    result = run_search(current_index(), params)
    pages = total_pages(result.total, result.per_page)
    page_links = [
        (number, _search_url(params.query, number, **filters) if number is not None else None)
        for number in page_window(result.page, pages)
    ]
    hits = [
        {
            "hit": hit,
            "label": section_label(hit.section),
            "snippet": marked_html(hit.snippet),
            "url": url_for("pages.document_page", doc_id=hit.doc_id, q=params.query, hl=hit.paragraph)
            + f"#p{hit.paragraph}",
        }
        for hit in result.hits
    ]
    removable = [
        (name, value, _search_url(params.query, **{k: v for k, v in filters.items() if k != name}))
        for name, value in filters.items()
    ]
    return render_template(
        "search.html",
        params=params,
        query=params.query,
        result=result,
        hits=hits,
        pages=pages,
        page_links=page_links,
        prev_url=_search_url(params.query, result.page - 1, **filters) if result.page > 1 else None,
        next_url=_search_url(params.query, result.page + 1, **filters) if result.page < pages else None,
        first_url=_search_url(params.query, **filters),
        filters=removable,
        no_filters_url=_search_url(params.query) if filters else None,
        sections=[(s, section_label(s)) for s in SECTIONS],
        section_label=section_label,
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


@bp.get("/doc/<path:doc_id>")
def document_page(doc_id: str) -> str:
    """A whole release, paragraphs anchored ``#pN``, the query highlighted, paragraph ``hl`` marked."""
    if not is_acceptable_doc_id(doc_id):
        abort(404)
    query = request.args.get("q", "")
    if len(query) > MAX_QUERY_LENGTH:
        query = ""
    try:
        hl: int | None = parse_positive_int(request.args.get("hl"), "hl", 0, 1_000_000) or None
    except QueryError:
        hl = None
    index = current_index()
    release = index.document(doc_id)

    def render(text: str) -> Markup:
        if query.strip():
            return marked_html(index.highlight(text, query))
        return Markup.escape(text)

    paragraphs = [_shown(p, render(p.text), hl) for p in release.paragraphs]
    has_title_paragraph = any(p.section == "title" for p in release.paragraphs)
    return render_template(
        "document.html",
        release=release,
        title_html=None if has_title_paragraph else render(release.title),
        source_url=release.url if release.url and release.url.startswith(("https://", "http://")) else None,
        paragraphs=paragraphs,
        query=query,
        back_url=_search_url(query) if query.strip() else url_for("pages.search_page"),
        within_url=url_for("pages.search_page"),
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


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon."""
    return send_from_directory(current_app.static_folder or "static", "favicon.ico", mimetype="image/x-icon")
