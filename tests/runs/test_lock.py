"""One lock for run folders and sweeps, and one "is it held?" probe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gan_core.runs.folder import RunError, RunLock, RunPaths
from gan_core.sweep.driver import sweep_lock, sweep_running
from gan_core.sweep.plan import SweepError


def test_the_probe_sees_a_held_lock_and_takes_nothing_from_a_free_one(tmp_path: Path) -> None:
    paths = RunPaths.of(tmp_path, "r")
    probe = RunLock(paths)
    assert not probe.held_elsewhere()
    with RunLock(paths):  # a second descriptor: flock treats it as another holder
        assert probe.held_elsewhere()
        with pytest.raises(RunError, match=f"pid {os.getpid()}"):
            probe.acquire()
    assert not probe.held_elsewhere()
    with probe:  # the probe left the lock free
        pass


def test_a_sweep_holds_the_same_lock_with_its_own_error(tmp_path: Path) -> None:
    assert not sweep_running(tmp_path, "s")
    with sweep_lock(tmp_path, "s"):
        assert sweep_running(tmp_path, "s")
        with pytest.raises(SweepError, match="sweep 's' is already running"):
            sweep_lock(tmp_path, "s").acquire()
    assert not sweep_running(tmp_path, "s")
    assert (tmp_path / "_sweeps" / "s.lock").is_file()
