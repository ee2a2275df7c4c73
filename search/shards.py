"""A sharded index on disk: releases partitioned by a stable hash of their id, one generation
per shard, and the ``SHARDS`` manifest that publishes all of them at once.

::

    index/
      SHARDS           JSON naming each shard's live generation, replaced atomically
      s000/g000002/    shard 0: a complete generation (a Whoosh index plus meta.json)
      s001/g000001/    shard 1 ...
      .reindex.lock    held (flock) by the one running reindex

Each shard is a generation in the format of a single index, written as a full rebuild writes
one (``meta.json`` last, every file synced). A reindex writes the new generations of the shards
it rebuilds beside the live ones and then replaces ``SHARDS`` (write, fsync, rename), so a
reader sees every old shard or every new one, even after ``kill -9`` at any moment. An
incremental reindex rebuilds only the shards whose releases changed (a shard's generation is
never updated in place: that would show one shard's new releases beside another's old ones).
What a killed reindex leaves (unpublished generations) is removed by the next one, under the
lock. :func:`reindex_sharded` runs the builds through a ``run`` function: in this process, or
on a Dask cluster's workers (:mod:`search.cluster`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import whoosh.index

from . import storage
from .documents import Problem, iter_source_files, read_releases
from .errors import IndexCorruptError, IndexNotFoundError, SearchError
from .faults import checkpoint
from .indexer import (
    USERDICT_NAME,
    ReindexReport,
    _fingerprint,
    _sigterm_interrupts,
    gather_sources,
    write_generation,
)
from .lexicon import Lexicon
from .schema import ReleaseRecord
from .synonyms import SYNONYMS_NAME

MANIFEST = storage.SHARDS
#: Most shards an index may have.
MAX_SHARDS = 256
MANIFEST_FORMAT = 1


def shard_of(doc_id: str, count: int) -> int:
    """The shard of release ``doc_id`` among ``count``: BLAKE2b of its id (the same in every
    process and Python version, unlike ``hash``)."""
    digest = hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def shard_dir(index_dir: str | os.PathLike, shard: int) -> Path:
    return Path(index_dir) / f"s{shard:03d}"


@dataclass(frozen=True)
class Manifest:
    """A published set of shards: ``generations[k]`` is shard k's, relative to the index
    directory (``s000/g000002``)."""

    root: Path
    serial: int
    generations: tuple[str, ...]
    fingerprint: dict

    @property
    def name(self) -> str:
        """``m000003``: the manifest's serial number, new at every publication."""
        return f"m{self.serial:06d}"

    @property
    def count(self) -> int:
        return len(self.generations)

    def paths(self) -> list[Path]:
        """Each shard's generation directory, absolute (the path workers open, on the shared
        file system)."""
        return [(self.root / g).absolute() for g in self.generations]


def is_sharded(index_dir: str | os.PathLike) -> bool:
    """Whether ``index_dir`` holds a sharded index (a ``SHARDS`` manifest)."""
    return os.path.lexists(Path(index_dir) / MANIFEST)


def read_manifest(index_dir: str | os.PathLike) -> Manifest:
    """The published shards; IndexNotFoundError without a manifest, IndexCorruptError if it
    cannot be read or names a missing generation."""
    root = Path(index_dir)
    path = root / MANIFEST
    fix = "run `release-search reindex --full`"
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block a read for ever
            raise IndexCorruptError(f"{path} is not a file; {fix}", str(path))
        data = json.loads(path.read_text(encoding="utf-8"))
        gens = tuple(str(g) for g in data["generations"])
        manifest = Manifest(root, int(data["serial"]), gens, dict(data.get("fingerprint") or {}))
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"no index in {root}: run `release-search reindex` to build one") from None
    except IndexCorruptError:
        raise
    except (OSError, ValueError, KeyError, TypeError):
        raise IndexCorruptError(f"cannot read {path}; {fix}", str(path)) from None
    for k, g in enumerate(gens):
        if g != f"s{k:03d}/{Path(g).name}" or not storage._GEN_RE.match(Path(g).name) \
                or not (root / g).is_dir():
            raise IndexCorruptError(f"{path} names a missing generation {g!r}; {fix}", str(path))
    if not gens:
        raise IndexCorruptError(f"{path} names no shard; {fix}", str(path))
    return manifest


def publish_manifest(index_dir: str | os.PathLike, generations: list[str], fingerprint: dict,
                     serial: int) -> None:
    """Atomically make ``generations`` (synced already) the live shards."""
    root = Path(index_dir)
    tmp = root / f"{MANIFEST}.tmp{os.getpid()}"
    data = {"format": MANIFEST_FORMAT, "serial": serial, "generations": list(generations),
            "fingerprint": fingerprint, "created": _dt.datetime.now(_dt.UTC).isoformat()}
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        current = root / MANIFEST
        if current.is_dir() and not current.is_symlink():  # damage: the directory is ours
            shutil.rmtree(current)
        checkpoint("shards-publishing")
        os.replace(tmp, current)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    storage._fsync_dir(root)


def _live(index_dir: Path) -> Manifest | None:
    try:
        return read_manifest(index_dir)
    except (IndexNotFoundError, IndexCorruptError):
        return None


def remove_leftovers(index_dir: str | os.PathLike) -> None:
    """Delete what killed reindexes left: in each shard directory, generations newer than the
    live one (never published), and temporary manifests; only under the reindex lock."""
    root = Path(index_dir)
    live = _live(root)
    if live is None:
        return  # which are leftovers is not known: a full rebuild follows
    named = {(root / g).parent.name: int(Path(g).name[1:]) for g in live.generations}
    for d in sorted(root.glob("s[0-9][0-9][0-9]")):
        for g in storage.generations(d):
            if int(g.name[1:]) > named.get(d.name, -1) and d.name in named:
                shutil.rmtree(g, ignore_errors=True)
    for p in root.glob(f"{MANIFEST}.tmp*"):
        p.unlink(missing_ok=True)


def prune(index_dir: str | os.PathLike, keep: int = 2) -> None:
    """In each shard keep its live generation and the ``keep - 1`` complete ones before it
    (searchers may still use them); remove shards past the live count and what a single
    index left (``CURRENT`` and its generations); only under the reindex lock."""
    root = Path(index_dir)
    live = read_manifest(root)
    remove_leftovers(root)
    for k, g in enumerate(live.generations):
        d, n = root / Path(g).parent, int(Path(g).name[1:])
        older = [x for x in storage.generations(d) if int(x.name[1:]) < n]
        complete = [x for x in older if storage.is_complete(x)]
        kept = complete[len(complete) - (keep - 1):] if keep > 1 else []
        for x in older:
            if x not in kept:
                shutil.rmtree(x, ignore_errors=True)
    for d in root.glob("s[0-9][0-9][0-9]"):
        if d.is_dir() and int(d.name[1:]) >= live.count:
            shutil.rmtree(d, ignore_errors=True)
    (root / storage.CURRENT).unlink(missing_ok=True)
    for g in storage.generations(root):
        shutil.rmtree(g, ignore_errors=True)


def _new_generation(shard_path: Path) -> Path:
    """A new empty generation directory of a shard (mkdir is the claim: two builds of one
    shard, a retried task beside a lost one, never share one)."""
    shard_path.mkdir(parents=True, exist_ok=True)
    while True:
        gens = storage.generations(shard_path)
        n = int(gens[-1].name[1:]) + 1 if gens else 1
        try:
            (shard_path / f"g{n:06d}").mkdir()
            return shard_path / f"g{n:06d}"
        except FileExistsError:
            continue


# -- building -----------------------------------------------------------------------------


@dataclass
class ShardReport:
    """What building one shard did (returned by the worker that built it)."""

    shard: int
    generation: str  # relative to the index directory: s000/g000002
    releases: int = 0
    paragraphs: int = 0
    repairs: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    skipped_records: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    worker: str = ""
    rebuilt: bool = True


@dataclass(frozen=True)
class ShardTask:
    """Everything a worker needs to build one shard (plain, picklable values)."""

    sources: tuple[str, ...]
    index_dir: str
    shard: int
    count: int
    userdict: str | None
    follow_links: bool


def build_shard(task: ShardTask, progress: Callable[[int], None] | None = None,
                procs: int = 1) -> ShardReport:
    """Build shard ``task.shard``'s new generation from the releases of the sources that hash
    to it, complete and on disk, not published (the coordinator publishes every shard at
    once). A failure removes what it wrote. ``progress(done)`` is called per release.

    One writing process by default: in a Dask worker (a daemonic process, with threads) the
    bulk writer must not fork; the shards are the parallelism."""
    t0 = time.perf_counter()
    sources = [Path(s) for s in task.sources]
    problems: list[Problem] = []
    files = [f for f in iter_source_files(sources, problems, follow_links=task.follow_links)
             if f.name not in (USERDICT_NAME, SYNONYMS_NAME)]
    lexicon = Lexicon.from_file(Path(task.userdict)) if task.userdict else Lexicon()
    index_dir = Path(task.index_dir)
    try:
        gen = _new_generation(shard_dir(index_dir, task.shard))
    except OSError as exc:
        raise storage.write_error(exc, f"a new generation of shard {task.shard}",
                                  index_dir) from None

    def advance(done: int, _total: int) -> None:
        checkpoint("shard-reading")
        if progress is not None:
            progress(done)

    try:
        checkpoint("shard-starting")
        rep = write_generation(gen, files, index_dir, lexicon, _fingerprint(lexicon), problems,
                               advance, procs, task.sources,
                               keep=lambda doc_id: shard_of(doc_id, task.count) == task.shard)
        storage.sync_tree(gen)
    except BaseException as exc:
        shutil.rmtree(gen, ignore_errors=True)
        if isinstance(exc, OSError):
            raise storage.write_error(exc, f"shard {task.shard} in {gen}", index_dir) from None
        raise
    checkpoint("shard-written")
    return ShardReport(shard=task.shard, generation=f"{gen.parent.name}/{gen.name}",
                       releases=rep.releases, paragraphs=rep.paragraphs, repairs=rep.repairs,
                       problems=problems, skipped_records=rep.skipped_records,
                       seconds=round(time.perf_counter() - t0, 2))


#: ``run(tasks, totals)``: build every task (a :class:`ShardTask`) and return their reports in
#: the same order; ``totals[k]`` is how many releases shard k holds (for progress). Raises
#: a SearchError if a shard cannot be built (then nothing is published).
Run = Callable[[list[ShardTask], dict[int, int]], list[ShardReport]]


def run_here(tasks: list[ShardTask], totals: dict[int, int]) -> list[ShardReport]:
    """Build the shards one after the other in this process."""
    return [build_shard(t) for t in tasks]


@dataclass
class ShardedReport(ReindexReport):
    """What a sharded reindex did: the totals, and each shard's figures."""

    shards: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        rebuilt = [s for s in self.shards if s["rebuilt"]]
        lines = [super().summary(),
                 f"{len(self.shards)} shards ({len(rebuilt)} rebuilt), manifest {self.generation}"]
        for s in rebuilt:
            where = f" on {s['worker']}" if s["worker"] else ""
            lines.append(f"  shard {s['shard']}: {s['releases']} releases, {s['paragraphs']} "
                         f"paragraphs, {s['seconds']:.1f} s{where}")
        return "\n".join(lines)


def _known(gen: Path) -> dict[str, tuple[str, str] | None]:
    """``doc_id -> (content hash, location)`` of a shard generation's releases."""
    ix = whoosh.index.open_dir(str(gen), indexname=storage.INDEX_NAME)
    with ix.searcher() as s:
        out = {}
        for f in s.documents(head="1"):
            rec = ReleaseRecord.from_stored(f.get("release"))
            out[f["doc_id"]] = (rec.content_hash, rec.location) if rec else None
        return out


def reindex_sharded(sources: Iterable[str | os.PathLike] = ("seeds",),
                    index_dir: str | os.PathLike = "index", *, shards: int | None = None,
                    full: bool = False, userdict: str | os.PathLike | None = None,
                    follow_links: bool = False, run: Run = run_here,
                    synonyms: str | os.PathLike | None = None) -> ShardedReport:
    """Bring the sharded index in ``index_dir`` in line with ``sources``, building the shards
    with ``run``.

    ``shards``: how many (default: as many as the live index has, else 1); a different number
    rebuilds every shard. Otherwise only the shards whose releases were added, changed or
    removed are rebuilt. Then one manifest names every shard's generation. Raises as
    :func:`search.indexer.build_index` does, and what ``run`` raises (nothing published).
    ``synonyms`` is installed in ``index_dir`` as by :func:`search.indexer.build_index`
    (every shard's searches read that one).
    """
    t0 = time.perf_counter()
    sources = [Path(s) for s in sources]
    index_dir = Path(index_dir)
    if shards is not None and not 1 <= shards <= MAX_SHARDS:
        raise SearchError(f"the number of shards must be between 1 and {MAX_SHARDS}")
    found, files, udpath, synpath, lexicon = gather_sources(sources, userdict, synonyms,
                                                            follow_links)
    fingerprint = _fingerprint(lexicon)

    with _sigterm_interrupts(), storage.ReindexLock(index_dir):
        checkpoint("locked")
        remove_leftovers(index_dir)
        live = _live(index_dir)
        count = shards or (live.count if live else 1)
        reason = "asked for (--full)" if full else ""
        if not full:
            if live is None:
                full, reason = True, ("previous index unreadable" if is_sharded(index_dir)
                                      else "no sharded index yet")
            elif live.count != count:
                full, reason = True, f"the number of shards changed ({live.count} to {count})"
            elif live.fingerprint != fingerprint:
                full, reason = True, "analyzer, repair or user dictionary changed"
        known: list[dict] = [{} for _ in range(count)]
        if not full:
            try:
                known = [_known(p) for p in live.paths()]
            except Exception:  # Whoosh raises many kinds on damaged files
                full, reason, known = True, "previous index unreadable", [{} for _ in range(count)]
        # One pass over the sources reading ids and hashes only (nothing decoded or parsed):
        # what each shard holds now, and so which shards changed.
        seen: list[dict[str, tuple[str, str]]] = [{} for _ in range(count)]
        scan_problems: list[Problem] = []

        def note(doc_id, digest, where):
            seen[shard_of(doc_id, count)][doc_id] = (digest, where)
            return True

        for _rel in read_releases(files, scan_problems, skip=note):
            pass
        report = ShardedReport(index_dir=str(index_dir), generation="", full=full)
        changed = []
        for k in range(count):
            now, before = seen[k], known[k]
            report.added += sum(1 for d in now if d not in before)
            report.updated += sum(1 for d in now if d in before and before[d] != now[d])
            report.removed += sum(1 for d in before if d not in now)
            report.unchanged += sum(1 for d in now if before.get(d) == now[d])
            if full or now != before:
                changed.append(k)
        if full:
            report.added, report.updated, report.removed, report.unchanged = (
                sum(len(s) for s in seen), 0, 0, 0)
        tasks = [ShardTask(tuple(str(s) for s in sources), str(index_dir), k, count,
                           str(udpath) if udpath else None, follow_links) for k in changed]
        results: dict[int, ShardReport] = {}
        published = False
        try:
            if tasks:
                for r in run(tasks, {k: len(seen[k]) for k in changed}):
                    results[r.shard] = r
                gens = [results[k].generation if k in results else live.generations[k]
                        for k in range(count)]
                checkpoint("shards-written")
                publish_manifest(index_dir, gens, fingerprint, (live.serial + 1) if live else 1)
                published = True
            else:
                gens = list(live.generations)
        finally:
            if not published:
                for r in results.values():
                    shutil.rmtree(index_dir / r.generation, ignore_errors=True)
        prune(index_dir)
        if synpath is not None:
            storage.install_file(synpath, index_dir, SYNONYMS_NAME)
    manifest = read_manifest(index_dir)
    report.generation = manifest.name
    problems: list[Problem] = list(found)
    seen_problems = {(p.source, p.message) for p in problems}
    for r in [*(results[k] for k in sorted(results))]:
        for p in r.problems:
            if (p.source, p.message) not in seen_problems:
                seen_problems.add((p.source, p.message))
                problems.append(p)
    repairs: Counter = Counter()
    tally: Counter = Counter()
    for k in range(count):
        if k in results:
            r = results[k]
        else:
            meta = storage.read_meta(index_dir / gens[k])
            r = ShardReport(shard=k, generation=gens[k], releases=meta.get("releases", 0),
                            paragraphs=meta.get("paragraphs", 0), rebuilt=False)
        repairs.update(r.repairs)
        tally.update(r.skipped_records)
        report.releases += r.releases
        report.paragraphs += r.paragraphs
        d = asdict(r)
        d.pop("problems")
        report.shards.append(d)
    report.repairs = dict(repairs)
    report.skipped_records = dict(tally)
    report.problems = problems
    report.reason = reason
    report.seconds = round(time.perf_counter() - t0, 2)
    return report
