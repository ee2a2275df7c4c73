"""Tests of search.documents (and the search.sources and search.sections behind it): decoding,
release structure, dates and problem reporting.

Every test reads real files (committed fixtures or files written to ``tmp_path``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path

import pytest

from search.documents import parse_release, read_releases
from search.errors import SourceError
from search.models import Release
from search.sections import extract_date
from search.sources import SOURCE_SUFFIXES, Problem, decode_bytes, iter_source_files

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "seeds" / "dezhou-press-conference-13.txt"
SOURCES = ROOT / "tests" / "data" / "sources"
GBK_FILE = SOURCES / "jinan-urban-renewal-gbk.txt"
BIG5_FILE = SOURCES / "taichung-flood-preparedness-big5.txt"

# A genuinely traditional release (no pinyin annotations), in UTF-8.
TRADITIONAL = """\
臺北市召開交通安全工作記者會

2023年9月12日上午，臺北市政府召開記者會，說明開學季校園周邊交通安全工作。

記者：開學後校園周邊的交通秩序如何維護？

市交通局副局長、新聞發言人林國華：我們在各校周邊增派交通協管人員，並調整號誌時相。

同時，我們將持續加強違規停車取締。

責任編輯：張雅婷

本網版權聲明：

①凡本網註明來源的作品，版權均屬於本網，未經授權不得轉載。
"""

# A short simplified release used to build other test files.
SIMPLE = """\
德州市召开春季农业生产新闻发布会

2022年4月8日，德州市政府新闻办公室召开新闻发布会，介绍全市春季农业生产情况。

记者：今年小麦春季管理有哪些措施？

市农业农村局副局长、新闻发言人张立新：我们组织农技人员深入田间地头，开展技术指导。

全市已完成小麦镇压一百二十万亩。
"""


def read_all(*paths: str | os.PathLike) -> tuple[list[Release], list[Problem]]:
    problems: list[Problem] = []
    releases = list(read_releases(paths, problems))
    return releases, problems


def sections(release: Release) -> list[str]:
    return [p.section for p in release.paragraphs]


def numbers(release: Release, section: str) -> list[int]:
    return [p.number for p in release.paragraphs if p.section == section]


# ------------------------------------------------------------------------- the sample


@pytest.fixture(scope="module")
def sample() -> Release:
    releases, problems = read_all(SAMPLE)
    assert problems == []
    assert len(releases) == 1
    return releases[0]


def test_sample_identity(sample: Release) -> None:
    assert sample.doc_id == "dezhou-press-conference-13"
    assert sample.title == "德州市召开统筹疫情防控和经济运行工作第十三场新闻发布会"
    assert sample.source == str(SAMPLE)
    assert sample.content_hash == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert sample.date == "2022-03-23"
    assert sample.url is None
    assert sample.repairs["annotations"] == 483
    assert "replaced_bytes" not in sample.repairs


def test_sample_structure(sample: Release) -> None:
    assert len(sample.paragraphs) == 31
    assert [p.number for p in sample.paragraphs] == list(range(1, 32))
    assert numbers(sample, "title") == [1]
    assert numbers(sample, "body") == list(range(2, 13))
    assert numbers(sample, "question") == [13, 19]
    assert numbers(sample, "answer") == [14, 15, 16, 17, 18, 20, 21, 22, 23, 24]
    assert numbers(sample, "credits") == [25, 26, 27]
    assert numbers(sample, "boilerplate") == [28, 29, 30, 31]
    by_number = {p.number: p for p in sample.paragraphs}
    assert by_number[12].text == "答记者问"
    assert (
        by_number[13].text
        == "记者：在当前疫情形势下，市工信局围绕保障工业运行做了哪些工作？"
    )
    assert by_number[26].text == "记者|杨鸣宇 编辑|王琳"
    assert by_number[27].text == "审核|张晓航 终审|朱代军"
    assert by_number[28].text == "德州新闻网版权与免责声明："


def test_sample_speakers_carried_over_answers(sample: Release) -> None:
    speakers = {p.number: (p.speaker, p.organization) for p in sample.paragraphs}
    for number in (14, 15, 16, 17, 18):
        assert speakers[number] == ("田汝勇", "市工信局")
    for number in (20, 21, 22, 23, 24):
        assert speakers[number] == ("逯泽生", "市商务局")
    for number in (*range(1, 14), 19, *range(25, 32)):
        assert speakers[number] == (None, None)


def test_paragraph_texts_are_stripped_and_non_empty(sample: Release) -> None:
    for paragraph in sample.paragraphs:
        assert paragraph.text == paragraph.text.strip()
        assert paragraph.text != ""


# -------------------------------------------------------------------------- encodings


def test_gbk_file_is_decoded_and_structured() -> None:
    data = GBK_FILE.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text, replaced = decode_bytes(data, str(GBK_FILE))
    assert replaced == 0
    assert text == data.decode("gbk")

    releases, problems = read_all(GBK_FILE)
    assert problems == []
    [release] = releases
    assert release.doc_id == "jinan-urban-renewal-gbk"
    assert release.title == "济南市召开城市更新工作新闻发布会"
    assert release.date == "2023-05-16"
    assert sections(release) == [
        "title", "body", "body", "question", "answer", "answer", "credits",
    ]  # fmt: skip
    assert release.paragraphs[3].text == "记者：老旧小区改造中如何保障居民的出行安全？"
    assert [(p.speaker, p.organization) for p in release.paragraphs[4:6]] == [
        ("王建国", "市住房城乡建设局"),
        ("王建国", "市住房城乡建设局"),
    ]
    assert release.paragraphs[6].text == "责任编辑：李明"
    assert release.content_hash == hashlib.sha256(data).hexdigest()


def test_big5_file_is_decoded_and_keeps_traditional_script() -> None:
    data = BIG5_FILE.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text, replaced = decode_bytes(data, str(BIG5_FILE))
    assert replaced == 0
    assert text == data.decode("big5")

    releases, problems = read_all(BIG5_FILE)
    assert problems == []
    [release] = releases
    assert release.title == "臺中市召開防災整備工作記者會"
    assert release.date == "2023-06-02"
    assert sections(release) == [
        "title", "body", "body", "question", "answer", "answer", "credits",
        "boilerplate", "boilerplate", "boilerplate",
    ]  # fmt: skip
    assert release.paragraphs[4].speaker == "陳志明"
    assert release.paragraphs[4].organization == "市水利局"
    assert release.paragraphs[5].speaker == "陳志明"
    assert (
        release.paragraphs[8].text
        == "①凡本網註明來源的作品，版權均屬於本網，未經授權不得轉載。"
    )
    assert release.repairs == {}


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + SIMPLE.encode("utf-8"))
    assert decode_bytes(path.read_bytes(), str(path)) == (SIMPLE, 0)
    releases, problems = read_all(path)
    assert problems == []
    [release] = releases
    assert release.doc_id == "bom"
    assert release.title == "德州市召开春季农业生产新闻发布会"
    assert release.paragraphs[0].text == "德州市召开春季农业生产新闻发布会"


def test_utf8_with_bad_bytes_is_indexed_and_reported(tmp_path: Path) -> None:
    raw = SIMPLE.encode("utf-8")
    title_end = raw.index("春季".encode())
    data = raw[:title_end] + b"\xff" + raw[title_end:]
    middle = data.index("新闻办公室".encode())
    data = data[:middle] + b"\xfe\xc0" + data[middle:]
    path = tmp_path / "damaged.txt"
    path.write_bytes(data)

    text, replaced = decode_bytes(data, str(path))
    assert replaced == 3
    assert text.count("\ufffd") == 3

    releases, problems = read_all(path)
    assert problems == [
        Problem(str(path), "replaced 3 undecodable byte(s) with U+FFFD", skipped=False)
    ]
    [release] = releases
    assert release.title == "德州市召开\ufffd春季农业生产新闻发布会"
    assert release.paragraphs[1].text.startswith(
        "2022年4月8日，德州市政府\ufffd\ufffd新闻办公室"
    )
    assert release.repairs["replaced_bytes"] == 3
    assert release.content_hash == hashlib.sha256(data).hexdigest()
    assert sections(release) == ["title", "body", "question", "answer", "answer"]


def test_binary_file_is_skipped_and_reported(tmp_path: Path) -> None:
    binary = tmp_path / "a-image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    good = tmp_path / "b-good.txt"
    good.write_text(SIMPLE, encoding="utf-8")
    releases, problems = read_all(tmp_path)
    assert [r.doc_id for r in releases] == ["b-good"]
    assert problems == [
        Problem(str(binary), "binary file (contains NUL bytes)", skipped=True)
    ]


def test_undecodable_bytes_raise_source_error() -> None:
    noise = bytes(b or 1 for b in random.Random(7).randbytes(4000))
    with pytest.raises(SourceError) as caught:
        decode_bytes(noise, "noise.txt")
    assert caught.value.source == "noise.txt"
    assert caught.value.reason == "undecodable file (not text in a known encoding)"
    with pytest.raises(SourceError) as caught:
        decode_bytes(b"abc\x00def", "nul.txt")
    assert caught.value.reason == "binary file (contains NUL bytes)"


def test_empty_file_is_skipped_and_reported(tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("\n  \n\u3000\n", encoding="utf-8")
    releases, problems = read_all(empty)
    assert releases == []
    assert problems == [Problem(str(empty), "empty release (no text)", skipped=True)]


# ------------------------------------------------------------------------------ JSONL


def test_jsonl_good_malformed_and_missing_text_lines(tmp_path: Path) -> None:
    good = json.dumps(
        {
            "id": "r-001",
            "title": "市农业农村局召开新闻发布会",
            "text": "4月8日，市农业农村局召开新闻发布会。\n\n记者：春耕物资供应充足吗？\n"
            "市农业农村局局长李强：目前化肥储备充足。",
            "date": "2022-04-09",
            "source": "德州新闻网",
            "url": "https://example.org/r-001",
        },
        ensure_ascii=False,
    )
    path = tmp_path / "bulk.jsonl"
    path.write_text(
        good
        + "\n"
        + '{"id": "r-002", "text": "未闭合\n'
        + '{"id": "r-003", "title": "缺少正文"}\n',
        encoding="utf-8",
    )
    releases, problems = read_all(path)
    assert problems == [
        Problem(
            f"{path}:2",
            "invalid JSON (Unterminated string starting at, column 25)",
            True,
        ),
        Problem(f"{path}:3", 'missing or invalid "text" (a string)', True),
    ]
    [release] = releases
    assert release.doc_id == "r-001"
    assert release.title == "市农业农村局召开新闻发布会"
    assert release.date == "2022-04-09"
    assert release.source == "德州新闻网"
    assert release.url == "https://example.org/r-001"
    assert release.content_hash == hashlib.sha256(good.encode("utf-8")).hexdigest()
    assert [(p.number, p.section, p.text) for p in release.paragraphs] == [
        (1, "title", "市农业农村局召开新闻发布会"),
        (2, "body", "4月8日，市农业农村局召开新闻发布会。"),
        (3, "question", "记者：春耕物资供应充足吗？"),
        (4, "answer", "市农业农村局局长李强：目前化肥储备充足。"),
    ]
    assert (release.paragraphs[3].speaker, release.paragraphs[3].organization) == (
        "李强",
        "市农业农村局",
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "expected a JSON object, not list"),
        ('{"text": "正文"}', 'missing or invalid "id" (a string or integer)'),
        ('{"id": "  ", "text": "正文"}', 'empty "id"'),
        (
            '{"id": true, "text": "正文"}',
            'missing or invalid "id" (a string or integer)',
        ),
        ('{"id": "x", "text": ""}', 'empty "text"'),
        ('{"id": "x", "text": ["正文"]}', 'missing or invalid "text" (a string)'),
        (
            '{"id": "x", "text": "正文", "title": 5}',
            '"title" must be a string, not int',
        ),
        (
            '{"id": "x", "text": "正文", "date": 20220101}',
            '"date" must be a string, not int',
        ),
        ('{"id": "x", "text": "正文", "url": {}}', '"url" must be a string, not dict'),
    ],
)
def test_jsonl_malformed_lines(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 42, "text": "第一行"}\n\n' + line + "\n", encoding="utf-8")
    releases, problems = read_all(path)
    assert problems == [Problem(f"{path}:3", message, skipped=True)]
    assert [(r.doc_id, r.title, r.source) for r in releases] == [
        ("42", "第一行", f"{path}:1")
    ]


def test_jsonl_date_field_wins_and_invalid_date_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "dates.jsonl"
    records = [
        {"id": "a", "text": "2021年5月6日召开会议", "date": "2022-01-02"},
        {"id": "b", "text": "2021年5月6日召开会议", "date": "2022-13-02"},
        {"id": "c", "text": "召开会议", "title": "  ", "date": ""},
    ]
    path.write_text("".join(json.dumps(r) + "\r\n" for r in records), encoding="utf-8")
    releases, problems = read_all(path)
    assert [(r.doc_id, r.date, r.title) for r in releases] == [
        ("a", "2022-01-02", "2021年5月6日召开会议"),
        ("b", "2021-05-06", "2021年5月6日召开会议"),
        ("c", None, "召开会议"),
    ]
    assert problems == [
        Problem(
            f"{path}:2",
            "ignored invalid \"date\" '2022-13-02' (expected YYYY-MM-DD)",
            False,
        )
    ]
    # The hash covers the line without its terminator.
    assert (
        releases[0].content_hash
        == hashlib.sha256(json.dumps(records[0]).encode()).hexdigest()
    )


def test_jsonl_line_with_nul_bytes_is_skipped_alone(tmp_path: Path) -> None:
    path = tmp_path / "dump.jsonl"
    path.write_bytes(b'{"id": "a", "text": "x"}\n\x00\x01\x02')
    releases, problems = read_all(path)
    assert [r.doc_id for r in releases] == ["a"]
    assert problems == [
        Problem(f"{path}:2", "binary data (a NUL byte) in the line", skipped=True)
    ]


def test_jsonl_file_mostly_of_nul_bytes_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "utf16.jsonl"  # NUL bytes in 3 of its 4 lines (the last one is clean)
    path.write_bytes('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n'.encode("utf-16-le")
                     + b'\n{"id": "c", "text": "z"}\n')
    releases, problems = read_all(path)
    assert releases == []
    assert problems == [
        Problem(str(path), "binary file (contains NUL bytes)", skipped=True)
    ]


# ----------------------------------------------------------------- ids and duplicates


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = tmp_path / "a" / "same.txt"
    second = tmp_path / "b" / "same.md"
    first.write_text("第一篇\n正文", encoding="utf-8")
    second.write_text("第二篇\n正文", encoding="utf-8")
    bulk = tmp_path / "c.jsonl"
    bulk.write_text(
        '{"id": "same", "text": "第三篇"}\n{"id": "other", "text": "第四篇"}\n', "utf-8"
    )
    releases, problems = read_all(tmp_path)
    assert [(r.doc_id, r.title) for r in releases] == [
        ("same", "第一篇"),
        ("other", "第四篇"),
    ]
    assert problems == [
        Problem(str(second), f"duplicate id 'same' (first in {first})", skipped=True),
        Problem(f"{bulk}:1", f"duplicate id 'same' (first in {first})", skipped=True),
    ]


def test_ids_are_stable_across_reads(tmp_path: Path) -> None:
    path = tmp_path / "release-7.txt"
    path.write_text(SIMPLE, encoding="utf-8")
    first, _ = read_all(tmp_path)
    second, _ = read_all(tmp_path)
    assert first == second
    assert first[0].doc_id == "release-7"


# ----------------------------------------------------------------------------- folders


def test_folder_expansion_is_recursive_sorted_and_filtered(tmp_path: Path) -> None:
    for name in (
        "b.txt", "a/z.md", "a/deep/y.jsonl", "a/deep/x.TXT", "notes.pdf", "a/readme",
        ".hidden/secret.txt", "a/.draft.txt",
    ):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("标题\n", encoding="utf-8")
    assert SOURCE_SUFFIXES == (".txt", ".md", ".jsonl", ".html", ".htm", ".warc", ".warc.gz")
    assert iter_source_files([tmp_path]) == [
        tmp_path / "a" / "deep" / "x.TXT",
        tmp_path / "a" / "deep" / "y.jsonl",
        tmp_path / "a" / "z.md",
        tmp_path / "b.txt",
    ]
    # Files and folders mixed, duplicates removed, other suffixes dropped.
    assert iter_source_files(
        [tmp_path / "b.txt", str(tmp_path / "a"), tmp_path / "notes.pdf"]
    ) == [
        tmp_path / "a" / "deep" / "x.TXT",
        tmp_path / "a" / "deep" / "y.jsonl",
        tmp_path / "a" / "z.md",
        tmp_path / "b.txt",
    ]


def test_missing_path_raises(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(SourceError) as caught:
        iter_source_files([missing])
    assert caught.value.source == str(missing)
    with pytest.raises(SourceError):
        read_releases([tmp_path, missing], [])


# ------------------------------------------------------------------ traditional script


def test_traditional_release_keeps_its_script(tmp_path: Path) -> None:
    path = tmp_path / "taipei.txt"
    path.write_text(TRADITIONAL, encoding="utf-8")
    releases, problems = read_all(path)
    assert problems == []
    [release] = releases
    assert release.title == "臺北市召開交通安全工作記者會"
    assert [p.text for p in release.paragraphs] == [
        line for line in TRADITIONAL.split("\n") if line
    ]
    assert sections(release) == [
        "title", "body", "question", "answer", "answer", "credits", "boilerplate", "boilerplate",
    ]  # fmt: skip
    assert [(p.speaker, p.organization) for p in release.paragraphs[3:5]] == [
        ("林國華", "市交通局"),
        ("林國華", "市交通局"),
    ]
    assert release.date == "2023-09-12"
    assert release.repairs == {}


# ------------------------------------------------------------------------ classification


def test_answer_ends_at_a_heading_but_not_at_an_enumerated_point() -> None:
    text = (
        "标题\n记者：问题？\n市卫健委主任王芳：回答。\n一、加强监测预警\n继续回答。\n"
        "相关链接\n更多内容。"
    )
    release = parse_release(text, "x")
    assert [(p.section, p.speaker, p.organization) for p in release.paragraphs] == [
        ("title", None, None),
        ("question", None, None),
        ("answer", "王芳", "市卫健委"),
        ("answer", "王芳", "市卫健委"),
        ("answer", "王芳", "市卫健委"),
        ("body", None, None),
        ("body", None, None),
    ]


def test_bare_name_and_answer_label_after_a_question() -> None:
    text = (
        "外交部发言人例行记者会\n法新社记者：请问有何评论？\n汪文斌：我们注意到有关报道。\n"
        "我们的立场是一贯的。\n问：第二个问题？\n答：谢谢提问。\n主持人：发布会到此结束。\n"
        "具体措施：一是加强监测。"
    )
    release = parse_release(text, "x")
    assert [(p.section, p.speaker) for p in release.paragraphs] == [
        ("title", None),
        ("question", None),
        ("answer", "汪文斌"),
        ("answer", "汪文斌"),
        ("question", None),
        ("answer", None),
        ("body", None),
        ("body", None),
    ]


def test_speaker_without_name_and_credit_variants() -> None:
    text = (
        "标题\n记者：问题？\n市工信局相关负责人：回答。\n（本报记者 张三 通讯员 李四）\n"
        "来源：德州日报\n视频制作\n版权所有 © 德州新闻网\n后记。"
    )
    release = parse_release(text, "x")
    assert [(p.section, p.speaker, p.organization) for p in release.paragraphs] == [
        ("title", None, None),
        ("question", None, None),
        ("answer", None, "市工信局"),
        ("credits", None, None),
        ("credits", None, None),
        ("credits", None, None),
        ("boilerplate", None, None),
        ("body", None, None),
    ]


def test_bracketed_credits_and_long_lines() -> None:
    long_lines = [
        "记者| " * 300 + "。",
        "记者 张三 " * 300 + "。",
        "(记者|张三  李四   )" * 200 + "?",
        "未经" * 2000 + "授权" * 2000,
    ]
    text = "标题\n(记者|张三)(编辑|李四)\n" + "\n".join(long_lines)
    release = parse_release(text, "x")
    assert sections(release) == ["title", "credits", "body", "body", "body", "body"]


def test_markdown_heading_markers_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text(
        "# 市政府召开新闻发布会\n\n## 答记者问\n\n记者：问题？\n", encoding="utf-8"
    )
    [release], _ = read_all(path)
    assert [(p.section, p.text) for p in release.paragraphs] == [
        ("title", "市政府召开新闻发布会"),
        ("body", "答记者问"),
        ("question", "记者：问题？"),
    ]


def test_body_lines_that_mention_reporters_are_not_questions() -> None:
    text = "标题\n记者从发布会获悉，全市新增病例为零。\n据局长介绍：工作进展顺利。\n答记者问："
    release = parse_release(text, "x")
    assert sections(release) == ["title", "body", "body", "body"]


def test_jsonl_style_title_is_paragraph_one() -> None:
    release = parse_release("第一段\n\n  第二段  ", "x", title="  标题 \n 续  ")
    assert [(p.number, p.section, p.text) for p in release.paragraphs] == [
        (1, "title", "标题 续"),
        (2, "body", "第一段"),
        (3, "body", "第二段"),
    ]


def test_parse_release_without_text_raises() -> None:
    with pytest.raises(SourceError) as caught:
        parse_release(" \n\n", "x", source="x.txt")
    assert caught.value.source == "x.txt"


# ------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "default_year", "expected"),
    [
        ("3月1日开会，2022年3月23日发布", None, "2022-03-23"),
        ("２０２２年３月２３日发布", None, "2022-03-23"),
        ("2022年13月5日无效，2021年2月3日有效", None, "2021-02-03"),
        ("3月23日召开，印发《2022年政策清单》", 2019, "2022-03-23"),
        ("3月23日召开", 2020, "2020-03-23"),
        ("13月40日，2月30日，4月5日召开", 2022, "2022-04-05"),
        ("3月23日召开", None, None),
        ("没有日期", 2022, None),
        ("2022年13月5日", None, None),
        # The release's own date, not the first one it mentions.
        ("标题\n据统计，2019年1月1日以来共计。\n发布时间：2022-03-23 10:30", None, "2022-03-23"),
        ("标题\n本报讯（记者 王琳）2022年3月23日上午，全市。2019年1月1日起施行", None,
         "2022-03-23"),
        ("标题\n新华社北京3月23日电 2021年全年", None, "2021-03-23"),
        ("标题\n自2019年1月1日以来，2022年3月23日召开", None, "2022-03-23"),
        ("标题\n3月23日18時30分，召開。自2019年1月1日以來", 2022, "2022-03-23"),
        ("标题\n3月23日18时30分召开。2019年以来，2021年全年", None, "2021-03-23"),
        ("标题\n2022-03-23\n正文", None, "2022-03-23"),
        ("标题\n正文写于 2019-01-01 之后", None, None),
        ("标题\n日期：2022/3/5", None, "2022-03-05"),
    ],
)
def test_extract_date(
    text: str, default_year: int | None, expected: str | None
) -> None:
    assert extract_date(text, default_year) == expected


def test_a_schedule_of_many_dates_is_read_line_by_line() -> None:
    # Each date looks at its own line's beginning only (a text of 16,000 dates is read once,
    # not once per date); the first date alone on its line is the release's.
    lines = ["日程表", *(f"第{i}项于2022/3/{i % 28 + 1}办理。" for i in range(8000)),
             *(f"2022-04-{i % 28 + 1:02d}" for i in range(8000))]
    assert extract_date("\n".join(lines)) == "2022-04-01"
    # More than a byline before it on its line: no dateline, the first full date is taken.
    assert extract_date("标题\n" + "甲" * 70 + "3月5日，另有2021年2月3日") == "2021-02-03"
    assert extract_date("标题\n" + "甲" * 10 + "讯 3月5日，另有2021年2月3日") == "2021-03-05"


def test_date_year_from_file_modification_time(tmp_path: Path) -> None:
    path = tmp_path / "no-year.txt"
    path.write_text("新闻发布会\n5月6日，市政府召开新闻发布会。", encoding="utf-8")
    mtime = 1_620_000_000  # 2021-05-03
    os.utime(path, (mtime, mtime))
    [release], problems = read_all(path)
    assert problems == []
    assert release.date == "2021-05-06"


def test_date_argument_wins_when_valid() -> None:
    text = "标题\n2021年5月6日召开"
    assert parse_release(text, "x", date="2022-01-02").date == "2022-01-02"
    assert parse_release(text, "x", date="2022-02-30").date == "2021-05-06"


def test_ids_the_web_app_could_not_open_are_skipped_and_reported(tmp_path):
    lines = [{"id": "ok1", "title": "标题", "text": "正文"},
             {"id": "2022/03/a", "title": "标题", "text": "正文"},
             {"id": ".hidden", "text": "正文"},
             {"id": "x" * 201, "text": "正文"}]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    problems: list[Problem] = []
    assert [r.doc_id for r in read_releases([path], problems)] == ["ok1"]
    assert [(p.source, p.skipped) for p in problems] == [
        (f"{path}:2", True), (f"{path}:3", True), (f"{path}:4", True)]
    assert all('unusable "id"' in p.message for p in problems)
