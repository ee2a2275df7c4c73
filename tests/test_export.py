"""Exports of a search: ``Index.iter_hits``, CSV and JSON Lines through Python, HTTP and the
CLI; every match exported (row count = the API's ``total``), the cut past the limit noted,
formula injection guarded."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from search import (
    EXPORT_COLUMNS,
    MAX_EXPORT_ROWS,
    QueryError,
    build_index,
    csv_chunks,
    export_row,
    jsonl_chunks,
    open_index,
)
from search.cli import main
from search.export import csv_cell
from web import create_app

from conftest import SAMPLE_ID, make_releases, write_release

#: In every generated release's first body paragraph, and nowhere in the filler words.
MARKER = "鲁西北"
RELEASES = 2500


@pytest.fixture(scope="module")
def big_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``RELEASES`` generated releases, each matching MARKER once, plus hostile cells."""
    base = tmp_path_factory.mktemp("export")
    src = base / "src"
    make_releases(src, RELEASES, paragraphs=2, words_per_paragraph=6, marker=MARKER)
    write_release(src, "hostile", "=HYPERLINK(\"http://evil.example\",\"点击\")",
                  f"+1+1 {MARKER}危险单元格", f"@SUM(A1) {MARKER}", f"-2 {MARKER}<script>alert(1)</script>")
    build_index([src], base / "index")
    return base / "index"


def parse_csv(body: str) -> tuple[list[str], list[list[str]]]:
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    return rows[0], rows[1:]


# -- Python ---------------------------------------------------------------------------------


def test_iter_hits_gives_every_page_in_order(sample_ix) -> None:
    pages = []
    page = 1
    while True:
        result = sample_ix.search("疫情", page=page, per_page=5)
        if not result.hits:
            break
        pages.extend(result.hits)
        page += 1
    with sample_ix.iter_hits("疫情") as stream:
        assert (stream.total, stream.rows, stream.truncated) == (result.total, result.total, False)
        assert list(stream) == pages
    assert list(stream) == []  # closed: its generation was let go


def test_iter_hits_limit_and_validation(sample_ix) -> None:
    with sample_ix.iter_hits("疫情", limit=3) as stream:
        hits = list(stream)
    assert len(hits) == 3 and stream.total == sample_ix.search("疫情").total and stream.truncated
    assert hits == sample_ix.search("疫情", per_page=3).hits
    for bad in (0, MAX_EXPORT_ROWS + 1, "9"):
        with pytest.raises(QueryError):
            sample_ix.iter_hits("疫情", limit=bad)
    with pytest.raises(QueryError) as err:
        sample_ix.iter_hits("陈" * 10_000)
    assert err.value.code == "query_too_long"
    with pytest.raises(QueryError):
        sample_ix.iter_hits("疫情", section="nope")
    with sample_ix.iter_hits("<script>") as stream:
        assert stream.total == 0 and list(stream) == []


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+86 10", "'+86 10"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("a=b", "a=b"), ("统筹", "统筹"), (None, ""), (3, 3),
    (1.5, 1.5),
])
def test_csv_cells_are_guarded_against_formulas(value, cell) -> None:
    assert csv_cell(value) == cell


def test_csv_and_jsonl_chunks_note_a_cut(sample_ix) -> None:
    with sample_ix.iter_hits("疫情", limit=4) as stream:
        body = "".join(csv_chunks(stream, stream.total))
    header, rows = parse_csv(body)
    assert header == list(EXPORT_COLUMNS)
    total = sample_ix.search("疫情").total
    assert len(rows) == 5
    assert rows[-1][0] == f"# truncated: the first 4 of {total} matches are exported; " \
                          "narrow the query to export the rest"
    with sample_ix.iter_hits("疫情", limit=4) as stream:
        lines = "".join(jsonl_chunks(stream, stream.total)).splitlines()
    objects = [json.loads(line) for line in lines]
    assert [list(o) for o in objects[:4]] == [list(EXPORT_COLUMNS)] * 4
    assert objects[-1] == {"truncated": True, "total": total, "rows": 4,
                           "note": f"truncated: the first 4 of {total} matches are exported; "
                                   "narrow the query to export the rest"}


# -- HTTP -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_client(big_index: Path):
    return create_app({"INDEX_DIR": str(big_index), "TESTING": True}).test_client()


def test_csv_export_has_every_match(big_client) -> None:
    total = big_client.get("/api/search", query_string={"q": MARKER}).get_json()["total"]
    assert total == RELEASES + 3  # one paragraph per generated release, three hostile ones
    r = big_client.get("/api/search.csv", query_string={"q": MARKER})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="release-search.csv"'
    assert (r.headers["X-Total-Count"], r.headers["X-Export-Rows"],
            r.headers["X-Export-Truncated"]) == (str(total), str(total), "false")
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.is_streamed
    header, rows = parse_csv(r.get_data(as_text=True))
    assert header == list(EXPORT_COLUMNS)
    assert len(rows) == total
    assert len({(row[0], row[2]) for row in rows}) == total
    api_first = big_client.get("/api/search", query_string={"q": MARKER, "per_page": 100}).get_json()
    for row, hit in zip(rows, api_first["hits"]):
        assert (row[0], int(row[2]), row[10]) == (hit["doc_id"], hit["paragraph"],
                                                  csv_cell(hit["text"]))


def test_jsonl_export_has_every_match(big_client) -> None:
    total = big_client.get("/api/search", query_string={"q": MARKER}).get_json()["total"]
    r = big_client.get("/api/search.jsonl", query_string={"q": MARKER})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/jsonl; charset=utf-8"
    lines = r.get_data(as_text=True).splitlines()
    assert len(lines) == total
    assert all(list(json.loads(line)) == list(EXPORT_COLUMNS) for line in lines)


def test_export_past_the_limit_is_cut_with_a_note(big_index: Path) -> None:
    client = create_app({"INDEX_DIR": str(big_index), "TESTING": True,
                         "EXPORT_ROWS": 1000}).test_client()
    total = RELEASES + 3
    r = client.get("/api/search.csv", query_string={"q": MARKER})
    assert (r.headers["X-Total-Count"], r.headers["X-Export-Rows"],
            r.headers["X-Export-Truncated"]) == (str(total), "1000", "true")
    _header, rows = parse_csv(r.get_data(as_text=True))
    assert len(rows) == 1001
    assert rows[-1][0] == f"# truncated: the first 1000 of {total} matches are exported; " \
                          "narrow the query to export the rest"
    lines = client.get("/api/search.jsonl", query_string={"q": MARKER}).get_data(as_text=True)
    last = json.loads(lines.splitlines()[-1])
    assert (len(lines.splitlines()), last["truncated"], last["total"], last["rows"]) == \
        (1001, True, total, 1000)


def test_hostile_cells_in_the_csv(big_client) -> None:
    r = big_client.get("/api/search.csv", query_string={"q": MARKER, "doc": "hostile"})
    _header, rows = parse_csv(r.get_data(as_text=True))
    by_paragraph = {row[2]: row for row in rows}
    assert by_paragraph["2"][10].startswith("'+1+1")
    assert by_paragraph["3"][10].startswith("'@SUM(A1)")
    assert by_paragraph["4"][10].startswith("'-2 ")
    assert all(row[1] == "'=HYPERLINK(\"http://evil.example\",\"点击\")" for row in rows)
    lines = big_client.get("/api/search.jsonl", query_string={"q": MARKER, "doc": "hostile"})
    texts = {json.loads(x)["paragraph"]: json.loads(x)["text"] for x in lines.get_data(as_text=True).splitlines()}
    assert texts[4] == f"-2 {MARKER}<script>alert(1)</script>"  # JSON data, never a page


@pytest.mark.parametrize(("path", "args", "code"), [
    ("/api/search.csv", {"q": "陈" * 10_000}, "query_too_long"),
    ("/api/search.jsonl", {"q": "陈" * 10_000}, "query_too_long"),
    ("/api/search.csv", {"q": "疫情", "section": "nope"}, "invalid_section"),
    ("/api/search.jsonl", {"q": ["疫情", "统筹"]}, "repeated_parameter"),
    ("/api/search.csv", {"q": "疫情", "speaker": "x" * 201}, "invalid_speaker"),
])
def test_export_errors_are_json_bodies(sample_index: Path, path: str, args: dict, code: str) -> None:
    client = create_app({"INDEX_DIR": str(sample_index), "TESTING": True}).test_client()
    r = client.get(path, query_string=args)
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/json"
    assert r.get_json()["error"]["code"] == code
    assert r.headers["X-Frame-Options"] == "DENY"


def test_blank_query_exports_only_the_header(sample_index: Path) -> None:
    client = create_app({"INDEX_DIR": str(sample_index), "TESTING": True}).test_client()
    r = client.get("/api/search.csv")
    assert r.get_data(as_text=True) == "\ufeff" + ",".join(EXPORT_COLUMNS) + "\r\n"
    assert client.get("/api/search.jsonl", query_string={"q": "<script>"}).get_data() == b""


def test_results_page_links_both_exports(sample_index: Path) -> None:
    client = create_app({"INDEX_DIR": str(sample_index), "TESTING": True}).test_client()
    page = client.get("/", query_string={"q": "疫情", "section": "answer"}).get_data(as_text=True)
    assert 'href="/api/search.csv?q=%E7%96%AB%E6%83%85&amp;section=answer"' in page
    assert 'href="/api/search.jsonl?q=%E7%96%AB%E6%83%85&amp;section=answer"' in page


# -- CLI ------------------------------------------------------------------------------------


def test_cli_csv_all_has_every_match(runner, big_index: Path) -> None:
    with open_index(big_index) as ix:
        total = ix.search(MARKER).total
    r = runner.invoke(main, ["search", MARKER, "--all", "--format", "csv", "--index-dir",
                             str(big_index)])
    assert r.exit_code == 0, r.output
    header, rows = parse_csv(r.stdout)
    assert header == list(EXPORT_COLUMNS) and len(rows) == total


def test_cli_formats(runner, sample_index: Path, sample_ix) -> None:
    args = ["--index-dir", str(sample_index)]
    total = sample_ix.search("疫情").total
    r = runner.invoke(main, ["search", "疫情", "--format", "jsonl", *args])
    page = sample_ix.search("疫情").hits
    assert [json.loads(x) for x in r.stdout.splitlines()] == [export_row(h) for h in page]
    r = runner.invoke(main, ["search", "疫情", "--format", "jsonl", "--all", *args])
    assert len(r.stdout.splitlines()) == total
    r = runner.invoke(main, ["search", "疫情", "--format", "json", "--all", *args])
    body = json.loads(r.stdout)
    with sample_ix.iter_hits("疫情") as stream:
        assert body == {"query": "疫情", "total": total, "rows": total, "truncated": False,
                        "hits": [h.to_dict() for h in stream]}
    r = runner.invoke(main, ["search", "疫情", "--format", "json", *args])
    assert json.loads(r.stdout)["hits"] == [h.to_dict() for h in page]
    r = runner.invoke(main, ["search", "疫情", "--all", *args])
    assert r.stdout.startswith(f"{total} results for '疫情'") and f"\n{total}. " in r.stdout
    r = runner.invoke(main, ["search", "疫情", "--format", "csv", *args])
    _header, rows = parse_csv(r.stdout)
    assert [row[0] for row in rows] == [SAMPLE_ID] * len(page)
    r = runner.invoke(main, ["search", "<script>", "--format", "csv", "--all", *args])
    assert r.exit_code == 0
    assert r.stdout_bytes == ("\ufeff" + ",".join(EXPORT_COLUMNS) + "\r\n").encode("utf-8")
    r = runner.invoke(main, ["search", "陈" * 10_000, "--format", "csv", "--all", *args])
    assert r.exit_code == 2 and "Invalid value for QUERY: q must be at most 500 characters" in r.stderr
    assert r.stdout == ""  # a usage error: nothing exported
    r = runner.invoke(main, ["search", "疫情", "--format", "xml", *args])
    assert r.exit_code == 2


# -- with the navigation's filters and orders -------------------------------------------------

ARCHIVE = Path(__file__).resolve().parent / "data" / "archive" / "releases"


@pytest.fixture(scope="module")
def archive_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("archive") / "index"
    build_index([ARCHIVE], path)
    return path


def test_exports_take_the_date_publisher_org_filters_and_the_order(archive_index: Path, runner) -> None:
    client = create_app({"INDEX_DIR": str(archive_index), "TESTING": True}).test_client()
    args = {"q": "外贸", "from": "2022-03", "publisher": "德州新闻网", "sort": "newest"}
    api = client.get("/api/search", query_string={**args, "per_page": 100}).get_json()
    assert 0 < api["total"] <= 100
    _header, rows = parse_csv(client.get("/api/search.csv", query_string=args).get_data(as_text=True))
    assert [(r[0], int(r[2])) for r in rows] == [(h["doc_id"], h["paragraph"]) for h in api["hits"]]
    assert all(r[6] >= "2022-03-01" and r[7] == "德州新闻网" for r in rows)
    lines = client.get("/api/search.jsonl", query_string={**args, "org": "市商务局"}).get_data(as_text=True)
    assert {json.loads(x)["org"] for x in lines.splitlines()} == {"市商务局"}
    # filters alone: every paragraph of the organisation, newest first
    only = client.get("/api/search.csv", query_string={"org": "市卫健委"})
    total = client.get("/api/search", query_string={"org": "市卫健委"}).get_json()["total"]
    assert total > 0 and len(parse_csv(only.get_data(as_text=True))[1]) == total
    r = client.get("/api/search.csv", query_string={"q": "外贸", "sort": "random"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_sort"
    r = runner.invoke(main, ["search", "外贸", "--from", "2022-03", "--publisher", "德州新闻网",
                             "--sort", "newest", "--all", "--format", "csv", "--index-dir",
                             str(archive_index)])
    assert r.exit_code == 0, r.output
    assert parse_csv(r.stdout)[1] == rows
