"""Punctuation a scraper damaged, put back: each function returns the edits of one kind for the
text it is given (offsets of that text), never inside ``protected`` spans (unrepaired mojibake
left as it is).

* ``indents`` (:func:`indent_edits`) -- ``????`` at the start of a line, where full-width
  indents (two bytes each) were lost, is removed.
* ``doubled_punctuation`` (:func:`doubled_edits`) -- an ASCII comma doubling a Chinese mark
  (``,,`` ``,、`` ``,。``) is removed.
* ``punctuation`` (:func:`ascii_edits`) -- ASCII ``, : ; ! ? ( )`` used as Chinese punctuation
  become ``，：；！？（）``: beside a Chinese character (a ``?`` between two only after a
  question word such as 吗: elsewhere it is more often a lost byte), never between digits (``1,000``,
  ``18:30``), in a URL or e-mail address, at the end of an HTML entity (``&amp;``), or between
  Latin letters; parentheses in pairs, when they hold Chinese (``(非德州新闻网)``) or follow a
  Chinese character or mark (``空气质量(PM2.5)``), never inside Latin text (``Apple (Inc.)``)
  nor around code (``alert("核酸检测")``).
* ``spaces`` (:func:`space_edits`) -- spaces between a Chinese punctuation mark and a Chinese
  character (``来源： 德州``) are removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .edits import Edit
from .likelihood import is_common
from .pinyin import is_reading
from .script import CJK_CLASS

__all__ = ["ascii_edits", "doubled_edits", "indent_edits", "space_edits"]

#: Chinese punctuation marks (full-width) and quotes.
CHINESE_MARKS = "，。、；：？！“”‘’（）《》〈〉「」『』【】—…·"
_FULL = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
_CJK_RE = re.compile(f"[{CJK_CLASS}]")
_CJKISH_RE = re.compile(f"[{CJK_CLASS}{CHINESE_MARKS}]")
_INDENT_RE = re.compile("(?m)^[ \\t]*((?:\\?\\?){1,3})(?=[^\\s?])")
_DOUBLED_RE = re.compile(f"(?<=[{CJK_CLASS}{CHINESE_MARKS}a-zA-Z0-9]),+(?=[,，、。；：？！])")
_URL_RE = re.compile(r"(?:[a-zA-Z][a-zA-Z0-9+.-]*://|www\.)[^\s\u3000-\u303f\uff01-\uff5e"
                     f"{CJK_CLASS}]+|[\\w.+-]+@[\\w-]+\\.[\\w.-]+", re.ASCII)
_BLANKS_RE = re.compile("[ \\t]+")
_LATIN_RE = re.compile(r"[A-Za-z]")
_ASCII_MARKS_RE = re.compile(r"[,:;!?()]")
_PARENS_RE = re.compile(r"[()\n]")
#: Characters a question ends with; a "?" between two ideographs after anything else is left.
_QUESTION_ENDS = "吗嗎呢么麼吧啊嘛谁誰哪几幾怎样樣何"
_ENTITY_END_RE = re.compile(r"&(?:[A-Za-z]{2,8}|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6})$")


def _inside(ranges: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in ranges) if ranges else False


def indent_edits(text: str, protected: Sequence[tuple[int, int]] = ()) -> list[Edit]:
    if "??" not in text:
        return []
    return [Edit(m.start(1), m.end(1), "", "indents") for m in _INDENT_RE.finditer(text)
            if not _inside(protected, m.start(1), m.end(1))]


def doubled_edits(text: str, protected: Sequence[tuple[int, int]] = ()) -> list[Edit]:
    if "," not in text:
        return []
    return [Edit(m.start(), m.end(), "", "doubled_punctuation")
            for m in _DOUBLED_RE.finditer(text) if not _inside(protected, m.start(), m.end())]


def _neighbour(text: str, i: int, step: int) -> str:
    """The nearest character to ``i`` in direction ``step`` on the same line, spaces skipped."""
    j = i + step
    while 0 <= j < len(text) and text[j] in " \t":
        j += step
    if 0 <= j < len(text) and text[j] != "\n":
        return text[j]
    return ""


def _chinese(ch: str) -> bool:
    return bool(ch) and _CJKISH_RE.match(ch) is not None


def ascii_edits(text: str, protected: Sequence[tuple[int, int]] = ()) -> list[Edit]:
    if not any(c in text for c in _FULL):
        return []
    if not _CJK_RE.search(text):
        return []
    skip = list(protected)
    if "/" in text or "@" in text or "www." in text:
        skip += [(m.start(), m.end()) for m in _URL_RE.finditer(text)]
    edits: list[Edit] = []
    pairs = _paren_pairs(text) if "(" in text else {}
    for m in _ASCII_MARKS_RE.finditer(text):
        i = m.start()
        ch = m.group()
        full = _FULL[ch]
        if skip and _inside(skip, i, i + 1):
            continue
        if ch in "()":
            if pairs.get(i):
                edits.append(Edit(i, i + 1, full, "punctuation"))
            continue
        left, right = _neighbour(text, i, -1), _neighbour(text, i, 1)
        adjacent_left = text[i - 1] if i else ""
        adjacent_right = text[i + 1] if i + 1 < len(text) else ""
        if adjacent_left.isdigit() and adjacent_right.isdigit() and ch in ",:;":
            continue  # 1,000  18:30
        if ch == "?" and ("?" in (adjacent_left, adjacent_right) or not (
                _plain(adjacent_left) and _plain(adjacent_right))):
            continue  # a lost byte beside mojibake, not a question mark
        if ch == "?" and _CJK_RE.match(adjacent_right) and adjacent_left not in _QUESTION_ENDS:
            continue  # between characters, not after a question word: more often a lost byte
        if ch in "!?":
            # after Chinese; or before Chinese when not closing a Latin sentence
            if _chinese(left) or (_chinese(right) and not _LATIN_RE.match(left or " ")):
                edits.append(Edit(i, i + 1, full, "punctuation"))
            continue
        if _chinese(left) or _chinese(right):
            if ch == ":" and adjacent_right == "/":
                continue
            if ch == ";" and _ENTITY_END_RE.search(text, max(0, i - 10), i):
                continue  # the end of an HTML entity: &amp;
            edits.append(Edit(i, i + 1, full, "punctuation"))
    return edits


def _plain(ch: str) -> bool:
    """Not a sign of mojibake: not a rare ideograph nor a private-use character."""
    if not ch or not _CJK_RE.match(ch):
        return not ("\ue000" <= ch <= "\uf8ff")
    return is_common(ch)


def _is_gloss(char: str, inner: str) -> bool:
    """``char(inner)`` glosses the reading of ``char``: 犇(bēn) keeps its parentheses."""
    return inner.isalpha() and is_reading(inner, char)


def _paren_pairs(text: str) -> dict[int, bool]:
    """ASCII parenthesis offset -> whether its pair is Chinese punctuation (see the module)."""
    out: dict[int, bool] = {}
    stack: list[int] = []
    for m in _PARENS_RE.finditer(text):
        i, ch = m.start(), m.group()
        if ch == "\n":
            stack.clear()
        elif ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            start = stack.pop()
            inner = text[start + 1:i]
            outside = _chinese(_neighbour(text, start, -1)) or _chinese(_neighbour(text, i, 1))
            code = re.search(r"[\"'=;{}<>]", inner) is not None  # alert("...") is code
            # right after a Chinese character or mark: Chinese typography, whatever it holds
            after_chinese = start > 0 and _chinese(text[start - 1]) and not _is_gloss(
                text[start - 1], inner)
            chinese = not code and (_CJK_RE.search(inner) is not None or after_chinese
                                    or (not inner.strip() and outside))
            out[start] = out[i] = chinese
    return out


def space_edits(text: str, protected: Sequence[tuple[int, int]] = ()) -> list[Edit]:
    if " " not in text and "\t" not in text:
        return []
    edits = []
    for m in _BLANKS_RE.finditer(text):
        start, end = m.start(), m.end()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if ((before in CHINESE_MARKS and before and _chinese(after))
                or (after in CHINESE_MARKS and after and _chinese(before))) and not _inside(
                    protected, start, end):
            edits.append(Edit(start, end, "", "spaces"))
    return edits
