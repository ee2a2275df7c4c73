"""Mojibake: text whose bytes were decoded the wrong way, found and undone where the repair is
provable.

Three kinds (see ``docs/repair.md``):

* ``mojibake`` -- **GBK decoded one byte off** (:func:`gbk_shift_edits`).  From a character
  ``P`` on, the bytes of a run of characters were paired one byte late: the byte after ``P``
  was lost (shown ``?``, with the pinyin annotation of the character it made with ``P``'s last
  byte when the converter annotated that one: ``?shù)``), each following pair of bytes shows
  as some character (``嘏涮茁``), full-width forms show as ASCII (the page was folded), and the
  run ends either with a lone byte (``?``, taking the ``(`` of the annotation after it:
  ``?qiáng)``) or with a byte below 0x80 shown as an ASCII letter (``F``, ``W``), after which
  the text is in step again.  The repair re-encodes the run, tries every value of each lost
  byte, decodes the bytes paired the right way and keeps the result only when every character
  is a common one, every annotation agrees with its character, and it is far more likely
  (:func:`search.likelihood.log_likelihood` with the words around it) than any other candidate
  and than the text as it is.  ``。“希望大家給予`` shown as ``?!跋M蠹医o予`` is repaired;
  what cannot be proven is flagged (``unrepaired_mojibake``) and left as it is.
* ``mojibake_utf8`` -- **UTF-8 read as GBK** (``銆傗€`` for ``。”``), :func:`utf8_as_gbk_edits`.
* ``mojibake_latin1`` -- **read as Latin-1/CP1252**: UTF-8 (``é”€å”®`` for ``销售``, undone
  by ftfy) or GBK (``4ÔÂ3ÈÕ£¬`` for ``4月3日，``), :func:`latin1_edits`.

Only :mod:`search.script`, :mod:`search.likelihood` and :mod:`search.pinyin` are used.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from .edits import Edit
from .likelihood import COMMON_PUNCTUATION, is_common, judge, judge_all, lead
from .pinyin import LETTERS, chars_read, is_reading, is_syllable, nfc
from .script import (
    CJK_CLASS,
    CJK_RE,
    CJK_RUN_RE,
    LEFT_BY_CONVERTERS,
    convert,
    fits_script,
    script_of,
    to_simplified,
)

__all__ = [
    "DOCUMENT_PRIOR",
    "MARGIN",
    "document_prior",
    "document_trigrams",
    "gbk_shift_edits",
    "latin1_edits",
    "utf8_as_gbk_edits",
]

#: How much more likely (natural log) a repair must be than every other candidate and than the
#: text as it is: e^4.5, 90 times.
MARGIN = 4.5
#: The longest run of mojibake characters considered after a lost byte.
MAX_RUN = 40
#: Characters of context read on each side of a candidate when it is scored.
CONTEXT = 6
#: Most (first, last) character pairs scored together for a run of one or two characters.
MAX_JOINT = 4000

#: Log weight of a "?" inside a run read as a full-width question mark the page folded (rare
#: in the middle of a sentence) rather than the run's lost last byte.
INNER_QUESTION = -4.0
_LOST_MARK_RE = re.compile(f"\\?(?:[{LETTERS}]{{1,8}}\\))?")
_TRAILS = tuple(range(0x40, 0x7F)) + tuple(range(0x80, 0xFF))
_LEADS = tuple(range(0x81, 0xFF))
_FRAGMENT_RE = re.compile(f"([{LETTERS}]{{1,8}})\\)")
_FRAGMENT_END_RE = re.compile(f"\\?[{LETTERS}]{{1,8}}\\)$")
_ANNOTATION_BEFORE_RE = re.compile(f"\\(([{LETTERS}]{{1,8}})\\)$")
_ANNOTATION_AT_RE = re.compile(f"\\(([{LETTERS}]{{1,8}})\\)")
_ANNOTATIONS_RE = re.compile(f"[\\(（]([{LETTERS}]{{1,8}})[\\)）]")


# --------------------------------------------------------------------------- GBK tables


@functools.cache
def _gbk() -> tuple[dict[int, str], dict[str, tuple[int, int]]]:
    """(two bytes ``lead << 8 | trail`` -> character, character -> its two bytes): GBK as
    GB18030 decodes its two-byte codes (user-defined areas as private-use characters)."""
    pair: dict[int, str] = {}
    enc: dict[str, tuple[int, int]] = {}
    for a in _LEADS:
        for b in _TRAILS:
            try:
                ch = bytes((a, b)).decode("gb18030")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1:
                pair[a << 8 | b] = ch
                enc.setdefault(ch, (a, b))
    return pair, enc


def _two_bytes(ch: str) -> tuple[int, int] | None:
    """The GBK bytes of ``ch`` as a scraped page shows it: a character of two bytes, or an
    ASCII sign that stood for its full-width form (the page folded full-width to ASCII)."""
    o = ord(ch)
    if 0x21 <= o <= 0x7E:
        return 0xA3, o + 0x80
    return _gbk()[1].get(ch)


def _plain_char(ch: str, script: str | None) -> bool:
    """A character plain text holds: a common one of the text's script, or ASCII (a full-width
    sign the page folded, or the text's own; a mainland character a converter left in a
    traditional one)."""
    return ch.isascii() or (is_common(ch) and (
        fits_script(ch, script) or script == "traditional" and ch in LEFT_BY_CONVERTERS))


def _decode(a: int, b: int) -> str | None:
    return _gbk()[0].get(a << 8 | b)


# ------------------------------------------------------------------------------ context


def _strip_annotations(text: str) -> str:
    return _ANNOTATIONS_RE.sub(lambda m: "" if is_syllable(m.group(1)) else m.group(0), text)


def _left_context(text: str, at: int) -> str:
    window = text[max(0, at - CONTEXT * 10):at].rsplit("\n", 1)[-1]
    return _strip_annotations(window)[-CONTEXT:]


def _right_context(text: str, at: int) -> str:
    window = text[at:at + CONTEXT * 10].split("\n", 1)[0]
    return _strip_annotations(window)[:CONTEXT]


def _agrees(syllable: str | None, ch: str | None) -> bool:
    return syllable is None or (ch is not None and is_reading(syllable.lower(), ch))


def _best(scored: list[tuple[float, str]]) -> tuple[str | None, float, float]:
    """(best candidate, its score, margin over the next distinct one) of scored candidates."""
    if not scored:
        return None, float("-inf"), 0.0
    scored.sort(key=lambda s: -s[0])
    best_score, best = scored[0]
    return best, best_score, lead(best_score, [s for s, c in scored[1:] if c != best])


# ---------------------------------------------------------------------------- GBK shift


def gbk_shift_edits(text: str) -> list[Edit]:
    """Edits repairing (kind ``mojibake``) or flagging (``unrepaired_mojibake``) each run of
    GBK decoded one byte off, as described in the module's documentation."""
    if "?" not in text:
        return []
    edits: list[Edit] = []
    done = 0
    script: list[str | None] = []  # the text's script, found when first needed
    for m in re.finditer(r"\?", text):
        if m.start() < done:
            continue
        edit = _shift_span(text, m.start(), script)
        if edit is not None:
            edits.append(edit)
            done = edit.end
    return edits


def _score(text: str) -> float:
    return judge(text)


def _shift_span(text: str, i: int, script: list[str | None]) -> Edit | None:
    """The repair or flag of a run of shifted bytes whose lost first byte is the ``?`` at
    ``i``, else None.  ``script`` caches the text's script (:func:`search.script.script_of`):
    a lost byte is never restored as a character of the other script."""
    # P, the last character in step: its last byte made the lost character with the lost byte.
    j = i
    before = _ANNOTATION_BEFORE_RE.search(text, max(0, i - 12), i)
    if before is not None and is_syllable(before.group(1)):
        j = before.start()
    # an ASCII sign before it stands for a folded full-width one (a "?" for a lost byte); the
    # ")" closing a fragment (``?liě)``) ends another run: P's bytes are not known
    if j > 0 and text[j - 1] == ")" and _FRAGMENT_END_RE.search(text, max(0, j - 12), j):
        return None
    p_bytes = _two_bytes(text[j - 1]) if j > 0 and text[j - 1] != "?" else None
    if p_bytes is None:
        return None  # the byte lost was the second of a pair begun by a character of two bytes
    p2 = p_bytes[1]
    k = i + 1
    s_b = None  # the annotation of the character P's last byte made with the lost byte
    frag = _FRAGMENT_RE.match(text, k)
    if frag is not None and is_syllable(frag.group(1)):
        s_b, k = frag.group(1), frag.end()

    # Hypotheses: where the run ends, (run bytes, end byte or None if lost, annotation of the
    # last character, end of the span, where the run's characters end).
    hyps: list[tuple[list[int], int | None, str | None, int, int]] = []
    run: list[int] = []
    q = k
    limit = min(len(text), k + MAX_RUN)
    while q < limit:
        c = text[q]
        if c == "?":  # a lone last byte, with the "(" of the annotation after it
            s_e, end = None, q + 1
            frag = _FRAGMENT_RE.match(text, q + 1)
            if frag is not None and is_syllable(frag.group(1)):
                s_e, end = frag.group(1), frag.end()
            hyps.append((list(run), None, s_e, end, q))
            if frag is not None:
                break
            # else it may also be a folded full-width question mark inside the run
        if c == "(" and (am := _ANNOTATION_AT_RE.match(text, q)) and is_syllable(am.group(1)):
            break  # an annotation in step: the run ended before it
        o = ord(c)
        if 0x40 <= o <= 0x7E:  # a last byte below 0x80, shown as itself: in step after it
            am = _ANNOTATION_AT_RE.match(text, q + 1)
            s_e = am.group(1) if am is not None and is_syllable(am.group(1)) else None
            hyps.append((list(run), o, s_e, q + 1, q))
        two = _two_bytes(c) if not c.isspace() else None
        if two is None:
            break
        run.extend(two)
        q += 1
    if not hyps:
        return None

    left = _left_context(text, i)
    far = max(h[3] for h in hyps)
    results: list[tuple[float, str, int]] = []  # (score, repaired text, end of span)
    flagged_end = 0
    for run_bytes, end_byte, s_e, end, run_end in hyps:
        shown = text[k:run_end]
        if not script:
            script.append(script_of(text))
            # characters of the other script the text itself holds are of its script too (a
            # converter leaves 于 并 后 in a traditional text)
            script.append(frozenset(text))
            script.append(document_trigrams(text))
        # the characters shown are mojibake (rare, or of the other script): a run that cannot
        # be proven is flagged; annotation fragments alone (``?chóu)`` is also a lost
        # character) let a run be repaired but do not flag it
        odd = sum(not _plain_char(ch, script[0]) for ch in shown)
        # between two lost characters' marks (``?chēng)日本鋸大眼鯛,俗名?hóng)``) one rare
        # character in plain words shows no run: those are two lost characters
        shows = odd >= (max(1, len(shown) / 4) if s_b is not None and s_e is not None else 1)
        evidence = shows or s_b is not None or s_e is not None
        if not evidence:
            if not shown and end_byte is None and end < len(text) and re.match(
                    f"[{CJK_CLASS}]", text[end]):
                flagged_end = flagged_end or end  # "??" between characters: one lost
            if not shown:
                continue
            # nothing shown is rare: a repair must then be proven all the more (see below)
        if shows and not any(ch in COMMON_PUNCTUATION for ch in text[flagged_end or k:run_end]):
            # the flag covers the characters that show mojibake, up to a Chinese mark, and the
            # annotation of its last one
            am = _ANNOTATION_AT_RE.match(text, end)
            flagged_end = max(flagged_end, am.end() if am and is_syllable(am.group(1)) else end)
        if not _in_step(text, end, script[0]):
            continue  # the text after it still shows mojibake: the run goes on
        decoded = _decode_run(run_bytes, end_byte, s_b, p2, s_e, left,
                              _right_context(text, end), script[0], script[1], script[2])
        if decoded is None:
            continue
        repaired, certain = decoded
        # what follows the span up to the longest hypothesis' end, lost characters and bytes
        # left out (another step restores them): hypotheses are compared on the same text
        tail = _LOST_MARK_RE.sub("", _strip_annotations(text[end:far])) + _right_context(text, far)
        inner_marks = text.count("?", k, run_end)  # "?" read as a full-width question mark
        results.append((_score(left + repaired + tail) + inner_marks * INNER_QUESTION,
                        repaired, end, certain))
    pair = _lost_pair(text, i, k, s_b, hyps, left, far, script[0]) if s_b else None
    if pair is not None:
        results.append((pair, None, 0, True))  # two lost characters, not one run
    if not results:
        return Edit(i, flagged_end, None, "unrepaired_mojibake") if flagged_end else None
    results.sort(key=lambda r: -r[0])
    score, repaired, end, certain = results[0]
    as_is = _score(left + _strip_annotations(text[i:far]) + _right_context(text, far))
    # an undecided reading of the run competes too: a run read another way that cannot be
    # decided is no proof for this one
    if pair is not None:
        # "?tuán)?duì)" may be two lost characters (another step restores them) as well as
        # one character a run of one made: the run is read so only when both judges say so
        # by the margin, left to the other step when they say the reverse, else flagged
        runs = [r for r in results if r[1] is not None]
        if not runs:
            return None
        run, two = runs[0][0], pair
        if min(two.word - run.word, two.char - run.char) >= MARGIN:
            return None
        if min(run.word - two.word, run.char - two.char) < MARGIN:  # both judges, each
            return Edit(i, runs[0][2], None, "unrepaired_mojibake")
        results = runs
        score, repaired, end, certain = results[0]
    if (not certain or lead(score, [r[0] for r in results[1:]]) < MARGIN
            or score - as_is < MARGIN):
        return Edit(i, flagged_end, None, "unrepaired_mojibake") if flagged_end else None
    return Edit(i, end, repaired, "mojibake")


def _lost_pair(text: str, i: int, k: int, s_b: str, hyps: list, left: str, far: int,
               script: str | None) -> float | None:
    """The best score of ``?a)?b)`` at ``i`` read as two lost characters with their
    annotations (as :func:`search.repair.lost_character_edits` reads them), or None when the
    text is not that."""
    second = [h for h in hyps if not h[0] and h[1] is None and h[2] is not None
              and h[4] == k]
    if not second:
        return None
    s_e, end = second[0][2], second[0][3]
    tail = _LOST_MARK_RE.sub("", _strip_annotations(text[end:far])) + _right_context(text, far)

    def members(syllable: str) -> list[tuple[str, float]]:
        out = {}
        for ch in chars_read(nfc(syllable)):
            if is_common(ch) and fits_script(ch, script):
                simple = to_simplified(ch)
                out[simple] = max(out.get(simple, -99.0), _annotated_prior(ch))
        return list(out.items())

    firsts, lasts = members(s_b), members(s_e)
    if not firsts or not lasts:
        return None
    if len(firsts) * len(lasts) <= MAX_JOINT:
        # every pair scored together: the best first alone (by the text before it) need not
        # begin the best pair (``专`` beside ``团队``)
        pairs = [(f + la, wf + wl) for f, wf in firsts for la, wl in lasts]
        scores = judge_all([left + p + tail for p, _ in pairs])
        return max(sc + w for sc, (_, w) in zip(scores, pairs))
    best_first = max(firsts, key=lambda f: _score(left + f[0]) + f[1])
    best_last = max(lasts, key=lambda la: _score(best_first[0] + la[0] + tail) + la[1])
    best = None
    for f, wf in firsts:  # each first with the best last, and the best first with each last
        score = _score(left + f + best_last[0] + tail) + wf + best_last[1]
        best = score if best is None else max(best, score)
    for la, wl in lasts:
        score = _score(left + best_first[0] + la + tail) + best_first[1] + wl
        best = max(best, score)
    return best


def _in_step(text: str, end: int, script: str | None) -> bool:
    """Whether the text after a run ending at ``end`` is in step again: its next character
    (after an annotation) is plain text, a lost mark or the end of a line."""
    am = _ANNOTATION_AT_RE.match(text, end)
    if am is not None and is_syllable(am.group(1)):
        end = am.end()
    if end >= len(text):
        return True
    ch = text[end]
    return ch.isascii() or ch.isspace() or is_common(ch) or not CJK_RE.match(ch) and not (
        0xE000 <= ord(ch) <= 0xF8FF)


def _decode_run(run: list[int], end_byte: int | None, s_b: str | None, p2: int | None,
                s_e: str | None, left: str, right: str, script: str | None,
                own: frozenset[str] = frozenset(),
                doc: frozenset[str] = frozenset()) -> tuple[str, bool] | None:
    """The run's bytes paired the right way: (the best decoding, whether it is proven), or
    None when no decoding gives common characters agreeing with the annotations."""
    n = len(run) // 2
    middle = []
    for t in range(1, n):
        ch = _decode(run[2 * t - 1], run[2 * t])
        if ch is None or not is_common(ch):
            return None
        middle.append(ch)
    mid = "".join(middle)

    def boundary_prior(x: int) -> float | None:
        """None when the character P's last byte made with ``x`` disagrees with the boundary
        annotation; else the log weight of that character being annotated."""
        if s_b is None or p2 is None:
            return 0.0
        made = _decode(p2, x)
        if not _agrees(s_b, made):
            return None
        return _annotated_prior(made)

    def common(ch: str | None) -> bool:
        return ch is not None and is_common(ch) and (fits_script(ch, script) or ch in own)

    def last_prior(ch: str) -> float:
        return _annotated_prior(ch) if s_e is not None else 0.0

    if n == 0:  # one character, both bytes lost (or its last one shown): the annotations decide
        if end_byte is None and s_b is None and s_e is None:
            return None
        cands: dict[str, float] = {}
        for x in _LEADS:
            prior = boundary_prior(x)
            if prior is None:
                continue
            for y in (_TRAILS if end_byte is None else (end_byte,)):
                ch = _decode(x, y)
                if common(ch) and _agrees(s_e, ch):
                    cands[ch] = max(cands.get(ch, -99.0),
                                    prior + last_prior(ch) + _start_prior(ch)
                                    + document_prior(doc, left[-2:], ch, right[:2]))
        if not cands:
            return None
        items = list(cands.items())
        scores = judge_all([left + c + right for c, _ in items])
        best, _, margin = _best([(sc + w, c) for sc, (c, w) in zip(scores, items)])
        return best, margin >= MARGIN

    firsts: dict[str, float] = {}
    for x in _LEADS:
        ch = _decode(x, run[0])
        if common(ch) and (prior := boundary_prior(x)) is not None:
            firsts[ch] = max(firsts.get(ch, -99.0), prior + _start_prior(ch))
    lasts: dict[str, float] = {}
    for y in (_TRAILS if end_byte is None else (end_byte,)):
        ch = _decode(run[-1], y)
        if common(ch) and _agrees(s_e, ch):
            lasts[ch] = last_prior(ch)
    if not firsts or not lasts:
        return None
    if n <= 2 and len(firsts) * len(lasts) <= MAX_JOINT:
        # the text's own words: each end with what stands beside it in the candidate
        pairs = [(f + mid + la, wf + wl + document_prior(doc, left[-2:], f, (mid + la)[:2])
                  + document_prior(doc, (left + f + mid)[-2:], la, right[:2]))
                 for f, wf in firsts.items() for la, wl in lasts.items()]
        scores = judge_all([left + c + right for c, _ in pairs])
        best, _, margin = _best([(sc + w, c) for sc, (c, w) in zip(scores, pairs)])
        return best, margin >= MARGIN
    near = mid[:CONTEXT]
    items = [(f, w + document_prior(doc, left[-2:], f, mid[:2])) for f, w in firsts.items()]
    scores = judge_all([left + f + near for f, _ in items])
    f_best, _, f_margin = _best([(sc + w, f) for sc, (f, w) in zip(scores, items)])
    near = (f_best + mid)[-CONTEXT:]
    items = [(la, w + document_prior(doc, mid[-2:], la, right[:2])) for la, w in lasts.items()]
    scores = judge_all([near + la + right for la, _ in items])
    l_best, _, l_margin = _best([(sc + w, la) for sc, (la, w) in zip(scores, items)])
    return f_best + mid + l_best, min(f_margin, l_margin) >= MARGIN


#: Real pages show most runs beginning at a punctuation mark (the four of the sample release
#: all at ``。``; ``tests/corrupt.py`` makes a run begin at one eight times as often as at a
#: character): log weight of a run's first character being one of these marks, beside how
#: likely the judges find the mark there.
RUN_START_MARKS = "。，、“”：；"
RUN_START_PRIOR = 2.0


#: Log weight of a candidate character that makes, with the characters in step beside it, three
#: ideographs in a row the text holds elsewhere: a release repeats its names and terms
#: (``以仁王``, ``当地配套``), which a model of other text does not know (a cache model).
DOCUMENT_PRIOR = 3.0


def document_trigrams(text: str) -> frozenset[str]:
    """Every three ideographs in a row of ``text`` (annotations left out; as written: the
    candidates are of the text's script)."""
    out = set()
    for run in CJK_RUN_RE.findall(_strip_annotations(text)):
        out.update(run[i:i + 3] for i in range(len(run) - 2))
    return frozenset(out)


def document_prior(doc: frozenset[str], before: str, ch: str, after: str) -> float:
    """:data:`DOCUMENT_PRIOR` when ``ch`` makes with ``before`` or ``after`` (in step) three
    ideographs the text holds elsewhere, else 0."""
    if not doc:
        return 0.0
    around = before + ch + after
    at = len(before)
    for start in range(max(0, at - 2), at + 1):
        if len(around) >= start + 3 and around[start:start + 3] in doc:
            return DOCUMENT_PRIOR
    return 0.0


def _start_prior(ch: str) -> float:
    return RUN_START_PRIOR if ch in RUN_START_MARKS else 0.0


#: The converter annotates characters it converted (the sample: 483 of its 871 converted
#: characters, none it kept), so a lost character or byte whose annotation is left is far more
#: often one the conversion changed: log weight of a candidate the conversion would have kept.
UNCONVERTED_ANNOTATION = -3.0


def _annotated_prior(ch: str | None) -> float:
    """Log weight of ``ch`` carrying an annotation: 0 for a character the conversion to
    traditional changed, :data:`UNCONVERTED_ANNOTATION` for one it kept."""
    if ch is None:
        return UNCONVERTED_ANNOTATION
    return 0.0 if convert("t2s", ch) != ch else UNCONVERTED_ANNOTATION


# ------------------------------------------------------------------- UTF-8 read as GBK

#: The longest run of characters tried as UTF-8 read as GBK.
MAX_UTF8_RUN = 60
#: Most candidate characters for one UTF-8 character with a lost byte.
_UTF8_LENGTHS = {**{b: 2 for b in range(0xC2, 0xE0)}, **{b: 3 for b in range(0xE0, 0xF0)},
                 **{b: 4 for b in range(0xF0, 0xF5)}}


@functools.cache
def _utf8_starters() -> re.Pattern:
    """Characters whose GBK bytes begin a UTF-8 character of three bytes (every CJK character
    and Chinese punctuation mark in UTF-8 does): where such a run can start."""
    pair, _ = _gbk()
    chars = sorted({ch for code, ch in pair.items()
                    if 0xE0 <= code >> 8 <= 0xEF and 0x80 <= code & 0xFF <= 0xBF})
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]")


def _utf8_chars(data: list[int | None]) -> list[list[str]] | None:
    """``data`` (bytes, None where one was lost) as UTF-8: per character its candidates (only
    common ones when a byte was lost), or None when it is not UTF-8 (or a lost byte would begin
    a character, or a character lost more than two)."""
    out: list[list[str]] = []
    i = 0
    while i < len(data):
        b = data[i]
        if b is not None and b < 0x80:
            out.append([chr(b)])
            i += 1
            continue
        n = _UTF8_LENGTHS.get(b) if b is not None else None
        if n is None or i + n > len(data):
            return None
        seq = data[i:i + n]
        holes = [t for t, x in enumerate(seq) if x is None]
        if len(holes) > 2:
            return None
        fills = [()] if not holes else (
            [(x,) for x in range(0x80, 0xC0)] if len(holes) == 1 else
            [(x, y) for x in range(0x80, 0xC0) for y in range(0x80, 0xC0)])
        cands = []
        for fill in fills:
            trial = list(seq)
            for t, x in zip(holes, fill):
                trial[t] = x
            try:
                ch = bytes(trial).decode("utf-8")
            except UnicodeDecodeError:
                continue
            if not holes or is_common(ch):
                cands.append(ch)
        if not cands:
            return None
        out.append(cands)
        i += n
    return out


def _utf8_prefix(data: list[int | None]) -> int:
    """How many of ``data``'s bytes the UTF-8 structure holds for: whole characters whose lead
    byte is known and whose other bytes are continuation bytes (or lost)."""
    i = 0
    while i < len(data):
        b = data[i]
        if b is not None and b < 0x80:
            i += 1
            continue
        n = _UTF8_LENGTHS.get(b) if b is not None else None
        if n is None or i + n > len(data):
            return i
        if any(x is not None and not 0x80 <= x <= 0xBF for x in data[i + 1:i + n]):
            return i
        i += n
    return i


def utf8_as_gbk_edits(text: str) -> list[Edit]:
    """Edits (kind ``mojibake_utf8``) undoing runs of UTF-8 read as GBK (``銆傗€?`` for
    ``。”``), or flagging them (``unrepaired_mojibake``).

    A run starts at a character whose GBK bytes begin a UTF-8 character; its characters are
    re-encoded (a ``?`` is one lost byte) and decoded as UTF-8; the longest stretch that decodes
    to common characters only is kept when it is far more likely than the text as it is (a lost
    byte: when one candidate is far more likely than the others).
    """
    starters = _utf8_starters()
    if not starters.search(text):
        return []
    edits: list[Edit] = []
    done = 0
    for m in starters.finditer(text):
        i = m.start()
        if i < done:
            continue
        edit = _utf8_run(text, i)
        if edit is not None:
            edits.append(edit)
            done = edit.end
    return edits


def _utf8_run(text: str, i: int) -> Edit | None:
    data: list[int | None] = []
    bounds: list[tuple[int, int]] = []  # (end in text, bytes so far) after each character
    j = i
    limit = min(len(text), i + MAX_UTF8_RUN)
    while j < limit:
        c = text[j]
        if c == "?":
            data.append(None)
        elif c == "€":  # byte 0x80, as Windows' GBK (code page 936) shows it
            data.append(0x80)
        elif c.isascii() and c.isprintable() and c != " ":
            data.append(ord(c))
        elif (two := _gbk()[1].get(c)) is not None:
            data.extend(two)
        else:
            break
        j += 1
        bounds.append((j, len(data)))
    # how far the bytes can be UTF-8 at all (lost bytes taken as continuation bytes): plain
    # text fails within its first characters
    valid = _utf8_prefix(data)
    bounds = [(e, n) for e, n in bounds if n <= valid]
    # the longest stretch (not ending in ASCII) that is UTF-8 of common characters only, lost
    # bytes included; a stretch that is UTF-8 but holds a rare character is flagged
    found: tuple[int, list[list[str]]] | None = None
    rare_end = 0
    for end, nbytes in reversed(bounds):
        if end - i < 2:
            break
        if text[end - 1].isascii() and text[end - 1] != "?":
            continue
        chars = _utf8_chars(data[:nbytes])
        if chars is None or any(all(not c.isascii() and ord(c) < 0x2000 for c in cands)
                                for cands in chars):
            continue  # not UTF-8, or reaching into the text after the run (Cyrillic, Greek)
        if all(any(is_common(c) or c.isascii() for c in cands) for cands in chars):
            found = (end, [[c for c in cands if is_common(c) or c.isascii()] for cands in chars])
            break
        rare_end = rare_end or end
        break
    if found is None:
        if rare_end and sum(not is_common(c) for c in text[i:rare_end]) >= 2:
            return Edit(i, rare_end, None, "unrepaired_mojibake")
        return None
    end, chars = found
    script = script_of(text)
    # two whole characters of UTF-8 or more, of the text's own script: plain text almost
    # never is that
    exact = "?" not in text[i:end] and sum(not cands[0].isascii() for cands in chars) >= 2 \
        and all(fits_script(cands[0], script) for cands in chars)
    if not exact and not any(not is_common(c) or not fits_script(c, script)
                             for c in text[i:end] if c != "?"):
        return None  # nothing shows mojibake: common characters of the text's own script
    left, right = _left_context(text, i), _right_context(text, end)
    decided: list[str] = []
    for t, cands in enumerate(chars):
        if len(cands) == 1:
            decided.append(cands[0])
            continue
        after = "".join(c[0] for c in chars[t + 1:t + 1 + CONTEXT]) if t + 1 < len(chars) else right
        choice, _, margin = _best([(_score(left + "".join(decided) + c + after), c)
                                   for c in cands])
        if margin < MARGIN:
            return Edit(i, end, None, "unrepaired_mojibake")
        decided.append(choice)
    repaired = "".join(decided)
    if _score(left + repaired + right) - _score(left + text[i:end] + right) < MARGIN:
        return None
    return Edit(i, end, repaired, "mojibake_utf8")


# ------------------------------------------------------------- read as Latin-1/CP1252

_CP1252_SPECIALS = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
# A run begins with a Latin-1 character a lead byte shows as (never a CP1252 special such as
# the quotes Chinese text is full of) and goes on over what bytes above 0x7F show as, and ASCII
# letters (a GBK trail byte below 0x80).
# CP1252 signs Chinese text itself uses (quotes, dashes) never begin a run.
_CP1252_STARTS = "".join(c for c in _CP1252_SPECIALS if c not in "‘’“”–—•")
_LATIN1_RUN_RE = re.compile(
    f"[\u0081-\u00ff{_CP1252_STARTS}][\u0080-\u00ff{_CP1252_SPECIALS}\x40-\x7e]*")


def _bytes_of(text: str) -> bytes | None:
    """The bytes ``text`` shows when read as CP1252 (ftfy's sloppy variant: the five bytes
    CP1252 leaves undefined read as Latin-1)."""
    import ftfy.bad_codecs  # noqa: F401  (registers "sloppy-windows-1252")

    try:
        return text.encode("sloppy-windows-1252")
    except UnicodeEncodeError:
        return None


def latin1_edits(text: str) -> list[Edit]:
    """Edits (kind ``mojibake_latin1``) undoing runs of UTF-8 or GBK read as Latin-1/CP1252:
    ``é”€å”®`` (UTF-8, with ftfy's codecs) becomes ``销售``, ``4ÔÂ3ÈÕ£¬`` (GBK) ``4月3日，``.

    A run read as GBK is repaired only when every character it gives is a common one of the
    text's script; read as UTF-8 (its bytes are the characters themselves) when it gives
    ideographs, rare ones too, and the signs Chinese text writes.  Either must be far more
    likely than the other reading and than the text as it is; ``Café``, ``Göttingen``,
    ``Pelé——`` stay.  Only ``Ã`` and a second byte inside a Latin word is read as UTF-8 for
    an accented letter without the judges (``PelÃ©``).
    A run that is UTF-8 for other signs, and nothing else, is flagged (``unrepaired_mojibake``).
    """
    if not re.search("[\u0081-\u00ff]", text):
        return []
    edits: list[Edit] = []
    done = 0
    script: list[str | None] = []
    for m in _LATIN1_RUN_RE.finditer(text):
        if m.start() < done:
            continue
        if not script:
            script.append(script_of(text))
        found = _latin1_run(text, m.start(), m.end(), script[0])
        for edit in [found] if isinstance(found, Edit) else found or ():
            edits.append(edit)
            done = edit.end
    return edits


def _all_common(text: str, script: str | None) -> bool:
    """Common characters of ``script`` only, at least one of them an ideograph or a Chinese
    punctuation mark (a run never gives ASCII alone)."""
    return bool(text) and all(is_common(c) and fits_script(c, script) for c in text)


def _chinese_text(text: str) -> bool:
    """Ideographs (rare ones too), the signs Chinese text writes (CJK and full-width
    punctuation, ``㎝``, quotes and dashes) and ASCII only, at least one of them not ASCII:
    what a valid UTF-8 reading of a run may give; never a combining mark, a control, a
    private-use or an unassigned character."""
    return any(not c.isascii() for c in text) and all(
        unicodedata.category(c)[0] not in "MC" and (
            c.isascii() or CJK_RE.match(c) or c in COMMON_PUNCTUATION
            or "\u2010" <= c <= "\u2027" or "\u3000" <= c <= "\u303f"
            or "\u3200" <= c <= "\u33ff" or "\uff01" <= c <= "\uff5e"
            or "\uffe0" <= c <= "\uffe5")
        for c in text)


#: What follows a Latin word in Chinese text and CP1252 shows as itself: a word ending in an
#: accented letter before them (``Pelé——``, ``Café……``, ``Café™``) is no run of mojibake.
_AFTER_A_WORD = frozenset("—–…’‘”“·•™®©²³°")


def _latin1_run(text: str, start: int, stop: int,
                script: str | None) -> Edit | list[Edit] | None:
    candidates: list[tuple[int, str]] = []
    # UTF-8: the longest stretch of the run's characters above 0x7F that is UTF-8.  Its
    # bytes are the characters themselves, rare ones too; a reading that gives other signs
    # (``Í¬â·£`` is valid UTF-8 for two combining marks) is no reading.
    end = start
    while end < stop and ord(text[end]) >= 0x80:
        end += 1
    latin_before = start > 0 and text[start - 1].isascii() and text[start - 1].isalpha()
    if latin_before and text[start].isalpha() and text[start] not in "ÃÂ" and all(
            c in _AFTER_A_WORD for c in text[start + 1:end]):
        return None  # a Latin word's last letter and the punctuation after it (Ã©: é below)
    flag = 0  # the end of a UTF-8 reading that gives signs beyond Latin: flagged if no other
    for cut in range(end, start + 1, -1):
        data = _bytes_of(text[start:cut])
        try:
            fixed = data.decode("utf-8") if data else None
        except UnicodeDecodeError:
            continue
        if fixed is not None:
            if (all("\u00c0" <= c <= "\u00ff" and c.isalpha() for c in fixed)
                    and all(b == 0xC3 for b in data[::2])
                    and (latin_before
                         or cut < len(text) and text[cut].isascii() and text[cut].isalpha())):
                # inside a Latin word (``PelÃ©``): Ã and a second byte, UTF-8 for an accented
                # Latin letter, as ftfy reads it, not GBK for an ideograph (茅)
                return Edit(start, cut, fixed, "mojibake_latin1")
            if _all_common(fixed, script) or _chinese_text(fixed):
                candidates.append((cut, fixed))
            elif any(ord(c) > 0x2000 for c in fixed):
                flag = cut
            break
    # GBK: pairs of bytes, a trail byte may show as an ASCII letter
    data = _bytes_of(text[start:stop]) or b""
    out, t, both_high = [], 0, 0
    while t + 1 < len(data) and 0x81 <= data[t] <= 0xFE:
        ch = _decode(data[t], data[t + 1])
        if ch is None:
            break
        out.append(ch)
        both_high += data[t + 1] >= 0x80
        t += 2
    gbk_end = start + t
    # a byte above 0x7F the pairs leave alone (``å¤š`` read as GBK is 澶 and a lone 0x9A):
    # no reading against one that reads every byte (UTF-8 多)
    stranded = t < len(data) and data[t] >= 0x80 and any(c == end for c, _ in candidates)
    while out and not _all_common("".join(out), script):  # the common stretch before a rare one
        out.pop()
        t -= 2
    decoded = "".join(out)
    if not stranded and out and ((len(out) >= 2 or both_high) and _all_common(decoded, script)
                                 or (both_high == len(out)
                                     and all(c in COMMON_PUNCTUATION for c in decoded))):
        candidates.append((start + t, decoded))
    if not candidates:
        return Edit(start, flag, None, "unrepaired_mojibake") if flag else None
    left = _left_context(text, start)
    scored = [(_score(left + fixed + _right_context(text, cut)), fixed, cut)
              for cut, fixed in candidates]
    scored.sort(reverse=True)
    score, repaired, end = scored[0]
    if len(scored) > 1 and score - scored[1][0] < MARGIN:
        return Edit(start, max(c for c, _ in candidates), None, "unrepaired_mojibake")
    as_is = _score(left + text[start:end] + _right_context(text, end))
    if score - as_is < MARGIN:
        return None
    if end < gbk_end and repaired == decoded:  # the rest of the run gives a rare character
        return [Edit(start, end, repaired, "mojibake_latin1"),
                Edit(end, gbk_end, None, "unrepaired_mojibake")]
    return Edit(start, end, repaired, "mojibake_latin1")
