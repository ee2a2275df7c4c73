"""Bad source input is reported, never fatal (issue 11, points 5-7, and the size limit per
release): through the real CLI (``python -m search`` in its own process) and the Flask app.

* a JSONL line that broke the parser (a huge integer, deep nesting, a raw NUL byte) is skipped
  alone;
* a release over :data:`search.sources.MAX_RELEASE_BYTES` is refused with a message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from search.sources import MAX_RELEASE_BYTES

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
