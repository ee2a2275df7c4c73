"""Regenerate this subset from the full CMRC2018 retrieval data (see README.md).

    python tests/data/cmrc2018_subset/make_subset.py /work/shared/data/cmrc2018 tests/data/cmrc2018_subset

Selection (deterministic): every 7th paragraph of corpus.jsonl (lines 1, 8, 15, ...), the same
paragraphs of corpus_annotated.jsonl, and for each selected paragraph its first 3 queries in
queries.jsonl order, with their qrels lines and the same queries from queries_traditional.jsonl.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

STEP = 7
QUERIES_PER_PARAGRAPH = 3


def main(source: Path, target: Path) -> None:
    corpus = (source / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    annotated = (source / "corpus_annotated.jsonl").read_text(encoding="utf-8").splitlines()
    chosen = corpus[::STEP]
    ids = [json.loads(line)["id"] for line in chosen]
    wanted = set(ids)
    annotated_chosen = [line for line in annotated if json.loads(line)["id"] in wanted]
    relevant = dict(line.split("\t")[:2] for line in
                    (source / "qrels.tsv").read_text(encoding="utf-8").splitlines())
    per_doc: dict[str, int] = {}
    query_ids: list[str] = []
    for line in (source / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        qid = json.loads(line)["id"]
        doc = relevant[qid]
        if doc in wanted and per_doc.get(doc, 0) < QUERIES_PER_PARAGRAPH:
            per_doc[doc] = per_doc.get(doc, 0) + 1
            query_ids.append(qid)
    keep = set(query_ids)

    def pick(name: str) -> list[str]:
        lines = (source / name).read_text(encoding="utf-8").splitlines()
        return [line for line in lines if json.loads(line)["id"] in keep]

    target.mkdir(parents=True, exist_ok=True)
    outputs = {
        "corpus.jsonl": chosen,
        "corpus_annotated.jsonl": annotated_chosen,
        "queries.jsonl": pick("queries.jsonl"),
        "queries_traditional.jsonl": pick("queries_traditional.jsonl"),
        "qrels.tsv": [f"{qid}\t{relevant[qid]}" for qid in query_ids],
    }
    for name, lines in outputs.items():
        (target / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        print(f"{name}: {len(lines)} lines")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
