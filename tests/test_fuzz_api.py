"""API fuzzing: schemathesis generates requests from ``/api/openapi.json`` against the live server.

The server is the real one (``python -m web.server``, waitress, on a free loopback port) over the
seed release. Every operation gets ``MAX_EXAMPLES`` generated cases, valid and invalid (derandomized:
the same cases on every run); each response must pass all of schemathesis' checks: no server error,
a status code, content type, headers and body that the document declares, invalid input rejected,
valid input accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from test_web_support import DOC_ID, SEEDS, LiveServer

#: Generated cases per operation.
MAX_EXAMPLES = 50


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base: Path = tmp_path_factory.mktemp("fuzz")
    with LiveServer(base / "index", [SEEDS], base) as live:
        yield live


@pytest.fixture(scope="module")
def api_schema(fuzz_server: LiveServer):
    return schemathesis.openapi.from_url(fuzz_server.base_url + "/api/openapi.json")


#: Every operation of the document (checked against the document below).
OPERATIONS = ["GET /api/documents/{doc_id}", "GET /api/health", "GET /api/openapi.json", "GET /api/search",
              "GET /api/search.csv", "GET /api/search.jsonl", "GET /api/suggest"]


# schemathesis' own pytest integration (``schemathesis.pytest.from_fixture``) fails under pytest 9
# ("'Function' object has no attribute '_nodeid'"), so the cases come from its Python API:
# ``APIOperation.as_strategy`` drawn by an ordinary Hypothesis test.
#: (operation, generation mode, fixed parameters, the statuses the generated cases must get).
#: Negative cases only exist for operations with parameters; fixing the release id or the query
#: makes sure that full 200 answers (a Release, hits with snippets) are validated too.
CASES = [
    ("GET /api/health", "positive", {}, {200}),
    ("GET /api/openapi.json", "positive", {}, {200}),
    ("GET /api/documents/{doc_id}", "positive", {}, {404}),
    ("GET /api/documents/{doc_id}", "positive", {"path_parameters": {"doc_id": DOC_ID}}, {200}),
    ("GET /api/documents/{doc_id}", "negative", {}, {400, 404}),  # bad page / per_page: 400
    ("GET /api/search", "positive", {}, {200}),
    ("GET /api/search", "positive", {"query": {"q": "疫情 防控"}}, {200}),
    ("GET /api/search", "negative", {}, {200, 400}),
    ("GET /api/suggest", "positive", {}, {200}),
    ("GET /api/suggest", "positive", {"query": {"q": "陳曉"}}, {200}),
    ("GET /api/suggest", "negative", {}, {200, 400}),
    ("GET /api/search.csv", "positive", {}, {200}),
    ("GET /api/search.csv", "positive", {"query": {"q": "疫情"}}, {200}),
    ("GET /api/search.csv", "negative", {}, {200, 400}),
    ("GET /api/search.jsonl", "positive", {}, {200}),
    ("GET /api/search.jsonl", "positive", {"query": {"q": "疫情"}}, {200}),
    ("GET /api/search.jsonl", "negative", {}, {200, 400}),
]


@pytest.mark.parametrize(("label", "mode", "fixed", "statuses"), CASES,
                         ids=[f"{c[0]}-{c[1]}{'-fixed' if c[2] else ''}" for c in CASES])
def test_api_conforms_to_its_openapi_document(api_schema, fuzz_server: LiveServer, label: str, mode: str,
                                              fixed: dict, statuses: set[int]) -> None:
    operation = api_schema.find_operation_by_label(label)
    strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode), **fixed)
    if mode == "positive":
        # The one rule between two parameters, which JSON Schema cannot state: ``from`` after
        # ``to`` is refused (400 invalid_date_range, tested in test_navigation.py).
        strategy = strategy.filter(lambda case: not reversed_range(case.query or {}))
    seen: list[tuple[str, int, dict]] = []
    with requests.Session() as session:

        @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def fuzz(case) -> None:
            response = case.call_and_validate(base_url=fuzz_server.base_url, session=session)
            if _header(response, "content-type").split(";")[0] == "application/json":
                body = response.json()
            else:  # an export: its rows, parsed
                body = _export_rows(response)
            seen.append((case.formatted_path, response.status_code, body))

        fuzz()
    # Every case passed all of schemathesis' checks (no 5xx, schema-valid bodies); here, which
    # kinds of answers were exercised.
    got = {status for _path, status, _body in seen}
    if mode == "negative":
        assert 400 in got or got == {404}, got
        assert got <= statuses, got
    else:
        assert got == statuses, got
    if fixed.get("query"):
        key = "suggestions" if "suggest" in label else "hits"
        assert any(body[key] for _p, status, body in seen if status == 200)


def _export_rows(response) -> dict:
    """The rows of a CSV or JSON Lines export, as ``{"hits": [...]}``; each checked for its
    columns, the total and rows headers matched."""
    import csv
    import io
    import json

    from search import EXPORT_COLUMNS

    text = response.content.decode("utf-8")
    if _header(response, "content-type").startswith("text/csv"):
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:])))
        assert rows[0] == list(EXPORT_COLUMNS)
        hits = [r for r in rows[1:] if not r[0].startswith("# truncated")]
    else:
        hits = [json.loads(line) for line in text.splitlines()]
        hits = [h for h in hits if not h.get("truncated")]
        assert all(list(h) == list(EXPORT_COLUMNS) for h in hits)
    assert int(_header(response, "x-export-rows")) == len(hits)
    assert int(_header(response, "x-total-count")) >= len(hits)
    return {"hits": hits}


def _header(response, name: str) -> str:
    """A header of a schemathesis response (lower-case names, lists of values)."""
    return response.headers[name][0]


def reversed_range(query: dict) -> bool:
    """Whether a search's ``from`` and ``to`` are both given and ``from`` starts after ``to``
    ends (the ISO forms compare as strings: ``2022`` starts before ``2022-01-01`` ends)."""
    start, end = query.get("from") or "", query.get("to") or ""
    if not isinstance(start, str) or not isinstance(end, str) or not start or not end:
        return False
    return start[:len(end)] > end


def test_fuzzing_reaches_every_operation(fuzz_server: LiveServer) -> None:
    document = schemathesis.openapi.from_dict(fuzz_server.get("/api/openapi.json").json())
    assert sorted(op.ok().label for op in document.get_all_operations()) == OPERATIONS
