"""On-disk layout of an index directory: generations, the CURRENT pointer and the writer lock.

::

    index/
      CURRENT          name of the live generation, replaced atomically (write + rename)
      g000003/         a complete Whoosh index plus meta.json
      .reindex.lock    held (flock) by the one running reindex; the lock dies with its process

A full reindex writes a new generation beside the live one and only then switches CURRENT, so a
reindex killed at any moment leaves the previous generation complete and searchable. Incremental
updates commit into the live generation through Whoosh's own atomic table-of-contents rename.
What a killed reindex leaves (an unpublished generation, an uncommitted segment) is removed by
the next one once it holds the lock; a generation is complete once its ``meta.json`` is written
(last), and only complete ones are kept beside the live one.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import stat
from pathlib import Path

from .errors import (
    IndexAccessError,
    IndexCorruptError,
    IndexNotFoundError,
    ReindexLockedError,
)
from .whoosh_w3 import discard_uncommitted

CURRENT = "CURRENT"
#: The manifest of a sharded index (see search.shards), in place of CURRENT.
SHARDS = "SHARDS"
LOCK = ".reindex.lock"
META = "meta.json"
INDEX_NAME = "MAIN"
_GEN_RE = re.compile(r"^g(\d{6,})$")


def current_generation(index_dir: str | os.PathLike) -> Path:
    """The live generation's directory; raises IndexNotFoundError if there is none."""
    root = Path(index_dir)
    try:
        # Look before reading: a folder cannot be read, and reading a FIFO blocks for ever.
        if not stat.S_ISREG(os.stat(root / CURRENT).st_mode):
            raise IndexCorruptError(
                f"{root / CURRENT} is not a file (it should name the live generation); "
                "run `release-search reindex --full` to replace it", str(root / CURRENT))
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"no index in {root}: run `release-search reindex` to build one") from None
    except OSError as exc:
        raise IndexCorruptError(f"cannot read {root / CURRENT} ({exc.strerror}); "
                                "run `release-search reindex --full`", str(root / CURRENT)) from None
    if not _GEN_RE.match(name) or not (root / name).is_dir():
        raise IndexCorruptError(
            f"{root / CURRENT} names a missing generation {name!r}; "
            "run `release-search reindex --full`", str(root / CURRENT))
    return root / name


def has_index(index_dir: str | os.PathLike) -> bool:
    try:
        current_generation(index_dir)
    except (IndexNotFoundError, IndexCorruptError):
        return False
    return True


def generations(index_dir: str | os.PathLike) -> list[Path]:
    root = Path(index_dir)
    if not root.is_dir():
        return []
    gens = [p for p in root.iterdir() if _GEN_RE.match(p.name) and p.is_dir()]
    return sorted(gens, key=lambda p: int(p.name[1:]))


def new_generation(index_dir: str | os.PathLike) -> Path:
    """Create and return an empty directory for the next generation."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    gens = generations(root)
    n = int(gens[-1].name[1:]) + 1 if gens else 1
    path = root / f"g{n:06d}"
    path.mkdir()
    return path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_tree(path: Path) -> None:
    """fsync every file of ``path`` and the directory itself (Whoosh does not)."""
    for child in path.iterdir():
        if child.is_file():
            fd = os.open(child, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(path)


def publish(index_dir: str | os.PathLike, generation: Path) -> None:
    """Atomically make ``generation`` the live one, once its files are on disk."""
    root = Path(index_dir)
    sync_tree(generation)
    tmp = root / f"{CURRENT}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(generation.name + "\n")
            f.flush()
            os.fsync(f.fileno())
        # A folder named CURRENT (damage: current_generation says so and sends the user here)
        # cannot be renamed over; the index directory is ours, so clear it. Any other kind of
        # file, a FIFO say, is replaced by the rename itself.
        current = root / CURRENT
        if current.is_dir() and not current.is_symlink():
            shutil.rmtree(current)
        os.replace(tmp, current)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(root)


def is_complete(generation: Path) -> bool:
    """Whether a generation was written to the end: a full reindex writes its ``meta.json``
    last (write and rename), once the rest is committed."""
    return (generation / META).is_file()


def remove_leftovers(index_dir: str | os.PathLike) -> None:
    """Delete what killed reindexes left: generations newer than the live one (never
    published), temporary CURRENT files, and in the live generation an update's uncommitted
    segment and staged meta.json; only called while holding the reindex lock."""
    root = Path(index_dir)
    try:
        live = current_generation(root)
    except (IndexNotFoundError, IndexCorruptError):
        return  # which generations are leftovers is not known: a full rebuild follows
    for g in generations(root):
        if int(g.name[1:]) > int(live.name[1:]):
            shutil.rmtree(g, ignore_errors=True)
    for p in root.glob(f"{CURRENT}.tmp*"):
        p.unlink(missing_ok=True)
    (live / (META + ".tmp")).unlink(missing_ok=True)
    try:
        # No writer runs (the lock is held), and committing writers already deleted the files
        # that earlier states used: what the newest state does not use is a killed writer's.
        discard_uncommitted(str(live), INDEX_NAME)
    except Exception:  # an unreadable live index: the reindex finds out, and rebuilds
        pass


def install_file(source: Path, index_dir: str | os.PathLike, name: str) -> None:
    """Copy ``source`` to ``index_dir/name`` atomically (a reader sees the old or the new
    file, never half of one); only called while holding the reindex lock."""
    target = Path(index_dir) / name
    tmp = target.with_name(name + ".tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise write_error(exc, f"install {name}", index_dir) from None


def prune(index_dir: str | os.PathLike, keep: int = 2) -> None:
    """Delete generations other than the live one and the ``keep - 1`` complete ones before it
    (for searchers that still have them open), and what killed reindexes left; only called
    while holding the reindex lock."""
    root = Path(index_dir)
    live = current_generation(root)
    remove_leftovers(root)
    older = [g for g in generations(root) if int(g.name[1:]) < int(live.name[1:])]
    complete = [g for g in older if is_complete(g)]
    kept = complete[len(complete) - (keep - 1):] if keep > 1 else []
    for g in older:
        if g not in kept:
            shutil.rmtree(g, ignore_errors=True)


def read_meta(generation: Path) -> dict:
    try:
        return json.loads((generation / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorruptError(f"{generation / META} is missing; run `release-search reindex "
                                "--full`", str(generation / META)) from None
    except (OSError, ValueError):
        raise IndexCorruptError(f"{generation / META} is damaged; run `release-search reindex "
                                "--full`", str(generation / META)) from None


def stage_meta(generation: Path, meta: dict) -> Path:
    """Write ``meta`` beside the generation's ``meta.json``, on disk, for
    :func:`replace_meta` to put in place (so that a full disk stops the reindex before it
    commits rather than after)."""
    tmp = generation / (META + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def replace_meta(staged: Path) -> None:
    """Make a :func:`stage_meta` file the generation's ``meta.json`` (a rename: no room
    needed)."""
    os.replace(staged, staged.parent / META)


def write_meta(generation: Path, meta: dict) -> None:
    replace_meta(stage_meta(generation, meta))


#: The errors of a write that found no room: a full file system, a full quota, or the
#: process's file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored as Python does).
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def write_error(exc: OSError, what: str, index_dir: str | os.PathLike) -> IndexAccessError:
    """The error to raise for ``exc``, raised while writing ``what`` (and cleaned up after):
    ``no space left on device while writing <what>; the previous index is unchanged``."""
    kept = ("the previous index is unchanged" if has_index(index_dir)
            else "no index was written")
    reason = (exc.strerror or os.strerror(exc.errno or 0)) if exc.errno else str(exc)
    if exc.errno in NO_ROOM:
        return IndexAccessError(f"{reason[:1].lower()}{reason[1:]} while writing {what}; {kept}")
    return IndexAccessError(f"cannot write {what} ({reason}); {kept}")


# Lock descriptors this process holds. Forked children (the bulk writer's workers) close their
# copies, so the lock dies with the reindex process itself, and they are killed if it dies: a
# ``kill -9`` of a parallel reindex leaves neither a held lock nor orphaned workers.
_held_fds: set[int] = set()


def _set_parent_death_signal() -> None:
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):  # not Linux: the workers exit when their queue closes
        pass


_forking_pid = 0  # the process that is forking (set just before the fork)


def _before_fork() -> None:
    global _forking_pid
    _forking_pid = os.getpid()


def _after_fork_in_child() -> None:
    if not _held_fds:
        return
    for fd in list(_held_fds):
        try:
            os.close(fd)
        except OSError:
            pass
    _held_fds.clear()
    _set_parent_death_signal()
    if os.getppid() != _forking_pid:  # the parent died before the signal was set: follow it
        os._exit(1)


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


class ReindexLock:
    """An exclusive, non-blocking lock on an index directory for the length of a reindex.

    Uses ``flock``: the kernel drops it when the holder exits, even on ``kill -9``, so a crashed
    reindex never leaves a lock that needs cleaning up by hand (forked workers close their copy
    of the descriptor and die with the reindex).
    """

    def __init__(self, index_dir: str | os.PathLike):
        self.root = Path(index_dir)
        self._fd: int | None = None

    def __enter__(self) -> ReindexLock:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise IndexAccessError(
                f"cannot write the index directory {self.root}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
                who = f" (pid {holder})" if holder.isdigit() else ""
                raise ReindexLockedError(
                    f"another reindex is running on {self.root}{who}; "
                    "wait for it to finish and try again") from None
            raise
        try:  # the holder's pid, for the message above: not worth failing for (a full disk)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        except OSError:
            pass
        self._fd = fd
        _held_fds.add(fd)
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            _held_fds.discard(self._fd)
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def dir_size(path: str | os.PathLike) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, name))
            except OSError:
                pass
    return total
