"""Integrity check of an index directory (``release-search check``).

:func:`check_index` never raises for a damaged index: every problem it finds becomes one line of
:attr:`CheckReport.problems` that names the file at fault and how to fix it. It verifies, in order:

1. ``CURRENT`` names an existing generation;
2. the generation's ``meta.json`` is readable;
3. the Whoosh table of contents (``_MAIN_<n>.toc``) is readable;
4. every segment file opens and all its stored fields and postings can be read;
5. the engine itself opens the index (:func:`search.searcher.open_index`);
6. the counts of releases and paragraphs equal those recorded in ``meta.json``;
7. every release record (the stored ``release`` of the paragraph marked ``head``) has a content
   hash (64 hexadecimal digits) and a paragraph count ``N``, and its release's paragraphs are
   numbered exactly ``1..N``.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import storage
from .errors import SearchError

#: What to run when the index is damaged.
FIX = "run `release-search reindex --full` to rebuild it"
#: How many problems :meth:`CheckReport.summary` lists before summing up the rest.
SUMMARY_PROBLEMS = 20

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class CheckReport:
    """The outcome of :func:`check_index`."""

    ok: bool
    index_dir: str
    generation: str | None = None
    releases: int = 0
    paragraphs: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A human-readable report: one line when the index is fine, the problems otherwise."""
        where = f"{self.index_dir} (generation {self.generation or 'none'})"
        if self.ok:
            return (f"index OK: {where}: {self.releases} releases, {self.paragraphs} paragraphs; "
                    "every release has its content hash and all its paragraphs")
        lines = [f"index DAMAGED: {where}: {len(self.problems)} "
                 f"problem{'s' if len(self.problems) != 1 else ''}"]
        lines += [f"  - {p}" for p in self.problems[:SUMMARY_PROBLEMS]]
        if len(self.problems) > SUMMARY_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - SUMMARY_PROBLEMS} more")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The report as plain JSON-serialisable data."""
        return asdict(self)


def check_index(index_dir: str | os.PathLike) -> CheckReport:
    """Check the index in ``index_dir``; never raises for a missing or damaged index."""
    report = CheckReport(ok=False, index_dir=str(index_dir))
    problems = report.problems
    try:
        gen = storage.current_generation(index_dir)
    except SearchError as exc:  # IndexNotFoundError / IndexCorruptError: both name CURRENT
        problems.append(str(exc))
        return report
    report.generation = gen.name

    meta: dict | None = None
    try:
        meta = storage.read_meta(gen)
    except SearchError as exc:
        problems.append(str(exc))

    docs = _read_segments(gen, problems)
    if docs is None:
        return report
    if not problems:
        _check_engine_opens(Path(index_dir), problems)

    live_docs, head_docs = docs
    report.paragraphs = len(live_docs)
    report.releases = sum(1 for f in live_docs if f.get("release") is not None)
    if meta is not None:
        _check_counts(gen, meta, report)
    _check_releases(gen, live_docs, head_docs, problems)
    report.ok = not problems
    return report


# ------------------------------------------------------------------------------ reading


def _read_segments(gen: Path, problems: list[str]) -> tuple[list[dict], int] | None:
    """All live stored documents of the generation and the number of ``head`` postings.

    Reads every segment on its own so that a damaged one is named; returns None (after
    recording the problem) when the table of contents or a segment cannot be read.
    """
    from whoosh.index import TOC
    from whoosh.reading import SegmentReader

    tocs = sorted(gen.glob(f"_{storage.INDEX_NAME}_*.toc"),
                  key=lambda p: _toc_number(p.name))
    if not tocs:
        problems.append(f"{gen} has no Whoosh table of contents (_{storage.INDEX_NAME}_*.toc); "
                        f"{FIX}")
        return None
    toc_path = tocs[-1]
    store = _ClosingStorage(str(gen))
    try:
        toc = TOC.read(store, storage.INDEX_NAME)
    except Exception as exc:  # Whoosh raises many kinds (pickle, EOF, struct...) on bad bytes
        problems.append(f"{toc_path} is damaged ({_why(exc)}); {FIX}")
        return None
    finally:
        store.close_all()

    docs: list[dict] = []
    heads = 0
    for segment in toc.segments:
        names = segment.list_files(store)
        shown = (str(gen / names[0]) if len(names) == 1
                 else f"{gen / segment.segment_id()}.* ({len(names)} files)")
        if not names:
            problems.append(f"{gen / segment.segment_id()}.seg is missing; {FIX}")
            return None
        try:
            reader = SegmentReader(store, toc.schema, segment)
            try:
                docs.extend(f for f in reader.all_stored_fields())
                for fieldname in reader.indexed_field_names():
                    for text in reader.lexicon(fieldname):
                        reader.postings(fieldname, text).all_ids()
                if ("head", b"1") in reader:
                    heads += sum(1 for d in reader.postings("head", b"1").all_ids()
                                 if not reader.is_deleted(d))
            finally:
                reader.close()
        except Exception as exc:  # a truncated or overwritten segment file
            problems.append(f"{shown} is damaged ({_why(exc)}); {FIX}")
            return None
        finally:
            store.close_all()
    return docs, heads


def _closing_storage_class():
    from whoosh.filedb.filestore import FileStorage

    class ClosingStorage(FileStorage):
        """A FileStorage that remembers the files it opened, so that they can all be closed
        even when Whoosh gives up half-way through reading a damaged file."""

        def __init__(self, path: str) -> None:
            super().__init__(path, readonly=True)
            self._opened: list = []

        def open_file(self, name, **kwargs):
            f = super().open_file(name, **kwargs)
            self._opened.append(f)
            return f

        def close_all(self) -> None:
            for f in self._opened:
                if not f.is_closed:
                    try:
                        f.close()
                    except Exception:  # already half-closed by Whoosh
                        pass
            self._opened.clear()

    return ClosingStorage


def _ClosingStorage(path: str):  # noqa: N802  (a factory standing in for the class)
    return _closing_storage_class()(path)


def _check_engine_opens(index_dir: Path, problems: list[str]) -> None:
    from .searcher import open_index

    try:
        ix = open_index(index_dir, reload_interval=3600)
    except SearchError as exc:
        problems.append(str(exc))
        return
    ix.close()


# ------------------------------------------------------------------------------ checks


def _check_counts(gen: Path, meta: dict, report: CheckReport) -> None:
    for name, actual in (("releases", report.releases), ("paragraphs", report.paragraphs)):
        recorded = meta.get(name)
        if recorded != actual:
            report.problems.append(
                f"{gen / storage.META} records {recorded!r} {name} but the index holds "
                f"{actual}; {FIX}")


def _check_releases(gen: Path, live_docs: list[dict], heads: int, problems: list[str]) -> None:
    numbers: dict[str, list[int]] = defaultdict(list)
    records: dict[str, list[dict]] = defaultdict(list)
    for f in live_docs:
        doc_id = f.get("doc_id")
        if not isinstance(doc_id, str) or not doc_id:
            problems.append(f"{gen}: a paragraph has no doc_id ({f.get('pid')!r}); {FIX}")
            continue
        numbers[doc_id].append(f.get("paragraph"))
        if f.get("release") is not None:
            records[doc_id].append(f["release"])
    n_records = sum(len(r) for r in records.values())
    if heads != n_records:
        problems.append(f"{gen}: {heads} paragraphs are marked head but {n_records} carry a "
                        f"release record; {FIX}")
    for doc_id in sorted(numbers):
        recs = records.get(doc_id, [])
        if len(recs) != 1:
            problems.append(f"release {doc_id!r} has {len(recs)} release records instead of 1; "
                            f"{FIX}")
            continue
        rec = recs[0] if isinstance(recs[0], dict) else {}
        digest = rec.get("hash")
        if not isinstance(digest, str) or not _HASH_RE.match(digest):
            problems.append(f"release {doc_id!r} has no known source hash ({digest!r}); {FIX}")
        count = rec.get("paragraphs")
        got = sorted(n for n in numbers[doc_id] if isinstance(n, int))
        if not isinstance(count, int) or count < 1:
            problems.append(f"release {doc_id!r} records no paragraph count ({count!r}); {FIX}")
        elif got != list(range(1, count + 1)) or len(got) != len(numbers[doc_id]):
            problems.append(f"release {doc_id!r} should have paragraphs 1..{count} but has "
                            f"{_ranges(got)}; {FIX}")


# ----------------------------------------------------------------------------- helpers


def _toc_number(name: str) -> int:
    m = re.search(r"_(\d+)\.toc$", name)
    return int(m.group(1)) if m else -1


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:80] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"`` (``"none"`` for an empty list)."""
    if not numbers:
        return "none"
    parts: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)
