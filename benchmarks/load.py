"""HTTP throughput of the search API under concurrent load, measured with wrk.

wrk (Debian package ``wrk``: ``apt-get install -y wrk``) keeps ``--concurrency`` connections
busy for ``--seconds`` seconds; a generated Lua script cycles through ``/api/search?q=...``
URLs of real questions (the first ``--queries`` CMRC2018 questions) and prints a JSON summary,
from which requests/s, latency percentiles and errors (socket errors, timeouts and non-2xx
answers) are reported.

Only loopback targets are accepted. ``--serve`` builds an index of the sample release plus a
``--paragraphs`` synthetic corpus (cached under ``benchmarks/out/``), starts
``release-search serve`` on a free port, measures it and stops it.

Usage::

    python benchmarks/load.py --url http://127.0.0.1:5000 --concurrency 16 --seconds 20
    python benchmarks/load.py --serve --concurrency 16 --seconds 20
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.corpus import default_data_dir  # noqa: E402
from benchmarks.speed import DEFAULT_OUT, child_env, ensure_corpus, load_queries  # noqa: E402

MAX_SECONDS = 600
MAX_CONCURRENCY = 1024

_LUA = r"""
local paths = {%(paths)s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, ' ..
    '"p99_us": %%d, "max_us": %%d, "mean_us": %%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


@dataclass
class LoadResult:
    """What one wrk run measured."""

    url: str
    concurrency: int
    seconds: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    socket_errors: int  # connect + read + write
    timeouts: int
    non_2xx: int

    @property
    def errors(self) -> int:
        return self.socket_errors + self.timeouts + self.non_2xx


def check_loopback(url: str) -> str:
    """``url`` without a trailing slash; raises ValueError unless it targets this machine."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"expected an http:// URL, got {url!r}")
    host = parts.hostname
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"refusing to load {host!r}: only loopback addresses")
    return url.rstrip("/")


def lua_script(paths: Sequence[str]) -> str:
    """The wrk script cycling through ``paths`` (URL paths with query strings)."""
    quoted = ", ".join(json.dumps(p) for p in paths)  # ASCII after URL quoting: valid Lua
    return _LUA % {"paths": quoted}


def query_paths(queries: Sequence[str], endpoint: str = "/api/search") -> list[str]:
    """``endpoint?q=...`` for each query."""
    return [f"{endpoint}?{urllib.parse.urlencode({'q': q})}" for q in queries]


def run_wrk(url: str, paths: Sequence[str], concurrency: int, seconds: float,
            timeout_s: float = 10.0) -> LoadResult:
    """Run wrk against ``url`` with ``paths``; raises RuntimeError when wrk is missing/fails."""
    base = check_loopback(url)
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be 1..{MAX_CONCURRENCY}")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be in (0, {MAX_SECONDS}]")
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk not found: apt-get install -y wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="ascii") as fh:
        fh.write(lua_script(paths))
        script = fh.name
    try:
        cmd = [wrk, f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{int(seconds)}s",
               "--timeout", f"{int(timeout_s)}s", "-s", script, base + "/"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        Path(script).unlink(missing_ok=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    r = json.loads(line[len("RESULT "):])
    duration = r["duration_us"] / 1e6
    return LoadResult(
        url=base, concurrency=concurrency, seconds=duration, requests=r["requests"],
        requests_per_s=r["requests"] / duration if duration else 0.0,
        p50_ms=r["p50_us"] / 1000, p90_ms=r["p90_us"] / 1000, p99_ms=r["p99_us"] / 1000,
        max_ms=r["max_us"] / 1000, mean_ms=r["mean_us"] / 1000,
        socket_errors=r["connect"] + r["read"] + r["write"], timeouts=r["timeout"],
        non_2xx=r["status"])


def format_result(r: LoadResult) -> str:
    """A Markdown table of one run."""
    rows = [("requests", f"{r.requests}"), ("requests/s", f"{r.requests_per_s:.1f}"),
            ("latency p50, ms", f"{r.p50_ms:.1f}"), ("latency p90, ms", f"{r.p90_ms:.1f}"),
            ("latency p99, ms", f"{r.p99_ms:.1f}"), ("latency max, ms", f"{r.max_ms:.1f}"),
            ("errors (socket / timeout / non-2xx)",
             f"{r.socket_errors} / {r.timeouts} / {r.non_2xx}")]
    head = f"{r.url}, {r.concurrency} connections, {r.seconds:.1f} s\n\n| figure | value |\n| --- | ---: |"
    return head + "\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


# ------------------------------------------------------------------------------ --serve


def build_serve_index(paragraphs: int, seed: int, data: Path, out_dir: Path,
                      procs: int) -> Path:
    """An index of the sample release plus a synthetic corpus (reused when already built)."""
    from search.storage import has_index

    index_dir = out_dir / f"serve-{paragraphs}-s{seed}"
    if has_index(index_dir):
        return index_dir
    corpus, _ = ensure_corpus(out_dir, paragraphs, seed, data)
    cmd = [sys.executable, "-m", "search", "reindex", str(REPO / "seeds"), str(corpus),
           "--index-dir", str(index_dir), "--full", "--procs", str(procs)]
    subprocess.run(cmd, check=True, cwd=REPO, env=child_env(), stdout=subprocess.DEVNULL)
    return index_dir


class Server:
    """``release-search serve`` on a free loopback port, as a context manager."""

    def __init__(self, index_dir: Path, startup_timeout: float = 120.0):
        self.index_dir = index_dir
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "search", "serve", "--index-dir", str(self.index_dir),
             "--host", "127.0.0.1", "--port", "0"],
            cwd=REPO, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        deadline = time.monotonic() + self.startup_timeout
        for line in self.proc.stdout or ():
            if line.startswith("Serving on "):
                self.url = line.split()[-1].strip()
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.__exit__(None, None, None)
            raise RuntimeError("the server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def warm_up(url: str, paths: Sequence[str]) -> None:
    """One request per distinct path of the first few, so the first wrk requests are warm."""
    for path in paths[:3]:
        with urllib.request.urlopen(url + path, timeout=60) as resp:
            resp.read()


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="base URL of a running server (loopback only)")
    ap.add_argument("--serve", action="store_true",
                    help="build an index (sample + corpus), serve it on a free port, stop it after")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--paragraphs", type=int, default=20000, help="corpus size for --serve")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--procs", type=int, default=2, help="reindex processes for --serve")
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    if bool(args.url) == args.serve:
        ap.error("give exactly one of --url and --serve")
    data = args.data or default_data_dir()
    paths = query_paths(load_queries(data, args.queries))
    if args.serve:
        index_dir = build_serve_index(args.paragraphs, args.seed, data, args.out_dir, args.procs)
        with Server(index_dir) as server:
            warm_up(server.url, paths)
            result = run_wrk(server.url, paths, args.concurrency, args.seconds)
    else:
        url = check_loopback(args.url)
        warm_up(url, paths)
        result = run_wrk(url, paths, args.concurrency, args.seconds)
    if args.json:
        print(json.dumps(asdict(result)))
    else:
        print(format_result(result))


if __name__ == "__main__":
    main()
