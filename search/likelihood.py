"""How likely a short piece of Chinese text is, from jieba's dictionary: the judge every repair
that has to choose between candidates goes to (a lost byte, a lost character).

:func:`log_likelihood` is the log-probability of the best segmentation of a text into words of
jieba's dictionary (a unigram word model, as jieba's own ``calc``), with punctuation, digits and
Latin words as tokens of their own and anything else (a rare symbol, a private-use character, a
``?``) as very unlikely.  Texts are compared in simplified script (the dictionary's).

:func:`is_common` says whether a character is a common one: an ideograph whose simplified form
occurs in dictionary words with a summed frequency of at least :data:`COMMON_MIN_FREQ`, or
common Chinese punctuation.  A repair never produces a character that is not.
"""

from __future__ import annotations

import functools
import math
import re

from .lexicon import Lexicon
from .script import CJK_CLASS, to_simplified

__all__ = ["COMMON_MIN_FREQ", "COMMON_PUNCTUATION", "is_common", "log_likelihood"]

#: Summed dictionary frequency of the words holding a character for it to be common: about
#: 4,500 characters (嘏 34, 涮 196 and 蠹 224 are not; 跋 1,477, 晓 7,866 are).
COMMON_MIN_FREQ = 300

#: Chinese punctuation a repaired text may hold, with its share of tokens in ordinary text
#: (rough counts of news text): the punctuation's "frequency" in the word model.
_PUNCT_SHARE = {
    "，": 0.06, "。": 0.03, "、": 0.012, "“": 0.006, "”": 0.006, "：": 0.005, "；": 0.002,
    "（": 0.003, "）": 0.003, "《": 0.002, "》": 0.002, "？": 0.001, "！": 0.001, "‘": 0.0005,
    "’": 0.0005, "—": 0.001, "…": 0.0005, "·": 0.0005, "　": 0.0005, "【": 0.0003,
    "】": 0.0003, "「": 0.0003, "」": 0.0003, "『": 0.0001, "』": 0.0001,
}
COMMON_PUNCTUATION = frozenset(_PUNCT_SHARE)

#: ASCII punctuation scraped pages use for Chinese punctuation is scored as what it stands for.
_ASCII_PUNCT = str.maketrans(",:;!?()", "，：；！？（）")
_LONGEST_WORD = 6
#: The least count a word of two or more characters is given: jieba lists many real compounds
#: with a count of 1 to 5, and that a word is listed at all is evidence that its characters
#: belong together.
_WORD_FLOOR = 20
_TOKEN_RE = re.compile(f"([{CJK_CLASS}]+)|([0-9]+(?:\\.[0-9]+)?)|([A-Za-z]+)|(\\s+)|(.)", re.S)
# Log-probabilities of what is not a dictionary word, relative to the dictionary's total.
_UNKNOWN_CJK = math.log(0.5)  # an ideograph the dictionary lacks: less than a count of one
_NUMBER = math.log(1e-3)
_LATIN = math.log(1e-4)
_OTHER = math.log(1e-9)  # a rare symbol, a private-use character, a "?"


@functools.cache
def _model() -> tuple[dict[str, int], float, dict[str, float]]:
    tokenizer = Lexicon().jieba()
    freq = tokenizer.FREQ
    log_total = math.log(tokenizer.total)
    punct = {p: math.log(share) for p, share in _PUNCT_SHARE.items()}
    return freq, log_total, punct


@functools.cache
def _char_freq() -> dict[str, int]:
    freq, _, _ = _model()
    counts: dict[str, int] = {}
    for word, n in freq.items():
        if n > 0:
            for ch in set(word):
                counts[ch] = counts.get(ch, 0) + n
    return counts


@functools.cache
def is_common(ch: str) -> bool:
    """True for a common character: see :data:`COMMON_MIN_FREQ` and :data:`COMMON_PUNCTUATION`."""
    if ch in COMMON_PUNCTUATION:
        return True
    simple = to_simplified(ch)
    return _char_freq().get(simple, 0) >= COMMON_MIN_FREQ


def _run_score(run: str, freq: dict[str, int], log_total: float) -> float:
    """Best segmentation of a run of ideographs (jieba's DAG route, longest word 6)."""
    n = len(run)
    best = [0.0] + [-math.inf] * n
    for end in range(1, n + 1):
        for start in range(max(0, end - _LONGEST_WORD), end):
            if best[start] == -math.inf:
                continue
            word = run[start:end]
            count = freq.get(word, 0)
            if count:
                if end - start > 1:  # a listed word is a word, however rare its count
                    count = max(count, _WORD_FLOOR)
                score = math.log(count) - log_total
            elif end - start == 1:
                score = _UNKNOWN_CJK - log_total
            else:
                continue
            if best[start] + score > best[end]:
                best[end] = best[start] + score
    return best[n]


def log_likelihood(text: str, *, simplified: bool = False) -> float:
    """The log-probability of ``text`` under the word model (higher is more likely).

    Only differences between texts of similar length mean anything.  ``simplified``: the text
    is already in simplified script (else it is converted first).
    """
    if not simplified:
        text = to_simplified(text)
    text = text.translate(_ASCII_PUNCT)
    freq, log_total, punct = _model()
    total = 0.0
    for m in _TOKEN_RE.finditer(text):
        cjk, number, latin, space, other = m.groups()
        if cjk:
            total += _run_score(cjk, freq, log_total)
        elif number:
            total += _NUMBER
        elif latin:
            total += _LATIN
        elif space:
            continue
        else:
            total += punct.get(other, _OTHER)
    return total
