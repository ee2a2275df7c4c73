"""Highlighting: which characters of a paragraph matched, as escaped HTML with ``<mark>``.

Matches are found on the folded text (so a traditional paragraph lights up for a simplified
query) and drawn on the displayed text; touching matches merge, so ``核酸`` + ``检测`` is shown
as one ``<mark>核酸检测</mark>``. Nothing but ``<mark>`` and ``</mark>`` is ever emitted unescaped.

The work is linear in the text and bounded whatever the paragraph: matches are looked for in
its first :data:`EXAMINED_CHARS` characters only, at most :data:`MAX_SPANS` of them are
marked (the first ones), and choosing a snippet's window is one pass over the marks; a
:class:`Highlighter` examines :data:`MAX_HIGHLIGHTED_CHARS` characters in all.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from html import escape

from .lexicon import Lexicon
from .query import ParsedQuery
# EXAMINED_CHARS: characters of a paragraph examined for matches (highlights, phrase checks,
# re-ranking; defined where the index keeps their folded form); the rest of a longer
# paragraph is shown unmarked.
from .foldedtext import EXAMINED_CHARS
from .script import fold, is_cjk

SNIPPET_CHARS = 160
WHOLE_BELOW = 220
#: Most marks drawn in one text: later matches are shown unmarked.
MAX_SPANS = 1_000
#: Characters one :class:`Highlighter` examines in all (a release page): the texts it is given
#: after that are shown unmarked.
MAX_HIGHLIGHTED_CHARS = 200_000


def needles(query: ParsedQuery) -> list[str]:
    """The folded strings whose occurrences are marked: the query's content words, and each
    positive unit as a whole (sorted: the order never changes a result)."""
    found: set[str] = set()
    for clause in query.positive:
        for unit in clause.units:
            compact = "".join(unit.folded.split())
            if unit.phrase:
                found.add(compact)
                continue
            found.update(unit.concepts)
            if len(compact) >= 2:
                found.add(compact)
    found.discard("")
    return sorted(found)


def match_spans(text: str, query: ParsedQuery, lexicon: Lexicon | None = None,
                folded: str | None = None) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` character spans of ``text`` that match the query's positive units.

    Looks for the query's content words, and each clause as a whole, in the folded text
    (substring search: no need to segment the paragraph again); Latin words and numbers only
    match whole. ``folded`` is ``fold(text)`` (or of its first :data:`EXAMINED_CHARS`
    characters) when the caller has it already. Only the first :data:`EXAMINED_CHARS`
    characters are examined, and the first :data:`MAX_SPANS` merged spans returned.
    """
    return spans_of(needles(query), text, folded)


def spans_of(targets: list[str], text: str, folded: str | None = None) -> list[tuple[int, int]]:
    """:func:`match_spans` for the folded strings ``targets``."""
    if not targets or not text:
        return []
    examined = min(len(text), EXAMINED_CHARS)
    if folded is None or len(folded) < examined:
        folded = fold(text[:examined])
    elif len(folded) > examined:
        folded = folded[:examined]
    spans: list[tuple[int, int]] = []
    # Every needle's matches are complete up to ``limit``; a needle that reaches MAX_SPANS
    # matches stops there and lowers the limit to its last match (later spans of other needles
    # are dropped, so what is marked is every match up to that point, never a patchwork).
    limit = examined
    for needle in targets:
        whole = not is_cjk(needle)
        found = 0
        start = folded.find(needle, 0, limit + len(needle))
        while start != -1:
            end = start + len(needle)
            if not whole or _bounded(folded, start, end):
                spans.append((start, end))
                found += 1
                if found == MAX_SPANS:
                    limit = start
                    break
            start = folded.find(needle, start + 1, limit + len(needle))
    return _merge([s for s in spans if s[0] <= limit])[:MAX_SPANS]


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
    """Escaped HTML of ``text[start:end]`` with ``spans`` (merged, in order) in ``<mark>``."""
    end = len(text) if end is None else end
    out = []
    pos = start
    # Only the spans that reach into the window (they are sorted and disjoint).
    first = bisect_right([e for _s, e in spans], start) if spans else 0
    for s, e in spans[first:]:
        if s >= end:
            break
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(escape(text[pos:s]))
        out.append("<mark>" + escape(text[s:e]) + "</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    return "".join(out)


def snippet(text: str, spans: list[tuple[int, int]], size: int = SNIPPET_CHARS) -> str:
    """A window of about ``size`` characters around the densest matches, as HTML.

    ``spans`` are merged spans in order (as :func:`match_spans` returns them)."""
    if len(text) <= WHOLE_BELOW or not spans:
        if len(text) <= WHOLE_BELOW:
            return render(text, spans)
        return escape(text[:size]) + "…"
    ws, we = _window(spans, size)
    ws = min(ws, max(0, len(text) - size))
    we = min(len(text), ws + size)
    # Do not cut a match in half.
    starts = [s for s, _e in spans]
    i = bisect_left(starts, we) - 1
    if i >= 0 and spans[i][0] < we < spans[i][1]:
        we = spans[i][1]
    i = bisect_left(starts, ws) - 1
    if i >= 0 and spans[i][0] < ws < spans[i][1]:
        ws = spans[i][0]
    html = render(text, spans, ws, we)
    return ("…" if ws > 0 else "") + html + ("…" if we < len(text) else "")


def _window(spans: list[tuple[int, int]], size: int) -> tuple[int, int]:
    """The window ``[ws, ws + size)`` starting 20 characters before a span that covers the
    most matched characters (the first such), in one pass: as the window slides right, the
    spans it overlaps are a range ``[lo, hi)`` whose both ends only move right."""
    prefix = [0]
    for s, e in spans:
        prefix.append(prefix[-1] + e - s)
    best, best_start = -1, 0
    lo = hi = 0
    n = len(spans)
    for s, _e in spans:
        ws = max(0, s - 20)
        we = ws + size
        while lo < n and spans[lo][1] <= ws:
            lo += 1
        while hi < n and spans[hi][0] < we:
            hi += 1
        covered = prefix[hi] - prefix[lo]
        if hi > lo:  # clip the first and last overlapping spans to the window
            covered -= max(0, ws - spans[lo][0])
            covered -= max(0, spans[hi - 1][1] - we)
        if covered > best:
            best, best_start = covered, ws
    return best_start, best_start + size


class Highlighter:
    """A query read once, to highlight any number of texts (a release page's paragraphs):
    together they are examined up to :data:`MAX_HIGHLIGHTED_CHARS` characters (each text up
    to :data:`EXAMINED_CHARS`); later texts are shown unmarked."""

    def __init__(self, query: ParsedQuery, budget: int = MAX_HIGHLIGHTED_CHARS):
        self.query = query
        self.targets = needles(query)
        self.budget = budget  # characters still to examine

    def spans(self, text: str, folded: str | None = None) -> list[tuple[int, int]]:
        """The merged spans of ``text`` to mark (see :func:`match_spans`)."""
        cost = min(len(text), EXAMINED_CHARS)
        if not self.targets or cost > self.budget:
            return []
        self.budget -= cost
        return spans_of(self.targets, text, folded)

    def html(self, text: str) -> str:
        """The whole ``text`` as escaped HTML with the matches in ``<mark>``."""
        return render(text, self.spans(text))
