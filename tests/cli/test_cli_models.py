"""Issue 24 on the command line: ``sample --label``, the export of a conditional DCGAN, and sweeps over the
architecture. One tiny conditional DCGAN run serves every test here."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest
import torch

from gan_core import open_run
from gan_core.cli.main import main
from gan_core.gan.model import generate, seeded_z
from gan_core.sweep.plan import expand_grid, parse_set

from helpers import train


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    train(root, "cdc", 1, architecture="dcgan", conditional=True, ema_decay=0.9)
    train(root, "plain", 1)
    return root


def sample(root, run, out, *extra):
    return main(["sample", "--run", run, "--checkpoints", str(root), "--n", "6", "--out", str(out), *extra])


def test_sample_label_draws_the_asked_class_and_refuses_in_one_line(runs, tmp_path, capsys):
    out = tmp_path / "sevens.npy"
    assert sample(runs, "cdc", out, "--label", "7") == 0
    run = open_run(runs / "cdc")
    expected = generate(run.generator, seeded_z(0, 100, 6), torch.full((6,), 7)).numpy()
    assert np.array_equal(np.load(out), expected)
    assert np.array_equal(run.sample(6, label=7), expected)
    capsys.readouterr()
    for run_name, extra, message in (("plain", ["--label", "7"], "run 'plain' is unconditional"),
                                     ("cdc", [], "run 'cdc' is conditional: give --label (0 to 9)"),
                                     ("cdc", ["--label", "12"], "--label: label must be 0 to 9, got 12")):
        assert sample(runs, run_name, tmp_path / "x.npy", *extra) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.npy").exists()


def test_a_conditional_dcgan_exports_to_onnx_with_a_labels_input_within_1e4(runs, tmp_path):
    out = tmp_path / "g.onnx"
    assert main(["export", "--run", "cdc", "--checkpoints", str(runs), "--format", "onnx", "--out", str(out)]) == 0
    run = open_run(runs / "cdc")
    z, labels = seeded_z(7, 100, 20), torch.arange(20) % 10
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"z": z.numpy(), "labels": labels.numpy()})[0]
    assert np.abs(got - generate(run.generator, z, labels).numpy()).max() <= 1e-4


def test_a_sweep_sets_the_architecture_like_any_field():
    field, values = parse_set("architecture=mlp,dcgan")
    runs = expand_grid("arch", ["seed"], [0], {field: values, "conditional": parse_set("conditional=true,false")[1]})
    assert [(r.config(3).architecture, r.config(3).conditional) for r in runs] == [
        ("mlp", True), ("mlp", False), ("dcgan", True), ("dcgan", False)]
