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

#: What a terminal would act on or that would forge a line: C0 controls (newlines and ESC
#: included), DEL and C1, the line and paragraph separators, bidi embeddings, overrides and
#: isolates; and lone surrogates (the undecodable bytes of a file name, or broken text).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: What --json escapes beyond what json.dumps does (it escapes C0 only); surrogates become U+FFFD.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    ch = match.group()
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte the name really has
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` safe to show on a terminal: the characters of ``_UNPRINTABLE`` become visible
    escapes (``\\x1b``, ``\\n``, ``\\u202e``; an undecodable byte of a file name ``\\xff``), so
    indexed text or a file name can neither drive the terminal nor forge lines of output. Every
    piece of data the CLI prints for a human goes through here."""
    return _UNPRINTABLE.sub(_escape, text)


def _say(text: str, err: bool = False) -> None:
    """Print lines the CLI composed (``text`` may hold newlines), each escaped."""
    click.echo("\n".join(printable(line) for line in text.split("\n")), err=err)


def _json_escape(match: re.Match) -> str:
    ch = match.group()
    return "\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else f"\\u{ord(ch):04x}"


def _dump(obj) -> None:
    """Print ``obj`` as one line of JSON in UTF-8, whatever the output's encoding: valid even
    when a file name is not UTF-8 (its undecodable bytes become U+FFFD) and without raw C1 or
    bidi controls (escaped as ``\\u009b``, which JSON readers decode back)."""
    text = _JSON_UNSAFE.sub(_json_escape, json.dumps(obj, ensure_ascii=False, indent=None))
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream: no encoding to get wrong
        click.echo(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8") + b"\n")
    buffer.flush()


def _emphasise(snippet: str) -> str:
    import html

    parts = _MARK_RE.split(snippet)
    out = []
    for i, part in enumerate(parts):
        text = printable(html.unescape(part))
        out.append(click.style(text, bold=True, fg="yellow") if i % 2 else text)
    return "".join(out)


class _Group(click.Group):
    """Turns the library's errors into clean messages and exit status 1; escapes every message
    (they quote file names and arguments)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SearchError as exc:
            raise click.ClickException(printable(str(exc))) from None
        except click.ClickException as exc:  # usage errors quote what was typed
            exc.message = printable(exc.message)
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="release-search")
def main() -> None:
    """Full-text search for Chinese press releases."""
    # Text the output's encoding cannot hold (Chinese under PYTHONIOENCODING=ascii) is shown
    # as escapes rather than ending the command in a traceback; --json writes UTF-8 bytes.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


@main.command()
@click.argument("sources", nargs=-1, type=click.Path())
@INDEX_DIR
@click.option("--full", is_flag=True, help="Rebuild everything instead of updating.")
@click.option("--userdict", type=click.Path(dir_okay=False),
              help="jieba user dictionary (default: userdict.txt in a source folder).")
@click.option("--synonyms", type=click.Path(dir_okay=False),
              help="Synonyms file to install in the index directory (default: synonyms.txt "
                   "in a source folder); searches reread it when it changes, no reindex needed.")
@click.option("--procs", default=None, type=click.IntRange(1, 64),
              help="Worker processes for a full rebuild [default: every core for large sources].")
@click.option("--follow-links", is_flag=True,
              help="Follow symbolic links out of the source folders (to files and folders).")
@click.option("--shards", default=None, type=click.IntRange(1, 256),
              help="Split the index into N shards built on Dask workers (needs the cluster "
                   "extra) [default: as many as the index has; none for a new one].")
@click.option("--scheduler", default=None, metavar="ADDRESS", envvar="RELEASE_SEARCH_SCHEDULER",
              help="Build the shards on the Dask cluster of this scheduler (tcp://host:8786; "
                   "env RELEASE_SEARCH_SCHEDULER) [default: a local cluster].")
@click.option("--workers", default=None, type=click.IntRange(1, 256),
              help="Worker processes of the local cluster of a sharded reindex "
                   "[default: one per core].")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("-v", "--verbose", is_flag=True,
              help="Log the stages of a parallel rebuild, with their times, to stderr.")
def reindex(sources, index_dir, full, userdict, synonyms, procs, follow_links, shards, scheduler,
            workers, as_json, verbose):
    """Build or update the index from SOURCES (files or folders; default seeds/)."""
    from . import build_index
    from .shards import is_sharded

    if verbose:
        import logging

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(relativeCreated)7.0f ms %(message)s"))
        logger = logging.getLogger("search")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

    sources = sources or ("seeds",)
    if shards is not None or scheduler or is_sharded(index_dir):
        if procs is not None:
            raise click.UsageError("--procs is for an index without shards (each shard is "
                                   "written by one process on its worker)")
        _reindex_sharded(sources, index_dir, full, userdict, synonyms, follow_links, shards,
                         scheduler, workers, as_json)
        return
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
                             progress=progress, procs=procs, follow_links=follow_links,
                             synonyms=synonyms)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    _report(report, as_json)


def _reindex_sharded(sources, index_dir, full, userdict, synonyms, follow_links, shards,
                     scheduler, workers, as_json):
    from .cluster import reindex_on_cluster

    state: dict[int, tuple[int, int]] = {}
    shown = [False]
    progress = None
    if sys.stderr.isatty() and not as_json:
        def progress(shard, done, total):  # one status line, rewritten in place
            state[shard] = (done, max(total, done))
            line = "  ".join(f"shard {k}: {d}/{t}" for k, (d, t) in sorted(state.items()))
            click.echo("\r\x1b[K" + line, nl=False, err=True)
            shown[0] = True

    try:
        report = reindex_on_cluster(sources, index_dir, shards=shards, full=full,
                                    userdict=userdict, follow_links=follow_links,
                                    scheduler=scheduler, workers=workers, progress=progress,
                                    synonyms=synonyms)
    finally:
        if shown[0]:
            click.echo("", err=True)
    _report(report, as_json)


def _report(report, as_json: bool) -> None:
    """A reindex's problems on stderr, then its summary (or all of it as JSON)."""
    for p in report.problems:
        click.echo(f"{'skipped' if p.skipped else 'warning'}: {printable(p.source)}: "
                   f"{printable(p.message)}", err=True)
    if as_json:
        _dump(report.to_dict())
    else:
        _say(report.summary())


#: The option each QueryError of the search command's parameters is about (a usage error: exit 2).
_SEARCH_OPTIONS = {"invalid_from": "--from", "invalid_to": "--to",
                   "invalid_date_range": "'--from' / '--to'", "invalid_page": "--page",
                   "invalid_per_page": "'-n' / '--limit'", "invalid_section": "--section",
                   "invalid_speaker": "--speaker", "invalid_doc": "--doc",
                   "invalid_publisher": "--publisher", "invalid_org": "--org",
                   "invalid_sort": "--sort", "query_too_long": "QUERY",
                   "invalid_query": "QUERY"}


@main.command()
@click.argument("query")
@INDEX_DIR
@click.option("--limit", "-n", default=10, show_default=True, type=int, help="Hits per page.")
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--section", default=None, help="Only paragraphs of this section (answer...).")
@click.option("--speaker", default=None, help="Only what this speaker said.")
@click.option("--doc", "doc_id", default=None, help="Only paragraphs of this release.")
@click.option("--from", "date_from", default=None, metavar="DATE",
              help="Only releases dated on or after DATE (YYYY-MM-DD, YYYY-MM or YYYY).")
@click.option("--to", "date_to", default=None, metavar="DATE",
              help="Only releases dated on or before DATE (YYYY-MM-DD, YYYY-MM or YYYY).")
@click.option("--publisher", default=None, help="Only releases of this publisher.")
@click.option("--org", default=None, help="Only what speakers of this organisation said.")
@click.option("--sort", default="relevance", show_default=True,
              type=click.Choice(["relevance", "newest", "oldest"]),
              help="Order of the hits (by date: ties by relevance, undated last).")
@click.option("--facets", "show_facets", is_flag=True,
              help="Also print the matches counted by month, publisher, org, speaker, section.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl", "csv"]),
              default="text", show_default=True,
              help="text for people; json: the object of /api/search; jsonl / csv: one row "
                   "per hit, the columns of /api/search.jsonl and /api/search.csv.")
@click.option("--all", "every", is_flag=True,
              help="Every match (up to 10,000, then a note of the cut) instead of one page.")
@click.option("--synonyms", type=click.Path(exists=True, dir_okay=False),
              help="Synonyms file to use instead of the index directory's synonyms.txt.")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
def search(query, index_dir, limit, page, section, speaker, doc_id, date_from, date_to,
           publisher, org, sort, show_facets, fmt, every, synonyms, as_json):
    """Search the index for QUERY (an empty QUERY with filters lists their paragraphs,
    newest first)."""
    from . import SearchParams, open_index
    from .errors import QueryError

    if as_json:
        fmt = "json"
    try:  # bad options are usage errors (exit 2), checked before the index is opened
        SearchParams(query, page, limit, section, speaker, doc_id, date_from, date_to,
                     publisher, org, sort)
    except QueryError as exc:
        raise click.BadParameter(str(exc), param_hint=_SEARCH_OPTIONS.get(exc.code)) from None
    filters = dict(section=section, speaker=speaker, doc_id=doc_id, date_from=date_from,
                   date_to=date_to, publisher=publisher, org=org, sort=sort)
    with open_index(index_dir, synonyms=synonyms) as ix:
        if every:
            with ix.iter_hits(query, **filters) as stream:
                _print_hits(fmt, query, stream, stream.total)
            return
        result = ix.search(query, page=page, per_page=limit, **filters)
    if fmt == "json":
        _dump(result.to_dict())
        return
    if fmt in ("jsonl", "csv"):  # the page asked for: no note of a cut
        _print_hits(fmt, query, result.hits, len(result.hits))
        return
    click.echo(f"{result.total} results for {query!r} ({result.took_ms:.1f} ms)")
    _print_text_hits(result.hits, (result.page - 1) * result.per_page + 1)
    if show_facets:
        _print_facets(result)


def _print_hits(fmt, query, hits, total) -> None:
    """Hits as ``fmt``; ``total`` is what a jsonl / csv export notes a cut against."""
    from .export import csv_chunks, cut_note, jsonl_chunks

    if fmt in ("jsonl", "csv"):
        chunks = csv_chunks(hits, total) if fmt == "csv" else jsonl_chunks(hits, total)
        _write_utf8(chunks)
        return
    hits = list(hits)
    if fmt == "json":  # every hit, with the total and whether it was cut
        _dump({"query": query, "total": total, "rows": len(hits),
               "truncated": total > len(hits), "hits": [h.to_dict() for h in hits]})
        return
    click.echo(f"{total} results for {query!r}")
    _print_text_hits(hits, 1)
    if total > len(hits):
        click.echo(f"\n{cut_note(total, len(hits))}")


def _write_utf8(chunks) -> None:
    """Export text, as UTF-8 bytes whatever the output's encoding (as ``_dump``)."""
    buffer = getattr(sys.stdout, "buffer", None)
    for chunk in chunks:
        if buffer is None:
            click.echo(chunk, nl=False)
        else:
            sys.stdout.flush()
            # lone surrogates (broken text) become "?": the output stays valid UTF-8
            buffer.write(chunk.encode("utf-8", "replace"))
    if buffer is not None:
        buffer.flush()


def _print_text_hits(hits, first: int) -> None:
    for i, h in enumerate(hits, first):
        who = f" · {printable(h.speaker)}" if h.speaker else ""
        date = f" · {printable(h.date)}" if h.date else ""
        publisher = f" · {printable(h.publisher)}" if h.publisher else ""
        click.echo(f"\n{i}. {printable(h.title)}{date}{publisher}")
        click.echo(f"   {printable(h.doc_id)} ¶{h.paragraph} [{printable(h.section)}{who}] "
                   f"score {h.score:.2f}")
        click.echo("   " + _emphasise(h.snippet))
        if h.url:
            click.echo(f"   {printable(h.url)}")


def _print_facets(result) -> None:
    """The facet counts: one line per facet, its values with their counts."""
    click.echo("\nfacets (matching paragraphs):")
    for name, values in result.facets.items():
        shown = ", ".join(f"{printable(v)} {n}" for v, n in values) or "-"
        distinct = result.facet_counts.get(name, 0)
        more = f" (top {len(values)} of {distinct})" if distinct > len(values) else ""
        click.echo(f"  {name}{more}: {shown}")


@main.command()
@click.argument("prefix")
@INDEX_DIR
@click.option("--limit", "-n", default=10, show_default=True, type=int,
              help="Most suggestions (at most 50).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the object of /api/suggest (query and suggestions).")
def suggest(prefix, index_dir, limit, as_json):
    """Complete PREFIX: titles, speakers, organisations, publishers and frequent words."""
    from . import SuggestParams, open_index
    from .errors import QueryError

    try:  # a usage error (exit 2), as the search command's
        SuggestParams(prefix, limit)
    except QueryError as exc:
        hint = "'-n' / '--limit'" if exc.code == "invalid_limit" else "PREFIX"
        raise click.BadParameter(str(exc), param_hint=hint) from None
    with open_index(index_dir) as ix:
        found = ix.suggest(prefix, limit=limit)
    if as_json:
        _dump({"query": prefix, "suggestions": [s.to_dict() for s in found]})
        return
    for s in found:
        click.echo(f"{printable(s.text)}\t{s.kind}")


@main.command()
@click.argument("doc_id")
@INDEX_DIR
@click.option("--json", "as_json", is_flag=True)
def show(doc_id, index_dir, as_json):
    """Print the release DOC_ID paragraph by paragraph."""
    from . import open_index, valid_doc_id
    from .errors import DocumentNotFoundError

    # An id no release can have (an undecodable byte, a control character, a path) is simply
    # not there: the engine's own rule, checked before the lookup (Whoosh cannot even encode
    # some of them).
    if not valid_doc_id(doc_id):
        raise DocumentNotFoundError(f"no release with id '{printable(doc_id)}'")
    with open_index(index_dir) as ix:
        rel = ix.document(doc_id)
    if as_json:
        _dump(dataclasses.asdict(rel))
        return
    click.echo(click.style(printable(rel.title), bold=True))
    click.echo(f"{printable(rel.doc_id)} · {printable(rel.date or 'no date')} · "
               f"{printable(rel.source or '')}")
    origin = [value for value in (rel.publisher, rel.url) if value]
    if origin:  # a web page's site and address
        click.echo(" · ".join(printable(value) for value in origin))
    for p in rel.paragraphs:
        who = f" {printable(p.speaker)}" if p.speaker else ""
        org = f" / {printable(p.organization)}" if p.organization else ""
        click.echo(f"\n[{p.number}] ({printable(p.section)}{who}{org})\n{printable(p.text)}")


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
    shards = getattr(ix, "shard_count", None)
    where = f"{shards} shards, manifest" if shards else "generation"
    _say(f"{st.releases} releases, {st.paragraphs} paragraphs "
         f"({st.size_bytes / 1e6:.1f} MB, {where} {st.generation})")
    for name, n in st.sections.items():
        _say(f"  {name}: {n}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--diff", "as_diff", is_flag=True,
              help="Print a unified diff of the original and the repaired text.")
@click.option("--json", "as_json", is_flag=True,
              help="Print, per release, each repaired or flagged span as JSON.")
def repair(files, as_diff, as_json):
    """Print the text of FILES as the engine repairs it, without indexing anything."""
    import difflib

    from .documents import repair_sources

    problems: list = []
    many = None
    for record, text, result in repair_sources(files, problems):
        if as_json:
            spans = sorted((s.to_dict() for s in result.spans + result.flagged),
                           key=lambda s: (s["start"], s["end"]))
            _dump({"id": record.doc_id, "location": record.location, "counts": result.counts,
                   "spans": spans})
        elif as_diff:
            diff = difflib.unified_diff(
                text.splitlines(keepends=True), result.text.splitlines(keepends=True),
                fromfile=f"{record.location} (original)", tofile=f"{record.location} (repaired)")
            for line in diff:
                click.echo(printable(line.rstrip("\n")))
        else:
            if many is None:  # several files, or a JSONL file ("file:LINE"): say which
                many = len(files) > 1 or record.location.rsplit(":", 1)[-1].isdigit()
            if many:
                click.echo(f"==> {printable(record.location)} <==")
            for line in result.text.split("\n"):
                click.echo(printable(line))
    for p in problems:
        click.echo(f"{'skipped' if p.skipped else 'warning'}: {printable(p.source)}: "
                   f"{printable(p.message)}", err=True)


@main.command()
@INDEX_DIR
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Flask's development server with reloading.")
@click.option("--source", "sources", multiple=True, type=click.Path(),
              help="Where to build the index from if it is missing (default seeds/).")
@click.option("--base-url", default=None, metavar="URL",
              help="The site's public root URL, for absolute links (env RELEASE_SEARCH_BASE_URL).")
@click.option("--connection-limit", default=1000, show_default=True, type=click.IntRange(1),
              help="Most connections open at once; more wait until others close.")
@click.option("--channel-timeout", default=30, show_default=True, type=click.IntRange(1),
              metavar="SECONDS", help="Close a connection idle (no request in progress) this long.")
@click.option("--request-timeout", default=10, show_default=True, type=click.IntRange(1),
              metavar="SECONDS",
              help="Cut off a client that has not sent a whole request this long after its first byte.")
@click.option("--synonyms", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Synonyms file to read (reread when it changes) instead of the index "
                   "directory's synonyms.txt (env RELEASE_SEARCH_SYNONYMS).")
@click.option("--scheduler", default=None, metavar="ADDRESS", envvar="RELEASE_SEARCH_SCHEDULER",
              help="Search a sharded index in actors on the workers of this Dask scheduler "
                   "(tcp://host:8786; env RELEASE_SEARCH_SCHEDULER) [default: in the server].")
def serve(index_dir, host, port, debug, sources, base_url, connection_limit, channel_timeout,
          request_timeout, synonyms, scheduler):
    """Serve the search site (builds the index from seeds/ first if it is missing)."""
    from web.server import serve as run

    run(index_dir, host=host, port=port, debug=debug, sources=sources or ("seeds",),
        base_url=base_url, connection_limit=connection_limit, channel_timeout=channel_timeout,
        request_timeout=request_timeout, synonyms=synonyms, scheduler=scheduler)


@main.command()
@INDEX_DIR
@click.option("--queries", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--qrels", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--paragraphs", is_flag=True,
              help="The qrels judge paragraphs (query_id, release_id, line n of the release's "
                   "text): rank and report by paragraph.")
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--failures", default=0, show_default=True, type=click.IntRange(0),
              help="List the N worst queries.")
@click.option("--json", "as_json", is_flag=True)
def evaluate(index_dir, queries, qrels, paragraphs, k, failures, as_json):
    """Measure ranking quality against relevance judgements (Recall, MRR, nDCG, latency)."""
    from . import evaluate_files, format_report

    report = evaluate_files(index_dir, queries, qrels, k=k, failures=failures,
                            by="paragraph" if paragraphs else "release")
    if as_json:
        _dump(report.to_dict())
    else:
        _say(format_report(report))


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
        _say(report.summary())
    if not report.ok:
        raise SystemExit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
