"""What each paragraph of a release is, and when the release was published.

:func:`classify_paragraphs` gives every line of a release a section (see
:data:`search.models.SECTIONS`), and each answer its speaker and organisation, following
Chinese government press-conference conventions.  Each line is classified on its
simplified-script form (OpenCC ``t2s``, for classification only) by the first of
:data:`_RULES` that applies:

* ``title`` -- paragraph 1;
* ``boilerplate`` -- a copyright / disclaimer header (``德州新闻网版权与免责声明：``) and the
  enumerated items (①②③...) that follow it, and stand-alone reprint notices;
* ``credits`` -- ``德州日报新媒体出品``, ``记者|杨鸣宇 编辑|王琳``, ``责任编辑：``...;
* ``question`` -- a reporter's question: ``记者：``, ``新华社记者：``, ``问：``...;
* ``answer`` -- a line led by a speaker (``市工信局党组成员、副局长、新闻发言人田汝勇：``, whose
  organisation and name are parsed), and the following paragraphs until the next question,
  heading, credits or boilerplate; a bare name (``汪文斌：``) or ``答：`` right after a question
  also opens an answer;
* ``body`` -- everything else (headings such as ``答记者问`` and the moderator's lines
  included).

:func:`extract_date` finds a release's date in its text; :func:`parse_iso_date` checks a date
given by the source; :func:`extract_publisher` finds who published a release when its credits or
its copyright notice name it.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from search.models import Paragraph
from search.script import CJK_CLASS as _CJK
from search.script import convert_lines

__all__ = ["SECTIONS_VERSION", "classify_paragraphs", "extract_date", "extract_publisher",
           "parse_iso_date"]

#: Changes whenever what this module reads from a release (sections, speakers, dates,
#: publishers) changes: indexes built before are rebuilt.  2: a release's own date, not the
#: first one it mentions.
SECTIONS_VERSION = 2

_COLON = ":："
_SENTENCE_PUNCT = '，。；！？,;!?“”"《》'
# Full-width digits to ASCII, for dates and enumerators.
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

# ------------------------------------------------------------------------ speakers

# Speaker / reporter label: the text before the first colon, short and without sentence
# punctuation.
_MAX_LABEL = 50
_NAME_RE = re.compile(f"[{_CJK}]{{2,4}}|[{_CJK}]{{1,6}}[·•][{_CJK}]{{1,8}}")

_QUESTION_LABEL_RE = re.compile(r"(?:.*记者(?:提问|问)?|问|提问|Q)", re.IGNORECASE)
_ANSWER_LABEL_RE = re.compile(r"(?:答|回答|A)", re.IGNORECASE)
_MODERATOR_RE = re.compile(r"(?:.*主持人|主持)")

# Job titles between an organisation and a speaker's name, longest first so that the
# alternation prefers e.g. 新闻发言人 over 发言人.
_TITLE_WORDS = sorted(
    """
    新闻发言人 发言人 党组书记 党组副书记 党组成员 党委书记 党委副书记 党委委员 党委常委
    党工委书记 党工委副书记 纪检监察组组长 书记 副书记 主任委员 副主任委员 主任 副主任 局长
    副局长 部长 副部长 厅长 副厅长 司长 副司长 处长 副处长 科长 副科长 省长 副省长 市长
    副市长 县长 副县长 区长 副区长 镇长 副镇长 乡长 副乡长 主席 副主席 秘书长 副秘书长 院长
    副院长 所长 副所长 站长 副站长 队长 副队长 支队长 大队长 总队长 校长 副校长 董事长
    总经理 副总经理 总工程师 总经济师 总会计师 总规划师 一级巡视员 二级巡视员 巡视员 副巡视员
    一级调研员 二级调研员 四级调研员 调研员 督察长 常委 首席专家 专家 教授 研究员 主任医师
    副主任医师 负责人 负责同志 组长 副组长 指挥长 副指挥长 社长 馆长 会长 理事长 政委
    """.split(),  # noqa: SIM905
    key=len,
    reverse=True,
)
# 委员 must not match the organisation word 委员会.
_TITLE_RE = re.compile("|".join([*map(re.escape, _TITLE_WORDS), "委员(?!会)"]))
# "据局长介绍：" is reported speech, not a speaker label: a "name" ending in a reporting verb.
_REPORTING_VERB_RE = re.compile(
    r"(?:介绍|表示|指出|强调|透露|认为|解释|回答|答复|谈到|提到|说|称|讲|答)$"
)
_ORG_FILLER_RE = re.compile(r"(?:相关|有关|的)+$")


def _label(simple: str) -> str | None:
    """The text before the first colon when that looks like a speaker label."""
    positions = [i for i in (simple.find(c) for c in _COLON) if i >= 0]
    if not positions:
        return None
    end = min(positions)
    label = simple[:end].strip()
    if not label or end > _MAX_LABEL or any(c in _SENTENCE_PUNCT for c in label):
        return None
    return label


def _parse_speaker(label: str) -> tuple[str | None, str | None] | None:
    """(speaker, organisation) of a "organisation + titles + name" label, or None.

    ``市工信局党组成员、副局长、新闻发言人田汝勇`` gives ``("田汝勇", "市工信局")``; a label
    ending with a title (``市工信局相关负责人``) gives no name.
    """
    titles = list(_TITLE_RE.finditer(label))
    if not titles:
        return None
    organisation = _ORG_FILLER_RE.sub("", label[: titles[0].start()].strip(" 、,，"))
    name = label[titles[-1].end() :].strip(" 、")
    if name and (not _NAME_RE.fullmatch(name) or _REPORTING_VERB_RE.search(name)):
        return None
    return name or None, organisation or None


def _is_name(label: str) -> bool:
    """Whether a label is a bare person's name (``汪文斌``), not reported speech."""
    return _NAME_RE.fullmatch(label) is not None and not _REPORTING_VERB_RE.search(label)


# ------------------------------------------------------------------------- credits

_CREDIT_ROLES = (
    "本报记者|本台记者|本网记者|记者|见习记者|实习记者|实习生|通讯员|责任编辑|值班编辑|"
    "编辑|责编|美编|主编|编审|审核|审校|初审|复审|终审|一审|二审|三审|校对|监制|策划|统筹|"
    "摄影|摄像|图片|剪辑|撰稿|作者|来源|文字|排版|制作|出品人|文|图|视频"
)
# A credit: a role and a separator, then names (or nothing: "责任编辑：").
_CREDIT_MARK_RE = re.compile(rf"(?:{_CREDIT_ROLES})\s*[|｜丨:：/／]")
_CREDIT_NAMES_RE = re.compile(f"[{_CJK}A-Za-z·•\\s、,，]{{0,20}}")
# "(本报记者 张三 通讯员 李四)": roles separated from names by spaces only.
_SPACED_ROLES = frozenset(
    ["本报记者", "本台记者", "记者", "通讯员", "责任编辑", "编辑", "摄影"]
)
_SPACED_NAMES_RE = re.compile(f"[{_CJK}]{{2,4}}(?:[、,，][{_CJK}]{{2,4}})*")
_BRACKETS = " ()（）【】[]"
_PRODUCED_RE = re.compile(r"[^，。；！？,;!:：]{1,40}(?:出品|联合出品|制作|监制)")


def _is_credits(simple: str) -> bool:
    """Whether a line is a credits line (linear time: no nested regex quantifiers)."""
    line = simple.strip(_BRACKETS)
    if _PRODUCED_RE.fullmatch(line):
        return True
    marks = list(_CREDIT_MARK_RE.finditer(line))
    if marks and marks[0].start() == 0:
        ends = [mark.start() for mark in marks[1:]] + [len(line)]
        return all(
            _CREDIT_NAMES_RE.fullmatch(line[mark.end() : end].strip(_BRACKETS))
            for mark, end in zip(marks, ends)
        )
    tokens = line.split()
    return (
        len(tokens) >= 2
        and tokens[0] in _SPACED_ROLES
        and all(t in _SPACED_ROLES or _SPACED_NAMES_RE.fullmatch(t) for t in tokens)
        and tokens[-1] not in _SPACED_ROLES
    )


# --------------------------------------------------------------------- boilerplate

_BOILERPLATE_HEADER_RE = re.compile(
    r"[^，。；！？,;!?]{0,24}(?:版权|免责|著作权)[^，。；！？,;!?]{0,10}(?:声明|说明|条款|公告)\s*[:：]?"
)
_BOILERPLATE_LINE_RE = re.compile(
    r"(?:^\s*(?:版权所有|copyright|©|\(c\))"
    r"|未经.{0,12}(?:授权|许可|同意).{0,12}(?:不得|禁止|严禁|请勿).{0,6}(?:转载|复制|使用)"
    r"|转载请注明|如有侵权|如涉及侵权|联系删除)",
    re.IGNORECASE,
)
_BOILERPLATE_WORDS_RE = re.compile(r"版权|转载|授权|侵权|免责|著作权|声明")
_CIRCLED_RE = re.compile(r"\s*[\u2460-\u2473\u2474-\u2487\u2488-\u249b\u3251-\u325f]")
_NUMBERED_RE = re.compile(r"\s*(?:\d{1,2}\s*[.、．]|[(（]\s*\d{1,2}\s*[)）])")


# ------------------------------------------------------------------------ headings

# Enumerated sub-points inside an answer ("一、", "（二）", "三是", "1.", "第一，"...).
_ENUMERATED_RE = re.compile(
    r"\s*(?:[一二三四五六七八九十]+\s*(?:[、.．是]|要)|[(（]\s*[一二三四五六七八九十\d]+\s*[)）]"
    r"|\d{1,2}\s*[.、．]|第[一二三四五六七八九十]+|[\u2460-\u2473])"
)
_MAX_HEADING = 25


def _is_heading(simple: str) -> bool:
    stripped = simple.strip()
    return (
        len(stripped) <= _MAX_HEADING
        and not any(c in _SENTENCE_PUNCT for c in stripped)
        and stripped[-1] not in _COLON
    )


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class _Line:
    """One line to classify: as written, and simplified (ASCII digits) with its label."""

    text: str
    simple: str
    label: str | None

    def original(self, span: str | None) -> str | None:
        """``span`` (found in :attr:`simple`, which has the same length) in the line's own
        script."""
        if span is None:
            return span
        start = self.simple.find(span)
        return self.text[start : start + len(span)] if start >= 0 else span


#: What a rule decides for a line: (section, speaker, organisation).
_Verdict = tuple[str, str | None, str | None]

#: A rule sees the line and the paragraph before it (all that classification carries from
#: line to line: its section, and its speaker when it is an answer) and returns a verdict,
#: or None when it does not apply.
_Rule = Callable[[_Line, Paragraph], _Verdict | None]


def _boilerplate(line: _Line, previous: Paragraph) -> _Verdict | None:
    s = line.simple
    if _BOILERPLATE_HEADER_RE.fullmatch(s) or _BOILERPLATE_LINE_RE.search(s):
        return "boilerplate", None, None
    if previous.section == "boilerplate" and (
        _CIRCLED_RE.match(s) or _NUMBERED_RE.match(s) or _BOILERPLATE_WORDS_RE.search(s)
    ):
        return "boilerplate", None, None  # an item of the notice above
    return None


def _credits(line: _Line, previous: Paragraph) -> _Verdict | None:
    return ("credits", None, None) if _is_credits(line.simple) else None


def _question(line: _Line, previous: Paragraph) -> _Verdict | None:
    label = line.label
    if (
        label is not None
        and _QUESTION_LABEL_RE.fullmatch(label)
        and not label.startswith("答")  # "答记者问：" is a heading
    ):
        return "question", None, None
    return None


def _moderator(line: _Line, previous: Paragraph) -> _Verdict | None:
    # Before the speaker rule: a moderator's label may hold titles ("新闻办副主任、主持人："),
    # but the moderator answers nothing; the line is body and ends the answer before it.
    if line.label is not None and _MODERATOR_RE.fullmatch(line.label):
        return "body", None, None
    return None


def _speaker(line: _Line, previous: Paragraph) -> _Verdict | None:
    found = _parse_speaker(line.label) if line.label is not None else None
    if found is None:
        return None
    return "answer", line.original(found[0]), line.original(found[1])


def _answer_label(line: _Line, previous: Paragraph) -> _Verdict | None:
    if (
        line.label is not None
        and previous.section == "question"
        and _ANSWER_LABEL_RE.fullmatch(line.label)
    ):
        return "answer", None, None
    return None


def _bare_name(line: _Line, previous: Paragraph) -> _Verdict | None:
    if line.label is not None and previous.section == "question" and _is_name(line.label):
        return "answer", line.original(line.label), None
    return None


def _answer_goes_on(line: _Line, previous: Paragraph) -> _Verdict | None:
    # An answer runs until a heading; its enumerated points ("一、加强监测") are not headings.
    if previous.section == "answer" and not (
        _is_heading(line.simple) and not _ENUMERATED_RE.match(line.simple)
    ):
        return "answer", previous.speaker, previous.organization
    return None


#: The rules in order: the first that applies classifies the line; no rule applying makes it
#: ``body``.
_RULES: tuple[_Rule, ...] = (
    _boilerplate,
    _credits,
    _question,
    _moderator,
    _speaker,
    _answer_label,
    _bare_name,
    _answer_goes_on,
)


def _classify(line: _Line, previous: Paragraph) -> _Verdict:
    for rule in _RULES:
        verdict = rule(line, previous)
        if verdict is not None:
            return verdict
    return "body", None, None


def classify_paragraphs(lines: list[str]) -> list[Paragraph]:
    """Number ``lines`` from 1 and assign each a section (and speaker for answers).

    ``lines`` are the release's non-empty, stripped lines, the title first.  Classification is
    done on the simplified-script form of each line, by the first of :data:`_RULES` that
    applies given the line and the paragraph before it; the texts, speaker names and
    organisations keep the release's own script.
    """
    if not lines:
        return []
    paragraphs = [Paragraph(1, lines[0], "title")]
    simples = convert_lines("t2s", lines)
    for number, text, simple in zip(range(2, len(lines) + 1), lines[1:], simples[1:]):
        simple = simple.translate(_DIGITS)
        section, speaker, organisation = _classify(_Line(text, simple, _label(simple)),
                                                   paragraphs[-1])
        paragraphs.append(Paragraph(number, text, section, speaker, organisation))
    return paragraphs


# --------------------------------------------------------------------------- dates

_FULL_DATE_RE = re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]")
_MONTH_DAY_RE = re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]")
# A numeric date (2022-03-23, 2022/3/23, 2022.03.23): a date only where labelled or alone on
# its line, as a page's "发布时间：2022-03-23 10:30" credits line gives it.
_NUMERIC_DATE_RE = re.compile(r"(?<![\d.])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d.])")
_TIME_ONLY_RE = re.compile(r"\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*")
_YEAR_RE = re.compile(r"(?<!\d)(20\d{2})\s*年")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")

# What makes a date in the text the release's own (either script: the text is not converted).
# A label before it: 发布时间：, 日期:, 发稿时间：...
_LABEL_RE = re.compile(r"(?:(?:[发發][布佈表稿]|更新|成文|印[发發])\s*)?(?:[时時]\s*[间間]|日\s*期)"
                       r"\s*[:：]?\s*$")
# A dateline: the date opens its line, after nothing or a short byline ending in 讯 or a
# bracket (本报讯（记者 王琳）, 新华社北京).
_LINE_OPENING_RE = re.compile(r"[^\S\n]*(?:[^\n，。；！？,;!?]{0,16}(?:[讯訊]|[）)]))?\s*")
#: Longer than this, what comes before a date on its line is no byline.
_MAX_LINE_OPENING = 64
_TIME_OF_DAY = (r"(?:\s*(?:\d{1,2}\s*[时時:：]\s*(?:\d{1,2}\s*分?)?|上午|下午|中午|晚上|晚[间間]"
                r"|早上|凌晨|晚))?")
# ... or is followed by what happened that day: 召开, 举行, 发布, (新华社北京3月23日)电.
_EVENT_AFTER_RE = re.compile(_TIME_OF_DAY + r"\s*[，,]?\s*(?:召[开開]|[举舉][行办辦]|[发發][布佈]"
                             r"|印[发發]|[电電]|[讯訊]|消息)")
# ... unless it starts or bounds a period: 2019年1月1日以来, 3月1日至5日, 3月1日起.
_PERIOD_AFTER_RE = re.compile(r"\s*(?:以[来來前后後]|之[前后後]|[至到起~～—-]|期[间間]|前|[后後])")


def _valid_date(year: int, month: int, day: int) -> str | None:
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_iso_date(value: str) -> str | None:
    """``value`` as an ISO ``YYYY-MM-DD`` date if it is a valid one, else None."""
    match = _ISO_DATE_RE.fullmatch(value.strip())
    if match is None:
        return None
    return _valid_date(*map(int, match.groups()))


def _opens_line(text: str, start: int) -> bool:
    """Whether the date at ``start`` opens its line (after at most a byline). Only the line's
    own beginning is read, so a text of many dates is read once, not once per date."""
    line_start = text.rfind("\n", max(0, start - _MAX_LINE_OPENING - 1), start) + 1
    if line_start == 0 and start > _MAX_LINE_OPENING:
        return False
    return _LINE_OPENING_RE.fullmatch(text, line_start, start) is not None


def _standing(text: str, match: re.Match[str]) -> int:
    """How surely a date found in ``text`` is the release's: 0 labelled, 1 a dateline, 2 other."""
    before, after = text[max(0, match.start() - 40):match.start()], match.end()
    if _LABEL_RE.search(before):
        return 0
    if _PERIOD_AFTER_RE.match(text, after):
        return 2
    if _opens_line(text, match.start()) or _EVENT_AFTER_RE.match(text, after):
        return 1
    return 2


def _mentioned_year(text: str, default_year: int | None) -> int | None:
    """The year a ``M月D日`` date of ``text`` is in: the first ``20XX年`` mention that does not
    start a period (``2019年以来``, ``2019年1月1日起``), else ``default_year``, else the first."""
    years = []
    for match in _YEAR_RE.finditer(text):
        full = _FULL_DATE_RE.match(text, match.start())
        if not _PERIOD_AFTER_RE.match(text, full.end() if full else match.end()):
            return int(match.group(1))
        years.append(int(match.group(1)))
    if default_year is not None:
        return default_year
    return years[0] if years else None


def extract_date(text: str, default_year: int | None = None) -> str | None:
    """The release date given by ``text``, as ISO ``YYYY-MM-DD``, or None.

    A release mentions many dates (``2019年1月1日以来``, ``3月1日至5日``); its own is the one
    labelled (``发布时间：2022-03-23``), else a dateline: a date that opens its line (after a
    byline such as ``本报讯（记者 王琳）``) or is followed by the day's event (``3月23日上午召开``,
    ``北京3月23日电``) and does not start a period (``以来``, ``至``, ``起``).  In that order, a full
    ``YYYY年M月D日`` date before a ``M月D日`` one at the same standing, and the first of equals;
    when no date stands out, the first full date, then the first ``M月D日``.  A ``M月D日`` takes
    the year of the text's first ``20XX年`` mention that does not start a period, else
    ``default_year``, else the first mention.  A numeric date
    (``2022-03-23``) counts only where labelled or alone on its line.  Invalid dates (month 13,
    February 30) are ignored.
    """
    text = text.translate(_DIGITS)
    # (rank, position, date): full dates rank 0, 2, 4 by standing, a M月D日 1, 3 or 6 (after
    # every full date when it does not stand out); the lowest rank wins, then the first.
    found: list[tuple[int, int, str]] = []
    for match in _FULL_DATE_RE.finditer(text):
        if (iso := _valid_date(*map(int, match.groups()))) is not None:
            found.append((2 * _standing(text, match), match.start(), iso))
    for match in _NUMERIC_DATE_RE.finditer(text):
        iso = _valid_date(int(match.group(1)), int(match.group(3)), int(match.group(4)))
        if iso is None:
            continue
        standing = _standing(text, match)
        line_end = text.find("\n", match.end())
        rest = text[match.end():line_end if line_end >= 0 else len(text)]
        alone = bool(_TIME_ONLY_RE.fullmatch(rest)) and _opens_line(text, match.start())
        if standing == 0 or alone:
            found.append((2 * min(standing, 1), match.start(), iso))
    year = _mentioned_year(text, default_year)
    if year is not None:
        for match in _MONTH_DAY_RE.finditer(text):
            iso = _valid_date(year, int(match.group(1)), int(match.group(2)))
            if iso is not None:
                # A dateline's month and day outrank a full date that is only mentioned.
                standing = _standing(text, match)
                found.append((2 * standing + 1 if standing < 2 else 6, match.start(), iso))
    return min(found)[2] if found else None


# ---------------------------------------------------------------------- publishers

_PUBLISHER_CHARS = f"[{_CJK}A-Za-z0-9·•]"
# "来源：德州新闻网" (a credits line, or its first credit)
_SOURCE_CREDIT_RE = re.compile(rf"来源\s*[|｜丨:：/／]\s*({_PUBLISHER_CHARS}{{2,30}})")
# "德州日报新媒体出品"
_PRODUCER_RE = re.compile(rf"({_PUBLISHER_CHARS}{{2,30}}?)(?:联合)?出品")
# "德州新闻网版权与免责声明：" (the owner before the notice's name)
_NOTICE_OWNER_RE = re.compile(rf"({_PUBLISHER_CHARS}{{2,24}}?)(?:版权|免责|著作权)")
# Who a notice says "this site" is not a name.
_NOT_A_PUBLISHER = frozenset(["本网", "本站", "本报", "本台", "本平台", "本公众号", "本号"])


def extract_publisher(paragraphs: list[Paragraph]) -> str | None:
    """Who published a release, when its own text says so, in the release's script; else None.

    Looked for in its credits and boilerplate paragraphs only (see :func:`classify_paragraphs`),
    in this order: a ``来源：德州新闻网`` credit (the release names its source), the owner of a
    copyright notice (``德州新闻网版权与免责声明：``: the site that published it, what a web
    page's metadata would name), then a producer's credit (``德州日报新媒体出品``).
    """
    candidates = [p for p in paragraphs if p.section in ("credits", "boilerplate")]
    if not candidates:
        return None
    simples = convert_lines("t2s", [p.text for p in candidates])
    lines = [(p.text, simple.translate(_DIGITS).strip(_BRACKETS), simple.translate(_DIGITS))
             for p, simple in zip(candidates, simples)]
    for finder in (_source_credit, _notice_owner, _producer):
        for text, simple, unstripped in lines:
            span = finder(simple)
            if span is not None and span[1] not in _NOT_A_PUBLISHER:
                # Same length in both scripts: the span read in the release's own script.
                start = unstripped.find(simple) + span[0]
                return text[start:start + len(span[1])]
    return None


def _source_credit(simple: str) -> tuple[int, str] | None:
    match = _SOURCE_CREDIT_RE.match(simple)
    return (match.start(1), match.group(1)) if match else None


def _notice_owner(simple: str) -> tuple[int, str] | None:
    if not _BOILERPLATE_HEADER_RE.fullmatch(simple):
        return None
    match = _NOTICE_OWNER_RE.match(simple)
    return (match.start(1), match.group(1)) if match else None


def _producer(simple: str) -> tuple[int, str] | None:
    match = _PRODUCER_RE.fullmatch(simple)
    return (match.start(1), match.group(1)) if match else None
