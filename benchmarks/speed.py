"""Speed at scale: the naive Whoosh+jieba setup and the engine side by side on one corpus.

Every figure is measured in a fresh subprocess (``os.wait4`` gives its wall time, CPU time
-- user + sys, worker processes included -- and peak resident memory):

* reindex: ``python -m search reindex CORPUS --index-dir D --full --procs P`` against a process
  running :func:`benchmarks.naive.build_naive_index`; paragraphs/s, CPU seconds, peak memory,
  index size on disk;
* query latency p50/p95/p99 over the first ``--queries`` CMRC2018 questions, in one searching
  process per system (engine: ``open_index(D).search(q)``, first page with snippets; naive:
  ``NaiveIndex(D).ranked_doc_ids(q)``), after one warm-up query; its peak memory;
* suggestions as you type (engine only): ``Index.suggest`` latency p50/p95 over the first one,
  two and three characters of each question, after one warm-up call (which reads the
  generation's suggestions file, timed apart);
* one-shot cold CLI search (``python -m search search 统筹 --index-dir D``), median of
  ``--cold-runs``;
* navigation (engine only, one more searching process): the same queries with facet counts
  and without (``search(q, facets=False)``), alternating, and searches of filters alone
  (each publisher, organisation and month of the corpus, year ranges, open ranges), whose
  p95 are compared with the targets (facets at most 1.5x, filters alone under 50 ms);
* with ``--incremental-releases R``: a folder of R small releases is indexed, one file is
  changed, and ``reindex`` without ``--full`` is timed (also with nothing changed).

The machine is shared and may be busy: wall times depend on the load (printed with the
table), CPU times much less. The naive baseline indexes one document per paragraph (the
engine's retrieval unit) unless ``--naive-unit release``.

``--profile`` instead prints cProfile's top functions by cumulative time for a full reindex of
``--profile-paragraphs`` paragraphs in one process and for ``--profile-searches`` engine
searches.

Usage::

    python benchmarks/speed.py --paragraphs 20000 --incremental-releases 10000
    python benchmarks/speed.py --paragraphs 20000 --profile
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.corpus import GENERATOR_VERSION, default_data_dir, write_corpus  # noqa: E402

DEFAULT_OUT = REPO / "benchmarks" / "out"
COLD_QUERY = "统筹"
WARMUP_QUERY = "新闻发布会"


# ------------------------------------------------------------------------------ measuring


@dataclass
class Measured:
    """What one finished subprocess cost."""

    wall_s: float
    cpu_s: float  # user + sys of the process and the children it waited for
    maxrss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(cmd: Sequence[str], *, env: dict[str, str] | None = None,
                 cwd: Path = REPO) -> Measured:
    """Run ``cmd`` to completion and measure it; raises RuntimeError when it fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, cwd=cwd,
                                env=env or child_env())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        m = Measured(wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
                     maxrss_mb=usage.ru_maxrss / 1024, returncode=proc.returncode,
                     stdout=out.read().decode("utf-8", "replace"),
                     stderr=err.read().decode("utf-8", "replace"))
    if m.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {m.returncode}:\n{m.stderr[-3000:]}")
    return m


def child_env() -> dict[str, str]:
    """The environment for measured subprocesses: the repository on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("RELEASE_SEARCH_INDEX_DIR", None)
    return env


def dir_size(path: Path) -> int:
    """Bytes of all files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    data = sorted(values)
    pos = (len(data) - 1) * p / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def load_queries(data: Path, n: int) -> list[str]:
    """The first ``n`` CMRC2018 questions under ``data``."""
    for candidate in (data / "cmrc2018", data / "cmrc2018_subset", data):
        path = candidate / "queries.jsonl"
        if path.is_file():
            with open(path, encoding="utf-8") as fh:
                out = [json.loads(line)["text"] for line in fh if line.strip()]
            return out[:n]
    raise FileNotFoundError(f"no cmrc2018 queries.jsonl under {data}")


# ------------------------------------------------------------------------------ workers
# Run as ``python benchmarks/speed.py _worker KIND ...`` in a fresh process each.


def _worker_naive_build(corpus: str, index_dir: str) -> None:
    from benchmarks.naive import build_naive_index

    print(json.dumps({"docs": build_naive_index(corpus, index_dir)}))


def _worker_search(kind: str, index_dir: str, queries_file: str) -> None:
    queries = json.loads(Path(queries_file).read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    if kind == "engine":
        from search import SearchError, open_index

        ix = open_index(index_dir)

        def run(q: str) -> int:
            return len(ix.search(q).hits)
    else:
        from benchmarks.naive import NaiveIndex
        from search import SearchError

        ix = NaiveIndex(index_dir)

        def run(q: str) -> int:
            return len(ix.ranked_doc_ids(q, 10))
    opened = time.perf_counter() - t0
    t1 = time.perf_counter()
    run(WARMUP_QUERY)
    warmup = time.perf_counter() - t1
    latencies: list[float] = []
    errors = hits = 0
    for q in queries:
        t = time.perf_counter()
        try:
            hits += run(q)
        except SearchError:
            errors += 1
        latencies.append((time.perf_counter() - t) * 1000)
    suggest: dict = {}
    if kind == "engine":
        suggest = _suggest_latencies(ix, queries)
    print(json.dumps({"open_s": opened, "warmup_s": warmup, "latencies_ms": latencies,
                      "errors": errors, "hits": hits, **suggest}))


def suggest_prefixes(queries: Sequence[str]) -> list[str]:
    """What a user types on the way to each query: its first one, two and three characters."""
    return [q[:n] for q in queries for n in (1, 2, 3) if q[:n].strip()]


def _suggest_latencies(ix, queries: Sequence[str]) -> dict:
    t = time.perf_counter()
    ix.suggest(WARMUP_QUERY[:2])  # reads the suggestions file
    warmup = time.perf_counter() - t
    latencies = []
    found = 0
    for prefix in suggest_prefixes(queries):
        t = time.perf_counter()
        found += len(ix.suggest(prefix))
        latencies.append((time.perf_counter() - t) * 1000)
    return {"suggest_warmup_s": warmup, "suggest_latencies_ms": latencies,
            "suggestions": found}


def filter_searches(facets: dict[str, list[tuple[str, int]]], timeline: list[tuple[str, int]]
                    ) -> list[dict]:
    """Searches of filters alone (keyword arguments of ``Index.search``): every publisher and
    organisation the facets list, every month of the timeline, each year, open ranges, and a
    few combinations, some oldest first."""
    out: list[dict] = [{"publisher": v} for v, _n in facets["publisher"]]
    out += [{"org": v} for v, _n in facets["org"]]
    months = [m for m, _n in timeline]
    out += [{"date_from": m, "date_to": m} for m in months]
    years = sorted({m[:4] for m in months})
    out += [{"date_from": y, "date_to": y} for y in years]
    if months:
        out += [{"date_from": months[len(months) // 2]}, {"date_to": months[len(months) // 2]},
                {"date_from": months[0], "sort": "oldest"}]
    if facets["publisher"] and facets["org"] and years:
        out += [{"publisher": facets["publisher"][0][0], "org": facets["org"][0][0],
                 "date_from": years[0], "section": "answer"}]
    return out


def _worker_navigation(index_dir: str, queries_file: str) -> None:
    from search import SearchError, open_index

    queries = json.loads(Path(queries_file).read_text(encoding="utf-8"))
    ix = open_index(index_dir)
    everything = ix.search("", date_from="0001")  # the corpus's facets: what to filter by
    ix.search(WARMUP_QUERY)
    ix.search(WARMUP_QUERY, facets=False)
    with_facets: list[float] = []
    without: list[float] = []
    errors = 0
    for i, q in enumerate(queries):
        # alternate which goes first, so neither always finds the caches warm
        for facets in ((True, False) if i % 2 else (False, True)):
            t = time.perf_counter()
            try:
                ix.search(q, facets=facets)
            except SearchError:
                errors += 1
            (with_facets if facets else without).append((time.perf_counter() - t) * 1000)
    searches = filter_searches(everything.facets, everything.timeline)
    filters: list[float] = []
    totals: list[int] = []
    for kwargs in searches:
        t = time.perf_counter()
        totals.append(ix.search("", **kwargs).total)
        filters.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"with_facets_ms": with_facets, "without_facets_ms": without,
                      "filters_ms": filters, "filter_totals": totals, "errors": errors,
                      "filter_searches": len(searches)}))


def _worker_naive_cli(index_dir: str, query: str) -> None:
    from benchmarks.naive import NaiveIndex

    with NaiveIndex(index_dir) as ix:
        for doc_id in ix.ranked_doc_ids(query, 10):
            print(doc_id)


def _worker(argv: list[str]) -> None:
    kind, *rest = argv
    if kind == "naive-build":
        _worker_naive_build(*rest)
    elif kind == "search":
        _worker_search(*rest)
    elif kind == "naive-cli":
        _worker_naive_cli(*rest)
    elif kind == "navigation":
        _worker_navigation(*rest)
    else:
        raise SystemExit(f"unknown worker {kind}")


def _worker_cmd(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "_worker", *args]


# ------------------------------------------------------------------------------ the benchmark


@dataclass
class SystemFigures:
    """Figures of one system (naive or engine) on one corpus."""

    reindex_wall_s: float = 0.0
    reindex_cpu_s: float = 0.0
    reindex_maxrss_mb: float = 0.0
    reindex_runs: list[float] = field(default_factory=list)  # wall times; figures: the median
    paragraphs_per_s: float = 0.0
    index_bytes: int = 0
    open_s: float = 0.0
    warmup_s: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    mean_ms: float = 0.0
    search_errors: int = 0
    search_maxrss_mb: float = 0.0
    cold_cli_s: float = 0.0
    cold_cli_runs: list[float] = field(default_factory=list)
    cold_cli_cpu_s: float = 0.0
    suggest_warmup_s: float = 0.0
    suggest_p50_ms: float = 0.0
    suggest_p95_ms: float = 0.0
    suggest_prefixes: int = 0
    suggestions: int = 0  # suggestions returned over all prefixes


@dataclass
class Results:
    """All figures of one run."""

    paragraphs: int
    releases: int
    queries: int
    procs: int
    naive_unit: str
    corpus: str
    naive: SystemFigures
    engine: SystemFigures
    incremental: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    navigation: dict = field(default_factory=dict)


def corpus_path(out_dir: Path, paragraphs: int, seed: int, annotate_fraction: float) -> Path:
    suffix = f"-a{annotate_fraction:g}" if annotate_fraction else ""
    return out_dir / f"corpus-{paragraphs}-s{seed}{suffix}-v{GENERATOR_VERSION}.jsonl"


def ensure_corpus(out_dir: Path, paragraphs: int, seed: int, data: Path,
                  annotate_fraction: float = 0.0) -> tuple[Path, int]:
    """The cached corpus of ``paragraphs`` paragraphs (generated when missing); (path, releases)."""
    path = corpus_path(out_dir, paragraphs, seed, annotate_fraction)
    if not path.is_file():
        write_corpus(path, paragraphs, seed, data, annotate_fraction)
    with open(path, encoding="utf-8") as fh:
        releases = sum(1 for line in fh if line.strip())
    return path, releases


def paragraph_corpus(corpus: Path) -> Path:
    """A JSONL with one record per paragraph of ``corpus`` (the naive baseline's unit)."""
    path = corpus.with_name(corpus.stem + "-paragraphs.jsonl")
    if path.is_file() and path.stat().st_mtime >= corpus.stat().st_mtime:
        return path
    tmp = path.with_name(path.name + ".tmp")
    with open(corpus, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8") as dst:
        for line in src:
            if not line.strip():
                continue
            rel = json.loads(line)
            paras = [rel["title"], *[p for p in rel["text"].split("\n") if p.strip()]]
            for i, text in enumerate(paras, 1):
                dst.write(json.dumps({"id": f"{rel['id']}#{i}", "title": rel["title"],
                                      "text": text}, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def measure_search(kind: str, index_dir: Path, queries_file: Path, fig: SystemFigures) -> None:
    m = run_measured(_worker_cmd("search", kind, str(index_dir), str(queries_file)))
    res = json.loads(m.stdout.strip().splitlines()[-1])
    lat = res["latencies_ms"]
    fig.open_s = res["open_s"]
    fig.warmup_s = res["warmup_s"]
    fig.p50_ms = percentile(lat, 50)
    fig.p95_ms = percentile(lat, 95)
    fig.p99_ms = percentile(lat, 99)
    fig.mean_ms = statistics.fmean(lat)
    fig.search_errors = res["errors"]
    fig.search_maxrss_mb = m.maxrss_mb
    if res.get("suggest_latencies_ms"):
        fig.suggest_warmup_s = res["suggest_warmup_s"]
        fig.suggest_p50_ms = percentile(res["suggest_latencies_ms"], 50)
        fig.suggest_p95_ms = percentile(res["suggest_latencies_ms"], 95)
        fig.suggest_prefixes = len(res["suggest_latencies_ms"])
        fig.suggestions = res["suggestions"]


def measure_navigation(index_dir: Path, queries_file: Path) -> dict:
    """Query latency with and without facet counts, and of filters alone (one process)."""
    m = run_measured(_worker_cmd("navigation", str(index_dir), str(queries_file)))
    res = json.loads(m.stdout.strip().splitlines()[-1])
    out = {"queries": len(res["with_facets_ms"]), "filter_searches": res["filter_searches"],
           "errors": res["errors"], "matched_by_filters_median": statistics.median(
               res["filter_totals"]) if res["filter_totals"] else 0}
    for key in ("with_facets", "without_facets", "filters"):
        lat = res[f"{key}_ms"]
        out[f"{key}_p50_ms"] = percentile(lat, 50)
        out[f"{key}_p95_ms"] = percentile(lat, 95)
        out[f"{key}_max_ms"] = max(lat)
    return out


def measure_cold(cmd: list[str], runs: int, fig: SystemFigures) -> None:
    runs_measured = [run_measured(cmd) for _ in range(runs)]
    fig.cold_cli_runs = [m.wall_s for m in runs_measured]
    fig.cold_cli_s = statistics.median(fig.cold_cli_runs)
    fig.cold_cli_cpu_s = statistics.median(m.cpu_s for m in runs_measured)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def run_side_by_side(paragraphs: int, *, seed: int = 1, data: Path | None = None,
                     queries: int = 300, procs: int = 2, out_dir: Path = DEFAULT_OUT,
                     naive_unit: str = "paragraph", cold_runs: int = 5,
                     incremental_releases: int = 0, annotate_fraction: float = 0.0,
                     skip_naive: bool = False, reindex_runs: int = 3, log=print) -> Results:
    """Measure both systems on one corpus of ``paragraphs`` paragraphs; return the figures."""
    data = data or default_data_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {"cpus": os.cpu_count(), "python": platform.python_version(), "commit": _git_head(),
           "load_before": _load()}
    corpus, releases = ensure_corpus(out_dir, paragraphs, seed, data, annotate_fraction)
    naive_src = paragraph_corpus(corpus) if naive_unit == "paragraph" else corpus
    qfile = out_dir / f"queries-{queries}.json"
    qfile.write_text(json.dumps(load_queries(data, queries), ensure_ascii=False),
                     encoding="utf-8")
    work = out_dir / f"run-{paragraphs}"
    naive_dir, engine_dir = work / "naive", work / "engine"
    for d in (naive_dir, engine_dir):
        shutil.rmtree(d, ignore_errors=True)
    naive, engine = SystemFigures(), SystemFigures()

    log(f"[speed] corpus {corpus.name}: {releases} releases, {paragraphs} paragraphs")
    # The machine's speed drifts from minute to minute: build each index several times,
    # alternating the two systems, and keep each one's median run.
    builds: dict[str, list[Measured]] = {"naive": [], "engine": []}
    for i in range(reindex_runs):
        if not skip_naive:
            shutil.rmtree(naive_dir, ignore_errors=True)
            m = run_measured(_worker_cmd("naive-build", str(naive_src), str(naive_dir)))
            builds["naive"].append(m)
            log(f"[speed] naive build {i + 1}: {m.wall_s:.1f} s wall, {m.cpu_s:.1f} s CPU")
        shutil.rmtree(engine_dir, ignore_errors=True)
        m = run_measured([sys.executable, "-m", "search", "reindex", str(corpus), "--index-dir",
                          str(engine_dir), "--full", "--procs", str(procs)])
        builds["engine"].append(m)
        log(f"[speed] engine reindex {i + 1}: {m.wall_s:.1f} s wall, {m.cpu_s:.1f} s CPU")
    for fig, runs in ((naive, builds["naive"]), (engine, builds["engine"])):
        if runs:
            m = sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2]
            fig.reindex_wall_s, fig.reindex_cpu_s = m.wall_s, m.cpu_s
            fig.reindex_maxrss_mb = m.maxrss_mb
            fig.reindex_runs = [round(r.wall_s, 2) for r in runs]
    systems = ((engine, engine_dir),) if skip_naive else ((naive, naive_dir), (engine, engine_dir))
    for fig, d in systems:
        fig.paragraphs_per_s = paragraphs / fig.reindex_wall_s
        fig.index_bytes = dir_size(d)

    if not skip_naive:
        measure_search("naive", naive_dir, qfile, naive)
    measure_search("engine", engine_dir, qfile, engine)
    log(f"[speed] p95 naive {naive.p95_ms:.1f} ms, engine {engine.p95_ms:.1f} ms")
    navigation = measure_navigation(engine_dir, qfile)
    log(f"[speed] p95 with facets {navigation['with_facets_p95_ms']:.1f} ms, without "
        f"{navigation['without_facets_p95_ms']:.1f} ms; filters alone "
        f"{navigation['filters_p95_ms']:.1f} ms")
    if not skip_naive:
        measure_cold(_worker_cmd("naive-cli", str(naive_dir), COLD_QUERY), cold_runs, naive)
    measure_cold([sys.executable, "-m", "search", "search", COLD_QUERY, "--index-dir",
                  str(engine_dir)], cold_runs, engine)
    log(f"[speed] cold CLI naive {naive.cold_cli_s:.2f} s, engine {engine.cold_cli_s:.2f} s")

    incremental = {}
    if incremental_releases:
        incremental = measure_incremental(incremental_releases, seed, data, out_dir, procs, log)
    env["load_after"] = _load()
    return Results(paragraphs=paragraphs, releases=releases, queries=queries, procs=procs,
                   naive_unit=naive_unit, corpus=str(corpus), naive=naive, engine=engine,
                   incremental=incremental, environment=env, navigation=navigation)


def write_release_files(folder: Path, releases: int, seed: int, data: Path) -> None:
    """``releases`` small releases (3 to 8 paragraphs) as ``.txt`` files in ``folder``."""
    from benchmarks.corpus import generate, load_pool

    pool = load_pool(data)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    # 5.5 paragraphs on average: ask for a bit more and stop at ``releases``.
    for rel in generate(releases * 6 + 10, seed, pool, min_per_release=3, max_per_release=8):
        if written == releases:
            break
        (folder / f"{rel['id']}.txt").write_text(
            f"{rel['title']}\n{rel['date']}\n{rel['text']}\n", encoding="utf-8")
        written += 1


def measure_incremental(releases: int, seed: int, data: Path, out_dir: Path, procs: int,
                        log=print) -> dict:
    """Index ``releases`` small release files, change one, time the incremental reindex.

    An index left by an earlier run is reused: one settling incremental run first brings it in
    line with the sources and the current engine (a full rebuild when the index format or the
    analyzer changed), then a run with nothing changed and one with one file changed are timed.
    """
    from search.storage import has_index

    work = out_dir / f"incremental-{releases}"
    src, index_dir = work / "src", work / "index"
    if not (src.is_dir() and sum(1 for _ in src.glob("*.txt")) == releases):
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(index_dir, ignore_errors=True)
        write_release_files(src, releases, seed, data)
    base = [sys.executable, "-m", "search", "reindex", str(src), "--index-dir", str(index_dir)]
    full = None
    if not has_index(index_dir):
        full = run_measured([*base, "--full", "--procs", str(procs), "--json"])
        log(f"[speed] incremental base: full reindex of {releases} files {full.wall_s:.1f} s")
    settle = run_measured([*base, "--json"])
    settled = json.loads(settle.stdout)
    log(f"[speed] incremental settle: full={settled['full']} {settle.wall_s:.1f} s")
    nothing = run_measured([*base, "--json"])
    target = sorted(src.glob("*.txt"))[releases // 2]
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(original.rstrip("\n") + f"\n补充说明：本条于{time.time():.0f}更新。\n",
                          encoding="utf-8")
        changed = run_measured([*base, "--json"])
    finally:
        target.write_text(original, encoding="utf-8")
        run_measured([*base, "--json"])  # back in line with the sources for the next run
    report = json.loads(changed.stdout)
    log(f"[speed] incremental: 1 changed {changed.wall_s:.2f} s, none changed {nothing.wall_s:.2f} s")
    return {"releases": releases, "paragraphs": report["paragraphs"],
            "full_wall_s": full.wall_s if full else None,
            "full_cpu_s": full.cpu_s if full else None,
            "one_changed_wall_s": changed.wall_s, "one_changed_cpu_s": changed.cpu_s,
            "updated": report["updated"], "one_changed_full": report["full"],
            "nothing_changed_wall_s": nothing.wall_s, "nothing_changed_cpu_s": nothing.cpu_s,
            "index_bytes": dir_size(index_dir)}


# ------------------------------------------------------------------------------ the table


def _ratio(engine: float, naive: float) -> float:
    return engine / naive if naive else float("inf")


def _check(ok: bool) -> str:
    return "met" if ok else "**missed**"


def table_rows(r: Results) -> list[tuple[str, str, str, str, str]]:
    """(figure, naive, engine, ratio, target) rows of the Markdown table."""
    n, e = r.naive, r.engine
    big = r.paragraphs >= 100_000
    rows = []
    tp = _ratio(e.paragraphs_per_s, n.paragraphs_per_s)
    runs = len(e.reindex_runs)
    label = f"reindex wall time, s (median of {runs})" if runs > 1 else "reindex wall time, s"
    rows.append((label, f"{n.reindex_wall_s:.1f}", f"{e.reindex_wall_s:.1f}",
                 f"{_ratio(e.reindex_wall_s, n.reindex_wall_s):.2f}x",
                 "runs: " + " / ".join(f"{w:.1f}" for w in n.reindex_runs) + " vs "
                 + " / ".join(f"{w:.1f}" for w in e.reindex_runs) if runs > 1 else ""))
    rows.append(("reindex throughput, paragraphs/s", f"{n.paragraphs_per_s:.0f}",
                 f"{e.paragraphs_per_s:.0f}", f"{tp:.2f}x", f">= 3x naive: {_check(tp >= 3)}"))
    cpu_tp = _ratio(n.reindex_cpu_s, e.reindex_cpu_s)
    rows.append(("reindex CPU time (user+sys), s", f"{n.reindex_cpu_s:.1f}",
                 f"{e.reindex_cpu_s:.1f}", f"{_ratio(e.reindex_cpu_s, n.reindex_cpu_s):.2f}x",
                 f"(throughput per CPU-s: {cpu_tp:.2f}x)"))
    rows.append(("reindex peak memory, MB", f"{n.reindex_maxrss_mb:.0f}",
                 f"{e.reindex_maxrss_mb:.0f}",
                 f"{_ratio(e.reindex_maxrss_mb, n.reindex_maxrss_mb):.2f}x", ""))
    size = _ratio(e.index_bytes, n.index_bytes)
    rows.append(("index size on disk, MB", f"{n.index_bytes / 1e6:.1f}",
                 f"{e.index_bytes / 1e6:.1f}", f"{size:.2f}x",
                 f"<= 1.5x naive: {_check(size <= 1.5)}"))
    for label, a, b in (("p50", n.p50_ms, e.p50_ms), ("p95", n.p95_ms, e.p95_ms),
                        ("p99", n.p99_ms, e.p99_ms)):
        target = ""
        if label == "p95":
            target = (f"<= 25 ms: {_check(b <= 25)}" if big else
                      f"<= 0.15x naive: {_check(_ratio(b, a) <= 0.15)}")
        rows.append((f"query latency {label}, ms ({r.queries} queries)", f"{a:.1f}", f"{b:.1f}",
                     f"{_ratio(b, a):.2f}x", target))
    if e.suggest_prefixes:
        rows.append((f"suggest latency p50, ms ({e.suggest_prefixes} prefixes)", "n/a",
                     f"{e.suggest_p50_ms:.2f}", "", ""))
        rows.append((f"suggest latency p95, ms ({e.suggest_prefixes} prefixes)", "n/a",
                     f"{e.suggest_p95_ms:.2f}", "",
                     f"<= 5 ms: {_check(e.suggest_p95_ms <= 5)}" if big else "<= 5 ms at 100k"))
        rows.append(("first suggest (reads the suggestions file), s", "n/a",
                     f"{e.suggest_warmup_s:.3f}", "", ""))
    rows.append(("index open + first query, s", f"{n.open_s + n.warmup_s:.2f}",
                 f"{e.open_s + e.warmup_s:.2f}",
                 f"{_ratio(e.open_s + e.warmup_s, n.open_s + n.warmup_s):.2f}x", ""))
    mem_target = f"<= 300 MB: {_check(e.search_maxrss_mb <= 300)}" if big else "<= 300 MB at 100k"
    rows.append(("peak memory of the searching process, MB", f"{n.search_maxrss_mb:.0f}",
                 f"{e.search_maxrss_mb:.0f}",
                 f"{_ratio(e.search_maxrss_mb, n.search_maxrss_mb):.2f}x", mem_target))
    rows.append((f"cold one-shot CLI search `{COLD_QUERY}`, s (median of "
                 f"{len(e.cold_cli_runs)})", f"{n.cold_cli_s:.2f}", f"{e.cold_cli_s:.2f}",
                 f"{_ratio(e.cold_cli_s, n.cold_cli_s):.2f}x",
                 f"<= 1.2 s: {_check(e.cold_cli_s <= 1.2)}"))
    rows.append(("cold one-shot CLI search, CPU time (median), s", f"{n.cold_cli_cpu_s:.2f}",
                 f"{e.cold_cli_cpu_s:.2f}", f"{_ratio(e.cold_cli_cpu_s, n.cold_cli_cpu_s):.2f}x",
                 ""))
    nav = r.navigation
    if nav:
        ratio = _ratio(nav["with_facets_p95_ms"], nav["without_facets_p95_ms"])
        rows.append((f"query latency p95 with facets / without, ms ({nav['queries']} queries)",
                     "n/a", f"{nav['with_facets_p95_ms']:.1f} / {nav['without_facets_p95_ms']:.1f}"
                     f" ({ratio:.2f}x)", f"{ratio:.2f}x", f"<= 1.5x: {_check(ratio <= 1.5)}"))
        rows.append((f"filters alone p95 (max), ms ({nav['filter_searches']} searches, "
                     f"median {nav['matched_by_filters_median']:.0f} matches)", "n/a",
                     f"{nav['filters_p95_ms']:.1f} ({nav['filters_max_ms']:.1f})", "",
                     f"< 50 ms: {_check(nav['filters_p95_ms'] < 50)}" if big else
                     "< 50 ms at 100k"))
    inc = r.incremental
    if inc:
        rows.append((f"incremental reindex, 1 of {inc['releases']} releases changed, s",
                     "n/a", f"{inc['one_changed_wall_s']:.2f} ({inc['one_changed_cpu_s']:.2f} "
                     "CPU-s)", "",
                     f"<= 3 s: {_check(inc['one_changed_wall_s'] <= 3)}"))
        rows.append((f"incremental reindex, nothing changed ({inc['releases']} releases), s",
                     "n/a", f"{inc['nothing_changed_wall_s']:.2f} "
                     f"({inc['nothing_changed_cpu_s']:.2f} CPU-s)", "", ""))
        if inc.get("full_wall_s"):
            rows.append((f"(full reindex of those {inc['releases']} releases, "
                         f"{inc['paragraphs']} paragraphs), s", "", f"{inc['full_wall_s']:.1f}",
                         "", ""))
    return rows


def format_table(r: Results) -> str:
    """The Markdown table of a run, with a line on the corpus and the machine's load."""
    lines = [f"{r.paragraphs} paragraphs in {r.releases} releases; engine --procs {r.procs}; "
             f"naive unit: {r.naive_unit}; load average before {r.environment.get('load_before')}"
             f", after {r.environment.get('load_after')} ({r.environment.get('cpus')} CPUs); "
             f"commit {r.environment.get('commit')}",
             "",
             "| figure | naive | engine | ratio | target |",
             "| --- | ---: | ---: | ---: | --- |"]
    rows = table_rows(r)
    if r.naive.reindex_wall_s == 0:  # --skip-naive: no naive figures, no ratios
        rows = [(f, "–", e, "", "" if "naive" in t or "per CPU-s" in t else t)
                for f, _n, e, _ratio, t in rows]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ profiles


def profile_runs(paragraphs: int, searches: int, index_dir: Path, data: Path, out_dir: Path,
                 seed: int = 1, top: int = 25) -> str:
    """cProfile top ``top`` by cumulative time: a one-process full reindex of ``paragraphs``
    paragraphs, and ``searches`` engine searches on ``index_dir``."""
    import cProfile
    import io
    import pstats

    from search import build_index, open_index

    corpus, _ = ensure_corpus(out_dir, paragraphs, seed, data)
    target = out_dir / f"profile-{paragraphs}"
    shutil.rmtree(target, ignore_errors=True)
    report = io.StringIO()
    # cProfile's default (wall-clock) timer: a CPU-time timer costs a system call per event,
    # which would dominate the profile. CPU time is reported beside the wall time.
    prof = cProfile.Profile()
    t0, c0 = time.perf_counter(), time.process_time()
    prof.runcall(build_index, [corpus], target, full=True, procs=1)
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    report.write(f"## (a) full reindex of {paragraphs} paragraphs, one process: {took:.1f} s "
                 f"wall, {cpu:.1f} CPU-s (under the profiler)\n\n```\n")
    pstats.Stats(prof, stream=report).sort_stats("cumulative").print_stats(top)
    pstats.Stats(prof, stream=report).sort_stats("tottime").print_stats(15)
    report.write("```\n\n")

    queries = load_queries(data, searches)
    ix = open_index(index_dir)
    ix.search(WARMUP_QUERY)
    prof = cProfile.Profile()
    t0, c0 = time.perf_counter(), time.process_time()
    prof.enable()
    for q in queries:
        ix.search(q)
    prof.disable()
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    report.write(f"## (b) {len(queries)} engine searches on {index_dir} (after one warm-up): "
                 f"{took:.2f} s wall, {cpu:.2f} CPU-s (under the profiler)\n\n```\n")
    pstats.Stats(prof, stream=report).sort_stats("cumulative").print_stats(top)
    pstats.Stats(prof, stream=report).sort_stats("tottime").print_stats(15)
    report.write("```\n")
    return report.getvalue()


# ------------------------------------------------------------------------------ CLI


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_worker":
        _worker(argv[1:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paragraphs", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=None,
                    help="folder holding cmrc2018/ (default ../shared/data, else tests/data)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--naive-unit", choices=("paragraph", "release"), default="paragraph")
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--reindex-runs", type=int, default=3,
                    help="builds per system, alternating; the median run is reported")
    ap.add_argument("--incremental-releases", type=int, default=0,
                    help="also time an incremental reindex in an index of this many releases")
    ap.add_argument("--annotate-fraction", type=float, default=0.0)
    ap.add_argument("--skip-naive", action="store_true",
                    help="measure the engine only (its targets at 100k are absolute)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--profile", action="store_true", help="print cProfile reports instead")
    ap.add_argument("--profile-paragraphs", type=int, default=2000)
    ap.add_argument("--profile-searches", type=int, default=100)
    args = ap.parse_args(argv)
    data = args.data or default_data_dir()
    if args.profile:
        index_dir = args.out_dir / f"run-{args.paragraphs}" / "engine"
        if not index_dir.is_dir():
            corpus, _ = ensure_corpus(args.out_dir, args.paragraphs, args.seed, data)
            run_measured([sys.executable, "-m", "search", "reindex", str(corpus),
                          "--index-dir", str(index_dir), "--full", "--procs", str(args.procs)])
        print(profile_runs(args.profile_paragraphs, args.profile_searches, index_dir, data,
                           args.out_dir, args.seed))
        return
    results = run_side_by_side(
        args.paragraphs, seed=args.seed, data=data, queries=args.queries, procs=args.procs,
        out_dir=args.out_dir, naive_unit=args.naive_unit, cold_runs=args.cold_runs,
        incremental_releases=args.incremental_releases,
        annotate_fraction=args.annotate_fraction, skip_naive=args.skip_naive,
        reindex_runs=args.reindex_runs, log=lambda msg: print(msg, file=sys.stderr, flush=True))
    table = format_table(results)
    print(table)
    json_path = args.json or args.out_dir / f"speed-{args.paragraphs}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({"results": asdict(results), "table": table},
                                    ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
