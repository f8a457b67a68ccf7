"""The EMA generator: averaged weights, its own BatchNorm statistics, checkpointed, shown by default."""

import copy

import numpy as np
import pytest
import torch

from gan_core.gan import ema
from gan_core.gan.model import seeded_z
from gan_core.gan.nets import make_generator
from gan_core.gan.state import GANState
from gan_core.runs.checkpoint import load_checkpoint
from gan_core.runs.folder import RunPaths
from gan_core.runs.record import from_record, to_record

import helpers
from helpers import tiny_config


def test_warm_up_then_the_configured_decay():
    assert ema.decay_at(0.999, 0) == pytest.approx(0.1)
    assert ema.decay_at(0.999, 90) == pytest.approx(0.91)
    assert ema.decay_at(0.999, 10**6) == 0.999


def test_update_is_the_moving_average_of_parameters_only():
    g = make_generator(tiny_config())
    avg = ema.averaged_copy(g)
    old = {k: v.clone() for k, v in avg.state_dict().items()}
    with torch.no_grad():
        for p in g.parameters():
            p.add_(1.0)
    ema.update(avg, g, 0.9, updates=10**6)
    new = avg.state_dict()
    for name, param in g.named_parameters():
        assert torch.allclose(new[name], 0.9 * old[name] + 0.1 * param)
    for name, _ in g.named_buffers():  # BatchNorm statistics are not averaged
        assert torch.equal(new[name], old[name])


def test_batchnorm_statistics_are_re_estimated_without_touching_the_global_rng():
    g = make_generator(tiny_config())
    g.net[2].running_mean.fill_(5.0)
    rng = torch.get_rng_state()
    ema.recalibrate_batchnorm(g, samples=64)
    assert torch.equal(torch.get_rng_state(), rng)
    assert not g.training
    z = ema.sample_z(64, g.z_dim, generator=torch.Generator().manual_seed(ema.BN_SEED))
    hidden = g.net[1](g.net[0](z))  # the first BatchNorm's input
    assert torch.allclose(g.net[2].running_mean, hidden.mean(0), atol=1e-5)
    assert torch.allclose(g.net[2].running_var, hidden.var(0), atol=1e-5)
    before = copy.deepcopy(g.state_dict())
    ema.recalibrate_batchnorm(g, samples=64)  # same weights, same statistics
    assert all(torch.equal(before[k], v) for k, v in g.state_dict().items())


def test_training_updates_the_average_and_never_the_trained_g_from_it():
    state = GANState.fresh(tiny_config(ema_decay=0.5))
    start = {k: v.clone() for k, v in state.ema.state_dict().items()}
    real = torch.rand(20, 784)
    for _ in range(3):
        state.train_step(real)
    assert state.ema_updates == 3 and state.ema_stale
    shown = state.shown_generator()
    assert shown is state.ema and not state.ema_stale and not shown.training
    weight = "net.0.weight"
    assert not torch.equal(shown.state_dict()[weight], start[weight])
    assert not torch.equal(shown.state_dict()[weight], state.generator.state_dict()[weight])
    assert not any(p.requires_grad for p in shown.parameters())


def test_off_means_the_trained_g_is_shown():
    state = GANState.fresh(tiny_config(ema_decay=0.0))
    state.train_step(torch.rand(20, 784))
    assert state.ema is None and state.shown_generator() is state.generator
    assert to_record(state)["ema"] is None


def train(tmp_path, run, epochs, **config):
    """A tiny run with an EMA generator (decay 0.9): ``helpers.train``, which checks a stop took effect."""
    return helpers.train(tmp_path, run, epochs, **{"ema_decay": 0.9, **config})


def test_stop_and_resume_keeps_the_ema_generator_bit_for_bit(tmp_path):
    train(tmp_path, "straight", epochs=3, spectral_norm=True)
    train(tmp_path, "split", epochs=3, stop_at_step=6, spectral_norm=True)
    train(tmp_path, "split", epochs=3, continue_run=True, spectral_norm=True)
    a = load_checkpoint(RunPaths.of(tmp_path, "straight").checkpoint)
    b = load_checkpoint(RunPaths.of(tmp_path, "split").checkpoint)
    assert a["ema"]["updates"] == b["ema"]["updates"] == 12
    for key, value in a["ema"]["generator"].items():
        assert torch.equal(value, b["ema"]["generator"][key]), key


def test_trainer_shows_the_ema_generator_and_keeps_the_raw_one(tmp_path):
    trainer = train(tmp_path, "r", epochs=2)
    z = seeded_z(3, trainer.config.z_dim, 8)
    shown, raw = trainer.sample(z), trainer.sample(z, which="raw")
    assert not np.allclose(shown, raw)
    record = load_checkpoint(RunPaths.of(tmp_path, "r").checkpoint)
    g = make_generator(record["config"])
    g.load_state_dict(record["ema"]["generator"])
    with torch.no_grad():
        assert np.allclose(g.eval()(z).reshape(-1, 28, 28).numpy(), shown, atol=1e-6)
    with pytest.raises(ValueError):
        trainer.sample(z, which="average")


def test_a_record_without_ema_starts_the_average_from_g(tmp_path):
    train(tmp_path, "r", epochs=1)
    path = RunPaths.of(tmp_path, "r").checkpoint
    record = load_checkpoint(path)
    record["ema"] = None  # as written before the EMA generator existed
    state = from_record(record, str(path))
    assert state.ema_updates == 0
    for key, value in state.generator.state_dict().items():
        assert torch.equal(state.ema.state_dict()[key], value)


def test_cli_samples_the_ema_generator_unless_asked_for_the_raw_one(tmp_path, capsys):
    from gan_core.cli.main import main

    from helpers import write_mnist_idx

    data = write_mnist_idx(tmp_path / "data", n=60)
    ckpt = tmp_path / "ckpt"
    assert main(["train", "--run", "r", "--checkpoints", str(ckpt), "--data-dir", str(data), "--batch-size", "20",
                 "--eval-every", "0", "--epochs", "2", "--quiet"]) == 0
    outs = {}
    for which in ("ema", "raw"):
        outs[which] = tmp_path / f"{which}.npy"
        assert main(["sample", "--run", "r", "--checkpoints", str(ckpt), "--n", "4", "--which", which,
                     "--out", str(outs[which])]) == 0
    assert "EMA generator" in capsys.readouterr().out
    record = load_checkpoint(RunPaths.of(ckpt, "r").checkpoint)
    for which, part in (("ema", record["ema"]["generator"]), ("raw", record["generator"])):
        g = make_generator(record["config"])
        g.load_state_dict(part)
        with torch.no_grad():
            expected = g.eval()(seeded_z(0, g.z_dim, 4)).reshape(-1, 28, 28).numpy()
        assert np.allclose(np.load(outs[which]), expected, atol=1e-6), which


def test_a_version_1_checkpoint_gets_an_ema_generator_started_from_g(tmp_path):
    from fixtures.checkpoint_v1 import write_v1_checkpoint

    path = write_v1_checkpoint(tmp_path / "old" / "checkpoint.pt")
    record = load_checkpoint(path)
    assert record["ema"]["updates"] == 0
    for key, value in record["generator"].items():
        assert torch.equal(record["ema"]["generator"][key], value)
    state = from_record(record, str(path))
    assert state.ema is not None and state.ema_updates == 0
