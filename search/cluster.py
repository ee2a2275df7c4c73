"""Dask distributed runs a sharded index: the shards are built on a cluster's workers, and
searched in actors on them.

``dask`` and ``distributed`` are an optional extra (``pip install 'release-search[cluster]'``),
imported only here and only when a cluster is used.

* :func:`reindex_on_cluster`: :func:`search.shards.reindex_sharded` with each shard to rebuild
  one task on the cluster given by its scheduler's address (``tcp://host:8786``), or on a
  ``LocalCluster`` of this machine (processes, one worker per core, one thread each) otherwise:
  the same code path. Every worker reads the sources and writes its shard into the index
  directory, which all machines share (a network file system) at the same path. A worker that
  dies mid-build has its task run again on another (Dask reschedules the tasks of a lost
  worker); if it cannot be built (``distributed.scheduler.allowed-failures`` workers died with
  it, or the cluster is gone), the reindex raises :class:`ClusterError` and publishes nothing.
* :class:`ClusterShards`: one Dask actor per shard, a :class:`search.sharded.ShardSearcher`
  holding the shard open on a worker; a lost actor (its worker died) is created again on
  another worker and the call made again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence

from .errors import ClusterError, SearchError
from .shards import Manifest, ShardReport, ShardTask, build_shard, reindex_sharded
from .sharded import ShardSearcher

#: How long to wait for an actor to start (a scheduler is waited for as long as Dask's
#: ``distributed.comm.timeouts.connect`` says: 30 s by default).
CONNECT_TIMEOUT = 30
#: Attempts of a call to a shard's actor (each after creating it again on another worker).
ACTOR_ATTEMPTS = 3

#: ``progress(shard, done, total)``: releases of a shard written so far.
ShardProgress = Callable[[int, int, int], None]


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ClusterError("sharded indexes run on Dask: install it with "
                           "pip install 'release-search[cluster]'") from None
    return distributed


def _client(distributed, scheduler: str):
    try:
        return distributed.Client(scheduler)
    except (OSError, TimeoutError, ValueError) as exc:  # refused, timed out, bad address
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} "
                           f"({type(exc).__name__})") from None


@contextlib.contextmanager
def connect(scheduler: str | None = None, workers: int | None = None) -> Iterator:
    """A Dask client of the cluster at ``scheduler``, or of a new ``LocalCluster`` of
    ``workers`` processes (default: one per core) with one thread each, closed after."""
    distributed = _distributed()
    if scheduler:
        client = _client(distributed, scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    cluster = distributed.LocalCluster(
        n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
        # The scheduler serves HTTP in any case: on a free port, never a taken 8787.
        dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _build_on_worker(task: ShardTask, topic: str) -> ShardReport:
    """The task of one shard, on a worker: build it, telling the client how far it got."""
    from distributed import get_worker

    worker = get_worker()
    last = [0.0]

    def progress(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.25:  # a few events a second are enough for a terminal
            last[0] = now
            worker.log_event(topic, {"shard": task.shard, "done": done})

    report = build_shard(task, progress)
    report.worker = worker.address
    worker.log_event(topic, {"shard": task.shard, "done": report.releases})
    return report


def run_on(client, progress: ShardProgress | None = None):
    """A :data:`search.shards.Run` building each shard as one task on ``client``'s cluster."""

    def run(tasks: list[ShardTask], totals: dict[int, int]) -> list[ShardReport]:
        distributed = _distributed()
        tag = uuid.uuid4().hex[:12]
        topic = f"release-search-progress-{tag}"
        events: queue.SimpleQueue = queue.SimpleQueue()
        client.subscribe_topic(topic, lambda event: events.put(event[1]))
        futures = [client.submit(_build_on_worker, t, topic, key=f"shard-{t.shard}-{tag}",
                                 pure=False) for t in tasks]
        try:
            pending = list(futures)
            while pending:
                try:
                    distributed.wait(pending, timeout=0.25)
                except TimeoutError:
                    pass
                while not events.empty():
                    e = events.get()
                    if progress is not None:
                        progress(e["shard"], e["done"], totals.get(e["shard"], 0))
                pending = [f for f in pending if not f.done()]
                for f in futures:
                    if f.status == "error":
                        f.result()  # raises the task's error
            return client.gather(futures)
        except SearchError:
            raise
        except distributed.KilledWorker as exc:
            raise ClusterError(f"a shard could not be built: the workers running it died "
                               f"({exc}); the previous index is unchanged") from None
        except Exception as exc:  # the cluster went away, or a bug in a task
            raise ClusterError(f"building the shards failed on the cluster "
                               f"({type(exc).__name__}: {exc}); the previous index is "
                               "unchanged") from None
        finally:
            for f in futures:
                f.cancel()
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(topic)

    return run


def reindex_on_cluster(sources=("seeds",), index_dir="index", *, shards: int | None = None,
                       full: bool = False, userdict=None, follow_links: bool = False,
                       scheduler: str | None = None, workers: int | None = None,
                       progress: ShardProgress | None = None, synonyms=None):
    """:func:`search.shards.reindex_sharded` with the shards built on a Dask cluster (the one
    at ``scheduler``, or a LocalCluster of ``workers`` processes). Returns its report."""
    _distributed()  # before taking the lock: a missing extra is said at once
    with connect(scheduler, workers) as client:
        return reindex_sharded(sources, index_dir, shards=shards, full=full, userdict=userdict,
                               follow_links=follow_links, run=run_on(client, progress),
                               synonyms=synonyms)


class ClusterShards:
    """The shards of a sharded index searched in Dask actors, one per shard, spread over the
    workers of the cluster at ``scheduler`` (for :class:`search.sharded.ShardedIndex`)."""

    def __init__(self, scheduler: str):
        self.client = _client(_distributed(), scheduler)
        self._lock = threading.Lock()
        self._actors: dict[int, tuple[object, object, str]] = {}  # shard -> (future, actor, worker)
        self._count = 0
        #: Actors created again because their worker was lost (tests and benchmarks read it).
        self.recreated = 0

    def open(self, manifest: Manifest) -> None:
        with self._lock:
            self._count = manifest.count
            for k in range(manifest.count):
                if k not in self._actors:
                    self._actors[k] = self._create(k, exclude=())

    def _workers(self, exclude: Sequence[str]) -> list[str]:
        found = sorted(self.client.scheduler_info(n_workers=-1)["workers"])
        return [w for w in found if w not in exclude] or found

    def _create(self, shard: int, exclude: Sequence[str]):
        """An actor for ``shard`` on a worker not in ``exclude`` (shards spread round robin)."""
        workers = self._workers(exclude)
        if not workers:
            raise ClusterError("the Dask cluster has no worker to search on")
        where = workers[shard % len(workers)]
        try:
            future = self.client.submit(ShardSearcher, actor=True, workers=[where],
                                        allow_other_workers=True, pure=False,
                                        key=f"shard-searcher-{shard}-{uuid.uuid4().hex[:12]}")
            actor = future.result(timeout=CONNECT_TIMEOUT)
        except Exception as exc:
            raise ClusterError(f"cannot start the searcher of shard {shard} on the cluster "
                               f"({type(exc).__name__})") from None
        return future, actor, where

    def _lost(self, shard: int, actor) -> None:
        """The actor of ``shard`` failed: create it again elsewhere (unless another thread
        did already)."""
        with self._lock:
            current = self._actors.get(shard)
            if current is None or current[1] is actor:
                exclude = (current[2],) if current else ()
                self._actors[shard] = self._create(shard, exclude)
                self.recreated += 1

    def call(self, shard: int, method: str, *args):
        return self.map(method, [(shard, args)])[0]

    def map(self, method: str, calls: Sequence[tuple[int, tuple]]) -> list:
        """``method(*args)`` of each ``(shard, args)`` on its actor, all sent before any is
        waited for; a call whose actor was lost is made again on a new one."""
        results: list = [None] * len(calls)
        todo = list(range(len(calls)))
        for attempt in range(ACTOR_ATTEMPTS):
            sent = []
            for i in todo:
                shard, args = calls[i]
                with self._lock:
                    actor = self._actors[shard][1]
                try:
                    sent.append((i, actor, getattr(actor, method)(*args)))
                except Exception:
                    sent.append((i, actor, None))
            failed = []
            for i, actor, fut in sent:
                try:
                    if fut is None:
                        raise ConnectionError("the actor's worker cannot be reached")
                    results[i] = fut.result()
                except SearchError:
                    raise
                except Exception:
                    failed.append((i, actor))
            if not failed:
                return results
            for i, actor in failed:
                if attempt + 1 < ACTOR_ATTEMPTS:
                    self._lost(calls[i][0], actor)
            todo = [i for i, _a in failed]
        raise ClusterError(f"shards {sorted({calls[i][0] for i in todo})} could not be "
                           f"searched on the cluster")

    def close(self) -> None:
        with self._lock:
            actors, self._actors = self._actors, {}
        for future, _actor, _w in actors.values():
            with contextlib.suppress(Exception):
                future.release()
        with contextlib.suppress(Exception):
            self.client.close()
