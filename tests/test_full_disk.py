"""A reindex on a full file system: one clean error line, nothing half-written left behind, the
previous index unchanged, and the next reindex works once there is room again.

The file system is real: a small tmpfs mounted for the test (we run as root here and in CI),
filled by a filler file but for a few kilobytes. Where mounting is not allowed, the reindex runs
with a file size limit instead (``RLIMIT_FSIZE``, SIGXFSZ ignored: a write past it fails with
EFBIG, which the reindex treats like ENOSPC); the ``fsize`` tests always run that way, so both
kinds of full disk are tested wherever the tests run.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from search import open_index, storage
from search.check import check_index

from conftest import ROOT, make_releases

#: What the full disk has left for the failing reindex: less than any reindex here writes.
ROOM = 40 * 1024
TMPFS_SIZE = "2m"
WRITER_LOCK = f"{storage.INDEX_NAME}_WRITELOCK"  # Whoosh's (empty) lock file, kept by design


class Disk:
    """The file system an index lives on, which a test can fill.

    ``tmpfs``: a tmpfs mounted at ``root / "mnt"``, filled by a filler file. ``fsize`` (or
    ``tmpfs`` where mounting fails): a folder of the test's, and "full" means the reindex runs
    with ``RLIMIT_FSIZE`` set to the room left.
    """

    def __init__(self, root: Path, kind: str):
        self.mount = root / "mnt"
        self.mount.mkdir()
        self.kind = kind
        if kind == "tmpfs":
            try:
                mounted = subprocess.run(
                    ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs",
                     str(self.mount)], capture_output=True).returncode == 0
            except OSError:  # no mount command
                mounted = False
            if not mounted:  # not allowed here: the other kind of full disk
                self.kind = "fsize"
        self.index_dir = self.mount / "index"
        self._filler = self.mount / "filler"
        self._limit: int | None = None
        #: How the failing reindex's error message names the cause.
        self.reason = os.strerror(errno.ENOSPC if self.kind == "tmpfs" else errno.EFBIG).lower()

    def fill(self, room: int) -> None:
        """Leave only ``room`` bytes for the next reindex."""
        if self.kind != "tmpfs":
            self._limit = room
            return
        self._filler.unlink(missing_ok=True)
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            written, block = 0, b"\0" * 65536
            while True:
                try:
                    written += os.write(fd, block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    if len(block) == 1:
                        break
                    block = block[: len(block) // 2]
            os.ftruncate(fd, max(0, written - room))
        finally:
            os.close(fd)

    def make_room(self) -> None:
        self._filler.unlink(missing_ok=True)
        self._limit = None

    def _limit_file_size(self) -> None:  # in the child, before exec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE,
                           (self._limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    def reindex(self, src: Path, *args: str) -> subprocess.CompletedProcess:
        """``python -m search reindex`` of ``src`` into the index on this disk."""
        return subprocess.run(
            [sys.executable, "-m", "search", "reindex", str(src), "--index-dir",
             str(self.index_dir), *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
            preexec_fn=self._limit_file_size if self._limit is not None else None)

    def unmount(self) -> None:
        if self.kind == "tmpfs":
            if subprocess.run(["umount", str(self.mount)]).returncode != 0:
                subprocess.run(["umount", "-l", str(self.mount)], check=True)


@pytest.fixture(params=["tmpfs", "fsize"])
def disk(request, tmp_path: Path):
    d = Disk(tmp_path, request.param)
    request.addfinalizer(d.unmount)
    return d


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def index_files(folder: Path) -> list[str]:
    return [name for name in files(folder) if name != WRITER_LOCK]


def answers(ix_dir: Path) -> tuple:
    with open_index(ix_dir) as ix:
        st = ix.stats()
        return (ix.generation, st.releases, st.paragraphs, ix.document("gen0007").title,
                ix.search("全新标记").total)


#: The small index the tests start from: 30 releases of 2 paragraphs.
SMALL = ("g000001", 30, 90, "第7号新闻发布会", 0)


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    make_releases(src, 30, seed=1, paragraphs=2)
    return src


def grow(src: Path) -> None:
    """30 releases changed and 30 added, 1,260 paragraphs: an update, not a rebuild."""
    make_releases(src, 60, seed=3, paragraphs=20, marker="全新标记")


def test_an_update_on_a_full_disk_fails_cleanly_and_works_once_there_is_room(
        disk: Disk, sources: Path) -> None:
    assert disk.reindex(sources).returncode == 0
    live = storage.current_generation(disk.index_dir)
    before = index_files(live)
    assert answers(disk.index_dir) == SMALL
    grow(sources)
    error = (f"Error: {disk.reason} while writing the update to {live}; "
             "the previous index is unchanged\n")
    # Room for part of the update; then none at all (even the lock's pid cannot be written).
    for room in (ROOM, 0):
        disk.fill(room)
        done = disk.reindex(sources)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", error), room
        assert index_files(live) == before, room  # no partial segment, no MAIN.tmp
        assert sorted(p.name for p in disk.index_dir.iterdir()) == sorted(
            [storage.CURRENT, storage.LOCK, "g000001"])
        assert answers(disk.index_dir) == SMALL
    disk.make_room()
    done = disk.reindex(sources)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout.startswith("incremental reindex: 30 added, 30 updated, 0 removed")
    assert answers(disk.index_dir) == ("g000001", 60, 1260, "第7号新闻发布会", 60)
    assert check_index(disk.index_dir).problems == []


@pytest.mark.parametrize("procs", ["1", "2"])
def test_a_rebuild_on_a_full_disk_fails_cleanly_and_works_once_there_is_room(
        disk: Disk, sources: Path, procs: str) -> None:
    assert disk.reindex(sources).returncode == 0
    live = storage.current_generation(disk.index_dir)
    before = files(live)
    grow(sources)
    error = (f"Error: {disk.reason} while writing the new index in "
             f"{disk.index_dir / 'g000002'}; the previous index is unchanged\n")
    for room in (ROOM, 0):
        disk.fill(room)
        done = disk.reindex(sources, "--full", "--procs", procs)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", error), room
        # The half-written generation is gone, and nothing else was touched.
        assert [g.name for g in storage.generations(disk.index_dir)] == ["g000001"], room
        assert (disk.index_dir / storage.CURRENT).read_text(encoding="utf-8") == "g000001\n"
        assert not list(disk.index_dir.glob(f"{storage.CURRENT}.tmp*"))
        assert files(live) == before
        assert answers(disk.index_dir) == SMALL
    disk.make_room()
    done = disk.reindex(sources, "--full", "--procs", procs)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert answers(disk.index_dir) == ("g000002", 60, 1260, "第7号新闻发布会", 60)
    assert check_index(disk.index_dir).problems == []


def test_a_first_build_on_a_full_disk_leaves_no_generation(disk: Disk, sources: Path) -> None:
    disk.fill(ROOM)
    done = disk.reindex(sources)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", f"Error: {disk.reason} while writing the new index in "
               f"{disk.index_dir / 'g000001'}; no index was written\n")
    assert storage.generations(disk.index_dir) == []
    assert not (disk.index_dir / storage.CURRENT).exists()
    disk.make_room()
    assert disk.reindex(sources).returncode == 0
    assert answers(disk.index_dir) == SMALL
