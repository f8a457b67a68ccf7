"""Reliability: SIGKILL at random moments, one writer per run, disk trouble, damaged runs in listings."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from gan_core import atomic
from gan_core.runs.checkpoint import load_checkpoint
from gan_core.runs.folder import RunPaths, list_runs
from gan_core.runs.snapshot import Status
from gan_core.train.trainer import Trainer

from helpers import PickleAttack, finish, tiny_config, tiny_data, wait_until, write_mnist_idx

ROOT = Path(__file__).resolve().parents[2]


def cli_train(ckpt: Path, data: Path, run: str, *extra: str) -> subprocess.Popen:
    args = [sys.executable, "-m", "gan_core", "train", "--run", run, "--checkpoints", str(ckpt),
            "--data-dir", str(data), "--quiet", *extra]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_csv_epochs(paths: RunPaths) -> list[int]:
    lines = paths.losses_csv.read_text().splitlines()
    assert lines[0] == "epoch,d_loss,g_loss,d_real,d_fake,seconds"
    return [int(line.split(",")[0]) for line in lines[1:]]


def checkpointed_or_ended(paths: RunPaths, before: int, proc: subprocess.Popen) -> Callable[[], bool]:
    """True once the checkpoint's mtime moved past ``before``, or the process ended."""
    return lambda: (paths.checkpoint.exists() and paths.checkpoint.stat().st_mtime_ns != before
                    or proc.poll() is not None)


def test_sigkill_at_random_moments_never_loses_or_duplicates_an_epoch(tmp_path):
    data = write_mnist_idx(tmp_path / "data", n=60)  # 3 steps per epoch at batch 20: a checkpoint every ~0.2 s
    ckpt = tmp_path / "ckpt"
    paths = RunPaths.of(ckpt, "k")
    rng = random.Random(20261128)
    kills, during_write, at_random, previous_log = 0, 0, 0, []
    # Kill until 3 kills landed in the middle of a checkpoint write and 2 at random moments (5 at least).
    while during_write < 3 or at_random < 2:
        assert kills < 12, f"only {during_write} of {kills} kills landed during a checkpoint write"
        resume = ["--resume", "--epochs", "100000"] if paths.checkpoint.exists() else [
            "--epochs", "100000", "--batch-size", "20", "--eval-every", "0", "--checkpoint-seconds", "0"]
        proc = cli_train(ckpt, data, "k", *resume)
        before = paths.checkpoint.stat().st_mtime_ns if paths.checkpoint.exists() else 0
        # Let it get past start-up and write at least one new checkpoint, then kill: either as soon as a
        # checkpoint temp file exists, i.e. in the middle of a write, or at a random moment.
        assert wait_until(checkpointed_or_ended(paths, before, proc), 60), "trainer never checkpointed"
        assert proc.poll() is None, proc.communicate()
        aimed_at_write = during_write < 3 and (kills % 2 or at_random >= 2)
        temp = paths.folder / f".checkpoint.pt.{proc.pid}{atomic.TEMP_SUFFIX}"
        if aimed_at_write:
            wait_until(temp.exists, 5)
            checkpoint_then = paths.checkpoint.stat().st_mtime_ns
        else:
            time.sleep(rng.uniform(0, 0.4))
            at_random += 1
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        kills += 1
        # The kill landed during a write only if the write never finished: its temp file is still there
        # and the checkpoint is the one from before the write began.
        if aimed_at_write and temp.exists() and paths.checkpoint.stat().st_mtime_ns == checkpoint_then:
            during_write += 1

        record = load_checkpoint(paths.checkpoint)  # always the last complete checkpoint
        log = record["epoch_log"]
        assert [row["epoch"] for row in log] == list(range(1, record["epoch"] + 1))
        assert log[:len(previous_log)] == previous_log  # resumed from it, history never rewritten
        assert record["step"] >= 3 * record["epoch"]
        previous_log = log

    # A final resume repairs whatever the last kill left: CSV rows and grids match the checkpoint.
    final = cli_train(ckpt, data, "k", "--resume", "--epochs", str(previous_log[-1]["epoch"] + 1))
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    record = load_checkpoint(paths.checkpoint)
    epochs = list(range(1, record["epoch"] + 1))
    assert read_csv_epochs(paths) == epochs
    assert paths.sample_epochs() == epochs
    assert not list(paths.folder.rglob(f"*{atomic.TEMP_SUFFIX}"))


def test_a_second_process_on_the_same_run_is_refused_and_a_dead_holders_lock_is_taken_over(tmp_path):
    data = write_mnist_idx(tmp_path / "data", n=60)
    ckpt = tmp_path / "ckpt"
    paths = RunPaths.of(ckpt, "shared")
    first = cli_train(ckpt, data, "shared", "--epochs", "100000", "--batch-size", "20", "--eval-every", "0")
    try:
        assert wait_until(lambda: paths.checkpoint.exists(), 60)
        second = cli_train(ckpt, data, "shared", "--resume")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert err.strip().splitlines()[-1] == (
            f"error: run 'shared' is being trained by another trainer (pid {first.pid}); stop it first")
    finally:
        first.kill()
        first.communicate()
    third = cli_train(ckpt, data, "shared", "--resume", "--epochs", str(load_checkpoint(paths.checkpoint)["epoch"] + 1))
    _, err = third.communicate(timeout=60)
    assert third.returncode == 0, err


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EROFS])
def test_full_or_read_only_disk_reports_error_and_keeps_last_good_checkpoint(tmp_path, monkeypatch, failure):
    trainer = Trainer(tiny_config(epochs=3), "disk", checkpoints=tmp_path, data=tiny_data())
    paths = RunPaths.of(tmp_path, "disk")
    real_replace = os.replace

    def replace_then_fail(src, dst):
        if Path(dst) == paths.checkpoint and paths.checkpoint.exists():  # the second checkpoint fails
            raise OSError(failure, os.strerror(failure))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace_then_fail)
    trainer.start()
    finish(trainer, Status.ERROR)
    snap = trainer.snapshot()
    assert snap.status == Status.ERROR
    assert os.strerror(failure) in snap.error
    monkeypatch.undo()
    good = load_checkpoint(paths.checkpoint)
    assert good["epoch"] == 1
    assert not list(paths.folder.rglob(f"*{atomic.TEMP_SUFFIX}"))
    resumed = Trainer(tiny_config(epochs=3), "disk", checkpoints=tmp_path, data=tiny_data(), continue_run=True)
    resumed.start()
    finish(resumed)
    assert read_csv_epochs(paths) == [1, 2, 3]


def test_run_listing_marks_damaged_runs_and_keeps_the_rest(tmp_path):
    good = Trainer(tiny_config(epochs=1), "good", checkpoints=tmp_path, data=tiny_data())
    good.start()
    finish(good)
    marker = tmp_path / "pwned"
    hostile = RunPaths.of(tmp_path, "hostile")
    hostile.folder.mkdir()

    torch.save({"format": "gan_core.checkpoint", "x": PickleAttack(marker)}, hostile.checkpoint)
    empty = RunPaths.of(tmp_path, "empty")
    empty.folder.mkdir()
    empty.checkpoint.write_bytes(b"")
    infos = {info.name: info for info in list_runs(tmp_path)}
    assert infos["good"].error is None and infos["good"].epochs_done == 1
    assert "refused" in infos["hostile"].error and str(hostile.checkpoint) in infos["hostile"].error
    assert "0 bytes" in infos["empty"].error
    assert not marker.exists()


def test_server_defaults_bind_localhost_keep_xsrf_and_send_no_statistics():
    import tomllib

    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["address"] == "localhost"
    assert settings["server"]["enableXsrfProtection"] is True
    assert settings["browser"]["gatherUsageStats"] is False
    assert "file_uploader" not in (ROOT / "app.py").read_text()  # no checkpoint upload is offered
