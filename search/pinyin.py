"""Hanyu pinyin as the repairs need it: the syllable inventory, each character's readings and
the characters of each reading, all from pypinyin's data (every reading of a character, not
only the usual one).  Built lazily, once per process.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import unicodedata
from pathlib import Path

__all__ = [
    "LETTERS",
    "MIN_NEUTRAL_LEN",
    "chars_read",
    "is_reading",
    "is_syllable",
    "is_toned",
    "nfc",
    "strip_tone",
]

#: Letters a pinyin syllable can be written with, as a regex character-class body: ASCII,
#: Latin-1/Extended-A/B accented vowels (ā, ǎ, ü, ǜ ...), Latin Extended Additional (ḿ, ế) and
#: combining marks (m̄).  A candidate is then checked against the real inventory.
LETTERS = "a-zA-Z\u00c0-\u024f\u1e00-\u1eff\u0300-\u036f"
# Tone marks (macron, acute, caron, grave) in decomposed form; the diaeresis of ü and the
# circumflex of ê are part of the letter, not a tone.
_TONE_MARKS = "\u0304\u0301\u030c\u0300"
#: A syllable without tone mark shorter than this ("a", "e", "o", "n", "m") is far more often a
#: list marker like "(a)" than a neutral-tone reading: never taken as one.
MIN_NEUTRAL_LEN = 2


def nfc(text: str) -> str:
    """NFC, with ``v`` for ``ü`` as ASCII pinyin writes it (``lv`` for ``lü``)."""
    text = unicodedata.normalize("NFC", text)
    return text.replace("v", "ü") if "v" in text else text


@functools.cache
def strip_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    return nfc("".join(ch for ch in decomposed if ch not in _TONE_MARKS))


def _pinyin_dict() -> dict[int, str]:
    """pypinyin's readings of every character (code point -> "reading,reading"), read from
    its module ``pypinyin/pinyin_dict.py`` alone: importing pypinyin's package also loads its
    phrase dictionary (0.14 CPU-s, 2.5 MB of JSON), which a reindex would wait for before its
    first release, and the repairs never use. Imported the usual way if that fails."""
    loaded = sys.modules.get("pypinyin.pinyin_dict")
    if loaded is None:
        try:
            # find_spec of a top-level package locates it without running its __init__;
            # pinyin_dict.py imports only the standard library and fills ``pinyin_dict``.
            package = importlib.util.find_spec("pypinyin")
            path = Path(next(iter(package.submodule_search_locations))) / "pinyin_dict.py"
            spec = importlib.util.spec_from_file_location("_pypinyin_pinyin_dict", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            if isinstance(module.pinyin_dict, dict) and module.pinyin_dict:
                return module.pinyin_dict
        except Exception:  # another layout of pypinyin: its own import below
            pass
        from pypinyin import pinyin_dict as loaded
    return loaded.pinyin_dict


@functools.cache
def _tables() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(character -> its readings, toned and with the tone removed; reading -> characters)."""
    pinyin_dict = _pinyin_dict()

    # Most characters share their list of readings with others ("yī", "shì,zhì"...): each
    # distinct list is parsed once (a reindex waits for this table before its first release).
    chars_of: dict[str, list[str]] = {}
    for code, value in pinyin_dict.items():
        chars_of.setdefault(value, []).append(chr(code))
    by_char: dict[str, frozenset[str]] = {}
    by_reading: dict[str, set[str]] = {}
    for value, chars in chars_of.items():
        forms: set[str] = set()
        for reading in value.split(","):
            reading = nfc(reading.strip())
            if reading:
                forms.update((reading, strip_tone(reading)))
        if not forms:
            continue
        readings = frozenset(forms)
        by_char.update(dict.fromkeys(chars, readings))
        for form in readings:
            by_reading.setdefault(form, set()).update(chars)
    return by_char, {r: frozenset(c) for r, c in by_reading.items()}


@functools.cache
def _inventory() -> tuple[frozenset[str], frozenset[str]]:
    toned: set[str] = set()
    plain: set[str] = set()
    for readings in _tables()[0].values():
        for reading in readings:
            bare = strip_tone(reading)
            if bare != reading:
                toned.add(reading)
            if len(bare) >= MIN_NEUTRAL_LEN:
                plain.add(bare)
    return frozenset(toned), frozenset(plain)


def is_syllable(text: str, *, toned_only: bool = False) -> bool:
    """True when ``text`` (any normalization, lower case) is a Hanyu pinyin syllable: with a
    tone mark, or (unless ``toned_only``) without one and at least :data:`MIN_NEUTRAL_LEN`
    letters."""
    toned, plain = _inventory()
    text = nfc(text)
    return text in toned or (not toned_only and text in plain)


def is_toned(text: str) -> bool:
    return nfc(text) in _inventory()[0]


@functools.lru_cache(maxsize=65536)
def _readings_of(char: str) -> frozenset[str]:
    """The readings of ``char`` and of its simplified form: a converter reads the simplified
    text (績 is read jī, its simplified 绩 jì)."""
    from .script import to_simplified

    table = _tables()[0]
    readings = table.get(char, frozenset())
    simple = to_simplified(char)
    if simple != char:
        readings = readings | table.get(simple, frozenset())
    return readings


def is_reading(syllable: str, char: str) -> bool:
    """True when ``syllable`` (toned, or without tone mark) is one of the readings of ``char``
    or of its simplified form."""
    return nfc(syllable) in _readings_of(char)


def chars_read(syllable: str) -> frozenset[str]:
    """The characters having ``syllable`` (toned exactly, or if unmarked in any tone) among
    their readings."""
    return _tables()[1].get(nfc(syllable), frozenset())
