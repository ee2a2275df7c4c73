"""Suggestions as you type (``Index.suggest``, ``/api/suggest``, ``release-search suggest``):
what they complete, in either script, how they rank, and how both reindex paths build them."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from search import (
    MAX_QUERY_LENGTH,
    MAX_SUGGEST_LIMIT,
    SUGGESTION_KINDS,
    QueryError,
    Suggestion,
    build_index,
    open_index,
)
from search.cli import main
from search.script import fold
from search.suggest import Suggestions, count_reader, file_name
from web import create_app

SPEAKERS = ("陈晓强", "陈晓明", "田汝勇", "逯泽生", "王海燕")
ORGS = ("市工信局", "市商务局", "市卫健委", "市交通局")
PUBLISHERS = ("德州市人民政府", "济南市人民政府", "青岛日报")
TOPICS = ("核酸检测", "外贸企业", "疫情防控", "复工复产", "物流运输")


def write_corpus(path: Path, releases: int, seed: int = 3) -> None:
    """``releases`` JSONL releases: a title, a body paragraph, a question and an answer by a
    speaker of an organisation, each with a publisher (deterministic)."""
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(releases):
            topic = rnd.choice(TOPICS)
            speaker, org = rnd.choice(SPEAKERS), rnd.choice(ORGS)
            text = "\n".join([
                f"会议通报了{topic}工作的最新进展情况。",
                f"记者：{topic}方面做了哪些工作？",
                f"{org}副局长{speaker}：我们全力推进{topic}，保障群众生活。",
            ])
            f.write(json.dumps({"id": f"r{i:04d}", "title": f"第{i}场{topic}新闻发布会",
                                "text": text, "date": f"2022-03-{i % 28 + 1:02d}",
                                "publisher": rnd.choice(PUBLISHERS)}, ensure_ascii=False) + "\n")


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("suggest")
    write_corpus(base / "releases.jsonl", 60)
    build_index([base / "releases.jsonl"], base / "index")
    return base / "index"


def expected_counts(ix) -> dict[str, Counter]:
    """Occurrences of each speaker, organisation and publisher, read back from the releases."""
    counts = {"speaker": Counter(), "org": Counter(), "publisher": Counter()}
    for doc_id in ix.manifest():
        rel = ix.document(doc_id)
        counts["publisher"][rel.publisher] += 1
        for p in rel.paragraphs:
            if p.speaker:
                counts["speaker"][p.speaker] += 1
            if p.organization:
                counts["org"][p.organization] += 1
    return counts


# -- Python ---------------------------------------------------------------------------------


def test_traditional_and_simplified_prefixes_complete_the_same(sample_ix) -> None:
    for prefix in ("陈晓", "陳曉", "陳晓"):
        texts = [s.text for s in sample_ix.suggest(prefix)]
        assert "陈晓强" in texts, (prefix, texts)
    assert sample_ix.suggest("陳曉") == sample_ix.suggest("陈晓")


def test_suggestions_are_dataclasses_of_known_kinds(sample_ix) -> None:
    found = sample_ix.suggest("市")
    assert found and all(isinstance(s, Suggestion) for s in found)
    assert {s.kind for s in found} <= set(SUGGESTION_KINDS)
    assert all(fold(s.text).startswith("市") for s in found)
    # the organisations of the seed's answers
    assert {"市工信局", "市商务局"} <= {s.text for s in found if s.kind == "org"}


def test_title_is_suggested(sample_ix) -> None:
    title = sample_ix.document("dezhou-press-conference-13").title
    assert Suggestion(title, "title") in sample_ix.suggest(title[:6], limit=MAX_SUGGEST_LIMIT)


@pytest.mark.parametrize("prefix", ["", "   ", "\t\n"])
def test_blank_prefix_has_no_suggestions(sample_ix, prefix: str) -> None:
    assert sample_ix.suggest(prefix) == []


def test_hostile_prefixes(sample_ix) -> None:
    assert sample_ix.suggest("<script>") == []
    assert sample_ix.suggest("<script>alert(1)</script>") == []
    assert sample_ix.suggest("x" * MAX_QUERY_LENGTH) == []
    with pytest.raises(QueryError) as err:
        sample_ix.suggest("陈" * 10_000)
    assert err.value.code == "query_too_long"
    with pytest.raises(QueryError):
        sample_ix.suggest(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [0, -1, MAX_SUGGEST_LIMIT + 1, 2.5, True, "3"])
def test_bad_limit(sample_ix, limit) -> None:
    with pytest.raises(QueryError) as err:
        sample_ix.suggest("市", limit=limit)
    assert err.value.code == "invalid_limit"


def test_limit_and_ranking_by_frequency(corpus_index: Path) -> None:
    with open_index(corpus_index) as ix:
        counts = expected_counts(ix)
        speakers = ix.suggest("陈晓", limit=MAX_SUGGEST_LIMIT)
        chen = [s.text for s in speakers if s.kind == "speaker"]
        want = sorted((n for n in SPEAKERS if n.startswith("陈晓")),
                      key=lambda n: (-counts["speaker"][n], n))
        assert chen == want
        publishers = [s for s in ix.suggest("济南", limit=MAX_SUGGEST_LIMIT)
                      if s.kind == "publisher"]
        assert publishers == [Suggestion("济南市人民政府", "publisher")]
        orgs = [s.text for s in ix.suggest("市", limit=MAX_SUGGEST_LIMIT) if s.kind == "org"]
        assert orgs == sorted(ORGS, key=lambda o: (-counts["org"][o], o))
        assert len(ix.suggest("第", limit=3)) == 3
        assert len(ix.suggest("第", limit=MAX_SUGGEST_LIMIT)) == MAX_SUGGEST_LIMIT
        # traditional input finds the simplified corpus
        assert ix.suggest("陳曉", limit=5) == ix.suggest("陈晓", limit=5)
        # frequent words: jieba's words of the topics, in many paragraphs
        assert Suggestion("核酸", "word") in ix.suggest("核", limit=MAX_SUGGEST_LIMIT)
        assert Suggestion("外贸企业", "word") in ix.suggest("外贸", limit=MAX_SUGGEST_LIMIT)


def test_full_and_incremental_reindex_build_the_same_structure(tmp_path: Path) -> None:
    """An update rewrites the file (named for the new Whoosh generation) so that it holds
    exactly what a full rebuild of the same sources holds."""
    src = tmp_path / "src"
    src.mkdir()
    write_corpus(src / "a.jsonl", 30, seed=1)
    write_corpus(src / "b.jsonl", 1, seed=2)
    lines = (src / "b.jsonl").read_text(encoding="utf-8")
    (src / "b.jsonl").write_text(lines.replace('"id": "r0000"', '"id": "extra"')
                                 .replace("新闻发布会", "暨陈晓华专题发布会").replace(
                                     '"publisher": ', '"publisher": "烟台晚报", "_": '),
                                 encoding="utf-8")
    build_index([src], tmp_path / "inc", full=True)
    with open_index(tmp_path / "inc") as ix:
        assert any(s.text == "烟台晚报" for s in ix.suggest("烟台"))
    (src / "b.jsonl").unlink()
    report = build_index([src], tmp_path / "inc")
    assert not report.full and report.removed == 1
    build_index([src], tmp_path / "full", full=True)
    with open_index(tmp_path / "inc") as inc, open_index(tmp_path / "full") as full:
        assert inc.suggest("烟台") == [] and full.suggest("烟台") == []
        for prefix in ("陈", "市", "第1", "核", "济南", "疫情"):
            assert inc.suggest(prefix, limit=MAX_SUGGEST_LIMIT) == \
                full.suggest(prefix, limit=MAX_SUGGEST_LIMIT), prefix
    live = next(p for p in (tmp_path / "inc").iterdir() if p.name.startswith("g"))
    assert len(list(live.glob("suggest-*.npz"))) == 1


def _arrays(s: Suggestions) -> tuple:
    return (s._keys, s._key_off, s._texts, s._text_off, s._kinds.tolist(), s._ranks.tolist())


@pytest.mark.parametrize("procs", [1, 2])
def test_full_reindex_writes_what_its_index_reads_back(tmp_path: Path, procs: int) -> None:
    """A full rebuild counts the suggestions as it writes (the documents in order, the words
    with their paragraph counts): its file holds exactly what counting the committed index
    gives, ties and spellings included (a traditional title, spaces in a speaker's name)."""
    import whoosh.index

    from search.storage import INDEX_NAME, current_generation

    src = tmp_path / "src"
    src.mkdir()
    write_corpus(src / "a.jsonl", 80, seed=5)
    with open(src / "b.jsonl", "w", encoding="utf-8") as f:
        for i, (title, speaker) in enumerate([("第1場核酸檢測新聞發布會", "陈 晓强"),
                                              ("第1场核酸检测新闻发布会", "陈晓强")]):
            text = f"市卫健委副局长{speaker}：我们全力推进核酸检测工作。"
            f.write(json.dumps({"id": f"t{i}", "title": title, "text": text,
                                "publisher": "青岛日报"}, ensure_ascii=False) + "\n")
    build_index([src], tmp_path / "index", full=True, procs=procs)
    gen = current_generation(tmp_path / "index")
    ix = whoosh.index.open_dir(str(gen), indexname=INDEX_NAME)
    with ix.searcher() as s:
        read_back = Suggestions.from_counts(count_reader(s.reader(), s.schema))
        name = file_name(s.reader().generation())
    written = Suggestions.load(gen / name)
    assert len(written) > 100
    assert _arrays(written) == _arrays(read_back)


def test_missing_file_is_built_from_the_index(tmp_path: Path, sample_ix) -> None:
    """A searcher that finds no file for its data (a reindex died before writing it) builds
    the same suggestions in memory; the next reindex writes the file again."""
    from search.storage import current_generation

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    build_index([seeds], tmp_path / "index")
    gen = current_generation(tmp_path / "index")
    [path] = gen.glob("suggest-*.npz")
    path.unlink()
    with open_index(tmp_path / "index") as ix:
        for prefix in ("陈", "市", "德州"):
            assert ix.suggest(prefix) == sample_ix.suggest(prefix)
    build_index([seeds], tmp_path / "index")  # nothing changed: the file comes back
    assert path.is_file()


def test_structure_round_trips_and_counts_live_documents(corpus_index: Path) -> None:
    import whoosh.index

    from search.storage import INDEX_NAME, current_generation

    gen = current_generation(corpus_index)
    ix = whoosh.index.open_dir(str(gen), indexname=INDEX_NAME)
    with ix.searcher() as s:
        counted = count_reader(s.reader(), s.schema)
        name = file_name(s.reader().generation())
    loaded = Suggestions.load(gen / name)
    rebuilt = Suggestions.from_counts(counted)
    assert len(loaded) == len(rebuilt) > 0
    assert loaded.lookup("陈晓", 50) == rebuilt.lookup("陈晓", 50)
    with open_index(corpus_index) as opened:
        counts = expected_counts(opened)
    assert dict(counted.counts["speaker"]) == {fold(k): v for k, v in counts["speaker"].items()}
    assert sum(counted.counts["title"].values()) == 60


# -- HTTP -----------------------------------------------------------------------------------


@pytest.fixture
def client(sample_index: Path):
    return create_app({"INDEX_DIR": str(sample_index), "TESTING": True}).test_client()


def test_http_suggest(client, sample_ix) -> None:
    for prefix in ("陈晓", "陳曉"):
        r = client.get("/api/suggest", query_string={"q": prefix, "limit": 5})
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/json"
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        body = r.get_json()
        assert body["query"] == prefix
        assert body["suggestions"] == [s.to_dict() for s in sample_ix.suggest(prefix, 5)]
        assert {"text": "陈晓强", "kind": "word"} in body["suggestions"]


@pytest.mark.parametrize("prefix", ["", "<script>", "<script>alert(1)</script>"])
def test_http_suggest_empty_and_hostile(client, prefix: str) -> None:
    r = client.get("/api/suggest", query_string={"q": prefix})
    assert r.status_code == 200
    assert r.get_json() == {"query": prefix, "suggestions": []}
    # JSON, never sniffed as a page (as /api/search, which echoes its query too)
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("args", "code"), [
    ({"q": "陈" * 10_000}, "query_too_long"),
    ({"q": "陈", "limit": "0"}, "invalid_limit"),
    ({"q": "陈", "limit": str(MAX_SUGGEST_LIMIT + 1)}, "invalid_limit"),
    ({"q": "陈", "limit": " 3"}, "invalid_limit"),
    ({"q": "陈", "limit": "x"}, "invalid_limit"),
    ({"q": ["陈", "市"]}, "repeated_parameter"),
])
def test_http_suggest_errors(client, args: dict, code: str) -> None:
    r = client.get("/api/suggest", query_string=args)
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == code
    assert "Traceback" not in r.get_data(as_text=True)


# -- CLI ------------------------------------------------------------------------------------


def test_cli_suggest(runner, sample_index: Path, sample_ix) -> None:
    r = runner.invoke(main, ["suggest", "陳曉", "--index-dir", str(sample_index)])
    assert r.exit_code == 0, r.output
    assert [tuple(line.split("\t")) for line in r.output.splitlines()] == \
        [(s.text, s.kind) for s in sample_ix.suggest("陈晓")]
    r = runner.invoke(main, ["suggest", "市", "-n", "2", "--json", "--index-dir",
                             str(sample_index)])
    assert json.loads(r.output) == {"query": "市", "suggestions": [
        s.to_dict() for s in sample_ix.suggest("市", limit=2)]}
    for prefix in ("", "<script>"):
        r = runner.invoke(main, ["suggest", prefix, "--index-dir", str(sample_index)])
        assert r.exit_code == 0 and r.output == ""
    r = runner.invoke(main, ["suggest", "陈" * 10_000, "--index-dir", str(sample_index)])
    assert r.exit_code == 2
    assert "Invalid value for PREFIX: q must be at most 500 characters" in r.stderr
    assert "Traceback" not in r.output and r.stdout == ""
    r = runner.invoke(main, ["suggest", "陈", "-n", "0", "--index-dir", str(sample_index)])
    assert r.exit_code == 2 and "Invalid value for '-n' / '--limit': limit" in r.stderr
