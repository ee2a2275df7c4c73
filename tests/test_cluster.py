"""Sharded indexes on real Dask processes: a LocalCluster (processes, two workers of one
thread) builds and searches the shards; and end to end, a ``dask scheduler`` and ``dask worker``
processes on loopback, a worker killed while it builds a shard and another while it searches.

Kills are deterministic: the worker to kill has ``RELEASE_SEARCH_FAULT=<stage>:hold`` and the
test kills it once it says it is held there (search.faults)."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

distributed = pytest.importorskip("distributed")

from search import ClusterError, build_index, open_index  # noqa: E402
from search.cluster import reindex_on_cluster  # noqa: E402
from search.shards import read_manifest, shard_of  # noqa: E402

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CMRC = DATA / "cmrc2018_subset"
DRCD = DATA / "drcd_releases_subset"
TIMEOUT = 120  # a bound on every wait, never a synchronisation


def queries(path: Path, n: int | None = None) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines][:n]


def ranking(ix, query: str, **kw) -> tuple:
    r = ix.search(query, **kw)
    return r.total, [(h.doc_id, h.paragraph, h.score, h.snippet) for h in r.hits]


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster() -> Iterator:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0", host="127.0.0.1") as c:
        yield c


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Iterator:
    path = tmp_path_factory.mktemp("single") / "index"
    build_index([CMRC / "corpus.jsonl"], path)
    with open_index(path) as ix:
        yield ix


def test_local_cluster_builds_shards_that_rank_as_one_index(cluster, single, tmp_path):
    index = tmp_path / "index"
    seen: list[tuple[int, int, int]] = []
    report = reindex_on_cluster([CMRC / "corpus.jsonl"], index, shards=2,
                                scheduler=cluster.scheduler_address,
                                progress=lambda k, d, t: seen.append((k, d, t)))
    ids = [json.loads(line)["id"] for line in
           (CMRC / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    counts = [sum(1 for i in ids if shard_of(i, 2) == k) for k in range(2)]
    assert [s["releases"] for s in report.shards] == counts
    assert report.releases == 122 and report.full
    assert {s["worker"] for s in report.shards} <= set(cluster.scheduler_info["workers"])
    # Each shard's last progress event says it is done, with its total.
    for k in range(2):
        assert [x for x in seen if x[0] == k][-1] == (k, counts[k], counts[k])
    with open_index(index) as many:
        for q in queries(CMRC / "queries.jsonl", 60):
            assert ranking(many, q) == ranking(single, q)


def test_actors_search_the_shards_and_a_lost_one_is_recreated(cluster, single, tmp_path):
    index = tmp_path / "index"
    reindex_on_cluster([CMRC / "corpus.jsonl"], index, shards=3,
                       scheduler=cluster.scheduler_address)
    with open_index(index, scheduler=cluster.scheduler_address) as many:
        qs = queries(CMRC / "queries.jsonl", 30)
        for q in qs[:10]:
            assert ranking(many, q) == ranking(single, q)
        assert many.document("DEV_0") == single.document("DEV_0")
        for kw in ({"sort": "newest", "per_page": 20}, {"section": "title", "page": 2}):
            a, b = many.search("战国 游戏", **kw).to_dict(), single.search("战国 游戏", **kw).to_dict()
            a.pop("took_ms"), b.pop("took_ms")
            assert a == b and a["facets"]["section"]
        assert many.stats().paragraphs == single.stats().paragraphs
        # Kill the worker process holding shard 0's actor; the nanny starts a new one.
        shards = many._shards
        where = shards._actors[0][2]
        pid = shards.client.run(os.getpid, workers=[where])[where]
        os.kill(pid, signal.SIGKILL)
        for q in qs[10:]:
            assert ranking(many, q) == ranking(single, q)
        assert shards.recreated >= 1


def test_an_unreachable_scheduler_is_a_clean_error(tmp_path):
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "search", "reindex", str(CMRC / "corpus.jsonl"), "--index-dir",
         str(tmp_path / "index"), "--shards", "2", "--scheduler", f"tcp://127.0.0.1:{port}"],
        env=env(DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="1s"), capture_output=True, text=True,
        timeout=TIMEOUT)
    assert done.returncode == 1
    assert done.stderr == (f"Error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} "
                           "(OSError)\n")
    assert not (tmp_path / "index" / "SHARDS").exists()
    with pytest.raises(ClusterError):
        open_index(tmp_path / "index", scheduler="tcp://127.0.0.1:1")


# -- end to end: dask scheduler and dask worker processes --------------------------------


class Held:
    """A worker process whose standard error is read line by line in a thread."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str) -> str:
        while True:
            line = self.lines.get(timeout=TIMEOUT)
            assert line is not None, f"the worker ended before {text!r}"
            if text in line:
                return line


def start_worker(address: str, name: str, log: Path, fault: str | None = None):
    cmd = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
           "--no-dashboard", "--name", name]
    if fault:  # no nanny: killing the process kills the worker for good
        proc = subprocess.Popen([*cmd, "--no-nanny"], env=env(RELEASE_SEARCH_FAULT=fault),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        return Held(proc)
    with open(log, "w") as out:
        return subprocess.Popen(cmd, env=env(), stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_dask_processes_build_and_serve_with_workers_killed(tmp_path):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []
    try:
        with open(tmp_path / "scheduler.log", "w") as log:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                 "--port", str(port), "--no-dashboard"], env=env(), stdout=log,
                stderr=subprocess.STDOUT))
        steady = start_worker(address, "steady", tmp_path / "steady.log")
        procs.append(steady)
        doomed = start_worker(address, "doomed", tmp_path / "doomed.log", "shard-reading:hold")
        procs.append(doomed.proc)
        client = distributed.Client(address, timeout=TIMEOUT)
        client.wait_for_workers(2, timeout=TIMEOUT)
        steady_address = next(a for a, w in client.scheduler_info()["workers"].items()
                              if w["name"] == "steady")

        # A reindex whose worker dies mid-build: its shard is built again on the other.
        index = tmp_path / "index"
        reindex = subprocess.Popen(
            [sys.executable, "-m", "search", "reindex", str(DRCD / "releases.jsonl"),
             "--index-dir", str(index), "--shards", "4", "--scheduler", address, "--json"],
            env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(reindex)
        doomed.wait_for("held at shard-reading")
        doomed.proc.kill()
        out, err = reindex.communicate(timeout=TIMEOUT)
        assert reindex.returncode == 0, err
        report = json.loads(out)
        assert [s["worker"] for s in report["shards"]] == [steady_address] * 4
        assert report["releases"] == 38
        single = tmp_path / "single"
        build_index([DRCD / "releases.jsonl"], single)
        qs = queries(DRCD / "queries.jsonl")
        with open_index(single) as one, open_index(index) as many:
            for q in qs:
                assert ranking(many, q) == ranking(one, q)
            expected = {q: one.search(q).to_dict() for q in qs[:3]}

        # Served from actors; a worker holding some of them dies during a search.
        searcher = start_worker(address, "searcher", tmp_path / "searcher.log",
                                "shard-searching:hold")
        procs.append(searcher.proc)
        client.wait_for_workers(2, timeout=TIMEOUT)
        web_port = free_port()
        serve = subprocess.Popen(
            [sys.executable, "-m", "search", "serve", "--index-dir", str(index), "--port",
             str(web_port), "--scheduler", address], env=env(), stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)
        procs.append(serve)
        for line in serve.stdout:
            if line.startswith("Serving on"):
                break
        answers: queue.Queue = queue.Queue()

        def ask(q: str) -> None:
            url = f"http://127.0.0.1:{web_port}/api/search?q={quote(q)}"
            with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
                answers.put(json.loads(r.read()))

        def same(got: dict, want: dict) -> None:
            keys = ("doc_id", "paragraph", "score", "snippet")
            assert got["total"] == want["total"]
            assert [[h[k] for k in keys] for h in got["hits"]] == \
                [[h[k] for k in keys] for h in want["hits"]]

        asking = threading.Thread(target=ask, args=(qs[0],))
        asking.start()
        searcher.wait_for("held at shard-searching")
        searcher.proc.kill()
        same(answers.get(timeout=TIMEOUT), expected[qs[0]])
        asking.join()
        for q in qs[1:3]:
            ask(q)
            same(answers.get(timeout=TIMEOUT), expected[q])
        client.close()
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.kill()
            p.wait()
            for stream in (p.stdout, p.stderr):
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()


@pytest.mark.slow
def test_a_shard_that_cannot_be_built_fails_the_reindex_and_keeps_the_old_index(tmp_path):
    from conftest import make_releases, write_release

    from search.shards import reindex_sharded

    src = tmp_path / "src"
    make_releases(src, 6)
    index = tmp_path / "index"
    reindex_sharded([src], index, shards=2)
    write_release(src, "gen0001", "改了", "新的内容：鲲鹏展翅。")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []
    try:
        with open(tmp_path / "scheduler.log", "w") as log:  # a task may lose no worker
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                 "--port", str(port), "--no-dashboard"],
                env=env(DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0"), stdout=log,
                stderr=subprocess.STDOUT))
        doomed = start_worker(address, "doomed", tmp_path / "doomed.log", "shard-reading:hold")
        procs.append(doomed.proc)
        reindex = subprocess.Popen(
            [sys.executable, "-m", "search", "reindex", str(src), "--index-dir", str(index),
             "--scheduler", address], env=env(), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        procs.append(reindex)
        doomed.wait_for("held at shard-reading")
        doomed.proc.kill()
        out, err = reindex.communicate(timeout=TIMEOUT)
        assert (reindex.returncode, out) == (1, "")
        assert err.startswith("Error: a shard could not be built: the workers running it died")
        assert err.endswith("the previous index is unchanged\n") and "Traceback" not in err
        assert read_manifest(index).serial == 1
        with open_index(index) as ix:
            assert ix.search("鲲鹏展翅").total == 0 and ix.stats().releases == 6
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.kill()
            p.wait()
            for stream in (p.stdout, p.stderr):
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()
