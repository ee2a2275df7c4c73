"""Build ``search/data/charmodel.npz``, the character trigram model of :mod:`search.charmodel`.

    PYTHONPATH=$PWD python scripts/build_charmodel.py [--data ../shared/data] [--mirror ../.mirror]

Training text (sources and licenses: ``search/data/README.md``):

* the paragraphs and questions of CMRC2018 (dev) and DRCD (test) in ``--data`` (the
  ``corpus.jsonl`` and ``queries.jsonl`` of ``cmrc2018/`` and ``drcd/``), and of CMRC2018's
  trial set and DRCD's dev set;
* the laws, administrative regulations, judicial interpretations, departmental rules and
  local regulations of the People's Republic of China as the repository LawRefBook/Laws holds
  them, and the State Council's government work reports 1954-2025 as Wikisource holds them
  (repository aldohemsn/chinese-political-corpora): official documents of state organs,
  excluded from copyright by Article 5 of the PRC Copyright Law.  These four are read from bare
  git copies of their repositories at fixed commits (:data:`GIT_SOURCES`) under ``--mirror``
  (``<owner>+<name>/repo``; ``git clone --bare https://github.com/<owner>/<name>`` makes one);
* the words of jieba's dictionary, each weighted by its frequency (scaled so the dictionary
  weighs :data:`JIEBA_SHARE` of the corpus): which characters belong together inside a word.

EXCEPT every paragraph, question or line (of a law, of a report) that shares a stretch of
:data:`OVERLAP` characters (folded) with a text of the repair's ground truth
(``tests/data/repair``: its paragraphs and the sample release), and the questions asked about
such a paragraph of ``--data``: the ground truth stays held out.  Texts a git source repeats
(a law's versions) are counted once.

The result is deterministic: the same sources give the same file (its manifest holds the
SHA-256 of the training text and the ids left out).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from search.charmodel import _BITS, BOUNDARY, DATA_FILE, QUANTUM, normalize  # noqa: E402
from search.script import CJK_RE  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_MIRROR = REPO.parent / ".mirror"
GROUND_TRUTH = REPO / "tests" / "data" / "repair"
OUT = REPO / "search" / "data" / DATA_FILE
#: A corpus paragraph sharing this many characters in a row with the ground truth is left out.
OVERLAP = 16
#: The dictionary's words weigh this much of the corpus's characters.
JIEBA_SHARE = 0.1
#: Each source's counts are multiplied by its weight: the encyclopaedia text (names, places,
#: the variety of subjects) would otherwise be drowned by the legal text, 17 times as long.
WEIGHTS = {"cmrc2018": 12.0, "drcd": 12.0, "cmrc2018-trial": 12.0, "drcd-dev": 12.0,
           "laws": 1.0, "reports": 3.0}
#: Bigrams and trigrams seen (weighted) less than this often are dropped: the file stays small.
MIN_COUNT = 2.0


class Source:
    """A corpus kept in a public git repository, read at a fixed commit."""

    def __init__(self, name: str, repo: str, commit: str, license: str, select, extract):
        self.name, self.repo, self.commit, self.license = name, repo, commit, license
        self.select, self.extract = select, extract

    def git_dir(self, mirror: Path) -> Path:
        return mirror / self.repo.replace("/", "+") / "repo"

    def available(self, mirror: Path) -> bool:
        return (self.git_dir(mirror) / "objects").is_dir()

    def texts(self, mirror: Path) -> list[str]:
        git = ["git", "--git-dir", str(self.git_dir(mirror))]
        names = subprocess.run(git + ["ls-tree", "-r", "-z", "--name-only", self.commit],
                               capture_output=True, check=True).stdout.decode().split("\0")
        names = sorted(n for n in names if n and self.select(n))
        batch = subprocess.run(git + ["cat-file", "--batch"],
                               input="".join(f"{self.commit}:{n}\n" for n in names).encode(),
                               capture_output=True, check=True).stdout
        out, at = [], 0
        while at < len(batch):
            head_end = batch.index(b"\n", at)
            size = int(batch[at:head_end].split()[2])
            out.extend(self.extract(batch[head_end + 1:head_end + 1 + size].decode("utf-8")))
            at = head_end + 1 + size + 1
        return out


_LAW_DIRS = ("宪法/", "宪法相关法/", "民法典/", "民法商法/", "行政法/", "经济法/", "社会法/", "刑法/",
             "诉讼与非诉讼程序法/", "行政法规/", "部门规章/", "司法解释/", "其他/", "DLC/")
_ARTICLE_RE = re.compile(r"^第[一二三四五六七八九十百千零〇]+条\s*")


def _law_lines(text: str) -> list[str]:
    """The running text of a law in the repository's Markdown: no front matter, comments or
    heading marks, and no article number opening a line (every law's lines would start so)."""
    out = []
    for line in text.split("\n"):
        line = line.strip()
        if not line or line.startswith("<!--") or line == "---" or (
                line.isascii() and ":" in line):
            continue
        line = _ARTICLE_RE.sub("", line.lstrip("#").strip())
        if line:
            out.append(line)
    return out


def _report_lines(text: str) -> list[str]:
    return [json.loads(row)["content"] for row in text.split("\n") if row.strip()]


def _squad_texts(text: str) -> list[str]:
    """The paragraphs and questions of a reading-comprehension set in SQuAD's JSON."""
    out = []
    for article in json.loads(text)["data"]:
        for paragraph in article["paragraphs"]:
            out.append(paragraph["context"])
            out.extend(qa["question"] for qa in paragraph["qas"])
    return out


GIT_SOURCES = (
    # the parts of both reading-comprehension sets the ground truth is not taken from (their
    # training sets are too large for the copies at hand)
    Source("cmrc2018-trial", "ymcui/cmrc2018", "c0eb1b6ba219847457e6af3180da722bbeb656af",
           "CC BY-SA 4.0", lambda n: n == "squad-style-data/cmrc2018_trial.json", _squad_texts),
    Source("drcd-dev", "DRCKnowledgeTeam/DRCD", "b944790de5af02c5fbb7cd9cb1473d27d169eebf",
           "CC BY-SA 3.0", lambda n: n == "DRCD_dev.json", _squad_texts),
    Source("laws", "LawRefBook/Laws", "2f4c5c23716267af9dbebbbbd6cbbf732b101981",
           "public domain: official documents of state organs (PRC Copyright Law, Art. 5)",
           lambda n: n.endswith(".md") and not n.endswith("_index.md")
           and n.startswith(_LAW_DIRS), _law_lines),
    Source("reports", "aldohemsn/chinese-political-corpora",
           "99bc4b01d11c2b884a83ecc8f966d97e17cd450e",
           "public domain: official documents of state organs (PRC Copyright Law, Art. 5; "
           "Wikisource: PD-PRC-exempt)",
           lambda n: n == "government_work_reports.jsonl", _report_lines),
)


def ground_truth_texts(folder: Path = GROUND_TRUTH) -> list[str]:
    """Every text of the repair's ground truth (paragraphs of the jsonl files, the releases)."""
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            out.extend(json.loads(line)["text"] for line in f if line.strip())
    out.extend(p.read_text(encoding="utf-8") for p in sorted((folder / "releases").glob("*.txt")))
    return out


def held_windows(texts: list[str]) -> set[str]:
    """The stretches of :data:`OVERLAP` characters of ``texts`` (folded) that are mostly
    ideographs (Latin names and numbers, read as ``a`` and ``0``, would match anything)."""
    out = set()
    for text in texts:
        folded = normalize(text)
        for i in range(0, max(1, len(folded) - OVERLAP + 1)):
            window = folded[i:i + OVERLAP]
            if len(CJK_RE.findall(window)) >= OVERLAP * 3 // 4:
                out.add(window)
    return out


def _shares(text: str, held: set[str]) -> bool:
    folded = normalize(text)
    return any(folded[i:i + OVERLAP] in held for i in range(len(folded) - OVERLAP + 1))


def sources_available(data: Path = DEFAULT_DATA, mirror: Path = DEFAULT_MIRROR) -> bool:
    return (data / "cmrc2018" / "corpus.jsonl").is_file() and all(
        s.available(mirror) for s in GIT_SOURCES)


def training_texts(data: Path = DEFAULT_DATA, mirror: Path = DEFAULT_MIRROR,
                   ground_truth: list[str] | None = None
                   ) -> tuple[dict[str, list[str]], list[str]]:
    """({source: the texts the model is trained on}, the ids of the texts left out), in a
    fixed order."""
    held = held_windows(ground_truth if ground_truth is not None else ground_truth_texts())
    kept: dict[str, list[str]] = {}
    left_out = []
    for name in ("cmrc2018", "drcd"):
        here, left_here = [], set()
        with (data / name / "corpus.jsonl").open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if _shares(row["text"], held):
                    left_out.append(f"{name}/{row['id']}")
                    left_here.add(row["id"])
                else:
                    here.append(row["text"])
        asked = {}
        with (data / name / "qrels.tsv").open(encoding="utf-8") as f:
            for line in f:
                query, doc = line.rstrip("\n").split("\t")[:2]
                asked[query] = doc
        with (data / name / "queries.jsonl").open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if asked.get(row["id"]) not in left_here:
                    here.append(row["text"])
        kept[name] = here
    for source in GIT_SOURCES:
        here, seen = [], set()
        for n, line in enumerate(source.texts(mirror)):
            if line in seen:
                continue
            seen.add(line)
            if _shares(line, held):
                left_out.append(f"{source.name}/{n}")
            else:
                here.append(line)
        kept[source.name] = here
    return kept, left_out


def training_lines(texts: dict[str, list[str]]) -> tuple[dict[str, list[str]], str]:
    """The lines the model counts (normalized) per source, and the SHA-256 of them all."""
    lines = {name: [line for t in these for line in normalize(t).split("\n") if line.strip()]
             for name, these in texts.items()}
    digest = hashlib.sha256()
    for name in sorted(lines):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update("\n".join(lines[name]).encode("utf-8") + b"\0")
    return lines, digest.hexdigest()


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


def _ngrams(ids: np.ndarray, n: int, keep: np.ndarray) -> np.ndarray:
    key = ids[:len(ids) - n + 1].copy()
    for k in range(1, n):
        key = (key << _BITS) | ids[k:len(ids) - n + 1 + k]
    return key[keep]


def _count(text: str, vocab: np.ndarray):
    """(unigram ids, bigram keys, trigram keys) of ``text``, its lines each begun and ended by
    a boundary (two between lines): no n-gram spans two lines."""
    ids = np.searchsorted(vocab, _codes(text)) + 1
    nl = ids == (np.searchsorted(vocab, ord(BOUNDARY)) + 1)
    bi = _ngrams(ids, 2, ~(nl[:-1] & nl[1:]))  # "\n\n" is where two lines meet
    tri = _ngrams(ids, 3, ~nl[1:-1])  # a boundary is first or last, never in the middle
    return ids, bi, tri


def _add(totals: dict, keys: np.ndarray, weight, order: int) -> None:
    values, counts = np.unique(keys, return_counts=True)
    totals[order].append((values, counts.astype(np.float64) * weight))


def _merge(parts) -> tuple[np.ndarray, np.ndarray]:
    keys = np.concatenate([k for k, _ in parts])
    weights = np.concatenate([w for _, w in parts])
    values, inverse = np.unique(keys, return_inverse=True)
    return values, np.bincount(inverse, weights=weights)


def _quantize(counts: np.ndarray) -> np.ndarray:
    """A count as one byte: round(log(count) / :data:`QUANTUM`) (3 % at most off)."""
    q = np.rint(np.log(np.maximum(counts, 1.0)) / QUANTUM)
    return np.clip(q, 0, 255).astype(np.uint8)


def build(data: Path = DEFAULT_DATA, out: Path = OUT, mirror: Path = DEFAULT_MIRROR) -> dict:
    texts, left_out = training_texts(data, mirror)
    lines, digest = training_lines(texts)
    joined = {name: BOUNDARY + (BOUNDARY * 2).join(these) + BOUNDARY
              for name, these in lines.items()}
    corpus_chars = {name: sum(len(line) for line in these) for name, these in lines.items()}
    weighted_chars = sum(WEIGHTS[name] * n for name, n in corpus_chars.items())

    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    words = sorted((normalize(w), n) for w, n in tokenizer.FREQ.items() if n > 0 and len(w) > 1)
    word_chars = sum(n * len(w) for w, n in words)
    words_text = BOUNDARY.join(w for w, _ in words)
    word_weight = np.array([n for _, n in words], dtype=np.float64) * (
        JIEBA_SHARE * weighted_chars / word_chars)

    vocab = np.unique(np.concatenate([_codes(t) for t in [*joined.values(), words_text]]))
    if len(vocab) >= (1 << _BITS) - 1:
        raise SystemExit("vocabulary too large")
    totals: dict[int, list] = {1: [], 2: [], 3: []}
    for name, text in joined.items():
        for order, keys in enumerate(_count(text, vocab), start=1):
            _add(totals, keys, WEIGHTS[name], order)
    # the dictionary's words, each weighted by its frequency: n-grams inside a word only
    ids = np.searchsorted(vocab, _codes(words_text)) + 1
    boundary = ids == np.searchsorted(vocab, ord(BOUNDARY)) + 1
    word_of = np.cumsum(boundary)  # the k-th word's characters (from 0) have k boundaries before
    for order in (1, 2, 3):
        start = np.arange(len(ids) - order + 1)
        inside = ~boundary[start] & (word_of[start] == word_of[start + order - 1])
        totals[order].append((_ngrams(ids, order, inside), word_weight[word_of[start][inside]]))
    uni_keys, uni_counts = _merge(totals[1])
    uni = np.zeros(len(vocab), dtype=np.float64)
    uni[uni_keys - 1] = uni_counts
    bi_keys, bi_counts = _merge(totals[2])
    tri_keys, tri_counts = _merge(totals[3])
    keep = bi_counts >= MIN_COUNT
    bi_keys, bi_counts = bi_keys[keep], bi_counts[keep]
    keep = tri_counts >= MIN_COUNT
    tri_keys, tri_counts = tri_keys[keep], tri_counts[keep]
    # a trigram's history is a kept bigram (it was seen at least as often): stored as how many
    # trigrams follow each bigram, and each trigram's last character
    history = tri_keys >> _BITS
    at = np.searchsorted(bi_keys, history)
    if not np.array_equal(bi_keys[np.minimum(at, len(bi_keys) - 1)], history):
        raise SystemExit("a trigram's history is no kept bigram")
    followers = np.bincount(at, minlength=len(bi_keys))
    first = bi_keys >> _BITS
    manifest = {
        "sources": ["cmrc2018 corpus+queries (CC BY-SA 4.0)", "drcd corpus+queries (CC BY-SA 3.0)",
                    *(f"{s.name}: github.com/{s.repo} @ {s.commit} ({s.license})"
                      for s in GIT_SOURCES),
                    "jieba 0.42.1 dict.txt (MIT)"],
        "training_sha256": digest, "corpus_characters": corpus_chars, "weights": WEIGHTS,
        "left_out": left_out, "overlap": OVERLAP, "jieba_share": JIEBA_SHARE,
        "min_count": MIN_COUNT, "vocabulary": len(vocab), "bigrams": len(bi_keys),
        "trigrams": len(tri_keys),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out, vocab=np.array("".join(chr(c) for c in vocab)),
        uni=uni.astype(np.float32),
        bi_first=np.bincount(first - 1, minlength=len(vocab)).astype(np.uint32),
        bi_second=(bi_keys & ((1 << _BITS) - 1)).astype(np.uint16),
        bi_q=_quantize(bi_counts),
        tri_followers=followers.astype(np.uint16),
        tri_last=(tri_keys & ((1 << _BITS) - 1)).astype(np.uint16),
        tri_q=_quantize(tri_counts),
        manifest=np.array(json.dumps(manifest, ensure_ascii=False)))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    manifest = build(args.data, args.out, args.mirror)
    shown = {k: v for k, v in manifest.items() if k != "left_out"}
    print(json.dumps(shown, ensure_ascii=False, indent=1))
    print(f"left out {len(manifest['left_out'])} texts; {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
