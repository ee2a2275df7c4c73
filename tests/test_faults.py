"""search.faults: a checkpoint kills its process, or pauses it until a signal is handled, only
at the stages RELEASE_SEARCH_FAULT names, and the module's docstring lists exactly the stages the
reindex code has."""

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


def _env(fault: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if fault is not None:
        env[ENV] = fault
    return env


def run(fault: str | None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=_env(fault),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("fault", "status", "passed"), [
    (None, 0, ["locked", "full-reading", "worker-1-waiting", "full-written"]),
    ("", 0, ["locked", "full-reading", "worker-1-waiting", "full-written"]),
    ("worker-0-waiting", 0, ["locked", "full-reading", "worker-1-waiting", "full-written"]),
    ("full-reading", -signal.SIGKILL, ["locked"]),
    ("worker-0-waiting, worker-1-waiting", -signal.SIGKILL, ["locked", "full-reading"]),
    ("worker-1-waiting:kill", -signal.SIGKILL, ["locked", "full-reading"]),
])
def test_checkpoint_kills_at_the_named_stages_only(fault, status, passed) -> None:
    done = run(fault)
    assert (done.returncode, done.stdout.split(), done.stderr) == (status, passed, "")


#: Stages the pause tests pass, one of them twice (a pause happens once per stage).
PAUSE_SCRIPT = ("import signal\nfrom search.faults import checkpoint\n"
                "signal.signal(signal.SIGUSR1, lambda *_: print('handled', flush=True))\n"
                "for stage in ('locked', 'full-reading', 'full-reading', 'full-written'):\n"
                "    checkpoint(stage)\n"
                "    print(stage, flush=True)\n")


def start_paused(fault: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PAUSE_SCRIPT], cwd=ROOT, env=_env(fault),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize(("signum", "status", "passed"), [
    (signal.SIGTERM, -signal.SIGTERM, ["locked"]),  # kills by default: dies where it waits
    # KeyboardInterrupt raised where it waits (uncaught, Python exits by SIGINT)
    (signal.SIGINT, -signal.SIGINT, ["locked"]),
    (signal.SIGUSR1, 0, ["locked", "handled", "full-reading", "full-reading", "full-written"]),
])
def test_pause_waits_at_the_stage_until_a_signal_is_handled(signum, status, passed) -> None:
    proc = start_paused("full-reading:pause")
    try:
        # The line says the process waits: reading it is the synchronisation.
        assert proc.stderr.readline() == f"{ENV}: paused at full-reading (pid {proc.pid})\n"
        assert proc.stdout.readline() == "locked\n"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()  # if it did not exit
        proc.communicate()
    assert (proc.returncode, ["locked", *out.split()]) == (status, passed)
    assert ("KeyboardInterrupt" in err) == (signum == signal.SIGINT)


def test_an_unknown_action_is_refused() -> None:
    done = run("full-reading:explode")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"ValueError: {ENV}: unknown action 'explode' for 'full-reading' (one of kill, pause, hold)")


def test_the_docstring_lists_every_stage_of_the_code() -> None:
    code = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "search").glob("*.py"))
    used = set(re.findall(r'checkpoint\("([a-z-]+)"\)', code))
    used |= {name.replace("{k}", "<k>") for name in re.findall(r'f"(worker-\{k\}-[a-z]+)"', code)}
    documented = set(re.findall(r"^``([a-z<>-]+)``$", search.faults.__doc__, re.M))
    assert used == documented
    assert len(used) == 14  # 8 of a single index, 6 of a sharded one
