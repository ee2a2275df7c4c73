"""One opened generation of the index: its Whoosh searcher, dictionary, postings and columns,
and the caches of what queries read from it (phrase masks, paragraphs).

A :class:`Generation` reads the segments the generation had when it was opened; an
incremental reindex committed later is seen by opening it again. So nothing it reads changes
while it is open, and whatever it computes can be cached until it is closed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import whoosh.index
from whoosh.query import Term

from . import storage
from .analysis import bigrams, folded_bigrams
from .errors import IndexCorruptError
from .lexicon import Lexicon
from .models import SECTIONS
from .postings import Postings
from .schema import ReleaseRecord
from .scoring import SECTION_FACTOR
from .script import CJK_RUN_RE, fold, fold_many

PHRASE_CACHE = 128  # phrase masks kept per generation
PARAGRAPH_CACHE = 4096  # stored fields and folded texts kept per generation


class LRU:
    """A mapping of at most ``size`` entries that forgets the least recently used first
    (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        """The value of ``key`` (now the most recently used), or ``default``."""
        with self._lock:
            if key not in self._items:
                return default
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key, value) -> None:
        """Store ``value`` as the most recently used, forgetting the oldest beyond ``size``."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class Generation:
    """One opened generation of the index (raises IndexCorruptError if it cannot be read).

    Its data never changes once opened and its caches are thread-safe.
    :class:`search.searcher.Index` uses it under its lock all the same, so that a reload can
    close the generation it replaces at once.
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            ix = whoosh.index.open_dir(str(path), indexname=storage.INDEX_NAME)
            self.searcher = ix.searcher()
        except Exception as exc:  # Whoosh raises many kinds on damaged files
            raise IndexCorruptError.unreadable(f"open the index in {path}", path, exc) from None
        self.closed = False
        self.lexicon: Lexicon = ix.schema["words"].analyzer[0].lexicon
        self.postings = Postings(self.searcher.reader(), where=str(path))
        self._lock = threading.Lock()
        self._doc_ids: list | None = None
        self._phrases = LRU(PHRASE_CACHE)  # (needle, grams) -> mask
        self._paragraphs = LRU(PARAGRAPH_CACHE)  # docnum -> (stored fields, folded text)
        # Whoosh opens per-document files lazily; open them now, while they surely exist (an
        # incremental reindex may merge and delete this generation's segments later).
        try:
            for name in ("words", "bigrams", "title"):
                self.postings.lengths(name)
            #: Score factor of each paragraph by its section.
            self.section_factors = np.array(
                [SECTION_FACTOR.get(s, 1.0) for s in self.column("section")], dtype=np.float32)
            if self.postings.n:
                self.searcher.stored_fields(0)
        except IndexCorruptError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise IndexCorruptError.unreadable(f"read the index in {path}", path, exc) from None

    @property
    def name(self) -> str:
        """The generation's directory name (``g000001``)."""
        return self.path.name

    def up_to_date(self) -> bool:
        """False once a reindex has committed to this generation since it was opened."""
        return self.searcher.up_to_date()

    def close(self) -> None:
        """Close the files (never raises)."""
        self.closed = True
        try:
            self.searcher.close()
        except Exception:
            pass

    # -- columns and stored fields --------------------------------------------------------

    def column(self, name: str) -> list:
        """The values of a sortable field, by document number."""
        reader = self.searcher.reader()
        if not reader.doc_count_all():  # no segment yet (zero releases): nothing to read
            return []
        try:
            return list(reader.column_reader(name))
        except Exception as exc:  # damaged column file
            raise IndexCorruptError.unreadable(
                f"read the {name} column in {self.path}", self.path, exc) from None

    def doc_ids(self) -> list:
        """The release id of each document number (read once)."""
        if self._doc_ids is None:
            ids = self.column("doc_id")
            with self._lock:
                if self._doc_ids is None:
                    self._doc_ids = ids
        return self._doc_ids

    def stored(self, docnum: int) -> dict:
        """The stored fields of one paragraph."""
        try:
            return self.searcher.stored_fields(docnum)
        except Exception as exc:  # damaged stored-fields column
            raise IndexCorruptError.unreadable(
                f"read stored fields in {self.path}", self.path, exc) from None

    def paragraphs(self, docnums: list[int]) -> list[tuple[dict, str]]:
        """``(stored fields, folded text)`` of each paragraph, through an LRU (the top of a
        ranking is read by the re-ranking, the hits and the next query alike); the paragraphs
        not cached are folded in one pass."""
        found = {}
        missing = []
        for d in dict.fromkeys(docnums):
            cached = self._paragraphs.get(d)
            if cached is None:
                missing.append(d)
            else:
                found[d] = cached
        if missing:
            fields = [self.stored(d) for d in missing]
            folded = fold_many([f.get("text", "") for f in fields])
            for d, f, text in zip(missing, fields, folded):
                found[d] = (f, text)
                self._paragraphs.put(d, found[d])
        return [found[d] for d in docnums]

    def head(self, docnum: int) -> dict:
        """The stored fields of the head paragraph (title, release record) of the release of
        paragraph ``docnum``."""
        head = int(self.postings.head_of[docnum]) if self.postings.n else docnum
        return self.paragraphs([head])[0][0]

    def title(self, docnum: int) -> str:
        """The title of the release of paragraph ``docnum``."""
        return self.head(docnum).get("title", "")

    def rows(self, doc_id: str) -> list[dict]:
        """The stored fields of every paragraph of release ``doc_id``, in paragraph order."""
        rows = list(self.searcher.documents(doc_id=doc_id)) if doc_id else []
        rows.sort(key=lambda r: r["paragraph"])
        return rows

    def manifest(self) -> dict[str, ReleaseRecord]:
        """``doc_id -> release record``."""
        return {r["doc_id"]: ReleaseRecord.from_stored(r.get("release"))
                for r in self.searcher.documents(head="1")}

    def counts(self) -> tuple[int, int, dict[str, int]]:
        """Live releases, live paragraphs and live paragraphs per section (those with any)."""
        # Whoosh's searcher skips deleted documents, which linger until a merge.
        docs = self.searcher.docs_for_query
        sections = {sec: len(set(docs(Term("section", sec)))) for sec in SECTIONS}
        releases = len(set(docs(Term("head", "1"))))
        return releases, self.searcher.doc_count(), {k: v for k, v in sections.items() if v}

    # -- masks: boolean vectors over document numbers -------------------------------------

    def term_mask(self, fieldname: str, value: str) -> np.ndarray:
        """The live paragraphs whose ``fieldname`` holds ``value``."""
        m = np.zeros(self.postings.n, dtype=bool)
        docs = list(self.searcher.docs_for_query(Term(fieldname, value)))
        if docs:
            m[np.asarray(docs, dtype=np.int64)] = True
        return m

    def field_mask(self, name: str, values: list[str]) -> np.ndarray:
        """The paragraphs that any of ``values`` of the query filter ``name`` allows."""
        fieldname = {"doc": "doc_id"}.get(name, name)
        m = np.zeros(self.postings.n, dtype=bool)
        for v in values:
            m |= self.term_mask(fieldname, fold(v) if name == "speaker" else v)  # stored folded
        return m

    def all_bigrams(self, grams: list[str]) -> np.ndarray:
        """Paragraphs that have every one of ``grams``."""
        p = self.postings
        mask = np.zeros(p.n, dtype=bool)
        if not grams:
            return mask
        mask[p.scores("bigrams", grams[0])[0]] = True
        for g in grams[1:]:
            if not mask.any():
                break
            mask &= p.mask(p.scores("bigrams", g)[0])
        return mask

    def concept_mask(self, word: str) -> np.ndarray:
        """Paragraphs that contain ``word``: as a jieba word, or all of its bigrams."""
        p = self.postings
        return p.mask(p.scores("words", word)[0]) | self.all_bigrams(bigrams(word))

    def phrase_mask(self, folded: str, grams: list[str]) -> np.ndarray:
        """Paragraphs holding the phrase (folded text ``folded``, bigram tokens ``grams``):
        those with all its bigrams, checked on their stored text (the index keeps no
        positions). Cached."""
        needle = folded.strip()
        key = (needle, tuple(grams))  # the text decides how it is checked
        cached = self._phrases.get(key)
        if cached is not None:
            return cached
        mask = self.all_bigrams(grams)
        if len(grams) > 1:
            candidates = np.flatnonzero(mask)
            texts = [self.stored(int(d)).get("text", "") for d in candidates]
            if CJK_RUN_RE.fullmatch(needle):  # one run of ideographs: a substring test
                # Most paragraphs match as stored; only the others need folding.
                unsure = [i for i, t in enumerate(texts) if needle not in t]
                for i, f in zip(unsure, fold_many([texts[i] for i in unsure])):
                    if needle not in f:
                        mask[candidates[i]] = False
            else:
                for d, f in zip(candidates, fold_many(texts)):
                    if not contains_run(folded_bigrams(f), grams):
                        mask[d] = False
        self._phrases.put(key, mask)
        return mask


def contains_run(tokens: list[str], run: list[str]) -> bool:
    """True if ``run`` occurs in ``tokens`` as consecutive items."""
    n = len(run)
    first = run[0]
    for i in range(len(tokens) - n + 1):
        if tokens[i] == first and tokens[i:i + n] == run:
            return True
    return False
