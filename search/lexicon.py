"""The jieba dictionary an index segments with: the user dictionary's words (:class:`Lexicon`,
picklable with the schema), the process's one jieba tokenizer per dictionary, loaded from our
own cache of jieba's prefix dictionary, and the segmenter over it (:meth:`Lexicon.cut`,
:mod:`search.segmenting`).
"""

from __future__ import annotations

import array
import hashlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import SourceError
from .script import fold
from .segmenting import segmenter


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

jieba.setLogLevel(logging.WARNING)


# --- jieba, once per process and dictionary ---------------------------------------------------

_jieba_lock = threading.Lock()
_jieba_instances: dict[tuple, jieba.Tokenizer] = {}
_segmenters: dict[tuple, tuple[int, Callable[[str], list[str]]]] = {}


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

    def cut(self, text: str) -> list[str]:
        """jieba's precise-mode tokens of ``text`` (HMM on), as ``jieba().cut(text)`` gives
        them, from :func:`search.segmenting.segmenter` (the same tokens, faster)."""
        tok = self.jieba()
        made = _segmenters.get(self.entries)
        if made is None or made[0] != tok.total:  # new, or words added to the tokenizer since
            with _jieba_lock:
                made = _segmenters[self.entries] = (tok.total, segmenter(tok.FREQ, tok.total))
        return made[1](text)

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
