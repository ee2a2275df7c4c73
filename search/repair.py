"""Repair of scraped release text: pinyin annotations, lost characters and script.

Some scraped releases went through a broken converter that turned simplified text into
traditional script and appended the Hanyu pinyin reading of every converted character in
ASCII parentheses: ``統(tǒng)籌`` for ``统筹``.  Where the page was also garbled, a lost
character shows as ``?`` and its annotation lost its opening parenthesis: ``在?dāng)前``.

This module undoes that, in this order (see :func:`repair_text`):

1. :func:`restore_lost_characters` -- ``?reading)`` becomes the character when exactly one
   character with that reading forms a known word with its neighbours; otherwise the text is
   left as it is (nothing is ever invented);
2. :func:`strip_annotations` -- removes the annotations and nothing else;
3. :func:`search.script.to_simplified` -- OpenCC ``t2s``, length preserving, only for
   annotated releases.

Genuinely traditional releases (without the artifact) are returned unchanged.

The syllable inventory and the reverse reading map are built lazily,
once per process.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from .lexicon import Lexicon
from .script import CJK_CLASS, CJK_RE, to_simplified

__all__ = [
    "ANNOTATED_MIN_COUNT",
    "ANNOTATED_MIN_RATIO",
    "RepairResult",
    "is_annotated",
    "repair_text",
    "restore_lost_characters",
    "strip_annotations",
]

#: A text carries the artifact when it has at least this many (toned) annotations ...
ANNOTATED_MIN_COUNT = 2
#: ... and they make at least this share of its CJK characters.  The broken converter
#: annotates every character it converted (about a quarter of ordinary text; 483 of the
#: sample's ~3,700 CJK characters), while a genuine release that glosses a rare character's
#: reading, e.g. ``犇(bēn)``, does so once or twice in thousands of characters.
ANNOTATED_MIN_RATIO = 0.01

# Letters a pinyin syllable can be written with: ASCII, Latin-1/Extended-A/B accented vowels
# (ā, ǎ, ü, ǜ ...), Latin Extended Additional (ḿ, ế) and combining marks (m̄).  The candidate
# is then validated against the real syllable inventory.
_PY = "a-zA-Z\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f"
_ANNOTATION_RE = re.compile(
    f"(?<=[{CJK_CLASS}A-Za-z])(?:\\(([{_PY}]{{1,8}})\\)|\uff08([{_PY}]{{1,8}})\uff09)"
)
_LOST_RE = re.compile(f"\\?([{_PY}]{{1,8}})\\)")
# Tone marks (macron, acute, caron, grave) in decomposed form; the diaeresis of ü and the
# circumflex of ê are part of the letter, not a tone.
_TONE_MARKS = "\u0304\u0301\u030c\u0300"
# A one-letter syllable without tone mark ("a", "e", "o", "n", "m") is far more often a list
# marker like "(a)" than a neutral-tone reading: never taken as an annotation.
_MIN_NEUTRAL_LEN = 2
# Neighbouring characters considered on each side of a lost character, and the longest word.
_CONTEXT = 3
_MAX_WORD = 4
# Characters of raw text read on each side to find that context (annotations included).
_WINDOW = _CONTEXT * 12


@dataclass
class RepairResult:
    """The outcome of :func:`repair_text` for one release's full text."""

    text: str  # repaired text
    # per kind, only non-zero kinds: "annotations" (pinyin annotations removed),
    # "restored" (lost characters restored), "script" (characters changed by t2s conversion)
    counts: dict[str, int] = field(default_factory=dict)
    annotated: bool = False  # the text carried the pinyin-annotation artifact


# --------------------------------------------------------------------------- caches


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _strip_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    return _nfc("".join(ch for ch in decomposed if ch not in _TONE_MARKS))


@functools.cache
def _readings() -> dict[str, list[str]]:
    """Toned syllable (NFC) -> characters having it among their readings (pypinyin data)."""
    from pypinyin.pinyin_dict import pinyin_dict

    reverse: dict[str, list[str]] = {}
    for code, value in pinyin_dict.items():
        char = chr(code)
        for reading in value.split(","):
            reverse.setdefault(_nfc(reading.strip()), []).append(char)
    return reverse


@functools.cache
def _syllables() -> tuple[frozenset[str], frozenset[str]]:
    """(syllables with a tone mark, syllables without one) of the Hanyu pinyin inventory.

    The unmarked set is every syllable with its tone mark removed: the neutral tone is written
    without a mark.
    """
    toned: set[str] = set()
    plain: set[str] = set()
    for reading in _readings():
        if not reading:
            continue
        bare = _strip_tone(reading)
        plain.add(bare)
        if bare != reading:
            toned.add(reading)
    plain = {s for s in plain if len(s) >= _MIN_NEUTRAL_LEN}
    return frozenset(toned), frozenset(plain)


@functools.cache
def _word_freq() -> dict[str, int]:
    """jieba's dictionary (word -> frequency; prefixes of words have frequency 0), loaded
    through the lexicon's cache (jieba's own loader takes four times longer)."""
    return Lexicon().jieba().FREQ


# ------------------------------------------------------------------------ annotations


def _toned_count(text: str) -> int:
    toned, _ = _syllables()
    count = 0
    for match in _ANNOTATION_RE.finditer(text):
        if _nfc(match.group(1) or match.group(2)) in toned:
            count += 1
    return count


def _cjk_count(text: str) -> int:
    return len(CJK_RE.findall(text))


def is_annotated(text: str) -> bool:
    """True when ``text`` carries the pinyin-annotation artifact.

    That is at least :data:`ANNOTATED_MIN_COUNT` toned annotations making at least
    :data:`ANNOTATED_MIN_RATIO` of the text's CJK characters.
    """
    count = _toned_count(text)
    if count < ANNOTATED_MIN_COUNT:
        return False
    return count >= ANNOTATED_MIN_RATIO * _cjk_count(text)


def strip_annotations(text: str) -> tuple[str, int]:
    """Remove the pinyin annotations of ``text``; return the text and how many were removed.

    An annotation is a Hanyu pinyin syllable in parentheses (ASCII or full-width) directly
    after a CJK character or an ASCII letter (garbled text): ``統(tǒng)``, ``,F(xiàn)``.  The
    syllable is validated against the real inventory, so ``(abc)``, ``(2022)``, ``(RCEP)`` or
    ``(非德州新聞網)`` are never touched.  A syllable with a tone mark is always an annotation;
    one without (neutral tone, e.g. ``(men)``) only in a text that already has at least
    :data:`ANNOTATED_MIN_COUNT` toned annotations, and never a one-letter one like ``(a)``.
    No other character changes.
    """
    toned, plain = _syllables()
    accept_plain = _toned_count(text) >= ANNOTATED_MIN_COUNT
    removed = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal removed
        syllable = _nfc(match.group(1) or match.group(2))
        if syllable in toned or (accept_plain and syllable in plain):
            removed += 1
            return ""
        return match.group(0)

    return _ANNOTATION_RE.sub(replace, text), removed


# -------------------------------------------------------------------- lost characters


def _cjk_tail(text: str) -> str:
    """The last CJK characters of ``text`` (annotations skipped), at most ``_CONTEXT``."""
    window, _ = strip_annotations(text[-_WINDOW:])
    tail = []
    for ch in reversed(window):
        if not CJK_RE.fullmatch(ch) or len(tail) == _CONTEXT:
            break
        tail.append(ch)
    return "".join(reversed(tail))


def _cjk_head(text: str) -> str:
    """The first CJK characters of ``text`` (annotations skipped), at most ``_CONTEXT``."""
    window, _ = strip_annotations(text[:_WINDOW])
    head = []
    for ch in window:
        if not CJK_RE.fullmatch(ch) or len(head) == _CONTEXT:
            break
        head.append(ch)
    return "".join(head)


def _forms_word(left: str, char: str, right: str, freq: dict[str, int]) -> bool:
    """True when ``char`` between ``left`` and ``right`` is inside a known word of 2+ chars."""
    line = left + char + right
    at = len(left)
    for start in range(max(0, at - _MAX_WORD + 1), at + 1):
        for end in range(max(at + 1, start + 2), min(len(line), start + _MAX_WORD) + 1):
            if freq.get(line[start:end], 0) > 0:
                return True
    return False


def _restore_one(syllable: str, left: str, right: str) -> str | None:
    """The one (simplified) character read ``syllable`` that makes a word here, else None."""
    if not left and not right:
        return None
    candidates = {to_simplified(ch) for ch in _readings().get(syllable, ())}
    left_s, right_s = to_simplified(left), to_simplified(right)
    freq = _word_freq()
    survivors = [ch for ch in candidates if _forms_word(left_s, ch, right_s, freq)]
    return survivors[0] if len(survivors) == 1 else None


def restore_lost_characters(text: str) -> tuple[str, int]:
    """Restore lost characters written ``?reading)``; return the text and how many.

    In a garbled annotated release a lost character shows as ``?`` followed by its
    annotation without the opening parenthesis: ``在?dāng)前``.  The candidates are the
    characters having that exact toned reading (pypinyin); those forming a word of jieba's
    dictionary with the neighbouring characters (annotations skipped, compared in simplified
    script) survive.  Only when exactly one candidate survives (after folding candidates to
    simplified script) is ``?reading)`` replaced by it: ``在当前``.  Otherwise the text is
    left as it is (``冷鏈?zhǔn)称?`` stays).  A neutral-tone reading (no mark) is only
    considered in an annotated text (:func:`is_annotated`).

    The character is written in simplified script: the artifact only occurs in releases that
    :func:`repair_text` converts to simplified.
    """
    if "?" not in text:
        return text, 0
    toned, plain = _syllables()
    accept_plain: bool | None = None
    out: list[str] = []
    done = 0  # end of the text already copied to out
    recent = ""  # the last characters of the repaired text so far, for the left context
    fed = 0  # end of the text already added to recent
    restored = 0
    for match in _LOST_RE.finditer(text):
        syllable = _nfc(match.group(1))
        if syllable not in toned:
            if syllable not in plain:
                continue
            if accept_plain is None:
                accept_plain = is_annotated(text)
            if not accept_plain:
                continue
        recent = (recent + text[max(fed, match.start() - _WINDOW) : match.start()])[-_WINDOW:]
        fed = match.start()
        left = _cjk_tail(recent)
        right = _cjk_head(text[match.end() : match.end() + _WINDOW])
        char = _restore_one(syllable, left, right)
        if char is None:
            continue
        out.append(text[done : match.start()])
        out.append(char)
        recent = (recent + char)[-_WINDOW:]
        fed = done = match.end()
        restored += 1
    out.append(text[done:])
    return "".join(out), restored


# -------------------------------------------------------------------------- pipeline


def repair_text(text: str) -> RepairResult:
    """Repair one release's full text: restore, strip, then convert.

    A text without the annotation artifact (:func:`is_annotated` false) is returned unchanged
    with ``annotated=False``: genuinely traditional releases keep their script, and an odd
    single ``字(zì)`` gloss stays.  An annotated text gets its lost characters restored
    (``restored``), its annotations removed (``annotations``) and is converted to simplified
    script (``script``: the number of characters the conversion changed).
    """
    if not is_annotated(text):
        return RepairResult(text=text, counts={}, annotated=False)
    restored_text, restored = restore_lost_characters(text)
    stripped, annotations = strip_annotations(restored_text)
    simplified = to_simplified(stripped)
    script = sum(1 for a, b in zip(stripped, simplified) if a != b)
    counts = {"annotations": annotations, "restored": restored, "script": script}
    return RepairResult(
        text=simplified,
        counts={kind: n for kind, n in counts.items() if n},
        annotated=True,
    )
