"""One opened generation of the index: its Whoosh searcher, dictionary, postings and columns,
and the caches of what queries read from it (phrase verdicts, paragraphs).

A :class:`Generation` reads the segments the generation had when it was opened; an
incremental reindex committed later is seen by opening it again. So nothing it reads changes
while it is open, and whatever it computes can be cached until it is closed.

Searches use a generation without any index-wide lock, several at once: every read of
Whoosh's files goes through one lock of the generation (Whoosh's files are read with
seek-then-read, which two threads must not interleave), held only for that read; the caches
are thread-safe. :class:`search.searcher.Index` counts the searches using a generation
(:meth:`Generation.acquire` / :meth:`Generation.release`), so one it replaces is closed when
its last search ends.
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
from .columns import Columns
from .errors import IndexCorruptError
from .highlight import EXAMINED_CHARS
from .indexer import FORMAT
from .lexicon import Lexicon
from .models import SECTIONS
from .postings import Postings
from .schema import ReleaseRecord
from .scoring import SECTION_FACTOR
from .statistics import CollectionStats
from .script import CJK_RUN_RE, fold_many
from .suggest import SuggestionSource

PHRASE_CACHE = 128  # phrases whose verdicts are kept per generation
PARAGRAPH_CACHE = 4096  # stored fields and folded texts kept per generation
MAX_VERDICTS = 2048  # verdicts kept per phrase
RELEASE_CACHE = 16  # releases whose document numbers are kept per generation
#: Characters folded in one OpenCC call (at least one paragraph's first EXAMINED_CHARS):
#: OpenCC keeps Python's interpreter lock for a whole call, so other threads' searches wait
#: for one batch at most (a few milliseconds).
FOLD_BATCH_CHARS = 20_000


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

    def setdefault(self, key, value):
        """The value of ``key`` if present, else ``value`` stored (either way the most recently
        used)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return value


class Generation:
    """One opened generation of the index (raises IndexCorruptError if it cannot be read).

    Its data never changes once opened, its caches are thread-safe and any number of threads
    may search it at once.
    """

    def __init__(self, path: Path):
        self.path = path
        #: Held for each read of Whoosh's files (see the module's docstring).
        self._io = threading.RLock()
        self._lock = threading.Lock()  # the use count and the lazily read columns
        self._users = 0
        self.retired = False  # no new search may start on it (it was replaced or closed)
        self.closed = False  # its files are closed
        _check_format(path)
        try:
            ix = whoosh.index.open_dir(str(path), indexname=storage.INDEX_NAME)
            self.searcher = ix.searcher()
        except Exception as exc:  # Whoosh raises many kinds on damaged files
            raise IndexCorruptError.unreadable(f"open the index in {path}", path, exc) from None
        self.lexicon: Lexicon = ix.schema["words"].analyzer[0].lexicon
        self.postings = Postings(self.searcher.reader(), where=str(path))
        self._doc_ids: list | None = None
        self._tie_order: np.ndarray | None = None
        self._verdicts = LRU(PHRASE_CACHE)  # (needle, grams) -> verdicts
        self._paragraphs = LRU(PARAGRAPH_CACHE)  # docnum -> (stored fields, folded text)
        self._releases = LRU(RELEASE_CACHE)  # doc_id -> its document numbers, in order
        self._suggestions = SuggestionSource(path, self.searcher, self._io)
        # Whoosh opens per-document files lazily; open them now, while they surely exist (an
        # incremental reindex may merge and delete this generation's segments later).
        try:
            for name in ("words", "bigrams", "title"):
                self.postings.lengths(name)
            #: Dates, publishers, organisations, speakers and sections as arrays (read as
            #: bytes: the codes decode each distinct value once).
            self.columns = Columns(lambda name: self.column(name, raw=True), self.postings.n)
            sections = self.columns.coded["section"]
            #: Score factor of each paragraph by its section.
            self.section_factors = np.array(
                [SECTION_FACTOR.get(s, 1.0) for s in sections.labels],
                dtype=np.float32)[sections.codes]
            if self.postings.n:
                self.searcher.stored_fields(0)
        except IndexCorruptError:
            self._close_files()
            raise
        except Exception as exc:
            self._close_files()
            raise IndexCorruptError.unreadable(f"read the index in {path}", path, exc) from None

    @property
    def name(self) -> str:
        """The generation's directory name (``g000001``)."""
        return self.path.name

    def up_to_date(self) -> bool:
        """False once a reindex has committed to this generation since it was opened."""
        with self._io:
            return self.searcher.up_to_date()

    # -- use count ------------------------------------------------------------------------

    def acquire(self) -> None:
        """Count one more search using this generation (it stays open until released)."""
        with self._lock:
            self._users += 1

    def release(self) -> None:
        """The search counted by :meth:`acquire` has ended; close the files if the generation
        was retired and this was its last search."""
        with self._lock:
            self._users -= 1
            last = self.retired and self._users == 0
        if last:
            self._close_files()

    def retire(self) -> None:
        """Start no new search on this generation; close it now if none is running, else when
        the last one ends."""
        with self._lock:
            self.retired = True
            idle = self._users == 0
        if idle:
            self._close_files()

    def close(self) -> None:
        """Retire the generation (never raises)."""
        self.retire()

    def _close_files(self) -> None:
        with self._io:
            if self.closed:
                return
            self.closed = True
            try:
                self.searcher.close()
            except Exception:
                pass

    # -- columns and stored fields --------------------------------------------------------

    def column(self, name: str, raw: bool = False) -> list:
        """The values of a sortable field, by document number (with ``raw``, as the column
        stores them: bytes for text)."""
        reader = self.searcher.reader()
        try:
            with self._io:
                if not reader.doc_count_all():  # no segment yet (zero releases): nothing to read
                    return []
                # Segment by segment: a multi-segment reader's column skips the segments
                # without one (no document of theirs gave the field a value), which would shift
                # the values after them; a segment's own reader gives its default instead.
                values: list = []
                for leaf, _offset in reader.leaf_readers():
                    values.extend(leaf.column_reader(name, translate=not raw))
                return values
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
            with self._io:
                return self.searcher.stored_fields(docnum)
        except Exception as exc:  # damaged stored-fields column
            raise IndexCorruptError.unreadable(
                f"read stored fields in {self.path}", self.path, exc) from None

    def paragraphs(self, docnums: list[int]) -> list[tuple[dict, str]]:
        """``(stored fields, folded text)`` of each paragraph, through an LRU (the top of a
        ranking is read by the re-ranking, the hits and the next query alike); the folded text
        is that of the first :data:`~search.highlight.EXAMINED_CHARS` characters (all that
        matching looks at); the paragraphs not cached are folded in batches (FOLD_BATCH_CHARS)."""
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
            folded = fold_batches([f.get("text", "")[:EXAMINED_CHARS] for f in fields])
            for d, f, text in zip(missing, fields, folded):
                found[d] = (f, text)
                self._paragraphs.put(d, found[d])
        return [found[d] for d in docnums]

    def paragraph_number(self, docnum: int) -> int:
        """The number of paragraph ``docnum`` in its release (the title is 1): a release's
        paragraphs are consecutive document numbers, head first, numbered from 1 without gaps
        (see :mod:`search.schema`), so no stored field needs reading."""
        return docnum - int(self.postings.head_of[docnum]) + 1

    def head(self, docnum: int) -> dict:
        """The stored fields of the head paragraph (title, release record) of the release of
        paragraph ``docnum``."""
        head = int(self.postings.head_of[docnum]) if self.postings.n else docnum
        return self.paragraphs([head])[0][0]

    def title(self, docnum: int) -> str:
        """The title of the release of paragraph ``docnum``."""
        return self.head(docnum).get("title", "")

    def release_docnums(self, doc_id: str) -> np.ndarray:
        """The document numbers of release ``doc_id``'s live paragraphs, head first (they are
        consecutive and in paragraph order: see :mod:`search.schema`); empty if unknown."""
        if not doc_id:
            return np.zeros(0, dtype=np.int32)
        cached = self._releases.get(doc_id)
        if cached is None:
            try:
                with self._io:
                    docs = list(self.searcher.docs_for_query(Term("doc_id", doc_id)))
            except Exception as exc:
                raise IndexCorruptError.unreadable(
                    f"read the postings of {self.path}", self.path, exc) from None
            cached = np.sort(np.asarray(docs, dtype=np.int32))
            self._releases.put(doc_id, cached)
        return cached

    def rows(self, doc_id: str, start: int = 0, stop: int | None = None) -> list[dict]:
        """The stored fields of paragraphs ``start:stop`` (0-based, in paragraph order) of
        release ``doc_id``."""
        docs = self.release_docnums(doc_id)[start:stop]
        rows = [self.stored(int(d)) for d in docs]
        rows.sort(key=lambda r: r["paragraph"])
        return rows

    def suggest(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        """The best ``limit`` completions ``(text, kind)`` of ``prefix`` (see
        :mod:`search.suggest`)."""
        try:
            suggestions = self._suggestions.get()
        except Exception as exc:  # Whoosh raises many kinds on damaged files
            raise IndexCorruptError.unreadable(
                f"read the suggestions of {self.path}", self.path, exc) from None
        return suggestions.lookup(prefix, limit)

    def manifest(self) -> dict[str, ReleaseRecord]:
        """``doc_id -> release record``."""
        with self._io:
            return {r["doc_id"]: ReleaseRecord.from_stored(r.get("release"))
                    for r in self.searcher.documents(head="1")}

    def counts(self) -> tuple[int, int, dict[str, int]]:
        """Live releases, live paragraphs and live paragraphs per section (those with any)."""
        # Whoosh's searcher skips deleted documents, which linger until a merge.
        with self._io:
            docs = self.searcher.docs_for_query
            sections = {sec: len(set(docs(Term("section", sec)))) for sec in SECTIONS}
            releases = len(set(docs(Term("head", "1"))))
            return releases, self.searcher.doc_count(), {k: v for k, v in sections.items() if v}

    # -- masks: boolean vectors over document numbers -------------------------------------

    def scores(self, fieldname: str, text: str, stats=None) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and BM25 scores of one term (see :meth:`Postings.scores`; with
        ``stats``, the collection statistics of a sharded index)."""
        with self._io:
            return self.postings.scores(fieldname, text, stats)

    def stats(self, terms) -> CollectionStats:
        """This generation's collection statistics of ``terms`` ((field, term) pairs)."""
        with self._io:
            return self.postings.stats(terms)

    def tie_order(self) -> np.ndarray:
        """Each document number's place in the order ties are ranked in: by release id, then
        paragraph (a release's paragraphs are consecutive, in order). Content, not build
        history, decides it, so a sharded index ranks ties as one index does (read once)."""
        if self._tie_order is None:
            n = self.postings.n
            ids = np.asarray(self.doc_ids(), dtype=object)
            order = np.empty(n, dtype=np.int64)
            if n:
                _unique, rank = np.unique(ids, return_inverse=True)
                order[np.lexsort((np.arange(n), rank.reshape(-1)))] = np.arange(n)
            with self._lock:
                if self._tie_order is None:
                    self._tie_order = order
        return self._tie_order

    def release_scores(self, fieldname: str, text: str, stats=None
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The releases (positions in ``postings.heads``) holding one term and its BM25 scores,
        each release taken as one document (see :meth:`Postings.release_scores`; with
        ``stats``, the collection statistics of a sharded index)."""
        with self._io:
            return self.postings.release_scores(fieldname, text, stats)

    def idf(self, fieldname: str, text: str, stats=None) -> float:
        """The IDF of one term (see :meth:`Postings.idf`; with ``stats``, a sharded index's)."""
        with self._io:
            return self.postings.idf(fieldname, text, stats)

    def term_mask(self, fieldname: str, value: str) -> np.ndarray:
        """The live paragraphs whose ``fieldname`` holds ``value``."""
        m = np.zeros(self.postings.n, dtype=bool)
        with self._io:
            docs = list(self.searcher.docs_for_query(Term(fieldname, value)))
        if docs:
            m[np.asarray(docs, dtype=np.int64)] = True
        return m

    def field_mask(self, name: str, values: list[str]) -> np.ndarray:
        """The paragraphs that any of ``values`` of the query filter ``name`` allows (a
        ``date`` value is a range of days, ``"yyyymmdd..yyyymmdd"``)."""
        if name == "date":
            m = np.zeros(self.postings.n, dtype=bool)
            for v in values:
                first, _, last = v.partition("..")
                m |= self.columns.day_mask(int(first), int(last))
            return m
        if name in ("speaker", "publisher", "org"):  # compared folded, from the columns
            return self.columns.value_mask(name, values)
        fieldname = {"doc": "doc_id"}.get(name, name)
        m = np.zeros(self.postings.n, dtype=bool)
        for v in values:
            m |= self.term_mask(fieldname, v)
        return m

    def all_bigrams(self, grams: list[str]) -> np.ndarray:
        """Paragraphs that have every one of ``grams``."""
        p = self.postings
        mask = np.zeros(p.n, dtype=bool)
        if not grams:
            return mask
        mask[self.scores("bigrams", grams[0])[0]] = True
        for g in grams[1:]:
            if not mask.any():
                break
            mask &= p.mask(self.scores("bigrams", g)[0])
        return mask

    def concept_mask(self, word: str) -> np.ndarray:
        """Paragraphs that contain ``word``: as a jieba word, or all of its bigrams."""
        return self.postings.mask(self.scores("words", word)[0]) | self.all_bigrams(bigrams(word))

    # -- phrases: checked on the stored text (the index keeps no positions) ---------------

    def check_phrase(self, folded: str, grams: list[str], docnums: np.ndarray,
                     max_paragraphs: int, max_chars: int) -> tuple[np.ndarray, int]:
        """Whether each of the first paragraphs of ``docnums`` (candidates holding all of
        ``grams``) holds the phrase (folded text ``folded``, bigram tokens ``grams``); as many
        are checked, in order, as fit in ``max_paragraphs`` paragraphs and ``max_chars``
        characters of text (each paragraph counted up to EXAMINED_CHARS, all that is looked
        at), so the answer may be shorter than ``docnums``. A phrase that is one run of
        ideographs must be a substring of the folded text, any other its bigram tokens in a
        row. Also returns the characters counted. Verdicts are cached with what each check
        counted, so a cached answer is the same as a fresh one."""
        needle = folded.strip()
        key = (needle, tuple(grams))  # the text decides how it is checked
        # docnum -> cost if the paragraph holds the phrase, else -1 - cost
        verdicts: dict[int, int] = self._verdicts.setdefault(key, {})
        substring = CJK_RUN_RE.fullmatch(needle) is not None
        holds: list[bool] = []
        chars = 0
        unsure: list[tuple[int, int, str]] = []  # (position, cost, stored text) to fold
        fresh: dict[int, int] = {}
        for d in docnums[:max_paragraphs].tolist():
            known = verdicts.get(d)
            if known is not None:
                cost = known if known >= 0 else -1 - known
                if chars + cost > max_chars:
                    break
                chars += cost
                holds.append(known >= 0)
                continue
            cached = self._paragraphs.get(d)
            text = (cached[0] if cached is not None else self.stored(d)).get("text", "")
            cost = min(len(text), EXAMINED_CHARS)
            if chars + cost > max_chars:
                break
            chars += cost
            if cached is not None:  # folded already
                found = _holds(cached[1], needle, grams, substring)
            elif substring and needle in text[:EXAMINED_CHARS]:
                found = True  # most paragraphs match as stored: only the others need folding
            else:
                unsure.append((len(holds), cost, text[:EXAMINED_CHARS]))
                holds.append(False)
                continue
            holds.append(found)
            fresh[d] = cost if found else -1 - cost
        for (pos, cost, _text), f in zip(unsure, fold_batches([t for _p, _c, t in unsure])):
            holds[pos] = _holds(f, needle, grams, substring)
            fresh[int(docnums[pos])] = cost if holds[pos] else -1 - cost
        if len(verdicts) < MAX_VERDICTS:  # a bounded cache: later verdicts are recomputed
            verdicts.update(fresh)
        return np.asarray(holds, dtype=bool), chars


def _check_format(path: Path) -> None:
    """Raise IndexCorruptError if the generation was written in another index format (its
    columns would be missing): one full rebuild makes it current."""
    try:
        built = storage.read_meta(path).get("fingerprint")
    except IndexCorruptError:
        return  # no readable meta.json: what opening the index finds is reported
    old = built.get("format") if isinstance(built, dict) else None
    if old is not None and old != FORMAT:
        raise IndexCorruptError(
            f"the index in {path} has format {old}, this version reads format {FORMAT}: "
            f"a full rebuild is needed once; run `release-search reindex --full`", str(path))


def fold_batches(texts: list[str]) -> list[str]:
    """``fold_many(texts)``, in OpenCC calls of about FOLD_BATCH_CHARS characters each."""
    out: list[str] = []
    batch: list[str] = []
    size = 0
    for text in texts:
        if batch and size + len(text) > FOLD_BATCH_CHARS:
            out.extend(fold_many(batch))
            batch, size = [], 0
        batch.append(text)
        size += len(text)
    if batch:
        out.extend(fold_many(batch))
    return out


def _holds(folded_text: str, needle: str, grams: list[str], substring: bool) -> bool:
    if substring:
        return needle in folded_text
    return contains_run(folded_bigrams(folded_text), grams)


def contains_run(tokens: list[str], run: list[str]) -> bool:
    """True if ``run`` occurs in ``tokens`` as consecutive items."""
    n = len(run)
    first = run[0]
    for i in range(len(tokens) - n + 1):
        if tokens[i] == first and tokens[i:i + n] == run:
            return True
    return False
