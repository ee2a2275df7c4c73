"""Exports of a search: the columns of a hit, CSV for spreadsheets and JSON Lines, streamed.

One definition for the CLI (``search --format csv|jsonl``) and the web
(``/api/search.csv``, ``/api/search.jsonl``): each yields the file as text chunks while the hits
are read (:meth:`search.Index.iter_hits`), and ends with a note when the export was cut at
:data:`~search.params.MAX_EXPORT_ROWS` rows.

CSV is UTF-8 with a byte-order mark (so spreadsheet programs read Chinese), every field quoted
as the csv module's ``excel`` dialect needs; a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading ``'``, so a spreadsheet shows it as text and
never runs it as a formula (CSV formula injection); numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator

from .models import Hit

#: The columns of an exported hit, in order.
EXPORT_COLUMNS = ("doc_id", "title", "paragraph", "section", "speaker", "org", "date",
                  "publisher", "url", "score", "text")
BOM = "\ufeff"
#: What a spreadsheet reads as the start of a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What JSON Lines escape beyond json.dumps (C0): DEL and C1, line and paragraph separators,
#: bidi controls (escaped as JSON readers decode back); lone surrogates become U+FFFD.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: Rows written per chunk of the stream.
CHUNK_ROWS = 100


def export_row(hit: Hit) -> dict:
    """The exported columns of ``hit`` (:data:`EXPORT_COLUMNS`)."""
    return {"doc_id": hit.doc_id, "title": hit.title, "paragraph": hit.paragraph,
            "section": hit.section, "speaker": hit.speaker, "org": hit.organization,
            "date": hit.date, "publisher": hit.publisher, "url": hit.url,
            "score": round(float(hit.score), 4), "text": hit.text}


def csv_cell(value: object) -> object:
    """A CSV cell: ``None`` empty, text guarded against formula injection (a leading ``'``
    before ``= + - @``, tab or carriage return), numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def cut_note(total: int, rows: int) -> str:
    """The note that ends an export cut short."""
    return (f"truncated: the first {rows} of {total} matches are exported; "
            "narrow the query to export the rest")


def csv_chunks(hits: Iterable[Hit], total: int, *, bom: bool = True) -> Iterator[str]:
    """The CSV file of ``hits`` (of ``total`` matches) as text chunks: the header, the rows,
    then, if fewer rows than ``total`` were written, one row whose first cell is
    ``# truncated: ...`` (:func:`cut_note`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    head = buf.getvalue()
    yield (BOM + head) if bom else head
    rows = 0
    pending: list[list] = []

    def flush() -> str:
        buf.seek(0)
        buf.truncate()
        writer.writerows(pending)
        pending.clear()
        return buf.getvalue()

    for hit in hits:
        row = export_row(hit)
        pending.append([csv_cell(row[c]) for c in EXPORT_COLUMNS])
        rows += 1
        if len(pending) >= CHUNK_ROWS:
            yield flush()
    if rows < total:
        pending.append(["# " + cut_note(total, rows)] + [""] * (len(EXPORT_COLUMNS) - 1))
    if pending:
        yield flush()


def _json_escape(match: re.Match) -> str:
    ch = match.group()
    return "\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else f"\\u{ord(ch):04x}"


def json_line(obj: dict) -> str:
    """``obj`` as one line of JSON, safe to show on a terminal and valid UTF-8."""
    return _JSON_UNSAFE.sub(_json_escape, json.dumps(obj, ensure_ascii=False))


def jsonl_chunks(hits: Iterable[Hit], total: int) -> Iterator[str]:
    """The JSON Lines of ``hits``: one object per hit (:data:`EXPORT_COLUMNS`), then, if fewer
    than ``total`` were written, ``{"truncated": true, "total": ..., "rows": ..., "note":
    ...}``."""
    rows = 0
    lines: list[str] = []
    for hit in hits:
        lines.append(json_line(export_row(hit)))
        rows += 1
        if len(lines) >= CHUNK_ROWS:
            yield "\n".join(lines) + "\n"
            lines.clear()
    if rows < total:
        lines.append(json_line({"truncated": True, "total": total, "rows": rows,
                                "note": cut_note(total, rows)}))
    if lines:
        yield "\n".join(lines) + "\n"
