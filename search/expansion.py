"""The synonym expansion step after parsing: a parsed query's units get their synonyms
(:mod:`search.synonyms`) as alternatives, its ``speaker:`` / ``org:`` filter values and its
``speaker`` / ``org`` parameters every member of their group."""

from __future__ import annotations

from .lexicon import Lexicon
from .query import ParsedQuery, _limit_checks, _unit
from .synonyms import Synonyms

#: Filters whose values are expanded like words.
FILTER_FIELDS = ("speaker", "org")


def expand(query: ParsedQuery, synonyms: Synonyms | None, lexicon: Lexicon) -> ParsedQuery:
    """``query`` with the synonyms of its units added as alternatives of their clause and its
    ``speaker:`` / ``org:`` filter values and parameters expanded (in place; returned for
    convenience)."""
    if not synonyms:
        return query
    for clause in query.clauses:
        extra = []
        seen = {"".join(u.folded.split()) for u in clause.units}
        for unit in clause.units:
            for text in synonyms.variants(unit.text):
                if text in seen:
                    continue
                seen.add(text)
                alternative = _unit(text, unit.phrase, lexicon)
                if alternative is not None:
                    extra.append(alternative)
        clause.units.extend(extra)
    for filters in (query.filters, query.exclude):
        for name in FILTER_FIELDS:
            values = filters.get(name)
            if values:
                expanded = [v for value in values for v in [value] + synonyms.variants(value)]
                filters[name] = list(dict.fromkeys(expanded))
    # The speaker / org parameters (search(speaker=..., org=...), the API's and the CLI's)
    # as their filters: every member of the value's group.
    query.params = [(name, _alternatives(value, synonyms))
                    if name in FILTER_FIELDS and isinstance(value, str) else (name, value)
                    for name, value in query.params]
    _limit_checks(query)
    return query


def _alternatives(value: str, synonyms: Synonyms) -> str | list[str]:
    """``value`` and its variants (a list), or ``value`` alone if it has none."""
    variants = synonyms.variants(value)
    return list(dict.fromkeys([value] + variants)) if variants else value
