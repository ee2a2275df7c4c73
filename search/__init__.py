"""release-search: full-text search for Chinese press releases.

>>> from search import build_index, open_index
>>> build_index(["seeds"], "index")            # doctest: +SKIP
>>> ix = open_index("index")                   # doctest: +SKIP
>>> ix.search("统筹").hits[0].snippet          # doctest: +SKIP
"""

from .errors import (
    DocumentNotFoundError,
    IndexAccessError,
    IndexCorruptError,
    IndexNotFoundError,
    QueryError,
    ReindexLockedError,
    SearchError,
    SourceError,
)
from .indexer import ReindexReport, build_index
from .models import Hit, IndexStats, Paragraph, Release, SearchResult
from .searcher import MAX_PER_PAGE, MAX_QUERY_LENGTH, Index, open_index

__version__ = "0.1.0"

__all__ = [
    "MAX_PER_PAGE",
    "MAX_QUERY_LENGTH",
    "DocumentNotFoundError",
    "Hit",
    "Index",
    "IndexAccessError",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IndexStats",
    "Paragraph",
    "QueryError",
    "ReindexLockedError",
    "ReindexReport",
    "Release",
    "SearchError",
    "SearchResult",
    "SourceError",
    "build_index",
    "open_index",
]
