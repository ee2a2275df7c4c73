"""Synthetic press-release corpora for speed measurements, built from real Chinese sentences.

Each release looks like a municipal press-conference release (the shape of
``seeds/dezhou-press-conference-13.txt``): a title line, an opening paragraph, body paragraphs,
an ``答记者问`` heading, reporter questions (``记者：``) each followed by a spokesperson's answer
(``市XX局党组成员、副局长、新闻发言人XXX：``) and further answer paragraphs, then credits lines.
Sentences come from the CMRC2018 paragraphs (``cmrc2018/corpus.jsonl`` under ``--data``) and
from the sample release (its pinyin annotations stripped, converted to simplified script), so
the vocabulary and the paragraph lengths are real; their order is random. Generation is
deterministic for a given seed and data.

``--annotate-fraction F`` corrupts about F of the releases the way the sample release is
corrupted: every character OpenCC ``s2t`` changes is written traditional and followed by its
pinyin with tone marks in ASCII parentheses, and full-width punctuation becomes ASCII.

Usage::

    python benchmarks/corpus.py --paragraphs 20000 --seed 1 --out benchmarks/out/c20k.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "seeds" / "dezhou-press-conference-13.txt"
#: Bundled fallback data (a CMRC2018 subset) used when ``../shared/data`` is absent.
FALLBACK_DATA = REPO / "tests" / "data"

_SENTENCE_END = re.compile(r"(?<=[。！？；])")
_ANNOTATION = re.compile(r"\(([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*)\)")
_ASCII_PUNCT = str.maketrans({"，": ",", "：": ":", "；": ";", "？": "?", "！": "!",
                              "（": "(", "）": ")"})

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏建国志宏海波辉晓东文斌林飞鸣宇琳航代生泽汝"
CITIES = ["德州", "济南", "青岛", "烟台", "潍坊", "临沂", "淄博", "济宁", "泰安", "聊城",
          "滨州", "菏泽", "枣庄", "日照", "威海", "东营", "沧州", "衡水", "邢台", "保定"]
BUREAUS = ["工信局", "商务局", "卫健委", "教育局", "交通运输局", "农业农村局", "市场监管局",
           "文旅局", "住建局", "发改委", "生态环境局", "人社局", "民政局", "公安局", "财政局"]
TOPICS = ["统筹疫情防控和经济运行", "优化营商环境", "乡村振兴", "安全生产", "招商引资",
          "民生实事", "城市更新", "稳就业保民生", "生态环境保护", "文化旅游发展",
          "冬季供暖保障", "防汛抗旱", "科技创新", "教育高质量发展", "医疗保障"]
NUMERALS = "一二三四五六七八九十"
#: Bumped whenever the same seed starts giving different output (cached corpora are named by it).
GENERATOR_VERSION = 2


@dataclass
class SentencePool:
    """Real sentences to build releases from, plus question texts for reporter questions."""

    sentences: list[str]
    questions: list[str]
    titles: list[str]


def default_data_dir() -> Path:
    """``../shared/data`` beside the repository when present, else the bundled test data."""
    shared = REPO.parent / "shared" / "data"
    return shared if (shared / "cmrc2018" / "corpus.jsonl").is_file() else FALLBACK_DATA


def _cmrc_dir(data: Path) -> Path:
    for candidate in (data / "cmrc2018", data / "cmrc2018_subset", data):
        if (candidate / "corpus.jsonl").is_file():
            return candidate
    raise FileNotFoundError(f"no cmrc2018 corpus.jsonl under {data}")


def split_sentences(text: str) -> list[str]:
    """Split a paragraph after each 。！？； keeping sentences of 8 to 200 characters, with
    whitespace runs (line breaks included) collapsed to one space."""
    out = []
    for s in _SENTENCE_END.split(text):
        s = " ".join(s.split())
        if 8 <= len(s) <= 200:
            out.append(s)
    return out


def _sample_sentences() -> list[str]:
    if not SAMPLE.is_file():
        return []
    import opencc

    raw = SAMPLE.read_text(encoding="utf-8")
    plain = opencc.OpenCC("t2s").convert(_ANNOTATION.sub("", raw))
    plain = plain.replace(",", "，").replace(":", "：").replace("?", "？")
    out: list[str] = []
    for line in plain.splitlines():
        out.extend(split_sentences(line))
    return out


def load_pool(data: Path) -> SentencePool:
    """Read sentences, questions and article titles from ``data`` and the sample release."""
    cmrc = _cmrc_dir(data)
    sentences: list[str] = []
    titles: list[str] = []
    with open(cmrc / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                sentences.extend(split_sentences(rec.get("text", "")))
                if rec.get("title"):
                    titles.append(rec["title"])
    sentences.extend(_sample_sentences())
    questions: list[str] = []
    qpath = cmrc / "queries.jsonl"
    if qpath.is_file():
        with open(qpath, encoding="utf-8") as fh:
            questions = [json.loads(line)["text"] for line in fh if line.strip()]
    if not sentences:
        raise ValueError(f"no sentences found under {data}")
    return SentencePool(sentences, questions or sentences[:100], titles or ["工作"])


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _body(rng: random.Random, pool: SentencePool, lo: int = 2, hi: int = 6) -> str:
    """A paragraph of ``lo`` to ``hi`` random sentences."""
    return "".join(rng.choice(pool.sentences) for _ in range(rng.randint(lo, hi)))


def make_release(rng: random.Random, pool: SentencePool, number: int, paragraphs: int,
                 date: dt.date) -> dict[str, str]:
    """One release of exactly ``paragraphs`` paragraphs (at least 3; the title included)."""
    paragraphs = max(paragraphs, 3)
    city = rng.choice(CITIES)
    topic = rng.choice(TOPICS + pool.titles[:50])
    title = f"{city}市召开{topic}工作第{NUMERALS[number % 10]}场新闻发布会"
    lines = [f"{date.month}月{date.day}日{rng.randint(8, 18)}时，{city}市政府新闻办公室召开"
             f"{topic}新闻发布会。" + _body(rng, pool, 1, 2)]
    credits = []
    if paragraphs >= 6:
        credits = [f"{city}日报新媒体出品",
                   f"记者|{_name(rng)} 编辑|{_name(rng)}"]
    remaining = paragraphs - 1 - len(lines) - len(credits)
    n_body = max(1, remaining // 2) if remaining >= 5 else remaining
    for _ in range(n_body):
        lines.append(_body(rng, pool))
    remaining -= n_body
    if remaining >= 3:
        lines.append("答记者问")
        remaining -= 1
        while remaining >= 2:
            bureau = rng.choice(BUREAUS)
            lines.append("记者：" + rng.choice(pool.questions))
            lines.append(f"市{bureau}党组成员、副局长、新闻发言人{_name(rng)}："
                         + _body(rng, pool, 2, 4))
            remaining -= 2
            extra = min(remaining, rng.randint(0, 3)) if remaining > 2 else remaining
            for k in range(extra):
                lines.append(f"{NUMERALS[k % 10]}是" + _body(rng, pool, 1, 4))
            remaining -= extra
    for _ in range(remaining):
        lines.append(_body(rng, pool))
    lines.extend(credits)
    return {"id": f"R{number:07d}", "title": title, "text": "\n".join(lines),
            "date": date.isoformat()}


def annotate(text: str) -> str:
    """Corrupt ``text`` like the sample release: ``s2t`` characters followed by ``(pīnyīn)``."""
    import opencc
    from pypinyin import Style, pinyin

    trad = opencc.OpenCC("s2t").convert(text)
    if len(trad) != len(text):  # phrase conversions changed the length: go char by char
        conv = opencc.OpenCC("s2t")
        trad = "".join(conv.convert(c) if len(conv.convert(c)) == 1 else c for c in text)
    readings = pinyin(text, style=Style.TONE, errors=lambda chars: [[c] for c in chars])
    out = []
    for simple, tc, reading in zip(text, trad, readings):
        if tc != simple and reading and reading[0] != simple:
            out.append(f"{tc}({reading[0]})")
        else:
            out.append(tc)
    return "".join(out).translate(_ASCII_PUNCT)


def generate(paragraphs: int, seed: int, pool: SentencePool,
             annotate_fraction: float = 0.0, min_per_release: int = 10,
             max_per_release: int = 30) -> Iterator[dict[str, str]]:
    """Releases totalling exactly ``paragraphs`` paragraphs (title lines included; at least 3)."""
    rng = random.Random(seed)
    left = paragraphs
    number = 0
    start = dt.date(2020, 1, 1)
    while left > 0:
        size = rng.randint(min_per_release, max_per_release)
        if left - size < min_per_release:  # the last release takes what is left
            size = left
        number += 1
        date = start + dt.timedelta(days=rng.randint(0, 1500))
        rel = make_release(rng, pool, number, size, date)
        corrupt = rng.random() < annotate_fraction  # always drawn: same releases either way
        if corrupt:
            rel["title"] = annotate(rel["title"])
            rel["text"] = annotate(rel["text"])
        left -= size
        yield rel


def write_corpus(out: str | os.PathLike[str], paragraphs: int, seed: int = 1,
                 data: str | os.PathLike[str] | None = None, annotate_fraction: float = 0.0,
                 min_per_release: int = 10, max_per_release: int = 30) -> tuple[int, int]:
    """Write a corpus to ``out`` (JSONL); return ``(releases, paragraphs)`` written."""
    if paragraphs < 3:
        raise ValueError("paragraphs must be at least 3")
    if not 3 <= min_per_release <= max_per_release:
        raise ValueError("need 3 <= min_per_release <= max_per_release")
    if not 0.0 <= annotate_fraction <= 1.0:
        raise ValueError("annotate_fraction must be between 0 and 1")
    pool = load_pool(Path(data) if data else default_data_dir())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    releases = total = 0
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for rel in generate(paragraphs, seed, pool, annotate_fraction,
                            min_per_release, max_per_release):
            fh.write(json.dumps(rel, ensure_ascii=False) + "\n")
            releases += 1
            total += 1 + rel["text"].count("\n") + 1
    os.replace(tmp, out)
    return releases, total


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paragraphs", type=int, required=True, help="total paragraphs (titles included)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True, help="output JSONL file")
    ap.add_argument("--data", default=None, help="data folder holding cmrc2018/ (default ../shared/data)")
    ap.add_argument("--annotate-fraction", type=float, default=0.0,
                    help="share of releases corrupted with traditional script + pinyin")
    ap.add_argument("--min-per-release", type=int, default=10)
    ap.add_argument("--max-per-release", type=int, default=30)
    args = ap.parse_args(argv)
    releases, paragraphs = write_corpus(args.out, args.paragraphs, args.seed, args.data,
                                        args.annotate_fraction, args.min_per_release,
                                        args.max_per_release)
    print(f"wrote {releases} releases, {paragraphs} paragraphs to {args.out}")


if __name__ == "__main__":
    main()
