"""Chinese text analysis for Whoosh: folding, jieba words with sub-words, CJK bigrams.

Everything here follows Whoosh's tokenizer contract: tokenizers are called with the text to index
(the *displayed* text) and yield one reused :class:`whoosh.analysis.Token`; positions count tokens,
``startchar``/``endchar`` are offsets into the displayed text, and ``mode`` is ``"index"`` or
``"query"``. Folding (traditional to simplified, full-width to half-width, lower case) happens
inside the tokenizers on a copy of the text of the same length, so offsets always slice the
displayed text.

Analyzers are picklable (Whoosh stores them with the schema): they carry the words of the user
dictionary (:class:`search.lexicon.Lexicon`), never a jieba instance.

The terms are defined once, by :func:`word_term`, :func:`subwords` and :func:`run_bigrams`: the
tokenizers (incremental updates, queries, highlighting) and :func:`index_term_counts_many` (the
bulk writer of full rebuilds) both build on them, so an index does not depend on how it was
built.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain

from whoosh.analysis import Filter, Token, Tokenizer

from .lexicon import Lexicon
from .script import CJK_CLASS, fold, fold_many, is_cjk

__all__ = [
    "ANALYZER_VERSION",
    "BigramAnalyzer",
    "BigramTokenizer",
    "JiebaTokenizer",
    "Lexicon",
    "SubwordFilter",
    "WordAnalyzer",
    "bigrams",
    "folded_bigrams",
    "index_term_counts_many",
    "query_words",
    "run_bigrams",
    "subwords",
    "tokens_with_offsets",
    "word_spans",
    "word_term",
]

#: Bump when tokenization changes: a changed fingerprint forces a full reindex.
ANALYZER_VERSION = 6

# A run of CJK characters, or an alphanumeric "word" (numbers, Latin words, codes like 29.95, x86-64).
_RUN_RE = re.compile(f"([{CJK_CLASS}]+)|([0-9a-z\u00c0-\u024f]+(?:[.\\-_'][0-9a-z\u00c0-\u024f]+)*)")
_WORDCHAR_RE = re.compile(f"[0-9a-z\u00c0-\u024f{CJK_CLASS}]")


# --- tokenizers ----------------------------------------------------------------------------


class JiebaTokenizer(Tokenizer):
    """Segments the folded text with jieba (precise mode, HMM for unknown words).

    Yields every token that contains a letter, digit or ideograph (punctuation and spaces are
    skipped, without taking a position). Token text is folded; offsets point into the original.
    """

    def __init__(self, lexicon: Lexicon | None = None):
        self.lexicon = lexicon or Lexicon()

    def __eq__(self, other):
        return other.__class__ is self.__class__ and other.lexicon == self.lexicon

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        words = word_spans(fold(value), self.lexicon)
        yield from _emit(t, value, words, positions, chars, keeporiginal, start_pos, start_char)


def word_term(token: str) -> str | None:
    """The ``words`` term of one jieba token: the token without surrounding spaces, or None
    when it has no letter, digit or ideograph (punctuation and spaces take no position)."""
    return token.strip() if _WORDCHAR_RE.search(token) else None


def word_spans(folded: str, lexicon: Lexicon) -> Iterator[tuple[str, int, int]]:
    """jieba's precise words of folded text (:func:`word_term`), with their offsets."""
    end = 0
    for token in lexicon.cut(folded):
        start, end = end, end + len(token)
        word = word_term(token)
        if word is not None:
            yield word, start, end


def subwords(word: str, freq: dict) -> Iterator[tuple[str, int]]:
    """The dictionary words of two or three characters inside a CJK word of three or more,
    as ``(sub-word, offset)``; ``freq`` is jieba's prefix dictionary."""
    if len(word) < 3 or not is_cjk(word):
        return
    for n in (2, 3):
        for i in range(len(word) - n + 1):
            sub = word[i:i + n]
            if sub != word and freq.get(sub):
                yield sub, i


def run_bigrams(folded: str) -> Iterator[tuple[int, list[str]]]:
    """The ``bigrams`` terms of folded text, run by run, as ``(start, terms)``: a run of two
    or more ideographs gives its overlapping bigrams (term ``i`` starts at ``start + i``); a
    lone ideograph or an alphanumeric word gives itself."""
    for m in _RUN_RE.finditer(folded):
        run = m.group()
        if m.group(1) is not None and len(run) > 1:
            yield m.start(), list(map(str.__add__, run[:-1], run[1:]))
        else:
            yield m.start(), [run]


def index_term_counts_many(texts: list[str], lexicon: Lexicon) -> list[tuple[dict, int,
                                                                            dict, int, str]]:
    """What the index-mode analyzers make of each text, as term counts: ``(words, number of
    word tokens, bigrams, number of bigram tokens, folded text)`` per text, analysed together
    (the folded text is ``fold(text)``, which the writers keep: :mod:`search.foldedtext`).

    The counts of the tokens :func:`WordAnalyzer` and :func:`BigramAnalyzer` give in index
    mode, from the same term functions, without token objects or offsets: the bulk segment
    writer analyses each paragraph once this way. A batch is folded in one OpenCC pass and
    then segmented, rather than alternating between the two (each is faster while its tables
    stay in the processor's caches), and what a jieba token contributes (the word and its
    sub-words) is worked out once per distinct token.
    """
    jb = lexicon.jieba()
    memo = _token_terms_memo(lexicon, jb.FREQ)
    contributed = memo.__getitem__  # what a token adds, as word_spans() reads it, as terms
    flatten = chain.from_iterable
    out = []
    for folded in fold_many(texts):
        terms = list(flatten(map(contributed, lexicon.cut(folded))))
        grams = list(flatten([run for _start, run in run_bigrams(folded)]))
        out.append((Counter(terms), len(terms), Counter(grams), len(grams), folded))
    return out


def _token_terms(token: str, freq: dict) -> tuple[str, ...]:
    """The ``words`` terms one jieba token adds in index mode: its :func:`word_term` and the
    sub-words :class:`SubwordFilter` adds after it."""
    word = word_term(token)
    if word is None:
        return ()
    return (word, *(sub for sub, _i in subwords(word, freq)))


class _TokenTerms(dict):
    """jieba token -> :func:`_token_terms`, worked out on first use (``memo[token]``)."""

    def __init__(self, freq: dict):
        super().__init__()
        self.freq = freq

    def __missing__(self, token: str) -> tuple[str, ...]:
        terms = self[token] = _token_terms(token, self.freq)
        return terms


_memos: dict[tuple, _TokenTerms] = {}


def _token_terms_memo(lexicon: Lexicon, freq: dict) -> _TokenTerms:
    memo = _memos.get(lexicon.entries)
    if memo is None or len(memo) > 1_000_000 or memo.freq is not freq:
        memo = _memos[lexicon.entries] = _TokenTerms(freq)
    return memo


class SubwordFilter(Filter):
    """In index mode, after a long word also emits the dictionary words inside it.

    ``核酸检测`` is followed by ``核酸`` and ``检测`` at the same position (like synonyms), so a
    query for either finds it while phrases over whole words still line up. Query mode passes
    tokens through unchanged (precise search).
    """

    def __init__(self, lexicon: Lexicon | None = None):
        self.lexicon = lexicon or Lexicon()

    def __eq__(self, other):
        return other.__class__ is self.__class__ and other.lexicon == self.lexicon

    def __call__(self, tokens):
        freq = None
        for t in tokens:
            yield t
            text = t.text
            if t.mode != "index" or len(text) < 3:
                continue
            if freq is None:
                freq = self.lexicon.jieba().FREQ
            start = getattr(t, "startchar", None)
            for sub, i in subwords(text, freq):
                t.text = sub
                if start is not None:
                    t.startchar = start + i
                    t.endchar = start + i + len(sub)
                yield t


class BigramTokenizer(Tokenizer):
    """Overlapping character bigrams of each CJK run (a lone character as itself), plus each
    alphanumeric word as one token. Finds words jieba does not know (``逯泽生``)."""

    def __eq__(self, other):
        return other.__class__ is self.__class__

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        folded = fold(value) if tokenize else value
        yield from _emit(t, value, _bigram_spans(folded), positions, chars, keeporiginal,
                         start_pos, start_char)


def _bigram_spans(folded: str) -> Iterator[tuple[str, int, int]]:
    for start, run in run_bigrams(folded):
        for i, gram in enumerate(run):
            yield gram, start + i, start + i + len(gram)


def _emit(t: Token, value: str, items: Iterable[tuple[str, int, int]], positions: bool,
          chars: bool, keeporiginal: bool, start_pos: int, start_char: int) -> Iterator[Token]:
    """Fill the reused token ``t`` for each ``(text, start, end)`` and yield it; positions
    count the tokens, offsets point into ``value``."""
    pos = start_pos
    for text, start, end in items:
        t.text = text
        t.boost = 1.0
        t.stopped = False
        if keeporiginal:
            t.original = value[start:end]
        if positions:
            t.pos = pos
        if chars:
            t.startchar = start_char + start
            t.endchar = start_char + end
        pos += 1
        yield t


def WordAnalyzer(lexicon: Lexicon | None = None):
    """jieba words; in index mode with the dictionary sub-words of long words."""
    lexicon = lexicon or Lexicon()
    return JiebaTokenizer(lexicon) | SubwordFilter(lexicon)


def BigramAnalyzer():
    """CJK character bigrams and alphanumeric words."""
    return BigramTokenizer()


# --- helpers for the searcher --------------------------------------------------------------


def query_words(text: str, lexicon: Lexicon | None = None) -> list[tuple[str, int, int]]:
    """Precise jieba segmentation of a query: ``(folded word, start, end)``."""
    ana = JiebaTokenizer(lexicon or Lexicon())
    return [(t.text, t.startchar, t.endchar)
            for t in ana(text, chars=True, mode="query")]


def bigrams(text: str) -> list[str]:
    """The bigram-field tokens of ``text`` in order."""
    return folded_bigrams(fold(text))


def folded_bigrams(folded: str) -> list[str]:
    """:func:`bigrams` of text that is already folded."""
    return [gram for _start, run in run_bigrams(folded) for gram in run]


def tokens_with_offsets(analyzer, text: str, mode: str = "index") -> Iterator[Token]:
    """Copies of the tokens an analyzer makes of ``text``, with positions and offsets (the
    analyzer reuses one token object)."""
    for t in analyzer(text, positions=True, chars=True, mode=mode):
        yield t.copy()
