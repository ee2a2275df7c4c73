"""Property tests (Hypothesis) that complement test_analysis.py, test_repair.py and test_searcher.py.

Those files check the properties over small hand-picked alphabets; here the inputs are wider:

* repair: restoration, annotation stripping and script conversion are separate steps, each with its
  own exact count, and a restored character always has the lost reading (nothing is invented);
* analysis: token offsets slice the displayed text for ANY Unicode text, and a traditional text
  gives the simplified text's token stream over the whole vocabulary of the sample release;
* queries: any string parses, and ``Index.search`` answers any string (``QueryError`` only when it
  is over-long), with snippets that hold no markup but ``<mark>``; a section parameter only narrows
  the hits; query syntax and punctuation without words change no result;
* highlighting: ``Index.highlight`` is exactly the escaped text with ``<mark>`` around matches.
"""

from __future__ import annotations

import functools
import html
import re
import string
import unicodedata

import opencc
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pypinyin import Style, pinyin

from search import MAX_QUERY_LENGTH, QueryError
from search.analysis import BigramAnalyzer, WordAnalyzer, tokens_with_offsets
from search.query import parse_query
from search.repair import repair_text, restore_lost_characters, strip_annotations
from search.script import fold, to_simplified

from conftest import SEEDS

FIXTURE_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]

# ----------------------------------------------------------------------------- repair

#: Traditional characters of the artifact, their simplified form and (toned) reading.
TRADITIONAL = {"統": ("统", "tǒng"), "籌": ("筹", "chóu"), "經": ("经", "jīng"), "濟": ("济", "jì"),
               "運": ("运", "yùn"), "會": ("会", "huì"), "檢": ("检", "jiǎn"), "測": ("测", "cè"),
               "發": ("发", "fā"), "產": ("产", "chǎn"), "業": ("业", "yè"), "關": ("关", "guān")}
#: Characters that are the same in both scripts.
SHARED = "疫情防控和工作第十三场新闻布市副长通报最进展况相负责人就社注问题答记者核酸结果均为阴性"
#: ASCII that never forms an annotation (no letters, no parentheses) and that the repair leaves
#: (no punctuation it would make Chinese).
NOISE = string.digits + " .-"


@st.composite
def artifact_texts(draw: st.DrawFn) -> tuple[str, str, str, int, int]:
    """(text as the broken converter wrote it, the same without annotations, its simplified
    original, annotations, converted chars)."""
    raw: list[str] = []
    bare: list[str] = []
    clean: list[str] = []
    annotations = converted = 0
    for _ in range(draw(st.integers(2, 40))):
        kind = draw(st.sampled_from(["traditional", "traditional", "shared", "noise"]))
        if kind == "traditional":
            trad = draw(st.sampled_from(sorted(TRADITIONAL)))
            simp, reading = TRADITIONAL[trad]
            annotated = draw(st.booleans())
            raw.append(trad + (f"({reading})" if annotated else ""))
            bare.append(trad)
            clean.append(simp)
            annotations += annotated
            converted += 1
        elif kind == "shared":
            ch = draw(st.sampled_from(SHARED))
            raw.append(ch)
            bare.append(ch)
            clean.append(ch)
        else:
            piece = draw(st.text(alphabet=NOISE, min_size=1, max_size=4))
            raw.append(piece)
            bare.append(piece)
            clean.append(piece)
    assume(annotations >= 2)  # the artifact is recognised from two annotations on
    return "".join(raw), "".join(bare), "".join(clean), annotations, converted


@settings(max_examples=300, deadline=None)
@given(artifact_texts())
def test_repair_counts_stripping_and_conversion_separately(case: tuple[str, str, str, int, int]) -> None:
    text, bare, original, annotations, converted = case
    result = repair_text(text)
    assert result.annotated
    assert result.text == original
    # annotations removed and characters converted are counted apart: a traditional character
    # without annotation is converted but not stripped
    assert result.counts == {"annotations": annotations, "script": converted}
    assert strip_annotations(text) == (bare, annotations)
    assert to_simplified(bare) == original
    assert restore_lost_characters(text) == (text, 0)  # nothing was lost: nothing restored


@functools.lru_cache(maxsize=None)
def _readings(ch: str) -> frozenset[str]:
    return frozenset(unicodedata.normalize("NFC", r) for r in pinyin(ch, style=Style.TONE, heteronym=True)[0])


#: Words of the sample whose characters can be lost: (left context, lost char, right context).
LOST_CONTEXTS = [("在", "当", "前"), ("统", "筹", "疫情"), ("新闻", "发", "布会"), ("核", "酸", "检测"),
                 ("外", "贸", "企业"), ("复工", "复", "产"), ("冷", "链", "物流"), ("疫情", "防", "控")]


@st.composite
def lost_texts(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """Text with characters lost as ``?reading)``; returns it with (marker, lost char) pairs."""
    parts: list[str] = []
    markers: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(1, 6))):
        left, lost, right = draw(st.sampled_from(LOST_CONTEXTS))
        reading = draw(st.sampled_from(sorted(_readings(lost))))
        marker = f"?{reading})"
        parts += [left, marker, right, draw(st.sampled_from(["", "。", ",", " "]))]
        markers.append((marker, lost))
    return "".join(parts), markers


@settings(max_examples=200, deadline=None)
@given(lost_texts())
def test_restoration_only_fills_lost_characters_with_their_reading(case) -> None:
    text, markers = case
    restored_text, restored = restore_lost_characters(text)
    # Everything but the markers is kept; each marker is kept as it is or becomes ONE character
    # that has the lost reading.
    pattern = ""
    pos = 0
    for marker, _lost in markers:
        start = text.index(marker, pos)
        pattern += re.escape(text[pos:start]) + f"(?:({re.escape(marker)})|(.))"
        pos = start + len(marker)
    pattern += re.escape(text[pos:])
    m = re.fullmatch(pattern, restored_text, re.S)
    assert m is not None, (text, restored_text)
    filled = []
    for i, (marker, _lost) in enumerate(markers):
        char = m.group(2 * i + 2)
        if char is not None:
            assert marker[1:-1] in _readings(char), (marker, char)
            filled.append(char)
    assert restored == len(filled)
    # In an annotated text, restoration is its own counted step of repair_text (the full stop
    # keeps the appended annotations out of the markers' context): each marker is restored or
    # flagged, never left unaccounted for.
    result = repair_text(text + "。統(tǒng)籌(chóu)")
    assert result.counts.get("restored", 0) + result.counts.get("unrepaired_lost", 0) == len(markers)
    assert result.counts["annotations"] == 2


def test_restoration_example() -> None:
    assert restore_lost_characters("在?dāng)前") == ("在当前", 1)


# --------------------------------------------------------------------------- analysis


def _assert_offsets_slice(analyzer, text: str, mode: str) -> None:
    folded = fold(text)
    assert len(folded) == len(text)
    for t in tokens_with_offsets(analyzer, text, mode=mode):
        assert 0 <= t.startchar < t.endchar <= len(text)
        assert t.text == folded[t.startchar:t.endchar], (text, t.text, t.startchar, t.endchar)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_offsets_slice_the_source_for_any_unicode_text(text: str) -> None:
    for analyzer in (WordAnalyzer(), BigramAnalyzer()):
        for mode in ("index", "query"):
            _assert_offsets_slice(analyzer, text, mode)


@functools.lru_cache(maxsize=None)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@functools.lru_cache(maxsize=1)
def _round_trip_vocabulary() -> str:
    """CJK characters of the repaired sample whose s2t form is one character that t2s maps back."""
    text = repair_text((SEEDS / "dezhou-press-conference-13.txt").read_text(encoding="utf-8")).text
    s2t, t2s = _converter("s2t"), _converter("t2s")
    chars = sorted({c for c in text if "\u4e00" <= c <= "\u9fff"})
    return "".join(c for c in chars if len(s2t.convert(c)) == 1 and t2s.convert(s2t.convert(c)) == c)


def _stream(analyzer, text: str, mode: str) -> list[tuple[str, int, int, int]]:
    return [(t.text, t.pos, t.startchar, t.endchar) for t in tokens_with_offsets(analyzer, text, mode=mode)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_traditional_text_gives_the_simplified_token_stream(data) -> None:
    vocabulary = _round_trip_vocabulary()
    assert len(vocabulary) > 400  # the sample's vocabulary, not a toy alphabet
    text = data.draw(st.text(alphabet=st.sampled_from(vocabulary + "，。、 0123"), max_size=40))
    traditional = "".join(_converter("s2t").convert(c) for c in text)  # character by character
    assert fold(traditional) == fold(text)
    for analyzer in (WordAnalyzer(), BigramAnalyzer()):
        for mode in ("index", "query"):
            assert _stream(analyzer, traditional, mode) == _stream(analyzer, text, mode)


# ---------------------------------------------------------------------------- queries

QUERY_SYNTAX = st.sampled_from(['"', "“", "”", "-", " OR ", " | ", "section:", "speaker:", "doc:", "section:answer",
                                "(", ")", "*", "?", "~", "^", ":", "\\", "<mark>", "</mark>", "&amp;", "统筹",
                                "核酸檢測", "疫情", "田汝勇", " ", "\u3000", "\x00", "\u200b", "𠀀", "😀"])
ANY_QUERY = st.lists(st.one_of(QUERY_SYNTAX, st.text(max_size=8)), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200), ANY_QUERY))
def test_any_string_parses(query: str) -> None:
    assert parse_query(query).text == query


#: Query syntax and punctuation that hold no word to search (each one a whole clause).
NO_WORDS = st.sampled_from(['""', '"，"', "“。”", '-"、"', "-“”", "，", "。", "、", "！", "？", "…",
                            "《》", "（）", "——", "·", "-", "OR", "|", "\u3000", "😀", "~", "*", "(",
                            ")", "^", "\\", "@", "#"])


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.sampled_from(["核酸", "统筹 疫情", '"疫情防控"', "外贸企业 OR 冷链", "-冷链 核酸检测",
                        "section:answer 企业"]),
       st.lists(NO_WORDS, max_size=4), st.lists(NO_WORDS, max_size=4))
def test_syntax_without_words_changes_no_result(sample_ix, query: str, before: list[str],
                                                after: list[str]) -> None:
    expected = sample_ix.search(query, per_page=100)
    assert expected.total
    result = sample_ix.search(" ".join([*before, query, *after]), per_page=100)
    assert (result.total, result.hits) == (expected.total, expected.hits)


def _assert_only_mark(fragment: str) -> str:
    """``fragment`` without its ``<mark>`` tags and unescaped, after checking it has no other markup."""
    bare = re.sub(r"</?mark>", "", fragment)
    assert "<" not in bare and ">" not in bare and '"' not in bare, fragment
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27);)", bare), fragment
    return html.unescape(bare)


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.one_of(st.text(max_size=60), ANY_QUERY, st.text(min_size=MAX_QUERY_LENGTH - 2, max_size=MAX_QUERY_LENGTH + 3)),
       st.sampled_from([None, "body", "answer", "question"]))
def test_index_search_answers_any_string(sample_ix, query: str, section: str | None) -> None:
    if len(query) > MAX_QUERY_LENGTH:
        with pytest.raises(QueryError, match=f"q must be at most {MAX_QUERY_LENGTH} characters"):
            sample_ix.search(query)
        return
    result = sample_ix.search(query, per_page=100, section=section)
    assert result.query == query
    assert result.total == len(result.hits)  # the sample has 31 paragraphs: one page holds all
    for hit in result.hits:
        shown = _assert_only_mark(hit.snippet)
        assert shown.strip("…") in hit.text
    if section is not None:
        # The parameter narrows the hits to its section and loses none of the query's there
        # (a query with nothing to rank lists the section instead).
        assert {h.section for h in result.hits} <= {section}
        unfiltered = sample_ix.search(query, per_page=100)
        assert ({(h.doc_id, h.paragraph) for h in unfiltered.hits if h.section == section}
                <= {(h.doc_id, h.paragraph) for h in result.hits})


@settings(max_examples=200, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.text(max_size=300), st.one_of(st.text(max_size=30), ANY_QUERY))
def test_highlight_is_the_escaped_text_with_marks(sample_ix, text: str, query: str) -> None:
    out = sample_ix.highlight(text, query)
    assert _assert_only_mark(out) == text
    assert "<mark></mark>" not in out and "<mark><mark>" not in out


def test_highlight_marks_a_traditional_match_in_place(sample_ix) -> None:
    assert sample_ix.highlight("<b>統籌</b>疫情", "统筹") == "&lt;b&gt;<mark>統籌</mark>&lt;/b&gt;疫情"
