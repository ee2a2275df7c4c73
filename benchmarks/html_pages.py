"""Extraction cost of web pages: pages per second on a generated crawl.

A WARC file of ``--pages`` HTML pages is generated (releases of :mod:`benchmarks.corpus`,
each in a government-portal page: navigation, breadcrumbs, sidebar lists, a date/source line,
font widget, share bar, footer; one page in ten carries a table, one in four is GB2312 with the
charset only in the HTTP header), together with an image and a redirect every 50 pages.
Then:

* ``extract``: every record decoded and its article extracted
  (:func:`search.html.decode_html`, :func:`search.html.extract_article`) in this process --
  pages/s of extraction alone, CPU seconds;
* ``reindex procs=P``: ``python -m search reindex WARC --full --procs P`` in a fresh process
  (wall and CPU time, worker processes included) -- pages/s end to end.

Usage::

    python benchmarks/html_pages.py --pages 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.corpus import default_data_dir, load_pool, make_release  # noqa: E402

NAV = "".join(f'<li><a href="/{k}/">{name}</a></li>' for k, name in [
    ("zwgk", "政务公开"), ("zwfw", "政务服务"), ("hdjl", "互动交流"), ("zjdz", "走进德州"),
    ("xwfb", "新闻发布会")])


def page_html(release: dict, number: int, rng: random.Random, charset: str) -> str:
    """One release as a government-portal page."""
    lines = release["text"].split("\n")
    body = "\n".join(f"<p>　　{escape(line)}</p>" for line in lines)
    if number % 10 == 0:
        rows = "".join(f"<tr><td>{county}</td><td>{rng.randint(50, 300)}.{rng.randint(0, 9)}"
                       f"</td><td>{rng.randint(1, 9)}.{rng.randint(0, 9)}</td></tr>"
                       for county in ("德城区", "陵城区", "禹城市", "乐陵市", "临邑县", "齐河县"))
        body += ("<table><tr><th>县（市、区）</th><th>总量（亿元）</th><th>增长（%）</th></tr>"
                 f"{rows}</table>")
    side = "".join(f'<li><a href="/r/{rng.randint(1, 9999)}.html">{escape(t)}</a></li>'
                   for t in rng.sample(TITLES, 5))
    title = escape(release["title"])
    return f"""<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>{title}_德州市人民政府</title>
<meta name="SiteName" content="德州市人民政府"><meta name="PubDate" content="{release['date']}">
<script>var _hmt = _hmt || [];</script></head><body>
<div class="top">欢迎访问德州市人民政府网站！ <a href="/">无障碍</a> | <a href="/en/">English</a></div>
<div class="nav"><ul><li><a href="/">首页</a></li>{NAV}</ul></div>
<div class="crumbs">当前位置：<a href="/">首页</a> &gt; <a href="/xwzx/">新闻中心</a> &gt; 新闻发布会</div>
<div class="side"><h3>热点排行</h3><ol>{side}</ol></div>
<div class="article"><h1>{title}</h1>
<div class="info"><span>发布时间：{release['date']}</span> <span>来源：德州市人民政府新闻办公室</span>
<span>【字体：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</span></div>
<div class="con">{body}</div>
<div class="tools">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">【打印本页】</a>
<a href="#">【关闭窗口】</a><p>扫一扫在手机打开当前页</p></div>
<div class="related"><h3>相关推荐</h3><ul>{side}</ul></div></div>
<div class="footer"><p>版权所有：德州市人民政府　网站标识码：3714000001</p>
<p>鲁ICP备05001234号-1　鲁公网安备 37140202000123号</p></div>
</body></html>
"""


TITLES: list[str] = []


def write_crawl(path: Path, pages: int, seed: int = 1) -> int:
    """A WARC of ``pages`` HTML pages (and an image and a redirect every 50); returns the
    HTML payload bytes."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    rng = random.Random(seed)
    pool = load_pool(default_data_dir())
    TITLES[:] = pool.titles[:200] or ["工作"]
    total = 0
    start = dt.date(2022, 1, 1)
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)

        def response(uri: str, body: bytes, status: str, content_type: str) -> None:
            http = StatusAndHeaders(status, [("Content-Type", content_type)],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                uri, "response", payload=io.BytesIO(body), length=len(body),
                http_headers=http))

        for n in range(pages):
            release = make_release(rng, pool, n, rng.randint(6, 24),
                                   start + dt.timedelta(days=n % 700))
            gb = n % 4 == 1
            html = page_html(release, n, rng, "utf-8" if not gb else "x")
            if gb:  # the charset in the HTTP header only
                html = html.replace('<meta charset="x">', "")
                body = html.encode("gb18030")
                content_type = "text/html; charset=gb2312"
            else:
                body = html.encode("utf-8")
                content_type = "text/html"
            total += len(body)
            response(f"http://www.dezhou.gov.cn/art/{n // 100}/art_{n}.html", body, "200 OK",
                     content_type)
            if n % 50 == 0:
                response(f"http://www.dezhou.gov.cn/img/{n}.png", b"\x89PNG\r\n\x1a\n" + bytes(64),
                         "200 OK", "image/png")
                response(f"http://www.dezhou.gov.cn/go/{n}", b"", "302 Found", "text/html")
    return total


def measure_extraction(path: Path) -> dict:
    """Decode and extract every page of the crawl in this process."""
    from search.html import charset_of_content_type, extract_article
    from search.sources import decode_html
    from search.warc import _kind, _records

    import trafilatura  # noqa: F401  (imported before the clock starts)

    pages = chars = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    for record in _records(path):
        if _kind(record) != "page":
            continue
        payload = record.content_stream().read()
        ctype = record.http_headers.get_header("Content-Type")
        html, _bad = decode_html(payload, "bench", charset_of_content_type(ctype))
        article = extract_article(html, "bench")
        pages += 1
        chars += sum(len(p) for p in article.paragraphs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"pages": pages, "article_chars": chars, "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2), "pages_per_s": round(pages / wall, 1),
            "pages_per_cpu_s": round(pages / cpu, 1)}


def measure_reindex(path: Path, index_dir: Path, procs: int) -> dict:
    """``python -m search reindex`` of the crawl in a fresh process."""
    shutil.rmtree(index_dir, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "search", "reindex", str(path), "--index-dir",
                           str(index_dir), "--full", "--procs", str(procs), "--json"],
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"reindex failed: {done.stderr}")
    report = json.loads(done.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"procs": procs, "releases": report["releases"], "paragraphs": report["paragraphs"],
            "problems": len(report["problems"]), "skipped_records": report["skipped_records"],
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "pages_per_s": round(report["releases"] / wall, 1)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--procs", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="html-bench-") as tmp:
        crawl = Path(tmp) / "crawl.warc.gz"
        size = write_crawl(crawl, args.pages, args.seed)
        results = {"pages": args.pages, "html_mb": round(size / 1e6, 1),
                   "warc_mb": round(crawl.stat().st_size / 1e6, 1), "cores": os.cpu_count(),
                   "load": [round(x, 2) for x in os.getloadavg()],
                   "extract": measure_extraction(crawl),
                   "reindex": [measure_reindex(crawl, Path(tmp) / f"ix{p}", p)
                               for p in args.procs]}
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    ext = results["extract"]
    print(f"{results['pages']} pages ({results['html_mb']} MB of HTML, WARC "
          f"{results['warc_mb']} MB), {results['cores']} cores, load {results['load']}")
    print(f"extract (decode + trafilatura, one process): {ext['pages_per_s']} pages/s "
          f"({ext['pages_per_cpu_s']} per CPU-s; {ext['wall_s']} s)")
    for row in results["reindex"]:
        print(f"reindex --full --procs {row['procs']}: {row['pages_per_s']} pages/s "
              f"({row['wall_s']} s wall, {row['cpu_s']} CPU-s; {row['releases']} releases, "
              f"{row['paragraphs']} paragraphs, skipped records {row['skipped_records']})")


if __name__ == "__main__":
    main()
