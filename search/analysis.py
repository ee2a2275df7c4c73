"""Chinese text analysis for Whoosh: folding, jieba words with sub-words, CJK bigrams.

Everything here follows Whoosh's tokenizer contract: tokenizers are called with the text to index
(the *displayed* text) and yield one reused :class:`whoosh.analysis.Token`; positions count tokens,
``startchar``/``endchar`` are offsets into the displayed text, and ``mode`` is ``"index"`` or
``"query"``. Folding (traditional to simplified, full-width to half-width, lower case) happens
inside the tokenizers on a copy of the text of the same length, so offsets always slice the
displayed text.

Analyzers are picklable (Whoosh stores them with the schema): they carry the words of the user
dictionary, never a jieba instance, which is built once per process and cached.
"""

from __future__ import annotations

import array
import functools
import hashlib
import logging
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from whoosh.analysis import Filter, Token, Tokenizer


def _import_jieba():
    """Import jieba without ``pkg_resources``, which it imports only to find its own data
    files (about 0.1 s of every start-up, and a deprecation warning); without it, jieba opens
    them by path (its ``_compat`` fallback)."""
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # "import" fails
    try:
        import jieba as module
    finally:
        if blocked:
            del sys.modules["pkg_resources"]
    return module


jieba = _import_jieba()

#: Bump when tokenization changes: a changed fingerprint forces a full reindex.
ANALYZER_VERSION = 4

jieba.setLogLevel(logging.WARNING)

_CJK = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002a6df\U0002a700-\U0002ebef\U00030000-\U0003134f"
)
CJK_RE = re.compile(f"[{_CJK}]")
# A run of CJK characters, or an alphanumeric "word" (numbers, Latin words, codes like 29.95, x86-64).
_RUN_RE = re.compile(f"([{_CJK}]+)|([0-9a-z\u00c0-\u024f]+(?:[.\\-_'][0-9a-z\u00c0-\u024f]+)*)")
_WORDCHAR_RE = re.compile(f"[0-9a-z\u00c0-\u024f{_CJK}]")
_CJK_WORD_RE = re.compile(f"[{_CJK}]+")
CJK_RUN_RE = _CJK_WORD_RE  # a run of ideographs


def is_cjk(text: str) -> bool:
    """True if every character of ``text`` is a CJK ideograph."""
    return _CJK_WORD_RE.fullmatch(text) is not None


# --- folding -------------------------------------------------------------------------------

_converter_lock = threading.Lock()


@functools.cache
def opencc_converter(config: str):  # -> opencc.OpenCC
    """The process's one OpenCC converter for ``config`` (``"t2s"``, ``"s2t"``)."""
    import opencc

    return opencc.OpenCC(config)


def _fold_char(c: str) -> str:
    o = ord(c)
    if 0xFF01 <= o <= 0xFF5E:  # full-width ASCII
        c = chr(o - 0xFEE0)
    elif o == 0x3000:  # ideographic space
        return " "
    low = c.lower()
    return low if len(low) == 1 else c


_FOLD_TABLE = {o: _fold_char(chr(o)) for o in range(0xFF01, 0xFF5F)}
_FOLD_TABLE[0x3000] = " "


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with lone surrogates (a truncated emoji in JSON, say) replaced by U+FFFD, so
    that it can cross into OpenCC (UTF-8); same length."""
    return _SURROGATE_RE.sub("\ufffd", text) if _SURROGATE_RE.search(text) else text


def _convert(config: str, text: str) -> str:
    """OpenCC conversion that keeps the length (character by character if a phrase rule
    would change it)."""
    conv = opencc_converter(config)
    with _converter_lock:  # the OpenCC binding is not documented as thread-safe
        out = conv.convert(text)
        if len(out) == len(text):
            return out
        chars = [conv.convert(c) for c in text]
    return "".join(s if len(s) == 1 else c for s, c in zip(chars, text))


def _to_simplified(text: str) -> str:
    """Canonical simplified script: t2s, then a s2t/t2s round trip.

    The round trip makes the result the same for a simplified text and for its OpenCC
    traditional form even where s2t picks, by phrase, a traditional character that is also a
    simplified one (复 -> 覆 in 核复, which t2s keeps as 覆).
    """
    text = without_surrogates(text)
    simple = _convert("t2s", text)
    if simple.isascii():
        return simple
    return _convert("t2s", _convert("s2t", simple))


@functools.lru_cache(maxsize=4096)
def _fold_cached(text: str) -> str:
    return _fold_uncached(text)


def _fold_uncached(text: str) -> str:
    folded = _to_simplified(text).translate(_FOLD_TABLE)
    low = folded.lower()
    if len(low) == len(folded):
        return low
    return "".join(_fold_char(c) for c in folded)


_last_folded: tuple[str, str] = ("", "")


def fold(text: str) -> str:
    """Traditional to simplified, full-width to half-width, lower case; same length as ``text``."""
    global _last_folded
    if len(text) <= 64:
        return _fold_cached(text)
    last = _last_folded  # each paragraph is analysed by two fields in a row: fold it once
    if last[0] == text:
        return last[1]
    folded = _fold_uncached(text)
    _last_folded = (text, folded)
    return folded


def fold_many(texts: list[str]) -> list[str]:
    """``[fold(t) for t in texts]``, with one OpenCC pass over all of them when that gives the
    same result (no text holds a line break and no conversion changes a length)."""
    if len(texts) < 2 or any("\n" in t for t in texts):
        return [fold(t) for t in texts]
    joined = "\n".join(texts)
    if _SURROGATE_RE.search(joined):
        return [fold(t) for t in texts]
    canon = joined
    with _converter_lock:
        for config in ("t2s", "s2t", "t2s"):  # as _to_simplified
            converted = opencc_converter(config).convert(canon)
            if len(converted) != len(canon):  # a phrase rule changed a length
                canon = None
                break
            canon = converted
    if canon is None:  # text by text (fold takes the converter lock itself)
        return [fold(t) for t in texts]
    folded = canon.translate(_FOLD_TABLE)
    low = folded.lower()
    if len(low) != len(folded):
        return [fold(t) for t in texts]
    parts = low.split("\n")
    return parts if len(parts) == len(texts) else [fold(t) for t in texts]


# --- jieba, once per process and dictionary ---------------------------------------------------

_jieba_lock = threading.Lock()
_jieba_instances: dict[tuple, jieba.Tokenizer] = {}


class Lexicon:
    """The user dictionary words (``word [freq] [tag]`` entries) an analyzer segments with.

    Picklable and comparable; :meth:`jieba` returns the process-wide jieba tokenizer for it.
    """

    def __init__(self, entries: Iterable[tuple[str, int | None, str | None]] = ()):
        self.entries: tuple[tuple[str, int | None, str | None], ...] = tuple(entries)

    @classmethod
    def from_file(cls, path) -> Lexicon:
        """Read a jieba user dictionary (UTF-8, one ``word [freq] [tag]`` per line); raises
        SourceError if it is unreadable or not UTF-8."""
        from .errors import SourceError

        try:
            with open(path, encoding="utf-8-sig") as f:
                lines = f.read().splitlines()
        except UnicodeDecodeError:
            raise SourceError("user dictionary is not UTF-8", str(path)) from None
        except OSError as exc:
            raise SourceError(f"cannot read user dictionary: {exc.strerror}", str(path)) from None
        entries = []
        for line in lines:
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            word = fold(parts[0])
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            tag = parts[2] if len(parts) > 2 else None
            entries.append((word, freq, tag))
        return cls(entries)

    def fingerprint(self) -> str:
        h = hashlib.sha256(repr(self.entries).encode("utf-8")).hexdigest()
        return h[:16]

    def jieba(self) -> jieba.Tokenizer:
        inst = _jieba_instances.get(self.entries)
        if inst is not None:
            return inst
        with _jieba_lock:
            inst = _jieba_instances.get(self.entries)
            if inst is None:
                inst = jieba.dt if not self.entries else jieba.Tokenizer()
                _initialize(inst)
                for word, freq, tag in self.entries:
                    inst.add_word(word, freq, tag)
                _jieba_instances[self.entries] = inst
        return inst

    def __eq__(self, other):
        return isinstance(other, Lexicon) and other.entries == self.entries

    def __hash__(self):
        return hash(self.entries)

    def __repr__(self):
        return f"Lexicon({len(self.entries)} entries)"


_CACHE_MAGIC = b"release-search jieba prefix dictionary v1\n"


def _cache_path() -> Path | None:
    base = os.environ.get("RELEASE_SEARCH_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return root / "release-search" / f"jieba-{jieba.__version__}.dict"


def _initialize(tok: jieba.Tokenizer) -> None:
    """Load jieba's default prefix dictionary, from our own cache when possible.

    jieba keeps its cache as a marshalled dict (about 1 s to load); ours stores the words as
    one UTF-8 block and the frequencies as an int array, which loads about 3x faster and, unlike
    pickle, cannot run code if someone else wrote the file.
    """
    if tok.initialized:
        return
    path = _cache_path() if tok.dictionary == jieba.DEFAULT_DICT else None
    if path is not None:
        try:
            with open(path, "rb") as f:
                if f.readline() == _CACHE_MAGIC:
                    total, count, nbytes = (int(x) for x in f.readline().split())
                    freqs = array.array("q")
                    freqs.frombytes(f.read(count * freqs.itemsize))
                    words = f.read(nbytes).decode("utf-8").split("\n")
                    if len(words) == count == len(freqs):
                        with tok.lock:
                            tok.FREQ, tok.total = dict(zip(words, freqs.tolist())), total
                            tok.initialized = True
                        return
        except (OSError, ValueError, UnicodeDecodeError):
            pass
    tok.check_initialized()
    if path is not None:
        _write_cache(path, tok.FREQ, tok.total)


def _write_cache(path: Path, freq: dict, total: int) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        words = "\n".join(freq).encode("utf-8")
        freqs = array.array("q", freq.values())
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(_CACHE_MAGIC)
            f.write(f"{total} {len(freqs)} {len(words)}\n".encode())
            f.write(freqs.tobytes())
            f.write(words)
        os.replace(tmp, path)
    except OSError:
        pass  # no cache: next time jieba's own loader runs again


def load_dictionary() -> float:
    """Load jieba's default dictionary now (it is otherwise loaded on first use); returns seconds."""
    import time

    t = time.perf_counter()
    Lexicon().jieba()
    return time.perf_counter() - t


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


def word_spans(folded: str, lexicon: Lexicon) -> Iterator[tuple[str, int, int]]:
    """jieba's precise words of folded text that contain a letter, digit or ideograph."""
    for word, start, end in lexicon.jieba().tokenize(folded, HMM=True):
        if _WORDCHAR_RE.search(word):
            yield word.strip(), start, end


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


def index_term_counts(text: str, lexicon: Lexicon) -> tuple[dict[str, int], int,
                                                            dict[str, int], int]:
    """What the index-mode analyzers make of ``text``, as term counts: ``(words, number of
    word tokens, bigrams, number of bigram tokens)``; see :func:`index_term_counts_many`."""
    return index_term_counts_many([text], lexicon)[0]


def index_term_counts_many(texts: list[str], lexicon: Lexicon) -> list[tuple[dict, int,
                                                                            dict, int]]:
    """:func:`index_term_counts` of each text, analysed together.

    Equal to counting the tokens of :func:`WordAnalyzer` and :func:`BigramAnalyzer` (tested);
    the bulk segment writer uses it to analyse each paragraph once, without token objects. A
    batch is folded in one OpenCC pass and then segmented, rather than alternating between
    the two (each is faster while its tables stay in the processor's caches), and what a jieba
    token contributes (the word and its sub-words) is worked out once per distinct token.
    """
    jb = lexicon.jieba()
    memo = _token_terms_memo(lexicon)
    out = []
    for folded in fold_many(texts):
        terms: list[str] = []
        add = terms.extend
        for token in jb.cut(folded, HMM=True):  # what tokenize() yields, without offsets
            contributed = memo.get(token)
            if contributed is None:
                contributed = memo[token] = _token_terms(token, jb.FREQ)
            add(contributed)
        grams: Counter = Counter()
        ngrams = 0
        for m in _RUN_RE.finditer(folded):
            run = m.group()
            if m.group(1) is not None and len(run) > 1:
                grams.update(map(str.__add__, run[:-1], run[1:]))  # overlapping bigrams
                ngrams += len(run) - 1
            else:
                grams[run] += 1
                ngrams += 1
        out.append((Counter(terms), len(terms), grams, ngrams))
    return out


def _token_terms(token: str, freq: dict) -> tuple[str, ...]:
    """The ``words`` terms one jieba token adds in index mode: itself (unless it has no
    letter, digit or ideograph) and its dictionary sub-words."""
    if not _WORDCHAR_RE.search(token):
        return ()
    word = token.strip()
    return (word, *(sub for sub, _i in subwords(word, freq)))


_memos: dict[tuple, dict[str, tuple[str, ...]]] = {}


def _token_terms_memo(lexicon: Lexicon) -> dict[str, tuple[str, ...]]:
    memo = _memos.get(lexicon.entries)
    if memo is None or len(memo) > 1_000_000:
        memo = _memos[lexicon.entries] = {}
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
    for m in _RUN_RE.finditer(folded):
        s, e = m.span()
        if m.group(1) is not None and e - s > 1:
            for i in range(s, e - 1):
                yield folded[i:i + 2], i, i + 2
        else:
            yield folded[s:e], s, e


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
    return [t.text for t in BigramTokenizer()(text, mode="query")]


def folded_bigrams(folded: str) -> list[str]:
    """:func:`bigrams` of text that is already folded."""
    return [gram for gram, _s, _e in _bigram_spans(folded)]


def tokens_with_offsets(analyzer, text: str, mode: str = "index") -> Iterator[Token]:
    """Copies of the tokens of ``text`` (positions and offsets), for tests and highlighting."""
    for t in analyzer(text, positions=True, chars=True, mode=mode):
        yield t.copy()
