"""Precision and recall of the repair, per kind, on the corruptor's ground truth.

    PYTHONPATH=$PWD python -m benchmarks.repair [--data tests/data/repair] [--seed 12]
    PYTHONPATH=$PWD python -m benchmarks.repair --margins 4.5 0 " -inf"   # per margin of the judges

Clean texts (``tests/data/repair``: CMRC2018 and DRCD paragraphs, and the sample release as
the original reads) are damaged by ``tests/corrupt.py`` in each profile (a converted and
annotated page, a page machine-converted to traditional, simplified and traditional text
garbled in transit), repaired by :func:`search.repair.repair_text` and compared with the
original: precision (repairs that restore the original) and recall (damage restored) per kind.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from search.repair import repair_text  # noqa: E402
from tests.corrupt import Tally, corrupt, measure  # noqa: E402

DEFAULT_DATA = ROOT / "tests" / "data" / "repair"
#: (profile, which texts): simplified sources for the converting profiles, DRCD for traditional
PLAN = [("annotated", ("cmrc2018", "releases")), ("converted", ("cmrc2018", "releases")),
        ("simplified", ("cmrc2018", "releases")), ("traditional", ("drcd",))]


def texts(data: Path, name: str) -> list[tuple[str, str]]:
    """(id, text) of one set of clean texts."""
    if name == "releases":
        return [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((data / name).glob("*.txt"))]
    with (data / f"{name}.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [(r["id"], r["text"]) for r in rows]


def run(data: Path = DEFAULT_DATA, seed: int = 12, limit: int | None = None,
        profiles: tuple[str, ...] | None = None) -> dict[str, Tally]:
    """The tallies per profile (and ``"all"``)."""
    out: dict[str, Tally] = {"all": Tally()}
    for profile, sets in PLAN:
        if profiles and profile not in profiles:
            continue
        rng = random.Random(f"{seed}-{profile}")
        tally = Tally()
        for name in sets:
            for doc_id, text in texts(data, name)[:limit]:
                damaged = corrupt(text, profile, rng)
                tally.add(measure(damaged, repair_text(damaged.text), f"{profile}/{doc_id}"))
        out[profile] = tally
        out["all"].add(tally)
    return out


#: The kinds whose repairs are choices the judges make by the margin.
CHOICES = ("mojibake", "mojibake_utf8", "restored")


def margins(data: Path, seed: int, limit: int | None, values: list[float]) -> str:
    """The rows of :data:`CHOICES` with the judges' margin (:data:`search.mojibake.MARGIN`)
    set to each of ``values`` instead of the engine's: an experiment on how far recall can
    go (``-inf``: every choice made with the judges' favourite)."""
    import search.mojibake as mojibake
    import search.repair as repair

    lines = ["| margin | kind | damages | repairs | precision | recall |",
             "| ---: | --- | ---: | ---: | ---: | ---: |"]
    engine = mojibake.MARGIN
    try:
        for value in values:
            mojibake.MARGIN = repair.MARGIN = value
            for kind, d, r, precision, recall in run(data, seed, limit)["all"].rows():
                if kind in CHOICES:
                    lines.append(f"| {value:g} | `{kind}` | {d} | {r} | {precision:.1%} "
                                 f"| {recall:.1%} |")
    finally:
        mojibake.MARGIN = repair.MARGIN = engine
    return "\n".join(lines)


def table(tally: Tally) -> str:
    lines = ["| kind | damages | repairs | precision | recall |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for kind, damages, repairs, precision, recall in tally.rows():
        lines.append(f"| `{kind}` | {damages} | {repairs} | {precision:.1%} | {recall:.1%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--limit", type=int, default=None, help="texts per set")
    parser.add_argument("--examples", type=int, default=0,
                        help="print this many wrong repairs and missed damages")
    parser.add_argument("--margins", type=float, nargs="+", metavar="M",
                        help="the kinds the judges choose, at each of these margins instead of "
                             "the engine's: ' -inf' (quoted, with its space) makes every choice "
                             "with the judges' favourite")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.margins:
        print(margins(args.data, args.seed, args.limit, args.margins))
        print(f"\n{time.perf_counter() - start:.1f} s")
        return 0
    tallies = run(args.data, args.seed, args.limit)
    for name, tally in tallies.items():
        print(f"\n{name}\n")
        print(table(tally))
    if args.examples:
        print("\nwrong repairs (source, context, original, repaired, damage kinds, repair kinds):")
        for example in tallies["all"].wrong_examples[:args.examples]:
            print(" ", example)
        print("\nmissed damage:")
        for example in tallies["all"].missed_examples[:args.examples]:
            print(" ", example)
    print(f"\n{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
