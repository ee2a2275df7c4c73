"""The release page shows what the repair did: a summary of the repairs by kind, and the spans
it could not prove marked where they stand (left as they are), with the query highlighted
through them."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_web_support import DOC_ID

from search import Index
from web import create_app
from web.markup import FLAG_LABELS, paragraph_html, repair_summary


@pytest.fixture
def client(sample_index) -> FlaskClient:
    app: Flask = create_app({"INDEX_DIR": str(sample_index), "TESTING": True})
    return app.test_client()


def flagged_spans(index: Index) -> list[tuple[int, str]]:
    release = index.document(DOC_ID)
    assert {kind for *_, kind in release.flagged} == {"unrepaired_mojibake"}
    return [(number, release.paragraphs[number - 1].text[start:end])
            for number, start, end, _ in release.flagged]


def flagged_span(index: Index) -> tuple[int, str]:
    """The flagged run of 当地配套率 (the sample's other two are 。科学 and 当地配套。)."""
    [(number, text)] = [(n, t) for n, t in flagged_spans(index) if t == "?shù)嘏涮茁?"]
    return number, text


def test_release_page_marks_the_span_left_unrepaired(client: FlaskClient, sample_ix: Index) -> None:
    number, text = flagged_span(sample_ix)
    assert text == "?shù)嘏涮茁?"
    html = client.get(f"/doc/{DOC_ID}").get_data(as_text=True)
    label = FLAG_LABELS["unrepaired_mojibake"]
    marked = re.findall(r'<span class="flagged" title="([^"]*)">([^<]*)</span>', html)
    assert marked == [(label, t) for _, t in flagged_spans(sample_ix)]
    assert [t for _, t in flagged_spans(sample_ix)] == [text]
    # In its own paragraph.
    block = html.split(f'id="p{number}"', 1)[1].split('id="p', 1)[0]
    assert f'<span class="flagged" title="{label}">{text}</span>' in block


def test_release_page_sums_up_the_repairs(client: FlaskClient, sample_ix: Index) -> None:
    repairs = sample_ix.document(DOC_ID).repairs
    html = client.get(f"/doc/{DOC_ID}").get_data(as_text=True)
    made = sum(n for kind, n in repairs.items() if not kind.startswith("unrepaired_"))
    assert f"抓取造成的损坏已修复 {made} 处" in html
    assert "1 处无法确证原文，原样保留并以虚线标出" in html
    items = re.findall(r"<li>([^<：]+)：(\d+) 处</li>", html)
    assert items == [(label, str(n)) for label, n in repair_summary(repairs)]
    assert dict(items)["拼音注音"] == str(repairs["annotations"])


def test_highlight_runs_through_a_flagged_span(client: FlaskClient, sample_ix: Index) -> None:
    number, _text = flagged_span(sample_ix)
    html = client.get(f"/doc/{DOC_ID}", query_string={"q": "嘏涮"}).get_data(as_text=True)
    block = html.split(f'id="p{number}"', 1)[1].split('id="p', 1)[0]
    label = FLAG_LABELS["unrepaired_mojibake"]
    span = '<span class="flagged" title="{}">{}</span>'.format
    assert (span(label, "?shù)") + "<mark>" + span(label, "嘏涮") + "</mark>"
            + span(label, "茁?")) in block


def test_paragraph_html_escapes_text_and_nests_marks_and_flags() -> None:
    text = '<b>"乱码"</b>&尾'
    assert text[4:6] == "乱码" and text[0:5] == '<b>"乱'
    html = paragraph_html(text, [(4, 6)], [(0, 5, "unrepaired_lost")])
    label = FLAG_LABELS["unrepaired_lost"]
    assert str(html) == (
        f'<span class="flagged" title="{label}">&lt;b&gt;&#34;</span>'
        f'<mark><span class="flagged" title="{label}">乱</span></mark>'
        '<mark>码</mark>&#34;&lt;/b&gt;&amp;尾')
    # Spans out of the text are ignored; an unknown kind is named as it is.
    assert str(paragraph_html("文本", [], [(1, 9, "x"), (0, 1, "<k>")])) == (
        '<span class="flagged" title="&lt;k&gt;">文</span>本')


def test_repair_summary_leaves_out_flags_and_unknown_kinds() -> None:
    assert repair_summary({"script": 3, "unrepaired_mojibake": 2, "annotations": 5,
                           "spaces": 0, "new_kind": 1}) == [("拼音注音", 5), ("繁体转回简体", 3)]
