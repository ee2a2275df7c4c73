"""The Whoosh schema: one Whoosh document per paragraph.

Paragraph 1 of each release (its *head*) also carries the release's own record (source, content
hash, paragraph count, repairs) and its title, so the manifest used by incremental reindexing
lives in the same atomic commit as the paragraphs it describes. A release's paragraphs always
have consecutive document numbers, head first (both writers add them in that order and Whoosh
keeps the order when it merges segments), which is how a paragraph finds its release's title.

What searches filter, sort and count by (date, publisher, speaker, organisation, section, release
id) is also written as per-document columns (``sortable``), which an opened generation reads once
into NumPy arrays (:mod:`search.generation`): never a stored field read per hit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from whoosh.analysis import Analyzer
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, STORED, TEXT, Schema
from whoosh.formats import Format, tokens

from .analysis import BigramAnalyzer, WordAnalyzer
from . import foldedtext
from .lexicon import Lexicon
from .models import Release
from .script import fold


class TermCounts(Format):
    """Postings that carry each term's count in the document as the posting weight, and no
    per-posting value bytes (no positions).

    Whoosh's ``Frequency`` format stores every count twice (as the weight and as four value
    bytes); ranking here reads only document numbers and weights. Quoted phrases are checked on
    the stored text instead of positions (see ``searcher``).
    """

    posting_size = 0

    def __init__(self, field_boost: float = 1.0, **options):
        self.field_boost = field_boost
        self.options = options

    def word_values(self, value, analyzer: Analyzer, **kwargs):
        fb = self.field_boost
        counts: dict[str, int] = defaultdict(int)
        for t in tokens(value, analyzer, kwargs):
            counts[t.text] += 1
        return ((w, n, n * fb, b"") for w, n in counts.items())

    def encode(self, value) -> bytes:
        return b""

    def decode_frequency(self, valuestring) -> int:
        return 1  # the count is the posting's weight

    def decode_weight(self, valuestring) -> float:
        return self.field_boost

    def combine(self, vs) -> bytes:
        return b""


def counted_text(analyzer: Analyzer, stored: bool = False) -> TEXT:
    """A scorable text field whose postings are :class:`TermCounts`."""
    field = TEXT(analyzer=analyzer, stored=stored, phrase=False)
    field.format = TermCounts()
    return field


def build_schema(lexicon: Lexicon | None = None) -> Schema:
    """The schema for an index segmented with ``lexicon`` (the user dictionary)."""
    lexicon = lexicon or Lexicon()
    return Schema(
        doc_id=ID(stored=True, sortable=True),
        paragraph=STORED(),
        section=ID(stored=True, sortable=True),
        speaker=ID(),  # folded name
        speaker_name=ID(stored=True, sortable=True),  # columns: filters, sorts and facets
        organization=ID(stored=True, sortable=True),
        date=ID(stored=True, sortable=True),
        publisher=ID(sortable=True),  # the release's, on each of its paragraphs
        words=counted_text(WordAnalyzer(lexicon)),
        bigrams=counted_text(BigramAnalyzer()),
        text=STORED(),
        # the folded text matching reads (search.foldedtext), a column of its own
        folded=COLUMN(VarBytesColumn()),
        # on the head paragraph only: the release title and record
        title=counted_text(BigramAnalyzer(), stored=True),
        head=ID(),  # "1" on the paragraph that carries the release record
        release=STORED(),
    )


@dataclass(frozen=True)
class ReleaseRecord:
    """What the index keeps about a release as a whole, stored (as ``release``) on its head
    paragraph: the manifest incremental reindexes compare with, and what a release page shows.

    Values are kept as stored, so :mod:`search.check` can report a damaged one.
    """

    content_hash: str  # sha256 of the release's source bytes
    paragraphs: int  # how many paragraphs the release has, the title included
    title: str = ""
    date: str | None = None
    source: str | None = None
    location: str | None = None  # where it was read: the file, or "file:LINE" for JSONL
    url: str | None = None
    repairs: dict[str, int] = field(default_factory=dict)
    publisher: str | None = None
    # unprovable spans left as they are: (paragraph, start, end, kind), see Release.flagged
    flagged: tuple[tuple[int, int, int, str], ...] = ()

    @classmethod
    def of(cls, rel: Release) -> ReleaseRecord:
        return cls(content_hash=rel.content_hash, paragraphs=len(rel.paragraphs),
                   title=rel.title, date=rel.date, source=rel.source, location=rel.location,
                   url=rel.url, repairs=dict(rel.repairs), publisher=rel.publisher,
                   flagged=tuple(tuple(f) for f in rel.flagged))

    def to_stored(self) -> dict:
        return {"hash": self.content_hash, "source": self.source, "location": self.location,
                "url": self.url, "title": self.title, "date": self.date,
                "paragraphs": self.paragraphs, "repairs": dict(self.repairs),
                "publisher": self.publisher, "flagged": [list(f) for f in self.flagged]}

    @classmethod
    def from_stored(cls, stored: object) -> ReleaseRecord | None:
        """The record stored on a head paragraph (None when there is none)."""
        if not isinstance(stored, dict):
            return None
        return cls(content_hash=stored.get("hash"), paragraphs=stored.get("paragraphs"),
                   title=stored.get("title") or "", date=stored.get("date"),
                   source=stored.get("source"), location=stored.get("location"),
                   url=stored.get("url"), repairs=dict(stored.get("repairs") or {}),
                   publisher=stored.get("publisher"), flagged=_flagged(stored.get("flagged")))


def _flagged(stored: object) -> tuple[tuple[int, int, int, str], ...]:
    """The stored flagged spans, those well formed only (an index written before they were
    stored has none)."""
    if not isinstance(stored, list):
        return ()
    out = []
    for f in stored:
        if (isinstance(f, list) and len(f) == 4 and all(isinstance(x, int) for x in f[:3])
                and isinstance(f[3], str)):
            out.append((f[0], f[1], f[2], f[3]))
    return tuple(out)


def paragraph_docs(rel: Release, folded: bool = True) -> Iterator[dict]:
    """The Whoosh documents of one release, one per paragraph, in order; the first carries
    the release's record and title. Without ``folded``, the documents lack the ``folded``
    column's value, which the bulk writer takes from its analysis instead
    (:mod:`search.writing`)."""
    record = ReleaseRecord.of(rel).to_stored()
    for p in rel.paragraphs:
        doc = {"doc_id": rel.doc_id, "paragraph": p.number, "section": p.section,
               "words": p.text, "bigrams": p.text, "text": p.text}
        if folded:  # folded once: the analyzers find it in script.fold's cache
            doc[foldedtext.COLUMN] = foldedtext.column_value(p.text)
        if rel.date:
            doc["date"] = rel.date
        if rel.publisher:
            doc["publisher"] = rel.publisher
        if p.speaker:
            doc["speaker"] = fold(p.speaker)
            doc["speaker_name"] = p.speaker
        if p.organization:
            doc["organization"] = p.organization
        if p.number == rel.paragraphs[0].number:
            doc["head"] = "1"
            doc["release"] = record
            if rel.title:
                doc["title"] = rel.title
        yield doc
