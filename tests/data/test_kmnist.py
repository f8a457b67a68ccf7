"""Kuzushiji-MNIST and EMNIST letters: read from their IDX files in torchvision's layout like MNIST, trained on,
sampled and evaluated on the CLI (their classes by name), and offline a one-line error that says how to get
them."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest

import gan_core.data as data_module
from gan_core.config import GANConfig
from gan_core.data import CLASS_NAMES, KIND_KMNIST, DataError, load_training_data
from gan_core.quality import referee
from gan_core.quality.shared import needs_label_free

from helpers import TINY, finish, one_thread, write_idx  # noqa: F401 (one_thread: autouse)


def write_kmnist(root, n=60, test_n=20):
    rng = np.random.default_rng(1)
    raw = root / "KMNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), gz=True)
    write_idx(raw / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, n), gz=True)
    write_idx(raw / "t10k-images-idx3-ubyte", rng.integers(0, 256, (test_n, 28, 28)))
    write_idx(raw / "t10k-labels-idx1-ubyte", rng.integers(0, 10, test_n))
    return root


def test_kmnist_idx_files_are_read_without_a_download_train_sample_and_evaluate(tmp_path, monkeypatch, capsys):
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
    # Sampled and evaluated on the CLI; the judge and the referee at a few steps (the path is the subject).
    from gan_core.cli import main as cli

    monkeypatch.setattr(cli, "judge_for", functools.partial(cli.judge_for, steps=20))
    monkeypatch.setattr(referee, "TRAIN_STEPS", 20)
    where = ["--run", "k", "--checkpoints", str(tmp_path)]
    assert cli.main(["sample", *where, "--n", "4", "--out", str(tmp_path / "k.png")]) == 0
    assert (tmp_path / "k.png").stat().st_size > 0
    assert cli.main(["evaluate", *where, "--data-dir", str(tmp_path / "data"), "--n", "100"]) == 0
    out = capsys.readouterr().out
    assert "data: Kuzushiji-MNIST: 60 training images" in out
    assert re.search(r"^histogram\s+お:\S+%\s+き:", out, re.M), out


def write_emnist_letters(root, n=60, test_n=20):
    """EMNIST's letters as torchvision keeps them: each image stored transposed, labels 1..26."""
    rng = np.random.default_rng(2)
    raw = root / "EMNIST" / "raw"
    images = rng.integers(0, 256, (n + test_n, 28, 28))
    labels = rng.integers(1, 27, n + test_n)
    write_idx(raw / "emnist-letters-train-images-idx3-ubyte.gz", images[:n].transpose(0, 2, 1), gz=True)
    write_idx(raw / "emnist-letters-train-labels-idx1-ubyte.gz", labels[:n], gz=True)
    write_idx(raw / "emnist-letters-test-images-idx3-ubyte", images[n:].transpose(0, 2, 1))
    write_idx(raw / "emnist-letters-test-labels-idx1-ubyte", labels[n:])
    return images, labels


def test_emnist_letters_are_read_upright_with_their_26_names_trained_and_evaluated_without_a_judge(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data_module, "_download", lambda *a: pytest.fail("must not download"))
    images, labels = write_emnist_letters(tmp_path / "data")
    data = load_training_data("emnist-letters", tmp_path / "data")
    assert (len(data), len(data.held_out()[0])) == (60, 20) and data.message.startswith("EMNIST letters: 60")
    assert np.array_equal((data.images * 255).round().numpy().reshape(-1, 28, 28), images[:60])  # upright
    assert np.array_equal(data.labels.numpy(), labels[:60] - 1)  # 1..26 -> 0..25: label 0 is "a"
    assert data.label_names == tuple("abcdefghijklmnopqrstuvwxyz")
    assert needs_label_free(data)  # 26 classes: more than the judge's ten outputs
    from gan_core.cli import main as cli
    from gan_core.train.trainer import Trainer

    trainer = Trainer(GANConfig(**{**TINY, "epochs": 1, "dataset": "emnist-letters"}), "e", checkpoints=tmp_path,
                      data_dir=tmp_path / "data", threads=0)
    trainer.start()
    finish(trainer)
    assert cli.main(["evaluate", "--run", "e", "--checkpoints", str(tmp_path), "--data-dir", str(tmp_path / "data"),
                     "--n", "100"]) == 0
    out = capsys.readouterr().out
    assert "no labels: FID and precision/recall in pixel PCA-64" in out and "not available" in out


def test_offline_kmnist_is_one_line_that_says_how_to_get_it(tmp_path, monkeypatch):
    def offline(*_):
        raise OSError("Temporary failure in name resolution\n(more torch text)")

    monkeypatch.setattr(data_module, "_download", offline)
    with pytest.raises(DataError) as refused:
        load_training_data("kmnist", tmp_path)
    message = str(refused.value)
    assert "\n" not in message and "could not be downloaded" in message
    assert "https://github.com/rois-codh/kmnist" in message and str(tmp_path / "KMNIST" / "raw") in message
    with pytest.raises(DataError) as refused:
        load_training_data("emnist-letters", tmp_path)
    assert "\n" not in str(refused.value) and str(tmp_path / "EMNIST" / "raw") in str(refused.value)
    assert "emnist-dataset" in str(refused.value)
