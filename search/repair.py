"""Repair of scraped release text: the pipeline, and the pinyin-annotation and lost-character
steps.

Some scraped releases went through a broken converter that turned simplified text into
traditional script and appended the Hanyu pinyin reading of some converted characters in
ASCII parentheses: ``統(tǒng)籌`` for ``统筹``; their bytes were then decoded one byte off in
places (``?shù)嘏涮茁?`` for ``地配套率``), a character lost with the ``(`` of its annotation
(``在?dāng)前``), and the page's full-width punctuation folded to ASCII.

:func:`repair_text` undoes that, step by step, each step a module of its own:

1. mojibake (:mod:`search.mojibake`): Latin-1/CP1252 readings, UTF-8 read as GBK, GBK
   decoded one byte off -- repaired where provable, else flagged and left as it is;
2. lost characters (:func:`lost_character_edits`): ``?reading)`` becomes the character when
   one character with that reading is far more likely than any other in its words;
3. annotations (:func:`annotation_edits`): a pinyin syllable in parentheses after a character
   it is a reading of (all readings, with or without tone mark, repeated), in an annotated
   text only; real parentheses are never touched;
4. punctuation (:mod:`search.punctuation`): lost indents, doubled commas, ASCII punctuation
   used as Chinese, spaces around Chinese punctuation;
5. script: a machine-converted release (annotated, or traditional with the mainland
   characters its converter left) is converted back to simplified (OpenCC ``t2s``, length
   kept).  Genuinely traditional releases keep their script.

Every change is recorded as a :class:`RepairSpan` with offsets in the text given and in the
repaired text, and counted by kind; a flagged span (``unrepaired_*``) is one left as it is.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from .edits import Edit
from .likelihood import is_common, judge_all, lead
from .mojibake import (
    MARGIN,
    UNCONVERTED_ANNOTATION,
    document_prior,
    document_trigrams,
    gbk_shift_edits,
    latin1_edits,
    utf8_as_gbk_edits,
)
from .pinyin import LETTERS, chars_read, is_reading, is_syllable, is_toned, nfc
from .punctuation import ascii_edits, doubled_edits, indent_edits, space_edits
from .script import CJK_RE, convert, fits_script, script_of, to_simplified

__all__ = [
    "ANNOTATED_MIN_COUNT",
    "ANNOTATED_MIN_RATIO",
    "REPAIR_VERSION",
    "RepairResult",
    "RepairSpan",
    "annotation_edits",
    "is_annotated",
    "is_machine_converted",
    "lost_character_edits",
    "repair_text",
    "restore_lost_characters",
    "strip_annotations",
]

#: Changes whenever what repair does to a text changes: indexes built before are rebuilt.
REPAIR_VERSION = 5

#: A text carries the artifact when it has at least this many annotations (a reading of the
#: character before them) ...
ANNOTATED_MIN_COUNT = 2
#: ... and they make at least this share of its CJK characters.  The broken converter
#: annotates converted characters (about a quarter of ordinary text; 483 of the sample's
#: ~3,700 CJK characters), while a genuine release that glosses a rare character's reading,
#: e.g. ``犇(bēn)``, does so once or twice in thousands of characters.
ANNOTATED_MIN_RATIO = 0.01

#: Signs of a machine conversion to traditional that genuinely traditional text almost never
#: shows: mainland characters a crude converter leaves as they are (their traditional forms
#: depend on the word), and the variants OpenCC's standard writes where Taiwan and Hong Kong
#: write others (爲 for 為, 衆 for 眾, 着 for 著).  431,445 characters of DRCD (Taiwan) hold
#: 于 9 times, 并 5, 爲 7, 么 复 这 衆 僞 峯 羣 牀 着 麪 never; CMRC2018 through OpenCC s2t
#: holds 爲 3,327 times in 432,093 characters.
MAINLAND_MARKERS = "于并么复这爲衆僞峯羣牀着麪"
#: A traditional text is machine-converted when it has at least this many markers ...
CONVERTED_MIN_MARKERS = 2
#: ... making at least this share of its traditional-only characters.
CONVERTED_MIN_RATIO = 0.01

_ONE_ANNOTATION_RE = re.compile(f"[\\(\uff08]([{LETTERS}]{{1,8}})[\\)\uff09]")
_LOST_RE = re.compile(f"\\?([{LETTERS}]{{1,8}})\\)")
_MARKERS_RE = re.compile(f"[{MAINLAND_MARKERS}]")
# Frequent characters only traditional script writes so: a text without them is not traditional.
_COMMON_TRADITIONAL_RE = re.compile("[們個說時來國會為與對開後發這產經過進動還體點長關現無種問]")
# Characters of context read on each side of a lost character.
_CONTEXT = 6
_DIGITS = frozenset("0123456789０１２３４５６７８９")
# How far before a lost character a lost byte marks a run of GBK one byte off it ends.
_RUN_BEFORE = 12
_MARKS = "，。、；：？！“”（）,.;:!()\\s"


@dataclass(frozen=True)
class RepairSpan:
    """One repaired (or flagged) span: ``before`` at ``[start, end)`` of the text given became
    ``after`` at ``[out_start, out_end)`` of the repaired text.  ``kinds`` are the repairs that
    made it, first ``kind``; a flagged span (``unrepaired_*``) has ``after == before``."""

    kind: str
    start: int
    end: int
    before: str
    after: str
    out_start: int
    out_end: int
    kinds: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "kinds": list(self.kinds or (self.kind,)),
                "start": self.start, "end": self.end, "before": self.before,
                "after": self.after, "out_start": self.out_start, "out_end": self.out_end}


@dataclass
class RepairResult:
    """The outcome of :func:`repair_text` for one release's full text."""

    text: str  # repaired text
    # per kind, only non-zero kinds: "annotations", "restored", "script", "mojibake", ...
    # (see docs/repair.md), and the flagged "unrepaired_mojibake", "unrepaired_lost"
    counts: dict[str, int] = field(default_factory=dict)
    annotated: bool = False  # the text carried the pinyin-annotation artifact
    spans: list[RepairSpan] = field(default_factory=list)  # what was repaired
    flagged: list[RepairSpan] = field(default_factory=list)  # what was left, unprovable


# ------------------------------------------------------------------------ the trace


@dataclass
class _Piece:
    src_start: int
    src_end: int
    text: str
    kinds: tuple[str, ...] = ()


class _Trace:
    """The text being repaired as pieces of the original: unchanged ones, and changed ones
    that remember the original span they replace, so every step's edits are traced back."""

    def __init__(self, text: str):
        self.source = text
        self.pieces = [_Piece(0, len(text), text)]
        self.text = text
        self.flags: list[tuple[int, int, str]] = []  # source spans left as they are
        self.counts: dict[str, int] = {}

    def protected(self) -> list[tuple[int, int]]:
        """The flagged spans, in offsets of the current text."""
        if not self.flags:
            return []
        out = []
        for s, e, _ in self.flags:
            out.append((self._to_current(s), self._to_current(e)))
        return out

    def _to_current(self, src: int) -> int:
        at = 0
        for p in self.pieces:
            if p.src_start <= src <= p.src_end and not p.kinds:
                return at + (src - p.src_start)
            if src < p.src_start:
                return at
            at += len(p.text)
        return at

    def _split(self, cuts: set[int]) -> None:
        pieces: list[_Piece] = []
        at = 0
        ordered = sorted(cuts)
        for p in self.pieces:
            end = at + len(p.text)
            if p.kinds:  # a repaired piece is never cut
                pieces.append(p)
                at = end
                continue
            inside = ordered[bisect.bisect_right(ordered, at):bisect.bisect_left(ordered, end)]
            start = at
            for c in inside + [end]:
                if c > start or not p.text:
                    off = start - at
                    pieces.append(_Piece(p.src_start + off, p.src_start + (c - at),
                                         p.text[off:c - at], p.kinds))
                start = c
            at = end
        self.pieces = pieces

    def apply(self, edits: list[Edit]) -> None:
        if not edits:
            return
        if len(self.pieces) == 1 and not self.pieces[0].kinds and not any(
                e.is_flag for e in edits):
            self._apply_to_source(sorted(edits, key=lambda e: (e.start, e.end)))
            return
        self._split({x for e in edits for x in (e.start, e.end)})
        starts = []
        at = 0
        for p in self.pieces:
            starts.append(at)
            at += len(p.text)
        real = sorted((e for e in edits if not e.is_flag), key=lambda e: (e.start, e.end))
        for e in edits:
            if e.is_flag:
                covered = [p for p, s in zip(self.pieces, starts)
                           if s < e.end and e.start < s + len(p.text)]
                if covered:
                    self.flags.append((covered[0].src_start, covered[-1].src_end, e.kind))
                    self.counts[e.kind] = self.counts.get(e.kind, 0) + 1
        if not real:
            return
        # Each edit covers whole pieces (unchanged ones were cut at its ends); edits covering
        # a common piece (two repairs inside one mojibake span) are applied together.
        groups: list[tuple[int, int, list[Edit]]] = []  # first piece, last piece, edits
        i = 0
        n = len(self.pieces)
        for e in real:
            self.counts[e.kind] = self.counts.get(e.kind, 0) + 1
            while i < n and starts[i] + len(self.pieces[i].text) <= e.start and not (
                    starts[i] == e.start and not self.pieces[i].text and False):
                i += 1
            j = i
            while j + 1 < n and starts[j + 1] < e.end:
                j += 1
            if groups and groups[-1][1] >= i:
                first, _, group = groups[-1]
                groups[-1] = (first, max(j, groups[-1][1]), group + [e])
            else:
                groups.append((i, j, [e]))
        out: list[_Piece] = []
        done = 0
        for first, last, group in groups:
            out.extend(self.pieces[done:first])
            base = starts[first]
            old = "".join(p.text for p in self.pieces[first:last + 1])
            parts, at = [], 0
            kinds: list[str] = []
            for p in self.pieces[first:last + 1]:
                kinds.extend(k for k in p.kinds if k not in kinds)
            for e in group:
                parts.append(old[at:e.start - base])
                parts.append(e.text or "")
                at = e.end - base
                if e.kind not in kinds:
                    kinds.append(e.kind)
            parts.append(old[at:])
            out.append(_Piece(self.pieces[first].src_start, self.pieces[last].src_end,
                              "".join(parts), tuple(kinds)))
            done = last + 1
        out.extend(self.pieces[done:])
        self.pieces = [p for p in out if p.text or p.kinds or p.src_end > p.src_start]
        self.text = "".join(p.text for p in self.pieces)

    def _apply_to_source(self, edits: list[Edit]) -> None:
        """:meth:`apply` on the text as given (one unchanged piece): one pass."""
        text = self.source
        pieces: list[_Piece] = []
        done = 0
        for e in edits:
            if e.start < done:
                raise ValueError(f"overlapping edits at {e.start}")
            if e.start > done:
                pieces.append(_Piece(done, e.start, text[done:e.start]))
            pieces.append(_Piece(e.start, e.end, e.text or "", (e.kind,)))
            self.counts[e.kind] = self.counts.get(e.kind, 0) + 1
            done = e.end
        if done < len(text):
            pieces.append(_Piece(done, len(text), text[done:]))
        self.pieces = pieces
        self.text = "".join(p.text for p in pieces)

    def result(self, annotated: bool) -> RepairResult:
        spans = []
        at = 0
        for p in self.pieces:
            end = at + len(p.text)
            if p.kinds:
                spans.append(RepairSpan(p.kinds[0], p.src_start, p.src_end,
                                        self.source[p.src_start:p.src_end], p.text, at, end,
                                        p.kinds))
            at = end
        flagged = []
        for s, e, kind in sorted(self.flags):
            os_, oe = self._to_current(s), self._to_current(e)
            flagged.append(RepairSpan(kind, s, e, self.source[s:e], self.text[os_:oe], os_, oe,
                                      (kind,)))
        counts = {k: v for k, v in self.counts.items() if v}
        return RepairResult(text=self.text, counts=counts, annotated=annotated, spans=spans,
                            flagged=flagged)


# ------------------------------------------------------------------------ annotations


def _annotations(text: str, accept_plain: bool, protected=()) -> list[Edit]:
    edits: list[Edit] = []
    char = ""  # the character the annotations at hand follow
    end = -1  # where the last annotation of the run at hand ends
    for m in _ONE_ANNOTATION_RE.finditer(text):
        start = m.start()
        if start != end:  # a new run: after a CJK character?
            char = text[start - 1] if start and CJK_RE.match(text[start - 1]) else ""
        end = m.end()
        if not char:
            continue
        if protected and any(s < end and start < e for s, e in protected):
            char = ""
            continue
        syllable = nfc(m.group(1))
        if not is_syllable(syllable, toned_only=not accept_plain) or not is_reading(syllable, char):
            char = ""  # the run stops at the first one that is no reading
            continue
        edits.append(Edit(start, end, "", "annotations"))
    return edits


def _reading_count(text: str, *, toned_only: bool) -> int:
    return sum(1 for e in _annotations(text, accept_plain=not toned_only))


def is_annotated(text: str) -> bool:
    """True when ``text`` carries the pinyin-annotation artifact: at least
    :data:`ANNOTATED_MIN_COUNT` annotations (a reading of the character before them) making at
    least :data:`ANNOTATED_MIN_RATIO` of the text's CJK characters."""
    if "(" not in text and "\uff08" not in text:
        return False
    count = _reading_count(text, toned_only=False)
    if count < ANNOTATED_MIN_COUNT:
        return False
    return count >= ANNOTATED_MIN_RATIO * len(CJK_RE.findall(text))


def annotation_edits(text: str, annotated: bool, protected=()) -> list[Edit]:
    """The edits removing the pinyin annotations of an annotated ``text`` (none otherwise).

    An annotation is a syllable in parentheses (ASCII or full-width) right after a CJK
    character that it is a reading of, with or without tone mark (pypinyin, all readings),
    once or repeated (``会(hui)(hui)``).  ``(abc)``, ``(2022)``, ``(RCEP)``, ``(非德州新聞網)``
    are never touched, nor a syllable that is not a reading of the character before it.
    """
    return _annotations(text, accept_plain=True, protected=protected) if annotated else []


def strip_annotations(text: str) -> tuple[str, int]:
    """``text`` without its annotations, and how many: toned ones always, unmarked ones
    (neutral tone, ``我們(men)``) only beside at least :data:`ANNOTATED_MIN_COUNT` toned
    ones.  Each must be a reading of the character before it."""
    accept_plain = _reading_count(text, toned_only=True) >= ANNOTATED_MIN_COUNT
    edits = _annotations(text, accept_plain=accept_plain)
    from .edits import apply_edits

    return apply_edits(text, edits), len(edits)


# -------------------------------------------------------------------- lost characters


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    left = text[max(0, start - _CONTEXT * 10):start].rsplit("\n", 1)[-1]
    right = text[end:end + _CONTEXT * 10].split("\n", 1)[0]
    left = _ONE_ANNOTATION_RE.sub(lambda m: "" if is_syllable(m.group(1)) else m.group(0), left)
    right = _ONE_ANNOTATION_RE.sub(lambda m: "" if is_syllable(m.group(1)) else m.group(0),
                                   right)
    return left[-_CONTEXT:], right[:_CONTEXT]


def lost_character_edits(text: str, annotated: bool, protected=(),
                         script: str | None = None) -> list[Edit]:
    """Edits restoring lost characters written ``?reading)`` (kind ``restored``), or flagging
    them (``unrepaired_lost``).

    The candidates are the common characters (of the text's script) having that reading; the
    one far more likely than every other with the words around it
    (:func:`search.likelihood.log_likelihood`, margin :data:`search.mojibake.MARGIN`) replaces
    ``?reading)``.  A reading without tone mark counts only in an annotated text.
    """
    if "?" not in text:
        return []
    edits: list[Edit] = []
    done = 0
    doc: list[frozenset[str]] = []  # the text's own trigrams, when first needed

    def is_protected(a: int, b: int) -> bool:
        return bool(protected) and any(s < b and a < e for s, e in protected)

    for m in _LOST_RE.finditer(text):
        if m.start() < done or is_protected(m.start(), m.end()):
            continue
        syllable = nfc(m.group(1))
        if not is_toned(syllable) and not (annotated and is_syllable(syllable)):
            continue
        start = m.start()
        run_end = _run_after(text, m.end())
        if run_end is not None:
            # "?guà)梅?": the annotation of the character a lost byte made, a run of GBK one
            # byte off after it ending in a lone byte, which could not be proven
            if not is_protected(start, run_end):
                edits.append(Edit(start, run_end, None, "unrepaired_mojibake"))
                done = run_end
            continue
        if is_protected(start - 1, start) or is_protected(m.end(), m.end() + 1):
            # touching a flagged run: it may be that run's last character, or the first
            edits.append(Edit(start, m.end(), None, "unrepaired_lost"))
            continue
        if start and text[start - 1] == "?":
            if start >= 2 and (text[start - 2] == "?" or _LOST_RE.search(
                    text, max(0, start - 11), start - 1) and text[start - 2] == ")"):
                # "???chē)", "?liě)??sūn)": the first "?" ends a run before
                if not is_protected(start - 1, m.end()):
                    edits.append(Edit(start - 1, m.end(), None, "unrepaired_mojibake"))
                    done = m.end()
                continue
            # "??dāng)": a character both of whose bytes were lost, the first with the byte
            # before it (GBK one byte off over one character): the same lost character
            start -= 1
        else:
            line_before = text[max(0, start - _RUN_BEFORE):start].rsplit("\n", 1)[-1]
            offset = start - len(line_before)
            # a "?" beginning another lost character's mark is that character's, not a byte
            # lost by a run (the step before read "?a)足?b)" as a run where it could be one)
            lone = [q for q in range(len(line_before)) if line_before[q] == "?"
                    and not _LOST_RE.match(text, offset + q)]
            if lone and not re.search(f"[{_MARKS}]", line_before[lone[-1]:]):
                # a lost byte a few characters before, no punctuation between: the last byte
                # of a run of GBK one byte off, which could not be proven
                flag_start = offset + lone[-1]
                if not (protected and any(s < m.end() and flag_start < e for s, e in protected)):
                    edits.append(Edit(flag_start, m.end(), None, "unrepaired_mojibake"))
                continue
        left, right = _context(text, start, m.end())
        if not any(c and (CJK_RE.match(c) or c in _DIGITS) for c in (left[-1:], right[:1])):
            continue  # no Chinese beside it (a digit is: ``8?shí)30分``, ``2004?nián)5月``)
        members: dict[str, set[str]] = {}  # simplified form -> candidates written so
        for ch in chars_read(syllable):
            if is_common(ch) and fits_script(ch, script):
                members.setdefault(to_simplified(ch), set()).add(ch)
        groups = {}  # each written as the text's script writes it (當, not 噹, for 当)
        for simple, chars in members.items():
            usual = convert("s2t", simple) if script == "traditional" else simple
            groups[simple] = usual if usual in chars else min(chars)
        cands = list(groups.values())
        if not doc:
            doc.append(document_trigrams(text))
        scored = sorted(((sc + (UNCONVERTED_ANNOTATION if annotated and to_simplified(ch) == ch
                                 else 0.0) + document_prior(doc[0], left[-2:], ch, right[:2]), ch)
                         for sc, ch in zip(judge_all([left + ch + right for ch in cands]), cands)),
                        key=lambda s: -s[0])
        if scored and lead(scored[0][0], [sc for sc, _ in scored[1:]],
                           homophones=True) >= MARGIN:
            edits.append(Edit(start, m.end(), scored[0][1], "restored"))
        else:
            edits.append(Edit(start, m.end(), None, "unrepaired_lost"))
    # "?jiāo)?dài)": two lost characters side by side, or one that a run of GBK one byte off
    # made: restored only both together
    for t, e in enumerate(edits):
        if e.kind == "restored" and any(
                o.is_flag and (o.end == e.start or o.start == e.end)
                for o in edits[max(0, t - 1):t + 2]):
            edits[t] = Edit(e.start, e.end, None, "unrepaired_lost")
    return edits


def _run_after(text: str, at: int) -> int | None:
    """Where a run of GBK one byte off that a lost character's annotation at ``at`` would
    begin ends (after its lone last byte ``?``), or None: a ``?`` on the line before any
    punctuation, not itself a lost character (``?reading)``)."""
    for q in range(at, min(len(text), at + _RUN_BEFORE)):
        c = text[q]
        if c == "?":
            return None if _LOST_RE.match(text, q) else q + 1
        if c == "\n" or re.match(f"[{_MARKS}]", c):
            return None
    return None


def restore_lost_characters(text: str) -> tuple[str, int]:
    """``text`` with its provable lost characters restored (:func:`lost_character_edits`),
    and how many."""
    from .edits import apply_edits

    annotated = is_annotated(text)
    script = "traditional" if annotated else script_of(text)
    edits = [e for e in lost_character_edits(text, annotated, script=script) if not e.is_flag]
    return apply_edits(text, edits), len(edits)


# -------------------------------------------------------------------------- script


def is_machine_converted(text: str) -> bool:
    """True for a traditional text a crude converter made: it left at least
    :data:`CONVERTED_MIN_MARKERS` of the :data:`MAINLAND_MARKERS`, at least
    :data:`CONVERTED_MIN_RATIO` of its traditional-only characters."""
    markers = len(_MARKERS_RE.findall(text))
    if markers < CONVERTED_MIN_MARKERS:
        return False
    if len(_COMMON_TRADITIONAL_RE.findall(text)) < CONVERTED_MIN_MARKERS:
        return False  # hardly a traditional character: simplified text (no OpenCC pass)
    traditional = sum(1 for a, b in zip(text, convert("t2s", text)) if a != b)
    return traditional >= 10 and markers >= CONVERTED_MIN_RATIO * traditional


def _script_edits(text: str, protected) -> list[Edit]:
    simplified = to_simplified(text)
    edits = []
    for i, (a, b) in enumerate(zip(text, simplified)):
        if a != b and not (protected and any(s <= i < e for s, e in protected)):
            edits.append(Edit(i, i + 1, b, "script"))
    return edits


# -------------------------------------------------------------------------- pipeline


def repair_text(text: str) -> RepairResult:
    """Repair one release's full text (see the module's documentation for the steps).

    A clean text comes back unchanged with no spans; a genuinely traditional release keeps its
    script, and an odd single ``字(zì)`` gloss stays.
    """
    trace = _Trace(text)
    trace.apply(latin1_edits(trace.text))
    trace.apply(utf8_as_gbk_edits(trace.text))
    trace.apply(gbk_shift_edits(trace.text))
    annotated = is_annotated(trace.text)
    if "?" in trace.text:
        script = "traditional" if annotated else script_of(trace.text)
        trace.apply(lost_character_edits(trace.text, annotated, trace.protected(), script))
    if annotated:
        trace.apply(annotation_edits(trace.text, annotated, trace.protected()))
    for step in (indent_edits, doubled_edits, ascii_edits, space_edits):
        trace.apply(step(trace.text, trace.protected()))
    if annotated or is_machine_converted(trace.text):
        trace.apply(_script_edits(trace.text, trace.protected()))
    return trace.result(annotated)
