"""Building and updating an index from release sources.

``build_index`` mirrors the given sources into the index: releases are added, changed ones
(by content hash) replaced, and those no longer in the sources removed. A full rebuild (asked
for, first build, or forced by a changed analyzer or user dictionary) writes a new generation
and publishes it atomically; an incremental update commits into the live generation through
Whoosh's atomic commit. Either way a crash leaves the previous index intact, and one reindex at
a time holds the directory's lock.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import whoosh.index

from . import storage
from .analysis import ANALYZER_VERSION
from .documents import Problem, Unchanged, iter_source_files, read_releases
from .errors import IndexCorruptError, IndexNotFoundError, SourceError
from .faults import checkpoint
from .lexicon import Lexicon
from .models import Release
from .schema import ReleaseRecord, build_schema, paragraph_docs
from .whoosh_w3 import commit_segments, new_codec
from .writing import write_segment

USERDICT_NAME = "userdict.txt"
#: Bump when the schema or the way releases become documents changes (forces a full rebuild).
FORMAT = 4  # 4: repair of mojibake, punctuation and script (issue 12)


def _writer_options(limitmb: int) -> dict:
    # compound=False: Whoosh reads a compound segment's parts into memory (BytesIO copies of
    # the postings and terms), which would make a searcher as large as its index.
    return {"limitmb": limitmb, "codec": new_codec(), "compound": False}


Progress = Callable[[int, int], None]  # (done, total) releases


@dataclass
class ReindexReport:
    """What a reindex did."""

    index_dir: str
    generation: str
    full: bool
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    releases: int = 0
    paragraphs: int = 0
    repairs: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    reason: str = ""

    def summary(self) -> str:
        repairs = ", ".join(f"{k} {v}" for k, v in sorted(self.repairs.items())) or "none"
        kind = "full" if self.full else "incremental"
        skipped = sum(1 for p in self.problems if p.skipped)
        return (f"{kind} reindex: {self.added} added, {self.updated} updated, "
                f"{self.removed} removed, {self.unchanged} unchanged; "
                f"{self.releases} releases, {self.paragraphs} paragraphs; repairs: {repairs}; "
                f"{len(self.problems)} problems ({skipped} skipped); {self.seconds:.1f} s")

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def find_userdict(sources: Iterable[str | os.PathLike]) -> Path | None:
    """``userdict.txt`` in the first source folder that has one."""
    for s in sources:
        p = Path(s)
        if p.is_dir() and (p / USERDICT_NAME).is_file():
            return p / USERDICT_NAME
    return None


def _fingerprint(lexicon: Lexicon) -> dict:
    return {"format": FORMAT, "analyzer": ANALYZER_VERSION, "lexicon": lexicon.fingerprint()}


def build_index(sources: Iterable[str | os.PathLike] = ("seeds",),
                index_dir: str | os.PathLike = "index", *, full: bool = False,
                userdict: str | os.PathLike | None = None, progress: Progress | None = None,
                procs: int | None = None, limitmb: int = 256) -> ReindexReport:
    """Bring the index in ``index_dir`` in line with ``sources`` (files or folders).

    Raises ReindexLockedError if another reindex is running, SourceError if a source path does
    not exist. Unreadable files and malformed JSONL lines are skipped and listed in
    ``report.problems``; everything else is indexed. ``procs`` worker processes write a full
    rebuild (default: every core when the sources exceed a few megabytes, else one).
    """
    t0 = time.perf_counter()
    sources = [Path(s) for s in sources]
    index_dir = Path(index_dir)
    files = [f for f in iter_source_files(sources) if f.name != USERDICT_NAME]
    udpath = Path(userdict) if userdict else find_userdict(sources)
    if udpath is not None and not udpath.is_file():
        raise SourceError("user dictionary not found", str(udpath))
    lexicon = Lexicon.from_file(udpath) if udpath else Lexicon()
    fingerprint = _fingerprint(lexicon)
    if procs is None:
        procs = _default_procs(files)

    with storage.ReindexLock(index_dir):
        checkpoint("locked")
        reason = "asked for (--full)" if full else ""
        live = None
        if not full:
            try:
                live = storage.current_generation(index_dir)
                meta = storage.read_meta(live)
                if meta.get("fingerprint") != fingerprint:
                    full, reason = True, "analyzer or user dictionary changed"
            except IndexNotFoundError:
                full, reason = True, "no index yet"
            except IndexCorruptError:
                full, reason = True, "previous index unreadable"
        problems: list[Problem] = []
        report = None
        if not full:
            try:
                report = _incremental(files, index_dir, live, lexicon, problems, progress,
                                      limitmb)
            except _RebuildInstead as why:
                full, reason = True, f"most of the index changed ({why})"
                problems.clear()
        if full:
            report = _full(files, index_dir, lexicon, fingerprint, problems, progress,
                           procs, limitmb, sources)
        storage.prune(index_dir)
    report.reason = reason
    report.problems = problems
    report.seconds = round(time.perf_counter() - t0, 2)
    return report


#: Below this much source text one process is faster than starting workers.
PARALLEL_MIN_BYTES = 1024 * 1024


def _default_procs(files: list[Path]) -> int:
    total = 0
    for f in files:
        try:
            total += f.stat().st_size
        except OSError:
            pass
    return max(1, os.cpu_count() or 1) if total >= PARALLEL_MIN_BYTES else 1


def _count_releases(files: list[Path]) -> int:
    """How many releases the files hold, for the progress bar: one per text file, one per
    non-empty line of a JSONL file."""
    total = 0
    for f in files:
        if f.suffix.lower() != ".jsonl":
            total += 1
            continue
        try:
            with open(f, "rb") as fh:
                total += sum(1 for line in fh if line.strip())
        except OSError:
            pass
    return total


def _progress_iter(releases: Iterator, files: list[Path],
                   progress: Progress | None) -> Iterator:
    if progress is None:
        yield from releases
        return
    total = _count_releases(files)
    done = 0
    for rel in releases:
        yield rel
        done += 1
        progress(done, max(total, done))


def _full(files, index_dir, lexicon, fingerprint, problems, progress, procs, limitmb,
          sources) -> ReindexReport:
    gen = storage.new_generation(index_dir)
    try:
        return _full_into(gen, files, index_dir, lexicon, fingerprint, problems, progress,
                          procs, sources)
    except BaseException:
        try:
            published = storage.current_generation(index_dir) == gen
        except Exception:  # no CURRENT, or it names a missing generation
            published = False
        if not published:  # nothing else uses it
            shutil.rmtree(gen, ignore_errors=True)
        raise


def _full_into(gen, files, index_dir, lexicon, fingerprint, problems, progress, procs,
               sources) -> ReindexReport:
    schema = build_schema(lexicon)
    whoosh.index.create_in(str(gen), schema, indexname=storage.INDEX_NAME)
    report = ReindexReport(index_dir=str(index_dir), generation=gen.name, full=True)
    repairs: Counter = Counter()

    def releases():
        for rel in _progress_iter(read_releases(files, problems), files, progress):
            report.added += 1
            report.paragraphs += len(rel.paragraphs)
            repairs.update(rel.repairs)
            checkpoint("full-reading")
            yield list(paragraph_docs(rel))

    segments = write_segment(releases(), str(gen), schema, storage.INDEX_NAME, lexicon,
                              procs=procs)
    commit_segments(str(gen), schema, storage.INDEX_NAME, segments)
    report.releases = report.added
    report.repairs = dict(repairs)
    storage.write_meta(gen, {
        "fingerprint": fingerprint, "created": _dt.datetime.now(_dt.UTC).isoformat(),
        "sources": [str(s) for s in sources], "releases": report.releases,
        "paragraphs": report.paragraphs})
    checkpoint("full-written")
    storage.publish(index_dir, gen)
    return report


#: An update that would rewrite more than this share of the paragraphs (and at least
#: FULL_REBUILD_MIN of them) is done as a full rebuild instead: Whoosh's own writer, which
#: updates use, costs several times more per paragraph than the bulk writer of a full build.
FULL_REBUILD_FRACTION = 0.2
FULL_REBUILD_MIN = 5000


class _RebuildInstead(Exception):
    """Raised by an incremental update that should be a full rebuild."""


def _incremental(files, index_dir, live, lexicon, problems, progress, limitmb) -> ReindexReport:
    ix = whoosh.index.open_dir(str(live), indexname=storage.INDEX_NAME)
    with ix.searcher() as s:
        records = {f["doc_id"]: ReleaseRecord.from_stored(f.get("release"))
                   for f in s.documents(head="1")}
        live_paragraphs = s.doc_count()
    # Skip a release only if it is the same content read from the same place, so a moved
    # file or a shifted JSONL line gets its stored location updated.
    known = {doc_id: (rec.content_hash, rec.location) if rec else None
             for doc_id, rec in records.items()}
    report = ReindexReport(index_dir=str(index_dir), generation=live.name, full=False)
    repairs: Counter = Counter()
    seen: set[str] = set()
    changed: list[Release] = []
    releases = read_releases(
        files, problems,
        skip=lambda doc_id, digest, where: known.get(doc_id) == (digest, where))
    for rel in _progress_iter(releases, files, progress):
        seen.add(rel.doc_id)
        if isinstance(rel, Unchanged):
            report.unchanged += 1
        else:
            changed.append(rel)
    removed = records.keys() - seen
    rewritten = sum(len(rel.paragraphs) for rel in changed) + sum(
        (records[doc_id].paragraphs if records[doc_id] else 0) or 0 for doc_id in removed)
    if rewritten > max(FULL_REBUILD_MIN, FULL_REBUILD_FRACTION * live_paragraphs):
        raise _RebuildInstead(f"{len(changed)} of {len(seen)} releases changed")
    writer = ix.writer(**_writer_options(limitmb))
    try:
        for rel in changed:
            if rel.doc_id not in records:
                report.added += 1
            else:
                writer.delete_by_term("doc_id", rel.doc_id)
                report.updated += 1
            for doc in paragraph_docs(rel):
                writer.add_document(**doc)
            repairs.update(rel.repairs)
        for doc_id in removed:
            writer.delete_by_term("doc_id", doc_id)
            report.removed += 1
        if report.added or report.updated or report.removed:
            checkpoint("incremental-writing")
            writer.commit()
        else:
            writer.cancel()
    except BaseException:
        writer.cancel()
        raise
    with ix.searcher() as s:
        # doc_frequency() still counts deleted documents until segments merge: count live ones.
        report.releases = sum(1 for _ in s.document_numbers(head="1"))
        report.paragraphs = s.doc_count()
    if report.added or report.updated or report.removed:
        meta = storage.read_meta(live)
        meta.update(releases=report.releases, paragraphs=report.paragraphs,
                    updated=_dt.datetime.now(_dt.UTC).isoformat())
        storage.write_meta(live, meta)
    report.repairs = dict(repairs)
    return report
