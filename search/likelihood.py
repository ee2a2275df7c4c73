"""How likely a short piece of Chinese text is, from jieba's dictionary: the judge every repair
that has to choose between candidates goes to (a lost byte, a lost character).

:func:`log_likelihood` is the log-probability of the best segmentation of a text into words of
jieba's dictionary (a unigram word model, as jieba's own ``calc``), with punctuation, digits and
Latin words as tokens of their own and anything else (a rare symbol, a private-use character, a
``?``) as very unlikely.  Texts are compared in simplified script (the dictionary's).

:func:`is_common` says whether a character is a common one: an ideograph whose simplified form
occurs in dictionary words with a summed frequency of at least :data:`COMMON_MIN_FREQ`, or
common Chinese punctuation.  A repair never produces a character that is not.

:func:`judge` scores a candidate under both this word model and the character model of
:mod:`search.charmodel` (:class:`Score`); a repair is proven when it leads every other
candidate under both (:func:`lead`).
"""

from __future__ import annotations

import functools
import math
import re

from .charmodel import char_log_likelihood
from .lexicon import Lexicon
from .script import CJK_CLASS, to_simplified

__all__ = ["COMMON_MIN_FREQ", "COMMON_PUNCTUATION", "Score", "is_common", "judge", "judge_all",
           "lead", "log_likelihood"]

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
# The ideographic space is a sign of its own (scored as punctuation), not layout: free, it
# would win every choice it is a candidate of (``涓ゃ€?`` read as ``两　``).
_TOKEN_RE = re.compile(
    f"([{CJK_CLASS}]+)|([0-9]+(?:\\.[0-9]+)?)|([A-Za-z]+)|([^\\S\u3000]+)|(.)", re.S)
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



class Score:
    """A candidate's log-likelihood under both judges: the word model (:func:`log_likelihood`)
    and the character model (:func:`search.charmodel.char_log_likelihood`).

    Candidates are ranked by the sum; ``a - b`` is how far ``a`` leads ``b`` (:func:`_lead`:
    the word judge's lead, held down by the character judge's unless the word judge is very
    sure).  Adding a number (a prior) adds it under both.
    """

    __slots__ = ("word", "char")

    def __init__(self, word: float, char: float):
        self.word = word
        self.char = char

    @property
    def total(self) -> float:
        return self.word + self.char

    def __add__(self, prior: float) -> Score:
        return Score(self.word + prior, self.char + prior)

    __radd__ = __add__

    def __sub__(self, other: Score) -> float:
        return _lead(self.word - other.word, self.char - other.char)

    def __lt__(self, other: Score) -> bool:
        return self.total < other.total

    def __neg__(self) -> float:
        return -self.total

    def __repr__(self) -> str:
        return f"Score({self.word:.2f}, {self.char:.2f})"


def lead(best: Score, others, homophones: bool = False) -> float:
    """How far ``best`` leads every one of ``others``: the least of its leads over each, and
    of the lead its judges' leads over the best other by each judge give (two candidates
    each judge finds close are no proof); infinite without others.  ``homophones``: the
    candidates are characters of one reading (a lost character), which the word model tells
    apart poorly (``分布`` and ``分部`` are both words) and the character model well: a very
    sure character judge may then stand on its own (:data:`CHAR_SURE`)."""
    others = list(others)
    if not others:
        return float("inf")

    def one(word: float, char: float) -> float:
        both = _lead(word, char)
        return max(both, char - CHAR_SURE) if homophones and word >= 0 else both

    return min(min(one(best.word - o.word, best.char - o.char) for o in others),
               one(best.word - max(o.word for o in others),
                   best.char - max(o.char for o in others)))


def judge(text: str) -> Score:
    """Both judges' log-likelihood of ``text``."""
    return Score(log_likelihood(text), char_log_likelihood(text))


#: Candidates this far behind the word judge's best are not scored by the character judge
#: (they can lead nothing, and scoring thousands of candidate pairs costs): their character
#: log-likelihood is taken as minus infinity.
PRUNE = 20.0


def judge_all(texts: list[str]) -> list[Score]:
    """:func:`judge` of each of ``texts`` (candidates of one choice), the character judge
    asked only about those within :data:`PRUNE` of the word judge's best."""
    words = [log_likelihood(t) for t in texts]
    if not words:
        return []
    floor = max(words) - PRUNE
    return [Score(w, char_log_likelihood(t) if w >= floor else -math.inf)
            for w, t in zip(words, texts)]


#: The character judge's lead that, added to this, may stand in for the word judge's
#: falling short of the word judge's lead less :data:`WORD_SURE` ...
CHAR_SUPPORT = 2.0
#: ... : a word judge sure by the margin plus this needs no support from the character judge
#: (it has learned from under a million characters of encyclopaedia text, and is less sure
#: where punctuation goes than inside words).
WORD_SURE = 1.0


#: A character judge this much more sure than the margin stands on its own among homophones
#: (:func:`lead`), where the word judge does not prefer the other (``分布于`` against
#: ``分部于``: 27 to 3.8).  Not for the ends of a GBK-shift run: its candidates share bytes,
#: not a reading, and there it added ``波利`` for the original's ``波里``.
CHAR_SURE = 5.5


def _lead(word: float, char: float) -> float:
    """The lead of one candidate over another, from each judge's lead: the word judge's, but
    no more than the character judge's plus :data:`CHAR_SUPPORT` unless the word judge's is
    :data:`WORD_SURE` above the margin -- with the margin 4.5, a word lead of 4.5 needs a
    character lead of 2.5; a word lead of 5.5 stands on its own."""
    return min(word, max(char + CHAR_SUPPORT, word - WORD_SURE))
