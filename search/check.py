"""Integrity check of an index directory (``release-search check``).

:func:`check_index` never raises for a damaged index: every problem it finds becomes one line of
:attr:`CheckReport.problems` that names the file at fault and how to fix it. It verifies, in order:

1. ``CURRENT`` names an existing generation;
2. the generation's ``meta.json`` is readable;
3. the Whoosh table of contents (``_MAIN_<n>.toc``) is readable;
4. every segment file opens and all its stored fields, terms, postings and columns can be read,
   and the doc_id, section, date, speaker and organisation columns agree with the stored
   fields, and each paragraph's folded text (:mod:`search.foldedtext`) fits its stored text;
5. the engine itself opens the index (:func:`search.searcher.open_index`);
6. the counts of releases and paragraphs equal those recorded in ``meta.json``;
7. every release record (the stored ``release`` of the paragraph marked ``head``) has a content
   hash (64 hexadecimal digits) and a paragraph count ``N``, and its release's paragraphs are
   numbered exactly ``1..N``;
8. each release's paragraphs are consecutive documents, the one with the record first.

A sharded index (a ``SHARDS`` manifest) has its manifest read and each shard's generation
checked from step 2 on, and each release must be in the shard its id hashes to.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import storage
from .errors import REBUILD_HINT, SearchError
from .foldedtext import COLUMN as FOLDED
from .foldedtext import unpack
from .generation import Generation
from .schema import ReleaseRecord
from .shards import is_sharded, read_manifest, shard_of
from .whoosh_w3 import (
    COMPOUND_SUFFIX,
    POSTINGS_SUFFIX,
    STORED_SUFFIX,
    TERMS_SUFFIX,
    ClosingStorage,
    column_suffix,
    culprit_file,
    lengths_suffix,
    newest_toc,
    open_segment_reader,
    read_toc,
    toc_pattern,
)

#: What to run when the index is damaged.
FIX = REBUILD_HINT
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
    """Check the index in ``index_dir``; never raises for a missing or damaged index. A
    sharded index has each of its shards checked."""
    if is_sharded(index_dir):
        return _check_sharded(Path(index_dir))
    report = CheckReport(ok=False, index_dir=str(index_dir))
    problems = report.problems
    try:
        gen = storage.current_generation(index_dir)
    except SearchError as exc:  # IndexNotFoundError / IndexCorruptError: both name CURRENT
        problems.append(str(exc))
        return report
    report.generation = gen.name
    _check_generation(gen, report, lambda: _check_engine_opens(Path(index_dir), problems))
    report.ok = not problems
    return report


def _check_generation(gen: Path, report: CheckReport, opens, shard: tuple[int, int] | None = None
                      ) -> None:
    """Checks 2-8 of one generation, counted into ``report`` (``opens()``: check 5, when the
    files read well; ``shard``: (k, count), each release must hash to shard k)."""
    problems = report.problems
    meta: dict | None = None
    try:
        meta = storage.read_meta(gen)
    except SearchError as exc:
        problems.append(str(exc))
    before = len(problems)
    docs = _read_segments(gen, problems)
    if docs is None:
        return
    if len(problems) == before and not problems:
        opens()
    live_docs, head_docs = docs
    paragraphs = len(live_docs)
    releases = sum(1 for f in live_docs if f.get("release") is not None)
    if meta is not None:
        for name, actual in (("releases", releases), ("paragraphs", paragraphs)):
            recorded = meta.get(name)
            if recorded != actual:
                problems.append(f"{gen / storage.META} records {recorded!r} {name} but the "
                                f"index holds {actual}; {FIX}")
    report.paragraphs += paragraphs
    report.releases += releases
    _check_releases(gen, live_docs, head_docs, problems)
    if shard is not None:
        k, count = shard
        strays = sorted({f["doc_id"] for f in live_docs if f.get("release") is not None
                         and shard_of(f["doc_id"], count) != k})
        if strays:
            problems.append(f"{gen} (shard {k}) holds {len(strays)} release(s) of other shards "
                            f"(first: {strays[0]!r}); {FIX}")


def _check_sharded(index_dir: Path) -> CheckReport:
    """Every shard of a sharded index: the manifest names existing generations, each checked
    as a generation of a single index is, each release in the shard its id hashes to."""
    report = CheckReport(ok=False, index_dir=str(index_dir))
    try:
        manifest = read_manifest(index_dir)
    except SearchError as exc:
        report.problems.append(str(exc))
        return report
    report.generation = manifest.name
    for k, gen in enumerate(manifest.paths()):
        _check_generation(gen, report, lambda gen=gen: _check_shard_opens(gen, report.problems),
                          shard=(k, manifest.count))
    report.ok = not report.problems
    return report


def _check_shard_opens(gen: Path, problems: list[str]) -> None:
    try:
        Generation(gen).close()
    except SearchError as exc:
        problems.append(str(exc))


# ------------------------------------------------------------------------------ reading


def _read_segments(gen: Path, problems: list[str]) -> tuple[list[dict], int] | None:
    """All live stored documents of the generation and the number of ``head`` postings.

    Reads every segment on its own so that a damaged one is named; returns None (after
    recording the problem) when the table of contents or a segment cannot be read.
    """
    toc_path = newest_toc(gen, storage.INDEX_NAME)
    if toc_path is None:
        problems.append(f"{gen} has no Whoosh table of contents "
                        f"({toc_pattern(storage.INDEX_NAME)}); {FIX}")
        return None
    store = ClosingStorage(str(gen))
    try:
        toc = read_toc(store, storage.INDEX_NAME)
    except Exception as exc:  # Whoosh raises many kinds (pickle, EOF, struct...) on bad bytes
        problems.append(f"{toc_path} is damaged ({_why(exc)}); {FIX}")
        return None
    finally:
        store.close_all()

    docs: list[dict] = []
    heads = 0
    for segment in toc.segments:
        names = segment.list_files(store)
        if not names:
            problems.append(f"{gen / segment.segment_id()}.* (the segment's files) are missing; {FIX}")
            return None
        compound = segment.is_compound()
        stage = "open"
        try:
            reader = open_segment_reader(store, toc.schema, segment)
            try:
                stage = STORED_SUFFIX
                stored = list(reader.all_stored_fields())
                stage = TERMS_SUFFIX
                for fieldname in reader.indexed_field_names():
                    terms = list(reader.lexicon(fieldname))
                    stage = POSTINGS_SUFFIX
                    for text in terms:
                        reader.postings(fieldname, text).all_ids()
                    stage = TERMS_SUFFIX
                if ("head", b"1") in reader:
                    heads += sum(1 for d in reader.postings("head", b"1").all_ids()
                                 if not reader.is_deleted(d))
                stage = "columns"
                problem = _check_columns(reader, gen, segment, stored, compound)
                if problem:
                    problems.append(problem)
                    return None
                docs.extend(stored)
            finally:
                reader.close()
        except FileNotFoundError as exc:
            problems.append(f"{_culprit(exc, gen, segment, stage, compound)} is missing; {FIX}")
            return None
        except Exception as exc:  # a truncated or overwritten segment file
            problems.append(f"{_culprit(exc, gen, segment, stage, compound)} is damaged "
                            f"({_why(exc)}); {FIX}")
            return None
        finally:
            store.close_all()
    return docs, heads


def _check_columns(reader, gen: Path, segment, stored: list[dict], compound: bool) -> str | None:
    """Compare the sortable columns with the stored fields and read the length columns;
    return the problem, naming the column file, or None."""
    seg_id = segment.segment_id()
    live = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
    for fieldname in ("doc_id", "section", "date", "speaker_name", "organization"):
        if not reader.has_column(fieldname):
            continue
        where = gen / (seg_id + (COMPOUND_SUFFIX if compound else column_suffix(fieldname)))
        try:
            column = reader.column_reader(fieldname)
            values = [column[d] for d in live]
        except Exception as exc:
            return f"{where} is damaged ({_why(exc)}); {FIX}"
        expected = [f.get(fieldname) for f in stored]
        if [_text(v) for v in values] != [_text(v) for v in expected]:
            return f"{where} does not match the stored fields; {FIX}"
    where = gen / (seg_id + (COMPOUND_SUFFIX if compound else column_suffix(FOLDED)))
    try:  # each live paragraph's folded text fits its stored text (a missing column: step 5)
        if reader.has_column(FOLDED):
            column = reader.column_reader(FOLDED, translate=False)
            for d, f in zip(live, stored):
                unpack(f.get("text", ""), column[d])
    except Exception as exc:
        return f"{where} is damaged ({_why(exc)}); {FIX}"
    for fieldname in reader.indexed_field_names():
        if not reader.schema[fieldname].scorable:
            continue
        # Lengths are stored lossily (one byte each): they can only be checked for readability.
        where = gen / (seg_id + (COMPOUND_SUFFIX if compound else lengths_suffix(fieldname)))
        try:
            for d in range(reader.doc_count_all()):
                reader.doc_field_length(d, fieldname, 0)
        except Exception as exc:
            return f"{where} is damaged ({_why(exc)}); {FIX}"
    return None


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")


def _culprit(exc: BaseException, gen: Path, segment, stage: str, compound: bool) -> Path:
    """The file whose reading raised ``exc``: the innermost Whoosh file object in the
    traceback, else the file of the reading ``stage`` (a file name suffix)."""
    seg_id = segment.segment_id()
    if compound:
        return gen / f"{seg_id}{COMPOUND_SUFFIX}"
    if isinstance(exc, OSError) and exc.filename:
        return Path(exc.filename)
    name = culprit_file(exc)
    if name and name.startswith(seg_id):
        return gen / name
    return gen / (f"{seg_id}{stage}" if stage.startswith(".") else f"{seg_id}.*")


def _check_engine_opens(index_dir: Path, problems: list[str]) -> None:
    from .searcher import Index

    try:
        ix = Index(index_dir, reload_interval=3600)
    except SearchError as exc:
        problems.append(str(exc))
        return
    ix.close()


# ------------------------------------------------------------------------------ checks


def _check_releases(gen: Path, live_docs: list[dict], heads: int, problems: list[str]) -> None:
    numbers: dict[str, list[int]] = defaultdict(list)
    records: dict[str, list[dict]] = defaultdict(list)
    for f in live_docs:
        doc_id = f.get("doc_id")
        if not isinstance(doc_id, str) or not doc_id:
            problems.append(f"{gen}: a paragraph has no doc_id (paragraph {f.get('paragraph')!r}); {FIX}")
            continue
        numbers[doc_id].append(f.get("paragraph"))
        if f.get("release") is not None:
            records[doc_id].append(f["release"])
    _check_order(live_docs, problems)
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
        rec = ReleaseRecord.from_stored(recs[0]) or ReleaseRecord(None, None)
        digest = rec.content_hash
        if not isinstance(digest, str) or not _HASH_RE.match(digest):
            problems.append(f"release {doc_id!r} has no known source hash ({digest!r}); {FIX}")
        count = rec.paragraphs
        got = sorted(n for n in numbers[doc_id] if isinstance(n, int))
        if not isinstance(count, int) or count < 1:
            problems.append(f"release {doc_id!r} records no paragraph count ({count!r}); {FIX}")
        elif got != list(range(1, count + 1)) or len(got) != len(numbers[doc_id]):
            problems.append(f"release {doc_id!r} should have paragraphs 1..{count} but has "
                            f"{_ranges(got)}; {FIX}")


def _check_order(live_docs: list[dict], problems: list[str]) -> None:
    """Each release's paragraphs are consecutive documents, the one with the release record
    first: the searcher finds a paragraph's release title that way."""
    seen: set[str] = set()
    previous = None
    for f in live_docs:
        doc_id = f.get("doc_id")
        if doc_id == previous or not isinstance(doc_id, str):
            continue
        previous = doc_id
        if doc_id in seen:
            problems.append(f"release {doc_id!r}: its paragraphs are not consecutive in the "
                            f"index; {FIX}")
        elif f.get("release") is None:
            problems.append(f"release {doc_id!r}: its first paragraph in the index does not "
                            f"carry the release record; {FIX}")
        seen.add(doc_id)


# ----------------------------------------------------------------------------- helpers


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
