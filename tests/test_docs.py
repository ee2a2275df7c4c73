"""The README documents every command of the CLI and every option of each (as sqlite-utils'
tests/test_docs.py does for its own CLI)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from search.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def command_section(name: str) -> str:
    """The README's text under the heading ``#### `release-search NAME ...```."""
    match = re.search(rf"^#### `release-search {name}\b[^\n]*\n(.*?)(?=^#)", README,
                      re.MULTILINE | re.DOTALL)
    assert match, f"README has no section for `release-search {name}`"
    return match.group(0)


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_and_option_is_documented(name):
    section = command_section(name)
    command = main.commands[name]
    for param in command.params:
        for opt in param.opts:
            if opt.startswith("--") and opt not in ("--index-dir", "--help"):
                assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", section), \
                    f"{opt} of `release-search {name}` is not in README"


def test_common_options_are_documented_once():
    assert "`--index-dir DIR`" in README and "`release-search --version`" in README
