"""Scaling out: sharded indexes built on Dask workers and searched over shards.

Measured on one machine with a ``LocalCluster`` of worker processes (one thread each):

* reindex throughput (paragraphs/s) of a full build of ``--paragraphs`` paragraphs (the corpus
  of ``benchmarks/speed.py``) with 1 and 2 workers (2 shards each), against the single index
  built by the bulk writer (``--procs 2``); what each shard took and where;
* query latency p50/p95 over the first ``--queries`` CMRC2018 questions: the single index, the
  index in 1 and in 4 shards searched in this process, and in 4 shards searched in actors on
  the cluster (the round trip: three calls per query, shards in parallel), after one warm-up;
* the cost of one cluster round trip (an actor call answering at once), median and p95;
* identical rankings: for every CMRC2018 question (its corpus.jsonl) and every DRCD question
  (its releases.jsonl, several paragraphs per release), the top 10 (release, paragraph, score)
  and the match count of a 4-shard index against the single index.

Usage::

    python benchmarks/scale.py --paragraphs 100000       # the figures of docs/scaling.md
    python benchmarks/scale.py --paragraphs 5000 --queries 100 --quick
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.corpus import default_data_dir  # noqa: E402
from benchmarks.speed import DEFAULT_OUT, ensure_corpus, load_queries, percentile  # noqa: E402


def _ms(values: list[float]) -> dict:
    return {"p50": round(statistics.median(values) * 1000, 2),
            "p95": round(percentile(values, 95) * 1000, 2)}


def _latency(ix, queries: list[str]) -> dict:
    ix.search("新闻发布会")
    times = []
    for q in queries:
        t0 = time.perf_counter()
        ix.search(q)
        times.append(time.perf_counter() - t0)
    return _ms(times)


def _ranking(ix, q: str) -> tuple:
    r = ix.search(q, per_page=10)
    return r.total, [(h.doc_id, h.paragraph, h.score) for h in r.hits]


def identical(corpus: Path, queries_file: Path, work: Path, shards: int = 4) -> dict:
    """Top 10 and totals of every question, sharded against single."""
    from search import build_index, open_index
    from search.shards import reindex_sharded

    build_index([corpus], work / "single", procs=1)
    reindex_sharded([corpus], work / "sharded", shards=shards)
    qs = [json.loads(line)["text"] for line in
          queries_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    differ = []
    with open_index(work / "single") as one, open_index(work / "sharded") as many:
        for q in qs:
            if _ranking(one, q) != _ranking(many, q):
                differ.append(q)
    return {"questions": len(qs), "identical": len(qs) - len(differ), "differ": differ[:10]}


def run(paragraphs: int, n_queries: int, data: Path, out_dir: Path, quick: bool) -> dict:
    from search import build_index, open_index
    from search.cluster import ClusterShards, connect, reindex_on_cluster

    corpus, releases = ensure_corpus(out_dir, paragraphs, 1, data)
    queries = load_queries(data, n_queries)
    work = Path(tempfile.mkdtemp(prefix="scale-", dir=out_dir))
    res: dict = {"paragraphs": paragraphs, "releases": releases, "queries": len(queries),
                 "cores": os.cpu_count(), "reindex": {}, "search": {}}
    try:
        build_index([REPO / "seeds"], work / "warm-up")  # jieba's dictionary loaded once
        t0 = time.perf_counter()
        rep = build_index([corpus], work / "single", full=True, procs=2)
        secs = time.perf_counter() - t0
        res["reindex"]["single, bulk writer --procs 2"] = {
            "seconds": round(secs, 1), "paragraphs_per_s": round(rep.paragraphs / secs)}
        for workers in (1, 2):
            t0 = time.perf_counter()
            rep = reindex_on_cluster([corpus], work / f"w{workers}", shards=2, full=True,
                                     workers=workers)
            secs = time.perf_counter() - t0
            res["reindex"][f"2 shards, {workers} worker{'s' * (workers > 1)}"] = {
                "seconds": round(secs, 1), "paragraphs_per_s": round(rep.paragraphs / secs),
                "shards": [{"shard": s["shard"], "paragraphs": s["paragraphs"],
                            "seconds": s["seconds"], "worker": s["worker"]}
                           for s in rep.shards]}
            print(json.dumps(res["reindex"], ensure_ascii=False), flush=True)
        with connect(None, 2) as client:
            address = client.scheduler.address
            rep4 = reindex_on_cluster([corpus], work / "s4", shards=4, scheduler=address)
            res["reindex"]["4 shards, 2 workers"] = {
                "seconds": rep4.seconds, "paragraphs_per_s": round(rep4.paragraphs / rep4.seconds)}
            reindex_on_cluster([corpus], work / "s1", shards=1, scheduler=address)
            for name, path in (("single index", work / "single"), ("1 shard", work / "s1"),
                               ("4 shards", work / "s4")):
                with open_index(path) as ix:
                    res["search"][name] = _latency(ix, queries)
            with open_index(work / "s4", scheduler=address) as ix:
                res["search"]["4 shards, actors on 2 workers"] = _latency(ix, queries)
                shards: ClusterShards = ix._shards
                times = []
                for _ in range(300):
                    t0 = time.perf_counter()
                    shards.call(0, "ping")
                    times.append(time.perf_counter() - t0)
                res["round_trip_ms"] = _ms(times)
            print(json.dumps(res["search"], ensure_ascii=False), flush=True)
        if not quick:
            res["identical"] = {
                "CMRC2018": identical(data / "cmrc2018" / "corpus.jsonl",
                                      data / "cmrc2018" / "queries.jsonl", work / "cmrc"),
                "DRCD": identical(data / "drcd" / "releases.jsonl",
                                  data / "drcd" / "queries.jsonl", work / "drcd")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return res


def format_table(r: dict) -> str:
    lines = [f"{r['paragraphs']:,} paragraphs ({r['releases']:,} releases), {r['cores']} cores, "
             f"{r['queries']} queries", "",
             "| reindex (full) | seconds | paragraphs/s | per shard (paragraphs, s) |",
             "| --- | --- | --- | --- |"]
    for name, f in r["reindex"].items():
        per = "; ".join(f"{s['paragraphs']:,} in {s['seconds']:.1f}" for s in f.get("shards", []))
        lines.append(f"| {name} | {f['seconds']} | {f['paragraphs_per_s']:,} | {per or '–'} |")
    lines += ["", "| search | p50 ms | p95 ms |", "| --- | --- | --- |"]
    for name, f in r["search"].items():
        lines.append(f"| {name} | {f['p50']} | {f['p95']} |")
    rt = r.get("round_trip_ms")
    if rt:
        lines.append(f"| one actor round trip | {rt['p50']} | {rt['p95']} |")
    if "identical" in r:
        lines += ["", "| questions | identical top 10 and scores, 4 shards vs single |",
                  "| --- | --- |"]
        for name, f in r["identical"].items():
            lines.append(f"| {name} | {f['identical']} of {f['questions']} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paragraphs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--quick", action="store_true",
                    help="leave out the identical-ranking check of every question")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    res = run(args.paragraphs, args.queries, args.data, args.out, args.quick)
    (args.out / f"scale-{args.paragraphs}.json").write_text(
        json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    print(format_table(res))


if __name__ == "__main__":
    main()
