"""Helpers shared by the web tests (no tests here): seed paths, index building, a live server.

The live server is the real thing: ``python -m web.server`` (waitress) in a subprocess on a
free loopback port (``--port 0``; the port is read from its ``Serving on`` line).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
#: The id of the one seed release (its file stem).
DOC_ID = "dezhou-press-conference-13"

#: Longest wait for a server to start (jieba loads its dictionary first) or a reindex to show.
STARTUP_LIMIT_S = 60.0


class LiveServer:
    """``python -m web.server`` in a subprocess; use as a context manager."""

    def __init__(self, index_dir: Path, sources: list[Path], log_dir: Path) -> None:
        self.index_dir = index_dir
        self.sources = sources
        self.stdout_path = log_dir / "server.stdout"
        self.stderr_path = log_dir / "server.stderr"
        self.base_url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LiveServer:
        command = [sys.executable, "-m", "web.server", "--index-dir", str(self.index_dir), "--port", "0"]
        for source in self.sources:
            command += ["--source", str(source)]
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=err)
        self.base_url = self._wait_for_address()
        return self

    def _wait_for_address(self) -> str:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            for line in self.stdout().splitlines():
                if line.startswith("Serving on http://"):
                    return line.removeprefix("Serving on ").strip()
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.stderr()}")
            time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.stderr()}")

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str, **kwargs: object) -> requests.Response:
        """GET ``path`` (already URL-encoded) on the server."""
        return requests.get(self.base_url + path, timeout=30, **kwargs)  # type: ignore[arg-type]

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
