"""Soak test of one server process: many mixed requests, memory growth and file descriptors.

Sends ``--requests`` requests (searches with pages, filters and phrases, HTML pages, whole
releases, health, a few expected 404/400s) from ``--threads`` keep-alive clients to ONE server
process, and reads that process's ``/proc/PID``:

* resident memory (``VmRSS`` of ``/proc/PID/status``) after a warm-up and at the end of the
  request phase: the growth must stay under ``--max-growth`` (10 %);
* open file descriptors (``/proc/PID/fd``: regular files, sockets, deleted files) and mapped
  index files (``/proc/PID/maps``) before and after ``--reindexes`` reindexes run by another
  process (``python -m search reindex``, alternately full and incremental) while requests keep
  coming: once the server has switched to the new data (the engine closes a replaced generation
  as it opens the new one), the open files other than the index's must be back to where they
  were, and no deleted or superseded index file may stay open or mapped (the number of open
  index files follows the live index's segments: an incremental update adds one).

Every answer must have the expected status (200, or the 404/400 a request is meant to get) and
API answers must be valid JSON; anything else is an error.

Usage::

    python benchmarks/soak.py --serve --requests 50000
    python benchmarks/soak.py --url http://127.0.0.1:5000 --requests 50000 \\
        [--pid PID] [--index-dir index --source seeds]

With ``--url`` the server's PID is found from its listening port (or given with ``--pid``);
reindexes need ``--index-dir`` and ``--source`` (the server's own). Only loopback URLs.
Exit status 1 when a criterion fails.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SEED_DOC_ID = "dezhou-press-conference-13"
#: Longest wait for a server to start, a reindex to show, or old searchers to be closed.
SETTLE_LIMIT_S = 90.0
#: Largest accepted growth of resident memory over the request phase.
MAX_GROWTH = 0.10


# ------------------------------------------------------------------------------ the mix


def request_mix(doc_id: str = SEED_DOC_ID) -> list[tuple[str, int]]:
    """``(path, expected status)`` of the requests sent, in a fixed order (cycled through)."""
    q = lambda text: urllib.parse.quote(text, safe="")  # noqa: E731
    searches = ["统筹", "核酸檢測", "疫情防控", "外贸企业", "复工复产", '"核酸检测"', "统筹 -疫情",
                "商务局 OR 工信局", "section:answer 疫情", "量子计算机", "防汛抗旱", "德州", "冷链",
                "新闻发布会", "企业"]
    mix: list[tuple[str, int]] = []
    for i, text in enumerate(searches):
        mix.append((f"/api/search?q={q(text)}", 200))
        mix.append((f"/api/search?q={q(text)}&page=2&per_page={3 + i % 5}", 200))
        if i % 3 == 0:
            mix.append((f"/?q={q(text)}", 200))
            mix.append(("/api/health", 200))
    mix += [
        (f"/api/search?q={q('疫情')}&section=answer", 200),
        (f"/api/search?q={q('疫情')}&doc={q(doc_id)}&per_page=100", 200),
        (f"/?q={q('疫情')}&page=2", 200),
        (f"/api/documents/{q(doc_id)}", 200),
        (f"/doc/{q(doc_id)}?q={q('统筹')}&hl=2", 200),
        (f"/doc/{q(doc_id)}", 200),
        ("/", 200),
        ("/api/openapi.json", 200),
        ("/static/style.css", 200),
        ("/api/documents/no-such-release", 404),
        ("/doc/no-such-release", 404),
        ("/api/search?page=0", 400),
    ]
    return mix


@dataclass
class RequestTally:
    """Counts of one batch of requests."""

    sent: int = 0
    errors: int = 0
    samples: list[str] = field(default_factory=list)  # the first few errors
    seconds: float = 0.0

    def add(self, other: RequestTally) -> None:
        self.sent += other.sent
        self.errors += other.errors
        self.samples += other.samples[: max(0, 10 - len(self.samples))]
        self.seconds += other.seconds


def _one(session: requests.Session, base_url: str, path: str, expected: int) -> str | None:
    """Send one request; return a description of what went wrong, or None."""
    try:
        response = session.get(base_url + path, timeout=60)
        body = response.content
    except requests.RequestException as exc:
        return f"{path}: {type(exc).__name__}: {exc}"
    if response.status_code != expected:
        return f"{path}: status {response.status_code} (expected {expected})"
    if path.startswith("/api/"):
        try:
            json.loads(body)
        except ValueError:
            return f"{path}: invalid JSON"
    return None


def send_requests(base_url: str, count: int, threads: int = 8,
                  mix: Sequence[tuple[str, int]] | None = None, offset: int = 0) -> RequestTally:
    """Send ``count`` requests of ``mix`` (cycled, from ``offset``) over ``threads`` keep-alive clients."""
    mix = list(mix or request_mix())
    lock = threading.Lock()
    state = {"next": 0}
    tally = RequestTally()

    def worker() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    i = state["next"]
                    if i >= count:
                        return
                    state["next"] = i + 1
                path, expected = mix[(offset + i) % len(mix)]
                problem = _one(session, base_url, path, expected)
                with lock:
                    tally.sent += 1
                    if problem is not None:
                        tally.errors += 1
                        if len(tally.samples) < 10:
                            tally.samples.append(problem)

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, threads))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    tally.seconds = time.perf_counter() - t0
    return tally


# --------------------------------------------------------------------------- /proc/PID


@dataclass(frozen=True)
class FdCounts:
    """Open file descriptors of a process, by kind."""

    total: int
    files: int  # regular files and directories
    sockets: int
    deleted: int  # files deleted since they were opened
    other: int  # pipes, anon inodes, /dev/...


def rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` in KiB (``VmRSS`` of ``/proc/PID/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def fd_counts(pid: int) -> FdCounts:
    """Count ``/proc/PID/fd`` by what each descriptor points to."""
    files = sockets = deleted = other = 0
    for entry in os.scandir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(entry.path)
        except FileNotFoundError:  # closed while we looked
            continue
        if target.startswith("socket:"):
            sockets += 1
        elif target.endswith(" (deleted)"):
            deleted += 1
        elif target.startswith("/") and not target.startswith("/dev/"):
            files += 1
        else:
            other += 1
    return FdCounts(total=files + sockets + deleted + other, files=files, sockets=sockets,
                    deleted=deleted, other=other)


def open_index_files(pid: int, index_dir: Path) -> list[str]:
    """Index files ``pid`` holds open or mapped (``/proc/PID/fd`` and ``/proc/PID/maps``)."""
    root = str(Path(index_dir).resolve())
    found: set[str] = set()
    for entry in os.scandir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(entry.path)
        except FileNotFoundError:
            continue
        if target.startswith(root + "/"):
            found.add(target)
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5].startswith(root + "/"):
            found.add(parts[5])
    return sorted(found)


def index_fd_count(pid: int, index_dir: Path) -> int:
    """Descriptors of ``pid`` open on files under ``index_dir``."""
    root = str(Path(index_dir).resolve()) + "/"
    count = 0
    for entry in os.scandir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(entry.path).startswith(root):
                count += 1
        except FileNotFoundError:
            continue
    return count


def stale_index_files(pid: int, index_dir: Path) -> list[str]:
    """Open or mapped index files that are deleted or outside the live generation."""
    live = (Path(index_dir).resolve() / (Path(index_dir) / "CURRENT").read_text().strip())
    return [f for f in open_index_files(pid, index_dir)
            if f.endswith(" (deleted)") or not f.startswith(str(live) + "/")]


def listening_pid(port: int) -> int | None:
    """The PID of the process listening on TCP ``port`` (from ``/proc/net/tcp*``), if visible."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for entry in os.scandir(proc / "fd"):
                target = os.readlink(entry.path)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


# ------------------------------------------------------------------------------ reindex


def extra_release(i: int) -> str:
    """The text of the ``i``-th release added by the soak's reindexes."""
    return (f"济南市召开防汛抗旱工作第{i + 1}场新闻发布会\n"
            f"6月{i % 28 + 1}日,济南市政府新闻办公室召开防汛抗旱工作新闻发布会,介绍汛期准备情况。\n"
            f"记者:今年汛期做了哪些准备?\n"
            f"市水务局副局长王明:全市已储备防汛物资,组织防汛抗旱演练{i + 2}次。\n")


def run_reindex(index_dir: Path, sources: Sequence[Path], full: bool) -> str:
    """``python -m search reindex`` in a child process; returns its summary line."""
    cmd = [sys.executable, "-m", "search", "reindex", *map(str, sources), "--index-dir", str(index_dir)]
    if full:
        cmd.append("--full")
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    if done.returncode != 0:
        raise RuntimeError(f"reindex failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


# ------------------------------------------------------------------------------ the soak


@dataclass
class SoakReport:
    """Figures of one soak run."""

    url: str
    pid: int | None
    threads: int
    requests: int  # total sent, all phases
    errors: int
    error_samples: list[str]
    request_phase_s: float
    requests_per_s: float
    rss_after_warmup_kb: int | None
    rss_end_kb: int | None
    rss_growth: float | None  # (end - warm-up) / warm-up
    reindexes: int = 0
    reindex_summaries: list[str] = field(default_factory=list)
    generation_before: str | None = None
    generation_after: str | None = None
    releases_before: int | None = None
    releases_after: int | None = None
    rss_after_reindexes_kb: int | None = None
    fds_before: FdCounts | None = None
    fds_after: FdCounts | None = None
    # descriptors on index files: their number follows the live index's segment count
    index_fds_before: int = 0
    index_fds_after: int = 0
    stale_files: list[str] = field(default_factory=list)
    settle_s: float = 0.0
    max_growth: float = MAX_GROWTH

    def failures(self) -> list[str]:
        """The criteria this run failed (empty when it passed)."""
        out = []
        if self.errors:
            out.append(f"{self.errors} failed requests")
        if self.rss_growth is not None and self.rss_growth >= self.max_growth:
            out.append(f"memory grew {self.rss_growth:.1%} (limit {self.max_growth:.0%})")
        if self.fds_before and self.fds_after:
            other_before = self.fds_before.files - self.index_fds_before
            other_after = self.fds_after.files - self.index_fds_after
            if other_after > other_before:
                out.append(f"open non-index files {other_before} -> {other_after}")
            if self.fds_after.deleted:
                out.append(f"{self.fds_after.deleted} deleted files still open")
        if self.stale_files:
            out.append(f"{len(self.stale_files)} superseded index files still open or mapped")
        if self.reindexes and self.releases_after != (self.releases_before or 0) + (self.reindexes + 1) // 2:
            out.append(f"releases {self.releases_before} -> {self.releases_after}: reindexes not served")
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def _health(base_url: str) -> dict:
    return requests.get(base_url + "/api/health", timeout=60).json()


def soak(base_url: str, pid: int | None, requests_total: int, *, threads: int = 8,
         warmup: int | None = None, reindexes: int = 0, index_dir: Path | None = None,
         sources: Path | None = None, max_growth: float = MAX_GROWTH) -> SoakReport:
    """Run the soak against the server at ``base_url`` (process ``pid``).

    The request phase sends ``requests_total`` requests, the first ``warmup`` of them before the
    memory baseline. Then, if ``reindexes`` > 0, the source folder ``sources`` (the server's)
    gets one more release before every other reindex and ``index_dir`` is reindexed that many
    times (full, incremental, full, ...) under load; the open files are compared once the server
    serves the last reindex and has closed the old searchers.
    """
    mix = request_mix()
    warmup = min(requests_total, warmup if warmup is not None else max(4 * len(mix), requests_total // 10))
    tally = send_requests(base_url, warmup, threads, mix)
    rss0 = rss_kb(pid) if pid else None
    main_phase = send_requests(base_url, requests_total - warmup, threads, mix, offset=warmup)
    rss1 = rss_kb(pid) if pid else None
    tally.add(main_phase)
    report = SoakReport(
        url=base_url, pid=pid, threads=threads, requests=0, errors=0, error_samples=[],
        request_phase_s=round(tally.seconds, 2),
        requests_per_s=round(tally.sent / tally.seconds, 1) if tally.seconds else 0.0,
        rss_after_warmup_kb=rss0, rss_end_kb=rss1,
        rss_growth=round((rss1 - rss0) / rss0, 4) if rss0 and rss1 else None,
        max_growth=max_growth)

    if reindexes and index_dir is not None and sources is not None:
        before = _health(base_url)
        report.generation_before, report.releases_before = before["generation"], before["releases"]
        report.fds_before = fd_counts(pid) if pid else None
        report.index_fds_before = index_fd_count(pid, index_dir) if pid else 0
        added = 0
        for i in range(reindexes):
            full = i % 2 == 0
            if full:  # a full rebuild gets a new release too, so every second one shows
                (sources / f"soak-extra-{added}.txt").write_text(extra_release(added), encoding="utf-8")
                added += 1
            else:  # an incremental one changes the newest release
                (sources / f"soak-extra-{added - 1}.txt").write_text(
                    extra_release(added - 1) + f"第{i}次修订。\n", encoding="utf-8")
            stop = threading.Event()
            during = RequestTally()

            def load() -> None:
                while not stop.is_set():
                    during.add(send_requests(base_url, 4 * threads, threads, mix))

            loader = threading.Thread(target=load, daemon=True)
            loader.start()
            try:
                report.reindex_summaries.append(run_reindex(index_dir, [sources], full))
            finally:
                stop.set()
                loader.join()
            tally.add(during)
        expected_releases = report.releases_before + added
        t0 = time.monotonic()
        deadline = t0 + SETTLE_LIMIT_S
        while True:  # let the server switch and close the old searchers
            settle = send_requests(base_url, 2 * threads, threads, mix)
            tally.add(settle)
            now = _health(base_url)
            fds = fd_counts(pid) if pid else None
            index_fds = index_fd_count(pid, index_dir) if pid else 0
            stale = stale_index_files(pid, index_dir) if pid else []
            switched = now["releases"] == expected_releases
            closed = (fds is None or (report.fds_before is not None and not fds.deleted
                                      and fds.files - index_fds
                                      <= report.fds_before.files - report.index_fds_before)) \
                and not stale
            if (switched and closed) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        report.settle_s = round(time.monotonic() - t0, 1)
        report.reindexes = reindexes
        report.generation_after, report.releases_after = now["generation"], now["releases"]
        report.fds_after = fds
        report.index_fds_after = index_fds
        report.stale_files = stale
        report.rss_after_reindexes_kb = rss_kb(pid) if pid else None
    report.requests, report.errors, report.error_samples = tally.sent, tally.errors, tally.samples
    return report


def format_report(r: SoakReport) -> str:
    """The figures as readable lines."""
    lines = [f"server {r.url} (pid {r.pid}), {r.threads} clients",
             f"requests: {r.requests} sent, {r.errors} errors; request phase {r.request_phase_s} s "
             f"({r.requests_per_s} req/s)"]
    lines += [f"  error: {s}" for s in r.error_samples]
    if r.rss_after_warmup_kb is not None:
        lines.append(f"memory (VmRSS): {r.rss_after_warmup_kb / 1024:.1f} MiB after warm-up -> "
                     f"{r.rss_end_kb / 1024:.1f} MiB at the end ({r.rss_growth:+.1%}, limit "
                     f"{r.max_growth:.0%})")
    if r.reindexes:
        lines.append(f"reindexes: {r.reindexes} under load; generation {r.generation_before} -> "
                     f"{r.generation_after}, releases {r.releases_before} -> {r.releases_after}; "
                     f"settled in {r.settle_s} s")
        lines += [f"  {s}" for s in r.reindex_summaries]
        if r.fds_before and r.fds_after:
            b, a = r.fds_before, r.fds_after
            lines.append(f"open fds: {b.total} -> {a.total} (files {b.files} -> {a.files}, sockets "
                         f"{b.sockets} -> {a.sockets}, deleted {b.deleted} -> {a.deleted}, other "
                         f"{b.other} -> {a.other}); superseded index files open or mapped: "
                         f"{len(r.stale_files)}; index files open {r.index_fds_before} -> "
                         f"{r.index_fds_after} (all in the live generation)")
        if r.rss_after_reindexes_kb is not None:
            lines.append(f"memory after the reindexes: {r.rss_after_reindexes_kb / 1024:.1f} MiB")
    failures = r.failures()
    lines.append("PASS" if not failures else "FAIL: " + "; ".join(failures))
    return "\n".join(lines)


# ------------------------------------------------------------------------------ --serve


class ServedIndex:
    """``release-search serve`` on a free loopback port over a fresh copy of the seeds."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.sources = workdir / "sources"
        self.index_dir = workdir / "index"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> ServedIndex:
        shutil.copytree(SEEDS, self.sources)
        run_reindex(self.index_dir, [self.sources], full=True)
        self.log = (self.workdir / "server.log").open("wb")
        self.out = self.workdir / "server.out"
        with self.out.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "search", "serve", "--index-dir", str(self.index_dir),
                 "--port", "0", "--source", str(self.sources)],
                cwd=REPO, stdout=out, stderr=self.log, env=dict(os.environ, PYTHONPATH=str(REPO),
                                                                PYTHONUNBUFFERED="1"))
        deadline = time.monotonic() + SETTLE_LIMIT_S
        while time.monotonic() < deadline:
            for line in self.out.read_text(errors="replace").splitlines():
                if line.startswith("Serving on http://"):
                    self.url = line.removeprefix("Serving on ").strip()
                    return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("the server did not start")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.log.close()


def check_loopback(url: str) -> str:
    """``url`` without a trailing slash, if it points at a loopback address (else ValueError)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"only loopback servers may be soaked, not {host!r}")
    return url.rstrip("/")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="base URL of a running server (loopback only)")
    ap.add_argument("--serve", action="store_true",
                    help="index a copy of seeds/, serve it on a free port, soak it, stop it")
    ap.add_argument("--pid", type=int, help="server PID (default: found from the --url port)")
    ap.add_argument("--requests", type=int, default=50_000)
    ap.add_argument("--warmup", type=int, default=None, help="requests before the memory baseline")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--reindexes", type=int, default=4)
    ap.add_argument("--index-dir", type=Path, help="with --url: the server's index (for reindexes)")
    ap.add_argument("--source", type=Path, help="with --url: the server's source folder")
    ap.add_argument("--max-growth", type=float, default=MAX_GROWTH)
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)
    if bool(args.url) == args.serve:
        ap.error("give exactly one of --url and --serve")

    def run(url: str, pid: int | None, index_dir: Path | None, sources: Path | None) -> SoakReport:
        return soak(url, pid, args.requests, threads=args.threads, warmup=args.warmup,
                    reindexes=args.reindexes if index_dir and sources else 0,
                    index_dir=index_dir, sources=sources, max_growth=args.max_growth)

    if args.serve:
        with tempfile.TemporaryDirectory(prefix="soak-") as tmp, ServedIndex(Path(tmp)) as served:
            report = run(served.url, served.pid, served.index_dir, served.sources)
    else:
        url = check_loopback(args.url)
        pid = args.pid or listening_pid(urllib.parse.urlsplit(url).port or 80)
        report = run(url, pid, args.index_dir, args.source)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) if args.json
          else format_report(report))
    return 1 if report.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
