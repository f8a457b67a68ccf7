"""Fixtures of the app's AppTests: each test gets a fresh app server (its own checkpoints root) on 400 real
digits as MNIST IDX files (found on disk: no download is tried), with no demo run unless a module brings one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gan_core.data import write_bundled_mnist

from helpers import app_server


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 real digits (all labels) as MNIST IDX files."""
    return write_bundled_mnist(tmp_path_factory.mktemp("data"), 400)


@pytest.fixture()
def demo_dir(tmp_path: Path) -> Path:
    """Where the app looks for its shipped demo run: an empty place (a module that wants one overrides this)."""
    return tmp_path / "no-demo"


@pytest.fixture()
def env(tmp_path: Path, data_dir: Path, demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The checkpoints root of a fresh app server (see helpers.app_server)."""
    with app_server(monkeypatch, tmp_path / "checkpoints", data_dir, demo_dir) as root:
        yield root
