"""Suggestions as you type: a generation's completions, as sorted folded keys on disk.

At reindex time (full and incremental alike, by :func:`write_suggestions` once the data is
committed; a full rebuild counts them as it writes the documents, an update reads the committed
index) the titles, speakers, organisations and publishers of the live releases and the frequent
indexed words are counted, folded as the analyzers fold (:func:`search.script.fold`), and
written beside the Whoosh segments as ``suggest-<Whoosh generation>.npz``: the keys sorted by
their UTF-8 bytes (one blob and its offsets), the text shown for each, its kind and its rank
by frequency. A prefix is looked up by binary search over the keys (byte order is code point
order, so the keys that start with a prefix are one run), and the best ``limit`` of that run
are picked by rank with NumPy: no scan of the index.

The file is named for the Whoosh generation (table of contents) it was built from, so a
searcher never reads a file written for other data; a searcher that finds none (a reindex died
between its commit and this file) builds the same structure in memory from its own reader.
"""

from __future__ import annotations

import bisect
import io
import os
import re
import threading
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .models import SUGGESTION_KINDS
from .script import CJK_RE, fold, fold_many

#: Most keys of each kind kept (the most frequent).
MAX_KEYS_PER_KIND = 200_000
#: Longest text kept as a suggestion (a longer title is not typed out).
MAX_SUGGESTION_CHARS = 100
#: A word must occur in at least this many paragraphs to be suggested ("frequent").
MIN_WORD_PARAGRAPHS = 2
_FILE_RE = re.compile(r"^suggest-(\d+)\.npz$")
_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[a-z\u00c0-\u024f]")
#: Kinds by priority: when two kinds give the same key, the earlier one is kept.
_PRIORITY = {kind: i for i, kind in enumerate(SUGGESTION_KINDS)}


def normalize(text: str) -> str:
    """``text`` as a key: folded, white space collapsed to single spaces and trimmed."""
    return _SPACES.sub(" ", fold(text)).strip()


def file_name(whoosh_generation: int | None) -> str:
    """The suggestions file of a Whoosh generation (``suggest-3.npz``)."""
    return f"suggest-{whoosh_generation or 0}.npz"


# -- counting -------------------------------------------------------------------------------


class SuggestionCounts:
    """Occurrences of each key by kind, and how each key is spelled: counted from a reader
    (:func:`count_reader`), or by a full rebuild from the documents it writes
    (:meth:`add_fields`, in document order) and its ``words`` terms (:meth:`add_words`).
    Counted in the same order either way, so that ties rank alike."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter] = {kind: Counter() for kind in SUGGESTION_KINDS}
        self.spellings: dict[tuple[str, str], Counter] = defaultdict(Counter)
        self._shown: dict[str, Counter] = {kind: Counter() for kind in SUGGESTION_KINDS}

    def add(self, kind: str, text: object, n: int = 1) -> None:
        """Count ``text`` (folded later, all at once: :meth:`finish`)."""
        if not isinstance(text, str):
            return
        shown = _SPACES.sub(" ", text).strip()
        if shown and len(shown) <= MAX_SUGGESTION_CHARS:
            self._shown[kind][shown] += n

    def add_key(self, kind: str, key: str, n: int) -> None:
        """Count a text that is folded already (an indexed word), shown as it is."""
        self.counts[kind][key] += n
        self.spellings[(kind, key)][key] += n

    def add_fields(self, fields: dict) -> None:
        """Count one paragraph by its stored fields (or the document that stores them): the
        release's title and publisher on its head paragraph, the speaker, the organisation."""
        if "release" in fields:  # the head paragraph: the release's title and record
            self.add("title", fields.get("title"))
            record = fields.get("release")
            if isinstance(record, dict):
                self.add("publisher", record.get("publisher"))
        self.add("speaker", fields.get("speaker_name"))
        self.add("org", fields.get("organization"))

    def add_words(self, words: Iterable[tuple[str, int]]) -> None:
        """Count the indexed words ``(word, live paragraphs holding it)``, in byte order,
        that are frequent and suggestible."""
        for text, n in words:
            if (n >= MIN_WORD_PARAGRAPHS and len(text) <= MAX_SUGGESTION_CHARS
                    and _suggestible_word(text)):
                self.add_key("word", text, n)

    def finish(self) -> SuggestionCounts:
        """Fold what :meth:`add` counted, in OpenCC calls of many texts each."""
        for kind, shown in self._shown.items():
            texts = list(shown)
            for start in range(0, len(texts), FOLD_BATCH):
                batch = texts[start:start + FOLD_BATCH]
                for text, folded in zip(batch, fold_many(batch)):
                    key = _SPACES.sub(" ", folded).strip()
                    if key:
                        self.counts[kind][key] += shown[text]
                        self.spellings[(kind, key)][text] += shown[text]
            shown.clear()
        return self


#: Texts folded in one OpenCC call.
FOLD_BATCH = 2000


def _suggestible_word(word: str) -> bool:
    # a single character completes nothing; numbers alone are not topics
    return len(word) >= 2 and (CJK_RE.search(word) is not None or _LETTER.search(word) is not None)


def count_reader(reader, schema) -> SuggestionCounts:
    """Count the suggestions of the live documents of a Whoosh ``reader``."""
    c = SuggestionCounts()
    deleted: list[int] = []
    for docnum in range(reader.doc_count_all()):
        if reader.has_deletions() and reader.is_deleted(docnum):
            deleted.append(docnum)
            continue
        c.add_fields(reader.stored_fields(docnum))
    words: Counter = Counter()
    for term, info in reader.iter_field("words"):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        if info.doc_frequency() >= MIN_WORD_PARAGRAPHS:  # add_words checks the rest
            words[text] = info.doc_frequency()
    if deleted and words:
        # Deleted paragraphs stay counted in the term statistics until a merge: take off the
        # words each of them held, as its analyzer reads them (the same terms it was indexed by).
        analyzer = schema["words"].analyzer
        for docnum in deleted:
            text = reader.stored_fields(docnum).get("text") or ""
            for term in {t.text for t in analyzer(text, mode="index")}:
                if term in words:
                    words[term] -= 1
    c.add_words(words.items())
    return c.finish()


# -- the structure --------------------------------------------------------------------------


class Suggestions:
    """Sorted folded keys with their shown text, kind and rank (0 is the most frequent)."""

    def __init__(self, keys: bytes, key_offsets: np.ndarray, texts: bytes,
                 text_offsets: np.ndarray, kinds: np.ndarray, ranks: np.ndarray):
        self._keys = keys
        self._key_off = key_offsets.astype(np.int64).tolist()
        self._texts = texts
        self._text_off = text_offsets.astype(np.int64).tolist()
        self._kinds = kinds.astype(np.uint8)
        self._ranks = ranks.astype(np.int32)
        if not (len(self._key_off) == len(self._text_off) == len(kinds) + 1 == len(ranks) + 1):
            raise ValueError("inconsistent suggestion arrays")

    def __len__(self) -> int:
        return len(self._kinds)

    def _key(self, i: int) -> bytes:
        return self._keys[self._key_off[i]:self._key_off[i + 1]]

    def _text(self, i: int) -> str:
        return self._texts[self._text_off[i]:self._text_off[i + 1]].decode("utf-8")

    def lookup(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        """The best ``limit`` ``(text, kind)`` whose key starts with ``normalize(prefix)``."""
        key = normalize(prefix).encode("utf-8")
        if not key or limit < 1:
            return []
        keys = _KeyView(self)
        lo = bisect.bisect_left(keys, key)
        hi = bisect.bisect_left(keys, key + b"\xff", lo)  # 0xff never occurs in UTF-8
        if lo >= hi:
            return []
        ranks = self._ranks[lo:hi]
        if hi - lo > limit:
            best = np.argpartition(ranks, limit - 1)[:limit]
        else:
            best = np.arange(hi - lo)
        best = best[np.argsort(ranks[best], kind="stable")]
        return [(self._text(lo + int(i)), SUGGESTION_KINDS[int(self._kinds[lo + int(i)])])
                for i in best]

    # -- building and files ---------------------------------------------------------------

    @classmethod
    def from_counts(cls, c: SuggestionCounts) -> Suggestions:
        entries: dict[str, tuple[int, int, str]] = {}  # key -> (priority, count, text)
        for kind in SUGGESTION_KINDS:
            for key, n in c.counts[kind].most_common(MAX_KEYS_PER_KIND):
                text = c.spellings[(kind, key)].most_common(1)[0][0]
                known = entries.get(key)
                if known is None:
                    entries[key] = (_PRIORITY[kind], n, text)
                elif known[0] < _PRIORITY[kind]:  # keep the more specific kind, and the top count
                    entries[key] = (known[0], max(known[1], n), known[2])
        keys = sorted(entries, key=lambda k: k.encode("utf-8"))
        # rank: most frequent first, then by kind, shorter, and the key itself
        order = sorted(range(len(keys)), key=lambda i: (-entries[keys[i]][1], entries[keys[i]][0],
                                                        len(keys[i]), keys[i]))
        ranks = np.empty(len(keys), dtype=np.int32)
        ranks[np.asarray(order, dtype=np.int64)] = np.arange(len(keys), dtype=np.int32)
        key_bytes = [k.encode("utf-8") for k in keys]
        text_bytes = [entries[k][2].encode("utf-8") for k in keys]
        kinds = np.asarray([entries[k][0] for k in keys], dtype=np.uint8)
        return cls(b"".join(key_bytes), _offsets(key_bytes), b"".join(text_bytes),
                   _offsets(text_bytes), kinds, ranks)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, keys=np.frombuffer(self._keys, dtype=np.uint8),
                 key_offsets=np.asarray(self._key_off, dtype=np.int64),
                 texts=np.frombuffer(self._texts, dtype=np.uint8),
                 text_offsets=np.asarray(self._text_off, dtype=np.int64),
                 kinds=self._kinds, ranks=self._ranks)
        return buf.getvalue()

    @classmethod
    def load(cls, path: Path) -> Suggestions:
        """Read a suggestions file; OSError or ValueError if it is missing or damaged."""
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(z["keys"].tobytes(), z["key_offsets"], z["texts"].tobytes(),
                           z["text_offsets"], z["kinds"], z["ranks"])
        except (KeyError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(f"damaged suggestions file {path}") from exc


class _KeyView:
    """The keys as a sequence of bytes, for :mod:`bisect`."""

    def __init__(self, s: Suggestions):
        self._s = s

    def __len__(self) -> int:
        return len(self._s)

    def __getitem__(self, i: int) -> bytes:
        return self._s._key(i)


def _offsets(parts: list[bytes]) -> np.ndarray:
    off = np.zeros(len(parts) + 1, dtype=np.int64)
    if parts:
        np.cumsum([len(p) for p in parts], out=off[1:])
    return off


def build(searcher) -> Suggestions:
    """The suggestions of what a Whoosh searcher reads."""
    return Suggestions.from_counts(count_reader(searcher.reader(), searcher.schema))


def write_suggestions(generation: Path, indexname: str,
                      counts: SuggestionCounts | None = None) -> Path:
    """Build the suggestions of the committed index in ``generation`` and write them (write,
    fsync, rename) as the file of its Whoosh generation; the files of earlier Whoosh
    generations are removed (searchers that still read one build their own). ``counts``:
    what the full rebuild that wrote the index counted (:class:`SuggestionCounts`), the
    same as its reader would give, without reading it back."""
    import whoosh.index

    ix = whoosh.index.open_dir(str(generation), indexname=indexname)
    if counts is not None:
        data = Suggestions.from_counts(counts.finish()).to_bytes()
        name = file_name(ix.latest_generation())
    else:
        with ix.searcher() as s:
            data = build(s).to_bytes()
            name = file_name(s.reader().generation())
    target = generation / name
    tmp = generation / (name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for p in generation.iterdir():
        m = _FILE_RE.match(p.name)
        if (m and p.name != name) or p.name.startswith("suggest-") and p.name.endswith(".tmp"):
            p.unlink(missing_ok=True)
    return target


class SuggestionSource:
    """The suggestions of one opened generation, read (or built) on first use; thread-safe."""

    def __init__(self, path: Path, searcher, io_lock: threading.RLock):
        self._path = path
        self._searcher = searcher
        self._io = io_lock
        self._lock = threading.Lock()
        self._value: Suggestions | None = None

    def get(self) -> Suggestions:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._read()
        return self._value

    def _read(self) -> Suggestions:
        with self._io:
            name = file_name(self._searcher.reader().generation())
        try:
            return Suggestions.load(self._path / name)
        except (OSError, ValueError):
            with self._io:  # missing or damaged: the same structure, from our own reader
                return build(self._searcher)
