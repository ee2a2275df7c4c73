"""search.faults: a checkpoint kills its process only at the stages RELEASE_SEARCH_FAULT names,
and the module's docstring lists exactly the stages the reindex code has."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

import search.faults
from search.faults import ENV

from conftest import ROOT

SCRIPT = ("from search.faults import checkpoint\n"
          "for stage in ('locked', 'full-reading', 'worker-1-waiting', 'full-written'):\n"
          "    checkpoint(stage)\n"
          "    print(stage, flush=True)\n")


def run(fault: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if fault is not None:
        env[ENV] = fault
    return subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("fault", "status", "passed"), [
    (None, 0, ["locked", "full-reading", "worker-1-waiting", "full-written"]),
    ("", 0, ["locked", "full-reading", "worker-1-waiting", "full-written"]),
    ("worker-0-waiting", 0, ["locked", "full-reading", "worker-1-waiting", "full-written"]),
    ("full-reading", -signal.SIGKILL, ["locked"]),
    ("worker-0-waiting, worker-1-waiting", -signal.SIGKILL, ["locked", "full-reading"]),
])
def test_checkpoint_kills_at_the_named_stages_only(fault, status, passed) -> None:
    done = run(fault)
    assert (done.returncode, done.stdout.split(), done.stderr) == (status, passed, "")


def test_the_docstring_lists_every_stage_of_the_code() -> None:
    code = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "search").glob("*.py"))
    used = set(re.findall(r'checkpoint\("([a-z-]+)"\)', code))
    used |= {name.replace("{k}", "<k>") for name in re.findall(r'f"(worker-\{k\}-[a-z]+)"', code)}
    documented = set(re.findall(r"^``([a-z<>-]+)``$", search.faults.__doc__, re.M))
    assert used == documented
    assert len(used) == 8
