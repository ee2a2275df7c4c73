"""Reading source files into raw release records: finding the files, decoding, JSONL.

Sources are plain-text releases (one per ``.txt`` / ``.md`` file, the file name without its
extension being the release id), web pages (one per ``.html`` / ``.htm`` file, id likewise:
see :mod:`search.html`), web crawls (``.warc`` / ``.warc.gz``, one release per HTML page:
see :mod:`search.warc`) and JSONL corpora (``.jsonl``, one release per line:
``{"id", "title", "text" or "html", optional "date", "source", "url", "publisher"}``).  Each suffix has its reader in
:data:`READERS`; a reader yields, for each release in its file, a :class:`RawRelease` (the
text as the source gives it, not yet repaired or split; for a web page its HTML, whose
article is extracted with the release) or, when the caller already has that release,
:class:`Unchanged`.

Decoding (:func:`decode_bytes`): strict UTF-8 (with or without BOM) first; a mostly-UTF-8 file
with a few bad bytes gets them replaced by U+FFFD; anything else is handed to
charset-normalizer (GB18030/GBK, Big5...).  Binary (NUL bytes) or undecodable data raises
:class:`~search.errors.SourceError`.  Text that cannot be encoded (lone surrogates from JSON
``\\ud83d`` escapes, bytes of a file path that are not UTF-8) gets U+FFFD in their place, and a
problem says so: everything stored in the index is valid Unicode.

A release (a text file, a JSONL line) of more than :data:`MAX_RELEASE_BYTES` is refused before
it is read into memory; JSONL files are read line by line.

:func:`iter_source_files` finds the files (symbolic links: see there); :func:`read_sources`
reads them, reporting every problem as a :class:`Problem` and going on.
"""

from __future__ import annotations

import datetime as _dt
import errno
import hashlib
import json
import os
import re
import stat
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from search.errors import SourceError
from search.html import charset_codec, charset_of_content_type, declared_charset

__all__ = [
    "MAX_BAD_UTF8_SHARE",
    "MAX_DOC_ID_LENGTH",
    "MAX_JSON_INT_DIGITS",
    "MAX_RELEASE_BYTES",
    "READERS",
    "SOURCE_SUFFIXES",
    "Problem",
    "RawRelease",
    "Reader",
    "Skip",
    "Unchanged",
    "decode_bytes",
    "decode_html",
    "display_path",
    "iter_source_files",
    "read_sources",
    "source_suffix",
    "valid_doc_id",
]

#: A file is taken as damaged UTF-8 (rather than another encoding) when at most this share of
#: its non-ASCII bytes are invalid UTF-8.  Text in a legacy CJK encoding is nearly all invalid
#: as UTF-8, so the two cases are far apart.
MAX_BAD_UTF8_SHARE = 0.1

#: Longest release id: ids travel in URLs (``/doc/<id>``).
MAX_DOC_ID_LENGTH = 200

#: Largest release, in bytes: a text file, or one JSONL line.  Indexing costs some 30 times a
#: release's size in memory, and its page and API answer grow with it; a bigger release is
#: refused with a problem ("split it"), without being read into memory.  Real press releases
#: are well under 1 MB.  The readers take the limit as a parameter (tests lower it).
MAX_RELEASE_BYTES = 8 * 1024 * 1024

#: Longest integer a JSONL line may hold: Python's default limit, kept even where the
#: interpreter allows more (``PYTHONINTMAXSTRDIGITS=0``), since converting longer ones takes
#: quadratic time and no field needs them (ids are at most 200 characters).
MAX_JSON_INT_DIGITS = 4300


@dataclass
class Problem:
    """Something wrong with a source file or JSONL line, reported while reading releases."""

    source: str  # file path, with ":LINE" for JSONL lines
    message: str  # human-readable, English
    skipped: bool  # True if the release/line was not indexed

    def __str__(self) -> str:
        suffix = " (skipped)" if self.skipped else ""
        return f"{self.source}: {self.message}{suffix}"

    @classmethod
    def replaced_bytes(cls, source: str, count: int) -> Problem:
        """The report of ``count`` undecodable bytes replaced (the release is still read)."""
        return cls(source, f"replaced {count} undecodable byte(s) with U+FFFD", skipped=False)

    @classmethod
    def replaced_surrogates(cls, source: str, count: int) -> Problem:
        """The report of ``count`` lone surrogates (JSON ``\\ud83d`` escapes) replaced."""
        return cls(source, f"replaced {count} lone surrogate(s) with U+FFFD", skipped=False)


@dataclass
class RawRelease:
    """One release as its source gives it: text not yet repaired, split or classified."""

    doc_id: str
    text: str
    location: str  # where it was read: the file, or "file:LINE" for JSONL
    content_hash: str  # sha256 of the raw bytes (file or JSONL line)
    title: str | None = None  # given apart from the text (JSONL "title")
    date: str | None = None  # as the source states it (JSONL "date"), not yet checked
    source: str | None = None  # the source's own name for its origin, else the file
    url: str | None = None
    default_year: int | None = None  # year of a date written without one (file's mtime)
    replaced_bytes: int = 0  # undecodable bytes replaced by U+FFFD (not yet reported)
    replaced_surrogates: int = 0  # lone surrogates replaced by U+FFFD (not yet reported)
    publisher: str | None = None  # given apart from the page (JSONL "publisher")
    html: str | None = None  # a web page (``text`` is then empty): its article is the text
    page_url: str | None = None  # where the page was fetched from (a WARC record's URI)


@dataclass
class Unchanged:
    """A release whose content hash the caller already has: read but not parsed again."""

    doc_id: str
    content_hash: str
    location: str  # where it was read, as in RawRelease


#: ``skip(doc_id, content_hash, location)``: True when the caller already has this exact
#: release, read from the same place.
Skip = Callable[[str, str, str], bool]

#: ``reader(path, problems, skip, max_bytes)``: the releases of one file, in order, none of
#: more than ``max_bytes``.  Problems of single releases (a malformed JSONL line) are appended
#: to ``problems``; a problem that stops the whole file raises :class:`SourceError` or
#: :class:`OSError`.
Reader = Callable[[Path, list[Problem], Skip | None, int], Iterator[RawRelease | Unchanged]]


# ---------------------------------------------------------------------------------- ids


def valid_doc_id(doc_id: str) -> bool:
    """Whether ``doc_id`` can be a release id: not empty, at most 200 characters, not path-like
    (no ``/`` or ``\\``, no leading dot), no control characters. The web app looks up only
    such ids, so every indexed release can be opened there."""
    if not doc_id or len(doc_id) > MAX_DOC_ID_LENGTH:
        return False
    if "/" in doc_id or "\\" in doc_id or doc_id.startswith("."):
        return False
    return not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in doc_id)


# ------------------------------------------------------------------ unencodable text

# Lone surrogates: what json.loads makes of a "\\ud83d" escape without its pair, and what
# Python makes of a path's bytes that are not UTF-8 (surrogateescape).  No UTF-8 encoder takes
# them, so every page or JSON answer showing one would fail.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _replace_surrogates(text: str) -> tuple[str, int]:
    """``text`` with each lone surrogate replaced by U+FFFD; (text, how many)."""
    return _SURROGATE_RE.subn("\ufffd", text)


def display_path(path: str | os.PathLike) -> tuple[str, int]:
    """``path`` as valid Unicode, for reports and the index: each byte of it that is not UTF-8
    (a folder named in GBK, say) becomes U+FFFD; (text, bytes replaced)."""
    return _replace_surrogates(os.fspath(path))


def _shown(path: str | os.PathLike) -> str:
    return display_path(path)[0]


# ---------------------------------------------------------------------------- decoding

#: Decoder used for a detected encoding family.  The detector cannot reliably tell the
#: variants of one family apart: Big5-HKSCS and Windows Big5 (cp950, what Taiwanese files are
#: in practice) disagree on a few code points (cp950 ``C7E9`` is ① but HKSCS katakana), so the
#: common variant is used when it decodes the data strictly; GB2312 and GBK are read with
#: their superset GB18030.
_PREFERRED_DECODER = {
    "big5": "cp950",
    "big5hkscs": "cp950",
    "cp950": "cp950",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
}

_BOM = b"\xef\xbb\xbf"
_BAD_BYTE_RE = re.compile("[\udc80-\udcff]")
_ASCII_BYTES = bytes(range(0x80))


def _decode_with(data: bytes, encoding: str) -> tuple[str, int]:
    """Decode with ``encoding``, each undecodable byte becoming U+FFFD; (text, bad bytes)."""
    text = data.decode(encoding, "surrogateescape")
    text, bad = _BAD_BYTE_RE.subn("\ufffd", text)
    return text, bad


def _decode(data: bytes, source: str) -> tuple[str, int, str]:
    """(text, replaced bytes, Python codec name) of ``data``; see :func:`decode_bytes`."""
    if b"\x00" in data:
        raise SourceError("binary file (contains NUL bytes)", source)
    has_bom = data.startswith(_BOM)
    body = data[3:] if has_bom else data
    try:
        return body.decode("utf-8"), 0, "utf-8"
    except UnicodeDecodeError:
        pass
    text, bad = _decode_with(body, "utf-8")
    non_ascii = len(body.translate(None, _ASCII_BYTES))
    if has_bom or bad <= non_ascii * MAX_BAD_UTF8_SHARE:
        return text, bad, "utf-8"
    text, encoding = _detect(body, source)
    return text, 0, encoding


def _detect(body: bytes, source: str) -> tuple[str, str]:
    """(text, codec) of ``body``, which is not UTF-8, by charset-normalizer."""
    import charset_normalizer

    best = charset_normalizer.from_bytes(body).best()
    if best is None:
        raise SourceError("undecodable file (not text in a known encoding)", source)
    preferred = _PREFERRED_DECODER.get(best.encoding)
    if preferred is not None:
        try:
            return body.decode(preferred), preferred
        except UnicodeDecodeError:
            pass
    return str(best), best.encoding


def decode_bytes(data: bytes, source: str) -> tuple[str, int]:
    """Decode a source file's bytes; returns (text, number of replaced bad bytes).

    Strict UTF-8 (a leading BOM is dropped) is tried first.  Data that is UTF-8 apart from a
    few invalid bytes (at most :data:`MAX_BAD_UTF8_SHARE` of its non-ASCII bytes, or any
    number after a UTF-8 BOM) is decoded with each bad byte replaced by U+FFFD.  Anything else
    goes to charset-normalizer's detector (GB18030/GBK, Big5...).  Raises :class:`SourceError`
    for binary data (NUL bytes) or data no encoding decodes.
    """
    text, bad, _ = _decode(data, source)
    return text, bad


def _decode_big5(data: bytes) -> tuple[str, int]:
    """Big5 data: cp950 (what Big5 pages are in practice) when it decodes the page strictly,
    else Big5-HKSCS (Hong Kong characters: 深水埗), else whichever replaces fewer bytes."""
    for codec in ("cp950", "big5hkscs"):
        try:
            return data.decode(codec), 0
        except UnicodeDecodeError:
            pass
    return min((_decode_with(data, codec) for codec in ("cp950", "big5hkscs")),
               key=lambda pair: pair[1])


def decode_html(data: bytes, source: str, header_charset: str | None = None) -> tuple[str, int]:
    """A web page's bytes as text; (text, bytes replaced by U+FFFD).

    Valid UTF-8 (or UTF-8 with a few bad bytes, as for text files) is UTF-8, whatever the page
    declares (pages copied from an old template keep a stale ``charset=gb2312``); otherwise
    the charset of the HTTP header (``header_charset``: a WARC record's), then the page's own
    (:func:`search.html.declared_charset`), else detection (:func:`decode_bytes`).  GB2312 and
    GBK are read as GB18030; Big5 as cp950, or Big5-HKSCS where the page needs it.  Raises
    :class:`SourceError` for binary or undecodable data.
    """
    if b"\x00" in data:
        raise SourceError("binary file (contains NUL bytes)", source)
    if data.startswith(_BOM):
        return _decode_with(data[len(_BOM):], "utf-8")
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    text, bad = _decode_with(data, "utf-8")
    if bad <= len(data.translate(None, _ASCII_BYTES)) * MAX_BAD_UTF8_SHARE:
        return text, bad  # UTF-8 with a few damaged bytes
    for label in (header_charset, declared_charset(data)):
        codec = charset_codec(label)
        if codec == "big5":
            return _decode_big5(data)
        if codec is not None and codec != "utf-8":
            return _decode_with(data, codec)
    return decode_bytes(data, source)


def _mtime_year(path: Path) -> int | None:
    try:
        return _dt.datetime.fromtimestamp(path.stat().st_mtime).year
    except (OSError, OverflowError, ValueError):
        return None


# ---------------------------------------------------------------------- text files


def _too_large(what: str, size: int, limit: int) -> str:
    return (f"{what}: {size:,} bytes, over the limit of {limit:,} bytes per release "
            "(split it into smaller releases)")


def _read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of ``path``; raises :class:`SourceError`, without reading it, when it has more
    than ``limit``."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size <= limit:
            data = fh.read(limit + 1)  # one byte more tells a file that grew meanwhile
            if len(data) <= limit:
                return data
            size = max(len(data), os.fstat(fh.fileno()).st_size)
    raise SourceError(_too_large("too large", size, limit), _shown(path))


def _read_one_release(path: Path, skip: Skip | None, max_bytes: int,
                      decode: Callable[[bytes, str], tuple[str, int]], field: str
                      ) -> Iterator[RawRelease | Unchanged]:
    """A file that is one release, its id the file name without extension: its bytes
    ``decode``d into the record's ``field`` (``text`` or ``html``)."""
    source = _shown(path)
    _check_file_id(path, source)
    data = _read_bounded(path, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if skip is not None and skip(path.stem, digest, source):
        yield Unchanged(path.stem, digest, source)
        return
    decoded, bad = decode(data, source)
    content = {"text": "", field: decoded}
    yield RawRelease(doc_id=path.stem, location=source, content_hash=digest, source=source,
                     default_year=_mtime_year(path), replaced_bytes=bad, **content)


def _read_text_file(
    path: Path, problems: list[Problem], skip: Skip | None = None,
    max_bytes: int = MAX_RELEASE_BYTES,
) -> Iterator[RawRelease | Unchanged]:
    """A ``.txt`` file: one release, its id the file name without extension."""
    return _read_one_release(path, skip, max_bytes, decode_bytes, "text")


def _check_file_id(path: Path, source: str) -> None:
    """Raise :class:`SourceError` unless the file's name (without extension) can be an id."""
    if _SURROGATE_RE.search(path.stem):
        # An id must be exactly what the source says: two names differing in their bad bytes
        # would both become the same U+FFFD id.
        raise SourceError(
            "file name is not valid UTF-8, so it cannot be a release id (rename the file)",
            source)
    if not valid_doc_id(path.stem):
        raise SourceError(
            f"unusable id {path.stem[:40]!r}: ids must be 1-{MAX_DOC_ID_LENGTH} characters, "
            "without slashes, a leading dot or control characters", path.stem[:40])


# Markdown ATX heading markers ("# 标题") are not part of the text.
_MD_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE)


def _read_markdown_file(
    path: Path, problems: list[Problem], skip: Skip | None = None,
    max_bytes: int = MAX_RELEASE_BYTES,
) -> Iterator[RawRelease | Unchanged]:
    """A ``.md`` file: read as a ``.txt`` file, without its heading markers."""
    for record in _read_text_file(path, problems, skip, max_bytes):
        if isinstance(record, RawRelease):
            record.text = _MD_HEADING_RE.sub("", record.text)
        yield record


# ------------------------------------------------------------------------- web pages


def _read_html_file(
    path: Path, problems: list[Problem], skip: Skip | None = None,
    max_bytes: int = MAX_RELEASE_BYTES,
) -> Iterator[RawRelease | Unchanged]:
    """An ``.html`` / ``.htm`` file (a saved page): one release, its id the file name without
    extension; decoded by :func:`decode_html`, its article extracted later."""
    return _read_one_release(path, skip, max_bytes, decode_html, "html")


def _read_warc_file(
    path: Path, problems: list[Problem], skip: Skip | None = None,
    max_bytes: int = MAX_RELEASE_BYTES, *, plan=None, tally: Counter | None = None,
) -> Iterator[RawRelease | Unchanged]:
    """A ``.warc`` / ``.warc.gz`` file: one release per HTML page (:mod:`search.warc`), read
    from ``FILE#URL``, its id from its URL."""
    from search.warc import iter_pages

    where = _shown(path)
    for page in iter_pages(path, max_bytes, plan=plan, tally=tally):
        uri = _shown(page.uri)
        location = f"{where}#{uri}"
        if page.payload is None:
            problems.append(Problem(location, page.problem or "not read", skipped=True))
            continue
        digest = page.digest
        if skip is not None and skip(page.doc_id, digest, location):
            yield Unchanged(page.doc_id, digest, location)
            continue
        try:
            html, bad = decode_html(page.payload, location,
                                    charset_of_content_type(page.content_type))
        except SourceError as error:
            problems.append(Problem(location, error.reason, skipped=True))
            continue
        yield RawRelease(
            doc_id=page.doc_id,
            text="",
            location=location,
            content_hash=digest,
            source=where,
            default_year=int(page.date[:4]) if page.date[:4].isdigit() else None,
            replaced_bytes=bad,
            html=html,
            page_url=uri,
        )


# --------------------------------------------------------------------------- JSONL


class _IntegerTooLong(ValueError):
    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


def _parse_int(digits: str) -> int:
    """``json.loads``' integer conversion, with :data:`MAX_JSON_INT_DIGITS` as the limit."""
    limit = min(MAX_JSON_INT_DIGITS, sys.get_int_max_str_digits() or MAX_JSON_INT_DIGITS)
    if len(digits.lstrip("-")) > limit:
        raise _IntegerTooLong(limit)
    return int(digits)


def _optional_string(record: dict, key: str, source: str) -> str | None:
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value
    raise SourceError(f'"{key}" must be a string, not {type(value).__name__}', source)


def _loads(text: str, source: str) -> object:
    """``json.loads(text)``; raises :class:`SourceError` for whatever the decoder refuses."""
    try:
        return json.loads(text, parse_int=_parse_int)
    except _IntegerTooLong as error:
        raise SourceError(
            f"invalid JSON (an integer of more than {error.limit} digits)", source) from None
    except json.JSONDecodeError as error:
        raise SourceError(f"invalid JSON ({error.msg}, column {error.colno})", source) from None
    except RecursionError:
        raise SourceError("invalid JSON (nested too deeply)", source) from None
    except ValueError as error:  # any other value the decoder cannot convert
        raise SourceError(f"invalid JSON ({error})", source) from None


def _jsonl_record(
    raw: bytes, text: str, bad: int, source: str, default_year: int | None,
    skip: Skip | None, problems: list[Problem],
) -> RawRelease | Unchanged:
    """One JSONL line (``text`` decoded from ``raw``) as a record; raises
    :class:`SourceError` if it is malformed."""
    record = _loads(text, source)
    if not isinstance(record, dict):
        raise SourceError(f"expected a JSON object, not {type(record).__name__}", source)
    doc_id = record.get("id")
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
        raise SourceError('missing or invalid "id" (a string or integer)', source)
    doc_id = str(doc_id).strip()
    if not doc_id:
        raise SourceError('empty "id"', source)
    if not valid_doc_id(doc_id):  # lone surrogates too: an id is not repaired
        raise SourceError(
            f'unusable "id" {doc_id[:40]!r} (at most {MAX_DOC_ID_LENGTH} characters, '
            "no slashes, leading dot or control characters)", source)
    body = record.get("text")
    html = None
    if body is None and "html" in record:  # a page: its article is the text
        html = record["html"]
        if not isinstance(html, str):
            raise SourceError('invalid "html" (a string)', source)
        if not html.strip():
            raise SourceError('empty "html"', source)
        html, surrogates = _replace_surrogates(html)
        body = ""
    else:
        if not isinstance(body, str):
            raise SourceError('missing or invalid "text" (a string)', source)
        if not body.strip():
            raise SourceError('empty "text"', source)
        body, surrogates = _replace_surrogates(body)
    fields: dict[str, str | None] = {}
    for key in ("title", "date", "source", "url", "publisher"):
        value = _optional_string(record, key, source)
        if value is not None:
            value, count = _replace_surrogates(value)
            surrogates += count
        fields[key] = value
    digest = hashlib.sha256(raw).hexdigest()
    if skip is not None and skip(doc_id, digest, source):
        # A record handed on has its repairs reported once it parses (it may still turn out
        # empty); an unchanged one is not parsed, so they are reported here.
        if bad:
            problems.append(Problem.replaced_bytes(source, bad))
        if surrogates:
            problems.append(Problem.replaced_surrogates(source, surrogates))
        return Unchanged(doc_id, digest, source)
    return RawRelease(
        doc_id=doc_id,
        text=body,
        location=source,
        content_hash=digest,
        title=fields["title"],
        date=fields["date"],
        source=fields["source"] or source,
        url=fields["url"],
        default_year=default_year,
        replaced_bytes=bad,
        replaced_surrogates=surrogates,
        publisher=fields["publisher"],
        html=html,
    )


_CHUNK_BYTES = 64 * 1024


def _jsonl_lines(fh, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """``(number, line, size)`` for each line of the binary file ``fh``, without its line end
    (``\\n`` or ``\\r\\n``).  ``line`` is None for a line of more than ``limit`` bytes, which is
    skipped in chunks rather than held in memory; ``size`` is its length."""
    number = 0
    # limit + 2: room for the line end of a line of ``limit`` bytes
    while raw := fh.readline(limit + 2):
        number += 1
        if raw.endswith(b"\n") or len(raw) < limit + 2:  # the whole line (the last: no \n)
            line = raw.removesuffix(b"\n").removesuffix(b"\r")
            yield (number, line, len(line)) if len(line) <= limit else (number, None, len(line))
            continue
        size, tail = len(raw), raw[-1:]
        while chunk := fh.readline(_CHUNK_BYTES):
            size += len(chunk)
            if chunk.endswith(b"\n"):
                ending = b"\r\n" if (tail + chunk).endswith(b"\r\n") else b"\n"
                size -= len(ending)
                break
            tail = chunk[-1:]
        yield number, None, size


#: How much of a JSONL file that is not UTF-8 charset-normalizer looks at.
_DETECT_SAMPLE_BYTES = 1024 * 1024


def _jsonl_encoding(path: Path, source: str, limit: int) -> str:
    """The codec of a JSONL file, decided over its lines as :func:`decode_bytes` decides for a
    text file, without holding the file in memory.  Lines with NUL bytes do not count: each is
    skipped on its own, unless they are more than half the lines -- then the file is binary
    (:class:`SourceError`)."""
    lines = nul_lines = bad = non_ascii = 0
    has_bom = False
    sample = bytearray()
    with open(path, "rb") as fh:
        for number, raw, _ in _jsonl_lines(fh, limit):
            if number == 1 and raw is not None and raw.startswith(_BOM):
                has_bom, raw = True, raw[len(_BOM):]
            if raw is None or not raw.strip():
                continue
            lines += 1
            if b"\x00" in raw:
                nul_lines += 1
                continue
            if len(sample) < _DETECT_SAMPLE_BYTES:
                sample += raw + b"\n"
            if raw.isascii():
                continue
            non_ascii += len(raw.translate(None, _ASCII_BYTES))
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                bad += _decode_with(raw, "utf-8")[1]
    if nul_lines * 2 > lines:
        raise SourceError("binary file (contains NUL bytes)", source)
    if has_bom or bad <= non_ascii * MAX_BAD_UTF8_SHARE:
        return "utf-8"
    return _detect(bytes(sample), source)[1]


def _read_jsonl_file(
    path: Path, problems: list[Problem], skip: Skip | None = None,
    max_bytes: int = MAX_RELEASE_BYTES,
) -> Iterator[RawRelease | Unchanged]:
    """A ``.jsonl`` file: one release per non-blank line; a malformed line is reported and
    skipped."""
    where = _shown(path)
    # One encoding for the whole file (a first pass); each line is then decoded on its own, so
    # that its content hash and its bad bytes are its own.
    encoding = _jsonl_encoding(path, where, max_bytes)
    default_year = _mtime_year(path)
    with open(path, "rb") as fh:
        for number, raw, size in _jsonl_lines(fh, max_bytes):
            source = f"{where}:{number}"
            if raw is None:
                problems.append(Problem(source, _too_large("line too large", size, max_bytes),
                                        skipped=True))
                continue
            if number == 1:
                raw = raw.removeprefix(_BOM)
            if not raw.strip():
                continue
            if b"\x00" in raw:
                problems.append(Problem(source, "binary data (a NUL byte) in the line", True))
                continue
            text, bad = _decode_with(raw, encoding)
            try:
                yield _jsonl_record(raw, text, bad, source, default_year, skip, problems)
            except SourceError as error:
                problems.append(Problem(source, error.reason, skipped=True))


#: The reader of each source suffix (lower case).
READERS: dict[str, Reader] = {
    ".txt": _read_text_file,
    ".md": _read_markdown_file,
    ".jsonl": _read_jsonl_file,
    ".html": _read_html_file,
    ".htm": _read_html_file,
    ".warc": _read_warc_file,
    ".warc.gz": _read_warc_file,
}

#: File suffixes read as sources (compared case-insensitively).
SOURCE_SUFFIXES = tuple(READERS)

_DOUBLE_SUFFIXES = tuple(s for s in READERS if s.count(".") > 1)


def source_suffix(path: Path) -> str:
    """The suffix of ``path`` that picks its reader (``.warc.gz`` counts as one), lower case."""
    name = path.name.lower()
    return next((s for s in _DOUBLE_SUFFIXES if name.endswith(s) and len(name) > len(s)),
                path.suffix.lower())


# --------------------------------------------------------------------------- files


def _is_source(path: Path) -> bool:
    return source_suffix(path) in READERS


def _folder_key(path: str | os.PathLike) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _inside(target: str, roots: list[Path]) -> bool:
    return any(Path(target).is_relative_to(root) for root in roots)


_NOT_FOLLOWED = "not followed (--follow-links follows it)"


def _walk(top: Path, roots: list[Path], problems: list[Problem],
          follow_links: bool) -> Iterator[Path]:
    """The source files under the folder ``top`` (see :func:`iter_source_files`)."""
    # Folders read, when links are followed: a link back up (a loop) or a second link to a
    # folder already read leads nowhere new.
    seen = {_folder_key(top)} if follow_links else set()

    def unreadable(error: OSError) -> None:
        problems.append(Problem(_shown(error.filename or top),
                                f"cannot read folder: {error.strerror}", skipped=True))

    for root, dirs, files in os.walk(top, onerror=unreadable, followlinks=follow_links):
        found: list[Problem] = []  # this folder's, reported in name order
        kept = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue
            folder = os.path.join(root, name)
            if follow_links:
                try:
                    key = _folder_key(folder)
                except OSError:  # gone since it was listed
                    continue
                if key in seen:
                    continue
                seen.add(key)
            elif os.path.islink(folder):
                # A link to a folder inside the source folders is not followed either: its
                # files are read where they are.
                target = os.path.realpath(folder)
                if not _inside(target, roots):
                    found.append(Problem(_shown(folder), "symbolic link to a folder outside "
                                         f"the source folders ({_shown(target)}): "
                                         f"{_NOT_FOLLOWED}", skipped=True))
                continue
            kept.append(name)
        dirs[:] = kept
        for name in files:
            if name.startswith("."):
                continue
            path = Path(root, name)
            problem = _file_problem(path, roots, follow_links)
            if problem is not None:
                found.append(problem)
            elif _is_source(path):
                yield path
        problems.extend(sorted(found, key=lambda p: p.source))


def _file_problem(path: Path, roots: list[Path], follow_links: bool,
                  named: bool = False) -> Problem | None:
    """Why ``path``, listed in a source folder (or ``named`` by the caller), is not read
    (None: it is read, or ignored)."""
    is_link = path.is_symlink()
    try:
        st = path.stat()
    except OSError as error:
        # A broken link may have named a source file or a folder (no suffix): say so.
        if not (named or _is_source(path) or (is_link and not path.suffix)):
            return None
        if not is_link:
            message = f"cannot read file: {error.strerror}"
        elif error.errno == errno.ELOOP:
            message = "symbolic link loop"
        elif error.errno in (errno.ENOENT, errno.ENOTDIR):
            message = "broken symbolic link (its target does not exist)"
        else:
            message = f"cannot follow symbolic link: {error.strerror}"
        return Problem(_shown(path), message, skipped=True)
    if not _is_source(path):
        return None
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the reindex, a device never end
        return Problem(_shown(path), "not a regular file", skipped=True)
    if is_link and not follow_links:
        target = os.path.realpath(path)
        if not _inside(target, roots):
            return Problem(_shown(path), "symbolic link to a file outside the source folders "
                           f"({_shown(target)}): {_NOT_FOLLOWED}", skipped=True)
    return None


def iter_source_files(
    paths: Iterable[str | os.PathLike], problems: list[Problem] | None = None, *,
    follow_links: bool = False,
) -> list[Path]:
    """The source files named by ``paths``, folders expanded recursively.

    Only files with a suffix in :data:`SOURCE_SUFFIXES` are kept; hidden files and folders
    (name starting with ``.``) inside a folder are skipped.  The result is sorted and free of
    duplicates.  A path that does not exist raises :class:`SourceError`.

    Symbolic links found in a folder: a link to a file inside the source folders (the folders
    in ``paths``) is read, as that file under the link's name; a link to a file or folder
    outside them is not followed, and reported, unless ``follow_links``; a link to a folder
    inside them is not followed (its files are read where they are).  With ``follow_links``,
    every link is followed, each folder being read once (so a link loop ends).  Broken and
    looping links, files that are not regular files (FIFOs, devices) and unreadable folders
    are skipped.  Every file or folder skipped is appended to ``problems`` (when given).
    Paths named in ``paths`` are always followed: the caller asked for them.
    """
    if problems is None:
        problems = []
    paths = [Path(raw) for raw in paths]
    roots = [Path(os.path.realpath(path)) for path in paths if path.is_dir()]
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(_walk(path, roots, problems, follow_links))
        elif path.is_file():
            if _is_source(path):
                found.add(path)
        elif os.path.lexists(path):  # a broken link, a FIFO...: named, so reported
            problem = _file_problem(path, roots, True, named=True)
            problems.append(problem or Problem(_shown(path), "not a regular file", True))
        else:
            raise SourceError("no such file or folder", _shown(path))
    return sorted(found)


def read_sources(
    files: Iterable[Path], problems: list[Problem], skip: Skip | None = None, *,
    max_release_bytes: int | None = None, tally: Counter | None = None,
) -> Iterator[RawRelease | Unchanged]:
    """The records of ``files`` (from :func:`iter_source_files`), in order, each file read by
    its suffix's reader.

    A file that cannot be read (binary, undecodable, unusable id, I/O error, a release over
    ``max_release_bytes``, default :data:`MAX_RELEASE_BYTES`) is appended to ``problems`` as
    skipped, and reading goes on with the next file.  A file whose path is not valid UTF-8 is
    read, its path stored with U+FFFD for the bad bytes, and that is reported.

    Web crawls: the WARC files are first scanned together, so that of the pages of one URL
    only the newest is read, whichever file holds it (:func:`search.warc.plan_warcs`).  The
    records a crawl holds that are not read (not HTML, redirects, error responses, older
    copies of a URL) are counted in ``tally`` by kind (see :data:`search.warc.SKIPPED_KINDS`).
    """
    limit = MAX_RELEASE_BYTES if max_release_bytes is None else max_release_bytes
    files = list(files)
    plan = None
    warcs = [path for path in files if READERS[source_suffix(path)] is _read_warc_file]
    if warcs:
        from search.warc import plan_warcs

        plan = plan_warcs(warcs)
    for path in files:
        where, bad = display_path(path)
        reader = READERS[source_suffix(path)]
        if reader is _read_warc_file:
            def reader(path, problems, skip, limit, _read=reader):  # noqa: E306
                return _read(path, problems, skip, limit, plan=plan, tally=tally)
        try:
            for count, record in enumerate(reader(path, problems, skip, limit)):
                if count == 0 and bad:  # its releases store the path: not the real one
                    problems.append(Problem(where, "path is not valid UTF-8: stored with "
                                            f"U+FFFD for {bad} undecodable byte(s)", False))
                yield record
        except SourceError as error:
            problems.append(Problem(where, error.reason, skipped=True))
        except OSError as error:
            problems.append(Problem(where, f"cannot read file: {error.strerror or error}", True))
