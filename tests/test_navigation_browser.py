"""Navigating the archive in a real headless Chromium (Playwright) against the live server:
the date inputs and the sort select, facet links and removable chips, all by keyboard; the
chart of matches per month and its table; the sidebar above the results on a phone; and
axe-core (from npm, injected by Playwright) finding no serious or critical accessibility
violation on the search, release and error pages.

Expected counts come from the corpus files (see test_navigation.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from browser_support import BROWSER, browser, page, sync_api  # noqa: F401 (fixtures)
from test_navigation import ARCHIVE, paragraphs
from test_web_support import LiveServer

TESTS = Path(__file__).resolve().parent
#: axe-core as npm installs it (``.ci/run``: ``npm install --prefix tests axe-core@4``).
AXE = TESTS / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = BROWSER



@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("navigation-browser")
    with LiveServer(base / "index", [ARCHIVE], base) as live:
        yield live


def args_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_dates_and_sort_from_the_form_by_keyboard(server: LiveServer, page) -> None:
    tab, errors = page
    expect = sync_api.expect
    tab.goto(server.base_url + "/?q=外贸")
    want = paragraphs(lambda r, p: "外贸" in p.text)
    expect(tab.locator("#total")).to_have_text(str(len(want)))
    tab.locator("#date-from").fill("2021-03-01")
    tab.locator("#date-to").fill("2021-06-30")
    tab.locator("select[name=sort]").select_option("newest")
    tab.locator("#q").press("Enter")
    tab.wait_for_url(re.compile(r"from=2021-03-01"))
    assert {k: v for k, v in args_of(tab.url).items() if k != "section"} == {
        "q": ["外贸"], "from": ["2021-03-01"], "to": ["2021-06-30"], "sort": ["newest"]}
    inside = paragraphs(lambda r, p: "外贸" in p.text and "2021-03-01" <= (r.date or "") <= "2021-06-30")
    expect(tab.locator("#total")).to_have_text(str(len(inside)))
    dates = tab.locator(".hit .date").all_inner_texts()
    assert dates == sorted(dates, reverse=True) and dates
    # what the form holds after the search, and the chips
    expect(tab.locator("#date-from")).to_have_value("2021-03-01")
    expect(tab.locator("select[name=sort]")).to_have_value("newest")
    expect(tab.locator(".filter")).to_have_count(2)
    assert errors == []


def test_facet_links_and_chips_by_keyboard(server: LiveServer, page) -> None:
    tab, errors = page
    expect = sync_api.expect
    tab.goto(server.base_url + "/?q=核酸检测")
    link = tab.locator(".facet-publisher .facet-link").first
    name = link.locator(".facet-value").inner_text()
    count = int(link.locator(".facet-count").inner_text())
    want = paragraphs(lambda r, p: "核酸检测" in p.text and r.publisher == name)
    assert count == len(want)
    link.focus()
    tab.keyboard.press("Enter")
    tab.wait_for_url(re.compile(r"publisher="))
    expect(tab.locator("#total")).to_have_text(str(count))
    expect(tab.locator(".facet-publisher .facet-link[aria-current]")).to_have_count(1)
    chip = tab.locator(".filter")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text(f"来源：{name}")
    # a month facet: its whole month, shown in the date inputs
    month = tab.locator(".facet-month .facet-link").first
    label = month.locator(".facet-value").inner_text()
    month.focus()
    tab.keyboard.press("Enter")
    tab.wait_for_url(re.compile(r"to="))
    assert args_of(tab.url)["from"] == [f"{label}-01"]
    expect(tab.locator("#date-from")).to_have_value(f"{label}-01")
    both = [x for x in want if x[0].month == label]
    expect(tab.locator("#total")).to_have_text(str(len(both)))
    # remove the publisher's chip: the month stays
    remove = tab.get_by_role("link", name=f"移除筛选条件 来源：{name}")
    remove.focus()
    tab.keyboard.press("Enter")
    tab.wait_for_url(lambda url: "publisher=" not in url)
    alone = paragraphs(lambda r, p: "核酸检测" in p.text and r.month == label)
    expect(tab.locator("#total")).to_have_text(str(len(alone)))
    expect(tab.locator(".filter")).to_have_count(2)  # from and to
    assert errors == []


def test_the_chart_has_a_name_and_a_table(server: LiveServer, page) -> None:
    tab, errors = page
    expect = sync_api.expect
    tab.goto(server.base_url + "/?publisher=齐鲁晚报")
    chart = tab.get_by_role("img", name="每月匹配段落数")
    expect(chart).to_be_visible()
    pairs = paragraphs(lambda r, p: r.publisher == "齐鲁晚报")
    months = sorted({r.month for r, _p in pairs if r.month})
    (y0, m0), (y1, m1) = [(int(m[:4]), int(m[5:])) for m in (months[0], months[-1])]
    spanned = (y1 - y0) * 12 + m1 - m0 + 1  # a bar for every month between, 0 if none
    expect(tab.locator(".month-chart rect.bar")).to_have_count(spanned)
    table = tab.locator(".chart-data table")
    expect(table).to_be_hidden()
    tab.locator(".chart-data summary").focus()
    tab.keyboard.press("Enter")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(spanned)
    first = sum(1 for r, _p in pairs if r.month == months[0])
    expect(rows.first).to_have_text(re.compile(rf"{months[0]}\s*{first}"))
    assert errors == []


def test_on_a_phone_the_facets_come_above_the_results(server: LiveServer, browser) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        tab = context.new_page()
        tab.goto(server.base_url + "/?q=外贸")
        facets = tab.locator(".facets").bounding_box()
        results = tab.locator(".hits").bounding_box()
        assert facets["y"] + facets["height"] <= results["y"]
        assert tab.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


# ------------------------------------------------------------------------ axe-core


def axe_script() -> Path:
    """axe-core's script, installed from npm if it is not yet (skips only without npm)."""
    if not AXE.is_file():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            pytest.skip("needs node and npm for axe-core (apt install npm; "
                        "npm install --prefix tests axe-core@4)")
        subprocess.run([npm, "install", "--prefix", str(TESTS), "--no-save", "--no-package-lock",
                        "--no-audit", "--no-fund", "axe-core@4"], check=True, capture_output=True)
    return AXE


@pytest.mark.parametrize("path", [
    "/",
    "/?q=外贸",
    "/?q=核酸检测&from=2021-03-01&to=2022-06-30&sort=oldest&publisher=德州新闻网",
    "/?q=区块链技术",  # no results
    "/doc/release-02?q=外贸&hl=7",  # a release
    "/doc/no-such-release",  # 404 page
    "/?q=外贸&from=2022-13",  # 400 page
])
def test_axe_finds_no_serious_or_critical_violation(server: LiveServer, browser, path: str) -> None:
    script = axe_script()
    # The site's CSP forbids inline script, which is how Playwright injects axe: this
    # context alone ignores it (the other tests keep it, and fail on any violation).
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(server.base_url + path)
        tab.add_script_tag(path=str(script))
        results = tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    bad = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
           for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], bad
    assert results["passes"], "axe ran no checks"
