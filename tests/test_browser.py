"""The site in a real headless Chromium (Playwright) against the live waitress server.

Type a query, see highlights, page forward, open a release at the hit's paragraph, ``/``
focuses the box, no console errors (CSP violations would be one), phone width without
horizontal scrolling. Saves ``docs/screenshot-results.png``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import BROWSER, browser, page, sync_api  # noqa: F401 (fixtures)
from test_web_support import REPO, SEEDS, LiveServer

# The README's screenshot is refreshed only on request (RELEASE_SEARCH_SCREENSHOT=1), so a test
# run leaves the work tree clean; otherwise the screenshot goes to the test's tmp_path.
SCREENSHOT = REPO / "docs" / "screenshot-results.png"

pytestmark = BROWSER



@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("browser")
    with LiveServer(base / "index", [SEEDS], base) as live:
        yield live


def test_search_highlight_paginate_open_release(
    server: LiveServer, page: tuple[object, list[str]], tmp_path: Path
) -> None:
    tab, errors = page
    expect = sync_api.expect
    tab.goto(server.base_url + "/")  # type: ignore[attr-defined]
    expect(tab.locator("html")).to_have_attribute("lang", "zh-CN")  # type: ignore[attr-defined]
    expect(tab.locator("#stat-paragraphs")).to_have_text("31")  # type: ignore[attr-defined]

    box = tab.locator("#q")  # type: ignore[attr-defined]
    box.click()
    box.type("疫情")
    box.press("Enter")
    tab.wait_for_url(re.compile(r"/\?q=%E7%96%AB%E6%83%85"))  # type: ignore[attr-defined]
    expect(tab.locator("#total")).to_have_text("17")  # type: ignore[attr-defined]
    expect(tab.locator("li.hit")).to_have_count(10)  # type: ignore[attr-defined]
    marks = tab.locator(".snippet mark")  # type: ignore[attr-defined]
    assert marks.count() >= 10
    assert set(marks.all_inner_texts()) == {"疫情"}
    expect(box).to_have_value("疫情")
    shot = SCREENSHOT if os.environ.get("RELEASE_SEARCH_SCREENSHOT") else tmp_path / "results.png"
    tab.screenshot(path=str(shot))  # type: ignore[attr-defined]
    assert shot.stat().st_size > 10_000

    tab.get_by_role("link", name="下一页").click()  # type: ignore[attr-defined]
    tab.wait_for_url(re.compile(r"page=2"))  # type: ignore[attr-defined]
    expect(tab.locator(".pagination .current")).to_have_text("2")  # type: ignore[attr-defined]
    expect(tab.locator("li.hit")).to_have_count(7)  # type: ignore[attr-defined]
    expect(tab.get_by_role("link", name="上一页")).to_be_visible()  # type: ignore[attr-defined]

    first = tab.locator("li.hit .hit-title a").first  # type: ignore[attr-defined]
    number = re.search(r"#p(\d+)$", first.get_attribute("href") or "")
    assert number is not None
    first.click()
    tab.wait_for_url(re.compile(rf"/doc/dezhou-press-conference-13\?.*#p{number.group(1)}$"))  # type: ignore[attr-defined]
    assert tab.evaluate("document.querySelector(':target').id") == f"p{number.group(1)}"  # type: ignore[attr-defined]
    target = tab.locator(f"#p{number.group(1)}")  # type: ignore[attr-defined]
    expect(target).to_be_in_viewport()
    expect(target).to_have_class(re.compile(r"\bhit-paragraph\b"))
    assert target.locator("mark").count() >= 1
    # :target styling applies (background colour of the hit paragraph)
    background = target.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(255, 248, 225)"
    assert errors == []


def test_slash_focuses_the_search_box(server: LiveServer, page: tuple[object, list[str]]) -> None:
    tab, errors = page
    tab.goto(server.base_url + "/doc/dezhou-press-conference-13")  # type: ignore[attr-defined]
    assert tab.evaluate("document.activeElement.id") != "q"  # type: ignore[attr-defined]
    tab.keyboard.press("/")  # type: ignore[attr-defined]
    assert tab.evaluate("document.activeElement.id") == "q"  # type: ignore[attr-defined]
    assert tab.locator("#q").input_value() == ""  # the slash is not typed into the box  # type: ignore[attr-defined]
    tab.keyboard.type("统筹/")  # inside the box, "/" is an ordinary character  # type: ignore[attr-defined]
    assert tab.locator("#q").input_value() == "统筹/"  # type: ignore[attr-defined]
    assert errors == []


def test_phone_width_has_no_horizontal_scroll(server: LiveServer, browser: object) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)  # type: ignore[attr-defined]
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    for path in ("/", "/?q=%E5%A4%96%E8%B4%B8%E4%BC%81%E4%B8%9A", "/doc/dezhou-press-conference-13"):
        tab.goto(server.base_url + path)
        assert tab.evaluate("document.documentElement.scrollWidth") <= 375, path
        box = tab.locator("#q").bounding_box()
        assert box is not None and box["width"] > 300, path
    context.close()
    assert errors == []


def test_no_results_and_error_pages_render_cleanly(server: LiveServer, page: tuple[object, list[str]]) -> None:
    tab, errors = page
    tab.goto(server.base_url + "/?q=%E9%87%8F%E5%AD%90%E8%AE%A1%E7%AE%97%E6%9C%BA")  # type: ignore[attr-defined]
    sync_api.expect(tab.locator(".no-results h2")).to_have_text("没有找到与“量子计算机”相关的结果")  # type: ignore[attr-defined]
    response = tab.goto(server.base_url + "/doc/missing")  # type: ignore[attr-defined]
    assert response is not None and response.status == 404
    sync_api.expect(tab.locator(".error-page h1")).to_have_text("404 未找到页面")  # type: ignore[attr-defined]
    # Chromium reports the 404 document itself on the console, and nothing else
    assert errors == ["Failed to load resource: the server responded with a status of 404 (NOT FOUND)"]
    errors.clear()
    # a hostile query is shown as text, never run
    tab.goto(server.base_url + "/?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")  # type: ignore[attr-defined]
    assert tab.locator(".no-results h2 img").count() == 0  # type: ignore[attr-defined]
    assert errors == []
