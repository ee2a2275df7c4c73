"""release-search: full-text search for Chinese press releases.

>>> from search import build_index, open_index
>>> build_index(["seeds"], "index")            # doctest: +SKIP
>>> ix = open_index("index")                   # doctest: +SKIP
>>> ix.search("统筹").hits[0].snippet          # doctest: +SKIP

Everything the CLI and the web app use is exported here.
"""

from .check import CheckReport, check_index
from .sources import MAX_DOC_ID_LENGTH, Problem, valid_doc_id
from .errors import (
    ClusterError,
    DocumentNotFoundError,
    IndexAccessError,
    IndexCorruptError,
    IndexNotFoundError,
    QueryError,
    ReindexLockedError,
    SearchError,
    SourceError,
)
from .evaluation import EvaluationReport, evaluate_files, format_report
from .indexer import ReindexReport, build_index
from .lexicon import load_dictionary
from .models import (
    FACETS,
    SECTION_LABELS,
    SECTIONS,
    Hit,
    IndexStats,
    Paragraph,
    Release,
    ReleasePage,
    SearchResult,
)
from .params import (
    DATE_PATTERN,
    MAX_DEPTH,
    MAX_FILTER_LENGTH,
    MAX_PER_PAGE,
    MAX_QUERY_LENGTH,
    SORTS,
    SearchParams,
)
from .schema import ReleaseRecord
from .opening import open_index
from .searcher import DOC_PER_PAGE, MAX_DOC_PAGE, MAX_DOC_PER_PAGE, Index
from .sharded import ShardedIndex

__version__ = "0.1.0"

__all__ = [
    "DATE_PATTERN",
    "DOC_PER_PAGE",
    "FACETS",
    "MAX_DEPTH",
    "MAX_DOC_PAGE",
    "MAX_DOC_PER_PAGE",
    "MAX_DOC_ID_LENGTH",
    "MAX_FILTER_LENGTH",
    "MAX_PER_PAGE",
    "MAX_QUERY_LENGTH",
    "SECTIONS",
    "SECTION_LABELS",
    "SORTS",
    "CheckReport",
    "ClusterError",
    "DocumentNotFoundError",
    "EvaluationReport",
    "Hit",
    "Index",
    "IndexAccessError",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IndexStats",
    "Paragraph",
    "Problem",
    "QueryError",
    "ReindexLockedError",
    "ReindexReport",
    "Release",
    "ReleaseRecord",
    "ReleasePage",
    "SearchError",
    "SearchParams",
    "SearchResult",
    "ShardedIndex",
    "SourceError",
    "build_index",
    "check_index",
    "evaluate_files",
    "format_report",
    "load_dictionary",
    "open_index",
    "valid_doc_id",
]
