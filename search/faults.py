"""Named stages of a reindex where a test can make a process die or wait, for deterministic
kill and signal tests.

``RELEASE_SEARCH_FAULT=<stage>[:<action>][,<stage>[:<action>]...]`` in the environment makes
the process that reaches :func:`checkpoint` at a named stage do the action:

* ``kill`` (the default): it kills itself with SIGKILL; no clean-up runs, as if the machine
  or an operator had killed it at that moment.
* ``pause``: the first time it reaches the stage, it writes the line ``RELEASE_SEARCH_FAULT:
  paused at <stage> (pid <pid>)`` to its standard error and waits until a signal is handled.
  A test reads that line (a blocking read, which ends at the process's exit if it never gets
  there), then sends the signal whose handling it tests. A signal that kills by default, or
  whose handler raises (SIGINT's KeyboardInterrupt, a reindex's SIGTERM), ends the wait there;
  one whose handler returns lets the process go on.
* ``hold``: the first time it reaches the stage, it writes ``RELEASE_SEARCH_FAULT: held at
  <stage> (pid <pid>)`` to its standard error and blocks that thread until the process dies:
  for code that runs in a thread of a Dask worker, where signals cannot be waited for (a
  test reads the line, then kills the worker).

The variable is read once, at import (forked workers inherit it); unset, a checkpoint is one
dictionary lookup.

Stages, in the order a reindex reaches them (a full rebuild, then an incremental update):

``locked``
    The reindex holds the index directory's lock; nothing is written yet.
``full-reading``
    A full rebuild has read a release (each release: the first one acts) while its new
    generation is being written.
``worker-<k>-waiting``
    Worker ``k`` (0, 1, ...) of a parallel full rebuild is about to wait for a chunk of
    paragraphs (each chunk: the first is right after the worker started), in the worker.
``worker-<k>-analysing``
    Worker ``k`` has analysed a chunk of paragraphs, before it takes the next, in the worker.
``workers-exchanging``
    The parent of a parallel full rebuild has every worker's field lengths: the workers are
    exchanging and encoding postings, their files in the generation's ``parts.tmp``.
``writing-terms``
    The bulk writer has written the documents and a field's terms (each field: the first
    acts), the segment not yet complete.
``full-written``
    A full rebuild's generation is complete (committed, ``meta.json`` written) but not
    published.
``incremental-writing``
    An incremental update has given all its changes to Whoosh's writer and staged its
    ``meta.json``, not yet committed.

Stages of a sharded reindex (:mod:`search.shards`) and search (:mod:`search.sharded`):

``shard-starting``
    A shard's build (on a Dask worker, or in the reindex) has its new generation directory.
``shard-reading``
    A shard's build has read one of its releases (each: the first acts).
``shard-written``
    A shard's build has written and synced its generation.
``shards-written``
    Every shard to rebuild is written; the manifest is not yet replaced.
``shards-publishing``
    The new manifest is written and synced beside the old one, not yet renamed over it.
``shard-searching``
    A shard is asked for its best paragraphs of a query (in a Dask actor, or in-process).
"""

from __future__ import annotations

import os
import signal
import threading

#: The environment variable naming the stages and what to do there.
ENV = "RELEASE_SEARCH_FAULT"
ACTIONS = ("kill", "pause", "hold")


def _parse(value: str) -> dict[str, str]:
    actions = {}
    for item in value.split(","):
        stage, _, action = item.partition(":")
        stage, action = stage.strip(), action.strip() or "kill"
        if not stage:
            continue
        if action not in ACTIONS:
            raise ValueError(f"{ENV}: unknown action {action!r} for {stage!r} "
                             f"(one of {', '.join(ACTIONS)})")
        actions[stage] = action
    return actions


_ACTIONS = _parse(os.environ.get(ENV, ""))
_paused: set[str] = set()


def checkpoint(stage: str) -> None:
    """Do what :data:`ENV` says for ``stage`` (die, or wait for a signal); by default
    nothing."""
    action = _ACTIONS.get(stage)
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "pause" and stage not in _paused:
        _paused.add(stage)
        _pause(stage)
    elif action == "hold" and stage not in _paused:
        _paused.add(stage)
        os.write(2, f"{ENV}: held at {stage} (pid {os.getpid()})\n".encode())
        threading.Event().wait()  # until the test kills the process


def _pause(stage: str) -> None:
    # Python's C-level signal handler writes the signal's number to the wakeup fd, from
    # whichever thread the signal is delivered to, before the Python handler runs in the main
    # thread: a signal sent once the line below is read always ends the read, unlike
    # signal.pause(), which misses one delivered just before it or to another thread.
    r, w = os.pipe()
    os.set_blocking(w, False)
    old = signal.set_wakeup_fd(w)
    try:
        os.write(2, f"{ENV}: paused at {stage} (pid {os.getpid()})\n".encode())
        os.read(r, 1)
        _handled()  # the handler runs at latest as this call starts (its exception goes up)
    finally:
        signal.set_wakeup_fd(old)
        os.close(r)
        os.close(w)


def _handled() -> None:
    pass
