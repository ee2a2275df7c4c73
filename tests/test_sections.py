"""Tests of search.sections: paragraph sections, speakers and organisations of real releases.

The expected values were captured from the classifier before it was rewritten as named rules
(issue 10) and are kept as literals, so any change of behaviour shows here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search.documents import read_releases
from search.sections import classify_paragraphs

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "tests" / "data" / "sources"

SAMPLE_EXPECTED = [
    ("title", None, None),
    *[("body", None, None)] * 11,
    ("question", None, None),
    *[("answer", "田汝勇", "市工信局")] * 5,
    ("question", None, None),
    *[("answer", "逯泽生", "市商务局")] * 5,
    *[("credits", None, None)] * 3,
    *[("boilerplate", None, None)] * 4,
]

GBK_EXPECTED = [
    ("title", None, None),
    ("body", None, None),
    ("body", None, None),
    ("question", None, None),
    ("answer", "王建国", "市住房城乡建设局"),
    ("answer", "王建国", "市住房城乡建设局"),
    ("credits", None, None),
]

BIG5_EXPECTED = [
    ("title", None, None),
    ("body", None, None),
    ("body", None, None),
    ("question", None, None),
    ("answer", "陳志明", "市水利局"),
    ("answer", "陳志明", "市水利局"),
    ("credits", None, None),
    ("boilerplate", None, None),
    ("boilerplate", None, None),
    ("boilerplate", None, None),
]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (ROOT / "seeds" / "dezhou-press-conference-13.txt", SAMPLE_EXPECTED),
        (SOURCES / "jinan-urban-renewal-gbk.txt", GBK_EXPECTED),
        (SOURCES / "taichung-flood-preparedness-big5.txt", BIG5_EXPECTED),
    ],
    ids=["sample", "gbk", "big5"],
)
def test_real_releases_are_classified_as_before(path: Path, expected: list) -> None:
    problems: list = []
    [release] = read_releases([path], problems)
    assert problems == []
    got = [(p.section, p.speaker, p.organization) for p in release.paragraphs]
    assert got == expected
    # Classifying the release's paragraph texts again gives the same sections.
    again = classify_paragraphs([p.text for p in release.paragraphs])
    assert [(p.section, p.speaker, p.organization) for p in again] == expected


def triples(lines: list[str]) -> list[tuple]:
    return [(p.section, p.speaker, p.organization) for p in classify_paragraphs(lines)]


def test_a_moderator_with_titles_is_not_a_speaker() -> None:
    # The label holds a title (副主任), so only the order of the rules keeps it from answering.
    assert triples(["标题", "记者：问题？", "新闻办副主任、主持人：请继续提问。", "后续。"]) == [
        ("title", None, None),
        ("question", None, None),
        ("body", None, None),
        ("body", None, None),
    ]


def test_enumerated_items_are_boilerplate_only_after_a_notice() -> None:
    assert triples(["标题", "本站版权声明：", "①内容仅供参考。", "1.请勿用于商业用途。", "正文。"]) == [
        ("title", None, None),
        ("boilerplate", None, None),
        ("boilerplate", None, None),
        ("boilerplate", None, None),
        ("body", None, None),
    ]
    assert triples(["标题", "①加强监测预警。"]) == [("title", None, None), ("body", None, None)]


def test_an_answer_label_keeps_an_answer_without_speaker_open() -> None:
    assert triples(["标题", "问：第一个问题？", "答：谢谢。", "我们将继续推进。", "相关链接"]) == [
        ("title", None, None),
        ("question", None, None),
        ("answer", None, None),
        ("answer", None, None),
        ("body", None, None),
    ]


def test_no_lines_no_paragraphs() -> None:
    assert classify_paragraphs([]) == []
