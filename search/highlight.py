"""Highlighting: which characters of a paragraph matched, as escaped HTML with ``<mark>``.

Matches are found on the folded text (so a traditional paragraph lights up for a simplified
query) and drawn on the displayed text; touching matches merge, so ``核酸`` + ``检测`` is shown
as one ``<mark>核酸检测</mark>``. Nothing but ``<mark>`` and ``</mark>`` is ever emitted unescaped.
"""

from __future__ import annotations

from html import escape

from .lexicon import Lexicon
from .script import fold, is_cjk
from .query import ParsedQuery

SNIPPET_CHARS = 160
WHOLE_BELOW = 220


def match_spans(text: str, query: ParsedQuery, lexicon: Lexicon | None = None,
                folded: str | None = None) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` character spans of ``text`` that match the query's positive units.

    Looks for the query's content words, and each clause as a whole, in the folded text
    (substring search: no need to segment the paragraph again); Latin words and numbers only
    match whole. ``folded`` is ``fold(text)`` when the caller has it already.
    """
    needles: set[str] = set()
    for clause in query.positive:
        for unit in clause.units:
            compact = "".join(unit.folded.split())
            if unit.phrase:
                needles.add(compact)
                continue
            needles.update(unit.concepts)
            if len(compact) >= 2:
                needles.add(compact)
    needles.discard("")
    if not needles:
        return []
    if folded is None or len(folded) != len(text):
        folded = fold(text)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        whole = not is_cjk(needle)
        start = folded.find(needle)
        while start != -1:
            end = start + len(needle)
            if not whole or _bounded(folded, start, end):
                spans.append((start, end))
            start = folded.find(needle, start + 1)
    return _merge(spans)


def _bounded(text: str, start: int, end: int) -> bool:
    """No letter or digit glued to either side of ``text[start:end]``."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (_is_alnum(before) or _is_alnum(after))


def _is_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def render(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None
           ) -> str:
    """Escaped HTML of ``text[start:end]`` with ``spans`` in ``<mark>``."""
    end = len(text) if end is None else end
    out = []
    pos = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(escape(text[pos:s]))
        out.append("<mark>" + escape(text[s:e]) + "</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    return "".join(out)


def snippet(text: str, spans: list[tuple[int, int]], size: int = SNIPPET_CHARS) -> str:
    """A window of about ``size`` characters around the densest matches, as HTML."""
    if len(text) <= WHOLE_BELOW or not spans:
        if len(text) <= WHOLE_BELOW:
            return render(text, spans)
        return escape(text[:size]) + "…"
    # Pick the window that covers the most matched characters, starting a little before a match.
    best, best_start = -1, 0
    for s, _e in spans:
        ws = max(0, s - 20)
        covered = sum(min(e2, ws + size) - max(s2, ws) for s2, e2 in spans
                      if e2 > ws and s2 < ws + size)
        if covered > best:
            best, best_start = covered, ws
    ws = min(best_start, max(0, len(text) - size))
    we = min(len(text), ws + size)
    # Do not cut a match in half.
    for s, e in spans:
        if s < we < e:
            we = e
        if s < ws < e:
            ws = s
    html = render(text, spans, ws, we)
    return ("…" if ws > 0 else "") + html + ("…" if we < len(text) else "")
