"""Issue 11 item 11: honest data splits, the offline marker, and what a run records about its data."""

import pytest
import torch

from gan_core import data as data_module
from gan_core.data import (
    OFFLINE_MARKER,
    ask_for_download,
    load_training_data,
    using_bundled_digits,
    write_bundled_mnist,
)
from gan_core.quality.judge import load_or_train_judge
from gan_core.runs.checkpoint import load_checkpoint
from gan_core.runs.folder import RunPaths
from gan_core.train.trainer import Trainer

from helpers import finish, tiny_config, write_mnist_idx


def test_a_failed_download_is_remembered_until_asked_for_again(tmp_path, monkeypatch):
    calls = []

    def offline(*args):
        calls.append(args)
        raise OSError("no network")

    monkeypatch.setattr(data_module, "_download", offline)
    first = load_training_data("mnist", tmp_path)
    assert first.kind == "bundled-5k" and len(calls) == 1
    assert (tmp_path / OFFLINE_MARKER).is_file() and using_bundled_digits(tmp_path)
    second = load_training_data("mnist", tmp_path)
    assert len(calls) == 1, "a later start must not wait on the same failing download"
    assert "earlier start" in second.message and torch.equal(first.images, second.images)
    write_bundled_mnist(tmp_path / "by-hand", 100)  # MNIST's files put beside the marker by hand: read first
    (tmp_path / "by-hand" / OFFLINE_MARKER).write_text("an earlier start failed\n")
    assert not using_bundled_digits(tmp_path / "by-hand")
    assert ask_for_download(tmp_path) and not using_bundled_digits(tmp_path)
    load_training_data("mnist", tmp_path)
    assert len(calls) == 2
    assert not ask_for_download(tmp_path / "elsewhere")


def test_the_test_set_is_held_out_when_present(tmp_path):
    write_mnist_idx(tmp_path, n=50, test_n=30)
    data = load_training_data("mnist", tmp_path, download=False)
    assert len(data) == 50 and data.held_out()[0].shape == (30, 784) and data.kind == "folder"
    assert data.describe() == {"kind": "folder", "train_size": 50, "held_out_size": 30, "message": data.message,
                               "count": 80, "labeled": True}


def test_the_gan_never_sees_held_out_images_and_the_run_records_its_data(tmp_path, monkeypatch):
    write_mnist_idx(tmp_path / "data", n=60, test_n=20)
    data = load_training_data("mnist", tmp_path / "data", download=False)
    held = {bytes(row.numpy().tobytes()) for row in data.held_out()[0]}
    seen = []
    from gan_core.gan import state as engine

    original = engine.GANState.train_step

    def recording_step(self, real, update_g=True, labels=None):
        seen.append(real.clone())
        return original(self, real, update_g, labels)

    monkeypatch.setattr(engine.GANState, "train_step", recording_step)
    judge = load_or_train_judge(data, None, steps=5)
    config = tiny_config(epochs=2, eval_every=1, eval_samples=30)
    trainer = Trainer(config, "r", checkpoints=tmp_path / "ck", data=data, threads=0, judge=judge, eval_share=None)
    trainer.start()
    finish(trainer)
    assert trainer.snapshot().data_kind == "folder"
    assert len(seen) == 6  # 60 training images, batch 20, 2 epochs
    assert not held & {bytes(row.numpy().tobytes()) for batch in seen for row in batch}
    rows = trainer.metrics()
    assert [(r["epoch"], r["data"], r["judge"]) for r in rows] == [(1, "folder", judge.identity),
                                                                   (2, "folder", judge.identity)]
    record = load_checkpoint(RunPaths.of(tmp_path / "ck", "r").checkpoint)
    assert record["data_source"]["kind"] == "folder" and record["data_source"]["held_out_size"] == 20
    assert len(judge.identity) == 12 and judge.held_out_size == 20


def test_hand_built_data_has_no_held_out_split():
    from helpers import tiny_data

    with pytest.raises(data_module.DataError, match="no held-out split"):
        tiny_data().held_out()
