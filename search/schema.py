"""The Whoosh schema: one Whoosh document per paragraph.

Paragraph 1 of each release (its title) also carries the release's own record (source, content
hash, paragraph count, repairs), so the manifest used by incremental reindexing lives in the same
atomic commit as the paragraphs it describes.
"""

from __future__ import annotations

from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema

from .analysis import BigramAnalyzer, Lexicon, WordAnalyzer


def build_schema(lexicon: Lexicon | None = None) -> Schema:
    """The schema for an index segmented with ``lexicon`` (the user dictionary)."""
    lexicon = lexicon or Lexicon()
    return Schema(
        pid=ID(unique=True, stored=True),  # "<doc_id>#<paragraph>"
        doc_id=ID(stored=True, sortable=True),
        paragraph=NUMERIC(int, stored=True),
        section=ID(stored=True, sortable=True),
        speaker=ID(),  # folded name, for speaker: filters
        speaker_name=STORED(),
        organization=STORED(),
        date=ID(stored=True),
        title=TEXT(analyzer=BigramAnalyzer(), stored=True, phrase=False),
        # Word positions are never queried (phrases use the bigrams): store frequencies only.
        words=TEXT(analyzer=WordAnalyzer(lexicon), phrase=False),
        bigrams=TEXT(analyzer=BigramAnalyzer(), phrase=True),
        text=STORED(),
        # release record, on paragraph 1 only
        head=ID(),  # "1" on the paragraph that carries the release record
        release=STORED(),
    )
