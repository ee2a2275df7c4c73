"""Heavy requests: the CPU time of each heavy shape of issue 11, and a plain search beside it.

Indexes a synthetic corpus (``benchmarks/corpus.py``, 20,000 paragraphs by default) plus two
extra releases: one holding a paragraph of a million characters (``统筹发展`` repeated,
``--huge-chars``) and one of ``--big-release`` paragraphs. Then, in this process, for each
shape:

* **CPU**: ``time.process_time()`` of the request alone, on a freshly opened index (its caches
  empty: a different set of phrases always gets past them) -- library calls
  (``Index.search``) and web requests through Flask's test client (``/``, ``/doc/<id>``,
  ``/api/documents/<id>``), what a server thread would spend;
* **alongside**: the wall time of a plain search (``香港``) on the same index (or app) sent
  while the heavy request runs in another thread, as a server's threads share one index (the
  heavy request is started first; if it ended before the plain one, the row says so);
* the work the search counted (:class:`search.scoring.Work`): phrases checked on the text,
  paragraphs checked, candidates left past the budget.

The phrases are pairs of the corpus's most common bigrams (``"一个 中国"``: two tokens, checked
on the folded text; ``"一个中国"``: a substring), as many as fit in 500 characters.

Usage::

    python benchmarks/heavy.py --paragraphs 20000
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import random
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.corpus import default_data_dir  # noqa: E402
from benchmarks.speed import DEFAULT_OUT, ensure_corpus  # noqa: E402

PLAIN_QUERY = "香港"
HUGE_ID = "heavy-huge-paragraph"
BIG_ID = "heavy-big-release"


def extra_sources(folder: Path, big_paragraphs: int, huge_chars: int) -> Path:
    """A JSONL with the huge-paragraph release (``统筹发展`` repeated to ``huge_chars``
    characters) and the big release."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "heavy-extra.jsonl"
    big = [f"第{n}段，关于统筹疫情防控和经济运行的说明，香港与澳门的企业参加。"
           for n in range(2, big_paragraphs + 1)]
    with path.open("w", encoding="utf-8") as out:
        huge = ("统筹发展" * (huge_chars // 4 + 1))[:huge_chars]
        for record in ({"id": HUGE_ID, "title": "巨型段落", "text": "开头。\n" + huge},
                       {"id": BIG_ID, "title": "大型通报", "text": "\n".join(big)}):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def common_bigrams(corpus: Path, count: int) -> tuple[list[str], tuple[str, str]]:
    """The ``count`` character bigrams that the most paragraphs of ``corpus`` hold, and the
    pair of them held together by the paragraphs with the most characters in all (the
    costliest phrase to check)."""
    df: collections.Counter[str] = collections.Counter()
    paragraphs: list[tuple[set[str], int]] = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            for para in json.loads(line)["text"].split("\n"):
                grams = set()
                for run in re.findall(r"[\u4e00-\u9fff]+", para):
                    grams.update(run[i:i + 2] for i in range(len(run) - 1))
                df.update(grams)
                paragraphs.append((grams, len(para)))
    top = [g for g, _n in df.most_common(count)]
    together: collections.Counter[tuple[str, str]] = collections.Counter()
    for grams, chars in paragraphs:
        for pair in itertools.permutations([g for g in top if g in grams], 2):
            together[pair] += chars
    return top, together.most_common(1)[0][0]


def fit(parts: Sequence[str], limit: int = 500, head: str = "") -> str:
    """``head`` and as many of ``parts`` as fit in ``limit`` characters, space-separated."""
    out = head
    for part in parts:
        if len(out) + len(part) + 1 > limit:
            break
        out = f"{out} {part}" if out else part
    return out


def shapes(words: list[str], pair: tuple[str, str]) -> dict[str, str]:
    """The heavy query strings, each at most 500 characters."""
    pairs = list(itertools.permutations(words, 2))
    random.Random(0).shuffle(pairs)  # not all beginning with the same word
    spaced = [f'"{a} {b}"' for a, b in pairs]
    joined = [f'"{a}{b}"' for a, b in pairs]
    return {
        "many phrases (spaced pairs)": fit(spaced),
        "many phrases, another set": fit(spaced[len(spaced) // 2:]),
        "many phrases (unspaced)": fit(joined),
        "many negated phrases": fit(["-" + p for p in spaced], head=PLAIN_QUERY),
        "many negated words": fit([f"-{a}{b}" for a, b in pairs], head=PLAIN_QUERY),
        "many OR groups (words)": fit([f"{a} OR {b}" for a, b in pairs]),
        "many OR groups (phrases)": fit([f"{a} OR {b}" for a, b in zip(spaced[::2], spaced[1::2])]),
        "one OR chain of phrases": fit(" OR ".join(spaced).split(" ")).removesuffix(" OR"),
        "common phrases OR'd, unspaced": fit(" OR ".join(joined).split(" ")).removesuffix(" OR"),
        "the costliest phrase": f'"{pair[0]} {pair[1]}"',
        "the costliest phrase, excluded": f'{pair[0]} -"{pair[0]} {pair[1]}"',
        "huge paragraph": "统筹",
        "huge paragraph, phrase": '"统筹发展"',
    }


def cpu_of(call: Callable[[], object]) -> tuple[float, object]:
    t0 = time.process_time()
    out = call()
    return time.process_time() - t0, out


def alongside(heavy: Callable[[], object], plain: Callable[[], object]) -> tuple[float, bool]:
    """Wall milliseconds of ``plain()`` started while ``heavy()`` runs in another thread, and
    whether the heavy call was still running when it ended."""
    started, done = threading.Event(), threading.Event()

    def run() -> None:
        started.set()
        heavy()
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    started.wait()
    time.sleep(0.01)  # let the heavy request get into its ranking
    t0 = time.perf_counter()
    plain()
    wall = (time.perf_counter() - t0) * 1000
    overlapped = not done.is_set()
    thread.join()
    return wall, overlapped


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paragraphs", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big-release", type=int, default=10_000,
                    help="paragraphs of the big release (paged on /doc)")
    ap.add_argument("--huge-chars", type=int, default=1_000_000,
                    help="characters of the huge paragraph")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--index-dir", type=Path, default=None,
                    help="keep the index here (built if missing) instead of a temporary one")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = ap.parse_args(argv)

    from search import DOC_PER_PAGE, build_index, open_index
    from search.scoring import Work
    from web import create_app

    corpus, releases = ensure_corpus(args.out, args.paragraphs, args.seed, default_data_dir())
    extra = extra_sources(args.out / "heavy", args.big_release, args.huge_chars)
    words, pair = common_bigrams(corpus, 16)
    with tempfile.TemporaryDirectory(prefix="heavy-") as tmp:
        index_dir = args.index_dir or Path(tmp) / "index"
        if not (index_dir / "CURRENT").exists():
            t0 = time.perf_counter()
            report = build_index([corpus, extra], index_dir)
            print(f"[heavy] {report.releases} releases, {report.paragraphs} paragraphs indexed "
                  f"in {time.perf_counter() - t0:.1f} s")
        print(f"[heavy] common bigrams: {' '.join(words)}; costliest pair: {' '.join(pair)}")
        warm = open_index(index_dir)
        warm.search(PLAIN_QUERY)  # jieba's dictionary, OpenCC

        rows: list[dict] = []

        Calls = tuple[Callable[[], object], Callable[[], object]]

        def measure(name: str, make: Callable[[], Calls], query: str | None = None) -> None:
            heavy_call, _plain = make()  # a fresh index (empty caches) for the CPU figure
            cpu, _ = cpu_of(heavy_call)
            work = Work()
            if query is not None:
                open_index(index_dir).search(query, work=work)
            heavy_call, plain_call = make()  # the plain search on the same index, as a server
            plain_call()
            wall, overlapped = alongside(heavy_call, plain_call)
            rows.append({"shape": name, "cpu_ms": round(cpu * 1000, 1),
                         "plain_alongside_ms": round(wall, 1), "overlapped": overlapped,
                         "phrases_checked": work.phrases_checked,
                         "paragraphs_checked": work.paragraphs_checked,
                         "paragraphs_unchecked": work.paragraphs_unchecked})

        def library(query: str) -> Callable[[], Calls]:
            def make() -> Calls:
                ix = open_index(index_dir)
                return (lambda: ix.search(query)), (lambda: ix.search(PLAIN_QUERY))
            return make

        def web(path: str) -> Callable[[], Calls]:
            def make() -> Calls:
                client = create_app({"INDEX_DIR": str(index_dir)}).test_client()
                client.get("/api/health")  # opens the index
                plain = "/api/search?q=" + quote(PLAIN_QUERY)
                return (lambda: client.get(path).data), (lambda: client.get(plain).data)
            return make

        for name, query in shapes(words, pair).items():
            measure(f"search: {name} ({len(query)} chars)", library(query), query)
        heavy = shapes(words, pair)["many phrases (spaced pairs)"]
        measure("GET /?q=<many phrases>", web("/?q=" + quote(heavy)))
        measure("GET /api/search?q=统筹 (huge paragraph)", web("/api/search?q=" + quote("统筹")))
        last = (args.big_release - 1) // DOC_PER_PAGE + 1
        measure(f"GET /doc/<big>?page={last}&q=统筹", web(f"/doc/{BIG_ID}?page={last}&q=" + quote("统筹")))
        measure(f"GET /doc/<big>?hl={args.big_release // 2}&q=<many phrases>",
                web(f"/doc/{BIG_ID}?hl={args.big_release // 2}&q=" + quote(heavy)))
        measure(f"GET /api/documents/<big>?page={last}", web(f"/api/documents/{BIG_ID}?page={last}"))
        measure("GET /doc/<huge paragraph>?q=统筹", web(f"/doc/{HUGE_ID}?q=" + quote("统筹")))
        plain_cpu, _ = cpu_of(lambda: open_index(index_dir).search(PLAIN_QUERY))

    width = max(len(r["shape"]) for r in rows)
    print(f"\n{'shape':<{width}}  {'CPU ms':>7}  {'plain beside ms':>15}  {'checks':>6}  "
          f"{'checked':>7}  {'past':>6}")
    for r in rows:
        note = "" if r["overlapped"] else "  (heavy done first)"
        print(f"{r['shape']:<{width}}  {r['cpu_ms']:>7.1f}  {r['plain_alongside_ms']:>15.1f}  "
              f"{r['phrases_checked']:>6}  {r['paragraphs_checked']:>7}  "
              f"{r['paragraphs_unchecked']:>6}{note}")
    print("(checks: phrases checked on the text; checked: paragraphs they looked at; past:"
          " candidates past the budget)")
    print(f"\nplain search alone (opening the index included): {plain_cpu * 1000:.1f} ms CPU; "
          f"corpus {corpus.name}: {releases} releases")
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
