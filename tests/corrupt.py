"""Ground truth for the repair: a corruptor that damages clean text exactly the ways scrapers
do (see docs/repair.md), and records every damage, so a repair can be measured against the
original.

The corrupted text is built as segments ``(original, damaged, kinds)``: a clean segment has
``original == damaged`` and no kinds; every pass rewrites segments, a GBK shift merges the
segments it covers.  :func:`corrupt` returns the text and the damages with their offsets in
it; :func:`measure` compares a repair (:class:`search.repair.RepairResult`) with them.

Kinds (the repair's kinds): ``script`` (machine conversion to traditional, leaving 于 并 后 里
么 复 这 as they are), ``annotations`` (pinyin of converted characters and of some unconverted
ones: toned, toneless, repeated, full-width brackets, partial), ``restored`` (a character lost
with the ``(`` of its annotation: ``?dāng)``), ``mojibake`` (GBK decoded one byte off, with the
lost bytes and annotation fragments), ``mojibake_utf8`` (UTF-8 read as GBK),
``mojibake_latin1`` (GBK or UTF-8 read as CP1252), ``punctuation`` (``，：；！？（）`` folded
to ASCII), ``doubled_punctuation`` (a comma before a Chinese mark), ``spaces`` (a space beside
a Chinese mark), ``indents`` (``????`` at the start of a line).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from pypinyin import Style, pinyin

from search.script import CJK_RE, convert, to_simplified

__all__ = ["PROFILES", "Corrupted", "Damage", "corrupt", "measure"]

#: What a crude converter to traditional leaves (their traditional form depends on the word).
LEFT_UNCONVERTED = "于并后里么复这"
_FOLD = {"，": ",", "：": ":", "；": ";", "！": "!", "？": "?", "（": "(", "）": ")"}
_MARKS = "，。、；：？！"


@dataclass
class _Seg:
    orig: str
    text: str
    kinds: tuple[str, ...] = ()
    char: str = ""  # the damaged character before any annotation (for GBK passes)
    note: str = ""  # the annotation's syllable, when annotated


@dataclass(frozen=True)
class Damage:
    start: int
    end: int  # [start, end) of the corrupted text
    original: str
    kinds: tuple[str, ...]


@dataclass
class Corrupted:
    text: str
    damages: list[Damage] = field(default_factory=list)


#: Profiles: which damages, at which rates (per character or per span site).
PROFILES: dict[str, dict] = {
    # a simplified release converted and annotated by the broken converter, then garbled
    "annotated": {"script": 1.0, "annotate": 0.55, "lost": 0.004, "gbk": 0.004,
                  "fold": 1.0, "doubled": 0.002, "spaces": 0.002, "indents": 0.3},
    # a simplified release machine-converted to traditional, no annotations
    "converted": {"script": 1.0, "gbk": 0.003, "fold": 1.0, "doubled": 0.002,
                  "spaces": 0.002, "indents": 0.3},
    # simplified text garbled in transit
    "simplified": {"gbk": 0.003, "utf8": 0.002, "latin1": 0.002, "fold": 1.0,
                   "doubled": 0.002, "spaces": 0.002, "indents": 0.3},
    # genuinely traditional text garbled in transit: its script must stay
    "traditional": {"gbk": 0.003, "utf8": 0.002, "latin1": 0.002, "fold": 1.0,
                    "doubled": 0.002, "spaces": 0.002, "indents": 0.3},
}


# ------------------------------------------------------------------------------ GBK


def _gbk2(ch: str) -> bytes | None:
    try:
        b = ch.encode("gb18030")
    except UnicodeEncodeError:
        return None
    return b if len(b) == 2 else None


def _dec2(a: int, b: int) -> str | None:
    if not (0x81 <= a <= 0xFE and (0x40 <= b <= 0x7E or 0x80 <= b <= 0xFE)):
        return None
    try:
        ch = bytes((a, b)).decode("gb18030")
    except UnicodeDecodeError:
        return None
    return ch if len(ch) == 1 else None


def _fold_full(ch: str) -> str:
    o = ord(ch)
    return chr(o - 0xFEE0) if 0xFF01 <= o <= 0xFF5E else ch


def _reading(ch: str, toned: bool = True) -> str | None:
    if not CJK_RE.match(ch):
        return None
    r = pinyin(ch, style=Style.TONE if toned else Style.NORMAL, errors="ignore")
    return r[0][0] if r and r[0] and r[0][0].isalpha() else None


# ----------------------------------------------------------------------------- passes


def _convert(segs: list[_Seg], rng: random.Random) -> None:
    text = "".join(s.text for s in segs)
    trad = convert("s2t", text)
    for s, t in zip(segs, trad):
        s.char = s.text
        if t != s.text and s.text not in LEFT_UNCONVERTED:
            s.text = s.char = t
            s.kinds += ("script",)


def _annotate(segs: list[_Seg], rng: random.Random, rate: float, original: str) -> None:
    readings = pinyin(original, style=Style.TONE, errors=lambda x: [None] * len(x))
    flat = [r[0] if r else None for r in readings]
    toneless = rng.random() < 0.15  # some converters write no tone marks
    wide = rng.random() < 0.1  # some use full-width brackets
    for s, r in zip(segs, flat):
        if not r or not CJK_RE.match(s.char or " "):
            continue
        converted = "script" in s.kinds
        if not (converted and rng.random() < rate) and not (not converted and rng.random() < 0.01):
            continue
        syl = _reading(s.orig, toned=False) if toneless else r
        if not syl:
            continue
        note = f"（{syl}）" if wide else f"({syl})"
        repeat = 1 + (rng.random() < 0.03) * rng.randint(1, 2)
        s.text = s.char + note * repeat
        s.note = syl if repeat == 1 and not wide else ""
        s.kinds += ("annotations",)


def _lose(segs: list[_Seg], rng: random.Random, rate: float) -> None:
    for s in segs:
        if s.note and rng.random() < rate * 25 and "mojibake" not in s.kinds:
            s.text = "?" + s.note + ")"
            s.kinds += ("restored",)
            s.char = ""


def _gbk_shift(segs: list[_Seg], rng: random.Random, rate: float, annotated: bool) -> list[_Seg]:
    out: list[_Seg] = []
    i = 0
    n = len(segs)
    while i < n:
        s = segs[i]
        out.append(s)
        i += 1
        # real pages show most runs starting at a punctuation mark
        boost = 8 if i < n and segs[i].orig in "。，、“”：；" else 1
        if i >= n or rng.random() >= rate * boost:
            continue
        p = s.char or s.text
        if len(p) != 1 or _gbk2(p) is None or s.kinds and "restored" in s.kinds:
            continue
        span = _shift_one(segs, i, _gbk2(p)[1], rng, annotated)
        if span is not None:
            seg, k = span
            out.append(seg)
            i += k
    return out


def _plain(seg: _Seg) -> bool:
    return (len(seg.char or seg.text) == 1 and not set(seg.kinds) - {"script", "annotations"}
            and _gbk2(seg.char or seg.text) is not None)


def _shift_one(segs, i, p2, rng, annotated) -> tuple[_Seg, int] | None:
    # prefer runs starting at punctuation, as real pages show
    k_max = rng.choice([1, 2, 3, 3, 4, 5, 6, 8])
    units = []
    for j in range(i, min(len(segs), i + k_max)):
        u = segs[j]
        if not _plain(u):
            break
        units.append(u)
        if "annotations" in u.kinds:
            break  # an annotation ends the run (its "(" is not a trail byte)
    if not units:
        return None
    last = units[-1]
    if "annotations" in last.kinds and not last.note:
        return None  # a repeated or full-width annotation: keep runs simple
    raw = b"".join(_gbk2(u.char or u.text) for u in units)
    out = []
    x = raw[0]
    boundary = _dec2(p2, x)
    out.append("?")
    note_b = _reading(boundary) if boundary and annotated else None
    if note_b and rng.random() < 0.5:
        out.append(note_b + ")")
    body = raw[1:-1]
    for t in range(0, len(body), 2):
        ch = _dec2(body[t], body[t + 1])
        if ch is None:
            return None
        out.append(_fold_full(ch))
    end = raw[-1]
    if end < 0x80:
        out.append(chr(end))
        if last.note:
            out.append(f"({last.note})")
    else:
        out.append("?")
        if last.note:
            out.append(last.note + ")")
    orig = "".join(u.orig for u in units)
    kinds = ["mojibake"]
    for u in units:
        kinds.extend(k for k in u.kinds if k not in kinds)
    return _Seg(orig, "".join(out), tuple(kinds), char="#"), len(units)


def _encoding_runs(segs, rng, rate, kind) -> list[_Seg]:
    out: list[_Seg] = []
    i = 0
    while i < len(segs):
        if rng.random() < rate:
            k = rng.randint(2, 8)
            units = segs[i:i + k]
            if len(units) >= 2 and all(not u.kinds and u.orig == u.text and u.text.strip()
                                       for u in units):
                orig = "".join(u.orig for u in units)
                damaged = _garble(orig, kind, rng)
                if damaged is not None and damaged != orig:
                    out.append(_Seg(orig, damaged, (kind,), char="#"))
                    i += len(units)
                    continue
        out.append(segs[i])
        i += 1
    return out


def _garble(text: str, kind: str, rng: random.Random) -> str | None:
    if kind == "mojibake_utf8":
        data = text.encode("utf-8")
        out, i = [], 0
        while i < len(data):
            b = data[i]
            if b < 0x80:
                out.append(chr(b))
                i += 1
            elif b == 0x80:  # Windows' GBK (code page 936) shows byte 0x80 as the euro sign
                out.append("€")
                i += 1
            elif i + 1 < len(data) and (ch := _dec2(b, data[i + 1])) is not None:
                out.append(ch)
                i += 2
            else:
                out.append("?")
                i += 1
        return "".join(out)
    # read as CP1252: GBK bytes (a GBK page) or UTF-8 bytes
    try:
        data = text.encode("gbk") if rng.random() < 0.5 else text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return "".join(bytes((b,)).decode("cp1252", errors="ignore") or chr(b) for b in data)


def _fold(segs: list[_Seg]) -> None:
    for s in segs:
        if not s.kinds and s.text in _FOLD:
            s.text = _FOLD[s.text]
            s.kinds = ("punctuation",)


def _insertions(segs: list[_Seg], rng, doubled: float, spaces: float, indents: float) -> list[_Seg]:
    out: list[_Seg] = []
    line_start = True
    for idx, s in enumerate(segs):
        if line_start and s.orig != "\n" and indents and rng.random() < indents:
            out.append(_Seg("", "????", ("indents",)))
        line_start = s.orig == "\n"
        mark = s.orig in _MARKS and s.orig == (s.text if not s.kinds else s.orig) or (
            s.kinds == ("punctuation",))
        prev = out[-1].orig if out else ""
        if mark and s.orig in "，、。" and rng.random() < doubled and prev and CJK_RE.match(prev):
            out.append(_Seg("", ",", ("doubled_punctuation",)))
        if mark and rng.random() < spaces and prev and CJK_RE.match(prev):
            out.append(_Seg("", " ", ("spaces",)))
        out.append(s)
        nxt = segs[idx + 1].orig if idx + 1 < len(segs) else ""
        if mark and rng.random() < spaces and nxt and CJK_RE.match(nxt):
            out.append(_Seg("", " ", ("spaces",)))
    return out


def corrupt(text: str, profile: str | dict, rng: random.Random) -> Corrupted:
    """``text`` damaged as ``profile`` says (a name of :data:`PROFILES` or such a dict)."""
    conf = PROFILES[profile] if isinstance(profile, str) else profile
    segs = [_Seg(c, c) for c in text]
    for s in segs:
        s.char = s.text
    if conf.get("script"):
        _convert(segs, rng)
    annotated = bool(conf.get("annotate"))
    if annotated:
        _annotate(segs, rng, conf["annotate"], text)
    if conf.get("lost"):
        _lose(segs, rng, conf["lost"])
    if conf.get("gbk"):
        segs = _gbk_shift(segs, rng, conf["gbk"], annotated)
    if conf.get("utf8"):
        segs = _encoding_runs(segs, rng, conf["utf8"], "mojibake_utf8")
    if conf.get("latin1"):
        segs = _encoding_runs(segs, rng, conf["latin1"], "mojibake_latin1")
    if conf.get("fold"):
        _fold(segs)
    segs = _insertions(segs, rng, conf.get("doubled", 0), conf.get("spaces", 0),
                       conf.get("indents", 0))
    damages = []
    at = 0
    for s in segs:
        if s.kinds:
            damages.append(Damage(at, at + len(s.text), s.orig, s.kinds))
        at += len(s.text)
    return Corrupted("".join(s.text for s in segs), damages)


# ---------------------------------------------------------------------------- measure


def _part_of(repair, damage: Damage) -> bool:
    """``repair`` covers the start or the end of ``damage`` only and gives that much of its
    original (compared in simplified script)."""
    after, original = to_simplified(repair.after), to_simplified(damage.original)
    if not after:
        return False
    if repair.start == damage.start and repair.end < damage.end:
        return original.startswith(after)
    if repair.end == damage.end and repair.start > damage.start:
        return original.endswith(after)
    return False


@dataclass
class Tally:
    damages: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    restored: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    repairs: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    correct: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    wrong_examples: list = field(default_factory=list)
    missed_examples: list = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("damages", "restored", "repairs", "correct"):
            mine = getattr(self, name)
            for k, v in getattr(other, name).items():
                mine[k] += v
        self.wrong_examples.extend(other.wrong_examples)
        self.missed_examples.extend(other.missed_examples)

    def rows(self) -> list[tuple[str, int, int, float, float]]:
        """(kind, damages, repairs, precision, recall) per kind."""
        out = []
        for kind in sorted(set(self.damages) | set(self.repairs)):
            d, r = self.damages[kind], self.repairs[kind]
            precision = self.correct[kind] / r if r else 1.0
            recall = self.restored[kind] / d if d else 1.0
            out.append((kind, d, r, precision, recall))
        return out


def measure(corrupted: Corrupted, result, source: str = "") -> Tally:
    """Precision and recall counts of ``result`` (a RepairResult of ``corrupted.text``).

    Damages and repairs are grouped where they overlap; a group is right when the repaired text
    of its stretch equals the original (for every kind but ``script``: in simplified script).  Recall of a kind: its damages in right groups; precision
    of a kind: its repairs in right groups.  Flagged spans are not repairs.
    """
    tally = Tally()
    items = [("d", d.start, d.end, d) for d in corrupted.damages]
    items += [("r", r.start, r.end, r) for r in result.spans]
    items.sort(key=lambda x: (x[1], x[2]))
    groups: list[list] = []
    end = -1
    for item in items:
        _, s, e, _ = item
        if groups and (s < end or (s == end and s == e) or (s == e == end)):
            groups[-1].append(item)
            end = max(end, e)
        else:
            groups.append([item])
            end = e
    text = corrupted.text
    for group in groups:
        start = min(i[1] for i in group)
        stop = max(i[2] for i in group)
        dmg = sorted((i[3] for i in group if i[0] == "d"), key=lambda d: d.start)
        reps = sorted((i[3] for i in group if i[0] == "r"), key=lambda r: r.start)
        want, at = [], start
        for d in dmg:
            want.append(text[at:d.start])
            want.append(d.original)
            at = d.end
        want.append(text[at:stop])
        got, at = [], start
        for r in reps:
            got.append(text[at:r.start])
            got.append(r.after)
            at = r.end
        got.append(text[at:stop])
        want_text, got_text = "".join(want), "".join(got)
        right = want_text == got_text
        # every kind but the script is judged in simplified script: a mojibake repaired right in
        # a release whose conversion was not undone restored what it could
        right_in_script = right or to_simplified(want_text) == to_simplified(got_text)
        for d in dmg:
            for k in d.kinds:
                tally.damages[k] += 1
                tally.restored[k] += right if k == "script" else right_in_script
        for r in reps:
            # a repair of part of a damage (the rest flagged: a rare character) is right when
            # it gives that part of the original
            part = (not right_in_script and len(dmg) == 1 and len(reps) == 1
                    and _part_of(r, dmg[0]))
            for k in r.kinds:
                tally.repairs[k] += 1
                tally.correct[k] += (right if k == "script" else right_in_script) or part
        if not right_in_script:
            ctx = (source, text[max(0, start - 8):stop + 8], "".join(want), "".join(got),
                   [d.kinds for d in dmg], [r.kinds for r in reps])
            (tally.wrong_examples if reps else tally.missed_examples).append(ctx)
    return tally
