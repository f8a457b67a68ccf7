"""The CLI in logs and pipes and under bad input: plain progress lines when stderr is not a terminal,
``sample`` streamed in chunks with its limits, ``evaluate --n`` bounded, a hostile checkpoint refused in one
line."""

from __future__ import annotations

import os
import pickle
import re
import sys
import threading
import warnings
from collections import namedtuple

import numpy as np
import pytest
import torch

from gan_core.cli import samples
from gan_core.cli.main import main
from gan_core.gan.model import generate, seeded_z
from gan_core.records import REFUSED_TEXT
from gan_core.runs.checkpoint import load_generator
from gan_core.runs.folder import RunPaths

from helpers import PickleAttack, write_mnist_idx

EPOCHS = 3


def through_a_pipe(run) -> str:
    """What ``run()`` writes to sys.stderr when stderr is a pipe (as in ``train ... 2>&1 | tee log``)."""
    read_end, write_end = os.pipe()
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: os.read(read_end, 65536), b"")))
    reader.start()
    with os.fdopen(write_end, "w") as pipe, pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stderr", pipe)
        assert run() == 0
    reader.join()
    os.close(read_end)
    return b"".join(chunks).decode()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run trained by the CLI with stderr a pipe (no --quiet), and what it wrote there."""
    root = tmp_path_factory.mktemp("cli")
    data = write_mnist_idx(root / "data", n=60)
    args = ["train", "--run", "piped", "--checkpoints", str(root / "ckpt"), "--data-dir", str(data),
            "--batch-size", "20", "--eval-every", "0", "--epochs", str(EPOCHS)]
    log = through_a_pipe(lambda: main(args))
    return namedtuple("Trained", "root log")(root, log)


def sample(trained, out, n, *extra):
    return main(["sample", "--run", "piped", "--checkpoints", str(trained.root / "ckpt"), "--n", str(n),
                 "--out", str(out), *extra])


def test_train_writes_plain_lines_into_a_pipe(trained):
    assert "\r" not in trained.log and "\x1b" not in trained.log  # no redraws, no terminal codes
    line = re.compile(rf"^epoch (\d+)/{EPOCHS} done: step [\d,]+/9, d ", re.M)
    epochs = [int(found.group(1)) for found in line.finditer(trained.log)]
    assert epochs and epochs == sorted(set(epochs)) and epochs[-1] == EPOCHS  # one line per epoch seen, the last
    assert len(trained.log.splitlines()) <= EPOCHS + 2  # plus the data line and the first-step line


def test_sample_npy_is_streamed_in_chunks_and_equals_one_draw(trained, tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(samples, "CHUNK", 7)
    monkeypatch.setattr(samples, "generate", lambda g, z: drawn.append(z) or generate(g, z))
    assert sample(trained, tmp_path / "x.npy", 20, "--seed", "5") == 0
    assert [len(z) for z in drawn] == [7, 7, 6]
    generator, _ = load_generator(RunPaths.of(trained.root / "ckpt", "piped").checkpoint)
    assert torch.equal(torch.cat(drawn), seeded_z(5, generator.z_dim, 20))  # the latents of one draw of 20
    got = np.load(tmp_path / "x.npy")
    assert got.dtype == np.float32 and got.shape == (20, 28, 28)
    assert np.array_equal(got, np.concatenate([generate(generator, z).numpy() for z in drawn]))
    # A batch of 7 rounds apart from one of 20; chunks of whole GENERATE_CHUNKs (the default) are exact.
    np.testing.assert_allclose(got, generate(generator, seeded_z(5, generator.z_dim, 20)).numpy(), atol=1e-5)


def test_sample_limits_are_one_line_and_write_nothing(trained, tmp_path, monkeypatch, capsys):
    assert sample(trained, tmp_path / "big.png", samples.PNG_MAX + 1) == 2
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(samples.shutil, "disk_usage", lambda path: Usage(2**40, 2**40 - 2**20, 2**20))
    assert sample(trained, tmp_path / "big.npy", 10_000_000) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert f"at most {samples.PNG_MAX:,} images" in err[0] and "FILE.npy" in err[0]
    assert "10,000,000 images need 29.2 GiB" in err[1] and "0.0 GiB is free" in err[1]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n", [1, 100_001])
def test_evaluate_n_is_bounded_by_the_config_range(trained, n, capsys):
    assert main(["evaluate", "--run", "piped", "--checkpoints", str(trained.root / "ckpt"), "--n", str(n)]) == 2
    assert capsys.readouterr().err.strip() == f"error: --n must be in [2, 100000] (the range of the 'Eval samples' " \
                                              f"setting), got {n:,}"


@pytest.mark.parametrize("kind", ["torch.save", "plain pickle"])
def test_a_code_running_checkpoint_is_refused_in_one_line(trained, tmp_path, kind, capsys):
    marker = tmp_path / "pwned"
    paths = RunPaths.of(trained.root / "ckpt", f"evil-{kind.replace(' ', '-')}")
    paths.folder.mkdir()
    if kind == "torch.save":
        torch.save({"format": "gan_core.checkpoint", "x": PickleAttack(marker)}, paths.checkpoint)
    else:  # torch warns about its pickle protocol before refusing it
        paths.checkpoint.write_bytes(pickle.dumps(PickleAttack(marker), protocol=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["sample", "--run", paths.name, "--checkpoints", str(paths.root), "--out",
                     str(tmp_path / "x.png")]) == 2
    assert [str(w.message) for w in caught] == []
    assert capsys.readouterr().err == f"error: {paths.checkpoint}: {REFUSED_TEXT}\n"
    assert not marker.exists()
