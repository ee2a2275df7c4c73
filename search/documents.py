"""Source files to :class:`~search.models.Release` objects: the façade over sources, repair
and sections.

* :func:`parse_release` -- one release's text (a web page's: the article
  :func:`search.html.extract_article` finds in it, with its title, date, publisher, URL): :func:`search.repair.repair_text`, then one
  paragraph per non-empty line, each given its section
  (:func:`search.sections.classify_paragraphs`), and the release date
  (:func:`search.sections.extract_date`).
* :func:`read_releases` -- the releases of source files and folders
  (:func:`search.sources.read_sources`), each parsed; every problem is reported as a
  :class:`~search.sources.Problem` and reading goes on.

The names other modules use from :mod:`search.sources` and :mod:`search.sections` are
re-exported here.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from search.errors import SourceError
from search.models import Release
from search.repair import REPAIR_VERSION, RepairResult, repair_text
from search.sections import (SECTIONS_VERSION, classify_paragraphs, extract_date,
                             extract_publisher, parse_iso_date)
from search.sources import (
    MAX_DOC_ID_LENGTH,
    MAX_RELEASE_BYTES,
    SOURCE_SUFFIXES,
    Problem,
    RawRelease,
    Skip,
    Unchanged,
    decode_bytes,
    iter_source_files,
    read_sources,
    valid_doc_id,
)

__all__ = [
    "MAX_DOC_ID_LENGTH",
    "MAX_RELEASE_BYTES",
    "READING_VERSION",
    "SOURCE_SUFFIXES",
    "Problem",
    "Skip",
    "Unchanged",
    "classify_paragraphs",
    "decode_bytes",
    "extract_date",
    "iter_source_files",
    "paragraph_flags",
    "parse_release",
    "read_releases",
    "repair_sources",
    "valid_doc_id",
]

#: What a source reads as: indexes built by another version of repair or of the sections'
#: reading are rebuilt in full (the index fingerprint holds it).
READING_VERSION = f"{REPAIR_VERSION}.{SECTIONS_VERSION}"


def parse_release(
    text: str,
    doc_id: str,
    *,
    source: str | None = None,
    default_year: int | None = None,
    date: str | None = None,
    url: str | None = None,
    content_hash: str = "",
    title: str | None = None,
    publisher: str | None = None,
) -> Release:
    """Repair ``text`` and split it into a :class:`Release`.

    ``title`` (when non-empty) becomes paragraph 1 and the lines of ``text`` follow; otherwise
    the first non-empty line of ``text`` is the title.  Title and text are repaired together
    (:func:`search.repair.repair_text`), so a release's script is converted consistently.
    ``date`` (ISO ``YYYY-MM-DD``) wins when valid; else the date is extracted from the text
    (:func:`extract_date`, with ``default_year`` for a date without year).  ``publisher`` (a
    JSONL field, a web page's metadata) wins when given; else the release's own credits or
    copyright notice may name it (:func:`search.sections.extract_publisher`).  ``repairs`` holds
    the repair counts.  Raises :class:`SourceError` when there is no text at all.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if title is not None and title.strip():
        text = " ".join(title.split()) + "\n" + text
    repaired = repair_text(text)
    lines = [
        stripped for line in repaired.text.split("\n") if (stripped := line.strip())
    ]
    flagged = paragraph_flags(repaired)
    if not lines:
        raise SourceError("empty release (no text)", source or doc_id)
    paragraphs = classify_paragraphs(lines)
    iso = parse_iso_date(date) if date else None
    if iso is None:
        iso = extract_date(repaired.text, default_year)
    return Release(
        doc_id=doc_id,
        title=paragraphs[0].text,
        paragraphs=paragraphs,
        date=iso,
        source=source,
        url=url,
        content_hash=content_hash,
        repairs=dict(repaired.counts),
        publisher=(publisher.strip() if publisher and publisher.strip()
                   else extract_publisher(paragraphs)),
        flagged=flagged,
    )


def paragraph_flags(repaired: RepairResult) -> list[list]:
    """The flagged spans of ``repaired`` as ``[paragraph, start, end, kind]``: paragraphs are
    its non-empty lines, stripped, numbered from 1 as :func:`parse_release` numbers them;
    offsets are in the paragraph's text (a span is clipped to its line)."""
    if not repaired.flagged:
        return []
    out = []
    number = 0
    at = 0
    spans = sorted(repaired.flagged, key=lambda s: s.out_start)
    for line in repaired.text.split("\n"):
        stripped = line.strip()
        end = at + len(line)
        if stripped:
            number += 1
            lead = at + len(line) - len(line.lstrip())
            for s in spans:
                if s.out_start < end and s.out_end > at and s.out_end > s.out_start:
                    start = max(s.out_start, lead) - lead
                    stop = min(s.out_end, lead + len(stripped)) - lead
                    if stop > start:
                        out.append([number, start, stop, s.kind])
        at = end + 1
    return out


def repair_sources(
    paths: Iterable[str | os.PathLike], problems: list[Problem]
) -> Iterator[tuple[RawRelease, str, RepairResult]]:
    """Each release of the source files under ``paths`` (as :func:`read_releases` reads them)
    with the text it is repaired as (title line first, as :func:`parse_release` does) and its
    repair: what the engine would index, without indexing anything."""
    for record in read_sources(iter_source_files(paths), problems):
        if not isinstance(record, RawRelease):
            continue
        text = record.text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
        if record.title is not None and record.title.strip():
            text = " ".join(record.title.split()) + "\n" + text
        yield record, text, repair_text(text)


def _release(raw: RawRelease, problems: list[Problem]) -> Release:
    """``raw`` parsed, its source's problems reported; raises :class:`SourceError` when it
    has no text (a web page: no article)."""
    date = raw.date
    if date is not None and date.strip() and parse_iso_date(date) is None:
        problems.append(Problem(
            raw.location, f'ignored invalid "date" {date!r} (expected YYYY-MM-DD)', False))
        date = None
    text, title, url, publisher = raw.text, raw.title, raw.url, raw.publisher
    if raw.html is not None:
        from search.html import extract_article

        # What the source states apart from the page (JSONL fields) wins over the page.
        article = extract_article(raw.html, raw.location, raw.url or raw.page_url)
        text = "\n".join(article.paragraphs)
        title = title if title and title.strip() else article.title
        date = date if date and date.strip() else article.date
        url = url or article.url
        publisher = publisher or article.publisher
    release = parse_release(
        text,
        raw.doc_id,
        source=raw.source,
        default_year=raw.default_year,
        date=date,
        url=url,
        content_hash=raw.content_hash,
        title=title,
        publisher=publisher,
    )
    release.location = raw.location
    if raw.replaced_bytes:
        release.repairs["replaced_bytes"] = raw.replaced_bytes
        problems.append(Problem.replaced_bytes(raw.location, raw.replaced_bytes))
    if raw.replaced_surrogates:
        release.repairs["replaced_surrogates"] = raw.replaced_surrogates
        problems.append(Problem.replaced_surrogates(raw.location, raw.replaced_surrogates))
    return release


def _releases(
    files: list[Path], problems: list[Problem], skip: Skip | None,
    max_release_bytes: int | None, tally: Counter | None,
) -> Iterator[Release | Unchanged]:
    seen: dict[str, str] = {}  # doc_id -> where it was first read
    for record in read_sources(files, problems, skip, max_release_bytes=max_release_bytes,
                               tally=tally):
        if isinstance(record, RawRelease):
            try:
                release = _release(record, problems)
            except SourceError as error:  # e.g. a text of whitespace only after repair
                problems.append(Problem(record.location, error.reason, skipped=True))
                continue
        else:
            release = record
        first = seen.get(release.doc_id)
        if first is not None:
            message = f"duplicate id {release.doc_id!r} (first in {first})"
            problems.append(Problem(release.location, message, skipped=True))
            continue
        seen[release.doc_id] = release.location
        yield release


def read_releases(
    paths: Iterable[str | os.PathLike],
    problems: list[Problem],
    *,
    skip: Skip | None = None,
    follow_links: bool = False,
    max_release_bytes: int | None = None,
    tally: Counter | None = None,
) -> Iterator[Release | Unchanged]:
    """The releases of the source files under ``paths``, in file order.

    The paths are expanded at once (:func:`iter_source_files`, with ``follow_links``: a
    missing path raises :class:`SourceError` here, before any release is read; skipped links
    are reported).  After that, nothing raises for a bad file or line: each problem is
    appended to ``problems`` and reading goes on -- binary or undecodable files, malformed
    JSONL lines and releases over ``max_release_bytes`` (default
    :data:`~search.sources.MAX_RELEASE_BYTES`) are skipped; bad bytes, lone surrogates and
    paths that are not UTF-8 are replaced by U+FFFD and reported; an invalid JSONL "date" is
    reported and ignored; a release with no text is skipped; a duplicate id is reported and
    the later release skipped.

    With ``skip``, a release for which ``skip(doc_id, content_hash, location)`` is true is
    yielded as :class:`Unchanged` without being decoded or parsed (incremental reindexing).

    Web crawl records that are not read (not HTML, redirects, error responses, older copies of
    a URL) are counted by kind in ``tally`` (:data:`search.warc.SKIPPED_KINDS`).
    """
    files = iter_source_files(paths, problems, follow_links=follow_links)
    return _releases(files, problems, skip, max_release_bytes, tally)
