"""The ``release-search`` command line: a thin shell over the library."""

from __future__ import annotations

import dataclasses
import json
import re
import sys

import click

from .errors import SearchError

INDEX_DIR = click.option(
    "--index-dir", default="index", show_default=True, envvar="RELEASE_SEARCH_INDEX_DIR",
    type=click.Path(file_okay=False), help="Index directory (env RELEASE_SEARCH_INDEX_DIR).")

_MARK_RE = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def _dump(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=None))


def _emphasise(snippet: str) -> str:
    import html

    parts = _MARK_RE.split(snippet)
    out = []
    for i, part in enumerate(parts):
        text = html.unescape(part)
        out.append(click.style(text, bold=True, fg="yellow") if i % 2 else text)
    return "".join(out)


class _Group(click.Group):
    """Turns the library's errors into clean messages and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SearchError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="release-search")
def main() -> None:
    """Full-text search for Chinese press releases."""


@main.command()
@click.argument("sources", nargs=-1, type=click.Path())
@INDEX_DIR
@click.option("--full", is_flag=True, help="Rebuild everything instead of updating.")
@click.option("--userdict", type=click.Path(dir_okay=False),
              help="jieba user dictionary (default: userdict.txt in a source folder).")
@click.option("--procs", default=None, type=click.IntRange(1, 64),
              help="Worker processes for a full rebuild [default: every core for large sources].")
@click.option("--follow-links", is_flag=True,
              help="Follow symbolic links out of the source folders (to files and folders).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("-v", "--verbose", is_flag=True,
              help="Log the stages of a parallel rebuild, with their times, to stderr.")
def reindex(sources, index_dir, full, userdict, procs, follow_links, as_json, verbose):
    """Build or update the index from SOURCES (files or folders; default seeds/)."""
    from . import build_index

    if verbose:
        import logging

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(relativeCreated)7.0f ms %(message)s"))
        logger = logging.getLogger("search")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

    sources = sources or ("seeds",)
    bar = None
    progress = None
    if sys.stderr.isatty() and not as_json:
        bar = click.progressbar(length=1, label="indexing", file=sys.stderr)
        bar.__enter__()

        def _advance(done, total):
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        progress = _advance

    try:
        report = build_index(sources, index_dir, full=full, userdict=userdict,
                             progress=progress, procs=procs, follow_links=follow_links)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for p in report.problems:
        click.echo(f"{'skipped' if p.skipped else 'warning'}: {p.source}: {p.message}", err=True)
    if as_json:
        _dump(report.to_dict())
    else:
        click.echo(report.summary())


@main.command()
@click.argument("query")
@INDEX_DIR
@click.option("--limit", "-n", default=10, show_default=True, type=int, help="Hits per page.")
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--section", default=None)
@click.option("--speaker", default=None)
@click.option("--doc", "doc_id", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def search(query, index_dir, limit, page, section, speaker, doc_id, as_json):
    """Search the index for QUERY."""
    from . import open_index

    with open_index(index_dir) as ix:
        result = ix.search(query, page=page, per_page=limit, section=section, speaker=speaker,
                           doc_id=doc_id)
    if as_json:
        _dump(result.to_dict())
        return
    first = (result.page - 1) * result.per_page
    click.echo(f"{result.total} results for {query!r} ({result.took_ms:.1f} ms)")
    for i, h in enumerate(result.hits, first + 1):
        who = f" · {h.speaker}" if h.speaker else ""
        date = f" · {h.date}" if h.date else ""
        click.echo(f"\n{i}. {h.title}{date}")
        click.echo(f"   {h.doc_id} ¶{h.paragraph} [{h.section}{who}] score {h.score:.2f}")
        click.echo("   " + _emphasise(h.snippet))


@main.command()
@click.argument("doc_id")
@INDEX_DIR
@click.option("--json", "as_json", is_flag=True)
def show(doc_id, index_dir, as_json):
    """Print the release DOC_ID paragraph by paragraph."""
    from . import open_index

    with open_index(index_dir) as ix:
        rel = ix.document(doc_id)
    if as_json:
        _dump(dataclasses.asdict(rel))
        return
    click.echo(click.style(rel.title, bold=True))
    click.echo(f"{rel.doc_id} · {rel.date or 'no date'} · {rel.source or ''}")
    for p in rel.paragraphs:
        who = f" {p.speaker}" if p.speaker else ""
        org = f" / {p.organization}" if p.organization else ""
        click.echo(f"\n[{p.number}] ({p.section}{who}{org})\n{p.text}")


@main.command()
@INDEX_DIR
@click.option("--json", "as_json", is_flag=True)
def stats(index_dir, as_json):
    """Count the releases and paragraphs in the index."""
    from . import open_index

    with open_index(index_dir) as ix:
        st = ix.stats()
    if as_json:
        _dump(dataclasses.asdict(st))
        return
    click.echo(f"{st.releases} releases, {st.paragraphs} paragraphs "
               f"({st.size_bytes / 1e6:.1f} MB, generation {st.generation})")
    for name, n in st.sections.items():
        click.echo(f"  {name}: {n}")


@main.command()
@INDEX_DIR
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Flask's development server with reloading.")
@click.option("--source", "sources", multiple=True, type=click.Path(),
              help="Where to build the index from if it is missing (default seeds/).")
def serve(index_dir, host, port, debug, sources):
    """Serve the search site (builds the index from seeds/ first if it is missing)."""
    from web.server import serve as run

    run(index_dir, host=host, port=port, debug=debug, sources=sources or ("seeds",))


@main.command()
@INDEX_DIR
@click.option("--queries", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--qrels", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--failures", default=0, show_default=True, type=click.IntRange(0),
              help="List the N worst queries.")
@click.option("--json", "as_json", is_flag=True)
def evaluate(index_dir, queries, qrels, k, failures, as_json):
    """Measure ranking quality against relevance judgements (Recall, MRR, nDCG, latency)."""
    from . import evaluate_files, format_report

    report = evaluate_files(index_dir, queries, qrels, k=k, failures=failures)
    if as_json:
        _dump(report.to_dict())
    else:
        click.echo(format_report(report))


@main.command()
@INDEX_DIR
@click.option("--json", "as_json", is_flag=True)
def check(index_dir, as_json):
    """Verify the index: it opens, counts match its manifest, every release's hash is known."""
    from . import check_index

    report = check_index(index_dir)
    if as_json:
        _dump(report.to_dict())
    else:
        click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
