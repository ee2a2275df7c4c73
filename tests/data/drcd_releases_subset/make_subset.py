"""Regenerate this subset from the DRCD retrieval data (see README.md).

    python tests/data/drcd_releases_subset/make_subset.py /work/shared/data/drcd tests/data/drcd_releases_subset

Selection (deterministic): every 10th release of releases.jsonl (lines 1, 11, 21, ...), and for
each its first 3 questions in queries.jsonl order (by qrels_paragraphs.tsv).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

STEP = 10
QUERIES_PER_RELEASE = 3


def main(source: Path, target: Path) -> None:
    releases = (source / "releases.jsonl").read_text(encoding="utf-8").splitlines()[::STEP]
    wanted = {json.loads(line)["id"] for line in releases}
    relevant = {line.split("\t")[0]: line.split("\t")[1] for line in
                (source / "qrels_paragraphs.tsv").read_text(encoding="utf-8").splitlines()}
    per: dict[str, int] = {}
    queries = []
    for line in (source / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        rel = relevant.get(json.loads(line)["id"])
        if rel in wanted and per.get(rel, 0) < QUERIES_PER_RELEASE:
            per[rel] = per.get(rel, 0) + 1
            queries.append(line)
    target.mkdir(parents=True, exist_ok=True)
    for name, lines in (("releases.jsonl", releases), ("queries.jsonl", queries)):
        (target / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        print(f"{name}: {len(lines)} lines")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
