"""The Whoosh schema: one Whoosh document per paragraph.

Paragraph 1 of each release (its *head*) also carries the release's own record (source, content
hash, paragraph count, repairs) and its title, so the manifest used by incremental reindexing
lives in the same atomic commit as the paragraphs it describes. A release's paragraphs always
have consecutive document numbers, head first (both writers add them in that order and Whoosh
keeps the order when it merges segments), which is how a paragraph finds its release's title.
"""

from __future__ import annotations

from collections import defaultdict

from whoosh.analysis import Analyzer
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.formats import Format, tokens

from .analysis import BigramAnalyzer, WordAnalyzer
from .lexicon import Lexicon


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
        speaker=ID(),  # folded name, for speaker: filters
        speaker_name=STORED(),
        organization=STORED(),
        date=ID(stored=True),
        words=counted_text(WordAnalyzer(lexicon)),
        bigrams=counted_text(BigramAnalyzer()),
        text=STORED(),
        # on the head paragraph only: the release title and record
        title=counted_text(BigramAnalyzer(), stored=True),
        head=ID(),  # "1" on the paragraph that carries the release record
        release=STORED(),
    )
