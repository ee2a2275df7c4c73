"""The naive baseline the engine is measured against.

Exactly what a first attempt at Chinese full-text search with Whoosh looks like: Whoosh 2.7.5,
jieba's bundled :func:`jieba.analyse.ChineseAnalyzer` on the ``title`` and ``text`` fields, the
default BM25F weighting and ``QueryParser("text", schema, group=OrGroup)``: an OR of the
question's jieba tokens over the paragraph text (the title is indexed but, as in the issue's
measurement, not queried; pass ``fields=("title", "text")`` for a multifield variant). No text
repair, no script folding, no pinyin handling: that is the point of the comparison.

With the text-only query this reproduces the issue's figures exactly on the CMRC2018 dev data
(MRR@10 clean/simplified 0.968, annotated/simplified 0.689, clean/traditional 0.686).

Usage from Python::

    build_naive_index("corpus.jsonl", "/tmp/naive")
    with NaiveIndex("/tmp/naive") as ix:
        ix.ranked_doc_ids("《战国无双3》是由哪两个公司合作开发的？", k=10)
"""

from __future__ import annotations

import os
import re
import warnings
from typing import Iterator

with warnings.catch_warnings():
    # importing jieba.analyse reads its IDF table with open(...).read() and never closes it
    warnings.simplefilter("ignore", ResourceWarning)
    from jieba.analyse import ChineseAnalyzer
from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import MultifieldParser, OrGroup, QueryParser
from whoosh.scoring import BM25F

from search.errors import IndexNotFoundError, SourceError
from search.evaluation import iter_json_lines, paragraph_id

#: ASCII characters with a meaning in Whoosh's default query syntax (groups, fields, phrases,
#: wildcards, ranges, boosts, quoting). They are replaced by spaces so that a question is
#: always read as a plain bag of words.
_SYNTAX_CHARS = re.compile(r"""[\\+\-!():^\[\]"'{}~*?/<>=]""")


def naive_schema() -> Schema:
    """The baseline schema: a stored id plus jieba-analysed title and text."""
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=ChineseAnalyzer()),
        text=TEXT(analyzer=ChineseAnalyzer()),
    )


def read_corpus(corpus_path: str | os.PathLike[str]) -> Iterator[dict[str, str]]:
    """Yield ``{"id", "title", "text"}`` records of a JSONL corpus.

    Raises :class:`~search.errors.SourceError` (message prefixed with ``path:line``) for a
    missing file, a line that is not a JSON object or a record without a string ``id``.
    """
    for where, record in iter_json_lines(corpus_path, "corpus"):
        if not isinstance(record.get("id"), str):
            raise SourceError('expected an object with a string "id"', where)
        yield {
            "id": record["id"],
            "title": str(record.get("title") or ""),
            "text": str(record.get("text") or ""),
        }


def read_paragraphs(releases_path: str | os.PathLike[str]) -> Iterator[dict[str, str]]:
    """Yield one ``{"id", "title", "text"}`` record per non-blank line of each release's text
    in a releases JSONL file (``{"id", "title", "text"}``, a paragraph per line), its id the
    engine's :func:`~search.evaluation.paragraph_id` (the title is paragraph 1, so line ``n``
    is paragraph ``n + 1``) and its title the release's."""
    for record in read_corpus(releases_path):
        lines = [line.strip() for line in record["text"].split("\n") if line.strip()]
        for number, line in enumerate(lines, start=2):
            yield {"id": paragraph_id(record["id"], number), "title": record["title"],
                   "text": line}


def build_naive_index(
    corpus_path: str | os.PathLike[str], index_dir: str | os.PathLike[str],
    by_paragraph: bool = False,
) -> int:
    """Index a JSONL corpus into a new baseline index at ``index_dir``; return the document count.

    ``by_paragraph``: the corpus holds releases, each line of whose text becomes a document of
    its own (:func:`read_paragraphs`). An existing index in ``index_dir`` is replaced.
    """
    os.makedirs(index_dir, exist_ok=True)
    ix = whoosh_index.create_in(str(index_dir), naive_schema())
    writer = ix.writer(limitmb=256)
    count = 0
    try:
        records = read_paragraphs(corpus_path) if by_paragraph else read_corpus(corpus_path)
        for record in records:
            writer.add_document(id=record["id"], title=record["title"], text=record["text"])
            count += 1
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    ix.close()
    return count


def plain_query_text(question: str) -> str:
    """A question with Whoosh syntax neutralised: syntax characters become spaces and the text
    is lower-cased, so ``AND``/``OR``/``NOT``/``TO`` are plain words rather than operators."""
    return _SYNTAX_CHARS.sub(" ", question).lower()


class NaiveIndex:
    """A read-only baseline index with the same ranking method as the engine's index."""

    def __init__(
        self, index_dir: str | os.PathLike[str], fields: tuple[str, ...] = ("text",)
    ):
        """Open the baseline index at ``index_dir``; ``fields`` are the fields queried."""
        if not whoosh_index.exists_in(str(index_dir)):
            raise IndexNotFoundError(f"no baseline index in {index_dir}")
        self._index = whoosh_index.open_dir(str(index_dir))
        self._searcher = self._index.searcher(weighting=BM25F())
        schema = self._index.schema
        if len(fields) == 1:
            self._parser = QueryParser(fields[0], schema, group=OrGroup)
        else:
            self._parser = MultifieldParser(list(fields), schema, group=OrGroup)

    def ranked_doc_ids(self, query: str, k: int = 10) -> list[str]:
        """Distinct doc ids of the ``k`` best matches of ``query``, best first."""
        text = plain_query_text(query)
        if not text.strip():
            return []
        parsed = self._parser.parse(text)
        ids: list[str] = []
        for hit in self._searcher.search(parsed, limit=k):
            doc_id = hit["id"]
            if doc_id not in ids:
                ids.append(doc_id)
        return ids

    def ranked_paragraph_ids(self, query: str, k: int = 10) -> list[str]:
        """:meth:`ranked_doc_ids` of an index built ``by_paragraph`` (its ids are paragraph
        ids)."""
        return self.ranked_doc_ids(query, k)

    def close(self) -> None:
        """Release the searcher and the index."""
        self._searcher.close()
        self._index.close()

    def __enter__(self) -> "NaiveIndex":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
