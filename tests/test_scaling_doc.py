"""docs/scaling.md carries the table of benchmarks/scale.py, with sharded and single rankings
identical for every CMRC2018 and DRCD question (the issue's bar), and its format is the
benchmark's own."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.scale import format_table

DOC = (Path(__file__).resolve().parent.parent / "docs" / "scaling.md").read_text(encoding="utf-8")


def test_the_table_shows_identical_rankings_for_every_question():
    assert "| CMRC2018 | 3219 of 3219 |" in DOC
    assert "| DRCD | 3493 of 3493 |" in DOC
    for row in ("| 2 shards, 1 worker |", "| 2 shards, 2 workers |", "| 4 shards |",
                "| 1 shard |", "| 4 shards, actors on 2 workers |", "| one actor round trip |"):
        assert row in DOC, row


def test_format_table_rows():
    r = {"paragraphs": 10, "releases": 2, "cores": 2, "queries": 1,
         "reindex": {"2 shards, 1 worker": {"seconds": 1.5, "paragraphs_per_s": 7,
                                             "shards": [{"paragraphs": 6, "seconds": 1.0}]}},
         "search": {"1 shard": {"p50": 1.0, "p95": 2.0}},
         "round_trip_ms": {"p50": 0.5, "p95": 0.7},
         "identical": {"DRCD": {"questions": 3, "identical": 3}}}
    table = format_table(json.loads(json.dumps(r)))
    assert "| 2 shards, 1 worker | 1.5 | 7 | 6 in 1.0 |" in table
    assert "| 1 shard | 1.0 | 2.0 |" in table and "| one actor round trip | 0.5 | 0.7 |" in table
    assert "| DRCD | 3 of 3 |" in table
