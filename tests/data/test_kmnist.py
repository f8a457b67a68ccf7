"""Kuzushiji-MNIST: read from its IDX files in torchvision's layout like MNIST, trained on, and offline a one-line
error that says how to get it."""

from __future__ import annotations

import numpy as np
import pytest

import gan_core.data as data_module
from gan_core.config import GANConfig
from gan_core.data import CLASS_NAMES, KIND_KMNIST, DataError, load_training_data

from helpers import TINY, finish, one_thread, write_idx  # noqa: F401 (one_thread: autouse)


def write_kmnist(root, n=60, test_n=20):
    rng = np.random.default_rng(1)
    raw = root / "KMNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), gz=True)
    write_idx(raw / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, n), gz=True)
    write_idx(raw / "t10k-images-idx3-ubyte", rng.integers(0, 256, (test_n, 28, 28)))
    write_idx(raw / "t10k-labels-idx1-ubyte", rng.integers(0, 10, test_n))
    return root


def test_kmnist_idx_files_are_read_without_a_download_and_train(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "_download", lambda *a: pytest.fail("must not download"))
    data = load_training_data("kmnist", write_kmnist(tmp_path / "data"))
    assert (len(data), len(data.held_out()[0]), data.kind) == (60, 20, KIND_KMNIST)
    assert data.message.startswith("Kuzushiji-MNIST: 60 training images") and len(CLASS_NAMES["kmnist"]) == 10
    from gan_core.train.trainer import Trainer

    trainer = Trainer(GANConfig(**{**TINY, "epochs": 1, "dataset": "kmnist"}), "k", checkpoints=tmp_path,
                      data_dir=tmp_path / "data", threads=0)
    trainer.start()
    finish(trainer)
    assert trainer.snapshot().data_source.startswith("Kuzushiji-MNIST")


def test_offline_kmnist_is_one_line_that_says_how_to_get_it(tmp_path, monkeypatch):
    def offline(*_):
        raise OSError("Temporary failure in name resolution\n(more torch text)")

    monkeypatch.setattr(data_module, "_download", offline)
    with pytest.raises(DataError) as refused:
        load_training_data("kmnist", tmp_path)
    message = str(refused.value)
    assert "\n" not in message and "could not be downloaded" in message
    assert "https://github.com/rois-codh/kmnist" in message and str(tmp_path / "KMNIST" / "raw") in message
