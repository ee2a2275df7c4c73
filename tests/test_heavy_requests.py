"""One request must not stall the server (issue 11, points 1-3), on real indexes.

* Quoted phrases (and excluded words) are checked on the stored text, and the work is
  bounded: at most ``MAX_PHRASES`` checks per query (quoted phrases past them are read as plain
  words, excluded ones past them exclude every paragraph holding all their bigrams), and all
  the checks of a query look at no more than ``MAX_CHECKED_PARAGRAPHS`` paragraphs and
  ``MAX_CHECKED_CHARS`` characters, shared equally; the paragraphs a check could not reach are
  left out (for a required phrase) or excluded (for an excluded one), so no hit is ever wrong.
  The counts are asserted through :class:`search.scoring.Work`, never timed.
* Searches run outside the index lock: a heavy search held in progress does not stop a plain
  one (through the library and a live server), and a generation replaced meanwhile is closed
  only when the last search using it ends.
* Highlighting is linear and bounded: a paragraph of a million characters gives an exact
  snippet, ``MAX_SPANS`` marks at most, none past ``EXAMINED_CHARS``.
* A release is paged: ``Index.document(page=, per_page=)``, ``/doc/<id>?page=N`` with page
  links and hit links that land on the page holding the paragraph, ``/api/documents/<id>``
  with ``page`` / ``per_page`` and the paragraph count.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from benchmarks.soak import open_index_files
from search import DOC_PER_PAGE, Index, Release, ReleasePage, build_index, open_index
from search.cli import main as cli_main
from search.highlight import EXAMINED_CHARS, MAX_HIGHLIGHTED_CHARS, MAX_SPANS, SNIPPET_CHARS
from search.query import MAX_PHRASES
from search.scoring import MAX_CHECKED_CHARS, MAX_CHECKED_PARAGRAPHS, Work
from web import create_app
from web.index_holder import EXTENSION_KEY

from conftest import ROOT as REPO
from conftest import write_release

#: Body paragraphs of the common releases: the same words, the phrase "统筹 疫情" (two bigram
#: tokens in a row) in A only.
PARA_A = "统筹 疫情 防控 工作。"
PARA_B = "疫情 统筹 防控 工作。"
COMMON_RELEASES = 60
BODY_PER_RELEASE = 40  # alternating A, B
#: Twelve words, spaced: each one bigram token.
CITIES = "香港 澳门 台湾 北京 上海 天津 重庆 广州 深圳 杭州 南京 武汉".split()
CITY_IN_ORDER = " ".join(CITIES) + "。"  # every pair of neighbours in a row
#: The first nine in order, then the last three shuffled: the first eight pairs in a row only.
CITY_NINE = " ".join(CITIES[:9] + [CITIES[10], CITIES[9], CITIES[11]]) + "。"
CITY_REVERSED = " ".join(reversed(CITIES)) + "。"  # every bigram, no pair in a row
CITY_APART = "香港 台湾 澳门 成都。"  # 澳门 and 台湾, not "澳门 台湾"
#: Paragraphs of exactly LONG_CHARS characters, each holding "经济 运行".
LONG_CHARS = 10_000
LONG_COUNT = 40
LONG_PARA = ("经济 运行 " + "乙" * LONG_CHARS)[:LONG_CHARS]
#: A release of BIG_PARAGRAPHS paragraphs (the title is paragraph 1); 台风 only in paragraph 250.
BIG_PARAGRAPHS = 450
TYPHOON_PARAGRAPH = 250
#: A paragraph of a million characters, and one whose only match lies past EXAMINED_CHARS.
HUGE_PARA = "统筹发展" * 250_000
FAR_PARA = "甲" * 30_000 + "统筹"


def _big_paragraph(number: int) -> str:
    return f"第{number}段关于防汛的说明" + ("，台风将至。" if number == TYPHOON_PARAGRAPH else "。")


@pytest.fixture(scope="module")
def heavy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Index]]:
    root = tmp_path_factory.mktemp("heavy")
    src = root / "src"
    for i in range(COMMON_RELEASES):
        body = [PARA_A if j % 2 == 0 else PARA_B for j in range(BODY_PER_RELEASE)]
        write_release(src, f"p{i:02d}", f"第{i}号通报", *body)
    write_release(src, "q-cities", "城市名单", CITY_IN_ORDER, CITY_NINE, CITY_REVERSED, CITY_APART)
    write_release(src, "r-long", "长段落", *[LONG_PARA] * LONG_COUNT)
    write_release(src, "s-big", "大型通报",
                  *[_big_paragraph(n) for n in range(2, BIG_PARAGRAPHS + 1)])
    with (src / "t-huge.jsonl").open("w", encoding="utf-8") as out:
        record = {"id": "t-huge", "title": "巨型段落", "text": "\n".join([HUGE_PARA, FAR_PARA])}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    report = build_index([src], root / "index")
    assert report.problems == []
    ix = open_index(root / "index")
    yield root / "index", ix
    ix.close()


def _texts(ix: Index, query: str, **kw) -> list[tuple[str, int, str]]:
    result = ix.search(query, per_page=100, **kw)
    return [(h.doc_id, h.paragraph, h.text) for h in result.hits]


def test_fixture_paragraphs_are_stored_as_written(heavy) -> None:
    _path, ix = heavy
    common = ix.document("p00")
    assert [p.text for p in common.paragraphs][1:4] == [PARA_A, PARA_B, PARA_A]
    assert {p.section for p in common.paragraphs[1:]} == {"body"}
    assert [p.text for p in ix.document("q-cities").paragraphs][1:] == [
        CITY_IN_ORDER, CITY_NINE, CITY_REVERSED, CITY_APART]
    assert {len(p.text) for p in ix.document("r-long").paragraphs[1:]} == {LONG_CHARS}
    huge = ix.document("t-huge")
    assert [len(p.text) for p in huge.paragraphs] == [4, 1_000_000, 30_002]
    # 疫情 is in every A and B paragraph (and nowhere else).
    assert ix.search("疫情").total == COMMON_RELEASES * BODY_PER_RELEASE


# --------------------------------------------------------------------------- phrase limits


def test_a_phrase_past_the_budget_leaves_the_unchecked_paragraphs_out(heavy) -> None:
    _path, ix = heavy
    assert COMMON_RELEASES * BODY_PER_RELEASE > MAX_CHECKED_PARAGRAPHS  # what the test needs
    work = Work()
    result = ix.search('"统筹 疫情"', per_page=100, work=work)
    # 1,200 candidates (A and B alike score the same: checked in document order), 1,000
    # checked: the 500 A among them are the results; the 200 past the budget are left out.
    assert (work.phrases_checked, work.paragraphs_checked) == (1, MAX_CHECKED_PARAGRAPHS)
    assert work.paragraphs_unchecked == COMMON_RELEASES * BODY_PER_RELEASE - MAX_CHECKED_PARAGRAPHS
    assert result.total == MAX_CHECKED_PARAGRAPHS // 2
    assert {h.text for h in result.hits} == {PARA_A}
    assert [(h.doc_id, h.paragraph) for h in result.hits[:3]] == [("p00", 2), ("p00", 4), ("p00", 6)]
    # The same query again (verdicts cached) answers the same.
    again = Work()
    assert ix.search('"统筹 疫情"', per_page=100, work=again).to_dict()["hits"] == \
        result.to_dict()["hits"]
    assert (again.paragraphs_checked, ix.search('"统筹 疫情"').total) == (
        MAX_CHECKED_PARAGRAPHS, MAX_CHECKED_PARAGRAPHS // 2)


def test_an_excluded_phrase_past_the_budget_excludes_the_unchecked_paragraphs(heavy) -> None:
    _path, ix = heavy
    work = Work()
    result = ix.search('防控 -"统筹 疫情"', per_page=100, work=work)
    # Of the 1,000 checked, the 500 B do not hold the phrase: kept; the 200 unchecked go.
    assert (work.phrases_checked, work.paragraphs_checked) == (1, MAX_CHECKED_PARAGRAPHS)
    assert result.total == MAX_CHECKED_PARAGRAPHS // 2
    assert {h.text for h in result.hits} == {PARA_B}
    # Narrowed by a filter, every candidate is checked: the answer is exact.
    narrow = Work()
    exact = ix.search('防控 -"统筹 疫情" doc:p59', per_page=100, work=narrow)
    assert (narrow.paragraphs_checked, exact.total) == (BODY_PER_RELEASE, BODY_PER_RELEASE // 2)
    assert {h.text for h in exact.hits} == {PARA_B}


def test_the_character_budget_bounds_the_checks_of_long_paragraphs(heavy) -> None:
    _path, ix = heavy
    work = Work()
    result = ix.search('"经济 运行"', per_page=100, work=work)
    checked = MAX_CHECKED_CHARS // LONG_CHARS
    assert checked < LONG_COUNT  # what the test needs
    assert (work.paragraphs_checked, work.paragraphs_unchecked) == (checked, LONG_COUNT - checked)
    assert result.total == checked
    assert {h.doc_id for h in result.hits} == {"r-long"}


def test_phrases_past_the_limit_are_read_as_plain_words(heavy) -> None:
    _path, ix = heavy
    pairs = [f'"{a} {b}"' for a, b in zip(CITIES, CITIES[1:])]  # 11 phrases
    assert len(pairs) > MAX_PHRASES
    query = " ".join(pairs)
    parsed = ix.parse(query)
    assert [u.by_words for c in parsed.clauses for u in c.units] == (
        [False] * MAX_PHRASES + [True] * (len(pairs) - MAX_PHRASES))
    work = Work()
    hits = _texts(ix, query, work=work)
    # The first eight pairs must be in a row; the last three need only their words.
    assert [(d, p) for d, p, _t in hits] == [("q-cities", 2), ("q-cities", 3)]
    assert work.phrases_checked == MAX_PHRASES
    # The same pairs as the first eight: only the paragraph holding all eleven in a row.
    assert [(d, p) for d, p, _t in _texts(ix, " ".join(pairs[3:]))] == [("q-cities", 2)]


def test_excluded_phrases_past_the_limit_exclude_by_their_bigrams(heavy) -> None:
    _path, ix = heavy
    absent = [f'-"{a} {b}"' for a, b in itertools.permutations("甲乙 丙丁 戊己".split(), 2)]
    absent += ['-"庚辛 壬癸"', '-"子丑 寅卯"']  # eight phrases found nowhere
    assert len(absent) == MAX_PHRASES
    apart = '-"澳门 台湾"'  # CITY_APART holds both bigrams, not in a row
    # Checked (within the limit): CITY_APART does not hold the phrase, so it stays.
    first = _texts(ix, " ".join(["成都", apart, *absent]))
    assert [(d, p) for d, p, _t in first] == [("q-cities", 5)]
    # Past the limit: it holds the phrase's bigrams, so it is excluded.
    work = Work()
    assert _texts(ix, " ".join(["成都", *absent, apart]), work=work) == []
    assert work.phrases_checked == MAX_PHRASES


def test_many_phrases_many_exclusions_and_many_or_groups_stay_within_the_budget(heavy) -> None:
    _path, ix = heavy
    words = ["统筹", "疫情", "防控", "工作", *CITIES]
    pairs = [f'"{a} {b}"' for a, b in itertools.permutations(words, 2)]
    shapes = {
        "phrases": _fit(pairs),
        "exclusions": "工作 " + _fit(["-" + p for p in pairs], 497),
        "or-phrases": _fit([f"{a} OR {b}" for a, b in zip(pairs[::2], pairs[1::2])]),
        "or-words": _fit([f"{a} OR {b}" for a, b in itertools.permutations(words, 2)]),
    }
    for name, query in shapes.items():
        assert 450 < len(query) <= 500, name
        work = Work()
        ix.search(query, work=work)
        assert work.phrases_checked <= MAX_PHRASES, name
        assert work.paragraphs_checked <= MAX_CHECKED_PARAGRAPHS, name
        assert work.chars_checked <= MAX_CHECKED_CHARS, name
    work = Work()
    ix.search(shapes["phrases"], work=work)
    assert work.phrases_checked == MAX_PHRASES


def _fit(parts: list[str], limit: int = 500) -> str:
    """As many of ``parts`` as fit in ``limit`` characters, space-separated."""
    out = ""
    for part in parts:
        if len(out) + len(part) + 1 > limit:
            break
        out = f"{out} {part}" if out else part
    return out


# --------------------------------------------------------------------------- outside the lock


def _paused(ix: Index, query: str) -> tuple[threading.Thread, threading.Event, threading.Event,
                                            dict]:
    """A thread running ``ix.search(query)`` that stops at its first phrase check until
    ``resume`` is set; ``checking`` is set once it got there."""
    checking, resume = threading.Event(), threading.Event()
    out: dict = {}

    def hold() -> None:
        checking.set()
        assert resume.wait(60)

    def run() -> None:
        out["result"] = ix.search(query, per_page=100, work=Work(on_check=hold))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert checking.wait(60)
    return thread, checking, resume, out


def test_a_plain_search_is_answered_while_a_heavy_search_is_in_progress(heavy) -> None:
    _path, ix = heavy
    thread, _checking, resume, out = _paused(ix, '"统筹 疫情"')
    try:
        # The heavy search is in the middle of its ranking; a plain search does not wait for it.
        plain = ix.search("香港")
        assert (plain.total, [h.doc_id for h in plain.hits]) == (4, ["q-cities"] * 4)
        assert ix.stats().paragraphs > 0
        assert len(ix.document("s-big", page=2).paragraphs) == DOC_PER_PAGE
    finally:
        resume.set()
        thread.join(60)
    assert out["result"].total == MAX_CHECKED_PARAGRAPHS // 2


def test_a_replaced_generation_is_closed_when_its_last_search_ends(tmp_path: Path) -> None:
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    write_release(src, "old", "旧通报", "今天统筹 疫情防控。", "明天统筹 疫情工作。")
    build_index([src], ix_dir)
    with open_index(ix_dir, reload_interval=0) as live:
        old = ix_dir / "g000001"
        thread, _checking, resume, out = _paused(live, '"统筹 疫情"')
        try:
            write_release(src, "old", "旧通报", "今天统筹安排。")
            write_release(src, "new", "新通报", "后天统筹 疫情。")
            assert build_index([src], ix_dir, full=True).generation == "g000002"
            # A search now finds the new generation; the old one is still in use, still open.
            assert [(h.doc_id, h.paragraph) for h in live.search('"统筹 疫情"').hits] == [
                ("new", 2)]
            assert live.generation == "g000002"
            assert _open_files(old)
        finally:
            resume.set()
            thread.join(60)
        # The paused search finished on the data it started with, and closed the old files.
        assert [(h.doc_id, h.paragraph) for h in out["result"].hits] == [("old", 2), ("old", 3)]
        assert _open_files(old) == []
        assert live.search("统筹").total == 2


def _open_files(folder: Path) -> list[str]:
    return [f for f in open_index_files(os.getpid(), folder.parent)
            if f.startswith(str(folder.resolve()) + "/")]


def test_a_live_server_answers_a_plain_search_while_a_heavy_one_is_in_progress(heavy) -> None:
    import waitress
    from waitress import wasyncore

    path, _ix = heavy
    app = create_app({"INDEX_DIR": str(path)})
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{server.effective_port}"
    try:
        with app.app_context():
            served = app.extensions[EXTENSION_KEY].get()  # the Index the request threads use
        thread, _checking, resume, out = _paused(served, '"统筹 疫情" ' + '"防控 工作"')
        try:
            plain = requests.get(base + "/api/search?q=" + quote("香港"), timeout=60)
            assert plain.status_code == 200
            assert plain.json()["total"] == 4
            health = requests.get(base + "/api/health", timeout=60)
            assert health.status_code == 200 and health.json()["status"] == "ok"
            page = requests.get(f"{base}/doc/s-big?page=2&q={quote('防汛')}", timeout=60)
            assert page.status_code == 200 and 'id="p201"' in page.text
        finally:
            resume.set()
            thread.join(60)
        assert out["result"].total > 0
    finally:
        # Close the listener and every connection from inside the server's own loop (through
        # its trigger): closed from this thread, a socket could vanish under the loop's poll
        # ("Bad file descriptor" in the server thread). The loop ends with an empty map.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        serving.join(60)
        server.task_dispatcher.shutdown()
    assert not serving.is_alive()


# --------------------------------------------------------------------------- huge paragraphs


def test_a_paragraph_of_a_million_characters_gets_an_exact_snippet(heavy) -> None:
    _path, ix = heavy
    result = ix.search("统筹", doc_id="t-huge", per_page=10)
    hits = {h.paragraph: h for h in result.hits}
    assert sorted(hits) == [2, 3]
    # The densest window at the start: forty 统筹发展 of the million characters.
    assert hits[2].snippet == "<mark>统筹</mark>发展" * (SNIPPET_CHARS // 4) + "…"
    assert len(hits[2].text) == 1_000_000
    # The only match of paragraph 3 lies past the characters examined: shown unmarked.
    assert FAR_PARA.index("统筹") > EXAMINED_CHARS
    assert hits[3].snippet == "甲" * SNIPPET_CHARS + "…"


def test_a_paragraph_of_a_million_characters_is_highlighted_within_the_caps(heavy) -> None:
    _path, ix = heavy
    highlighter = ix.highlighter("统筹")
    spans = highlighter.spans(HUGE_PARA)
    assert len(spans) == MAX_SPANS  # 250,000 matches, the first MAX_SPANS marked
    assert spans[:2] == [(0, 2), (4, 6)] and spans[-1] == (4 * (MAX_SPANS - 1), 4 * MAX_SPANS - 2)
    html = highlighter.html(HUGE_PARA)
    assert html.count("<mark>") == MAX_SPANS
    assert html == "<mark>统筹</mark>发展" * MAX_SPANS + HUGE_PARA[4 * MAX_SPANS:]
    assert ix.highlight(HUGE_PARA, "统筹") == html
    assert highlighter.spans(FAR_PARA) == []
    # Many needles, matches everywhere: still MAX_SPANS marks, all in the examined part.
    many = ix.highlighter("统筹 发展 统筹发展 筹发 展统")
    dense = many.spans(HUGE_PARA)
    # Every match touches the next: one span, up to where the first needle reached MAX_SPANS.
    assert dense == [(0, 4 * MAX_SPANS)]


def test_the_release_page_of_a_huge_paragraph_marks_within_the_caps(heavy) -> None:
    path, _ix = heavy
    client = create_app({"INDEX_DIR": str(path), "TESTING": True}).test_client()
    html = client.get(f"/doc/t-huge?q={quote('统筹')}&hl=2").get_data(as_text=True)
    assert html.count("<mark>") == html.count("<mark>统筹</mark>") == MAX_SPANS  # all in ¶2
    api = client.get("/api/search?q=" + quote("统筹") + "&doc=t-huge").get_json()
    assert [h["snippet"] for h in api["hits"]][0] == "<mark>统筹</mark>发展" * 40 + "…"


def test_a_release_page_highlights_within_its_character_budget(heavy) -> None:
    path, _ix = heavy
    client = create_app({"INDEX_DIR": str(path), "TESTING": True}).test_client()
    html = client.get(f"/doc/r-long?q={quote('经济')}").get_data(as_text=True)
    # The title paragraph (长段落) first, then as many as fit; the others are shown unmarked.
    marked = (MAX_HIGHLIGHTED_CHARS - len("长段落")) // LONG_CHARS
    assert marked < LONG_COUNT  # what the test needs
    assert html.count("<mark>经济</mark>") == marked
    assert html.count(f'<p class="para-text">{LONG_PARA}</p>') == LONG_COUNT - marked
    assert html.count(f'<p class="para-text"><mark>经济</mark>{LONG_PARA[2:]}</p>') == marked


def test_the_cli_searches_a_huge_paragraph(heavy, runner) -> None:
    path, _ix = heavy
    done = runner.invoke(cli_main, ["search", "统筹", "--index-dir", str(path), "--doc", "t-huge"])
    assert done.exit_code == 0, done.output
    assert "统筹发展" in done.output


# --------------------------------------------------------------------------- paged releases


def test_a_release_is_read_a_page_at_a_time(heavy) -> None:
    _path, ix = heavy
    whole = ix.document("s-big")  # without page=: every paragraph, a plain Release
    assert (type(whole), len(whole.paragraphs)) == (Release, BIG_PARAGRAPHS)
    second = ix.document("s-big", page=2)
    assert isinstance(second, ReleasePage)
    assert (second.paragraph_count, second.page, second.per_page, second.pages) == (
        BIG_PARAGRAPHS, 2, DOC_PER_PAGE, 3)
    assert [p.number for p in second.paragraphs] == list(range(201, 401))
    assert second.paragraphs[0].text == _big_paragraph(201)
    assert (second.title, second.content_hash) == (whole.title, whole.content_hash)
    assert ix.document("s-big", per_page=450).paragraphs == whole.paragraphs
    last = ix.document("s-big", page=5, per_page=100)
    assert [p.number for p in last.paragraphs] == list(range(401, 451))
    assert ix.document("s-big", page=6, per_page=100).paragraphs == []


def test_the_release_page_is_paged_with_links(heavy) -> None:
    path, _ix = heavy
    client = create_app({"INDEX_DIR": str(path), "TESTING": True}).test_client()
    html = client.get("/doc/s-big?page=2").get_data(as_text=True)
    anchors = re.findall(r'id="(p\d+)"', html)
    assert anchors == [f"p{n}" for n in range(201, 401)]
    assert '<span class="paragraph-count">共 450 段</span>' in html
    assert "第 201–400 段（第 2 / 3 页）" in html
    assert '<h1 class="release-title">大型通报</h1>' in html  # the title paragraph is on page 1
    assert html.count('<nav class="pagination"') == 2  # above and below the paragraphs
    assert 'href="/doc/s-big"' in html  # page 1
    assert 'href="/doc/s-big?page=3"' in html
    assert 'aria-current="page"' in html
    assert client.get("/doc/s-big?page=4").status_code == 404
    assert client.get("/doc/s-big?page=x").status_code == 400
    first = client.get("/doc/s-big").get_data(as_text=True)
    assert re.findall(r'id="(p\d+)"', first) == [f"p{n}" for n in range(1, 201)]


def test_a_hit_links_to_the_page_holding_its_paragraph(heavy) -> None:
    path, _ix = heavy
    client = create_app({"INDEX_DIR": str(path), "TESTING": True}).test_client()
    results = client.get("/?q=" + quote("台风")).get_data(as_text=True)
    link = f'/doc/s-big?q={quote("台风")}&amp;hl={TYPHOON_PARAGRAPH}&amp;page=2#p{TYPHOON_PARAGRAPH}'
    assert f'href="{link}"' in results
    page = client.get(link.replace("&amp;", "&").split("#")[0]).get_data(as_text=True)
    assert f'id="p{TYPHOON_PARAGRAPH}" class="para para-body hit-paragraph"' in page
    assert "<mark>台风</mark>" in page
    # Without page=, hl= picks the page holding the paragraph.
    again = client.get(f"/doc/s-big?hl={TYPHOON_PARAGRAPH}").get_data(as_text=True)
    assert f'id="p{TYPHOON_PARAGRAPH}" class="para para-body hit-paragraph"' in again
    assert re.findall(r'id="(p\d+)"', again)[0] == "p201"


def test_the_document_api_is_paged(heavy) -> None:
    path, _ix = heavy
    client = create_app({"INDEX_DIR": str(path), "TESTING": True}).test_client()
    body = client.get("/api/documents/s-big").get_json()
    assert (body["paragraph_count"], body["page"], body["per_page"], body["pages"]) == (
        BIG_PARAGRAPHS, 1, DOC_PER_PAGE, 3)
    assert [p["number"] for p in body["paragraphs"]] == list(range(1, 201))
    body = client.get("/api/documents/s-big?page=3&per_page=100").get_json()
    assert [p["number"] for p in body["paragraphs"]] == list(range(201, 301))
    assert (body["page"], body["per_page"], body["pages"]) == (3, 100, 5)
    assert client.get("/api/documents/s-big?page=9").get_json()["paragraphs"] == []
    bad = client.get("/api/documents/s-big?page=0")
    assert (bad.status_code, bad.get_json()["error"]["code"]) == (400, "invalid_page")
    bad = client.get("/api/documents/s-big?per_page=100000")
    assert (bad.status_code, bad.get_json()["error"]["code"]) == (400, "invalid_per_page")


# --------------------------------------------------------------------------- the benchmark


def test_the_heavy_benchmark_runs_and_counts_the_work(tmp_path: Path) -> None:
    """A small run of benchmarks/heavy.py: every shape measured, the counted work within the
    bounds (the times themselves are not asserted)."""
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "heavy.py"), "--paragraphs", "300",
         "--big-release", "450", "--huge-chars", "30000", "--out", str(tmp_path), "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout[done.stdout.index("\n[\n") + 1:])
    shapes = [r["shape"] for r in rows]
    assert len(shapes) == 19 and shapes[0].startswith("search: many phrases (spaced pairs)")
    assert "GET /api/documents/<big>?page=3" in shapes
    for row in rows:
        assert row["cpu_ms"] > 0 and row["plain_alongside_ms"] > 0, row
        assert row["phrases_checked"] <= MAX_PHRASES, row
        assert row["paragraphs_checked"] <= MAX_CHECKED_PARAGRAPHS, row


def test_a_phrase_past_the_limit_still_requires_its_words(tmp_path, release_writer) -> None:
    words = ["北京", "上海", "广州", "深圳", "天津", "重庆", "南京", "杭州", "成都", "武汉"]
    pairs = [f"{a}{b}" for a, b in zip(words[::2], words[1::2])]  # five two-word phrases
    both = "，".join(pairs)
    release_writer("a", "甲市召开新闻发布会", both + "，国防外交。")
    release_writer("b", "乙市召开新闻发布会", both + "。")
    build_index([tmp_path / "src"], tmp_path / "index")
    quoted = [f'"{p}"' for p in pairs] * 2
    with open_index(tmp_path / "index") as ix:
        query = " ".join([*quoted[:MAX_PHRASES], '"国防外交"'])  # the ninth check: past it
        assert len(ix.parse(query).clauses) == MAX_PHRASES + 1
        assert [h.doc_id for h in ix.search(query).hits] == ["a"]
