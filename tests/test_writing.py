"""search.writing: the bulk segment writer of full reindexes.

An index written by ``build_index(..., full=True)`` (one segment through Whoosh's codec, see
``search/writing.py``) must hold exactly what Whoosh's stock ``SegmentWriter`` makes of the same
documents: the same terms in each field, the same postings (document numbers, weights, block
statistics), term statistics, field lengths, stored fields and columns (the folded texts too). In worker processes
(``procs=2``) it must write the same again; and Whoosh's own writer must be able to update it
incrementally. A parallel reindex whose worker is killed, or that is killed itself, must fail
cleanly and leave the published index, the lock and the index directory as they were.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import whoosh.index

from search import build_index, open_index, storage
from search.lexicon import Lexicon
from search.check import check_index
from search.cli import main as cli_main
from search.documents import iter_source_files, read_releases
from search.indexer import USERDICT_NAME
from search.schema import paragraph_docs
from search.schema import build_schema

from conftest import ENGINE_DATA, ROOT, SAMPLE_ID, SEEDS, make_releases, write_release

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = SEEDS / f"{SAMPLE_ID}.txt"
SAMPLE_TITLE = "德州市召开统筹疫情防控和经济运行工作第十三场新闻发布会"

#: The sample plus every kind of release in tests/data: clean, markup-laden, a user-dictionary
#: word (without its dictionary here), GBK, Big5, and 122 JSONL releases of the CMRC2018 subset.
DATA_FILES = [
    SAMPLE,
    ENGINE_DATA / "ranking" / "cold-chain-briefing.txt",
    ENGINE_DATA / "markup" / "markup-in-text.txt",
    ENGINE_DATA / "userdict" / "expo-news.txt",
    DATA / "sources" / "jinan-urban-renewal-gbk.txt",
    DATA / "sources" / "taichung-flood-preparedness-big5.txt",
    DATA / "cmrc2018_subset" / "corpus.jsonl",
]
#: Generated releases added to the data above, so that worker processes get several chunks of
#: paragraphs to analyse (2,386 paragraphs in all) and common terms have posting lists of several
#: blocks (128 postings each).
GENERATED = 520
SCORED = ("words", "bigrams", "title")


# ------------------------------------------------------------------------- building


def build_stock(files: list[Path], index_dir: Path, lexicon: Lexicon | None = None) -> None:
    """The same documents as ``build_index`` writes, through Whoosh's stock writer."""
    index_dir.mkdir(parents=True)
    ix = whoosh.index.create_in(str(index_dir), build_schema(lexicon),
                                indexname=storage.INDEX_NAME)
    problems: list = []
    writer = ix.writer()
    try:
        for rel in read_releases(files, problems):
            for doc in paragraph_docs(rel):
                writer.add_document(**doc)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    assert problems == []


@contextmanager
def open_reader(whoosh_dir: Path) -> Iterator:
    """A reader of the Whoosh index in ``whoosh_dir`` (a generation, or a stock index)."""
    ix = whoosh.index.open_dir(str(whoosh_dir), indexname=storage.INDEX_NAME)
    with ix.reader() as reader:
        yield reader


def live_generation(index_dir: Path) -> Path:
    return storage.current_generation(index_dir)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The source files of the module's indexes: tests data, sample, generated releases."""
    gen = tmp_path_factory.mktemp("generated")
    make_releases(gen, GENERATED, seed=7, paragraphs=3)
    return [*DATA_FILES, *iter_source_files([gen])]


@pytest.fixture(scope="module")
def built(corpus: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The corpus written by the bulk writer with one and two processes, and by Whoosh."""
    root = tmp_path_factory.mktemp("writing")
    one = build_index(corpus, root / "bulk1", full=True, procs=1)
    two = build_index(corpus, root / "bulk2", full=True, procs=2)
    for report in (one, two):
        assert (report.full, report.problems) == (True, [])
        assert (report.releases, report.paragraphs) == (648, 2386)
    build_stock(corpus, root / "stock")
    return {"bulk1": live_generation(root / "bulk1"), "bulk2": live_generation(root / "bulk2"),
            "stock": root / "stock"}


# ------------------------------------------------------------------------- comparing


def postings(reader, fieldname: str, btext: bytes) -> list[tuple]:
    """Every posting of a term, with the statistics of the block it is in:
    ``(docnum, weight, value, block min id, block max id, block min length, block max length,
    block max weight)``."""
    m = reader.postings(fieldname, btext)
    out = []
    while m.is_active():
        out.append((m.id(), m.weight(), m.value(), m.block_min_id(), m.block_max_id(),
                    m.block_min_length(), m.block_max_length(), m.block_max_weight()))
        m.next()
    return out


def term_stats(reader, fieldname: str, btext: bytes) -> tuple:
    ti = reader.term_info(fieldname, btext)
    return (ti.weight(), ti.doc_frequency(), ti.min_length(), ti.max_length(), ti.max_weight(),
            ti.min_id(), ti.max_id())


def assert_same_index(a: Path, b: Path) -> None:
    """The Whoosh indexes in ``a`` and ``b`` hold the same documents, numbered alike."""
    with open_reader(a) as ra, open_reader(b) as rb:
        assert ra.is_atomic() and rb.is_atomic()  # one segment each
        n = ra.doc_count_all()
        assert (n, ra.doc_count()) == (rb.doc_count_all(), rb.doc_count())
        fields = sorted(ra.indexed_field_names())
        assert fields == sorted(rb.indexed_field_names())
        for f in fields:
            terms = list(ra.lexicon(f))
            assert terms == list(rb.lexicon(f)), f
            for t in terms:
                assert postings(ra, f, t) == postings(rb, f, t), (f, t.decode())
                assert term_stats(ra, f, t) == term_stats(rb, f, t), (f, t.decode())
        for f in SCORED:
            assert [ra.doc_field_length(d, f) for d in range(n)] == \
                   [rb.doc_field_length(d, f) for d in range(n)], f
            assert (ra.field_length(f), ra.min_field_length(f), ra.max_field_length(f)) == \
                   (rb.field_length(f), rb.min_field_length(f), rb.max_field_length(f)), f
        for d in range(n):
            assert ra.stored_fields(d) == rb.stored_fields(d), d
        for f in ("doc_id", "section", "date", "publisher", "organization", "speaker_name",
                  "folded"):
            # a column no document gives a value is written by neither writer
            assert ra.has_column(f) == rb.has_column(f), f
            assert ra.has_column(f) or f not in ("doc_id", "section", "folded"), f
            if not ra.has_column(f):
                continue
            ca, cb = ra.column_reader(f), rb.column_reader(f)
            assert [ca[d] for d in range(n)] == [cb[d] for d in range(n)], f


def live_content(whoosh_dir: Path) -> dict:
    """What the index holds, by ``(doc_id, paragraph)`` instead of document number and
    without deleted documents (for indexes whose documents were renumbered by merges)."""
    with open_reader(whoosh_dir) as r:
        keys = {d: (f["doc_id"], f["paragraph"]) for d, f in r.iter_docs()}
        content: dict = {"stored": {keys[d]: r.stored_fields(d) for d in keys}}
        for f in SCORED:
            content[f"length:{f}"] = {keys[d]: r.doc_field_length(d, f) for d in keys}
        for f in r.indexed_field_names():
            for t in r.lexicon(f):
                m = r.postings(f, t)
                found = []
                while m.is_active():
                    if m.id() in keys:
                        found.append((keys[m.id()], m.weight()))
                    m.next()
                if found:
                    content[(f, t.decode())] = sorted(found)
    return content


# ------------------------------------------------------------------------- tests


def sample_head(reader) -> int:
    """The document number of the sample release's head paragraph."""
    (head,) = [d for d, f in reader.iter_docs()
               if f["doc_id"] == SAMPLE_ID and f["paragraph"] == 1]
    return head


def test_bulk_writer_equals_whoosh_writer(built: dict[str, Path]) -> None:
    with open_reader(built["bulk1"]) as r:
        assert sorted(r.indexed_field_names()) == [
            "bigrams", "date", "doc_id", "head", "organization", "publisher", "section", "speaker",
            "speaker_name", "title", "words"]
        # every column is compared: the corpus gives each of them values
        assert all(r.has_column(f) for f in ("date", "publisher", "organization",
                                             "speaker_name"))
    assert_same_index(built["bulk1"], built["stock"])


def test_two_processes_write_the_same_index_as_one(built: dict[str, Path]) -> None:
    assert_same_index(built["bulk2"], built["bulk1"])


@pytest.mark.parametrize("procs", [2, 4])
def test_workers_with_little_or_nothing_to_do_write_the_same_index(tmp_path: Path,
                                                                   procs: int) -> None:
    """The sample alone is one small chunk of paragraphs: the other workers get none."""
    build_index([SEEDS], tmp_path / "one", full=True, procs=1)
    report = build_index([SEEDS], tmp_path / "many", full=True, procs=procs)
    assert (report.releases, report.paragraphs) == (1, 31)
    assert_same_index(live_generation(tmp_path / "many"), live_generation(tmp_path / "one"))


def test_compared_indexes_have_multi_block_postings_and_head_only_titles(built) -> None:
    """What the comparisons above cover: posting lists of several blocks, and the release
    title indexed and stored on the head paragraph only."""
    with open_reader(built["bulk1"]) as r:
        heads = list(r.postings("head", "1").all_ids())
        assert len(heads) == 648
        n = r.doc_count_all()
        assert n == 2386
        # The sample's 31 paragraphs: consecutive, head first, its title on the head only.
        head = sample_head(r)
        assert head in heads and (head + 31 in heads or head + 31 == n)
        sample = [r.stored_fields(d) for d in range(head, head + 31)]
        assert [(f["doc_id"], f["paragraph"]) for f in sample] == [
            (SAMPLE_ID, p) for p in range(1, 32)]
        assert [f.get("title") for f in sample] == [SAMPLE_TITLE] + [None] * 30
        assert {d for d in range(n) if r.doc_field_length(d, "title")} == set(heads)
        title_ids = {d for t in r.lexicon("title") for d in r.postings("title", t).all_ids()}
        assert title_ids == set(heads)
        # The bigram 新闻: in the title of the generated releases (第{i}号新闻发布会), of the
        # sample and of two releases in tests/data, on their head paragraphs.
        news = list(r.postings("title", "新闻").all_ids())
        assert len(news) == GENERATED + 3
        ids = [r.stored_fields(d)["doc_id"] for d in news]
        assert sorted(i for i in ids if not i.startswith("gen")) == [
            "cold-chain-briefing", SAMPLE_ID, "jinan-urban-renewal-gbk"]
        assert set(news) <= set(heads)
        # A term in more than 128 paragraphs: its postings span several blocks.
        blocks = {p[3] for p in postings(r, "words", "疫情".encode())}
        assert len(blocks) > 1


def test_term_counts_are_the_posting_weights(built: dict[str, Path]) -> None:
    """TermCounts postings: weight = occurrences in the paragraph; field length = tokens."""
    with open_reader(built["bulk1"]) as r:
        # Paragraph 1 of the sample is its title: every bigram of it, once each.
        head = sample_head(r)
        grams = [SAMPLE_TITLE[i:i + 2] for i in range(len(SAMPLE_TITLE) - 1)]
        assert r.doc_field_length(head, "bigrams") == len(grams) == 26
        assert r.doc_field_length(head, "title") == 26
        for g in set(grams):
            m = r.postings("title", g)
            m.skip_to(head)
            assert (m.id(), m.weight()) == (head, float(grams.count(g)))


def test_bulk_writer_with_a_user_dictionary_equals_whoosh_writer(tmp_path: Path) -> None:
    folder = ENGINE_DATA / "userdict"
    report = build_index([folder], tmp_path / "bulk", full=True)
    assert (report.releases, report.paragraphs) == (1, 3)
    files = [f for f in iter_source_files([folder]) if f.name != USERDICT_NAME]
    build_stock(files, tmp_path / "stock", Lexicon.from_file(folder / USERDICT_NAME))
    assert_same_index(live_generation(tmp_path / "bulk"), tmp_path / "stock")
    with open_reader(tmp_path / "stock") as r:
        assert "德州云展会".encode() in list(r.lexicon("words"))  # the dictionary was used


def test_bulk_written_index_takes_an_incremental_update(tmp_path: Path) -> None:
    src, ix_dir = tmp_path / "src", tmp_path / "index"
    src.mkdir()
    (src / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    write_release(src, "cherry", "樱桃采摘节新闻发布会", "樱桃采摘节本周六开幕。", "游客可预约采摘。")
    write_release(src, "harbour", "港口物流新闻发布会", "港口集装箱吞吐量稳步增长。")
    first = build_index([src], ix_dir, full=True)
    assert (first.full, first.releases, first.paragraphs) == (True, 3, 36)

    write_release(src, "cherry", "葡萄酒博览会新闻发布会", "葡萄酒博览会本周六开幕。",
                  "游客可预约品鉴。", "展区分为三个部分。")
    update = build_index([src], ix_dir)
    assert (update.full, update.added, update.updated, update.removed, update.unchanged) == (
        False, 0, 1, 0, 2)
    assert (update.releases, update.paragraphs) == (3, 37)
    assert check_index(ix_dir).problems == []

    with open_index(ix_dir, reload_interval=0) as ix:
        assert ix.search("樱桃").total == 0
        assert ix.search("采摘").total == 0
        new = ix.search("葡萄酒")
        assert sorted((h.doc_id, h.paragraph, h.title) for h in new.hits) == [
            ("cherry", 1, "葡萄酒博览会新闻发布会"), ("cherry", 2, "葡萄酒博览会新闻发布会")]
        assert [(h.doc_id, h.paragraph, h.title) for h in ix.search("品鉴").hits] == [
            ("cherry", 3, "葡萄酒博览会新闻发布会")]
        # The unchanged releases still find their paragraphs and their own titles.
        assert [(h.doc_id, h.title) for h in ix.search("集装箱").hits] == [
            ("harbour", "港口物流新闻发布会")]
        hits = ix.search("统筹").hits
        assert len(hits) == 4
        assert {(h.doc_id, h.title) for h in hits} == {(SAMPLE_ID, SAMPLE_TITLE)}

    # The updated index holds what a fresh full build of the changed sources holds.
    build_index([src], tmp_path / "fresh", full=True)
    assert live_content(live_generation(ix_dir)) == live_content(
        live_generation(tmp_path / "fresh"))


# ------------------------------------------------------------------------- failing workers
#
# A full reindex with --procs 2 runs in its own process and dies at a named stage
# (RELEASE_SEARCH_FAULT, see search/faults.py): one of its forked workers, or the reindex itself,
# kills itself with SIGKILL there. A reindex whose worker died must fail with one clean line,
# stop the other worker, free the lock, remove its scratch folder (``parts.tmp``) and leave the
# published index as it was.

PROC = Path("/proc/self/environ").is_file()
#: The killed reindex's source: 2,500 short releases (7,500 paragraphs, 8 chunks of paragraphs
#: for the workers, more than the parent can queue while no worker reads).
BIG_RELEASES = 2500
#: The published index the killed reindex must leave alone: 30 releases, 90 paragraphs.
SMALL_RELEASES = 30
WORKER_DIED = "Error: an indexing worker died (exit code -9)\n"
#: Guards against a hanging reindex, not timed assertions.
EXIT_LIMIT_S = 60
DEATH_LIMIT_S = 10
#: Marks the processes of one killed reindex (its workers inherit the environment).
RUN_MARK = "RELEASE_SEARCH_TEST_RUN"


def _proc_state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _marked(mark: str) -> list[int]:
    """The live processes whose environment carries ``RUN_MARK=mark``."""
    needle = f"{RUN_MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or not ours
            continue
        if needle in environ.split(b"\0") and _proc_state(int(entry.name)) not in (None, "Z"):
            found.append(int(entry.name))
    return sorted(found)


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big") / "src"
    make_releases(folder, BIG_RELEASES, seed=11, paragraphs=2, words_per_paragraph=4)
    return folder


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Path]:
    """``(small sources, index dir)``: the small index, published as g000001."""
    small, ix_dir = tmp_path / "small", tmp_path / "index"
    make_releases(small, SMALL_RELEASES, seed=1, paragraphs=2)
    report = build_index([small], ix_dir)
    assert (report.generation, report.releases, report.paragraphs) == ("g000001", 30, 90)
    return small, ix_dir


def _answers(ix) -> tuple:
    """What the small index answers (the same before and after a failed reindex)."""
    st = ix.stats()
    return (ix.generation, st.releases, st.paragraphs, ix.document("gen0007").title,
            [(h.doc_id, h.paragraph) for h in ix.search("新闻发布会", doc_id="gen0007").hits])


SMALL_ANSWERS = ("g000001", 30, 90, "第7号新闻发布会", [("gen0007", 1)])


def _reindex_dying_at(fault: str, src: Path, ix_dir: Path, tmp_path: Path
                      ) -> tuple[subprocess.CompletedProcess, str]:
    """``python -m search reindex --full --procs 2`` dying at ``fault``; returns the finished
    process and the mark of its processes (see :func:`_marked`)."""
    mark = tmp_path.name
    env = {**os.environ, "RELEASE_SEARCH_FAULT": fault, RUN_MARK: mark}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "search", "reindex", str(src), "--index-dir", str(ix_dir),
             "--full", "--procs", "2"], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=EXIT_LIMIT_S)
    except subprocess.TimeoutExpired as exc:  # the reindex hung (it is killed by now)
        raise AssertionError(f"the reindex did not exit: {exc.stderr!r}") from None
    return done, mark


def _assert_failed_cleanly(done: subprocess.CompletedProcess, mark: str, ix_dir: Path,
                           small: Path, live, runner) -> None:
    """Exit status 1 with one error line, no worker left, the published index untouched and
    searchable, no scratch folder, and the lock free for the next reindex."""
    assert (done.returncode, done.stdout, done.stderr) == (1, "", WORKER_DIED)
    assert _marked(mark) == []  # the parent killed and reaped its workers before it exited
    assert (ix_dir / storage.CURRENT).read_text(encoding="utf-8") == "g000001\n"
    assert list(ix_dir.rglob("parts.tmp")) == []
    assert _answers(live) == SMALL_ANSWERS  # the searcher opened before keeps answering
    with open_index(ix_dir) as fresh:
        assert _answers(fresh) == SMALL_ANSWERS
    result = runner.invoke(cli_main, ["check", "--index-dir", str(ix_dir)])
    assert (result.exit_code, result.stdout.split(": ", 1)[0]) == (0, "index OK"), result.output
    assert "30 releases, 90 paragraphs" in result.stdout
    # The lock is free: the next reindex runs (and removes the failed one's generation).
    report = build_index([small], ix_dir)
    assert (report.full, report.unchanged, report.generation) == (False, 30, "g000001")
    assert [g.name for g in storage.generations(ix_dir)] == ["g000001"]


@pytest.mark.skipif(not PROC, reason="needs /proc to find the workers")
def test_worker_killed_while_analysing_fails_the_reindex_cleanly(
        tmp_path: Path, big_source: Path, published: tuple[Path, Path], runner) -> None:
    """Worker 0 dies after analysing its first chunk of paragraphs; worker 1 goes on, then
    waits for it forever: the parent must fail, and stop worker 1."""
    small, ix_dir = published
    with open_index(ix_dir, reload_interval=0) as live:
        done, mark = _reindex_dying_at("worker-0-analysing", big_source, ix_dir, tmp_path)
        _assert_failed_cleanly(done, mark, ix_dir, small, live, runner)


@pytest.mark.skipif(not PROC, reason="needs /proc to find the workers")
def test_worker_killed_while_waiting_for_paragraphs_fails_the_reindex_cleanly(
        tmp_path: Path, big_source: Path, published: tuple[Path, Path], runner) -> None:
    """Both workers die as they first wait for paragraphs, while the parent still has every
    chunk to send: nobody reads the task queue again (as when a worker dies holding its read
    lock), and the parent must still fail cleanly and exit, without waiting for the queue's
    feeder thread to write the chunks it holds."""
    small, ix_dir = published
    with open_index(ix_dir, reload_interval=0) as live:
        done, mark = _reindex_dying_at("worker-0-waiting,worker-1-waiting", big_source, ix_dir,
                                       tmp_path)
        _assert_failed_cleanly(done, mark, ix_dir, small, live, runner)


@pytest.mark.skipif(not PROC, reason="needs /proc to find the workers")
def test_reindex_killed_after_the_analysis_leaves_no_workers_lock_or_scratch(
        tmp_path: Path, big_source: Path, published: tuple[Path, Path]) -> None:
    """kill -9 of the whole reindex while its workers exchange and encode postings (their
    files are in ``parts.tmp``): the workers die with it, the published index stays, and the
    next reindex removes the half-written generation and its scratch folder."""
    small, ix_dir = published
    done, mark = _reindex_dying_at("workers-exchanging", big_source, ix_dir, tmp_path)
    assert done.returncode == -signal.SIGKILL, done.stderr
    deadline = time.monotonic() + DEATH_LIMIT_S  # a guard: they get SIGKILL as their parent dies
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _marked(mark) == []
    # The killed reindex was writing g000002, with both workers' scratch files.
    (scratch,) = list(ix_dir.rglob("parts.tmp"))
    assert scratch.parent.name == "g000002"
    assert {"lengths-0", "lengths-1"} <= {p.name for p in scratch.iterdir()}
    assert (ix_dir / storage.CURRENT).read_text(encoding="utf-8") == "g000001\n"
    with open_index(ix_dir) as ix:
        assert _answers(ix) == SMALL_ANSWERS
    assert check_index(ix_dir).ok
    report = build_index([small], ix_dir)  # the lock died with the process
    assert (report.full, report.unchanged, report.generation) == (False, 30, "g000001")
    assert list(ix_dir.rglob("parts.tmp")) == []
    assert [g.name for g in storage.generations(ix_dir)] == ["g000001"]


# ------------------------------------------------------------------------- signals
#
# A full reindex with --procs 2 waits at a named stage (RELEASE_SEARCH_FAULT=<stage>:pause, see
# search/faults.py) until the test has sent it a signal. SIGTERM (sent to the reindex, or to its
# whole process group as a service manager does) must clean up as SIGINT does: workers stopped,
# the half-written generation removed, the lock freed, the published index untouched.

PAUSED = "RELEASE_SEARCH_FAULT: paused at {stage} (pid {pid})\n"


def _start_paused(stage: str, src: Path, ix_dir: Path, mark: str,
                  *args: str) -> subprocess.Popen:
    """``python -m search reindex ARGS`` (its own process group), waiting at ``stage``."""
    env = {**os.environ, "RELEASE_SEARCH_FAULT": f"{stage}:pause", RUN_MARK: mark}
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "reindex", str(src), "--index-dir", str(ix_dir), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    line = proc.stderr.readline()  # it waits once it has written this line
    if line != PAUSED.format(stage=stage, pid=proc.pid):
        proc.kill()
        raise AssertionError(f"the reindex did not pause: {line + proc.communicate()[1]!r}")
    return proc


def _finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=EXIT_LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("the reindex did not exit after the signal") from None
    return proc.returncode, out, err


@pytest.mark.skipif(not PROC, reason="needs /proc to find the workers")
@pytest.mark.parametrize(("signum", "group", "status", "stderr"), [
    (signal.SIGTERM, False, -signal.SIGTERM, ""),  # cleaned up, then dies of the signal
    (signal.SIGTERM, True, -signal.SIGTERM, ""),
    (signal.SIGINT, False, 1, "\nAborted!\n"),  # click's answer to KeyboardInterrupt
], ids=["sigterm", "sigterm-to-the-group", "sigint"])
def test_a_signalled_full_reindex_stops_its_workers_and_removes_its_generation(
        tmp_path: Path, published: tuple[Path, Path], signum, group, status, stderr) -> None:
    small, ix_dir = published
    mark = tmp_path.name
    with open_index(ix_dir, reload_interval=0) as live:
        proc = _start_paused("full-reading", small, ix_dir, mark, "--full", "--procs", "2")
        try:
            # Paused at the first release: the workers run, the new generation is begun.
            assert len(_marked(mark)) == 3
            assert [g.name for g in storage.generations(ix_dir)] == ["g000001", "g000002"]
            if group:
                os.killpg(proc.pid, signum)
            else:
                proc.send_signal(signum)
            assert _finish(proc) == (status, "", stderr)
        finally:  # a failed assertion must not leave the paused reindex behind
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
        assert _marked(mark) == []  # stopped and reaped before it exited
        assert [g.name for g in storage.generations(ix_dir)] == ["g000001"]
        assert (ix_dir / storage.CURRENT).read_text(encoding="utf-8") == "g000001\n"
        with storage.ReindexLock(ix_dir):  # free: taken without waiting
            pass
        assert _answers(live) == SMALL_ANSWERS
        with open_index(ix_dir) as fresh:
            assert _answers(fresh) == SMALL_ANSWERS


# ------------------------------------------------------------------------- block pickles


def test_block_pickles_are_the_bytes_of_pickle_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The W3 blocks' data and info, written by NumPy, are what ``pickle.dumps(..., 2)``
    writes: blocks of 1 to 128 postings, ids of one, two and four bytes, weights all 1.0,
    all alike or each its own, compressed or not; in runs of a few postings at a time."""
    import pickle

    import numpy as np

    from search import postingtable

    monkeypatch.setattr(postingtable, "PICKLE_ROWS", 300)
    rnd = np.random.default_rng(11)
    sizes = np.r_[1, 2, 3, 4, 128, rnd.integers(1, 129, 200)]
    bstarts = np.r_[0, np.cumsum(sizes)[:-1]]
    n = int(sizes.sum())
    deltas = rnd.choice([0, 1, 255, 256, 65535, 65536, 2**31 - 1], n) + rnd.integers(0, 3, n)
    deltas = np.minimum(deltas, 2**31 - 1)
    count = rnd.integers(1, 4, n).astype(np.float32).astype(np.float64)
    kinds = np.arange(len(sizes)) % 3
    for b, (start, size) in enumerate(zip(bstarts, sizes)):
        if kinds[b] == 0:
            count[start:start + size] = 1.0
        elif kinds[b] == 1:
            count[start:start + size] = 2.5
    bmax_w = np.maximum.reduceat(count, bstarts)
    uniform = bmax_w == np.minimum.reduceat(count, bstarts)
    mini_kind = np.where(uniform, np.where(bmax_w == 1.0, 0, 1), 2)
    assert sorted(set(mini_kind.tolist())) == [0, 1, 2]
    data, data_len = postingtable._pickle_blocks_data(deltas, count, bstarts, sizes, mini_kind,
                                                      bmax_w)
    expected = []
    for b, (start, size) in enumerate(zip(bstarts.tolist(), sizes.tolist())):
        block = count[start:start + size].tolist()
        hi = max(block)
        mini = (None if hi == 1.0 else hi) if len(set(block)) == 1 else tuple(block)
        expected.append(pickle.dumps((tuple(deltas[start:start + size].tolist()), mini, None), 2))
    assert data == b"".join(expected)
    assert data_len.tolist() == [len(e) for e in expected]

    last = rnd.integers(0, 2**31, len(sizes))
    comp = rnd.choice([0, 3], len(sizes))
    minb, maxb = rnd.integers(0, 256, len(sizes)), rnd.integers(0, 256, len(sizes))
    info, info_len = postingtable._pickle_block_info(sizes, last, bmax_w, comp, minb, maxb)
    expected = [pickle.dumps((int(s), int(la), float(w), int(c), int(lo), int(hi)), 2)
                for s, la, w, c, lo, hi in zip(sizes, last, bmax_w, comp, minb, maxb)]
    assert info == b"".join(expected)
    assert info_len.tolist() == [len(e) for e in expected]
