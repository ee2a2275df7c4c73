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
from .export import EXPORT_COLUMNS, csv_chunks, export_row, jsonl_chunks
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
    SUGGESTION_KINDS,
    Suggestion,
)
from .params import (
    DATE_PATTERN,
    MAX_DEPTH,
    MAX_EXPORT_ROWS,
    MAX_FILTER_LENGTH,
    MAX_PER_PAGE,
    MAX_QUERY_LENGTH,
    MAX_SUGGEST_LIMIT,
    SORTS,
    SearchParams,
    SuggestParams,
)
from .schema import ReleaseRecord
from .opening import open_index
from .searcher import DOC_PER_PAGE, MAX_DOC_PAGE, MAX_DOC_PER_PAGE, HitStream, Index
from .sharded import ShardedIndex

__version__ = "0.1.0"

__all__ = [
    "DATE_PATTERN",
    "DOC_PER_PAGE",
    "EXPORT_COLUMNS",
    "FACETS",
    "MAX_DEPTH",
    "MAX_DOC_PAGE",
    "MAX_DOC_PER_PAGE",
    "MAX_DOC_ID_LENGTH",
    "MAX_EXPORT_ROWS",
    "MAX_FILTER_LENGTH",
    "MAX_PER_PAGE",
    "MAX_QUERY_LENGTH",
    "MAX_SUGGEST_LIMIT",
    "SECTIONS",
    "SECTION_LABELS",
    "SUGGESTION_KINDS",
    "SORTS",
    "CheckReport",
    "ClusterError",
    "DocumentNotFoundError",
    "EvaluationReport",
    "Hit",
    "HitStream",
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
    "SuggestParams",
    "Suggestion",
    "build_index",
    "check_index",
    "csv_chunks",
    "evaluate_files",
    "export_row",
    "format_report",
    "jsonl_chunks",
    "load_dictionary",
    "open_index",
    "valid_doc_id",
]
