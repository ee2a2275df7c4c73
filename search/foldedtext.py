"""Each paragraph's folded text as the index keeps it, so that a query does not fold it again.

Matching (the re-ranking's scans, phrase checks, snippets) reads the folded form
(:func:`search.script.fold`) of a paragraph's first :data:`EXAMINED_CHARS` characters. Folding
is three OpenCC passes, which at query time cost about a seventh of a query; the analyzers of
both writers fold every paragraph anyway, so they keep what they folded, one value a
paragraph, in the ``folded`` column (:data:`COLUMN`).

A value is the folded text's UTF-8, deflated (raw, level 6) with the paragraph's own examined
text as the preset dictionary: the two differ only where script, width or case was folded, so
a value is a few bytes (28 a paragraph on average at 20,000 CMRC2018 paragraphs).
"""

from __future__ import annotations

import zlib

from .script import fold

#: Characters of a paragraph that matching and highlighting look at: the first 20,000.
EXAMINED_CHARS = 20_000
#: The column holding the values (see :func:`search.schema.build_schema`).
COLUMN = "folded"

_LEVEL = 6
_WBITS = -15  # raw deflate: no header or checksum (the reader checks the length)


def examined_fold(text: str, folded: str | None = None) -> str:
    """``fold(text[:EXAMINED_CHARS])``; ``folded`` is ``fold(text)`` when the caller has it
    (used as it is when ``text`` is no longer than that: folding a cut text could differ at
    the cut, where an OpenCC phrase may cross it)."""
    if folded is not None and len(text) <= EXAMINED_CHARS:
        return folded
    return fold(text[:EXAMINED_CHARS])


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # stored texts may hold lone surrogates


def pack(text: str, folded: str) -> bytes:
    """The column value of a paragraph whose text is ``text`` and examined folded text is
    ``folded`` (:func:`examined_fold`)."""
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS,
                              zdict=_utf8(text[:EXAMINED_CHARS]) or b" ")
    return packer.compress(_utf8(folded)) + packer.flush()


def unpack(text: str, value: bytes) -> str:
    """The examined folded text of the paragraph whose text is ``text``, from its column
    value; raises ValueError if the value does not give a text of the examined length (a
    damaged column, or one of another paragraph)."""
    try:
        unpacker = zlib.decompressobj(_WBITS, zdict=_utf8(text[:EXAMINED_CHARS]) or b" ")
        folded = (unpacker.decompress(value) + unpacker.flush()).decode("utf-8",
                                                                        "surrogatepass")
    except (zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(f"not a folded text: {exc}") from None
    if len(folded) != min(len(text), EXAMINED_CHARS) or not unpacker.eof:
        raise ValueError("the folded text does not fit the paragraph")
    return folded


def column_value(text: str, folded: str | None = None) -> bytes:
    """The ``folded`` column value of a paragraph (``folded``: ``fold(text)`` when known)."""
    return pack(text, examined_fold(text, folded))
