"""One lazily opened :class:`search.Index` per app, shared by all request threads.

The engine's ``Index`` reopens itself when a reindex publishes a new generation, so the holder
only has to open it once. While no index exists, every call retries (and raises
``IndexNotFoundError``), so an index built after the app started is picked up.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from search import Index

#: Key of the holder in ``app.extensions``.
EXTENSION_KEY = "release_search"


class IndexHolder:
    """Opens the index at ``index_dir`` (with the synonyms file ``synonyms``, if given) on
    first use and keeps it."""

    def __init__(self, index_dir: str, synonyms: str | None = None,
                 scheduler: str | None = None) -> None:
        self.index_dir = index_dir
        self.synonyms = synonyms
        self.scheduler = scheduler  # a sharded index's shards are searched on this cluster
        self._index: Index | None = None
        self._lock = threading.Lock()

    def get(self) -> Index:
        """Return the open index, opening it on first use (raises ``IndexNotFoundError``)."""
        index = self._index
        if index is not None:
            return index
        with self._lock:
            if self._index is None:
                from search import open_index

                self._index = open_index(self.index_dir, synonyms=self.synonyms,
                                         scheduler=self.scheduler)
            return self._index

    @property
    def is_open(self) -> bool:
        """Whether the index has been opened already."""
        return self._index is not None


def current_index() -> Index:
    """The index of the current app (raises ``IndexNotFoundError`` if none is built)."""
    holder: IndexHolder = current_app.extensions[EXTENSION_KEY]
    return holder.get()
