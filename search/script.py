"""Script handling, the one place for it: which characters are ideographs, OpenCC conversion
that keeps the length, and the folding the analyzers apply.

Everything that converts between traditional and simplified script (analysis, repair, section
rules) goes through :func:`convert`, which never changes a text's length, so offsets found in a
converted text slice the original: a phrase rule of OpenCC that would change a line's length is
replaced, for that line, by a conversion character by character.
"""

from __future__ import annotations

import functools
import re
import threading

#: CJK unified ideographs: basic, extension A, compatibility, and the supplementary planes'
#: extensions B to I (with the compatibility supplement), as a regex character-class body.
CJK_CLASS = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002a6df\U0002a700-\U0002ee5f\U0002f800-\U0002fa1f\U00030000-\U000323af"
)
CJK_RE = re.compile(f"[{CJK_CLASS}]")
CJK_RUN_RE = re.compile(f"[{CJK_CLASS}]+")  # a run of ideographs


def is_cjk(text: str) -> bool:
    """True if ``text`` is not empty and every character of it is a CJK ideograph."""
    return CJK_RUN_RE.fullmatch(text) is not None


# --- OpenCC --------------------------------------------------------------------------------

# The OpenCC binding is not documented as thread-safe: every conversion holds this lock.
_converter_lock = threading.Lock()


@functools.cache
def opencc_converter(config: str):  # -> opencc.OpenCC
    """The process's one OpenCC converter for ``config`` (``"t2s"``, ``"s2t"``)."""
    import opencc

    return opencc.OpenCC(config)


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with lone surrogates (a truncated emoji in JSON, say) replaced by U+FFFD, so
    that it can cross into OpenCC (UTF-8); same length."""
    return _SURROGATE_RE.sub("\ufffd", text) if _SURROGATE_RE.search(text) else text


def convert(config: str, text: str) -> str:
    """OpenCC ``config`` conversion of ``text`` that keeps its length.

    The whole text at once (phrase rules included) when that keeps the length; otherwise line
    by line, and a line whose conversion changes its length character by character, a
    character whose conversion is not one character staying as it is.
    """
    text = without_surrogates(text)
    conv = opencc_converter(config)
    with _converter_lock:
        out = conv.convert(text)
        if len(out) == len(text):
            return out
        lines = []
        for line in text.splitlines(keepends=True):
            new = conv.convert(line)
            if len(new) != len(line):
                new = "".join(one if len(one := conv.convert(c)) == 1 else c for c in line)
            lines.append(new)
    return "".join(lines)


def convert_lines(config: str, lines: list[str]) -> list[str]:
    """``[convert(config, line) for line in lines]``, in one OpenCC call when that gives the
    same result (no line holds a line break and the conversion keeps every length)."""
    if len(lines) > 1 and not any("\n" in line for line in lines):
        joined = "\n".join(lines)
        parts = convert(config, joined).split("\n")
        if len(parts) == len(lines) and all(len(p) == len(q) for p, q in zip(parts, lines)):
            return parts
    return [convert(config, line) for line in lines]


def to_simplified(text: str) -> str:
    """``text`` in simplified script (OpenCC ``t2s``), same length: what a reader is shown."""
    return convert("t2s", text)


def canonical_simplified(text: str) -> str:
    """The canonical simplified form the analyzers index: t2s, then a s2t/t2s round trip.

    The round trip makes the result the same for a simplified text and for its OpenCC
    traditional form even where s2t picks, by phrase, a traditional character that is also a
    simplified one (复 -> 覆 in 核复, which t2s keeps as 覆).
    """
    simple = convert("t2s", text)
    if simple.isascii():
        return simple
    return convert("t2s", convert("s2t", simple))


# --- folding -------------------------------------------------------------------------------


def _fold_char(c: str) -> str:
    o = ord(c)
    if 0xFF01 <= o <= 0xFF5E:  # full-width ASCII
        c = chr(o - 0xFEE0)
    elif o == 0x3000:  # ideographic space
        return " "
    low = c.lower()
    # İ lowers to i and a combining dot: its i keeps the length (istanbul finds İstanbul)
    return low if len(low) == 1 else low[0] if low[0].isascii() else c


_FOLD_TABLE = {o: _fold_char(chr(o)) for o in range(0xFF01, 0xFF5F)}
_FOLD_TABLE[0x3000] = " "
#: Variants OpenCC leaves that pages write for the common character: 巿 (fú, a radical
#: scrapers and old fonts put for 市) and 陜 (the traditional 陝's variant, for 陕).
VARIANTS = {"巿": "市", "陜": "陕"}
_FOLD_TABLE.update({ord(a): b for a, b in VARIANTS.items()})


def _fold_width_and_case(simple: str) -> str:
    folded = simple.translate(_FOLD_TABLE)
    low = folded.lower()
    if len(low) == len(folded):
        return low
    return "".join(_fold_char(c) for c in folded)  # a lower() that changes a length


def _fold_uncached(text: str) -> str:
    return _fold_width_and_case(canonical_simplified(text))


@functools.lru_cache(maxsize=4096)
def _fold_cached(text: str) -> str:
    return _fold_uncached(text)


_last_folded: tuple[str, str] = ("", "")


def fold(text: str) -> str:
    """Traditional to simplified, full-width to half-width, lower case; same length as ``text``."""
    global _last_folded
    if len(text) <= 64:  # query words and short paragraphs repeat: cache them
        return _fold_cached(text)
    last = _last_folded  # each paragraph is analysed by two fields in a row: fold it once
    if last[0] == text:
        return last[1]
    folded = _fold_uncached(text)
    _last_folded = (text, folded)
    return folded


def fold_many(texts: list[str]) -> list[str]:
    """``[fold(t) for t in texts]``, with one pass of each OpenCC conversion over all of them
    (joined by line breaks, which no OpenCC phrase crosses: :func:`convert` falls back line by
    line where a phrase rule would change a length, as folding each text does). Width and case
    are folded text by text (a lower() that changes a length falls back for its text only),
    so each result is exactly ``fold(t)``: the writers store it (:mod:`search.foldedtext`)."""
    if len(texts) < 2 or any("\n" in t for t in texts):
        return [fold(t) for t in texts]
    parts = canonical_simplified("\n".join(texts)).split("\n")
    if len(parts) != len(texts) or any(len(p) != len(t) for p, t in zip(parts, texts)):
        return [fold(t) for t in texts]  # lengths changed that cancel out over the whole
    return [_fold_width_and_case(p) for p in parts]


# --- which script a text is written in ------------------------------------------------------


def script_counts(text: str) -> tuple[int, int]:
    """(characters of ``text`` that only traditional script writes so -- t2s changes them --,
    characters that only simplified script writes so -- s2t changes them)."""
    trad = sum(1 for a, b in zip(text, convert("t2s", text)) if a != b)
    simp = sum(1 for a, b in zip(text, convert("s2t", text)) if a != b)
    return trad, simp


# The most frequent characters each script writes its own way (the same words, in each): a
# quick count that settles most texts without an OpenCC pass.
_OWN_TRADITIONAL_RE = re.compile("[們個說時來國會為與對開後發這產經過進動還體點長關現無種問]")
_OWN_SIMPLIFIED_RE = re.compile("[们个说时来国会为与对开后发这产经过进动还体点长关现无种问]")


@functools.lru_cache(maxsize=16)
def script_of(text: str) -> str | None:
    """``"traditional"`` or ``"simplified"`` when one script's own characters outnumber the
    other's at least three to one (and there are at least three of them), else None."""
    trad = len(_OWN_TRADITIONAL_RE.findall(text))
    simp = len(_OWN_SIMPLIFIED_RE.findall(text))
    if trad >= 10 and trad >= 10 * simp:
        return "traditional"
    if simp >= 10 and simp >= 10 * trad:
        return "simplified"
    trad, simp = script_counts(text)
    if trad >= 3 and trad >= 3 * simp:
        return "traditional"
    if simp >= 3 and simp >= 3 * trad:
        return "simplified"
    return None


#: Mainland characters a crude converter to traditional leaves as they are, because their
#: traditional forms depend on the word (于/於, 并/並/併, 后/後, 里/裡/裏, 么/麼, 复/復/複), and
#: 这, which converters are seen to leave too (``search.repair.MAINLAND_MARKERS``): in a
#: converted text they are plain text, not a sign of mojibake.
LEFT_BY_CONVERTERS = frozenset("于并后里么复这")


@functools.lru_cache(maxsize=65536)
def fits_script(ch: str, script: str | None) -> bool:
    """False when ``ch`` is written so only in the other script than ``script``: a simplified-
    only character in a traditional text (s2t changes it), or the reverse."""
    if script == "traditional":
        return convert("s2t", ch) == ch
    if script == "simplified":
        return convert("t2s", ch) == ch
    return True
