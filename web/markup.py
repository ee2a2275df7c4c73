"""Presentation helpers: section labels, trusted highlight HTML, pagination."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from search import SECTION_LABELS

_MARK_TAG = re.compile(r"(</?mark>)")


def section_label(section: str) -> str:
    """The Chinese label of ``section`` (the raw name if unknown)."""
    return SECTION_LABELS.get(section, section)


def marked_html(html: str) -> Markup:
    """Mark the engine's highlight HTML safe, allowing nothing but ``<mark>`` tags.

    The engine escapes the text and adds only ``<mark>``/``</mark>``; this checks it: any
    stretch between mark tags that still contains ``<`` or ``>`` is escaped again, so a bug
    upstream can never inject markup into a page.
    """
    parts = _MARK_TAG.split(html)
    out: list[str] = []
    for part in parts:
        if part in ("<mark>", "</mark>"):
            out.append(part)
        elif "<" in part or ">" in part:
            out.append(str(escape(part)))
        else:
            out.append(part)
    return Markup("".join(out))


#: Repair kinds (``Release.repairs``) as the release page names them, in the order shown.
REPAIR_LABELS = {
    "annotations": "拼音注音",
    "script": "繁体转回简体",
    "punctuation": "英文标点",
    "doubled_punctuation": "重复标点",
    "spaces": "多余空格",
    "indents": "缩进乱码",
    "mojibake": "乱码",
    "mojibake_utf8": "乱码（UTF-8）",
    "mojibake_latin1": "乱码（Latin-1）",
    "restored": "丢失的字符",
}


def repair_summary(repairs: dict[str, int]) -> list[tuple[str, int]]:
    """``(label, count)`` of each kind of repair made to a release, in :data:`REPAIR_LABELS`
    order (the flagged ``unrepaired_*`` counts are not repairs and are left out)."""
    return [(label, repairs[kind]) for kind, label in REPAIR_LABELS.items() if repairs.get(kind)]


#: What a flagged span of a release page says (``Release.flagged`` kinds).
FLAG_LABELS = {
    "unrepaired_mojibake": "乱码：无法确证原文，原样保留",
    "unrepaired_lost": "疑似丢失的字符：无法确证原文，原样保留",
}


def paragraph_html(text: str, marks: list[tuple[int, int]], flags: list[tuple[int, int, str]]
                   ) -> Markup:
    """``text`` escaped, the query's matches (``marks``: merged, in order) in ``<mark>`` and
    the spans the repair could not prove (``flags``: ``(start, end, kind)``) in
    ``<span class="flagged">`` with what they are; a piece in both is in both."""
    cuts = {0, len(text)}
    for s, e in marks:
        cuts.update((s, e))
    flags = [(s, e, k) for s, e, k in flags if 0 <= s < e <= len(text)]
    for s, e, _k in flags:
        cuts.update((s, e))
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    out: list[str] = []
    for a, b in zip(points, points[1:]):
        piece = str(escape(text[a:b]))
        kind = next((k for s, e, k in flags if s <= a and b <= e), None)
        if kind is not None:
            label = escape(FLAG_LABELS.get(kind, kind))
            piece = f'<span class="flagged" title="{label}">{piece}</span>'
        if any(s <= a and b <= e for s, e in marks):
            piece = f"<mark>{piece}</mark>"
        out.append(piece)
    return Markup("".join(out))


def page_window(current: int, total_pages: int, radius: int = 2) -> list[int | None]:
    """Page numbers to link: first, last, and ``current ± radius``; ``None`` marks a gap.

    >>> page_window(6, 12)
    [1, None, 4, 5, 6, 7, 8, None, 12]
    """
    if total_pages <= 0:
        return []
    wanted = {1, total_pages, *range(max(1, current - radius), min(total_pages, current + radius) + 1)}
    out: list[int | None] = []
    previous = 0
    for number in sorted(wanted):
        if number - previous > 1:
            out.append(None)
        out.append(number)
        previous = number
    return out


def total_pages(total: int, per_page: int) -> int:
    """Number of pages needed for ``total`` hits."""
    return (total + per_page - 1) // per_page
