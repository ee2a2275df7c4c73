"""Shared fixtures of the engine tests: the sample index, a click runner and release writers.

Fixture names are deliberately distinct from the ones web tests define for themselves
(``index_dir``, ``index``, ``app``, ``client``).

Tests marked ``slow`` (long end-to-end runs: the soak, the speed smoke run) are deselected
unless ``--run-slow`` is given; the README's test command and CI give it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from search import Index, ReindexReport, build_index, open_index

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SAMPLE_ID = "dezhou-press-conference-13"
ENGINE_DATA = Path(__file__).resolve().parent / "data" / "engine"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true",
                     help="also run the tests marked slow (the README's test command does)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@dataclass
class BuiltIndex:
    """An index built once for the session, with the report of its build."""

    path: Path
    report: ReindexReport


@pytest.fixture(scope="session")
def sample_built(tmp_path_factory: pytest.TempPathFactory) -> BuiltIndex:
    """The sample release (``seeds/``) indexed once per session (read only: do not reindex)."""
    path = tmp_path_factory.mktemp("sample") / "index"
    report = build_index([SEEDS], path)
    return BuiltIndex(path=path, report=report)


@pytest.fixture(scope="session")
def sample_index(sample_built: BuiltIndex) -> Path:
    """Directory of the session's sample index."""
    return sample_built.path


@pytest.fixture(scope="session")
def sample_ix(sample_index: Path) -> Index:
    """The sample index opened once for the session."""
    ix = open_index(sample_index)
    yield ix
    ix.close()


@pytest.fixture
def runner() -> CliRunner:
    """A click CliRunner (stderr kept apart from stdout where click supports it)."""
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()  # click >= 8.2 always keeps result.stderr apart


def write_release(folder: Path, doc_id: str, title: str, *paragraphs: str,
                  suffix: str = ".txt") -> Path:
    """Write a plain-text release (title line, then one line per paragraph); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{doc_id}{suffix}"
    path.write_text("\n".join((title, *paragraphs)) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def release_writer(tmp_path: Path) -> Callable[..., Path]:
    """``release_writer(doc_id, title, *paragraphs)`` writes into ``tmp_path / "src"``."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)

    def write(doc_id: str, title: str, *paragraphs: str, suffix: str = ".txt") -> Path:
        return write_release(src, doc_id, title, *paragraphs, suffix=suffix)

    return write


FILLER_WORDS = ("统筹 疫情 防控 经济 运行 工作 企业 核酸 检测 外贸 物流 运输 保障 生产 市场 政策 "
                "发展 项目 服务 群众 城市 农村 交通 教育 医疗 文化 旅游 科技 创新 安全").split()


def make_releases(folder: Path, count: int, *, seed: int = 0, paragraphs: int = 3,
                  words_per_paragraph: int = 20, marker: str = "") -> list[Path]:
    """Write ``count`` generated simplified-Chinese releases ``gen0000.txt``...; deterministic.

    Each release ``i`` has the title ``第{i}号新闻发布会`` and ``paragraphs`` body paragraphs of
    filler words; ``marker`` (if given) ends every first body paragraph.
    """
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        body = ["".join(rnd.choice(FILLER_WORDS) for _ in range(words_per_paragraph)) + "。"
                for _ in range(paragraphs)]
        if marker:
            body[0] += marker
        out.append(write_release(folder, f"gen{i:04d}", f"第{i}号新闻发布会", *body))
    return out
