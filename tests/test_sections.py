"""Tests of search.sections: paragraph sections, speakers and organisations of real releases.

The expected values were captured from the classifier before it was rewritten as named rules
(issue 10) and are kept as literals, so any change of behaviour shows here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search.documents import classify_paragraphs, read_releases

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
