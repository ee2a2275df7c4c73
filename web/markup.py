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
