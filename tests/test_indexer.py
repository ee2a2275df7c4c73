"""search.indexer and search.storage: full and incremental reindex, locking, crash safety."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from search import (
    DocumentNotFoundError,
    IndexAccessError,
    ReindexLockedError,
    SourceError,
    build_index,
    open_index,
    storage,
)
from search.analysis import ANALYZER_VERSION
from search.documents import READING_VERSION
from search.check import check_index

from conftest import ENGINE_DATA, ROOT, make_releases, write_release


def three_releases(src: Path) -> None:
    write_release(src, "alpha", "甲市召开新闻发布会", "甲市核酸检测工作进展顺利。", "冷链物流运行平稳。")
    write_release(src, "beta", "乙市召开新闻发布会", "乙市外贸企业复工复产。")
    write_release(src, "gamma", "丙市召开新闻发布会", "丙市广交会参展企业增加。")


# --------------------------------------------------------------------------- full / incremental


def test_first_build_is_full_then_incremental(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    first = build_index([src], ix_dir)
    assert (first.full, first.reason) == (True, "no index yet")
    assert (first.added, first.updated, first.removed, first.unchanged) == (3, 0, 0, 0)
    assert (first.releases, first.paragraphs) == (3, 7)
    assert first.generation == "g000001"

    again = build_index([src], ix_dir)
    assert (again.full, again.reason) == (False, "")
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 3)
    assert (again.releases, again.paragraphs) == (3, 7)
    assert again.generation == "g000001"


def test_incremental_adds_changes_and_removes_by_content_hash(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    ix = open_index(ix_dir, reload_interval=0)
    assert ix.search("广交会").total == 1

    write_release(src, "beta", "乙市召开新闻发布会", "乙市外贸企业全部复工。", "乙市物流畅通。")
    (src / "gamma.txt").unlink()
    write_release(src, "delta", "丁市召开新闻发布会", "丁市统筹疫情防控和经济运行。")
    alpha_mtime = (src / "alpha.txt").stat().st_mtime
    os.utime(src / "alpha.txt", (alpha_mtime + 100, alpha_mtime + 100))  # same bytes, new mtime

    report = build_index([src], ix_dir)
    assert report.full is False
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 1)
    assert (report.releases, report.paragraphs) == (3, 8)
    assert "1 added, 1 updated, 1 removed, 1 unchanged" in report.summary()

    assert ix.stats().paragraphs == 8
    assert ix.search("广交会").total == 0
    with pytest.raises(DocumentNotFoundError):
        ix.document("gamma")
    assert [p.text for p in ix.document("beta").paragraphs] == [
        "乙市召开新闻发布会", "乙市外贸企业全部复工。", "乙市物流畅通。"]
    assert [h.doc_id for h in ix.search("统筹").hits] == ["delta"]
    assert ix.search('"复工复产"').total == 0
    assert set(ix.manifest()) == {"alpha", "beta", "delta"}
    ix.close()


def test_stats_after_incremental_update_ignore_deleted_paragraphs(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    write_release(src, "beta", "乙市召开新闻发布会", "乙市外贸企业全部复工。")
    (src / "gamma.txt").unlink()
    build_index([src], ix_dir)
    with open_index(ix_dir) as ix:
        stats = ix.stats()
        assert (stats.releases, stats.paragraphs) == (2, 5)
        assert stats.sections == {"title": 2, "body": 3}


def test_full_flag_rebuilds_into_a_new_generation(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    report = build_index([src], ix_dir, full=True)
    assert (report.full, report.reason, report.generation) == (True, "asked for (--full)",
                                                               "g000002")
    assert (report.added, report.releases) == (3, 3)
    assert storage.current_generation(ix_dir).name == "g000002"
    report = build_index([src], ix_dir, full=True)
    # the live generation and the one before are kept
    assert [g.name for g in storage.generations(ix_dir)] == ["g000002", "g000003"]


# An index of the previous analyzer, or of a previous repair or reading of dates (what
# unchanged files index as), is rebuilt in full, not kept for the files it already has.
@pytest.mark.parametrize(("part", "current", "previous"), [
    ("analyzer", ANALYZER_VERSION, ANALYZER_VERSION - 1),
    ("reading", READING_VERSION, "2.1"),
])
def test_changed_fingerprint_forces_full(tmp_path, part, current, previous):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    gen = storage.current_generation(ix_dir)
    meta = storage.read_meta(gen)
    assert meta["fingerprint"][part] == current
    meta["fingerprint"][part] = previous
    storage.write_meta(gen, meta)
    report = build_index([src], ix_dir)
    assert (report.full, report.reason, report.added) == (
        True, "analyzer, repair or user dictionary changed", 3)
    assert storage.read_meta(storage.current_generation(ix_dir))["fingerprint"][part] == current


def test_changed_user_dictionary_forces_full(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    assert build_index([src], ix_dir).full is True
    (src / "userdict.txt").write_text("外贸企业\n", encoding="utf-8")
    report = build_index([src], ix_dir)
    assert report.full is True
    assert "dictionary" in report.reason
    assert report.releases == 3  # userdict.txt is not a release
    with open_index(ix_dir) as ix:
        assert ix.parse("外贸企业").clauses[0].units[0].words == ["外贸企业"]
    # unchanged dictionary: incremental again
    assert build_index([src], ix_dir).full is False
    (src / "userdict.txt").unlink()
    report = build_index([src], ix_dir)
    assert (report.full, "dictionary" in report.reason) == (True, True)


def test_missing_source_or_userdict_raise_source_error(tmp_path):
    with pytest.raises(SourceError, match="no such file or folder"):
        build_index([tmp_path / "nope"], tmp_path / "index")
    (tmp_path / "src").mkdir()
    with pytest.raises(SourceError, match="user dictionary not found"):
        build_index([tmp_path / "src"], tmp_path / "index", userdict=tmp_path / "none.txt")


def test_bad_files_are_skipped_and_reported(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    (src / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    good = json.dumps({"id": "j1", "title": "戊市发布会", "text": "戊市冷链物流通畅。"},
                      ensure_ascii=False)
    (src / "corpus.jsonl").write_text(good + "\n{not json\n", encoding="utf-8")
    report = build_index([src], ix_dir)
    assert report.releases == 4
    skipped = sorted((Path(p.source).name, p.skipped) for p in report.problems)
    assert skipped == [("binary.txt", True), ("corpus.jsonl:2", True)]
    assert "2 problems (2 skipped)" in report.summary()
    with open_index(ix_dir) as ix:
        assert ix.document("j1").title == "戊市发布会"


def test_sample_report_counts_repairs(sample_built):
    report = sample_built.report
    assert (report.full, report.added, report.releases, report.paragraphs) == (True, 1, 1, 31)
    assert report.repairs == {"annotations": 483, "mojibake": 8, "punctuation": 143, "restored": 1, "script": 878, "spaces": 1, "unrepaired_mojibake": 1}
    assert "repairs: annotations 483, mojibake 8, punctuation 143, restored 1, script 878, spaces 1, unrepaired_mojibake 1;" in report.summary()
    assert report.problems == []


def test_unreadable_live_index_is_rebuilt_in_full(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    (ix_dir / storage.CURRENT).write_text("g000099\n", encoding="utf-8")
    report = build_index([src], ix_dir)
    assert (report.full, report.reason, report.releases) == (True, "previous index unreadable",
                                                             3)
    with open_index(ix_dir) as ix:
        assert ix.stats().releases == 3


# --------------------------------------------------------------------------- locking


def test_second_reindex_raises_locked_while_lock_held_in_thread(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    held, release = threading.Event(), threading.Event()

    def hold():
        with storage.ReindexLock(ix_dir):
            held.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert held.wait(30)
        with pytest.raises(ReindexLockedError, match=f"pid {os.getpid()}"):
            build_index([src], ix_dir)
    finally:
        release.set()
        t.join()
    assert build_index([src], ix_dir).unchanged == 3  # the lock is free again


def hold_lock_in_subprocess(ix_dir: Path) -> subprocess.Popen:
    code = ("import sys, time\nfrom search import storage\n"
            "with storage.ReindexLock(sys.argv[1]):\n"
            "    print('locked', flush=True)\n    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(ix_dir)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_held_by_another_process_and_freed_by_its_death(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    proc = hold_lock_in_subprocess(ix_dir)
    try:
        with pytest.raises(ReindexLockedError, match=f"another reindex is running .*pid {proc.pid}"):
            build_index([src], ix_dir, full=True)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    # killed holder: no stale lock to clean up
    assert build_index([src], ix_dir, full=True).full is True


# --------------------------------------------------------------------------- open searchers


def test_open_searchers_keep_working_and_new_ones_see_new_data(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    stale = open_index(ix_dir, reload_interval=3600)
    live = open_index(ix_dir, reload_interval=0)
    assert stale.search("广交会").total == live.search("广交会").total == 1

    write_release(src, "delta", "丁市召开新闻发布会", "丁市广交会成交额增长。")
    build_index([src], ix_dir, full=True)
    build_index([src], ix_dir, full=True)  # the generation `stale` opened is now pruned
    assert not (ix_dir / "g000001").exists()

    assert stale.search("广交会").total == 1  # still answers, from the data it opened
    assert stale.document("gamma").title == "丙市召开新闻发布会"
    assert live.search("广交会").total == 2
    assert live.generation == "g000003"
    with open_index(ix_dir) as fresh:
        assert fresh.search("广交会").total == 2
    stale.close()
    live.close()


def test_searches_during_a_reindex_in_another_process_keep_answering(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    ix = open_index(ix_dir, reload_interval=0)
    proc = subprocess.Popen([sys.executable, "-m", "search", "reindex", str(src), "--index-dir",
                             str(ix_dir), "--full"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    searches = 0
    while proc.poll() is None or searches == 0:
        result = ix.search("广交会")
        assert [h.doc_id for h in result.hits] == ["gamma"]
        assert ix.document("beta").paragraphs[1].text == "乙市外贸企业复工复产。"
        searches += 1
        time.sleep(0.02)  # leave the reindex some CPU
    assert proc.wait() == 0, proc.stderr.read()
    proc.stderr.close()
    assert ix.generation == "g000002"
    assert [h.doc_id for h in ix.search("广交会").hits] == ["gamma"]
    ix.close()


def test_a_reload_leaves_no_thread_that_keeps_the_process_alive(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    before = set(threading.enumerate())
    ix = open_index(ix_dir, reload_interval=0)
    build_index([src], ix_dir, full=True)
    assert ix.generation == "g000002"  # reloaded
    ix.close()
    lingering = [t for t in threading.enumerate()
                 if t not in before and t.is_alive() and not t.daemon]
    assert lingering == []


def test_index_reopens_after_another_process_reindexes(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    ix = open_index(ix_dir, reload_interval=0)
    assert ix.search("逯泽生").total == 0
    write_release(src, "epsilon", "戊市召开新闻发布会", "市商务局新闻发言人逯泽生介绍情况。")
    def reindex(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "search", "reindex", str(src),
                               "--index-dir", str(ix_dir), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    reindex()  # incremental: commits into the generation `ix` has open
    assert ix.search("逯泽生").total == 1
    assert len(ix.manifest()) == 4
    (src / "epsilon.txt").unlink()
    reindex("--full")  # a new generation
    assert ix.generation == "g000002"
    assert len(ix.manifest()) == 3
    assert ix.search("逯泽生").total == 0
    ix.close()


# --------------------------------------------------------------------------- crash safety


#: (reindex option, stage it is killed at: see search/faults.py), in order: full rebuilds at
#: start-up, reading, writing and before publishing, then an incremental update before its commit
#: and at start-up.
KILLS = [("--full", "locked"), ("--full", "full-reading"), ("--full", "writing-terms"),
         ("--full", "full-written"), ("", "incremental-writing"), ("", "locked")]


def _reindex_killed_at(stage: str, src: Path, ix_dir: Path, *args: str) -> int:
    """The exit status of ``python -m search reindex`` made to die at ``stage``."""
    return subprocess.run([sys.executable, "-m", "search", "reindex", str(src), "--index-dir",
                           str(ix_dir), *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=300,
                          env={**os.environ, "RELEASE_SEARCH_FAULT": stage}).returncode


def _snapshot(ix_dir: Path) -> tuple:
    with open_index(ix_dir) as ix:
        st = ix.stats()
        doc = ix.document("gen0007")
        hits = ix.search("新闻发布会", doc_id="gen0007")
        # releases counted from the manifest (the release records), paragraphs from stats()
        return (len(ix.manifest()), st.paragraphs, doc.title, [h.paragraph for h in hits.hits])


def test_reindex_killed_at_any_stage_leaves_a_working_index(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    make_releases(src, 200, seed=1, paragraphs=2)
    build_index([src], ix_dir)
    baseline = _snapshot(ix_dir)
    assert baseline == (200, 600, "第7号新闻发布会", [1])
    old_hash = storage_hash(src / "gen0003.txt")

    make_releases(src, 60, seed=2, paragraphs=2)  # rewrites gen0000..gen0059 with new text
    assert storage_hash(src / "gen0003.txt") != old_hash
    for flag, stage in KILLS:
        status = _reindex_killed_at(stage, src, ix_dir, *([flag] if flag else []))
        assert status == -signal.SIGKILL, (flag, stage)  # it got there and died
        assert _snapshot(ix_dir) == baseline, (flag, stage)
        with open_index(ix_dir) as ix:  # still the old text
            assert ix.manifest()["gen0003"].content_hash == old_hash, (flag, stage)

    # The next reindex needs no manual cleanup, and tidies what the killed ones left.
    report = build_index([src], ix_dir)
    assert report.releases == 200
    assert _snapshot(ix_dir) == baseline
    assert len(storage.generations(ix_dir)) <= 2
    assert not list(ix_dir.glob(f"{storage.CURRENT}.tmp*"))
    with open_index(ix_dir) as ix:
        assert [h.doc_id for h in ix.search("doc:gen0003").hits][:1] == ["gen0003"]
        assert ix.manifest()["gen0003"].content_hash == storage_hash(src / "gen0003.txt")


def storage_hash(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_engine_fixture_folder_is_present():
    assert (ENGINE_DATA / "userdict" / "userdict.txt").is_file()


def test_many_incremental_updates_merge_segments_cleanly(tmp_path):
    """Whoosh merges small segments after a few commits; every update must still work."""
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    write_release(src, "base", "德州市新闻发布会", "基础段落。")
    build_index([src], ix_dir)
    for n in range(8):
        write_release(src, f"add{n}", f"第{n}次补充发布会", f"补充段落{n}号。")
        report = build_index([src], ix_dir)
        assert (report.full, report.added, report.releases, report.paragraphs) == (
            False, 1, n + 2, 2 * (n + 2))
    with open_index(ix_dir) as ix:
        assert ix.stats().releases == 9
        assert [h.doc_id for h in ix.search("补充段落7号").hits][:1] == ["add7"]


def test_unreadable_user_dictionary_is_a_source_error(tmp_path):
    src = tmp_path / "src"
    write_release(src, "one", "德州市新闻发布会", "正文段落。")
    (src / "userdict.txt").write_bytes("德州云展会 10 n\n".encode("gbk"))
    with pytest.raises(SourceError, match="user dictionary is not UTF-8"):
        build_index([src], tmp_path / "index")


def test_unwritable_index_directory_is_an_index_access_error(tmp_path):
    src = tmp_path / "src"
    write_release(src, "one", "德州市新闻发布会", "正文段落。")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(IndexAccessError, match="cannot write the index directory"):
        build_index([src], blocker / "index")


def test_progress_counts_releases_not_files(tmp_path):
    corpus = tmp_path / "bulk.jsonl"
    corpus.write_text("\n".join(
        json.dumps({"id": f"r{i}", "title": f"第{i}号发布会", "text": "正文段落。"},
                   ensure_ascii=False) for i in range(3)) + "\n\n", encoding="utf-8")
    calls: list[tuple[int, int]] = []
    build_index([corpus], tmp_path / "index", progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_moved_release_gets_its_new_location(tmp_path):
    src = tmp_path / "src"
    write_release(src / "a", "alpha", "德州市新闻发布会", "正文段落。")
    ix_dir = tmp_path / "index"
    build_index([src], ix_dir)
    (src / "b").mkdir()
    (src / "a" / "alpha.txt").rename(src / "b" / "alpha.txt")
    report = build_index([src], ix_dir)
    assert (report.full, report.updated, report.unchanged) == (False, 1, 0)
    with open_index(ix_dir) as ix:
        assert ix.document("alpha").source == str(src / "b" / "alpha.txt")
    report = build_index([src], ix_dir)  # now it is known where it is: skipped
    assert (report.updated, report.unchanged) == (0, 1)


def test_an_update_that_rewrites_most_of_the_index_is_a_full_rebuild(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    make_releases(src, 2000, seed=1, paragraphs=3)  # 2,000 releases, 8,000 paragraphs
    first = build_index([src], ix_dir)
    assert (first.full, first.generation, first.paragraphs) == (True, "g000001", 8000)

    # One release changed: an update in place.
    write_release(src, "gen0007", "第7号新闻发布会", "第七号发布会只剩一段。")
    small = build_index([src], ix_dir)
    assert (small.full, small.generation, small.updated, small.unchanged) == (
        False, "g000001", 1, 1999)

    # 1,600 of 2,000 releases changed (6,400 of 8,000 paragraphs, over FULL_REBUILD_MIN and
    # over a fifth of the index): rebuilt in full, into a new generation.
    make_releases(src, 1600, seed=2, paragraphs=3, marker="全新标记")
    big = build_index([src], ix_dir)
    assert big.full is True
    assert big.reason == "most of the index changed (1600 of 2000 releases changed)"
    assert (big.generation, big.added, big.releases, big.paragraphs) == (
        "g000002", 2000, 2000, 8000)
    with open_index(ix_dir) as ix:
        assert ix.search("全新标记").total == 1600
        assert [p.text for p in ix.document("gen0007").paragraphs][0] == "第7号新闻发布会"
        assert ix.document("gen1999").paragraphs[0].text == "第1999号新闻发布会"


def test_a_lone_surrogate_in_a_jsonl_title_is_indexed_not_fatal(tmp_path):
    src = tmp_path / "releases.jsonl"
    src.write_text('{"id": "ok1", "text": "正常标题\\n正常内容"}\n'
                   '{"id": "s1", "text": "标题\\ud83d新闻\\n第一段内容新闻"}\n', encoding="utf-8")
    report = build_index([src], tmp_path / "index")
    assert (report.releases, report.paragraphs) == (2, 4)
    assert [str(p) for p in report.problems] == [
        f"{src}:2: replaced 1 lone surrogate(s) with U+FFFD"]
    with open_index(tmp_path / "index") as ix:
        assert [h.doc_id for h in ix.search("第一段").hits] == ["s1"]
        assert ix.document("s1").title == "标题\ufffd新闻"


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_reindex_that_changes_nothing_leaves_the_live_generation_as_it_was(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    live = storage.current_generation(ix_dir)
    after_build = _files(live)
    for _ in range(2):
        report = build_index([src], ix_dir)
        assert (report.full, report.unchanged, report.generation) == (False, 3, live.name)
        assert _files(live) == after_build
    # The same once an update has committed into the generation.
    write_release(src, "delta", "丁市召开新闻发布会", "丁市统筹疫情防控和经济运行。")
    assert build_index([src], ix_dir).added == 1
    after_update = _files(live)
    for _ in range(2):
        assert build_index([src], ix_dir).unchanged == 4
        assert _files(live) == after_update
    assert check_index(ix_dir).problems == []


def test_sigterm_during_an_update_leaves_the_live_generation_as_it_was(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    live = storage.current_generation(ix_dir)
    before = _files(live)
    write_release(src, "delta", "丁市召开新闻发布会", "丁市统筹疫情防控和经济运行。")
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "reindex", str(src), "--index-dir", str(ix_dir)],
        cwd=ROOT, env={**os.environ, "RELEASE_SEARCH_FAULT": "incremental-writing:pause"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Paused with the update given to Whoosh's writer (its segment's files begun).
        line = proc.stderr.readline()
        assert line == f"RELEASE_SEARCH_FAULT: paused at incremental-writing (pid {proc.pid})\n"
        assert len(_files(live)) > len(before)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.communicate()
    assert (proc.returncode, out, err) == (-signal.SIGTERM, "", "")
    # Whoosh's lock file stays (as after every update), the rest is as it was.
    assert [f for f in _files(live) if f != f"{storage.INDEX_NAME}_WRITELOCK"] == before
    with open_index(ix_dir) as ix:
        assert (ix.stats().releases, ix.search("统筹").total) == (3, 0)
    assert build_index([src], ix_dir).added == 1  # the lock is free


def test_prune_keeps_no_partial_generation_as_the_previous_one(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    # Killed while writing g000002: a partial generation (no meta.json).
    assert _reindex_killed_at("full-reading", src, ix_dir, "--full") == -signal.SIGKILL
    assert [g.name for g in storage.generations(ix_dir)] == ["g000001", "g000002"]
    assert not (ix_dir / "g000002" / storage.META).exists()
    # The next rebuild removes it before it begins its own generation, and keeps the one
    # that was live before as the previous generation.
    assert build_index([src], ix_dir, full=True).generation == "g000002"
    assert [g.name for g in storage.generations(ix_dir)] == ["g000001", "g000002"]
    # Killed before publishing g000003: complete, but never live; not kept either.
    assert _reindex_killed_at("full-written", src, ix_dir, "--full") == -signal.SIGKILL
    assert (ix_dir / "g000003" / storage.META).exists()
    assert build_index([src], ix_dir, full=True).generation == "g000003"
    assert [g.name for g in storage.generations(ix_dir)] == ["g000002", "g000003"]
    # A partial generation older than the live one is not kept: a generation is complete
    # once its meta.json is written, last.
    shutil.rmtree(ix_dir / "g000002")
    (ix_dir / "g000002").mkdir()
    (ix_dir / "g000002" / "_MAIN_1.toc").write_bytes(b"")
    storage.prune(ix_dir)
    assert [g.name for g in storage.generations(ix_dir)] == ["g000003"]
    with open_index(ix_dir) as ix:
        assert ix.stats().releases == 3


def test_the_next_reindex_removes_what_a_killed_update_left_in_the_live_generation(tmp_path):
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    three_releases(src)
    build_index([src], ix_dir)
    live = storage.current_generation(ix_dir)
    before = _files(live)
    extra = write_release(src, "delta", "丁市召开新闻发布会", "丁市统筹疫情防控和经济运行。")
    assert _reindex_killed_at("incremental-writing", src, ix_dir) == -signal.SIGKILL
    assert len(_files(live)) > len(before)  # an uncommitted segment, a staged meta.json
    extra.unlink()
    # Nothing to write: no writer, and yet the killed one's files go.
    assert build_index([src], ix_dir).unchanged == 3
    assert [f for f in _files(live) if f != f"{storage.INDEX_NAME}_WRITELOCK"] == before
    assert check_index(ix_dir).problems == []
