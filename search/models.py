"""Plain dataclasses shared by the library, the CLI and the web layer.

Nothing here holds a Whoosh object: results can be serialised with :func:`dataclasses.asdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The sections a paragraph can belong to, with their Chinese labels, in reading order.
SECTION_LABELS: dict[str, str] = {
    "title": "标题",
    "body": "正文",
    "question": "提问",
    "answer": "回答",
    "credits": "署名",
    "boilerplate": "声明",
}
SECTIONS = tuple(SECTION_LABELS)


@dataclass
class Paragraph:
    """One paragraph of a release, as displayed (repaired) text."""

    number: int  # 1-based; paragraph 1 is the title
    text: str
    section: str = "body"  # one of SECTIONS
    speaker: str | None = None  # e.g. "田汝勇" for an answer
    organization: str | None = None  # e.g. "市工信局"


@dataclass
class Release:
    """A press release split into paragraphs."""

    doc_id: str
    title: str
    paragraphs: list[Paragraph]
    date: str | None = None  # ISO date "YYYY-MM-DD" when known
    source: str | None = None  # file path or JSONL "source"
    location: str | None = None  # where it was read: the file, or "file:LINE" for JSONL
    url: str | None = None
    content_hash: str = ""  # sha256 of the raw input bytes (or JSONL line)
    repairs: dict[str, int] = field(default_factory=dict)  # repair kind -> count
    publisher: str | None = None  # who published it: a web page's site, JSONL "publisher"
    # spans left as they are because their repair could not be proven, for a page to mark:
    # [paragraph number, start, end, kind], offsets in that paragraph's text (lists, as JSON)
    flagged: list[list] = field(default_factory=list)


@dataclass
class ReleasePage(Release):
    """A release with one page of its paragraphs: ``paragraphs`` is page ``page`` of
    ``pages`` (``per_page`` paragraphs each, none past the last page) of the release's
    ``paragraph_count`` paragraphs."""

    paragraph_count: int = 0
    page: int = 1
    per_page: int = 1
    pages: int = 1


@dataclass
class Hit:
    """One ranked paragraph."""

    doc_id: str
    title: str
    paragraph: int
    section: str
    speaker: str | None
    date: str | None
    score: float
    text: str  # the displayed paragraph
    snippet: str  # HTML: text escaped, matches in <mark>
    publisher: str | None = None  # the release's
    url: str | None = None  # the release's original (its web page)
    organization: str | None = None  # the speaker's, e.g. "市工信局"

    def to_dict(self) -> dict:
        """``dataclasses.asdict(self)``, without its deep copies (every field is a plain
        value)."""
        return {"doc_id": self.doc_id, "title": self.title, "paragraph": self.paragraph,
                "section": self.section, "speaker": self.speaker, "date": self.date,
                "score": self.score, "text": self.text, "snippet": self.snippet,
                "publisher": self.publisher, "url": self.url,
                "organization": self.organization}


#: The facets of a search result, in the order they are shown: the release's month
#: (``2022-03``), publisher, the speaker's organisation, the speaker, the section.
FACETS = ("month", "publisher", "org", "speaker", "section")


@dataclass
class SearchResult:
    """A page of hits for a query, and counts over all its matches (not only the page).

    ``facets`` maps each of :data:`FACETS` to its (at most 10) commonest values among the
    matching paragraphs as ``(value, paragraphs)``, most first (ties by value); paragraphs
    without a value (an undated release, a paragraph without speaker) are not counted.
    ``facet_counts`` gives each facet's number of distinct values (more than are listed when
    it is over 10). ``timeline`` counts the matches of every month that has any, in
    chronological order (what a chart of matches per month shows). All three are empty when
    the search was asked not to count (``facets=False``).
    """

    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    facet_counts: dict[str, int] = field(default_factory=dict)
    timeline: list[tuple[str, int]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """What ``search --json`` and ``/api/search`` return: ``dataclasses.asdict(self)``,
        but each ``(value, count)`` pair of ``facets`` and ``timeline`` as an object
        ``{"value": ..., "count": ...}``; built directly: the web API serialises one per
        request."""
        return {"query": self.query, "total": self.total, "page": self.page,
                "per_page": self.per_page, "took_ms": self.took_ms,
                "hits": [h.to_dict() for h in self.hits],
                "facets": {name: [{"value": v, "count": c} for v, c in values]
                           for name, values in self.facets.items()},
                "facet_counts": dict(self.facet_counts),
                "timeline": [{"value": v, "count": c} for v, c in self.timeline]}


#: What a suggestion completes to, most specific first.
SUGGESTION_KINDS = ("title", "speaker", "org", "publisher", "word")


@dataclass
class Suggestion:
    """One completion of a typed prefix: a release title, speaker, organisation, publisher
    or frequent indexed word (``kind``), as written in the releases (``text``)."""

    text: str
    kind: str  # one of SUGGESTION_KINDS

    def to_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind}


@dataclass
class IndexStats:
    releases: int
    paragraphs: int
    sections: dict[str, int] = field(default_factory=dict)
    index_dir: str = ""
    generation: str = ""
    size_bytes: int = 0
