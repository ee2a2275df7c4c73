"""Synonyms at query time (search.synonyms, search.expansion): the built-in agency groups, the
user's file overriding them, and on the sample release (seeds/) the two forms of 工信局 finding
and highlighting each other, in words, phrases, exclusions and filters."""

from __future__ import annotations

import os
import re

import pytest

from search import build_index, open_index
from search.errors import SourceError
from search.expansion import expand
from search.lexicon import Lexicon
from search.query import parse_query
from search.script import fold
from search.synonyms import Synonyms, builtin_groups, parse_groups

from conftest import SAMPLE_ID, SEEDS

#: How an agency's full name ends (the level: ministry, provincial 厅, city and county 局, 委...).
SUFFIXES = ("部", "厅", "局", "委员会", "委", "办公室", "署", "中心", "会议", "联合会", "协会")


def is_subsequence(short: str, full: str) -> bool:
    chars = iter(full)
    return all(c in chars for c in short)


def test_builtin_groups_are_abbreviations_of_their_full_names():
    groups = builtin_groups()
    assert len(groups) >= 60
    seen: set[str] = set()
    for group in groups:
        assert len(group) >= 2, group
        longest = max(len(m) for m in group)
        full = [m for m in group if len(m) == longest]
        assert all(m.endswith(SUFFIXES) for m in full), group
        for member in group:
            # an abbreviation keeps characters of the full name, in order
            assert any(is_subsequence(member, f) for f in full), (member, group)
            assert member not in seen, member  # in one group only
            seen.add(member)
    for short, name in [("国新办", "国务院新闻办公室"), ("发改委", "发展和改革委员会"),
                        ("工信部", "工业和信息化部"), ("工信厅", "工业和信息化厅"),
                        ("工信局", "工业和信息化局"), ("人社局", "人力资源和社会保障局"),
                        ("卫健委", "卫生健康委员会"), ("市场监管局", "市场监督管理局"),
                        ("环保局", "生态环境局"), ("住建局", "住房和城乡建设局"),
                        ("交通局", "交通运输局"), ("应急局", "应急管理局"),
                        ("国统局", "国家统计局")]:
        assert any(short in g and name in g for g in groups), (short, name)


def test_user_groups_override_builtin_ones(tmp_path):
    path = tmp_path / "synonyms.txt"
    path.write_text("# ours\n工信局，工信委\n\n发改委\n田汝勇, 田局长\n", encoding="utf-8")
    synonyms = Synonyms.load(path)
    assert synonyms.group("工信局") == ["工信局", "工信委"]  # replaces the built-in group
    assert synonyms.group("工业和信息化局") == ["工业和信息化局"]  # that group is gone
    assert synonyms.group("发改委") == ["发改委"]  # a group of one word removes it
    assert synonyms.group("發展和改革委員會") == ["发展和改革委员会"]
    assert synonyms.group("田局长") == ["田汝勇", "田局长"]
    assert synonyms.group("卫健委") == ["卫健委", "卫生健康委", "卫生健康委员会"]
    assert len(synonyms) == len(builtin_groups()) - 2 + 2
    assert len(Synonyms.load(path, builtin=False)) == 2
    with pytest.raises(SourceError, match="may not contain spaces"):
        parse_groups("a b,c")
    path.write_bytes("工信局,工信委".encode("gbk"))
    with pytest.raises(SourceError, match="not UTF-8"):
        Synonyms.load(path)


def test_variants_replace_the_longest_member():
    synonyms = Synonyms([["市工信局", "市工业和信息化局", "工信局"], ["国台办", "国务院台湾事务办公室"],
                         ["台办", "台湾事务办公室"]])
    assert synonyms.variants("德州市工信局") == ["德州市工业和信息化局", "德州工信局"]
    assert synonyms.variants("國台辦發言人") == ["国务院台湾事务办公室发言人"]
    assert synonyms.variants("商务局") == []


def test_expansion_adds_alternatives_in_the_same_clause():
    synonyms = Synonyms.load()
    lexicon = Lexicon()
    pq = expand(parse_query('"工业和信息化局" 保障 -发改委 speaker:x', lexicon), synonyms, lexicon)
    phrase, words, excluded = pq.clauses
    assert [(u.text, u.phrase) for u in phrase.units] == [("工业和信息化局", True), ("工信局", True)]
    assert [u.text for u in words.units] == ["保障"]
    assert excluded.negated
    assert [u.text for u in excluded.units] == ["发改委", "发展改革委", "发展改革委员会", "发展和改革委员会"]
    assert pq.filters == {"speaker": ["x"]}
    assert expand(parse_query("工信局", lexicon), None, lexicon).clauses[0].units[0].text == "工信局"


# -- on the sample release ------------------------------------------------------------------


def paragraphs_with(ix, *forms: str) -> list[int]:
    return [p.number for p in ix.document(SAMPLE_ID).paragraphs
            if any(f in fold(p.text) for f in forms)]


def marked(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


def covered(ix, text: str, query: str, form: str) -> bool:
    """Every occurrence of ``form`` in ``text`` lies inside a highlighted span."""
    spans = ix.highlighter(query).spans(text)
    folded = fold(text)
    starts = [m.start() for m in re.finditer(re.escape(form), folded)]
    return bool(starts) and all(
        any(s <= i and i + len(form) <= e for s, e in spans) for i in starts)


def test_full_name_finds_and_marks_the_abbreviation(sample_ix):
    short = paragraphs_with(sample_ix, "工信局")
    full = paragraphs_with(sample_ix, "工业和信息化局")
    assert short == [2, 13, 14, 15] and full == [14]
    result = sample_ix.search("工业和信息化局", per_page=100)
    by_number = {h.paragraph: h for h in result.hits}
    assert set(short) <= set(by_number)
    texts = {p.number: p.text for p in sample_ix.document(SAMPLE_ID).paragraphs}
    for number in short:
        assert covered(sample_ix, texts[number], "工业和信息化局", "工信局"), number
    assert covered(sample_ix, texts[14], "工业和信息化局", "工业和信息化局")
    assert "工信局" in marked(sample_ix.highlight(texts[13], "工业和信息化局"))
    # a quoted phrase holds either form, and nothing else
    phrase = sample_ix.search('"工业和信息化局"', per_page=100)
    assert sorted(h.paragraph for h in phrase.hits) == sorted(set(short) | set(full))


def test_abbreviation_finds_and_marks_the_full_name(sample_ix):
    texts = {p.number: p.text for p in sample_ix.document(SAMPLE_ID).paragraphs}
    result = sample_ix.search("市工信局", per_page=100)
    numbers = [h.paragraph for h in result.hits]
    assert 14 in numbers
    # paragraph 14 says both 市工信局 and 德州市工业和信息化局: both marked
    spans = sample_ix.highlighter("市工信局").spans(texts[14])
    start = fold(texts[14]).index("市工业和信息化局")
    assert any(s <= start and start + 8 <= e for s, e in spans)
    assert covered(sample_ix, texts[14], "市工信局", "市工信局")
    phrase = sample_ix.search('"市工业和信息化局"', per_page=100)
    assert sorted(h.paragraph for h in phrase.hits) == paragraphs_with(
        sample_ix, "市工信局", "市工业和信息化局")
    hit = next(h for h in phrase.hits if h.paragraph == 13)
    assert "工信局" in "".join(marked(hit.snippet))


def test_exclusion_and_or_honour_synonyms(sample_ix):
    short = paragraphs_with(sample_ix, "工信局", "工业和信息化局")
    everything = sample_ix.search("疫情", per_page=100)
    left = sample_ix.search("疫情 -工业和信息化局", per_page=100)
    assert {h.paragraph for h in left.hits} == {h.paragraph for h in everything.hits} - set(short)
    either = sample_ix.search('"工业和信息化局" OR "商务局"', per_page=100)
    assert sorted(h.paragraph for h in either.hits) == paragraphs_with(
        sample_ix, "工信局", "工业和信息化局", "商务局")


def test_user_file_in_the_index_directory_needs_no_reindex(tmp_path):
    index = tmp_path / "index"
    build_index([SEEDS], index)
    with open_index(index, reload_interval=0) as ix:
        answers = [p.number for p in ix.document(SAMPLE_ID).paragraphs if p.speaker == "田汝勇"]
        assert ix.search("speaker:田局长", per_page=100).total == 0
        (index / "synonyms.txt").write_text("田汝勇,田局长\n", encoding="utf-8")
        hits = ix.search("speaker:田局长 工业", per_page=100).hits
        assert hits and {h.paragraph for h in hits} <= set(answers)
        assert all(h.speaker == "田汝勇" for h in hits)
        # changed again: the group is gone (and the built-in ones are still there)
        (index / "synonyms.txt").write_text("田汝勇\n", encoding="utf-8")
        st = os.stat(index / "synonyms.txt")
        os.utime(index / "synonyms.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        assert ix.search("speaker:田局长", per_page=100).total == 0
        assert ix.search('"工业和信息化局"').total == len(paragraphs_with(ix, "工信局", "工业和信息化局"))


def test_reindex_installs_the_synonyms_file_and_search_reads_a_path(tmp_path, runner):
    from search.cli import main

    source = tmp_path / "src"
    source.mkdir()
    (source / "r.txt").write_text("标题\n德州市数据局发布公告。\n", encoding="utf-8")
    (source / "synonyms.txt").write_text("数据局,大数据中心\n", encoding="utf-8")
    index = tmp_path / "index"
    result = runner.invoke(main, ["reindex", str(source), "--index-dir", str(index), "--json"])
    assert result.exit_code == 0, result.output
    assert (index / "synonyms.txt").read_text(encoding="utf-8") == "数据局,大数据中心\n"
    with open_index(index) as ix:
        assert ix.stats().releases == 1  # synonyms.txt is not a release
        assert ix.search("大数据中心").total == 1
    other = tmp_path / "other.txt"
    other.write_text("数据局,信息港\n", encoding="utf-8")
    result = runner.invoke(main, ["search", "信息港", "--index-dir", str(index), "--synonyms",
                                  str(other), "--json"])
    assert result.exit_code == 0, result.output
    assert '"total": 1' in result.output
    result = runner.invoke(main, ["reindex", str(source), "--index-dir", str(index),
                                  "--synonyms", str(tmp_path / "missing.txt")])
    assert result.exit_code == 1 and "missing.txt: synonyms file not found" in result.output


def test_web_app_reads_the_configured_synonyms_file(sample_index, tmp_path):
    from web import create_app

    path = tmp_path / "ours.txt"
    path.write_text("工信局,信息港\n", encoding="utf-8")
    client = create_app({"INDEX_DIR": str(sample_index), "SYNONYMS": str(path),
                         "TESTING": True}).test_client()
    data = client.get("/api/search", query_string={"q": '"信息港"', "per_page": 100}).get_json()
    with open_index(sample_index) as ix:
        expected = paragraphs_with(ix, "工信局")
    assert sorted(h["paragraph"] for h in data["hits"]) == expected
    assert all("<mark>工信局</mark>" in h["snippet"] for h in data["hits"])
    # without it, the index directory's (none) and the built-in groups: no match
    plain = create_app({"INDEX_DIR": str(sample_index), "TESTING": True}).test_client()
    assert plain.get("/api/search", query_string={"q": '"信息港"'}).get_json()["total"] == 0


# -- the organisation and speaker filters, as query filters and as parameters ---------------

ARCHIVE = SEEDS.parent / "tests" / "data" / "archive" / "releases"


@pytest.fixture(scope="module")
def archive_ix(tmp_path_factory):
    index = tmp_path_factory.mktemp("archive") / "index"
    build_index([ARCHIVE], index)
    with open_index(index) as ix:
        yield ix


def hit_keys(result) -> list[tuple[str, int]]:
    return [(h.doc_id, h.paragraph) for h in result.hits]


def test_org_filters_and_parameters_honour_synonyms(archive_ix):
    short = archive_ix.search("", org="市卫健委", per_page=100)
    assert short.total and {h.organization for h in short.hits} == {"市卫健委"}
    for full in ("市卫生健康委员会", "市卫生健康委"):
        assert hit_keys(archive_ix.search("", org=full, per_page=100)) == hit_keys(short)
        assert hit_keys(archive_ix.search(f"org:{full}", per_page=100)) == hit_keys(short)
    everything = archive_ix.search("核酸检测", per_page=100)
    left = archive_ix.search("核酸检测 -org:市卫生健康委员会", per_page=100)
    assert set(hit_keys(left)) == {(h.doc_id, h.paragraph) for h in everything.hits
                                   if h.organization != "市卫健委"}
    # a value without synonyms matches itself alone
    assert {h.organization for h in archive_ix.search("", org="市商务局", per_page=100).hits} == {
        "市商务局"}


def test_org_parameter_through_the_api_and_the_cli(archive_ix, runner):
    from search.cli import main
    from web import create_app

    expected = archive_ix.search("", org="市卫健委", per_page=100).total
    client = create_app({"INDEX_DIR": str(archive_ix.index_dir), "TESTING": True}).test_client()
    data = client.get("/api/search", query_string={"q": "", "org": "市卫生健康委员会"}).get_json()
    assert data["total"] == expected
    result = runner.invoke(main, ["search", "", "--index-dir", str(archive_ix.index_dir),
                                  "--org", "市卫生健康委员会", "--json"])
    assert result.exit_code == 0, result.output
    assert f'"total": {expected}' in result.output


def test_speaker_parameter_honours_the_users_synonyms(tmp_path):
    index = tmp_path / "index"
    build_index([SEEDS], index)
    (index / "synonyms.txt").write_text("田汝勇,田局长\n", encoding="utf-8")
    with open_index(index) as ix:
        by_name = ix.search("", speaker="田汝勇", per_page=100)
        assert by_name.total and {h.speaker for h in by_name.hits} == {"田汝勇"}
        assert hit_keys(ix.search("", speaker="田局长", per_page=100)) == hit_keys(by_name)
