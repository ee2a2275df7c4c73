"""The query language: plain words, "phrases", -exclusion, OR, and field filters.

``parse_query`` never raises: anything it does not understand is read as plain words (an unbalanced
quote is dropped, an unknown ``field:`` stays part of the word, a lone ``-`` or ``OR`` is ignored).

A quoted phrase, and an excluded word or phrase, of more than one bigram is checked on the
paragraphs' text (the index keeps no positions), which costs work per candidate paragraph; a
query gets at most :data:`MAX_PHRASES` such checks, in the order it is written. Past them, a
quoted phrase is read as plain words (its words must occur, not necessarily in a row) and an
excluded one excludes every paragraph holding all its bigrams, in a row or not
(:attr:`Unit.by_words`).

Grammar, informally::

    query   := clause (WS clause)*
    clause  := ['-'] unit ('OR' unit)*        # OR binds two neighbouring clauses
    unit    := '"' text '"' | '“' text '”' | word
    filter  := ('section' | 'speaker' | 'doc' | 'publisher' | 'org' | 'date') ':' (word | '"' text '"')
    date    := D | D '..' D | D '..' | '..' D    # D: YYYY-MM-DD, YYYY-MM or YYYY, inclusive

A ``date:`` value that is not a date or a range (or a range ending before it starts) is read as
plain words, like a ``section:`` that names no section. A filter of a field given several times
allows any of its values; ``-field:value`` excludes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .analysis import bigrams, query_words
from .lexicon import Lexicon
from .script import fold, is_cjk
from .models import SECTION_LABELS, SECTIONS
from .params import day_range

#: The fields a query may filter on (``section:answer``, ``speaker:田汝勇``, ``doc:<id>``,
#: ``publisher:德州新闻网``, ``org:市商务局``, ``date:2022-03``).
FILTER_FIELDS = ("section", "speaker", "doc", "publisher", "org", "date")
#: Most phrases (and excluded words) of a query checked on the text; see the module docstring.
MAX_PHRASES = 8

#: Chinese names accepted for sections in ``section:`` filters: the labels, and 问 / 答.
SECTION_ALIASES = {label: name for name, label in SECTION_LABELS.items()} | {
    "问": "question", "答": "answer"}

#: Function words and question words: low-value terms, never a match on their own.
LOW_VALUE = frozenset(["的", "地", "得", "了", "着", "过", "是", "在", "和", "与", "及", "或", "而", "并", "且", "吗", "呢", "吧", "啊", "呀", "么", "嘛", "之", "其", "也", "都", "就", "还", "又", "所", "该", "此", "这", "那", "这个", "那个", "这些", "那些", "这里", "那里", "这样", "那样", "有", "被", "把", "由", "于", "对", "从", "以", "为", "将", "向", "给", "让", "使", "等", "个", "位", "种", "什么", "啥", "哪", "哪个", "哪些", "哪里", "哪儿", "哪位", "哪一", "哪年", "哪天", "哪国", "谁", "何", "何时", "何地", "几", "几个", "多少", "怎么", "怎样", "怎么样", "如何", "为什么", "为何", "是否", "是不是", "有没有", "多", "多久", "多大", "多长", "时候", "时", "一个", "一种", "他", "她", "它", "他们", "她们", "它们", "我", "你", "您", "我们", "你们", "自己", "曾", "已", "已经", "会", "能", "可以", "要", "应", "叫", "称", "称为", "叫做", "指", "属于", "哪种", "哪部", "第几"])

#: Question words (LOW_VALUE's, and 何处; with them every word holding QUESTION_CHARS): in a
#: question typed as a sentence they say what is asked, not what the answer's paragraph holds,
#: so the query bigrams over them are not scored (:func:`search.scoring.question_grams`).
QUESTION_WORDS = frozenset(["什么", "啥", "哪", "哪个", "哪些", "哪里", "哪儿", "哪位", "哪一", "哪年", "哪天", "哪国", "哪种", "哪部", "谁", "何", "何时", "何地", "何处", "几", "几个", "第几", "多少", "怎么", "怎样", "怎么样", "如何", "为什么", "为何", "是否", "是不是", "有没有", "多久", "多大", "多长"])
#: Characters that make any word holding them a question word (``哪一部``, ``什么样``).
QUESTION_CHARS = frozenset("什哪谁怎啥")

_LEX_RE = re.compile(rf'(-)?(?:({"|".join(FILTER_FIELDS)}):)?(?:"([^"]*)"|“([^”]*)”|(\S+))')
_QUOTES = '"“”'


@dataclass
class Unit:
    """A word or phrase of the query, analysed."""

    text: str  # as typed (quotes removed)
    phrase: bool
    folded: str = ""
    words: list[str] = field(default_factory=list)  # jieba words of the unit (folded)
    grams: list[str] = field(default_factory=list)  # bigram-field tokens
    #: Past MAX_PHRASES: matched by its words and bigrams, not checked on the text.
    by_words: bool = False

    @property
    def concepts(self) -> list[str]:
        """Words that must be present for the unit to count as matched.

        Low-value words and single characters split off a longer word do not count (unless
        nothing else is left).
        """
        content = [w for w in self.words if w not in LOW_VALUE and not self.is_stray(w)]
        if content:
            return content
        return [w for w in self.words if not self.is_stray(w)] or list(self.words)

    def is_stray(self, word: str) -> bool:
        """A single character split off a longer word (``链`` in ``区块链技术``)."""
        return len(word) == 1 and is_cjk(word) and len(self.words) > 1


@dataclass
class Clause:
    units: list[Unit]  # alternatives joined by OR
    negated: bool = False


@dataclass
class ParsedQuery:
    text: str
    clauses: list[Clause] = field(default_factory=list)
    # field -> any of values; a date's value is its range of days, "yyyymmdd..yyyymmdd"
    filters: dict[str, list[str]] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)  # -field:value
    # Filters given as parameters (API, CLI options): each one must hold; a value expanded
    # with synonyms is the list of its alternatives (any of them).
    params: list[tuple[str, str | list[str]]] = field(default_factory=list)
    #: The order asked for (:data:`search.params.SORTS`).
    sort: str = "relevance"

    @property
    def positive(self) -> list[Clause]:
        return [c for c in self.clauses if not c.negated]

    @property
    def negative(self) -> list[Clause]:
        return [c for c in self.clauses if c.negated]


def _unit(text: str, phrase: bool, lexicon: Lexicon) -> Unit | None:
    text = text.strip()
    if not text:
        return None
    words = [w for w, _s, _e in query_words(text, lexicon)]
    grams = bigrams(text)
    if not words and not grams:
        return None
    return Unit(text=text, phrase=phrase, folded=fold(text), words=words, grams=grams)


def parse_query(text: str, lexicon: Lexicon | None = None) -> ParsedQuery:
    """Parse ``text`` into clauses and filters; never raises."""
    lexicon = lexicon or Lexicon()
    parsed = ParsedQuery(text=text)
    pending_or = False
    for m in _LEX_RE.finditer(text):
        neg, fname, dq, cq, bare = m.groups()
        quoted = dq if dq is not None else cq
        if fname:
            value = quoted if quoted is not None else (bare or "")
            value = value.strip().strip(_QUOTES)
            if fname == "section":
                value = SECTION_ALIASES.get(value, value.lower())
                if value not in SECTIONS:
                    # Not a filter we know: read it as plain words.
                    fname, bare, quoted = None, f"section:{value}", None
            elif fname == "date":
                days = day_range(value)
                if days is None:  # not a date: plain words, as typed
                    fname, bare, quoted = None, m.group()[len(neg or ""):], None
                else:
                    value = f"{days[0]}..{days[1]}"
            if fname and value:
                target = parsed.exclude if neg else parsed.filters
                target.setdefault(fname, []).append(value)
                continue
            if fname:
                continue
        if quoted is None and bare is not None:
            if bare == "OR" or bare == "|":
                pending_or = bool(parsed.clauses)
                continue
            if bare == "-":
                continue
            bare = bare.strip(_QUOTES)
        phrase = quoted is not None
        unit = _unit(quoted if phrase else (bare or ""), phrase, lexicon)
        if unit is None:
            continue
        negated = bool(neg)
        if pending_or and not negated and not parsed.clauses[-1].negated:
            parsed.clauses[-1].units.append(unit)
        else:
            parsed.clauses.append(Clause(units=[unit], negated=negated))
        pending_or = False
    _limit_checks(parsed)
    return parsed


def _limit_checks(parsed: ParsedQuery) -> None:
    """Past the first MAX_PHRASES checks, read phrases and exclusions by their words."""
    checks = 0
    for clause in parsed.clauses:
        for unit in clause.units:
            if len(unit.grams) > 1 and (unit.phrase or clause.negated):
                checks += 1
                if checks > MAX_PHRASES:
                    unit.by_words = True  # still required: all its bigrams, in any order
