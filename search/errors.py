"""The one error hierarchy of release-search.

Every error the library raises on purpose derives from :class:`SearchError`; the CLI turns
them into ``click.ClickException`` and the web layer into 400/404 responses.
"""

from __future__ import annotations


class SearchError(Exception):
    """Base class of every error raised by release-search."""


class IndexNotFoundError(SearchError):
    """No index exists at the given location (run ``release-search reindex``)."""


#: What to do about a damaged index.
REBUILD_HINT = "run `release-search reindex --full` to rebuild it"


class IndexCorruptError(SearchError):
    """The index exists but cannot be read; ``reindex --full`` rebuilds it."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path

    @classmethod
    def unreadable(cls, what: str, path, exc: BaseException) -> IndexCorruptError:
        """``cannot <what> (<exception type>); run `release-search reindex --full`...``"""
        return cls(f"cannot {what} ({type(exc).__name__}); {REBUILD_HINT}", str(path))


class IndexAccessError(SearchError):
    """The index directory cannot be created, read or written (permissions, missing parent)."""


class ReindexLockedError(SearchError):
    """Another reindex holds the index's writer lock."""


class QueryError(SearchError):
    """A query or its parameters are invalid (bad page number, too long...).

    ``code`` is a stable machine-readable name (``invalid_page``, ``query_too_long``...), the
    one the HTTP API answers with.
    """

    def __init__(self, message: str, code: str = "invalid_query"):
        super().__init__(message)
        self.code = code


class DocumentNotFoundError(SearchError):
    """No release with the given id is in the index."""


class SourceError(SearchError):
    """A source file or JSONL line cannot be read as a release."""

    def __init__(self, message: str, source: str):
        super().__init__(f"{source}: {message}")
        self.source = source
        self.reason = message


class ClusterError(SearchError):
    """The Dask cluster of a sharded index cannot be used: not installed, not reachable, or
    a shard could not be built or searched on it (a reindex then publishes nothing)."""
