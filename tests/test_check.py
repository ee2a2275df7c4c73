"""Index integrity: ``search.check.check_index`` and ``release-search check`` on real, really damaged indexes.

Every damage is done to a copy of a real index built from ``seeds/``: truncated or overwritten
segment files, a garbled table of contents, a missing ``meta.json``, ``CURRENT`` naming nothing,
paragraphs deleted or release records rewritten through Whoosh itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import whoosh.index
from click.testing import CliRunner

from search import build_index, storage
from search.check import FIX, CheckReport, _ranges, check_index
from search.cli import main
from search.documents import read_releases
from search.schema import paragraph_docs

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DOC_ID = "dezhou-press-conference-13"
OK_SUMMARY = ("index OK: {d} (generation g000001): 1 releases, 31 paragraphs; "
              "every release has its content hash and all its paragraphs")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed release indexed once for the module (copied before each damage)."""
    path = tmp_path_factory.mktemp("check") / "index"
    build_index([SEEDS], path)
    return path


@pytest.fixture
def index_copy(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the pristine index, free to damage."""
    dest = tmp_path / "index"
    shutil.copytree(pristine, dest)
    return dest


def _gen(index_dir: Path) -> Path:
    return index_dir / "g000001"


def _seg(index_dir: Path) -> str:
    """The segment's file name prefix (``.../g000001/MAIN_<id>``); the index writes separate files."""
    (terms,) = _gen(index_dir).glob("MAIN_*.trm")
    return str(terms.with_suffix(""))


def _file(index_dir: Path, suffix: str) -> Path:
    return Path(_seg(index_dir) + suffix)


def _toc(index_dir: Path) -> Path:
    return _gen(index_dir) / "_MAIN_1.toc"


# ------------------------------------------------------------------------------ healthy


def test_healthy_index_is_ok(index_copy: Path) -> None:
    report = check_index(index_copy)
    assert report == CheckReport(ok=True, index_dir=str(index_copy), generation="g000001",
                                 releases=1, paragraphs=31, problems=[])
    assert report.summary() == OK_SUMMARY.format(d=index_copy)
    assert report.to_dict() == {"ok": True, "index_dir": str(index_copy), "generation": "g000001",
                                "releases": 1, "paragraphs": 31, "problems": []}


def test_check_command_ok_exits_0(index_copy: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--index-dir", str(index_copy)])
    assert result.exit_code == 0
    assert result.output == OK_SUMMARY.format(d=index_copy) + "\n"
    as_json = CliRunner().invoke(main, ["check", "--index-dir", str(index_copy), "--json"])
    assert as_json.exit_code == 0
    assert json.loads(as_json.output)["ok"] is True


def test_missing_index(tmp_path: Path) -> None:
    report = check_index(tmp_path / "none")
    assert not report.ok
    assert report.problems == [f"no index in {tmp_path / 'none'}: run `release-search reindex` to build one"]
    assert report.generation is None


# ------------------------------------------------------------------------------ damage


def _truncate_half(d: Path, suffix: str = ".pst") -> None:
    path = _file(d, suffix)
    os.truncate(path, path.stat().st_size // 2)


def _posting_list_starts(d: Path) -> list[int]:
    """Where each term's posting list starts in the segment's postings file."""
    ix = whoosh.index.open_dir(str(_gen(d)), indexname=storage.INDEX_NAME)
    with ix.reader() as reader:
        starts = {reader.term_info(fieldname, text).extent()[0]
                  for fieldname in reader.indexed_field_names()
                  for text in reader.lexicon(fieldname)}
    return sorted(s for s in starts if s is not None)  # None: postings inlined in the term


def _truncate_postings(d: Path) -> None:
    """Cut the postings file at the start of the posting list around its middle: the lists
    before the cut are whole, the next one read finds no header tag at all (b'').

    (Cutting at exactly half the size would make the message depend on the file's layout:
    the tag reads back as b'', b'W', b'W3' or b'W3B' depending on where the cut falls.)"""
    path = _file(d, ".pst")
    starts = _posting_list_starts(d)
    cut = max(s for s in starts if s <= path.stat().st_size // 2)
    assert 0 < cut < path.stat().st_size
    os.truncate(path, cut)


def _truncate_empty(d: Path, suffix: str = ".trm") -> None:
    os.truncate(_file(d, suffix), 0)


def _zero(d: Path, suffix: str) -> None:
    path = _file(d, suffix)
    path.write_bytes(bytes(path.stat().st_size))


def _zero_postings(d: Path) -> None:
    """Overwrite the postings file with zeros (it opens; reading a posting block fails)."""
    _zero(d, ".pst")


def _truncate_stored(d: Path) -> None:
    _truncate_half(d, "._stored.col")


def _zero_doc_id_column(d: Path) -> None:
    _zero(d, ".doc_id.col")


def _truncate_section_column(d: Path) -> None:
    _truncate_empty(d, ".section.col")


def _delete_postings(d: Path) -> None:
    _file(d, ".pst").unlink()


def _garble_toc(d: Path) -> None:
    toc = _toc(d)
    data = bytearray(toc.read_bytes())
    for i in range(40, len(data) - 10, 7):
        data[i] ^= 0x5A
    toc.write_bytes(bytes(data))


def _delete_toc(d: Path) -> None:
    _toc(d).unlink()


def _delete_meta(d: Path) -> None:
    (_gen(d) / "meta.json").unlink()


def _garble_meta(d: Path) -> None:
    (_gen(d) / "meta.json").write_text('{"releases": 1, "parag', encoding="utf-8")


def _current_nowhere(d: Path) -> None:
    (d / "CURRENT").write_text("g000009\n", encoding="utf-8")


def _current_garbage(d: Path) -> None:
    (d / "CURRENT").write_text("../../etc\n", encoding="utf-8")


#: (damage, the problem it must produce, with {d} the index and {seg} the segment file)
DAMAGES: list[tuple[Callable[[Path], None], str]] = [
    (_truncate_postings, "{seg}.pst is damaged (Exception: Block tag error b''); " + FIX),
    (_truncate_empty, "{seg}.trm is damaged (FileFormatError: Unknown file header b''); " + FIX),
    (_zero_postings, "{seg}.pst is damaged (Exception: Block tag error b'\\x00\\x00\\x00\\x00'); " + FIX),
    (_delete_postings, "{seg}.pst is missing; " + FIX),
    # The stored records hold the checkout's paths, so where half the file ends varies: only
    # the wrapping of the decoder's error is fixed.
    (_truncate_stored, "{seg}._stored.col is damaged ({detail}); " + FIX),
    (_zero_doc_id_column, "{seg}.doc_id.col is damaged (error: embedded null character); " + FIX),
    (_truncate_section_column, "{seg}.section.col is damaged (OSError: [Errno 22] Invalid argument); " + FIX),
    (_garble_toc, "{d}/g000001/_MAIN_1.toc is damaged (UnpicklingError: invalid load key, '+'.); " + FIX),
    (_delete_toc, "{d}/g000001 has no Whoosh table of contents (_MAIN_*.toc); " + FIX),
    (_delete_meta, "{d}/g000001/meta.json is missing; run `release-search reindex --full`"),
    (_garble_meta, "{d}/g000001/meta.json is damaged; run `release-search reindex --full`"),
    (_current_nowhere, "{d}/CURRENT names a missing generation 'g000009'; run `release-search reindex --full`"),
    (_current_garbage, "{d}/CURRENT names a missing generation '../../etc'; run `release-search reindex --full`"),
]


def _pattern(problem: str, d: Path, seg: Path) -> str:
    """The exact problem line as a regex; ``{detail}`` stands for a decoder's own message."""
    parts = problem.split("{detail}")
    return "[^\\n]+".join(re.escape(part.format(d=d, seg=seg)) for part in parts)


@pytest.mark.parametrize(("damage", "problem"), DAMAGES, ids=[d.__name__.lstrip("_") for d, _ in DAMAGES])
def test_damaged_index_names_the_file_and_the_fix(index_copy: Path, damage, problem: str) -> None:
    seg = _seg(index_copy)
    damage(index_copy)
    report = check_index(index_copy)
    assert not report.ok
    assert len(report.problems) == 1
    assert re.fullmatch(_pattern(problem, index_copy, seg), report.problems[0])
    lines = report.summary().splitlines()
    assert lines[0] == f"index DAMAGED: {index_copy} (generation {report.generation or 'none'}): 1 problem"
    assert lines[1:] == ["  - " + report.problems[0]]


@pytest.mark.parametrize(("damage", "problem"), DAMAGES, ids=[d.__name__.lstrip("_") for d, _ in DAMAGES])
def test_check_command_exits_1_with_the_message(index_copy: Path, damage, problem: str) -> None:
    seg = _seg(index_copy)
    damage(index_copy)
    result = CliRunner().invoke(main, ["check", "--index-dir", str(index_copy)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert re.search("^  - " + _pattern(problem, index_copy, seg) + "$", result.output, re.M)
    assert "Traceback" not in result.output


def test_check_command_for_real_has_no_traceback(index_copy: Path) -> None:
    seg = _seg(index_copy)
    _truncate_postings(index_copy)
    done = subprocess.run([sys.executable, "-m", "search", "check", "--index-dir", str(index_copy), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout) == {
        "ok": False, "index_dir": str(index_copy), "generation": "g000001", "releases": 0, "paragraphs": 0,
        "problems": [f"{seg}.pst is damaged (Exception: Block tag error b''); {FIX}"]}


# ------------------------------------------------------------------- record-level problems


def _rewrite(index_dir: Path, edit: Callable[[list[dict]], None]) -> None:
    """Replace the sample release in the live generation through Whoosh's own writer, after
    ``edit(docs)`` changed its paragraph documents (as the indexer makes them, in order).

    The whole release is deleted and added again, head first, as an incremental reindex does,
    so its paragraphs keep consecutive document numbers and only the edit is wrong.
    """
    (rel,) = read_releases([SEEDS], [])
    docs = list(paragraph_docs(rel))
    edit(docs)
    ix = whoosh.index.open_dir(str(_gen(index_dir)), indexname=storage.INDEX_NAME)
    writer = ix.writer()
    try:
        assert writer.delete_by_term("doc_id", DOC_ID) == 31
        for doc in docs:
            writer.add_document(**doc)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def _head(docs: list[dict]) -> dict:
    (head,) = [d for d in docs if d.get("head") == "1"]
    assert head["paragraph"] == 1
    return head


def test_rewrite_alone_keeps_the_index_healthy(index_copy: Path) -> None:
    _rewrite(index_copy, lambda docs: None)
    assert check_index(index_copy) == CheckReport(
        ok=True, index_dir=str(index_copy), generation="g000001", releases=1, paragraphs=31,
        problems=[])


def test_missing_paragraph_is_reported(index_copy: Path) -> None:
    def drop_five(docs):
        (five,) = [d for d in docs if d["paragraph"] == 5]
        docs.remove(five)

    _rewrite(index_copy, drop_five)
    (_gen(index_copy) / "meta.json").write_text(
        json.dumps({"releases": 1, "paragraphs": 30}), encoding="utf-8")
    report = check_index(index_copy)
    assert (report.releases, report.paragraphs) == (1, 30)
    assert report.problems == [f"release {DOC_ID!r} should have paragraphs 1..31 but has 1-4, 6-31; {FIX}"]


@pytest.mark.parametrize(("bad_hash", "shown"), [("", "''"), (None, "None"), ("abc", "'abc'"),
                                                 ("G" * 64, "'" + "G" * 64 + "'")])
def test_release_without_a_known_hash_is_reported(index_copy: Path, bad_hash, shown: str) -> None:
    def rehash(docs):
        head = _head(docs)
        head["release"] = {**head["release"], "hash": bad_hash}

    _rewrite(index_copy, rehash)
    report = check_index(index_copy)
    assert report.problems == [f"release {DOC_ID!r} has no known source hash ({shown}); {FIX}"]


def test_release_without_record_and_head_mismatch(index_copy: Path) -> None:
    def strip_record(docs):
        del _head(docs)["release"]

    _rewrite(index_copy, strip_record)
    report = check_index(index_copy)
    assert (report.releases, report.paragraphs) == (0, 31)
    assert report.problems == [
        f"{index_copy}/g000001/meta.json records 1 releases but the index holds 0; {FIX}",
        f"release {DOC_ID!r}: its first paragraph in the index does not carry the release "
        f"record; {FIX}",
        f"{index_copy}/g000001: 1 paragraphs are marked head but 0 carry a release record; {FIX}",
        f"release {DOC_ID!r} has 0 release records instead of 1; {FIX}",
    ]


def test_release_whose_record_is_not_its_first_document_is_reported(index_copy: Path) -> None:
    def head_last(docs):
        docs.append(docs.pop(docs.index(_head(docs))))

    _rewrite(index_copy, head_last)
    assert check_index(index_copy).problems == [
        f"release {DOC_ID!r}: its first paragraph in the index does not carry the release "
        f"record; {FIX}"]


def test_release_split_by_another_is_reported(index_copy: Path) -> None:
    def split(docs):
        other = {**_head(docs), "doc_id": "other"}
        other["release"] = {**other["release"], "paragraphs": 1}
        docs.insert(10, other)

    _rewrite(index_copy, split)
    (_gen(index_copy) / "meta.json").write_text(
        json.dumps({"releases": 2, "paragraphs": 32}), encoding="utf-8")
    assert check_index(index_copy).problems == [
        f"release {DOC_ID!r}: its paragraphs are not consecutive in the index; {FIX}"]


def test_meta_counts_must_match(index_copy: Path) -> None:
    meta_path = _gen(index_copy) / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, "paragraphs": 32}), encoding="utf-8")
    report = check_index(index_copy)
    assert report.problems == [f"{meta_path} records 32 paragraphs but the index holds 31; {FIX}"]


def test_incremental_reindex_keeps_meta_counts(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(SEEDS, src)
    build_index([src], tmp_path / "index")
    (src / "jinan.txt").write_text("济南市召开防汛抗旱工作新闻发布会\n济南市政府新闻办公室召开防汛抗旱工作新闻发布会。\n",
                                   encoding="utf-8")
    report = build_index([src], tmp_path / "index")
    assert (report.full, report.added, report.releases, report.paragraphs) == (False, 1, 2, 33)
    check = check_index(tmp_path / "index")
    assert check.problems == []


def test_ranges() -> None:
    assert _ranges([]) == "none"
    assert _ranges([1]) == "1"
    assert _ranges([1, 2, 3, 5, 7, 8]) == "1-3, 5, 7-8"


# ----------------------------------------------------------------- search on a damaged index


def _search_for_real(index_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "search", "search", "统筹", "--index-dir", str(index_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("damage", [_truncate_half, _truncate_empty, _garble_toc, _delete_toc, _current_nowhere,
                                    _truncate_stored, _delete_postings],
                         ids=lambda d: d.__name__.lstrip("_"))
def test_search_on_damaged_index_exits_1_cleanly(index_copy: Path, damage) -> None:
    damage(index_copy)
    done = _search_for_real(index_copy)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: ")
    assert "run `release-search reindex --full`" in done.stderr


@pytest.mark.parametrize("damage", [_zero_postings, _truncate_section_column],
                         ids=["overwritten_segment", "truncated_section_column"])
def test_search_on_damaged_files_exits_1_cleanly(index_copy: Path, damage) -> None:
    damage(index_copy)
    done = _search_for_real(index_copy)
    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    assert "run `release-search reindex --full`" in done.stderr


def test_search_on_a_damaged_doc_id_column_exits_1_cleanly_and_check_reports_it(
        index_copy: Path) -> None:
    # The ranking breaks ties by release id (the doc_id column), as a sharded index must.
    _zero_doc_id_column(index_copy)
    done = _search_for_real(index_copy)
    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    assert "run `release-search reindex --full`" in done.stderr
    assert not check_index(index_copy).ok


def test_a_damaged_folded_column_fails_searches_cleanly_and_check_names_it(
        index_copy: Path) -> None:
    # Each paragraph's folded text (search.foldedtext), read for every re-ranked paragraph.
    _zero(index_copy, ".folded.col")
    done = _search_for_real(index_copy)
    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    assert "run `release-search reindex --full`" in done.stderr
    report = check_index(index_copy)
    assert not report.ok
    assert any(".folded.col is damaged" in p for p in report.problems), report.problems
