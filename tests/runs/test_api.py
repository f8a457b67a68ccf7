"""The public API (``gan_core.open_run``): the README's snippet runs, and a run's samples are the app's and the
CLI's digits of the same seed, from the EMA generator in eval mode; the demo opens the same way."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_core import CheckpointError, open_run
from gan_core.gan.history import HISTORY
from gan_core.gan.model import generate, seeded_z
from gan_core.records import REFUSED_TEXT
from gan_core.runs.checkpoint import load_checkpoint, load_generator
from gan_core.runs.demo import export_demo, open_demo

from helpers import PickleAttack, train

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_snippet() -> str:
    """The first Python code block of the README's "Python API" section."""
    section = README.read_text().split("## Python API", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "no python block in README.md's Python API section"
    return found.group(1)


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A folder laid out as the README assumes: ``checkpoints/demo`` (a tiny finished run, with an EMA
    generator) and ``demo/`` (the same run shipped as a demo is)."""
    root = tmp_path_factory.mktemp("api")
    train(root / "checkpoints", "demo", 2, ema_decay=0.9)
    export_demo(root / "checkpoints" / "demo" / "checkpoint.pt", root / "demo", command="(a tiny test run)")
    return root


@pytest.mark.parametrize("target", ["checkpoints/demo", "demo"])
def test_the_readme_snippet_runs_and_draws_the_cli_digits(place, monkeypatch, target):
    monkeypatch.chdir(place)
    code = readme_snippet()
    assert 'open_run("checkpoints/demo")' in code and len(code.splitlines()) < 10
    namespace: dict = {}
    exec(compile(code.replace('open_run("checkpoints/demo")', f'open_run("{target}")'), "README.md", "exec"),
         namespace)
    run, images = namespace["run"], namespace["images"]
    assert images.shape == (16, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    z = seeded_z(0, run.config.z_dim, 16)
    if target == "demo":  # the demo's own reader, as the app opens it
        expected = open_demo(place / "demo").sample(z)
    else:  # what `python -m gan_core sample --seed 0 --n 16` draws: the EMA generator in eval mode
        expected = generate(load_generator(place / target / "checkpoint.pt")[0], z).numpy()
    assert np.array_equal(images, expected)
    # Image i does not depend on its batch-mates: image 0 is the latent lab's digit of seed 0.
    np.testing.assert_allclose(run.sample(1, seed=0)[0], images[0], atol=1e-5)  # a batch of 1 rounds apart
    assert not np.array_equal(run.sample(16, seed=1), images)


def test_config_history_and_generator_are_the_checkpoints(place):
    run = open_run(place / "checkpoints" / "demo" / "checkpoint.pt")  # the file opens as its folder does
    record = load_checkpoint(place / "checkpoints" / "demo" / "checkpoint.pt")
    assert run.config == record["config"] and run.epoch == 2 and run.columns == HISTORY
    assert np.array_equal(run.history, record["history"].numpy()) and run.history.shape == (8, len(HISTORY))
    assert isinstance(run.generator, torch.nn.Module) and not run.generator.training
    for key, value in record["ema"]["generator"].items():  # the EMA weights, not the trained G's
        assert torch.equal(run.generator.state_dict()[key], value), key
    assert any(not torch.equal(record["ema"]["generator"][k], record["generator"][k])
               for k in record["generator"] if record["generator"][k].is_floating_point())
    with torch.no_grad():  # sample() draws through this very module
        run.generator.net[-2].bias.add_(1.0)
    try:
        assert not np.array_equal(run.sample(4), open_run(place / "checkpoints" / "demo").sample(4))
    finally:
        with torch.no_grad():
            run.generator.net[-2].bias.sub_(1.0)


def test_missing_and_hostile_runs_are_refused_in_one_line(place, tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        open_run(tmp_path / "nothing")
    marker = tmp_path / "pwned"
    (tmp_path / "evil").mkdir()
    torch.save({"format": "gan_core.checkpoint", "x": PickleAttack(marker)}, tmp_path / "evil" / "checkpoint.pt")
    with pytest.raises(CheckpointError) as info:
        open_run(tmp_path / "evil")
    assert str(info.value) == f"{tmp_path / 'evil' / 'checkpoint.pt'}: {REFUSED_TEXT}"
    assert not marker.exists() and os.linesep not in str(info.value)
