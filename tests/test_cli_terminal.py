"""What the CLI writes to a terminal and to programs: hostile indexed text and file names.

Indexed text and file names are data: printed for a human, their control characters (ESC
sequences that clear the screen or set the window title, newlines that forge report lines,
C1 controls, bidi overrides) and undecodable bytes are shown as escapes; ``--json`` is valid
UTF-8 JSON whatever the file names and the output encoding. Everything runs ``python -m search``
for real, on real files whose names hold those characters, and ``show`` / ``search`` print to
a real pseudo-terminal (where click keeps its own styling).
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

#: Operating-system bytes of the hostile names (written with bytes paths, as a user's disk has them).
OSC_TITLE = b"\x1b]0;pwned\x07"
FORGED = b"a\nskipped: forged"
UNDECODABLE = b"bad\xff"

#: What the terminal may receive besides text: click's own styles (bold title, yellow marks).
CLICK_STYLES = re.compile(r"\x1b\[(?:1|33|0)m")
#: Anything a terminal would act on, or that would forge a line.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m search ARGS`` with pipes; raw bytes out."""
    return subprocess.run([sys.executable, "-m", "search", *args], cwd=ROOT, capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def on_terminal(*args: str) -> tuple[int, str]:
    """``python -m search ARGS`` with stdout and stderr on a pseudo-terminal: its exit status and
    everything the terminal received (decoded strictly; the terminal's ``\\r\\n`` read as ``\\n``)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "search", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave)
    os.close(slave)
    received = b""
    try:
        while select.select([master], [], [], 60)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child has closed the terminal
                break
            if not data:
                break
            received += data
    finally:
        os.close(master)
    status = proc.wait(timeout=60)
    return status, received.decode("utf-8").replace("\r\n", "\n")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[bytes]]:
    """A source tree with hostile text and names, indexed by a real ``reindex``; (src, index, run)."""
    base = tmp_path_factory.mktemp("hostile")
    src = base / "src"
    titled = os.path.join(os.fsencode(src), b"d" + OSC_TITLE + b"x")
    os.makedirs(titled)
    with open(os.path.join(titled, b"r1.txt"), "wb") as f:
        f.write("标题\x1b]0;pwned\x07清屏\x1b[2J\n统筹正文\x1b[2J红\x1b[31m字\u202e伪造\x9b2J\n".encode())
    with open(os.path.join(titled, b"image.txt"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    for name in (FORGED, UNDECODABLE):
        with open(os.path.join(os.fsencode(src), name + b".txt"), "wb") as f:
            f.write("甲市召开新闻发布会\n甲市统筹推进。\n".encode())
    index = base / "index"
    run = cli("reindex", str(src), "--index-dir", str(index))
    return src, index, run


def test_reindex_problem_lines_escape_file_names(hostile) -> None:
    src, _index, run = hostile
    assert run.returncode == 0, run.stderr
    stderr = run.stderr.decode("utf-8")  # strictly: an undecodable name is shown, not written raw
    assert not CONTROL.search(stderr)
    lines = stderr.splitlines()
    assert len(lines) == 3, lines  # one line per problem: a name cannot add lines
    titled = f"{src}/d\\x1b]0;pwned\\x07x"
    # An undecodable byte of a name is shown as U+FFFD, as the index stores such a path.
    for name in (f"{src}/a\\nskipped: forged.txt", f"{src}/bad\ufffd.txt", f"{titled}/image.txt"):
        assert sum(line.startswith(f"skipped: {name}: ") for line in lines) == 1, (name, lines)
    assert run.stdout.decode("utf-8").startswith(
        "full reindex: 1 added, 0 updated, 0 removed, 0 unchanged; 1 releases, 2 paragraphs;")


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "utf-8"}, {"PYTHONIOENCODING": "ascii"},
                                 {"LC_ALL": "C", "PYTHONIOENCODING": ""}], ids=["utf-8", "ascii", "C"])
def test_reindex_json_is_valid_utf8_whatever_the_names_and_encoding(hostile, tmp_path, env) -> None:
    src, _index, _run = hostile
    done = cli("reindex", str(src), "--index-dir", str(tmp_path / "index"), "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    report = json.loads(done.stdout.decode("utf-8"))  # strict UTF-8, then JSON
    assert (report["added"], report["releases"]) == (1, 1)
    assert sorted(p["source"] for p in report["problems"]) == sorted([
        f"{src}/a\nskipped: forged.txt", f"{src}/bad\ufffd.txt", f"{src}/d\x1b]0;pwned\x07x/image.txt"])
    # JSON escapes C0 itself; C1 and bidi controls are escaped too, so a terminal never sees them.
    assert not CONTROL.search(done.stdout.decode("utf-8"))


def test_show_on_a_terminal_escapes_indexed_text_and_names(hostile) -> None:
    src, index, _run = hostile
    status, screen = on_terminal("show", "r1", "--index-dir", str(index))
    assert status == 0, screen
    assert screen == (
        "\x1b[1m标题\\x1b]0;pwned\\x07清屏\\x1b[2J\x1b[0m\n"
        f"r1 · no date · {src}/d\\x1b]0;pwned\\x07x/r1.txt\n"
        "\n[1] (title)\n标题\\x1b]0;pwned\\x07清屏\\x1b[2J\n"
        "\n[2] (body)\n统筹正文\\x1b[2J红\\x1b[31m字\\u202e伪造\\x9b2J\n"
    )
    assert not CONTROL.search(CLICK_STYLES.sub("", screen))


def test_search_on_a_terminal_escapes_titles_and_snippets(hostile) -> None:
    _src, index, _run = hostile
    status, screen = on_terminal("search", "统筹", "--doc", "r1", "--index-dir", str(index))
    assert status == 0, screen
    lines = screen.splitlines()
    assert re.fullmatch(r"1 results for '统筹' \([0-9.]+ ms\)", lines[0]), lines
    assert lines[1:3] == ["", "1. 标题\\x1b]0;pwned\\x07清屏\\x1b[2J"]
    assert re.fullmatch(r"   r1 ¶2 \[body\] score [0-9.]+", lines[3]), lines
    assert lines[4] == "   \x1b[33m\x1b[1m统筹\x1b[0m正文\\x1b[2J红\\x1b[31m字\\u202e伪造\\x9b2J"
    assert len(lines) == 5
    assert not CONTROL.search(CLICK_STYLES.sub("", screen))


def test_search_json_escapes_c1_and_bidi_controls(hostile) -> None:
    _src, index, _run = hostile
    done = cli("search", "统筹", "--doc", "r1", "--json", "--index-dir", str(index))
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode("utf-8")
    assert not CONTROL.search(text)
    assert "\\u202e伪造\\u009b2J" in text
    hit = json.loads(text)["hits"][0]
    assert hit["text"] == "统筹正文\x1b[2J红\x1b[31m字\u202e伪造\x9b2J"


@pytest.mark.parametrize("doc_id", [b"\xff", b"a\x1bb", b"../etc/passwd", b"x" * 300])
def test_show_an_impossible_id_is_not_found(hostile, doc_id: bytes) -> None:
    _src, index, _run = hostile
    done = subprocess.run([os.fsencode(sys.executable), b"-m", b"search", b"show", doc_id, b"--index-dir",
                           os.fsencode(index)], cwd=ROOT, capture_output=True, timeout=120)
    shown = doc_id.decode("ascii", "backslashreplace").replace("\x1b", "\\x1b")
    assert (done.returncode, done.stdout) == (1, b"")
    assert done.stderr.decode("utf-8") == f"Error: no release with id '{shown}'\n"


def test_error_messages_escape_file_names(tmp_path) -> None:
    missing = tmp_path / "no\x1b]0;pwned\x07where"
    done = cli("reindex", str(missing), "--index-dir", str(tmp_path / "index"))
    assert done.returncode == 1
    message = done.stderr.decode("utf-8")
    assert message.startswith("Error: ") and message.count("\n") == 1
    assert "no\\x1b]0;pwned\\x07where" in message
    assert not CONTROL.search(message)
