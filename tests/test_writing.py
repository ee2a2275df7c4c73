"""search.writing: the bulk segment writer of full reindexes.

An index written by ``build_index(..., full=True)`` (one segment through Whoosh's codec, see
``search/writing.py``) must hold exactly what Whoosh's stock ``SegmentWriter`` makes of the same
documents: the same terms in each field, the same postings (document numbers, weights, block
statistics), term statistics, field lengths, stored fields and columns. In worker processes
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
from search.analysis import Lexicon
from search.check import check_index
from search.cli import main as cli_main
from search.documents import iter_source_files, read_releases
from search.indexer import USERDICT_NAME, paragraph_docs
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
        for f in ("doc_id", "section"):
            assert ra.has_column(f) and rb.has_column(f)
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
            "bigrams", "date", "doc_id", "head", "section", "speaker", "title", "words"]
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
# A full reindex with --procs 2 runs in its own process; a real SIGKILL hits one of its forked
# workers (found through /proc). The reindex must fail with one clean line, stop the other
# worker, free the lock, remove its scratch folder (``parts.tmp``) and leave the published
# index as it was.

PROC = Path("/proc/self/stat").is_file()
#: The killed reindex's source: 2,500 short releases (7,500 paragraphs, 8 chunks of paragraphs
#: for the workers). Short paragraphs keep the workers ahead of the reading parent, so that
#: they also wait for paragraphs (see
#: test_worker_killed_while_waiting_for_paragraphs_fails_the_reindex_cleanly).
BIG_RELEASES = 2500
#: The published index the killed reindex must leave alone: 30 releases, 90 paragraphs.
SMALL_RELEASES = 30
WORKER_DIED = "Error: an indexing worker died (exit code -9)\n"
#: Guards against a hanging reindex, not timed assertions.
START_LIMIT_S = 60
EXIT_LIMIT_S = 60
EXIT_AFTER_ERROR_S = 3


class ReindexHung(AssertionError):
    """The reindex reported its error but its process did not exit."""


def _proc_field(pid: int, index: int) -> str | None:
    """Field ``index`` of /proc/<pid>/stat after the command name (0: state, 1: parent pid)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[index]
    except (OSError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _proc_field(int(entry.name), 1) == str(pid):
            out.append(int(entry.name))
    return sorted(out)


def _alive(pid: int) -> bool:
    return _proc_field(pid, 0) not in (None, "Z")


def _waiting_on_pipe(pid: int) -> bool:
    """Blocked reading a pipe: for a worker, in ``tasks.get()``, holding the queue's read lock."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text() == "anon_pipe_read"
    except OSError:
        return False


def _running(pid: int) -> bool:
    """On a CPU (analysing), not waiting for anything."""
    return _proc_field(pid, 0) == "R"


def _scratch_files(ix_dir: Path) -> list[str]:
    return sorted(p.name for p in ix_dir.glob("g*/parts.tmp/*"))


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


class _Reindex:
    """``python -m search reindex`` in its own process, stderr in a file that can be read
    while it runs."""

    def __init__(self, src: Path, ix_dir: Path, tmp_path: Path, *args: str):
        self.err_path = tmp_path / f"reindex-{time.monotonic_ns()}.err"
        with self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "search", "reindex", str(src), "--index-dir", str(ix_dir),
                 *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
        self.stdout = ""

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8")

    def workers(self, count: int) -> list[int]:
        """Its ``count`` worker processes, once they are all started."""
        deadline = time.monotonic() + START_LIMIT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            found = _children(self.proc.pid)
            if len(found) >= count:
                return found
            time.sleep(0.005)
        raise AssertionError(f"the workers never started (exit {self.proc.poll()}): {self.stderr}")

    def wait(self, limit: float = EXIT_LIMIT_S) -> int:
        """Its exit status; raises ReindexHung if it printed an error but then did not exit
        within EXIT_AFTER_ERROR_S (it is killed then)."""
        deadline = time.monotonic() + limit
        error_at = None
        while self.proc.poll() is None:
            now = time.monotonic()
            if error_at is None and self.stderr:
                error_at = now
            if now > deadline or (error_at is not None and now - error_at > EXIT_AFTER_ERROR_S):
                self.kill()
                raise ReindexHung(f"the reindex did not exit after reporting {self.stderr!r}")
            time.sleep(0.02)
        self.stdout = self.proc.stdout.read()
        self.proc.stdout.close()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def _assert_failed_cleanly(reindex: _Reindex, status: int, workers: list[int], ix_dir: Path,
                           small: Path, live, runner) -> None:
    """Exit status 1 with one error line, no worker left, the published index untouched and
    searchable, no scratch folder, and the lock free for the next reindex."""
    assert (status, reindex.stdout, reindex.stderr) == (1, "", WORKER_DIED)
    deadline = time.monotonic() + 10  # a guard: the parent kills and reaps its workers
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert [w for w in workers if _alive(w)] == []
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


def _kill_a_worker(tmp_path: Path, big_source: Path, published: tuple[Path, Path], runner,
                   choose) -> None:
    """Run a parallel full reindex, SIGKILL the worker ``choose(workers, ix_dir)`` picks
    (polled until it returns one), and check that the reindex failed cleanly."""
    small, ix_dir = published
    live = open_index(ix_dir, reload_interval=0)
    victim = None
    for _attempt in range(6):  # the moment to kill can be missed: start the reindex again
        reindex = _Reindex(big_source, ix_dir, tmp_path, "--full", "--procs", "2")
        try:
            workers = reindex.workers(2)
            pick = choose(workers)
            while (victim is None and reindex.proc.poll() is None
                   and not _scratch_files(ix_dir)):
                victim = pick()
                time.sleep(0.002)
            if victim is not None:
                os.kill(victim, signal.SIGKILL)
                status = reindex.wait()
                break
        finally:
            reindex.kill()  # a missed attempt dies unpublished: the small index stays live
    assert victim is not None, "the analysis always ended before a worker could be killed"
    _assert_failed_cleanly(reindex, status, workers, ix_dir, small, live, runner)
    live.close()


@pytest.mark.skipif(not PROC, reason="needs /proc to find the workers")
def test_worker_killed_while_analysing_fails_the_reindex_cleanly(
        tmp_path: Path, big_source: Path, published: tuple[Path, Path], runner) -> None:
    def analysing(workers):
        started = time.monotonic()
        waited: set[int] = set()  # seen waiting for paragraphs: in the analysis loop
        streak = dict.fromkeys(workers, 0)  # consecutive looks on a CPU

        def pick():
            for w in workers:
                if _waiting_on_pipe(w):
                    waited.add(w)
                streak[w] = streak[w] + 1 if _running(w) else 0
            # Analysing a chunk for a while (so not receiving one, under the queue's lock),
            # after it was seen taking chunks (or, should it never wait, after its start-up).
            late = time.monotonic() - started > 1.5
            return next((w for w in workers if streak[w] >= 10 and (w in waited or late)),
                        None)
        return pick

    _kill_a_worker(tmp_path, big_source, published, runner, analysing)


@pytest.mark.skipif(not PROC, reason="needs /proc to find the workers")
def test_worker_killed_while_waiting_for_paragraphs_fails_the_reindex_cleanly(
        tmp_path: Path, big_source: Path, published: tuple[Path, Path], runner) -> None:
    """The worker killed while blocked in ``tasks.get()`` (early: the parent still has most
    chunks to send) dies holding the queue's read lock: the other worker can never take a
    chunk again, and the parent must still fail cleanly and exit."""
    def waiting(workers):
        return lambda: next((w for w in workers if _waiting_on_pipe(w)), None)

    _kill_a_worker(tmp_path, big_source, published, runner, waiting)


@pytest.mark.skipif(not PROC, reason="needs /proc to find the workers")
def test_reindex_killed_after_the_analysis_leaves_no_workers_lock_or_scratch(
        tmp_path: Path, big_source: Path, published: tuple[Path, Path]) -> None:
    """kill -9 of the whole reindex while its workers exchange and encode postings (their
    files are in ``parts.tmp``): the workers die with it, the published index stays, and the
    next reindex removes the half-written generation and its scratch folder."""
    small, ix_dir = published
    for _attempt in range(3):  # again if the reindex finished before the kill landed
        reindex = _Reindex(big_source, ix_dir, tmp_path, "--full", "--procs", "2")
        try:
            workers = reindex.workers(2)
            while reindex.proc.poll() is None and not any(
                    n.startswith("lengths-") for n in _scratch_files(ix_dir)):
                time.sleep(0.002)
            reindex.proc.send_signal(signal.SIGKILL)
            status = reindex.wait()
        finally:
            reindex.kill()
        if status == -signal.SIGKILL:
            break
        assert status == 0, reindex.stderr
        build_index([small], ix_dir, full=True)  # publish the small index again
    assert status == -signal.SIGKILL, "every reindex finished before it was killed"
    current = (ix_dir / storage.CURRENT).read_text(encoding="utf-8").strip()
    deadline = time.monotonic() + 10  # a guard: they get SIGKILL when their parent dies
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert [w for w in workers if _alive(w)] == []
    # The killed reindex was writing the generation after the live one, with its scratch files.
    (scratch,) = list(ix_dir.rglob("parts.tmp"))
    assert int(scratch.parent.name[1:]) == int(current[1:]) + 1
    with open_index(ix_dir) as ix:
        assert _answers(ix)[1:] == SMALL_ANSWERS[1:]
        assert ix.generation == current
    assert check_index(ix_dir).ok
    report = build_index([small], ix_dir)  # the lock died with the process
    assert (report.full, report.unchanged, report.generation) == (False, 30, current)
    assert list(ix_dir.rglob("parts.tmp")) == []
    assert [g.name for g in storage.generations(ix_dir)][-1] == current
