"""Building and updating an index from release sources.

``build_index`` mirrors the given sources into the index: releases are added, changed ones
(by content hash) replaced, and those no longer in the sources removed. A full rebuild (asked
for, first build, or forced by a changed analyzer or user dictionary) writes a new generation
and publishes it atomically; an incremental update commits into the live generation through
Whoosh's atomic commit. Either way a crash leaves the previous index intact, and one reindex at
a time holds the directory's lock.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import whoosh.index

from . import storage
from .analysis import ANALYZER_VERSION
from .documents import (READING_VERSION, SOURCE_SUFFIXES, Problem, Unchanged, iter_source_files,
                        read_releases)
from .sources import display_path
from .errors import IndexCorruptError, IndexNotFoundError, SearchError, SourceError
from .faults import checkpoint
from .lexicon import Lexicon
from .models import Release
from .schema import ReleaseRecord, build_schema, paragraph_docs
from .suggest import file_name as suggestions_file
from .suggest import SuggestionCounts, write_suggestions
from .synonyms import SYNONYMS_NAME, read_groups
from .whoosh_w3 import abandon_writer, commit_segments, new_codec, terminfo_doc_frequency
from .writing import WORDS, write_segment

USERDICT_NAME = "userdict.txt"
#: Bump when the schema or the way releases become documents changes (forces a full rebuild).
FORMAT = 8  # 4: the release record stores its publisher; 5: repair of mojibake, punctuation and script;
# 6: date, publisher, speaker and organisation columns, publishers read from the text
# 7: suggestions (suggest-N.npz beside the Whoosh segments)
# 8: each paragraph's folded text kept (the folded column), so that queries do not fold it


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
    #: Web crawl records not read, by kind (search.warc.SKIPPED_KINDS): not HTML, redirects...
    skipped_records: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        repairs = ", ".join(f"{k} {v}" for k, v in sorted(self.repairs.items())) or "none"
        kind = "full" if self.full else "incremental"
        skipped = sum(1 for p in self.problems if p.skipped)
        records = ""
        if self.skipped_records:
            from .warc import SKIPPED_KINDS

            records = "; crawl records skipped: " + ", ".join(
                f"{self.skipped_records[k]} {name}" for k, name in SKIPPED_KINDS.items()
                if self.skipped_records.get(k))
            if self.skipped_records.get("older_copy"):
                records += " (the newest record of a URL is read)"
        return (f"{kind} reindex: {self.added} added, {self.updated} updated, "
                f"{self.removed} removed, {self.unchanged} unchanged; "
                f"{self.releases} releases, {self.paragraphs} paragraphs; repairs: {repairs}"
                f"{records}; {len(self.problems)} problems ({skipped} skipped); "
                f"{self.seconds:.1f} s")

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def find_userdict(sources: Iterable[str | os.PathLike], name: str = USERDICT_NAME
                  ) -> Path | None:
    """``userdict.txt`` (or ``name``) in the first source folder that has one."""
    for s in sources:
        p = Path(s)
        if p.is_dir() and (p / name).is_file():
            return p / name
    return None


def gather_sources(sources: list[Path], userdict: str | os.PathLike | None,
                   synonyms: str | os.PathLike | None, follow_links: bool
                   ) -> tuple[list[Problem], list[Path], Path | None, Path | None, Lexicon]:
    """What a reindex (single or sharded) reads, checked before anything is written: the
    problems of the walk of the source folders, the source files, the user dictionary and
    synonyms files (given, or found in the first folder that has one) and the dictionary.
    Raises SourceError for a missing dictionary or synonyms file, a broken synonyms file, or
    no source file at all (an empty index would look like a search that finds nothing)."""
    found: list[Problem] = []
    files = [f for f in iter_source_files(sources, found, follow_links=follow_links)
             if f.name not in (USERDICT_NAME, SYNONYMS_NAME)]
    udpath = Path(userdict) if userdict else find_userdict(sources)
    synpath = Path(synonyms) if synonyms else find_userdict(sources, SYNONYMS_NAME)
    if synpath is not None:
        if not synpath.is_file():
            raise SourceError("synonyms file not found", str(synpath))
        read_groups(synpath)
    if udpath is not None and not udpath.is_file():
        raise SourceError("user dictionary not found", str(udpath))
    if not files:
        raise SourceError(f"no source files (reindex reads {', '.join(SOURCE_SUFFIXES)} files)",
                          ", ".join(display_path(s)[0] for s in sources))
    lexicon = Lexicon.from_file(udpath) if udpath else Lexicon()
    return found, files, udpath, synpath, lexicon


def _fingerprint(lexicon: Lexicon) -> dict:
    return {"format": FORMAT, "analyzer": ANALYZER_VERSION, "reading": READING_VERSION,
            "lexicon": lexicon.fingerprint()}


def build_index(sources: Iterable[str | os.PathLike] = ("seeds",),
                index_dir: str | os.PathLike = "index", *, full: bool = False,
                userdict: str | os.PathLike | None = None, progress: Progress | None = None,
                procs: int | None = None, limitmb: int = 256,
                follow_links: bool = False,
                synonyms: str | os.PathLike | None = None) -> ReindexReport:
    """Bring the index in ``index_dir`` in line with ``sources`` (files or folders).

    Raises ReindexLockedError if another reindex is running, SourceError if a source path does
    not exist or the sources hold no source file (then nothing is published), IndexAccessError
    if the index cannot be written (a full disk: what was half-written is removed, the
    previous index stays as it was). Unreadable files, malformed JSONL lines and skipped
    links are listed in ``report.problems``; everything else is indexed. Symbolic links out of
    the source folders are followed only with ``follow_links`` (see
    :func:`search.sources.iter_source_files`). SIGTERM, in the main thread, cleans up as
    SIGINT does (see :func:`_sigterm_interrupts`). ``procs`` worker processes write a full
    rebuild (default: every core when the sources exceed a few megabytes, else one).
    ``synonyms`` (default: ``synonyms.txt`` in the first source folder that has one) is copied
    into the index directory, where searches read it (:mod:`search.synonyms`); without one, a
    copy installed before stays.
    """
    t0 = time.perf_counter()
    sources = [Path(s) for s in sources]
    index_dir = Path(index_dir)
    found, files, udpath, synpath, lexicon = gather_sources(sources, userdict, synonyms,
                                                            follow_links)
    fingerprint = _fingerprint(lexicon)
    if procs is None:
        procs = _default_procs(files)
    if os.path.lexists(index_dir / storage.SHARDS):  # an index beside it would never be read
        raise SearchError(f"{index_dir} holds a sharded index: reindex it with "
                          "`release-search reindex` (with the cluster extra) or "
                          "search.cluster.reindex_on_cluster")

    with _sigterm_interrupts(), storage.ReindexLock(index_dir):
        checkpoint("locked")
        storage.remove_leftovers(index_dir)
        reason = "asked for (--full)" if full else ""
        live = None
        if not full:
            try:
                live = storage.current_generation(index_dir)
                meta = storage.read_meta(live)
                built = meta.get("fingerprint")
                old = built.get("format") if isinstance(built, dict) else None
                if old != FORMAT:
                    full, reason = True, (f"index format {old} is not this version's "
                                          f"{FORMAT}: a full rebuild is needed")
                elif built != fingerprint:
                    full, reason = True, "analyzer, repair or user dictionary changed"
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
        if synpath is not None:
            storage.install_file(synpath, index_dir, SYNONYMS_NAME)
    report.reason = reason
    report.problems = found + problems
    report.seconds = round(time.perf_counter() - t0, 2)
    return report


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in a reindex so that it cleans up as after SIGINT's KeyboardInterrupt
    (every clean-up of a reindex runs on any exception)."""


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` in the main thread: the
    half-written generation or update is removed, workers are stopped and the lock is freed.
    Then the signal does what it would have done: the previous handler is restored and, if
    SIGTERM came, sent it again, so that by default the process dies of SIGTERM once clean.

    Does nothing outside the main thread (only it can handle signals), nor where SIGTERM is
    ignored or handled outside Python."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_IGN, None):
        yield
        return
    came = []
    owner = os.getpid()

    def handler(signum, frame):
        if os.getpid() != owner:  # a forked worker inherited it: die of SIGTERM, as by default
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        if not came:  # once: a second SIGTERM must not cut the clean-up short
            came.append(signum)
            raise Terminated()

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if came:
            os.kill(os.getpid(), signal.SIGTERM)


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
    non-blank line of a JSONL file (read in chunks: a huge line is never held whole)."""
    total = 0
    for f in files:
        if f.suffix.lower() != ".jsonl":
            total += 1
            continue
        try:
            with open(f, "rb") as fh:
                filled = False  # the line read so far has more than white space
                while chunk := fh.read(1 << 20):
                    *ended, rest = chunk.split(b"\n")
                    for part in ended:
                        total += filled or bool(part.strip())
                        filled = False
                    filled = filled or bool(rest.strip())
                total += filled
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
    try:
        gen = storage.new_generation(index_dir)
    except OSError as exc:
        raise storage.write_error(exc, f"a new generation in {index_dir}", index_dir) from None
    try:
        return _full_into(gen, files, index_dir, lexicon, fingerprint, problems, progress,
                          procs, sources)
    except BaseException as exc:
        try:
            published = storage.current_generation(index_dir) == gen
        except Exception:  # no CURRENT, or it names a missing generation
            published = False
        if not published:  # nothing else uses it
            shutil.rmtree(gen, ignore_errors=True)
            if isinstance(exc, OSError):  # a full disk, most likely
                raise storage.write_error(exc, f"the new index in {gen}", index_dir) from None
        raise


def _full_into(gen, files, index_dir, lexicon, fingerprint, problems, progress, procs,
               sources) -> ReindexReport:
    report = write_generation(gen, files, index_dir, lexicon, fingerprint, problems, progress,
                              procs, sources)
    checkpoint("full-written")
    storage.publish(index_dir, gen)
    return report


def write_generation(gen: Path, files: list[Path], index_dir, lexicon: Lexicon,
                     fingerprint: dict, problems: list[Problem], progress: Progress | None,
                     procs: int, sources, keep: Callable[[str], bool] | None = None
                     ) -> ReindexReport:
    """Write the releases of ``files`` (those whose id ``keep`` accepts, if given: a shard's)
    into the empty generation directory ``gen``, complete (``meta.json`` last) but not
    published. With ``keep``, ``progress`` counts the releases kept, with a total of 0."""
    schema = build_schema(lexicon)
    whoosh.index.create_in(str(gen), schema, indexname=storage.INDEX_NAME)
    report = ReindexReport(index_dir=str(index_dir), generation=gen.name, full=True)
    repairs: Counter = Counter()
    tally: Counter = Counter()
    if keep is None:
        read = _progress_iter(read_releases(files, problems, tally=tally), files, progress)
    else:
        # The others' releases are read (to find their ids) but neither decoded nor parsed.
        read = (rel for rel in read_releases(
            files, problems, tally=tally, skip=lambda doc_id, _h, _w: not keep(doc_id))
            if not isinstance(rel, Unchanged))

    # The suggestions are counted from the documents and words as they are written, in the
    # order a reader of the new index would count them (not read back: a serial second pass).
    suggestions = SuggestionCounts()

    def releases():
        for rel in read:
            if keep is not None and progress is not None:
                progress(report.added + 1, 0)
            report.added += 1
            report.paragraphs += len(rel.paragraphs)
            repairs.update(rel.repairs)
            checkpoint("full-reading")
            docs = list(paragraph_docs(rel, folded=False))  # the writer adds the folded texts
            for doc in docs:
                suggestions.add_fields(doc)
            yield docs

    def words(terms: list[tuple[bytes, bytes]]) -> None:
        suggestions.add_words((btext.decode("utf-8"), terminfo_doc_frequency(info))
                              for btext, info in terms)

    segments = write_segment(releases(), str(gen), schema, storage.INDEX_NAME, lexicon,
                              procs=procs, term_sinks={WORDS: words})
    commit_segments(str(gen), schema, storage.INDEX_NAME, segments)
    write_suggestions(gen, storage.INDEX_NAME, suggestions)
    report.releases = report.added
    report.repairs = dict(repairs)
    report.skipped_records = dict(tally)
    # meta.json last: a generation that has one is complete (storage.prune keeps no other).
    storage.write_meta(gen, {
        "fingerprint": fingerprint, "created": _dt.datetime.now(_dt.UTC).isoformat(),
        "sources": [display_path(s)[0] for s in sources], "releases": report.releases,
        "paragraphs": report.paragraphs})
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
    tally: Counter = Counter()
    releases = read_releases(
        files, problems, tally=tally,
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
    if not changed and not removed:
        # Nothing to write: a writer opened and cancelled would leave its empty segment's
        # files in the live generation.
        report.releases, report.paragraphs = len(records), live_paragraphs
        _refresh_suggestions(live, ix)
        return report
    # Counted before writing, so that meta.json can be staged before the commit: a full disk
    # then stops the update before it commits, not after it (leaving a stale meta.json).
    report.releases = len(records) - len(removed) + sum(
        1 for rel in changed if rel.doc_id not in records)
    paragraphs = live_paragraphs + sum(len(rel.paragraphs) for rel in changed)
    writer = staged = None
    committed = ix.latest_generation()
    try:
        writer = ix.writer(**_writer_options(limitmb))
        for rel in changed:
            if rel.doc_id not in records:
                report.added += 1
            else:
                paragraphs -= writer.delete_by_term("doc_id", rel.doc_id)
                report.updated += 1
            for doc in paragraph_docs(rel):
                writer.add_document(**doc)
            repairs.update(rel.repairs)
        for doc_id in removed:
            paragraphs -= writer.delete_by_term("doc_id", doc_id)
            report.removed += 1
        report.paragraphs = paragraphs
        meta = storage.read_meta(live)
        meta.update(releases=report.releases, paragraphs=report.paragraphs,
                    updated=_dt.datetime.now(_dt.UTC).isoformat())
        staged = storage.stage_meta(live, meta)
        checkpoint("incremental-writing")
        writer.commit()
    except BaseException as exc:
        landed = ix.latest_generation() != committed  # failed after its commit: keep it
        if writer is not None:
            abandon_writer(writer)  # removes what the writer wrote and did not commit
        if staged is not None:
            if landed:
                storage.replace_meta(staged)
            else:
                staged.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not landed:  # a full disk, most likely
            raise storage.write_error(exc, f"the update to {live}", index_dir) from None
        raise
    storage.replace_meta(staged)
    _refresh_suggestions(live, ix)
    report.repairs = dict(repairs)
    report.skipped_records = dict(tally)
    return report


def _refresh_suggestions(live: Path, ix) -> None:
    """The suggestions of the live generation's committed state, written if missing (after
    an update, or when a reindex died between its commit and writing them). Not writing them
    (a full disk) loses nothing: searchers then build them in memory."""
    if (live / suggestions_file(ix.latest_generation())).is_file():
        return
    with contextlib.suppress(OSError):
        write_suggestions(live, storage.INDEX_NAME)
