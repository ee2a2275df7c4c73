"""Edits of a text, as the repair steps return them, and how they are applied and traced back
to the text a step was given."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Edit", "apply_edits"]


@dataclass(frozen=True)
class Edit:
    """Replace ``[start, end)`` of a text by ``text``: one repair of kind ``kind``.

    A *flag* (an unprovable span left as it is) is an edit whose ``text`` is ``None``.
    """

    start: int
    end: int
    text: str | None
    kind: str

    @property
    def is_flag(self) -> bool:
        return self.text is None


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with the (non-overlapping) ``edits`` applied; flags change nothing."""
    out: list[str] = []
    done = 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if e.text is None:
            continue
        if e.start < done:
            raise ValueError(f"overlapping edits at {e.start}")
        out.append(text[done:e.start])
        out.append(e.text)
        done = e.end
    out.append(text[done:])
    return "".join(out)
