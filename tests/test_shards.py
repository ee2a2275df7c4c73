"""Sharded indexes built and searched in this process (search.shards, search.sharded): the
partition, the manifest's atomic publication, incremental rebuilds of changed shards only, the
check of every shard, and rankings identical to one index over the same releases (CMRC2018
and DRCD questions)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from search import ShardedIndex, build_index, check_index, open_index
from search.errors import IndexNotFoundError, SearchError
from search.shards import MANIFEST, read_manifest, reindex_sharded, shard_of
from search.scoring import Work, rank_candidates, rank_matches, scored_terms
from search.statistics import CollectionStats

from conftest import make_releases, write_release

DATA = Path(__file__).resolve().parent / "data"
CMRC = DATA / "cmrc2018_subset"
DRCD = DATA / "drcd_releases_subset"
ROOT = Path(__file__).resolve().parent.parent


def queries(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]


def ranking(ix, query: str, **kw) -> tuple:
    r = ix.search(query, **kw)
    return r.total, [(h.doc_id, h.paragraph, h.score, h.snippet, h.title) for h in r.hits]


@pytest.fixture(scope="module")
def cmrc(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmrc")
    build_index([CMRC / "corpus.jsonl"], root / "single")
    reindex_sharded([CMRC / "corpus.jsonl"], root / "sharded", shards=3)
    with open_index(root / "single") as one, open_index(root / "sharded") as many:
        yield one, many


@pytest.fixture(scope="module")
def drcd(tmp_path_factory):
    root = tmp_path_factory.mktemp("drcd")
    build_index([DRCD / "releases.jsonl"], root / "single")
    reindex_sharded([DRCD / "releases.jsonl"], root / "sharded", shards=4)
    with open_index(root / "single") as one, open_index(root / "sharded") as many:
        yield one, many


def test_shard_of_is_blake2b_of_the_id_modulo_the_count():
    for doc_id in ("DEV_0", "1147-2", "德州-13", ""):
        digest = hashlib.blake2b(doc_id.encode(), digest_size=8).digest()
        for n in (1, 2, 3, 7):
            assert shard_of(doc_id, n) == int.from_bytes(digest, "big") % n


def test_each_release_is_in_the_shard_its_id_hashes_to(cmrc):
    _one, many = cmrc
    ids = [json.loads(line)["id"] for line in
           (CMRC / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    expected = Counter(shard_of(i, 3) for i in ids)
    m = read_manifest(many.index_dir)
    assert m.count == 3 and m.generations == ("s000/g000001", "s001/g000001", "s002/g000001")
    for k, path in enumerate(m.paths()):
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        assert meta["releases"] == expected[k]
    assert sorted(many.manifest()) == sorted(ids)


@pytest.mark.parametrize("which", ["cmrc", "drcd"])
def test_sharded_ranks_every_question_as_one_index(which, request):
    one, many = request.getfixturevalue(which)
    qs = queries((CMRC if which == "cmrc" else DRCD) / "queries.jsonl")
    assert len(qs) == (355 if which == "cmrc" else 114)
    for q in qs:
        assert ranking(many, q) == ranking(one, q), q


@pytest.mark.parametrize("query,kw", [
    ("游戏 开发", {"page": 2, "per_page": 7}),
    ("游戏 OR 音乐", {"per_page": 30}),
    ('"战国无双"', {}),
    ("公司 -游戏", {"per_page": 20}),
    ("section:title", {"per_page": 50}),
    ("的", {"per_page": 40, "page": 3}),
    ("战国", {"section": "body"}),
    ("战国", {"doc_id": "DEV_0"}),
])
def test_pages_filters_phrases_and_exclusions_rank_as_one_index(cmrc, query, kw):
    one, many = cmrc
    assert ranking(many, query, **kw) == ranking(one, query, **kw)


def test_ranked_doc_ids_documents_and_stats_match(cmrc):
    one, many = cmrc
    for q in queries(CMRC / "queries.jsonl")[:40]:
        assert many.ranked_doc_ids(q, k=10) == one.ranked_doc_ids(q, k=10)
    assert many.document("DEV_0") == one.document("DEV_0")
    assert many.document("DEV_0", page=1, per_page=1) == one.document("DEV_0", page=1, per_page=1)
    a, b = one.stats(), many.stats()
    assert (b.releases, b.paragraphs, b.sections) == (a.releases, a.paragraphs, a.sections)
    assert b.generation == "m000001" and many.shard_count == 3
    assert many.highlight("战国无双3", "战国") == one.highlight("战国无双3", "战国")


def test_ties_are_broken_by_release_id_then_paragraph_in_both(tmp_path):
    # Twelve releases with the same text score the same: both orders are by id.
    src = tmp_path / "src"
    for i in (7, 3, 11, 0, 5, 9, 1, 10, 2, 8, 6, 4):
        write_release(src, f"tie{i:02d}", "同题", "统筹疫情防控和经济运行。", "统筹疫情防控和经济运行。")
    build_index([src], tmp_path / "single")
    reindex_sharded([src], tmp_path / "sharded", shards=3)
    with open_index(tmp_path / "single") as one, open_index(tmp_path / "sharded") as many:
        a, b = ranking(one, "统筹", per_page=30), ranking(many, "统筹", per_page=30)
        assert a == b
        assert [(d, p) for d, p, *_ in a[1]] == [(f"tie{i:02d}", p) for i in range(12)
                                                 for p in (2, 3)]


def test_scored_terms_are_exactly_those_the_ranking_scores(cmrc):
    one, _many = cmrc
    gen = one._current()

    class Recording(CollectionStats):
        def doc_freq(self, fieldname, text):
            asked.add((fieldname, text))
            return super().doc_freq(fieldname, text)

    for q in ["游戏 开发", '"战国无双" OR 音乐 -公司', "的 是 在", "speaker:x 战国", "a-b 3.5"]:
        pq = one.parse(q)
        terms = scored_terms(pq)
        asked: set = set()
        stats = gen.stats(terms)
        rank_candidates(gen, pq, 10, Work(), Recording(stats.fields, stats.doc_freqs))
        assert asked <= terms, (q, asked - terms)


def test_incremental_reindex_rebuilds_only_changed_shards(tmp_path):
    src = tmp_path / "src"
    make_releases(src, 12)
    index = tmp_path / "index"
    first = reindex_sharded([src], index, shards=3)
    assert [s["rebuilt"] for s in first.shards] == [True] * 3
    same = reindex_sharded([src], index)
    assert (same.unchanged, [s["rebuilt"] for s in same.shards]) == (12, [False] * 3)
    assert read_manifest(index).serial == 1  # nothing to publish
    write_release(src, "gen0005", "改了", "新的内容：鲲鹏展翅。")
    (src / "gen0007.txt").unlink()
    report = reindex_sharded([src], index)
    changed = {shard_of("gen0005", 3), shard_of("gen0007", 3)}
    assert {s["shard"] for s in report.shards if s["rebuilt"]} == changed
    assert (report.updated, report.removed, report.unchanged, report.releases) == (1, 1, 10, 11)
    m = read_manifest(index)
    assert m.serial == 2
    for k in range(3):
        assert m.generations[k] == (f"s{k:03d}/g000002" if k in changed else f"s{k:03d}/g000001")
    build_index([src], tmp_path / "single")
    with open_index(tmp_path / "single") as one, open_index(index) as many:
        for q in ("核酸检测", "统筹 疫情", "第5号新闻发布会", "企业"):
            assert ranking(many, q) == ranking(one, q)
    assert check_index(index).ok
    again = reindex_sharded([src], index, shards=2)  # another count: everything again
    assert again.full and read_manifest(index).count == 2 and not (index / "s002").exists()


def test_an_open_sharded_index_follows_a_new_manifest(tmp_path):
    src = tmp_path / "src"
    make_releases(src, 6)
    index = tmp_path / "index"
    reindex_sharded([src], index, shards=2)
    with open_index(index, reload_interval=0) as many:
        assert many.search("鲲鹏展翅").total == 0
        write_release(src, "gen0002", "改了", "新的内容：鲲鹏展翅。")
        reindex_sharded([src], index)
        assert many.search("鲲鹏展翅").total == 1
        assert many.generation == "m000002"


def test_a_reindex_killed_before_the_manifest_is_replaced_leaves_the_old_shards(tmp_path):
    src = tmp_path / "src"
    make_releases(src, 8)
    index = tmp_path / "index"
    reindex_sharded([src], index, shards=2)
    write_release(src, "gen0003", "改了", "新的内容：鲲鹏展翅。")
    for stage in ("shard-reading", "shards-written", "shards-publishing"):
        code = ("import sys; from search.shards import reindex_sharded; "
                "reindex_sharded([sys.argv[1]], sys.argv[2])")
        env = {**os.environ, "RELEASE_SEARCH_FAULT": stage, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", code, str(src), str(index)], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == -9, done.stderr
        assert read_manifest(index).serial == 1
        with open_index(index) as many:
            assert many.search("鲲鹏展翅").total == 0 and many.stats().releases == 8
    leftovers = [p for p in index.rglob("g*") if p.is_dir()] + list(index.glob(MANIFEST + ".tmp*"))
    assert len(leftovers) > 2  # what the killed reindexes left beside the two live shards
    report = reindex_sharded([src], index)
    assert report.updated == 1 and read_manifest(index).serial == 2
    k = shard_of("gen0003", 2)
    # The live shards and, of the rebuilt one, its previous generation (for open searchers).
    assert sorted(p.relative_to(index).as_posix() for p in index.glob("s*/g*")) == \
        sorted({*read_manifest(index).generations, f"s{k:03d}/g000001"})
    assert check_index(index).ok
    assert not list(index.glob(MANIFEST + ".tmp*"))
    with open_index(index) as many:
        assert many.search("鲲鹏展翅").total == 1


def test_check_reports_a_damaged_shard_and_a_release_in_the_wrong_shard(tmp_path):
    src = tmp_path / "src"
    make_releases(src, 8)
    index = tmp_path / "index"
    reindex_sharded([src], index, shards=2)
    report = check_index(index)
    assert report.ok and (report.releases, report.generation) == (8, "m000001")
    m = read_manifest(index)
    # Swap the two shards in the manifest: every release is now in the wrong one.
    data = json.loads((index / MANIFEST).read_text(encoding="utf-8"))
    data["generations"] = ["s000/" + m.generations[1].split("/")[1],
                           "s001/" + m.generations[0].split("/")[1]]
    (index / "s001" / "g000009").mkdir()
    data["generations"] = ["s000/g000001", "s001/g000009"]
    (index / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    report = check_index(index)
    assert not report.ok
    assert any("s001/g000009/meta.json is missing" in p for p in report.problems)
    (index / MANIFEST).write_text("{", encoding="utf-8")
    report = check_index(index)
    assert not report.ok and report.problems == [
        f"cannot read {index / MANIFEST}; run `release-search reindex --full`"]


def test_no_index_is_not_found_and_build_index_refuses_a_sharded_index(tmp_path):
    with pytest.raises(IndexNotFoundError):
        ShardedIndex(tmp_path / "none")
    src = tmp_path / "src"
    make_releases(src, 2)
    reindex_sharded([src], tmp_path / "index", shards=2)
    with pytest.raises(SearchError, match="holds a sharded index"):
        build_index([src], tmp_path / "index")


ARCHIVE = DATA / "archive" / "releases"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    build_index([ARCHIVE], root / "single")
    reindex_sharded([ARCHIVE], root / "sharded", shards=3)
    with open_index(root / "single") as one, open_index(root / "sharded") as many:
        yield one, many


def full(ix, query: str, **kw) -> dict:
    r = ix.search(query, **kw).to_dict()
    r.pop("took_ms")
    return r


@pytest.mark.parametrize("query,kw", [
    ("外贸", {}),
    ("外贸", {"sort": "newest", "per_page": 20}),
    ("核酸检测", {"sort": "oldest", "per_page": 15, "page": 2}),
    ("", {"date_from": "2021"}),
    ("", {"date_from": "2021-03", "date_to": "2021-09", "sort": "oldest", "per_page": 50}),
    ("", {"publisher": "德州新聞網", "per_page": 30}),
    ("外贸 -org:市卫健委", {}),
    ("", {"section": "answer", "publisher": "齐鲁晚报"}),
    ("org:市商务局 org:市卫健委", {"per_page": 40}),
    ("企业 发展", {"date_to": "2021-06", "facets": False}),
])
def test_filters_sorts_and_facets_are_as_one_index(archive, query, kw):
    one, many = archive
    assert full(many, query, **kw) == full(one, query, **kw)


@pytest.mark.parametrize("query,kw", [
    ("外贸", {}),
    ("核酸检测", {"sort": "newest"}),
    ("", {"date_from": "2021-03", "date_to": "2021-09", "sort": "oldest"}),
])
def test_exports_stream_every_hit_as_one_index(archive, query, kw):
    one, many = archive
    with one.iter_hits(query, **kw) as a, many.iter_hits(query, **kw) as b:
        assert (b.total, b.rows, b.truncated) == (a.total, a.rows, a.truncated)
        assert a.total > 0
        assert [h.to_dict() for h in b] == [h.to_dict() for h in a]
    with one.iter_hits("企业", limit=7) as a, many.iter_hits("企业", limit=7) as b:
        assert (b.total, b.rows, b.truncated) == (a.total, 7, True)
        assert [h.to_dict() for h in b] == [h.to_dict() for h in a]


def test_suggestions_over_shards_come_from_every_shard(archive):
    one, many = archive
    for prefix in ("德州", "市", "王", "陳"):
        single = one.suggest(prefix, limit=50)
        sharded = many.suggest(prefix, limit=50)
        assert single, prefix
        # Fewer than 50 completions in all: every one of the single index's, none other.
        if len(single) < 50:
            assert sorted(map(repr, sharded)) == sorted(map(repr, single)), prefix
        assert len(sharded) == len(set(map(repr, sharded))) <= 50
    assert many.suggest("陳", limit=3) == many.suggest("陈", limit=3)
    assert len(many.suggest("市", limit=2)) == 2
    assert many.suggest("   ") == [] and many.suggest("没有这样的前缀xyz") == []


ARCHIVE = DATA / "archive" / "releases"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    build_index([ARCHIVE], root / "single")
    reindex_sharded([ARCHIVE], root / "sharded", shards=3)
    for index in ("single", "sharded"):  # a user's group beside the built-in ones
        (root / index / "synonyms.txt").write_text("外贸,对外贸易\n", encoding="utf-8")
    with open_index(root / "single") as one, open_index(root / "sharded") as many:
        yield one, many


@pytest.mark.parametrize("query,kw", [
    ("市卫生健康委员会 核酸检测", {"per_page": 30}),
    ('"工业和信息化局"', {"per_page": 30}),
    ("对外贸易", {"per_page": 30}),
    ("疫情 -市卫生健康委员会", {"per_page": 30}),
    ("核酸检测 org:市卫生健康委员会", {}),
    ("", {"org": "市卫生健康委员会", "per_page": 50}),
    ("外贸", {"org": "市商务局", "sort": "newest"}),
])
def test_synonyms_expand_every_shard_as_one_index(archive, query, kw):
    one, many = archive
    expected = ranking(one, query, **kw)
    assert expected[0] > 0
    assert ranking(many, query, **kw) == expected
    plain = query.replace("市卫生健康委员会", "市卫健委").replace("对外贸易", "外贸")
    if plain != query or kw.get("org") == "市卫生健康委员会":
        assert expected[0] == one.search(plain, **{**kw, "org": kw.get("org") and "市卫健委"}).total
    assert many.highlight("市卫健委和对外贸易", query) == one.highlight("市卫健委和对外贸易", query)


def test_a_synonyms_file_given_is_read_by_every_shard(archive, tmp_path):
    one, many = archive
    path = tmp_path / "ours.txt"
    path.write_text("外贸,海外订单\n", encoding="utf-8")
    with open_index(one.index_dir, synonyms=path) as a, open_index(many.index_dir,
                                                                    synonyms=path) as b:
        assert a.search("海外订单").total == one.search("外贸").total > 0
        assert ranking(b, "海外订单") == ranking(a, "海外订单")
        assert b.synonyms_path == path
    with pytest.raises(SearchError):
        open_index(many.index_dir, synonyms=tmp_path / "missing.txt")


@pytest.mark.parametrize("which", ["cmrc", "drcd"])
def test_ranked_paragraph_ids_match(which, request):
    one, many = request.getfixturevalue(which)
    for q in queries((CMRC if which == "cmrc" else DRCD) / "queries.jsonl")[:60]:
        assert many.ranked_paragraph_ids(q, k=10) == one.ranked_paragraph_ids(q, k=10), q


def test_scored_terms_cover_the_release_prior_and_the_re_ranking(drcd):
    one, _many = drcd
    gen = one._current()

    class Recording(CollectionStats):
        def doc_freq(self, fieldname, text):
            asked.add((fieldname, text))
            return super().doc_freq(fieldname, text)

    for q in queries(DRCD / "queries.jsonl")[:20] + ["市卫生健康委员会 疫情", '"工信局"']:
        pq = one.parse(q)
        terms = scored_terms(pq)
        assert any(f.startswith("release:") for f, _t in terms), q
        asked: set = set()
        stats = gen.stats(terms)
        rank_matches(gen, pq, 10, Work(), Recording(stats.fields, stats.doc_freqs))
        assert asked <= terms, (q, asked - terms)
        assert any(f.startswith("release:") for f, _t in asked), q


def test_a_sharded_reindex_installs_the_synonyms_file_and_skips_it_as_a_release(tmp_path):
    src = tmp_path / "src"
    make_releases(src, 4)
    write_release(src, "data", "数据局", "德州市数据局发布公告。")
    (src / "synonyms.txt").write_text("数据局,大数据中心\n", encoding="utf-8")
    index = tmp_path / "index"
    report = reindex_sharded([src], index, shards=2)
    assert report.releases == 5
    assert (index / "synonyms.txt").read_text(encoding="utf-8") == "数据局,大数据中心\n"
    with open_index(index) as many:
        assert many.search("大数据中心").total == many.search("数据局").total > 0
    with pytest.raises(SearchError):
        reindex_sharded([src], index, synonyms=tmp_path / "missing.txt")
