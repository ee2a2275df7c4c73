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
"""

from __future__ import annotations

import os
import signal

#: The environment variable naming the stages and what to do there.
ENV = "RELEASE_SEARCH_FAULT"
ACTIONS = ("kill", "pause")


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
