"""Synonyms applied at query time: groups of words that match one another.

A synonyms file holds one group a line, members separated by commas (``,`` or ``，``; blank
lines and ``#`` comments are skipped): ``市工信局,市工业和信息化局,工信局``. A built-in list of
agency abbreviations (``search/data/synonyms.txt``, package data) is always loaded first; a
user's file adds groups, and each of its groups replaces the built-in groups that share a
member with it (a group of one word takes that word out of the built-in list).

:func:`search.expansion.expand` rewrites a parsed query: a unit (a word or a quoted phrase) that contains a
member gets, as alternatives in the same clause (an OR), the unit with that member replaced
by each other member of its group: the longest member found, at its first occurrence, all
compared after folding (so traditional and simplified forms are one). Phrases stay phrases,
excluded words exclude every form, highlights mark whichever form a paragraph holds (they
mark the units of the query), and ``speaker:`` / ``org:`` filter values match every member.
Nothing is stored in the index: a change to the file needs no reindex (see
:class:`search.searcher.Index` for how the file is found and reread).
"""

from __future__ import annotations

import os
import re
import threading
import time
from importlib import resources
from pathlib import Path

from .errors import SourceError
from .script import fold

#: The name of a synonyms file in a source folder and in the index directory.
SYNONYMS_NAME = "synonyms.txt"
#: Most members of a group used to expand one unit (a long group is cut: bounded work).
MAX_MEMBERS = 12
_SPLIT_RE = re.compile(r"[,，、]")


def parse_groups(text: str, where: str = "synonyms") -> list[list[str]]:
    """The groups of a synonyms file's text: each a list of distinct members, as written."""
    groups: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        members = list(dict.fromkeys(m.strip() for m in _SPLIT_RE.split(line) if m.strip()))
        if any(any(c.isspace() for c in m) for m in members):
            raise SourceError(f"a synonym may not contain spaces: {line!r}", where)
        if members:
            groups.append(members)
    return groups


def read_groups(path: str | os.PathLike) -> list[list[str]]:
    """The groups of the synonyms file at ``path`` (SourceError if unreadable or not UTF-8)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SourceError(f"cannot read the synonyms file: {exc.strerror}", str(path)) from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"the synonyms file is not UTF-8 text: {exc.reason}",
                          str(path)) from None
    return parse_groups(text, str(path))


def builtin_groups() -> list[list[str]]:
    """The built-in groups (package data)."""
    text = resources.files("search").joinpath("data", SYNONYMS_NAME).read_text("utf-8")
    return parse_groups(text, "built-in synonyms")


class Synonyms:
    """Groups of synonyms, looked up by folded member."""

    def __init__(self, groups: list[list[str]]):
        self.groups: list[list[str]] = []
        self._group_of: dict[str, int] = {}
        for members in groups:
            folded = list(dict.fromkeys(fold(m) for m in members))
            if len(folded) < 2:
                continue
            index = len(self.groups)
            self.groups.append(folded)
            for m in folded:
                self._group_of.setdefault(m, index)
        # Longest first: the longest member a text holds is the one replaced.
        self._members = sorted(self._group_of, key=lambda m: (-len(m), m))

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, builtin: bool = True) -> Synonyms:
        """The built-in groups (unless ``builtin`` is false) overridden by the file at
        ``path``: a group of the file replaces every built-in group sharing a member."""
        base = builtin_groups() if builtin else []
        user = read_groups(path) if path is not None else []
        taken = {fold(m) for members in user for m in members}
        kept = [g for g in base if not any(fold(m) in taken for m in g)]
        return cls(kept + user)

    def __len__(self) -> int:
        return len(self.groups)

    def group(self, word: str) -> list[str]:
        """The folded members of ``word``'s group (``word`` itself alone if in none)."""
        index = self._group_of.get(fold(word))
        return list(self.groups[index]) if index is not None else [fold(word)]

    def variants(self, text: str) -> list[str]:
        """``text`` (folded, without spaces) with its longest member replaced by each other
        member of the group, at its first occurrence; empty if it holds none."""
        compact = "".join(fold(text).split())
        for member in self._members:
            start = compact.find(member)
            if start < 0:
                continue
            head, tail = compact[:start], compact[start + len(member):]
            group = self.groups[self._group_of[member]][:MAX_MEMBERS]
            return [head + other + tail for other in group if other != member]
        return []


class SynonymsFile:
    """The synonyms an index's queries are expanded with: the built-in groups and the user's
    file (``path`` if given, else ``synonyms.txt`` in ``index_dir`` when there is one), reread
    when it changes (checked at most every ``reload_interval`` seconds). One for a single
    index and one for a sharded index, so both expand a query alike (thread-safe)."""

    def __init__(self, index_dir: str | os.PathLike, path: str | os.PathLike | None = None,
                 reload_interval: float = 1.0):
        self.index_dir = Path(index_dir)
        self.path = Path(path) if path is not None else None
        if self.path is not None and not self.path.is_file():
            raise SourceError("synonyms file not found", str(self.path))
        self.reload_interval = reload_interval
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._stamp = self._file_stamp()
        self._synonyms = Synonyms.load(self.file())

    def file(self) -> Path | None:
        """The user's synonyms file read, if any."""
        if self.path is not None:
            return self.path
        path = self.index_dir / SYNONYMS_NAME
        return path if path.is_file() else None

    def _file_stamp(self) -> tuple | None:
        path = self.file()
        try:
            st = path.stat() if path is not None else None
        except OSError:
            return None
        return None if st is None else (str(path), st.st_mtime_ns, st.st_size)

    def get(self) -> Synonyms:
        """The current groups; a file that cannot be read leaves the groups as they were."""
        now = time.monotonic()
        if now - self._checked < self.reload_interval:
            return self._synonyms
        with self._lock:
            if now - self._checked >= self.reload_interval:
                self._checked = now
                stamp = self._file_stamp()
                if stamp != self._stamp:
                    try:
                        self._synonyms = Synonyms.load(self.file())
                        self._stamp = stamp
                    except SourceError:
                        pass  # being rewritten, or broken: keep the groups we have
        return self._synonyms
