"""search.SearchParams: the one validation of search parameters (Python, CLI and HTTP alike)."""

from __future__ import annotations

import pytest

from search import MAX_DEPTH, MAX_PER_PAGE, MAX_QUERY_LENGTH, QueryError, SearchParams


@pytest.mark.parametrize(("kwargs", "code", "message"), [
    ({"query": 7}, "invalid_query", "q must be a string"),
    ({"query": "x" * (MAX_QUERY_LENGTH + 1)}, "query_too_long", "q must be at most 500 characters"),
    ({"page": 0}, "invalid_page", "page must be at least 1"),
    ({"page": -1}, "invalid_page", "page must be at least 1"),
    ({"page": "2"}, "invalid_page", "page must be a positive integer"),
    ({"page": True}, "invalid_page", "page must be a positive integer"),
    ({"per_page": 0}, "invalid_per_page", "per_page must be at least 1"),
    ({"per_page": MAX_PER_PAGE + 1}, "invalid_per_page", "per_page must be at most 100"),
    ({"page": MAX_DEPTH // 10 + 1, "per_page": 10}, "invalid_page",
     "page is too far: narrow the query instead"),
    ({"section": "nonsense"}, "invalid_section",
     "section must be one of: title, body, question, answer, credits, boilerplate"),
    ({"speaker": "x" * 201}, "invalid_speaker", "speaker must be at most 200 characters"),
    ({"speaker": 3}, "invalid_speaker", "speaker must be a string"),
    ({"doc_id": "../etc"}, "invalid_doc", "doc is not a valid document id"),
    ({"doc_id": ".hidden"}, "invalid_doc", "doc is not a valid document id"),
])
def test_invalid_parameters_name_the_parameter_and_a_code(kwargs, code, message):
    with pytest.raises(QueryError) as caught:
        SearchParams(**kwargs)
    assert (caught.value.code, str(caught.value)) == (code, message)


def test_valid_parameters_are_normalised():
    params = SearchParams("核酸", page=MAX_DEPTH // 10, per_page=10, section="answer",
                          speaker="  田汝勇 ", doc_id=" dezhou-13")
    assert (params.speaker, params.doc_id) == ("田汝勇", "dezhou-13")
    assert params.filters() == {"section": "answer", "speaker": "田汝勇", "doc": "dezhou-13"}
    assert SearchParams(speaker="   ", doc_id="").filters() == {}


def test_the_index_validates_with_the_same_rules(sample_ix):
    with pytest.raises(QueryError) as caught:
        sample_ix.search("核酸", per_page=MAX_PER_PAGE + 1)
    assert (caught.value.code, str(caught.value)) == ("invalid_per_page", "per_page must be at most 100")


def test_every_reader_of_a_query_refuses_a_non_string_with_query_error(sample_ix):
    for call in (lambda: sample_ix.highlight("统筹", None), lambda: sample_ix.ranked_doc_ids(None),
                 lambda: sample_ix.highlighter(7)):
        with pytest.raises(QueryError) as caught:
            call()
        assert (caught.value.code, str(caught.value)) == ("invalid_query", "q must be a string")
    with pytest.raises(QueryError) as caught:
        sample_ix.ranked_doc_ids("统筹", k=0)
    assert (caught.value.code, str(caught.value)) == ("invalid_k", "k must be at least 1")
