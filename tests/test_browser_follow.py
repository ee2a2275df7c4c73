"""Suggestions in a real headless Chromium: the search box as an ARIA combobox (type, see the
list, choose with the keyboard or the mouse, land on the results), hostile input, and the form
without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from browser_support import BROWSER, browser, page, sync_api  # noqa: F401 (fixtures)
from test_web_support import SEEDS, LiveServer

pytestmark = BROWSER



@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("browser-follow")
    with LiveServer(base / "index", [SEEDS], base) as live:
        yield live


def suggestions(server: LiveServer, prefix: str) -> list[dict]:
    r = requests.get(server.base_url + "/api/suggest", params={"q": prefix, "limit": 8}, timeout=30)
    return r.json()["suggestions"]


def total(server: LiveServer, query: str) -> int:
    r = requests.get(server.base_url + "/api/search", params={"q": query}, timeout=30)
    return r.json()["total"]


def test_type_traditional_prefix_choose_with_keyboard(server: LiveServer, page) -> None:
    tab, errors = page
    expect = sync_api.expect
    tab.goto(server.base_url + "/")
    box = tab.locator("#q")
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.click()
    box.type("陳曉")
    listbox = tab.get_by_role("listbox")
    expect(listbox).to_have_attribute("data-query", "陳曉")  # the answer to the last request
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-controls", "q-suggestions")
    wanted = [s["text"] for s in suggestions(server, "陳曉")]
    assert "陈晓强" in wanted
    options = tab.locator("#q-suggestions").get_by_role("option")
    expect(options).to_have_count(len(wanted))
    assert [t.strip() for t in tab.locator(".suggestion-text").all_inner_texts()] == wanted
    position = wanted.index("陈晓强")
    for _ in range(position + 1):
        box.press("ArrowDown")
    chosen = options.nth(position)
    expect(chosen).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", chosen.get_attribute("id") or "")
    assert tab.evaluate("document.activeElement.id") == "q"  # focus stays in the box
    box.press("Enter")
    tab.wait_for_url(re.compile(r"/\?q=" + re.escape(quote("陈晓强"))))
    expect(tab.locator("#total")).to_have_text(str(total(server, "陈晓强")))
    expect(box).to_have_value("陈晓强")
    assert errors == []


def test_escape_closes_and_mouse_chooses(server: LiveServer, page) -> None:
    tab, errors = page
    expect = sync_api.expect
    tab.goto(server.base_url + "/")
    box = tab.locator("#q")
    box.click()
    box.type("市")
    listbox = tab.get_by_role("listbox")
    expect(listbox).to_have_attribute("data-query", "市")
    expect(listbox).to_be_visible()
    box.press("ArrowDown")
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    assert box.get_attribute("aria-activedescendant") is None
    expect(box).to_have_value("市")
    box.press("ArrowDown")  # opens the list again
    expect(listbox).to_be_visible()
    first = suggestions(server, "市")[0]["text"]
    tab.locator("#q-suggestions").get_by_role("option").first.click()
    tab.wait_for_url(re.compile(r"/\?q=" + re.escape(quote(first))))
    expect(tab.locator("#total")).to_have_text(str(total(server, first)))
    assert errors == []


def test_enter_without_a_choice_searches_what_was_typed(server: LiveServer, page) -> None:
    tab, errors = page
    tab.goto(server.base_url + "/")
    box = tab.locator("#q")
    box.click()
    box.type("疫情")
    sync_api.expect(tab.get_by_role("listbox")).to_have_attribute("data-query", "疫情")
    sync_api.expect(tab.get_by_role("listbox")).to_be_visible()
    box.press("Enter")
    tab.wait_for_url(re.compile(r"/\?q=" + re.escape(quote("疫情")) + "(&|$)"))
    sync_api.expect(tab.locator("#total")).to_have_text(str(total(server, "疫情")))
    assert errors == []


@pytest.mark.parametrize("typed", ["<script>", "<img src=x onerror=alert(1)>"])
def test_hostile_prefix_shows_nothing(server: LiveServer, page, typed: str) -> None:
    tab, errors = page
    tab.goto(server.base_url + "/")
    box = tab.locator("#q")
    box.click()
    box.type(typed)
    listbox = tab.locator("#q-suggestions")
    sync_api.expect(listbox).to_have_attribute("data-query", typed)
    assert tab.locator("#q-suggestions").get_by_role("option").count() == 0
    sync_api.expect(listbox).to_be_hidden()
    assert tab.locator("script:not([src])").count() == 0 and tab.locator("img").count() == 0
    assert errors == []


def test_ten_thousand_characters_are_cut_to_what_the_form_sends(server: LiveServer, page) -> None:
    tab, errors = page
    tab.goto(server.base_url + "/")
    box = tab.locator("#q")
    box.click()
    with tab.expect_response(lambda r: "/api/suggest" in r.url) as answer:
        tab.evaluate("() => { const b = document.getElementById('q'); b.value = '陈'.repeat(10000);"
                     " b.dispatchEvent(new Event('input', {bubbles: true})); }")
    assert answer.value.status == 200  # cut to maxlength (500): never the API's 400
    assert answer.value.json()["suggestions"] == []
    listbox = tab.locator("#q-suggestions")
    sync_api.expect(listbox).to_have_attribute("data-query", "陈" * 500)
    sync_api.expect(listbox).to_be_hidden()
    assert errors == []


def test_form_works_without_javascript(server: LiveServer, browser) -> None:
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    tab = context.new_page()
    tab.goto(server.base_url + "/")
    box = tab.locator("#q")
    assert box.get_attribute("role") is None  # a plain search box
    assert tab.locator("[role=listbox]").count() == 0
    box.fill("陳曉強")
    box.press("Enter")
    tab.wait_for_url(re.compile(r"/\?q="))
    sync_api.expect(tab.locator("#total")).to_have_text(str(total(server, "陳曉強")))
    context.close()


def test_results_page_offers_the_feed_and_both_exports(server: LiveServer, page) -> None:
    tab, errors = page
    tab.goto(server.base_url + "/?q=" + quote("疫情"))
    feed = tab.get_by_role("link", name="订阅 Atom 源")
    sync_api.expect(feed).to_be_visible()
    assert feed.get_attribute("href") == "/feed.atom?q=" + quote("疫情")
    assert tab.locator('head link[rel=alternate][type="application/atom+xml"]').get_attribute(
        "href") == "/feed.atom?q=" + quote("疫情")
    with tab.expect_download() as download:
        tab.get_by_role("link", name="导出 CSV").click()
    saved = download.value.path()
    text = Path(saved).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("doc_id,title,paragraph")
    assert len(text.splitlines()) == 1 + total(server, "疫情")
    sync_api.expect(tab.get_by_role("link", name="导出 JSON Lines")).to_be_visible()
    assert errors == []


def test_axe_finds_nothing_serious_with_the_list_open(server: LiveServer, browser) -> None:
    from test_navigation_browser import axe_script

    script = axe_script()
    # Playwright injects axe as an inline script: this context alone ignores the CSP.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(server.base_url + "/?q=" + quote("疫情"))
        box = tab.locator("#q")
        box.fill("")
        box.type("市")
        listbox = tab.locator("#q-suggestions")
        sync_api.expect(listbox).to_have_attribute("data-query", "市")
        box.press("ArrowDown")
        sync_api.expect(box).to_have_attribute("aria-activedescendant", "q-suggestions-0")
        tab.add_script_tag(path=str(script))
        results = tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    bad = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
           for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], bad
    assert results["passes"]
