"""Regenerate this subset from the full DRCD retrieval data (see README.md).

    python tests/data/drcd_subset/make_subset.py /work/shared/data/drcd tests/data/drcd_subset

Selection (deterministic): every 12th release of releases.jsonl (lines 1, 13, 25, ...) and, for
each paragraph of those releases, its first question in qrels_paragraphs.tsv order, with its
qrels line and the same question from queries.jsonl (traditional) and
queries_simplified.jsonl.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

STEP = 12


def main(source: Path, target: Path) -> None:
    releases = (source / "releases.jsonl").read_text(encoding="utf-8").splitlines()
    chosen = releases[::STEP]
    wanted = {json.loads(line)["id"] for line in chosen}
    qrels: list[str] = []
    seen: set[tuple[str, str]] = set()
    for line in (source / "qrels_paragraphs.tsv").read_text(encoding="utf-8").splitlines():
        _qid, release, n = line.split("\t")
        if release in wanted and (release, n) not in seen:
            seen.add((release, n))
            qrels.append(line)
    keep = {line.split("\t")[0] for line in qrels}

    def pick(name: str) -> list[str]:
        lines = (source / name).read_text(encoding="utf-8").splitlines()
        return [line for line in lines if json.loads(line)["id"] in keep]

    target.mkdir(parents=True, exist_ok=True)
    outputs = {
        "releases.jsonl": chosen,
        "queries.jsonl": pick("queries.jsonl"),
        "queries_simplified.jsonl": pick("queries_simplified.jsonl"),
        "qrels_paragraphs.tsv": qrels,
    }
    for name, lines in outputs.items():
        (target / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
