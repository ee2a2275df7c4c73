"""The ``release-search`` command line (``python -m search``), through CliRunner and for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from search import open_index, storage
from search.cli import main

from conftest import ROOT, SAMPLE_ID, SEEDS, write_release

HIT_KEYS = ["doc_id", "title", "paragraph", "section", "speaker", "date", "score", "text",
            "snippet", "publisher", "url", "organization"]


def ok(result) -> None:
    assert result.exit_code == 0, (result.output, result.exception)


def assert_clean_error(result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: "), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


# --------------------------------------------------------------------------- reindex


def test_reindex_full_then_incremental_and_env_var(runner, tmp_path):
    ix_dir = tmp_path / "index"
    result = runner.invoke(main, ["reindex", str(SEEDS), "--index-dir", str(ix_dir)])
    ok(result)
    line = result.stdout.strip()
    assert line.startswith("full reindex: 1 added, 0 updated, 0 removed, 0 unchanged; "
                           "1 releases, 31 paragraphs; "
                           "repairs: annotations 483, mojibake 8, punctuation 143, restored 1, script 878, spaces 1, unrepaired_mojibake 1; "
                           "0 problems (0 skipped); ")
    assert line.endswith(" s")

    result = runner.invoke(main, ["reindex", str(SEEDS)],
                           env={"RELEASE_SEARCH_INDEX_DIR": str(ix_dir)})
    ok(result)
    assert result.stdout.startswith("incremental reindex: 0 added, 0 updated, 0 removed, "
                                    "1 unchanged; 1 releases, 31 paragraphs; repairs: none;")

    result = runner.invoke(main, ["reindex", str(SEEDS), "--index-dir", str(ix_dir), "--full",
                                  "--json"])
    ok(result)
    report = json.loads(result.stdout)
    assert (report["full"], report["reason"], report["generation"]) == (
        True, "asked for (--full)", "g000002")
    assert report["repairs"] == {"annotations": 483, "mojibake": 8, "punctuation": 143, "restored": 1, "script": 878, "spaces": 1, "unrepaired_mojibake": 1}
    assert (report["releases"], report["paragraphs"], report["problems"]) == (1, 31, [])


def test_reindex_reports_skipped_files_and_indexes_the_rest(runner, tmp_path):
    src = tmp_path / "src"
    write_release(src, "good", "甲市召开新闻发布会", "甲市冷链物流运行平稳。")
    (src / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    line = json.dumps({"id": "j1", "text": "乙市外贸企业复工。"}, ensure_ascii=False)
    (src / "feed.jsonl").write_text(line + "\n[1, 2]\n", encoding="utf-8")
    result = runner.invoke(main, ["reindex", str(src), "--index-dir", str(tmp_path / "ix")])
    ok(result)
    assert f"skipped: {src / 'image.txt'}: " in result.stderr
    assert f"skipped: {src / 'feed.jsonl'}:2: expected a JSON object, not list" in result.stderr
    assert "2 releases" in result.stdout
    assert "2 problems (2 skipped)" in result.stdout
    with open_index(tmp_path / "ix") as ix:
        assert sorted(ix.manifest()) == ["good", "j1"]


def test_reindex_missing_source_is_a_clean_error(runner, tmp_path):
    result = runner.invoke(main, ["reindex", str(tmp_path / "nope"), "--index-dir",
                                  str(tmp_path / "ix")])
    assert_clean_error(result, "no such file or folder")


def test_reindex_while_locked_exits_non_zero(runner, tmp_path):
    ix_dir = tmp_path / "index"
    with storage.ReindexLock(ix_dir):
        result = runner.invoke(main, ["reindex", str(SEEDS), "--index-dir", str(ix_dir)])
    assert_clean_error(result, f"another reindex is running on {ix_dir} (pid {os.getpid()})")


# --------------------------------------------------------------------------- search


def test_search_json_has_exactly_the_documented_keys(runner, sample_index):
    result = runner.invoke(main, ["search", "核酸检测", "--index-dir", str(sample_index),
                                  "--json", "-n", "3"])
    ok(result)
    data = json.loads(result.stdout)
    assert list(data) == ["query", "total", "page", "per_page", "took_ms", "hits", "facets",
                          "facet_counts", "timeline"]
    assert (data["query"], data["total"], data["page"], data["per_page"]) == (
        "核酸检测", 7, 1, 3)
    assert len(data["hits"]) == 3
    for hit in data["hits"]:
        assert list(hit) == HIT_KEYS
        assert "<mark>核酸检测</mark>" in hit["snippet"]
    assert {h["paragraph"] for h in data["hits"]} <= {5, 7, 8, 9, 17, 18, 21}


def test_search_options_filter_and_page(runner, sample_index):
    base = ["search", "核酸检测", "--index-dir", str(sample_index), "--json"]
    data = json.loads(runner.invoke(main, base + ["--section", "answer"]).stdout)
    assert {h["paragraph"] for h in data["hits"]} == {17, 18, 21}
    data = json.loads(runner.invoke(main, base + ["--speaker", "田汝勇"]).stdout)
    assert {h["paragraph"] for h in data["hits"]} == {17, 18}
    data = json.loads(runner.invoke(main, base + ["--doc", "other"]).stdout)
    assert data["total"] == 0
    every = json.loads(runner.invoke(main, base + ["-n", "7"]).stdout)["hits"]
    page2 = json.loads(runner.invoke(main, base + ["-n", "3", "--page", "2"]).stdout)["hits"]
    assert [h["paragraph"] for h in page2] == [h["paragraph"] for h in every[3:6]]


def test_search_readable_listing(runner, sample_index):
    result = runner.invoke(main, ["search", "广交会", "--index-dir", str(sample_index)])
    ok(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1 results for '广交会' (")
    # the publisher is the one the release's copyright notice names
    assert lines[2] == "1. 德州市召开统筹疫情防控和经济运行工作第十三场新闻发布会 · 2022-03-23 · 德州新闻网"
    assert lines[3].startswith(f"   {SAMPLE_ID} ¶24 [answer · 逯泽生] score ")
    assert lines[4].startswith("   四是加大市场开拓力度。")
    assert "线上广交会、山东" in lines[4]
    assert "<mark>" not in result.stdout
    assert len(lines) == 5


def test_search_no_results(runner, sample_index):
    result = runner.invoke(main, ["search", "区块链技术", "--index-dir", str(sample_index)])
    ok(result)
    assert result.stdout.startswith("0 results for '区块链技术' (")
    assert len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["search", "x" * 501], "Invalid value for QUERY: q must be at most 500 characters"),
    (["search", "核酸", "--page", "0"], "Invalid value for --page: page must be at least 1"),
    (["search", "核酸", "-n", "1000"],
     "Invalid value for '-n' / '--limit': per_page must be at most 100"),
    (["search", "核酸", "--section", "bogus"], "Invalid value for --section: section must be one "
                                               "of: title, body, question, answer, credits, "
                                               "boilerplate"),
    (["search", "核酸", "--org", "x" * 201], "Invalid value for --org: org must be at most"),
])
def test_bad_search_options_are_usage_errors(runner, sample_index, args, message):
    result = runner.invoke(main, args + ["--index-dir", str(sample_index)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


@pytest.mark.parametrize(("args", "message"), [
    (["show", "no-such-release"], "no release with id 'no-such-release'"),
])
def test_errors_exit_1_with_a_message(runner, sample_index, args, message):
    result = runner.invoke(main, args + ["--index-dir", str(sample_index)])
    assert_clean_error(result, message)


@pytest.mark.parametrize("args", [["search", "核酸"], ["show", SAMPLE_ID], ["stats"]])
def test_missing_index_is_a_clean_error(runner, tmp_path, args):
    result = runner.invoke(main, args + ["--index-dir", str(tmp_path / "none")])
    assert_clean_error(result, f"no index in {tmp_path / 'none'}: run `release-search reindex`")


# --------------------------------------------------------------------------- show, stats


def test_show(runner, sample_index):
    result = runner.invoke(main, ["show", SAMPLE_ID, "--index-dir", str(sample_index)])
    ok(result)
    lines = result.stdout.splitlines()
    assert lines[0] == "德州市召开统筹疫情防控和经济运行工作第十三场新闻发布会"
    assert lines[1].startswith(f"{SAMPLE_ID} · 2022-03-23 · ")
    assert "[14] (answer 田汝勇 / 市工信局)" in lines
    assert "[31] (boilerplate)" in lines
    assert sum(1 for ln in lines if ln.startswith("[")) == 31


def test_show_json(runner, sample_index):
    result = runner.invoke(main, ["show", SAMPLE_ID, "--json", "--index-dir", str(sample_index)])
    ok(result)
    data = json.loads(result.stdout)
    assert list(data) == ["doc_id", "title", "paragraphs", "date", "source", "location", "url",
                          "content_hash", "repairs", "publisher", "flagged"]
    assert data["location"] == data["source"] == str(ROOT / "seeds" / f"{SAMPLE_ID}.txt")
    assert data["repairs"] == {"annotations": 483, "mojibake": 8, "punctuation": 143, "restored": 1, "script": 878, "spaces": 1, "unrepaired_mojibake": 1}
    assert len(data["paragraphs"]) == 31
    assert list(data["paragraphs"][0]) == ["number", "text", "section", "speaker",
                                           "organization"]


def test_stats(runner, sample_index):
    result = runner.invoke(main, ["stats", "--index-dir", str(sample_index)])
    ok(result)
    lines = result.stdout.splitlines()
    gen = storage.current_generation(sample_index).name
    assert lines[0].startswith("1 releases, 31 paragraphs (")
    assert lines[0].endswith(f"MB, generation {gen})")
    assert lines[1:] == ["  title: 1", "  body: 11", "  question: 2", "  answer: 10",
                         "  credits: 3", "  boilerplate: 4"]
    data = json.loads(runner.invoke(main, ["stats", "--json", "--index-dir",
                                           str(sample_index)]).stdout)
    assert data == {"releases": 1, "paragraphs": 31,
                    "sections": {"title": 1, "body": 11, "question": 2, "answer": 10,
                                 "credits": 3, "boilerplate": 4},
                    "index_dir": str(sample_index), "generation": gen,
                    "size_bytes": storage.dir_size(storage.current_generation(sample_index))}


# --------------------------------------------------------------------------- real process


def test_python_m_search_for_real(tmp_path):
    env = {**os.environ, "RELEASE_SEARCH_INDEX_DIR": str(tmp_path / "index")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "search", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    done = run("reindex", str(SEEDS))
    assert done.returncode == 0, done.stderr
    assert "repairs: annotations 483, mojibake 8, punctuation 143, restored 1, script 878, spaces 1, unrepaired_mojibake 1;" in done.stdout
    done = run("search", "統籌", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["total"] == 4
    assert {h["paragraph"] for h in data["hits"]} == {1, 2, 9, 20}
    done = run("show", "missing-id")
    assert done.returncode == 1
    assert done.stderr == "Error: no release with id 'missing-id'\n"
    assert done.stdout == ""


def test_reindex_verbose_logs_the_stages_of_a_parallel_rebuild(tmp_path):
    ix_dir = tmp_path / "index"
    done = subprocess.run(
        [sys.executable, "-m", "search", "reindex", str(SEEDS), "--index-dir", str(ix_dir),
         "--procs", "2", "--verbose"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("full reindex: 1 added, 0 updated, 0 removed, 0 unchanged; "
                                  "1 releases, 31 paragraphs;")
    stages = [line.split(" ms ", 1)[1].split(" by ")[0] for line in done.stderr.splitlines()
              if " ms " in line]
    for stage in ("parent: read 31 documents", "parent: stored 31 documents", "worker 0: analysed",
                  "worker 1: analysed", "worker 0: exchanged", "worker 1: encoded",
                  "parent: bigrams encoded", "parent: words encoded",
                  "parent: wrote the segment"):
        assert any(s.startswith(stage) for s in stages), (stage, done.stderr)
    assert stages[-1] == "parent: wrote the segment"
    with open_index(ix_dir) as ix:
        assert ix.stats().paragraphs == 31


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_current_that_is_not_a_file_is_reported_and_reindex_full_replaces_it(tmp_path, kind):
    ix_dir = tmp_path / "index"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "search", *args, "--index-dir", str(ix_dir)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert run("reindex", str(SEEDS)).returncode == 0
    current = ix_dir / "CURRENT"
    current.unlink()
    if kind == "folder":
        current.mkdir()
        (current / "stray.txt").write_text("x", encoding="utf-8")
    else:
        os.mkfifo(current)  # reading it would block for ever
    done = run("search", "统筹")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (f"Error: {current} is not a file (it should name the live generation); "
                           "run `release-search reindex --full` to replace it\n")
    done = run("reindex", "--full", str(SEEDS))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("full reindex: 1 added, 0 updated, 0 removed, 0 unchanged;")
    assert current.read_text(encoding="utf-8") == "g000002\n"
    assert sorted(p.name for p in ix_dir.iterdir()) == [".reindex.lock", "CURRENT", "g000001",
                                                        "g000002"]
    done = run("search", "统筹", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] == 4
