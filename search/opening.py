"""``open_index``: the one way to open an index, single or sharded, searched here or on a Dask
cluster."""

from __future__ import annotations

import os

from .errors import ClusterError
from .searcher import Index
from .sharded import ShardedIndex
from .shards import is_sharded


def open_index(index_dir: str | os.PathLike = "index", *, reload_interval: float = 1.0,
               scheduler: str | None = None, synonyms: str | os.PathLike | None = None
               ) -> Index | ShardedIndex:
    """Open the index in ``index_dir``; raises IndexNotFoundError if none was built.
    ``synonyms``: a synonyms file to read instead of the index directory's ``synonyms.txt``
    (see :mod:`search.synonyms`); SourceError if it is missing.

    A sharded index (built with ``reindex --shards``) opens as a :class:`ShardedIndex`, the same
    API; with ``scheduler`` (``tcp://host:8786``) its shards are searched in actors on that
    Dask cluster's workers (:class:`search.cluster.ClusterShards`), else in this process."""
    if is_sharded(index_dir):
        shards = None
        if scheduler:
            from .cluster import ClusterShards

            shards = ClusterShards(scheduler)
        try:
            return ShardedIndex(index_dir, reload_interval=reload_interval, shards=shards,
                                synonyms=synonyms)
        except BaseException:
            if shards is not None:
                shards.close()
            raise
    if scheduler:
        raise ClusterError(f"{index_dir} is not a sharded index: build it with "
                           "`release-search reindex --shards N` to search it on a cluster")
    return Index(index_dir, reload_interval=reload_interval, synonyms=synonyms)
