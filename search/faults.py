"""Named stages of a reindex where a test can make a process die, for deterministic kill tests.

``RELEASE_SEARCH_FAULT=<stage>[,<stage>...]`` in the environment makes the process that reaches
:func:`checkpoint` at a named stage kill itself with SIGKILL: no clean-up runs, as if the
machine or an operator had killed it at that moment. The variable is read once, at import
(forked workers inherit it); unset, a checkpoint is one set lookup.

Stages, in the order a reindex reaches them (a full rebuild, then an incremental update):

``locked``
    The reindex holds the index directory's lock; nothing is written yet.
``full-reading``
    A full rebuild has read a release (each release: the first one kills) while its new
    generation is being written.
``worker-<k>-waiting``
    Worker ``k`` (0, 1, ...) of a parallel full rebuild is about to wait for a chunk of
    paragraphs (each chunk: the first is right after the worker started). Kills the worker.
``worker-<k>-analysing``
    Worker ``k`` has analysed a chunk of paragraphs, before it takes the next. Kills the
    worker.
``workers-exchanging``
    The parent of a parallel full rebuild has every worker's field lengths: the workers are
    exchanging and encoding postings, their files in the generation's ``parts.tmp``.
``writing-terms``
    The bulk writer has written the documents and a field's terms (each field: the first
    kills), the segment not yet complete.
``full-written``
    A full rebuild's generation is complete (committed, ``meta.json`` written) but not
    published.
``incremental-writing``
    An incremental update has given all its changes to Whoosh's writer, not yet committed.
"""

from __future__ import annotations

import os
import signal

#: The environment variable naming the stages to die at.
ENV = "RELEASE_SEARCH_FAULT"

_STAGES = frozenset(filter(None, (s.strip() for s in os.environ.get(ENV, "").split(","))))


def checkpoint(stage: str) -> None:
    """Die here with SIGKILL if :data:`ENV` names ``stage``; otherwise do nothing."""
    if stage in _STAGES:
        os.kill(os.getpid(), signal.SIGKILL)
