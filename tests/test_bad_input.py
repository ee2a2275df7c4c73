"""Bad source input is reported, never fatal (issue 11, points 5-7, and the size limit per
release): through the real CLI (``python -m search`` in its own process) and the Flask app.

* lone surrogates (JSONL ``"\\ud83d"`` escapes) and non-UTF-8 folder names become U+FFFD and
  are reported; searches, ``/doc/<id>``, ``/api/documents/<id>``, ``search`` and ``show`` work;
* a JSONL line that broke the parser (a huge integer, deep nesting, a raw NUL byte) is skipped
  alone;
* dangling and looping links are skipped and reported; links out of the source folders are
  followed only with ``--follow-links``;
* a release over :data:`search.sources.MAX_RELEASE_BYTES` is refused with a message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from search import build_index, open_index
from search.sources import MAX_RELEASE_BYTES
from web import create_app

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str | os.PathLike, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m search ARGS`` in its own process (UTF-8 locale); output kept as bytes so
    that the test sees exactly what was written."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), LC_ALL="C.UTF-8")
    env.pop("PYTHONIOENCODING", None)
    return subprocess.run([sys.executable, "-m", "search", *map(os.fspath, args)], cwd=cwd,
                          env=env, capture_output=True, timeout=300)


def ok(done: subprocess.CompletedProcess) -> tuple[str, str]:
    """(stdout, stderr) of a run that succeeded, both strictly valid UTF-8."""
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    return done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


def summary_counts(stdout: str) -> str:
    """The summary line of a reindex, without its timing."""
    return stdout.strip().rsplit(";", 1)[0]


# ----------------------------------------------------------------------- point 5


def test_lone_surrogates_are_replaced_reported_and_served(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    corpus = src / "corpus.jsonl"
    # JSON escapes of lone surrogates: valid JSON, but not encodable text.
    corpus.write_text('{"id": "sur", "title": "统筹\\ud83d标题", '
                      '"text": "统筹疫情防控\\udc00工作\\ud83d"}\n', encoding="utf-8")
    index_dir = tmp_path / "index"

    out, err = ok(cli("reindex", src, "--index-dir", index_dir, cwd=tmp_path))
    assert err == f"warning: {corpus}:1: replaced 3 lone surrogate(s) with U+FFFD\n"
    assert summary_counts(out) == (
        "full reindex: 1 added, 0 updated, 0 removed, 0 unchanged; 1 releases, 2 paragraphs; "
        "repairs: replaced_surrogates 3; 1 problems (0 skipped)")

    title, body = "统筹\ufffd标题", "统筹疫情防控\ufffd工作\ufffd"
    out, _ = ok(cli("search", "统筹", "--json", "--index-dir", index_dir, cwd=tmp_path))
    assert [(h["paragraph"], h["text"]) for h in json.loads(out)["hits"]] in (
        [(1, title), (2, body)], [(2, body), (1, title)])
    out, _ = ok(cli("search", "统筹", "--index-dir", index_dir, cwd=tmp_path))
    assert out.startswith("2 results for '统筹'") and title in out
    out, _ = ok(cli("show", "sur", "--index-dir", index_dir, cwd=tmp_path))
    assert out.splitlines()[-3:] == ["", "[2] (body)", body]

    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    page = client.get("/?q=统筹")
    assert page.status_code == 200 and "\ufffd" in page.get_data(as_text=True)
    assert client.get("/doc/sur").status_code == 200
    assert body in client.get("/doc/sur").get_data(as_text=True)
    assert client.get("/doc/sur?q=统筹").status_code == 200
    api = client.get("/api/documents/sur")
    assert api.status_code == 200
    assert [p["text"] for p in api.get_json()["paragraphs"]] == [title, body]
    found = client.get("/api/search?q=统筹")
    assert found.status_code == 200
    assert {h["text"] for h in found.get_json()["hits"]} == {title, body}


def test_non_utf8_folder_and_file_names_are_replaced_reported_and_served(
        tmp_path: Path) -> None:
    src = tmp_path / "src"
    folder = src / os.fsdecode(b"\xff\xfe")  # not UTF-8: two bad bytes
    folder.mkdir(parents=True)
    (folder / "b.txt").write_text("统筹标题\n统筹疫情防控工作\n", encoding="utf-8")
    (src / os.fsdecode(b"caf\xe9.txt")).write_text("统筹\n", encoding="utf-8")  # Latin-1 name
    shown = f"{src}/\ufffd\ufffd/b.txt"
    index_dir = tmp_path / "index"

    out, err = ok(cli("reindex", src, "--index-dir", index_dir, cwd=tmp_path))
    assert err.splitlines() == [
        f"skipped: {src}/caf\ufffd.txt: file name is not valid UTF-8, so it cannot be a "
        "release id (rename the file)",
        f"warning: {shown}: path is not valid UTF-8: stored with U+FFFD for 2 undecodable "
        "byte(s)",
    ]
    assert summary_counts(out).startswith("full reindex: 1 added, ")
    # The stored location is stable: the next run finds the release unchanged.
    out, err = ok(cli("reindex", src, "--index-dir", index_dir, cwd=tmp_path))
    assert summary_counts(out).startswith("incremental reindex: 0 added, 0 updated, "
                                          "0 removed, 1 unchanged;")

    out, _ = ok(cli("show", "b", "--index-dir", index_dir, cwd=tmp_path))
    assert out.splitlines()[1] == f"b · no date · {shown}"
    out, _ = ok(cli("search", "统筹", "--json", "--index-dir", index_dir, cwd=tmp_path))
    assert json.loads(out)["total"] == 2
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    api = client.get("/api/documents/b")
    assert api.status_code == 200 and api.get_json()["source"] == shown
    assert client.get("/doc/b").status_code == 200
    assert client.get("/api/search?q=统筹").status_code == 200
    assert client.get("/?q=统筹").status_code == 200

    # The bad folder named on the command line: its name is stored in the index's metadata.
    out, err = ok(cli("reindex", folder, "--index-dir", tmp_path / "other", cwd=tmp_path))
    assert summary_counts(out).startswith("full reindex: 1 added, ")


# ----------------------------------------------------------------------- point 6

GOOD_FIRST = '{"id": "first", "text": "统筹疫情防控"}'
GOOD_LAST = '{"id": "last", "text": "统筹经济运行"}'


@pytest.mark.parametrize(("line", "message"), [
    (b'{"id": "big", "text": "x", "n": ' + b"7" * 5000 + b"}",
     "invalid JSON (an integer of more than 4300 digits)"),
    (b"[" * 100_000, "invalid JSON (nested too deeply)"),
    ('{"id": "nul", "text": "统筹\x00"}'.encode(), "binary data (a NUL byte) in the line"),
], ids=["huge-integer", "deep-nesting", "raw-nul"])
def test_a_jsonl_line_that_broke_the_parser_is_skipped_alone(
        tmp_path: Path, line: bytes, message: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    corpus = src / "corpus.jsonl"
    corpus.write_bytes(GOOD_FIRST.encode() + b"\n" + line + b"\n" + GOOD_LAST.encode() + b"\n")
    out, err = ok(cli("reindex", src, "--index-dir", tmp_path / "index", cwd=tmp_path))
    assert err == f"skipped: {corpus}:2: {message}\n"
    assert summary_counts(out) == (
        "full reindex: 2 added, 0 updated, 0 removed, 0 unchanged; 2 releases, 2 paragraphs; "
        "repairs: none; 1 problems (1 skipped)")


# ----------------------------------------------------------------------- point 7


def symlinked_tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A source folder with every kind of link; returns (src, outside file, outside folder)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("统筹标题\n统筹疫情防控\n", encoding="utf-8")
    (src / "inner.txt").symlink_to("ok.txt")  # a link inside the tree: read
    (src / "dangling.txt").symlink_to(src / "nowhere.txt")
    (src / "loop.txt").symlink_to("loop.txt")
    (src / "up").symlink_to(".")  # a folder loop inside the tree
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("机密文件\n口令七七七\n", encoding="utf-8")
    (src / "passwd.txt").symlink_to(secret)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "other.txt").write_text("别处标题\n别处正文\n", encoding="utf-8")
    (src / "sub").symlink_to(other)
    return src, secret, other


def test_links_are_skipped_reported_and_kept_inside_the_source_folders(tmp_path: Path) -> None:
    src, secret, other = symlinked_tree(tmp_path)
    index_dir = tmp_path / "index"
    out, err = ok(cli("reindex", src, "--index-dir", index_dir, cwd=tmp_path))
    assert err.splitlines() == [
        f"skipped: {src}/dangling.txt: broken symbolic link (its target does not exist)",
        f"skipped: {src}/loop.txt: symbolic link loop",
        f"skipped: {src}/passwd.txt: symbolic link to a file outside the source folders "
        f"({secret}): not followed (--follow-links follows it)",
        f"skipped: {src}/sub: symbolic link to a folder outside the source folders "
        f"({other}): not followed (--follow-links follows it)",
    ]
    assert summary_counts(out).startswith("full reindex: 2 added, ")
    with open_index(index_dir) as ix:
        assert sorted(ix.manifest()) == ["inner", "ok"]
        assert ix.search("口令").total == 0

    out, err = ok(cli("reindex", src, "--full", "--follow-links", "--index-dir", index_dir,
                      cwd=tmp_path))
    assert err.splitlines() == [
        f"skipped: {src}/dangling.txt: broken symbolic link (its target does not exist)",
        f"skipped: {src}/loop.txt: symbolic link loop",
    ]
    assert summary_counts(out).startswith("full reindex: 4 added, ")
    with open_index(index_dir) as ix:
        assert sorted(ix.manifest()) == ["inner", "ok", "other", "passwd"]
        assert ix.search("口令").total == 1


def test_build_index_follows_links_only_when_asked(tmp_path: Path) -> None:
    src, secret, other = symlinked_tree(tmp_path)
    report = build_index([src], tmp_path / "index")
    assert report.added == 2
    assert [(p.source, p.skipped) for p in report.problems] == [
        (f"{src}/dangling.txt", True), (f"{src}/loop.txt", True),
        (f"{src}/passwd.txt", True), (f"{src}/sub", True)]
    report = build_index([src], tmp_path / "index", full=True, follow_links=True)
    assert report.added == 4
    assert [p.source for p in report.problems] == [f"{src}/dangling.txt", f"{src}/loop.txt"]


# --------------------------------------------------------------- size per release


def test_a_release_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    assert MAX_RELEASE_BYTES == 8 * 1024 * 1024
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("统筹标题\n统筹疫情防控\n", encoding="utf-8")
    big = src / "big.txt"
    big.write_bytes(b"x" * (MAX_RELEASE_BYTES + 1))
    corpus = src / "corpus.jsonl"
    huge_line = b'{"id": "huge", "text": "' + b"y" * MAX_RELEASE_BYTES + b'"}'
    corpus.write_bytes(GOOD_FIRST.encode() + b"\n" + huge_line + b"\n" + GOOD_LAST.encode())
    out, err = ok(cli("reindex", src, "--index-dir", tmp_path / "index", cwd=tmp_path))
    assert err.splitlines() == [
        f"skipped: {big}: too large: 8,388,609 bytes, over the limit of 8,388,608 bytes per "
        "release (split it into smaller releases)",
        f"skipped: {corpus}:2: line too large: {len(huge_line):,} bytes, over the limit of "
        "8,388,608 bytes per release (split it into smaller releases)",
    ]
    assert summary_counts(out).startswith("full reindex: 3 added, ")
