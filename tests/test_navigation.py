"""Navigating an archive: date ranges, publishers, organisations, sort orders and facet counts,
through Python, the CLI and HTTP, on ``tests/data/archive`` (60 releases over 20 months from 3
publishers). Every expected count is made here from the corpus files themselves."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from search import DATE_PATTERN, FACETS, Index, QueryError, SearchParams, build_index, open_index
from search.cli import main
from web import create_app
from conftest import write_release

ARCHIVE = Path(__file__).resolve().parent / "data" / "archive" / "releases"
PUBLISHERS = ("德州新闻网", "德州日报新媒体", "齐鲁晚报")


# --------------------------------------------------------------------- the corpus, counted here


@dataclass
class Para:
    text: str
    section: str
    speaker: str | None = None
    org: str | None = None


@dataclass
class Rel:
    doc_id: str
    date: str | None
    publisher: str
    paras: list[Para] = field(default_factory=list)

    @property
    def month(self) -> str | None:
        return self.date[:7] if self.date else None


_SPEAKER_LINE = re.compile(r"^(市.+?)党组成员、副局长、新闻发言人(.+?)：")
_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


def read_corpus() -> list[Rel]:
    """The releases as the generator (make_archive.py) writes them."""
    out = []
    for path in sorted(ARCHIVE.glob("release-*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
        m = _DATE.search(lines[1])
        date = f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}" if m else None
        publisher = next(
            [p for p in PUBLISHERS if line in (f"来源：{p}", f"{p}出品", f"{p}版权与免责声明：")][0]
            for line in lines if any(p in line for p in PUBLISHERS) and not line.startswith("①"))
        rel = Rel(path.stem, date, publisher)
        speaker = org = None
        for i, line in enumerate(lines):
            sm = _SPEAKER_LINE.match(line)
            if i == 0:
                para = Para(line, "title")
            elif line.startswith("记者："):
                para, speaker = Para(line, "question"), None
            elif sm:
                org, speaker = sm[1], sm[2]
                para = Para(line, "answer", speaker, org)
            elif speaker and line.startswith("二是"):
                para = Para(line, "answer", speaker, org)
            elif line.startswith("记者|") or line.startswith("来源：") or line.endswith("出品"):
                para, speaker = Para(line, "credits"), None
            elif line.endswith("版权与免责声明：") or line.startswith("①"):
                para, speaker = Para(line, "boilerplate"), None
            else:
                para = Para(line, "body")
            rel.paras.append(para)
        out.append(rel)
    return out


CORPUS = read_corpus()


def paragraphs(keep=lambda rel, para: True) -> list[tuple[Rel, Para]]:
    return [(r, p) for r in CORPUS for p in r.paras if keep(r, p)]


def expected_facets(pairs: list[tuple[Rel, Para]]) -> tuple[dict, dict]:
    """The facets of these paragraphs: top 10 of each (most first, ties by value) and the
    number of distinct values."""
    counters = {
        "month": Counter(r.month for r, _p in pairs if r.month),
        "publisher": Counter(r.publisher for r, _p in pairs),
        "org": Counter(p.org for _r, p in pairs if p.org),
        "speaker": Counter(p.speaker for _r, p in pairs if p.speaker),
        "section": Counter(p.section for _r, p in pairs),
    }
    top = {name: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
           for name, c in counters.items()}
    return top, {name: len(c) for name, c in counters.items()}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ix_dir = tmp_path_factory.mktemp("archive") / "index"
    report = build_index([ARCHIVE], ix_dir, full=True)
    assert (report.releases, report.paragraphs) == (60, sum(len(r.paras) for r in CORPUS))
    return ix_dir


@pytest.fixture(scope="module")
def ix(archive_dir: Path) -> Index:
    with open_index(archive_dir) as index:
        yield index


@pytest.fixture(scope="module")
def client(archive_dir: Path) -> FlaskClient:
    return create_app({"INDEX_DIR": str(archive_dir), "TESTING": True}).test_client()


def everything(ix: Index, **kwargs):
    """Every matching paragraph, in order (pages of 100)."""
    hits, page = [], 1
    while True:
        result = ix.search(page=page, per_page=100, **kwargs)
        hits += result.hits
        if page * 100 >= result.total:
            return result.total, hits
        page += 1


# ----------------------------------------------------------------------- the corpus itself


def test_the_corpus_is_what_its_readme_says() -> None:
    assert len(CORPUS) == 60
    assert len({r.month for r in CORPUS if r.month}) == 20
    assert sum(r.date is None for r in CORPUS) == 3
    assert Counter(r.publisher for r in CORPUS) == {p: 20 for p in PUBLISHERS}
    assert len({p.org for _r, p in paragraphs() if p.org}) == 6
    assert len({p.speaker for _r, p in paragraphs() if p.speaker}) == 12


def test_publishers_and_speakers_are_read_from_the_text(ix: Index) -> None:
    for rel in CORPUS[:6]:
        release = ix.document(rel.doc_id)
        assert (release.publisher, release.date) == (rel.publisher, rel.date)
        assert [(p.section, p.speaker, p.organization) for p in release.paragraphs] == [
            (p.section, p.speaker, p.org) for p in rel.paras]


# --------------------------------------------------------------------------- facets


def test_facets_of_filters_alone_count_every_match(ix: Index) -> None:
    result = ix.search("", date_from="2021")
    pairs = paragraphs(lambda r, p: r.date is not None)
    assert result.total == len(pairs)
    top, distinct = expected_facets(pairs)
    assert result.facets == top
    assert result.facet_counts == distinct
    assert distinct["month"] == 20 and len(result.facets["month"]) == 10  # top 10 of 20
    assert distinct["speaker"] == 12 and len(result.facets["speaker"]) == 10
    months = Counter(r.month for r, _p in pairs)
    assert result.timeline == sorted(months.items())
    assert list(result.facets) == list(FACETS)


def test_facets_of_a_word_query_count_all_matches_not_the_page(ix: Index) -> None:
    result = ix.search("外贸", per_page=3)
    pairs = paragraphs(lambda r, p: "外贸" in p.text)
    assert (result.total, len(result.hits)) == (len(pairs), 3)
    top, distinct = expected_facets(pairs)
    assert (result.facets, result.facet_counts) == (top, distinct)
    assert result.facets["org"] == [("市商务局", len(pairs))]


def test_facets_can_be_left_out(ix: Index) -> None:
    result = ix.search("外贸", facets=False)
    assert (result.facets, result.facet_counts, result.timeline) == ({}, {}, [])
    assert result.total == len(paragraphs(lambda r, p: "外贸" in p.text))


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize("publisher", PUBLISHERS)
def test_publisher_filter_in_python_and_in_the_query(ix: Index, publisher: str) -> None:
    want = len(paragraphs(lambda r, p: r.publisher == publisher))
    assert ix.search("", publisher=publisher).total == want
    assert ix.search(f"publisher:{publisher}").total == want
    words = paragraphs(lambda r, p: r.publisher != publisher and "外贸" in p.text)
    assert ix.search(f"外贸 -publisher:{publisher}").total == len(words)


def test_publisher_is_compared_folded(ix: Index) -> None:
    want = len(paragraphs(lambda r, p: r.publisher == "德州新闻网"))
    assert ix.search("", publisher="德州新聞網").total == want  # traditional script
    assert ix.search("publisher:德州新聞網").total == want


def test_org_and_speaker_filters(ix: Index) -> None:
    for org in ("市商务局", "市卫健委"):
        want = paragraphs(lambda r, p: p.org == org)
        total, hits = everything(ix, query="", org=org)
        assert total == len(want)
        assert {(h.doc_id, h.paragraph) for h in hits} == {
            (r.doc_id, r.paras.index(p) + 1) for r, p in want}
        assert ix.search(f"org:{org}").total == len(want)
    both = paragraphs(lambda r, p: p.org in ("市商务局", "市卫健委"))
    assert ix.search("org:市商务局 org:市卫健委").total == len(both)  # any of them
    assert ix.search("核酸检测 -org:市卫健委").total == len(
        paragraphs(lambda r, p: "核酸检测" in p.text and p.org != "市卫健委"))
    speaker = "王海波"
    assert ix.search("", speaker=speaker).total == len(
        paragraphs(lambda r, p: p.speaker == speaker))


def test_section_filter_counts_with_facets(ix: Index) -> None:
    result = ix.search("", section="answer", publisher="齐鲁晚报")
    pairs = paragraphs(lambda r, p: p.section == "answer" and r.publisher == "齐鲁晚报")
    assert result.total == len(pairs)
    assert result.facets == expected_facets(pairs)[0]


def count_dates(first: str, last: str) -> int:
    return len(paragraphs(lambda r, p: r.date is not None and first <= r.date <= last))


@pytest.mark.parametrize(("query", "first", "last"), [
    ("date:2021-01-01", "2021-01-01", "2021-01-01"),  # a day: release-01
    ("date:2021-01-31", "2021-01-31", "2021-01-31"),  # the last day of a month: release-21
    ("date:2021-03", "2021-03-01", "2021-03-31"),
    ("date:2022", "2022-01-01", "2022-12-31"),
    ("date:2021-01-01..2021-01-31", "2021-01-01", "2021-01-31"),  # inclusive ends
    ("date:2021-02-15..2021-05", "2021-02-15", "2021-05-31"),
    ("date:2022-03..", "2022-03-01", "9999-12-31"),
    ("date:..2021-04", "0001-01-01", "2021-04-30"),
])
def test_date_syntax(ix: Index, query: str, first: str, last: str) -> None:
    want = count_dates(first, last)
    assert want > 0
    assert ix.search(query).total == want


def test_inclusive_range_ends_are_really_inside(ix: Index) -> None:
    ends = {r.date for r in CORPUS} & {"2021-01-01", "2021-01-31"}
    assert ends == {"2021-01-01", "2021-01-31"}
    total, hits = everything(ix, query="", date_from="2021-01-01", date_to="2021-01-31")
    assert {h.date for h in hits} >= ends
    assert total == count_dates("2021-01-01", "2021-01-31")


@pytest.mark.parametrize(("date_from", "date_to", "first", "last"), [
    ("2021-03", "2021-03", "2021-03-01", "2021-03-31"),  # partial: the whole month
    ("2021", None, "2021-01-01", "9999-12-31"),
    (None, "2021-06", "0001-01-01", "2021-06-30"),
    ("2021-12-31", "2022-01-01", "2021-12-31", "2022-01-01"),
])
def test_date_parameters_partial_and_open(ix: Index, date_from, date_to, first, last) -> None:
    assert ix.search("", date_from=date_from, date_to=date_to).total == count_dates(first, last)


def test_a_negated_date_keeps_the_undated(ix: Index) -> None:
    want = paragraphs(lambda r, p: "核酸检测" in p.text and not (r.date or "").startswith("2021"))
    assert any(r.date is None for r, _p in want)
    assert ix.search("核酸检测 -date:2021").total == len(want)


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"date_from": "2022-04", "date_to": "2022-03"}, "invalid_date_range"),
    ({"date_from": "2022-03-02", "date_to": "2022-03-01"}, "invalid_date_range"),
    ({"date_from": "2022-13"}, "invalid_from"),
    ({"date_to": "2022-02-30"}, "invalid_to"),
    ({"date_from": "22-03"}, "invalid_from"),
    ({"date_from": " 2022"}, "invalid_from"),
    ({"sort": "date"}, "invalid_sort"),
    ({"publisher": 3}, "invalid_publisher"),
    ({"org": "x" * 201}, "invalid_org"),
])
def test_bad_ranges_and_orders_are_query_errors(ix: Index, kwargs: dict, code: str) -> None:
    with pytest.raises(QueryError) as caught:
        ix.search("外贸", **kwargs)
    assert caught.value.code == code
    with pytest.raises(QueryError):
        SearchParams("外贸", **kwargs)


def test_malformed_dates_in_the_query_are_words(ix: Index) -> None:
    for text in ("date:2022-04..2022-03", "date:2022-13", "date:..", "date:tomorrow"):
        parsed = ix.parse(text)
        assert "date" not in parsed.filters
        assert [u.text for c in parsed.clauses for u in c.units] == [text]
    # searched as words (2022, 04, 03 are in the dates of the text), not an error
    assert ix.search("外贸 date:2022-04..2022-03").total >= len(
        paragraphs(lambda r, p: "外贸" in p.text))


# --------------------------------------------------------------------------- sorting


def test_newest_and_oldest_first_ties_by_relevance_undated_last(ix: Index) -> None:
    want = len(paragraphs(lambda r, p: "核酸检测" in p.text))
    relevance = everything(ix, query="核酸检测")[1]
    for sort, newest in (("newest", True), ("oldest", False)):
        total, hits = everything(ix, query="核酸检测", sort=sort)
        assert total == want
        assert sorted((h.doc_id, h.paragraph) for h in hits) == sorted(
            (h.doc_id, h.paragraph) for h in relevance)
        dated = [h for h in hits if h.date]
        undated = [h for h in hits if not h.date]
        assert undated and hits[-len(undated):] == undated  # last either way
        days = [h.date for h in dated]
        assert days == sorted(days, reverse=newest)
        for a, b in zip(dated, dated[1:]):
            if a.date == b.date:
                assert a.score >= b.score  # ties by relevance
    assert [h.score for h in relevance] == sorted((h.score for h in relevance), reverse=True)


def test_filters_alone_list_newest_first(ix: Index) -> None:
    total, hits = everything(ix, query="", publisher="德州日报新媒体")
    assert total == len(paragraphs(lambda r, p: r.publisher == "德州日报新媒体"))
    dated = [h.date for h in hits if h.date]
    assert dated == sorted(dated, reverse=True)
    assert all(not h.date for h in hits[len(dated):])
    oldest = [h.date for h in everything(ix, query="", publisher="德州日报新媒体",
                                         sort="oldest")[1] if h.date]
    assert oldest == sorted(dated)
    # within a release, its paragraphs in order
    first = [h for h in hits if h.doc_id == hits[0].doc_id]
    assert [h.paragraph for h in first] == sorted(h.paragraph for h in first)


def test_same_day_releases_are_ordered_by_relevance(ix: Index) -> None:
    same = [r for r in CORPUS if r.date == CORPUS[40].date]
    assert len(same) >= 2
    hits = ix.search(f"date:{CORPUS[40].date}", sort="newest", per_page=100).hits
    assert {h.doc_id for h in hits} == {r.doc_id for r in same}


# --------------------------------------------------------------------------- CLI


def test_cli_filters_sort_and_facets(runner, archive_dir: Path) -> None:
    args = ["search", "外贸", "--index-dir", str(archive_dir), "--from", "2021-03",
            "--to", "2021-12", "--publisher", "齐鲁晚报", "--sort", "oldest", "--facets", "-n", "3"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    pairs = paragraphs(lambda r, p: "外贸" in p.text and r.publisher == "齐鲁晚报"
                       and "2021-03-01" <= (r.date or "") <= "2021-12-31")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{len(pairs)} results for '外贸'")
    top, distinct = expected_facets(pairs)
    facet_lines = lines[lines.index("facets (matching paragraphs):") + 1:]
    assert facet_lines[1] == "  publisher: " + ", ".join(f"{v} {n}" for v, n in top["publisher"])
    assert facet_lines[2] == "  org: " + ", ".join(f"{v} {n}" for v, n in top["org"])
    data = json.loads(runner.invoke(main, args + ["--json"]).stdout)
    assert data["total"] == len(pairs)
    assert data["facets"]["month"] == [{"value": v, "count": n} for v, n in top["month"]]
    assert data["facet_counts"] == distinct
    dates = [h["date"] for h in data["hits"]]
    assert dates == sorted(dates)


def test_cli_org_option_and_newest(runner, archive_dir: Path) -> None:
    result = runner.invoke(main, ["search", "", "--index-dir", str(archive_dir), "--org",
                                  "市卫健委", "--sort", "newest", "--json", "-n", "100"])
    data = json.loads(result.stdout)
    assert data["total"] == len(paragraphs(lambda r, p: p.org == "市卫健委"))
    dates = [h["date"] for h in data["hits"] if h["date"]]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2022-04", "--to", "2022-03"], "the date range ends before it starts"),
    (["--from", "2022-13"], "from must be a date (YYYY-MM-DD, YYYY-MM or YYYY)"),
    (["--to", "yesterday"], "to must be a date"),
])
def test_cli_bad_ranges_exit_2_with_a_message(runner, archive_dir: Path, args, message) -> None:
    result = runner.invoke(main, ["search", "外贸", "--index-dir", str(archive_dir), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


def test_cli_unknown_sort_exits_2(runner, archive_dir: Path) -> None:
    result = runner.invoke(main, ["search", "外贸", "--index-dir", str(archive_dir),
                                  "--sort", "date"])
    assert result.exit_code == 2
    assert "'relevance', 'newest', 'oldest'" in result.stderr


# --------------------------------------------------------------------------- HTTP


def test_api_filters_sort_and_facets(client: FlaskClient, ix: Index) -> None:
    body = client.get("/api/search?q=核酸检测&from=2021-02&to=2022-01&sort=newest"
                      "&publisher=德州新闻网&per_page=50").get_json()
    pairs = paragraphs(lambda r, p: "核酸检测" in p.text and r.publisher == "德州新闻网"
                       and "2021-02-01" <= (r.date or "") <= "2022-01-31")
    assert body["total"] == len(pairs)
    top, distinct = expected_facets(pairs)
    assert body["facets"] == {name: [{"value": v, "count": n} for v, n in values]
                              for name, values in top.items()}
    assert body["facet_counts"] == distinct
    dates = [h["date"] for h in body["hits"]]
    assert dates == sorted(dates, reverse=True)
    assert body == {**ix.search("核酸检测", date_from="2021-02", date_to="2022-01",
                                sort="newest", publisher="德州新闻网", per_page=50).to_dict(),
                    "took_ms": body["took_ms"]}


def test_api_org_filter_and_filters_alone(client: FlaskClient) -> None:
    body = client.get("/api/search?org=市商务局&per_page=100").get_json()
    assert body["total"] == len(paragraphs(lambda r, p: p.org == "市商务局"))
    assert body["facets"]["org"] == [{"value": "市商务局", "count": body["total"]}]


@pytest.mark.parametrize(("query", "code", "message"), [
    ("from=2022-04&to=2022-03", "invalid_date_range", "the date range ends before it starts"),
    ("from=2022-13", "invalid_from", "from must be a date"),
    ("to=2021-02-29", "invalid_to", "to must be a date"),
    ("sort=date", "invalid_sort", "sort must be one of: relevance, newest, oldest"),
    ("from=2021&from=2022", "repeated_parameter", "from must be given at most once"),
])
def test_api_bad_ranges_are_400_json(client: FlaskClient, query: str, code: str,
                                     message: str) -> None:
    response = client.get(f"/api/search?q=外贸&{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and message in error["message"]


def test_the_page_shows_facets_chips_chart_and_the_form(client: FlaskClient) -> None:
    html = client.get("/?q=外贸&from=2021-03&sort=oldest").get_data(as_text=True)
    pairs = paragraphs(lambda r, p: "外贸" in p.text and (r.date or "") >= "2021-03-01")
    assert f'<strong id="total">{len(pairs)}</strong>' in html
    top, _distinct = expected_facets(pairs)
    value, count = top["org"][0]
    assert (f'<span class="facet-value">{value}</span> <span class="facet-count">{count}</span>'
            in html)
    # each value links to the page with its filter added, the rest kept
    assert "/?q=%E5%A4%96%E8%B4%B8&amp;from=2021-03&amp;sort=oldest&amp;publisher=" in html
    assert 'class="filter">起始日期：2021-03' in html
    assert '<a class="remove-filter" href="/?q=%E5%A4%96%E8%B4%B8&amp;sort=oldest"' in html
    assert '<input id="date-from" class="date-input" type="date" name="from" value="2021-03-01"' in html
    assert '<option value="oldest" selected>' in html
    assert '<svg class="month-chart"' in html and '<title id="chart-title">' in html
    months = sorted({r.month for r, _p in pairs if r.month})
    first, last = (int(months[0][:4]), int(months[0][5:])), (int(months[-1][:4]), int(months[-1][5:]))
    spanned = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
    assert html.count('<rect class="bar"') == spanned  # every month between, at 0 if none
    assert html.count('height="0.00"') == spanned - len(months)
    assert " style=" not in html and "<script>" not in html  # the CSP allows neither


def test_the_page_escapes_facet_values(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "x.jsonl").write_text(json.dumps(
        {"id": "x", "title": "标题", "text": "外贸正文", "publisher": "<b>网</b>\"'",
         "date": "2022-01-05"}, ensure_ascii=False) + "\n", encoding="utf-8")
    build_index([src], tmp_path / "index", full=True)
    client = create_app({"INDEX_DIR": str(tmp_path / "index"), "TESTING": True}).test_client()
    html = client.get("/?q=外贸").get_data(as_text=True)
    assert "<b>网</b>" not in html
    assert "&lt;b&gt;网&lt;/b&gt;" in html


# --------------------------------------------------------------------------- index format


def test_an_index_of_the_previous_format_asks_for_one_full_rebuild(tmp_path: Path) -> None:
    from search import IndexCorruptError, storage
    from search.indexer import FORMAT

    src = tmp_path / "src"
    src.mkdir()
    for path in sorted(ARCHIVE.glob("*.txt"))[:3]:
        (src / path.name).write_bytes(path.read_bytes())
    ix_dir = tmp_path / "index"
    build_index([src], ix_dir, full=True)
    gen = storage.current_generation(ix_dir)
    meta_path = gen / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["fingerprint"]["format"] = FORMAT - 1  # as the previous version wrote it
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(IndexCorruptError) as caught:
        open_index(ix_dir)
    assert f"has format {FORMAT - 1}, this version reads format {FORMAT}" in str(caught.value)
    assert "a full rebuild is needed once; run `release-search reindex --full`" in str(caught.value)
    report = build_index([src], ix_dir)  # an ordinary reindex rebuilds it
    assert report.full
    assert report.reason == (f"index format {FORMAT - 1} is not this version's {FORMAT}: "
                             "a full rebuild is needed")
    with open_index(ix_dir) as ix:
        assert ix.search("", date_from="2021").total == sum(
            len(r.paras) for r in CORPUS[:3] if r.date)


def test_bars_of_few_months_stay_narrow_and_the_peak_is_left_of_them(client: FlaskClient) -> None:
    from web.navigation import CHART_LEFT, CHART_WIDTH, MAX_BAR

    month = next(r.month for r, _p in paragraphs(lambda r, p: bool(r.month)))
    html = client.get(f"/?q=date:{month}").get_data(as_text=True)
    bars = re.findall(r'<rect class="bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', html)
    assert len(bars) == 1
    x, width = map(float, bars[0])
    assert width == MAX_BAR
    assert x == CHART_LEFT + (CHART_WIDTH - CHART_LEFT - MAX_BAR) / 2  # in the middle
    assert f'<text class="label end" x="{CHART_LEFT - 4}" y="10">' in html
    assert html.count(f">{month}</text>") == 1  # one month: named once


@pytest.mark.parametrize("value,accepted", [
    ("0000-02-29", False), ("0400-02-29", True), ("1900-02-29", False), ("2000-02-29", True),
    ("2024-02-29", True), ("2023-02-29", False), ("0004-02-29", True), ("2022-03", True)])
def test_the_openapi_date_pattern_accepts_what_the_parameters_accept(value, accepted) -> None:
    assert bool(re.fullmatch(DATE_PATTERN, value)) is accepted
    try:
        SearchParams(date_from=value)
        valid = True
    except QueryError:
        valid = False
    assert valid is accepted


@pytest.mark.parametrize("old,bars,by_year", [("1949年10月1日", 2022 - 1949 + 1, True),
                                                ("0001年1月1日", 2, True),
                                                ("2012年3月23日", 2022 - 2012 + 1, True),
                                                ("2021年1月5日", 15, False)])
def test_a_release_dated_long_ago_makes_a_chart_of_years(tmp_path: Path, old, bars, by_year) -> None:
    from web.navigation import MAX_CHART_BARS

    folder = tmp_path / "src"
    for name in ("new", "old"):
        date = "2022年3月23日" if name == "new" else old
        write_release(folder, name, f"统筹{name}发布会", f"{date}，统筹工作说明。")
    build_index([folder], tmp_path / "ix", full=True)
    client = create_app({"INDEX_DIR": str(tmp_path / "ix"), "TESTING": True}).test_client()
    html = client.get("/?q=统筹").get_data(as_text=True)
    assert html.count('<rect class="bar"') == bars <= MAX_CHART_BARS
    assert ("按年查看" in html) is by_year and ("每年匹配段落数" in html) is by_year
    if by_year:  # each year with matches links to its range
        assert '<a href="/?q=%E7%BB%9F%E7%AD%B9&amp;from=2022&amp;to=2022">2022</a>' in html
