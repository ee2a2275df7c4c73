"""search.pinyin: its tables come from pypinyin's dictionary of readings, read alone."""

from __future__ import annotations

import subprocess
import sys

from pypinyin.pinyin_dict import pinyin_dict

from search import pinyin

from conftest import ROOT


def test_the_readings_are_pypinyins() -> None:
    assert pinyin._pinyin_dict() == pinyin_dict
    by_char, by_reading = pinyin._tables()
    assert by_char["绩"] == {"jì", "jī", "ji"} and "绩" in by_reading["jì"]
    assert pinyin.is_reading("ji", "績") and pinyin.is_syllable("lǜ")


def test_the_readings_are_read_without_importing_pypinyins_package() -> None:
    """pypinyin's package loads its phrase dictionary too, which the repairs never use."""
    code = ("import sys; from search import pinyin; n = len(pinyin._pinyin_dict()); "
            "print(n, 'pypinyin' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [str(len(pinyin_dict)), "False"]
