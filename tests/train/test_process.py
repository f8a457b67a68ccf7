"""TrainerProcess: the app's trainer in a child process behaves like the thread Trainer, and neither side
outlives the other silently (parent killed -> child checkpoints and ends; child killed -> parent says so)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import psutil
import pytest
import torch

from gan_core.data import load_training_data
from gan_core.quality.judge import JUDGE_DIR, data_key, judge_path
from gan_core.runs.checkpoint import load_checkpoint, load_generator
from gan_core.runs.folder import RunPaths
from gan_core.runs.snapshot import Status
from gan_core.train import process
from gan_core.train.process import TrainerProcess
from gan_core.train.trainer import Trainer

from helpers import HANG_SECONDS, assert_stays_paused, finish, tiny_config, wait_until, write_mnist_idx

REPO = Path(__file__).resolve().parents[2]
CLASSIFIER_STEPS = 20


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_mnist_idx(tmp_path / "data", n=80)


def test_finished_run_arrives_whole_in_the_parent(tmp_path: Path, data: Path, monkeypatch) -> None:
    # Started outside the repository, with relative folders: the child still imports gan_core, and the
    # run lands where the parent's relative path points.
    monkeypatch.chdir(tmp_path)
    config = tiny_config(epochs=3, eval_every=1, eval_samples=30)
    # The judge and the referee train 20 steps in the child (their own lengths: a core for a minute).
    trainer = TrainerProcess(config, "proc", checkpoints="ck", data_dir=data.relative_to(tmp_path),
                             classifier_steps=CLASSIFIER_STEPS)
    trainer.start()
    trainer.start()  # a double click: still one child
    finish(trainer)
    snap = trainer.snapshot()
    assert (snap.status, snap.epoch, snap.step) == (Status.FINISHED, 3, 12), snap.error
    assert "80" in snap.data_source  # the data source line comes from the child's loader
    history = trainer.history()
    assert history.shape == (12, 6) and np.isfinite(history).all()  # losses, D outputs, gradient norms
    assert len(trainer.epoch_log()) == 3
    assert trainer.metrics() and trainer.metrics()[-1]["epoch"] == 3  # the last epoch is always evaluated
    images = trainer.sample(torch.zeros(5, config.z_dim))
    assert images is not None and images.shape == (5, 28, 28) and 0.0 <= images.min() <= images.max() <= 1.0

    # The parent's copy of G is the trained one (the checkpoint's), not a fresh init.
    checkpoint = RunPaths.of(tmp_path / "ck", "proc").checkpoint
    assert load_checkpoint(checkpoint)["step"] == 12
    z = torch.linspace(-1, 1, 3 * config.z_dim).reshape(3, config.z_dim)
    with torch.no_grad():
        expected = load_generator(checkpoint)[0](z).reshape(-1, 28, 28).numpy()
    np.testing.assert_allclose(trainer.sample(z), expected, atol=1e-6)
    judge_key = data_key(load_training_data("mnist", data), CLASSIFIER_STEPS)  # the child's judge, of 20 steps
    assert judge_path(tmp_path / "ck" / JUDGE_DIR, "mnist", judge_key).exists()


def test_a_prestarted_process_trains_the_next_run_and_a_discarded_one_exits(tmp_path: Path, data: Path,
                                                                            monkeypatch) -> None:
    process.prestart()
    process.prestart()  # one spare at a time
    spare = process._spare[0]
    assert wait_until(lambda: psutil.Process(spare.pid).cpu_times().user > 0.5, 60)  # importing torch meanwhile
    trainer = TrainerProcess(tiny_config(epochs=1), "warm", checkpoints=tmp_path / "ck", data_dir=data)
    trainer.start()
    assert trainer._process is spare and process._spare is None  # the waiting process trains this run
    finish(trainer)

    process.prestart()
    stale = process._spare[0]
    monkeypatch.setenv("GANLAB_TEST_MARKER", "changed")  # the environment moved on: the spare is stale
    other = TrainerProcess(tiny_config(epochs=1), "cold", checkpoints=tmp_path / "ck", data_dir=data)
    other.start()
    assert other._process is not stale
    assert stale.wait(60) == 0  # it read EOF and ended quietly
    finish(other)


def test_pause_unpause_stop_reach_the_child(tmp_path: Path, data: Path) -> None:
    trainer = TrainerProcess(tiny_config(epochs=100_000), "ctl", checkpoints=tmp_path / "ck", data_dir=data)
    trainer.start()
    try:
        assert wait_until(lambda: trainer.snapshot().step > 0)
        trainer.pause(HANG_SECONDS)  # returns once the child reports the pause
        assert trainer.snapshot().status == Status.PAUSED
        assert RunPaths.of(tmp_path / "ck", "ctl").checkpoint.is_file()  # paused means on disk
        paused_at = trainer.snapshot().step
        assert_stays_paused(trainer, paused_at)
        trainer.unpause(HANG_SECONDS)  # returns once the child reports it runs again
        assert trainer.snapshot().status == Status.RUNNING
        assert wait_until(lambda: trainer.snapshot().step > paused_at + 1)
    finally:
        trainer.stop(HANG_SECONDS)
    assert not trainer.is_alive() and trainer.snapshot().status == Status.IDLE
    assert load_checkpoint(RunPaths.of(tmp_path / "ck", "ctl").checkpoint)["step"] == trainer.snapshot().step


def test_a_killed_child_is_reported(tmp_path: Path, data: Path) -> None:
    trainer = TrainerProcess(tiny_config(epochs=100_000), "dies", checkpoints=tmp_path / "ck", data_dir=data)
    trainer.start()
    assert wait_until(lambda: trainer.snapshot().step > 0)
    os.kill(trainer._process.pid, signal.SIGKILL)
    finish(trainer, Status.ERROR)
    snap = trainer.snapshot()
    assert not trainer.is_alive()
    assert snap.status == Status.ERROR and "ended unexpectedly" in (snap.error or "") and "-9" in snap.error


def test_a_killed_parent_makes_the_child_checkpoint_and_end(tmp_path: Path, data: Path) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        from gan_core.config import GANConfig
        from gan_core.train.process import TrainerProcess
        t = TrainerProcess(GANConfig(batch_size=20, epochs=100000, log_every=2, device="cpu", eval_every=0), "orphan",
                           checkpoints={str(tmp_path / "ck")!r}, data_dir={str(data)!r})
        t.start()
        while t.snapshot().step == 0:
            time.sleep(0.05)
        print(t._process.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        child = psutil.Process(int(parent.stdout.readline()))
    finally:
        parent.kill()
        parent.wait()
    child.wait(HANG_SECONDS)  # it noticed the closed pipe, checkpointed and ended (a hang fails here)
    record = load_checkpoint(RunPaths.of(tmp_path / "ck", "orphan").checkpoint)
    assert record["step"] > 0
    # ... and released the run: a new trainer resumes it.
    again = Trainer(tiny_config(epochs=record["epoch"] + 1), "orphan", checkpoints=tmp_path / "ck", data_dir=data,
                    continue_run=True)
    again.start()
    finish(again)
