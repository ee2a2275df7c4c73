"""Build ``search/data/charmodel.npz``, the character trigram model of :mod:`search.charmodel`.

    PYTHONPATH=$PWD python scripts/build_charmodel.py [--data ../shared/data]

Training text (see ``search/data/README.md``):

* the paragraphs and questions of CMRC2018 (dev) and DRCD (test) in ``--data`` (the
  ``corpus.jsonl`` and ``queries.jsonl`` of ``cmrc2018/`` and ``drcd/``), EXCEPT every
  paragraph that shares a stretch of :data:`OVERLAP` characters (folded) with a text of the
  repair's ground truth (``tests/data/repair``: its paragraphs and the sample release) and the
  questions asked about such a paragraph: the ground truth stays held out;
* the words of jieba's dictionary, each as a line of its own weighted by its frequency
  (scaled so the dictionary weighs :data:`JIEBA_SHARE` of the corpus): which characters
  belong together inside a word.

The result is deterministic: the same data give the same file (its manifest holds the SHA-256
of the training text and the ids left out).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from search.charmodel import _BITS, BOUNDARY, DATA_FILE, normalize  # noqa: E402
from search.script import CJK_RE  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
GROUND_TRUTH = REPO / "tests" / "data" / "repair"
OUT = REPO / "search" / "data" / DATA_FILE
#: A corpus paragraph sharing this many characters in a row with the ground truth is left out.
OVERLAP = 16
#: The dictionary's words weigh this much of the corpus's characters.
JIEBA_SHARE = 0.25
#: Trigrams and bigrams seen (weighted) less than this often are dropped: the file stays small.
MIN_TRIGRAM = 1.0


def ground_truth_texts(folder: Path = GROUND_TRUTH) -> list[str]:
    """Every text of the repair's ground truth (paragraphs of the jsonl files, the releases)."""
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            out.extend(json.loads(line)["text"] for line in f if line.strip())
    out.extend(p.read_text(encoding="utf-8") for p in sorted((folder / "releases").glob("*.txt")))
    return out


def _windows(text: str) -> set[str]:
    """The stretches of :data:`OVERLAP` characters of ``text`` (folded) that are mostly
    ideographs (Latin names and numbers, read as ``a`` and ``0``, would match anything)."""
    folded = normalize(text)
    out = set()
    for i in range(0, max(1, len(folded) - OVERLAP + 1)):
        window = folded[i:i + OVERLAP]
        if len(CJK_RE.findall(window)) >= OVERLAP * 3 // 4:
            out.add(window)
    return out


def training_texts(data: Path = DEFAULT_DATA,
                   ground_truth: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(the corpus texts the model is trained on, the ids of those left out), in a fixed
    order."""
    held = set()
    for text in ground_truth if ground_truth is not None else ground_truth_texts():
        held |= _windows(text)
    kept, left_out = [], []
    for name in ("cmrc2018", "drcd"):
        left_here = set()
        with (data / name / "corpus.jsonl").open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if _windows(row["text"]) & held:
                    left_out.append(f"{name}/{row['id']}")
                    left_here.add(row["id"])
                else:
                    kept.append(row["text"])
        asked = {}
        with (data / name / "qrels.tsv").open(encoding="utf-8") as f:
            for line in f:
                query, doc = line.rstrip("\n").split("\t")[:2]
                asked[query] = doc
        with (data / name / "queries.jsonl").open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if asked.get(row["id"]) not in left_here:
                    kept.append(row["text"])
    return kept, left_out


def _count(lines, weight: float, uni: Counter, bi: Counter, tri: Counter) -> None:
    for line in lines:
        s = BOUNDARY + line + BOUNDARY
        for i, c in enumerate(s):
            uni[c] += weight
            if i >= 1:
                bi[s[i - 1:i + 1]] += weight
            if i >= 2:
                tri[s[i - 2:i + 1]] += weight


def training_lines(texts: list[str]) -> tuple[list[str], str]:
    """The lines the model counts (normalized), and their SHA-256."""
    lines = [line for t in texts for line in normalize(t).split("\n") if line.strip()]
    return lines, hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def build(data: Path = DEFAULT_DATA, out: Path = OUT) -> dict:
    texts, left_out = training_texts(data)
    lines, digest = training_lines(texts)
    uni: Counter = Counter()
    bi: Counter = Counter()
    tri: Counter = Counter()
    _count(lines, 1.0, uni, bi, tri)
    corpus_chars = sum(len(line) for line in lines)

    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    words = sorted((w, n) for w, n in tokenizer.FREQ.items() if n > 0 and len(w) > 1)
    word_chars = sum(n * len(w) for w, n in words)
    scale = JIEBA_SHARE * corpus_chars / word_chars
    for word, n in words:
        folded = normalize(word)
        s = folded  # inside a word only: no boundaries
        for i in range(len(s)):
            uni[s[i]] += n * scale
            if i >= 1:
                bi[s[i - 1:i + 1]] += n * scale
            if i >= 2:
                tri[s[i - 2:i + 1]] += n * scale

    vocab = sorted(uni)
    if len(vocab) >= (1 << _BITS) - 1:
        raise SystemExit("vocabulary too large")
    ids = {c: i + 1 for i, c in enumerate(vocab)}
    bi_items = sorted(((ids[k[0]] << _BITS) | ids[k[1]], v) for k, v in bi.items()
                      if v >= MIN_TRIGRAM)
    tri_items = sorted(((((ids[k[0]] << _BITS) | ids[k[1]]) << _BITS) | ids[k[2]], v)
                       for k, v in tri.items()
                       if v >= MIN_TRIGRAM and all(c in ids for c in k))
    manifest = {
        "sources": ["cmrc2018 corpus+queries (CC BY-SA 4.0)", "drcd corpus+queries (CC BY-SA 3.0)",
                    "jieba 0.42.1 dict.txt (MIT)"],
        "training_sha256": digest, "corpus_characters": corpus_chars,
        "left_out": left_out, "overlap": OVERLAP, "jieba_share": JIEBA_SHARE,
        "min_trigram": MIN_TRIGRAM, "vocabulary": len(vocab), "bigrams": len(bi_items),
        "trigrams": len(tri_items),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out, vocab=np.array("".join(vocab)),
        uni=np.array([uni[c] for c in vocab], dtype=np.float32),
        bi_keys=np.array([k for k, _ in bi_items], dtype=np.uint32),
        bi_counts=np.array([v for _, v in bi_items], dtype=np.float32),
        tri_keys=np.array([k for k, _ in tri_items], dtype=np.uint64),
        tri_counts=np.array([v for _, v in tri_items], dtype=np.float32),
        manifest=np.array(json.dumps(manifest, ensure_ascii=False)))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    manifest = build(args.data, args.out)
    shown = {k: v for k, v in manifest.items() if k != "left_out"}
    print(json.dumps(shown, ensure_ascii=False, indent=1))
    print(f"left out {len(manifest['left_out'])} paragraphs; {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
