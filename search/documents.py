"""Reading source files into :class:`~search.models.Release` objects.

Sources are plain-text releases (one per ``.txt`` / ``.md`` file, the file name without its
extension being the release id) and JSONL corpora (``.jsonl``, one release per line:
``{"id", "title", "text", optional "date", "source", "url"}``).

The pipeline for one release:

1. :func:`decode_bytes` -- strict UTF-8 (with or without BOM) first; a mostly-UTF-8 file with a
   few bad bytes gets them replaced by U+FFFD; anything else is handed to charset-normalizer
   (GB18030/GBK, Big5...).  Binary (NUL bytes) or undecodable data raises
   :class:`~search.errors.SourceError`.
2. :func:`parse_release` -- :func:`search.repair.repair_text`, then one paragraph per non-empty
   line, each classified into a section (see :data:`search.models.SECTIONS`) on its
   simplified-script form (OpenCC ``t2s``, used for classification only), and the release date.
3. :func:`read_releases` -- walks files, reports every problem as a :class:`Problem` and goes on.

Section rules follow Chinese government press-conference conventions:

* ``title`` -- paragraph 1;
* ``question`` -- a reporter's question: ``记者：``, ``新华社记者：``, ``问：``...;
* ``answer`` -- a line led by a speaker (``市工信局党组成员、副局长、新闻发言人田汝勇：``, whose
  organisation and name are parsed), and the following paragraphs until the next question,
  heading, credits or boilerplate; a bare name (``汪文斌：``) or ``答：`` right after a question
  also opens an answer;
* ``credits`` -- ``德州日报新媒体出品``, ``记者|杨鸣宇 编辑|王琳``, ``责任编辑：``...;
* ``boilerplate`` -- a copyright / disclaimer header (``德州新闻网版权与免责声明：``) and the
  enumerated items (①②③...) that follow it, and stand-alone reprint notices;
* ``body`` -- everything else (headings such as ``答记者问`` included).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from search.script import opencc_converter, without_surrogates
from search.errors import SourceError
from search.models import Paragraph, Release
from search.repair import repair_text

__all__ = [
    "SOURCE_SUFFIXES",
    "Problem",
    "classify_paragraphs",
    "decode_bytes",
    "extract_date",
    "iter_source_files",
    "parse_release",
    "read_releases",
]

#: File suffixes read as sources (compared case-insensitively).
SOURCE_SUFFIXES = (".txt", ".md", ".jsonl")

#: A file is taken as damaged UTF-8 (rather than another encoding) when at most this share of
#: its non-ASCII bytes are invalid UTF-8.  Text in a legacy CJK encoding is nearly all invalid
#: as UTF-8, so the two cases are far apart.
MAX_BAD_UTF8_SHARE = 0.1


#: Decoder used for a detected encoding family.  The detector cannot reliably tell the
#: variants of one family apart: Big5-HKSCS and Windows Big5 (cp950, what Taiwanese files are
#: in practice) disagree on a few code points (cp950 ``C7E9`` is ① but HKSCS katakana), so the
#: common variant is used when it decodes the data strictly; GB2312 and GBK are read with
#: their superset GB18030.
_PREFERRED_DECODER = {
    "big5": "cp950",
    "big5hkscs": "cp950",
    "cp950": "cp950",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
}


@dataclass
class Problem:
    """Something wrong with a source file or JSONL line, reported by :func:`read_releases`."""

    source: str  # file path, with ":LINE" for JSONL lines
    message: str  # human-readable, English
    skipped: bool  # True if the release/line was not indexed

    def __str__(self) -> str:
        suffix = " (skipped)" if self.skipped else ""
        return f"{self.source}: {self.message}{suffix}"


# ------------------------------------------------------------------------------- files


def _is_source(path: Path) -> bool:
    return path.suffix.lower() in SOURCE_SUFFIXES


def iter_source_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The source files named by ``paths``, folders expanded recursively.

    Only files with a suffix in :data:`SOURCE_SUFFIXES` are kept; hidden files and folders
    (name starting with ``.``) inside a folder are skipped.  The result is sorted and free of
    duplicates.  A path that does not exist raises :class:`SourceError`.
    """
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in files:
                    candidate = Path(root) / name
                    if not name.startswith(".") and _is_source(candidate):
                        found.add(candidate)
        elif path.is_file():
            if _is_source(path):
                found.add(path)
        else:
            raise SourceError("no such file or folder", str(path))
    return sorted(found)


# ---------------------------------------------------------------------------- decoding

_BAD_BYTE_RE = re.compile("[\udc80-\udcff]")
_ASCII_BYTES = bytes(range(0x80))


def _decode_with(data: bytes, encoding: str) -> tuple[str, int]:
    """Decode with ``encoding``, each undecodable byte becoming U+FFFD; (text, bad bytes)."""
    text = data.decode(encoding, "surrogateescape")
    text, bad = _BAD_BYTE_RE.subn("\ufffd", text)
    return text, bad


def _decode(data: bytes, source: str) -> tuple[str, int, str]:
    """(text, replaced bytes, Python codec name) of ``data``; see :func:`decode_bytes`."""
    if b"\x00" in data:
        raise SourceError("binary file (contains NUL bytes)", source)
    has_bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if has_bom else data
    try:
        return body.decode("utf-8"), 0, "utf-8"
    except UnicodeDecodeError:
        pass
    text, bad = _decode_with(body, "utf-8")
    non_ascii = len(body.translate(None, _ASCII_BYTES))
    if has_bom or bad <= non_ascii * MAX_BAD_UTF8_SHARE:
        return text, bad, "utf-8"

    import charset_normalizer

    best = charset_normalizer.from_bytes(body).best()
    if best is None:
        raise SourceError("undecodable file (not text in a known encoding)", source)
    preferred = _PREFERRED_DECODER.get(best.encoding)
    if preferred is not None:
        try:
            return body.decode(preferred), 0, preferred
        except UnicodeDecodeError:
            pass
    return str(best), 0, best.encoding


def decode_bytes(data: bytes, source: str) -> tuple[str, int]:
    """Decode a source file's bytes; returns (text, number of replaced bad bytes).

    Strict UTF-8 (a leading BOM is dropped) is tried first.  Data that is UTF-8 apart from a
    few invalid bytes (at most :data:`MAX_BAD_UTF8_SHARE` of its non-ASCII bytes, or any
    number after a UTF-8 BOM) is decoded with each bad byte replaced by U+FFFD.  Anything else
    goes to charset-normalizer's detector (GB18030/GBK, Big5...).  Raises :class:`SourceError`
    for binary data (NUL bytes) or data no encoding decodes.
    """
    text, bad, _ = _decode(data, source)
    return text, bad


# ----------------------------------------------------------------------- classification


def _simplified(text: str) -> str:
    return opencc_converter("t2s").convert(without_surrogates(text))


def _simplified_lines(lines: list[str]) -> list[str]:
    """``[_simplified(line) for line in lines]`` in one OpenCC call when the lines allow it
    (no line break inside, and the conversion keeps every line's length)."""
    if len(lines) > 1 and not any("\n" in line for line in lines):
        joined = "\n".join(lines)
        out = _simplified(joined)
        if len(out) == len(joined):
            parts = out.split("\n")
            if len(parts) == len(lines):
                return parts
    return [_simplified(line) for line in lines]


_COLON = ":："
_SENTENCE_PUNCT = '，。；！？,;!?“”"《》'
# Full-width digits to ASCII, for dates and enumerators.
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

# Speaker / reporter prefix: the text before the first colon, short and without sentence
# punctuation.
_MAX_PREFIX = 50
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NAME_RE = re.compile(f"[{_CJK}]{{2,4}}|[{_CJK}]{{1,6}}[·•][{_CJK}]{{1,8}}")

_QUESTION_PREFIX_RE = re.compile(r"(?:.*记者(?:提问|问)?|问|提问|Q)", re.IGNORECASE)
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
# Enumerated sub-points inside an answer ("一、", "（二）", "三是", "1.", "第一，"...).
_ENUMERATED_RE = re.compile(
    r"\s*(?:[一二三四五六七八九十]+\s*(?:[、.．是]|要)|[(（]\s*[一二三四五六七八九十\d]+\s*[)）]"
    r"|\d{1,2}\s*[.、．]|第[一二三四五六七八九十]+|[\u2460-\u2473])"
)
_MAX_HEADING = 25


def _speaker_prefix(simple: str) -> tuple[str, int] | None:
    """(text before the first colon, its length) when that looks like a speaker label."""
    positions = [i for i in (simple.find(c) for c in _COLON) if i >= 0]
    if not positions:
        return None
    end = min(positions)
    prefix = simple[:end].strip()
    if not prefix or end > _MAX_PREFIX or any(c in _SENTENCE_PUNCT for c in prefix):
        return None
    return prefix, end


def _parse_speaker(prefix: str) -> tuple[str | None, str | None] | None:
    """(speaker, organisation) of a "organisation + titles + name" prefix, or None.

    ``市工信局党组成员、副局长、新闻发言人田汝勇`` gives ``("田汝勇", "市工信局")``; a prefix
    ending with a title (``市工信局相关负责人``) gives no name.
    """
    titles = list(_TITLE_RE.finditer(prefix))
    if not titles:
        return None
    organisation = _ORG_FILLER_RE.sub("", prefix[: titles[0].start()].strip(" 、,，"))
    name = prefix[titles[-1].end() :].strip(" 、")
    if name and (not _NAME_RE.fullmatch(name) or _REPORTING_VERB_RE.search(name)):
        return None
    return name or None, organisation or None


def _original_span(original: str, simple: str, text: str | None) -> str | None:
    """``text`` (found in the simplified line) in the line's original script."""
    if text is None or len(original) != len(simple):
        return text
    start = simple.find(text)
    return original[start : start + len(text)] if start >= 0 else text


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


def _is_heading(simple: str) -> bool:
    stripped = simple.strip()
    return (
        len(stripped) <= _MAX_HEADING
        and not any(c in _SENTENCE_PUNCT for c in stripped)
        and stripped[-1] not in _COLON
    )


def classify_paragraphs(lines: list[str]) -> list[Paragraph]:
    """Number ``lines`` from 1 and assign each a section (and speaker for answers).

    ``lines`` are the release's non-empty, stripped lines, the title first.  Classification is
    done on the simplified-script form of each line; the texts, speaker names and
    organisations keep the release's own script.
    """
    paragraphs: list[Paragraph] = []
    # The open answer's (name, organisation), None outside an answer.
    speaker: tuple[str | None, str | None] | None = None
    in_boilerplate = False
    simples = _simplified_lines(lines)
    for number, line in enumerate(lines, start=1):
        if number == 1:
            paragraphs.append(Paragraph(number, line, "title"))
            continue
        simple = simples[number - 1].translate(_DIGITS)
        previous = paragraphs[-1].section
        section = "body"
        found: tuple[str | None, str | None] | None = None
        prefix = _speaker_prefix(simple)
        label = prefix[0] if prefix else None

        if (
            _BOILERPLATE_HEADER_RE.fullmatch(simple)
            or _BOILERPLATE_LINE_RE.search(simple)
            or (
                in_boilerplate
                and (
                    _CIRCLED_RE.match(simple)
                    or _NUMBERED_RE.match(simple)
                    or _BOILERPLATE_WORDS_RE.search(simple)
                )
            )
        ):
            section = "boilerplate"
        elif _is_credits(simple):
            section = "credits"
        elif (
            label is not None
            and _QUESTION_PREFIX_RE.fullmatch(label)
            and not label.startswith("答")  # "答记者问：" is a heading
        ):
            section = "question"
        elif label is not None and _MODERATOR_RE.fullmatch(label):
            section = "body"
        elif label is not None and (parsed := _parse_speaker(label)) is not None:
            section, found = "answer", parsed
        elif (
            label is not None
            and previous == "question"
            and _ANSWER_LABEL_RE.fullmatch(label)
        ):
            section, found = "answer", (None, None)
        elif (
            label is not None
            and previous == "question"
            and _NAME_RE.fullmatch(label)
            and not _REPORTING_VERB_RE.search(label)
        ):
            section, found = "answer", (label, None)
        elif speaker is not None and not (
            _is_heading(simple) and not _ENUMERATED_RE.match(simple)
        ):
            section, found = "answer", speaker

        in_boilerplate = section == "boilerplate"
        if section == "answer" and found is not None:
            name = _original_span(line, simple, found[0])
            organisation = _original_span(line, simple, found[1])
            speaker = found if found is speaker else (name, organisation)
            paragraphs.append(Paragraph(number, line, "answer", speaker[0], speaker[1]))
        else:
            speaker = None
            paragraphs.append(Paragraph(number, line, section))
    return paragraphs


# ---------------------------------------------------------------------------------- dates

_FULL_DATE_RE = re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_MONTH_DAY_RE = re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_YEAR_RE = re.compile(r"(?<!\d)(20\d{2})\s*年")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


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


def extract_date(text: str, default_year: int | None = None) -> str | None:
    """The release date given by ``text``, as ISO ``YYYY-MM-DD``, or None.

    The first valid full ``YYYY年M月D日`` date wins; otherwise the first valid ``M月D日`` with
    the year of the first ``20XX年`` mention, or ``default_year``.  Invalid dates (month 13,
    February 30) are ignored.
    """
    text = text.translate(_DIGITS)
    for match in _FULL_DATE_RE.finditer(text):
        if (iso := _valid_date(*map(int, match.groups()))) is not None:
            return iso
    year_match = _YEAR_RE.search(text)
    year = int(year_match.group(1)) if year_match else default_year
    if year is None:
        return None
    for match in _MONTH_DAY_RE.finditer(text):
        if (
            iso := _valid_date(year, int(match.group(1)), int(match.group(2)))
        ) is not None:
            return iso
    return None


# ------------------------------------------------------------------------------ releases


def parse_release(
    text: str,
    doc_id: str,
    *,
    source: str | None = None,
    default_year: int | None = None,
    date: str | None = None,
    url: str | None = None,
    content_hash: str = "",
    title: str | None = None,
) -> Release:
    """Repair ``text`` and split it into a :class:`Release`.

    ``title`` (when non-empty) becomes paragraph 1 and the lines of ``text`` follow; otherwise
    the first non-empty line of ``text`` is the title.  Title and text are repaired together
    (:func:`search.repair.repair_text`), so a release's script is converted consistently.
    ``date`` (ISO ``YYYY-MM-DD``) wins when valid; else the date is extracted from the text
    (:func:`extract_date`, with ``default_year`` for a date without year).  ``repairs`` holds
    the repair counts.  Raises :class:`SourceError` when there is no text at all.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if title is not None and title.strip():
        text = " ".join(title.split()) + "\n" + text
    repaired = repair_text(text)
    lines = [
        stripped for line in repaired.text.split("\n") if (stripped := line.strip())
    ]
    if not lines:
        raise SourceError("empty release (no text)", source or doc_id)
    paragraphs = classify_paragraphs(lines)
    iso = parse_iso_date(date) if date else None
    if iso is None:
        iso = extract_date(repaired.text, default_year)
    return Release(
        doc_id=doc_id,
        title=paragraphs[0].text,
        paragraphs=paragraphs,
        date=iso,
        source=source,
        url=url,
        content_hash=content_hash,
        repairs=dict(repaired.counts),
    )


def _mtime_year(path: Path) -> int | None:
    try:
        return _dt.datetime.fromtimestamp(path.stat().st_mtime).year
    except (OSError, OverflowError, ValueError):
        return None


# Markdown ATX heading markers ("# 标题") are not part of the text.
_MD_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE)


#: Longest release id: ids travel in URLs (``/doc/<id>``).
MAX_DOC_ID_LENGTH = 200


def valid_doc_id(doc_id: str) -> bool:
    """Whether ``doc_id`` can be a release id: not empty, at most 200 characters, not path-like
    (no ``/`` or ``\\``, no leading dot), no control characters. The web app looks up only
    such ids, so every indexed release can be opened there."""
    if not doc_id or len(doc_id) > MAX_DOC_ID_LENGTH:
        return False
    if "/" in doc_id or "\\" in doc_id or doc_id.startswith("."):
        return False
    return not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in doc_id)


def _check_id(doc_id: str) -> None:
    if not valid_doc_id(doc_id):
        raise SourceError(
            f"unusable id {doc_id[:40]!r}: ids must be 1-{MAX_DOC_ID_LENGTH} characters, "
            "without slashes, a leading dot or control characters", doc_id[:40])


@dataclass
class Unchanged:
    """A release whose content hash the caller already has: read but not parsed again."""

    doc_id: str
    content_hash: str


#: ``skip(doc_id, content_hash, location)``: True when the caller already has this exact
#: release, read from the same place.
Skip = Callable[[str, str, str], bool]


def _read_text_file(
    path: Path, problems: list[Problem], skip: Skip | None = None
) -> Iterator[tuple[str, Release | Unchanged]]:
    source = str(path)
    _check_id(path.stem)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if skip is not None and skip(path.stem, digest, source):
        yield source, Unchanged(path.stem, digest)
        return
    text, bad = decode_bytes(data, source)
    if path.suffix.lower() == ".md":
        text = _MD_HEADING_RE.sub("", text)
    release = parse_release(
        text,
        path.stem,
        source=source,
        default_year=_mtime_year(path),
        content_hash=digest,
    )
    release.location = source
    if bad:
        release.repairs["replaced_bytes"] = bad
        problems.append(
            Problem(
                source, f"replaced {bad} undecodable byte(s) with U+FFFD", skipped=False
            )
        )
    yield source, release


class _BadLine(ValueError):
    """A malformed JSONL line (the message says why)."""


def _optional_string(record: dict, key: str) -> str | None:
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _BadLine(f'"{key}" must be a string, not {type(value).__name__}')


def _jsonl_release(
    raw: bytes,
    text: str,
    bad: int,
    source: str,
    default_year: int | None,
    problems: list[Problem],
    skip: Skip | None = None,
) -> Release | Unchanged:
    """One JSONL line as a release; raises :class:`_BadLine` if it is malformed."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise _BadLine(f"invalid JSON ({error.msg}, column {error.colno})") from None
    if not isinstance(record, dict):
        raise _BadLine(f"expected a JSON object, not {type(record).__name__}")
    doc_id = record.get("id")
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
        raise _BadLine('missing or invalid "id" (a string or integer)')
    doc_id = str(doc_id).strip()
    if not doc_id:
        raise _BadLine('empty "id"')
    if not valid_doc_id(doc_id):
        raise _BadLine(f'unusable "id" {doc_id[:40]!r} (at most {MAX_DOC_ID_LENGTH} characters, '
                       "no slashes, leading dot or control characters)")
    body = record.get("text")
    if not isinstance(body, str):
        raise _BadLine('missing or invalid "text" (a string)')
    if not body.strip():
        raise _BadLine('empty "text"')
    digest = hashlib.sha256(raw).hexdigest()
    if skip is not None and skip(doc_id, digest, source):
        return Unchanged(doc_id, digest)
    title = _optional_string(record, "title")
    date = _optional_string(record, "date")
    origin = _optional_string(record, "source")
    url = _optional_string(record, "url")
    iso = None
    if date is not None and date.strip():
        iso = parse_iso_date(date)
        if iso is None:
            problems.append(
                Problem(
                    source,
                    f'ignored invalid "date" {date!r} (expected YYYY-MM-DD)',
                    False,
                )
            )
    release = parse_release(
        body,
        doc_id,
        source=origin or source,
        default_year=default_year,
        date=iso,
        url=url,
        content_hash=digest,
        title=title,
    )
    release.location = source
    if bad:
        release.repairs["replaced_bytes"] = bad
    return release


def _read_jsonl_file(
    path: Path, problems: list[Problem], skip: Skip | None = None
) -> Iterator[tuple[str, Release | Unchanged]]:
    data = path.read_bytes()
    _, _, encoding = _decode(data, str(path))
    default_year = _mtime_year(path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.removesuffix(b"\r")
        if not raw.strip():
            continue
        source = f"{path}:{number}"
        text, bad = _decode_with(raw, encoding)
        try:
            release = _jsonl_release(raw, text, bad, source, default_year, problems, skip)
        except _BadLine as error:
            problems.append(Problem(source, str(error), skipped=True))
            continue
        except SourceError as error:  # e.g. a text of whitespace only after repair
            problems.append(Problem(source, error.reason, skipped=True))
            continue
        if bad:
            problems.append(
                Problem(
                    source,
                    f"replaced {bad} undecodable byte(s) with U+FFFD",
                    skipped=False,
                )
            )
        yield source, release


def _releases(
    files: list[Path], problems: list[Problem], skip: Skip | None = None
) -> Iterator[Release | Unchanged]:
    seen: dict[str, str] = {}
    for path in files:
        reader = (
            _read_jsonl_file if path.suffix.lower() == ".jsonl" else _read_text_file
        )
        try:
            for location, release in reader(path, problems, skip):
                first = seen.get(release.doc_id)
                if first is not None:
                    message = f"duplicate id {release.doc_id!r} (first in {first})"
                    problems.append(Problem(location, message, skipped=True))
                    continue
                seen[release.doc_id] = location
                yield release
        except SourceError as error:
            problems.append(Problem(str(path), error.reason, skipped=True))
        except OSError as error:
            problems.append(
                Problem(str(path), f"cannot read file: {error.strerror}", True)
            )


def read_releases(
    paths: Iterable[str | os.PathLike],
    problems: list[Problem],
    *,
    skip: Skip | None = None,
) -> Iterator[Release | Unchanged]:
    """The releases of the source files under ``paths``, in file order.

    The paths are expanded at once (:func:`iter_source_files`: a missing path raises
    :class:`SourceError` here, before any release is read).  After that, nothing raises for
    a bad file or line: each problem is appended to ``problems`` and reading goes on --
    binary or undecodable files and malformed JSONL lines are skipped; bad bytes are replaced
    and reported; a duplicate id is reported and the later release skipped.

    With ``skip``, a release for which ``skip(doc_id, content_hash, location)`` is true is
    yielded as :class:`Unchanged` without being decoded or parsed (incremental reindexing).
    """
    files = iter_source_files(paths)
    return _releases(files, problems, skip)
