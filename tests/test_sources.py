"""Tests of search.sources: the raw records its readers give, before repair and sections.

Decoding and problem reporting through :func:`search.documents.read_releases` are tested in
``test_documents.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tracemalloc
from pathlib import Path

from search.sources import (
    READERS,
    SOURCE_SUFFIXES,
    Problem,
    RawRelease,
    Unchanged,
    display_path,
    iter_source_files,
    read_sources,
)


def test_every_source_suffix_has_a_reader() -> None:
    assert set(SOURCE_SUFFIXES) == set(READERS)
    assert all(suffix == suffix.lower() and suffix.startswith(".") for suffix in READERS)


def test_text_and_markdown_files_give_their_text_unrepaired(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("統(tǒng)籌\n# 不是标题\n", encoding="utf-8")
    notes = tmp_path / "b.MD"
    notes.write_text("# 标题\n\n正文\n", encoding="utf-8")
    problems: list[Problem] = []
    records = list(read_sources(iter_source_files([tmp_path]), problems))
    assert problems == []
    assert records == [
        RawRelease(
            doc_id="a", text="統(tǒng)籌\n# 不是标题\n", location=str(text),
            content_hash=hashlib.sha256(text.read_bytes()).hexdigest(), source=str(text),
            default_year=records[0].default_year,
        ),
        RawRelease(
            doc_id="b", text="标题\n\n正文\n", location=str(notes),
            content_hash=hashlib.sha256(notes.read_bytes()).hexdigest(), source=str(notes),
            default_year=records[1].default_year,
        ),
    ]
    assert all(isinstance(r.default_year, int) for r in records)


def test_jsonl_lines_keep_their_fields_and_unchecked_date(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    lines = [
        {"id": 7, "title": "标题", "text": "正文", "date": "2022-02-30", "source": "德州日报",
         "url": "https://example.org/7"},
        {"id": "b", "text": "正文"},
    ]
    raw = [json.dumps(line, ensure_ascii=False).encode("utf-8") for line in lines]
    path.write_bytes(b"\n".join(raw) + b"\n")
    problems: list[Problem] = []
    first, second = read_sources([path], problems)
    assert problems == []
    assert first == RawRelease(
        doc_id="7", text="正文", location=f"{path}:1",
        content_hash=hashlib.sha256(raw[0]).hexdigest(), title="标题", date="2022-02-30",
        source="德州日报", url="https://example.org/7", default_year=first.default_year,
    )
    assert (second.doc_id, second.location, second.source, second.date) == (
        "b", f"{path}:2", f"{path}:2", None)


def test_known_releases_are_unchanged_with_their_location(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("标题\n", encoding="utf-8")
    path = tmp_path / "c.jsonl"
    # One bad byte among many good ones: damaged UTF-8, not another encoding.
    path.write_bytes(b'{"id": "j", "text": "' + "正文".encode() * 10 + b'\xff"}\n')
    asked = []

    def skip(doc_id: str, digest: str, location: str) -> bool:
        asked.append((doc_id, location))
        return True

    problems: list[Problem] = []
    records = list(read_sources(iter_source_files([tmp_path]), problems, skip))
    a_hash = hashlib.sha256(b"\xe6\xa0\x87\xe9\xa2\x98\n").hexdigest()
    j_hash = hashlib.sha256(path.read_bytes().rstrip(b"\n")).hexdigest()
    assert records == [
        Unchanged("a", a_hash, str(tmp_path / "a.txt")),
        Unchanged("j", j_hash, f"{path}:1"),
    ]
    assert asked == [("a", str(tmp_path / "a.txt")), ("j", f"{path}:1")]
    # An unchanged line is not parsed, so its replaced byte is reported by the reader.
    assert problems == [Problem(f"{path}:1", "replaced 1 undecodable byte(s) with U+FFFD", False)]


# ------------------------------------------------------------- size limit per release


def test_releases_over_the_size_limit_are_refused_at_the_byte(tmp_path: Path) -> None:
    limit = 100
    exact = tmp_path / "exact.txt"
    exact.write_bytes(b"a" * limit)
    over = tmp_path / "over.md"
    over.write_bytes(b"a" * (limit + 1))
    fits = b'{"id": "fits", "text": "' + b"b" * (limit - 26) + b'"}'
    too_long = b'{"id": "long", "text": "' + b"c" * (limit - 25) + b'"}'
    assert (len(fits), len(too_long)) == (limit, limit + 1)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(too_long + b"\r\n" + fits + b"\r\n" + too_long * 3 + b"\n" + fits)
    problems: list[Problem] = []
    records = list(read_sources(iter_source_files([tmp_path]), problems,
                                max_release_bytes=limit))
    assert [(r.doc_id, r.location) for r in records] == [
        ("fits", f"{corpus}:2"), ("fits", f"{corpus}:4"), ("exact", str(exact))]
    tail = "over the limit of 100 bytes per release (split it into smaller releases)"
    assert problems == [
        Problem(f"{corpus}:1", f"line too large: 101 bytes, {tail}", True),
        Problem(f"{corpus}:3", f"line too large: 303 bytes, {tail}", True),
        Problem(str(over), f"too large: 101 bytes, {tail}", True),
    ]


def test_a_release_over_the_limit_is_not_read_into_memory(tmp_path: Path) -> None:
    size = 64 * 1024 * 1024
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(size)  # sparse: 64 MB of zeros, written in no time
    corpus = tmp_path / "big.jsonl"
    with open(corpus, "wb") as fh:
        fh.write(b'{"id": "a", "text": "')
        fh.seek(size)
        fh.write(b'"}\n{"id": "b", "text": "after"}\n')
    problems: list[Problem] = []
    tracemalloc.start()
    try:
        records = list(read_sources([big, corpus], problems, max_release_bytes=1024 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r.doc_id for r in records] == ["b"]
    assert [p.source for p in problems] == [str(big), f"{corpus}:1"]
    assert peak < 4 * 1024 * 1024


# ------------------------------------------------------------------ lone surrogates


def test_lone_surrogates_in_jsonl_fields_become_replacement_characters(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        '{"id": "a", "title": "\\ud83d题", "text": "正文\\udfff", "date": "2022-01-0\\ud800",'
        ' "source": "\\udc00报", "url": "https://example.org/\\ud83d"}\n'
        '{"id": "b", "text": "成对\\ud83d\\ude00"}\n'  # a valid pair: one emoji, nothing to do
        '{"id": "\\ud83d", "text": "正文"}\n', encoding="utf-8")
    problems: list[Problem] = []
    first, second = read_sources([corpus], problems)
    assert (first.title, first.text, first.date, first.source, first.url) == (
        "\ufffd题", "正文\ufffd", "2022-01-0\ufffd", "\ufffd报", "https://example.org/\ufffd")
    assert first.replaced_surrogates == 5
    assert (second.text, second.replaced_surrogates) == ("成对\U0001f600", 0)
    # An id is not repaired: it is skipped.
    assert problems == [Problem(
        f"{corpus}:3", "unusable \"id\" '\\ud83d' (at most 200 characters, no slashes, "
        "leading dot or control characters)", True)]
    # A line the caller already has is not parsed further: its repairs are reported here.
    problems.clear()
    records = list(read_sources([corpus], problems, lambda *_: True))
    assert [type(r).__name__ for r in records] == ["Unchanged", "Unchanged"]
    assert problems[0] == Problem(f"{corpus}:1", "replaced 5 lone surrogate(s) with U+FFFD",
                                  False)


def test_paths_that_are_not_utf8_are_shown_with_replacement_characters() -> None:
    assert display_path(os.fsdecode(b"/src/\xb9\xfa/a.txt")) == ("/src/\ufffd\ufffd/a.txt", 2)
    assert display_path(Path("/src/国/a.txt")) == ("/src/国/a.txt", 0)


# ------------------------------------------------------------------- folders and links


def test_folder_walk_skips_and_reports_what_it_cannot_read(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "deep").mkdir(parents=True)
    (src / "deep" / "a.txt").write_text("正文\n", encoding="utf-8")
    (src / ".hidden").mkdir()
    (src / ".hidden" / "h.txt").write_text("正文\n", encoding="utf-8")
    (src / "h-link.txt").symlink_to(src / ".hidden" / "h.txt")  # inside the tree: read
    os.mkfifo(src / "pipe.txt")  # reading it would block the reindex
    (src / "null.txt").symlink_to(os.devnull)
    (src / "gone").symlink_to(tmp_path / "removed-folder")  # no suffix: maybe a folder
    (src / "logo.png").symlink_to(tmp_path / "removed.png")  # not a source: ignored
    (src / "deep" / "top").symlink_to("..")
    problems: list[Problem] = []
    assert iter_source_files([src], problems) == [src / "deep" / "a.txt", src / "h-link.txt"]
    assert problems == [
        Problem(str(src / "gone"), "broken symbolic link (its target does not exist)", True),
        Problem(str(src / "null.txt"), "not a regular file", True),
        Problem(str(src / "pipe.txt"), "not a regular file", True),
    ]
    # Following links: each folder is read once, so the loop deep/top -> .. ends.
    problems.clear()
    assert iter_source_files([src], problems, follow_links=True) == [
        src / "deep" / "a.txt", src / "h-link.txt"]
    assert [p.source for p in problems] == [str(src / "gone"), str(src / "null.txt"),
                                            str(src / "pipe.txt")]


def test_links_between_source_folders_and_named_links(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (two / "b.txt").write_text("正文\n", encoding="utf-8")
    (one / "to-b.txt").symlink_to(two / "b.txt")
    (one / "to-two").symlink_to(two)
    # Inside one of the source folders: read (the folder link is not followed: two is read).
    problems: list[Problem] = []
    assert iter_source_files([one, two], problems) == [one / "to-b.txt", two / "b.txt"]
    assert problems == []
    # Without two among the sources, both links lead out.
    assert iter_source_files([one], problems) == []
    assert [p.message.split(" (")[0] for p in problems] == [
        "symbolic link to a file outside the source folders",
        "symbolic link to a folder outside the source folders"]
    # A link named by the caller is read; a broken one is reported, not fatal.
    problems.clear()
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    assert iter_source_files([one / "to-b.txt", tmp_path / "dangling.txt"], problems) == [
        one / "to-b.txt"]
    assert problems == [Problem(str(tmp_path / "dangling.txt"),
                                "broken symbolic link (its target does not exist)", True)]
