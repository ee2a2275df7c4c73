"""No silent empty index (issue 13, point 6): a reindex that finds no source file fails and
says which files it reads; an index of zero releases opens and answers "no results"."""

from __future__ import annotations

import json

import pytest

from search import SourceError, build_index, check_index, open_index, storage
from search.cli import main
from web import create_app

from conftest import write_release

SUFFIXES = ".txt, .md, .jsonl, .html, .htm, .warc, .warc.gz"


def test_reindex_of_a_folder_without_sources_fails_and_publishes_nothing(runner, tmp_path):
    src = tmp_path / "saved-pages"
    src.mkdir()
    (src / "notes.pdf").write_bytes(b"%PDF-1.4\n")
    (src / "page.html.orig").write_text("<p>旧稿</p>", encoding="utf-8")
    ix_dir = tmp_path / "index"
    result = runner.invoke(main, ["reindex", str(src), "--index-dir", str(ix_dir)])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == (f"Error: {src}: no source files (reindex reads {SUFFIXES} "
                             "files)\n")
    assert not ix_dir.exists()
    with pytest.raises(SourceError, match="no source files"):
        build_index([src], ix_dir)


def test_a_folder_emptied_since_the_last_reindex_does_not_empty_the_index(tmp_path):
    src = tmp_path / "src"
    write_release(src, "a", "甲市召开新闻发布会", "甲市冷链物流运行平稳。")
    ix_dir = tmp_path / "index"
    build_index([src], ix_dir)
    (src / "a.txt").unlink()
    with pytest.raises(SourceError, match="no source files"):
        build_index([src], ix_dir)
    with open_index(ix_dir) as ix:
        assert list(ix.manifest()) == ["a"]


@pytest.fixture
def empty_index(tmp_path):
    """An index published with zero releases: its only source file has no release."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "feed.jsonl").write_text("\n", encoding="utf-8")
    ix_dir = tmp_path / "index"
    report = build_index([src], ix_dir)
    assert (report.releases, report.paragraphs) == (0, 0)
    assert storage.current_generation(ix_dir).name == "g000001"
    return ix_dir


def test_an_index_of_zero_releases_answers_no_results(runner, empty_index):
    with open_index(empty_index) as ix:
        assert ix.search("就业").total == 0
        assert ix.search("就业", section="body").hits == []
        assert ix.stats().releases == 0
        assert ix.manifest() == {}
    result = runner.invoke(main, ["search", "就业", "--index-dir", str(empty_index)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("0 results for '就业'")
    result = runner.invoke(main, ["stats", "--index-dir", str(empty_index), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["releases"] == 0
    result = runner.invoke(main, ["check", "--index-dir", str(empty_index)])
    assert result.exit_code == 0, result.output
    assert check_index(empty_index).ok


def test_the_web_app_on_an_index_of_zero_releases(empty_index):
    client = create_app({"INDEX_DIR": str(empty_index), "TESTING": True}).test_client()
    response = client.get("/api/search", query_string={"q": "就业"})
    assert response.status_code == 200
    assert response.get_json()["total"] == 0
    assert client.get("/api/health").get_json()["releases"] == 0
    response = client.get("/", query_string={"q": "就业"})
    assert response.status_code == 200
    assert "没有找到与“就业”相关的结果" in response.get_data(as_text=True)
