"""Issue 21: the recipe fields (DiffAugment of D's inputs, the R1 penalty) and the readability yardstick."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gan_core.config import AUGMENTS, ConfigError, GANConfig, field_spec
from gan_core.gan import augment as A
from gan_core.gan import state as engine
from gan_core.gan.nets import make_discriminator
from gan_core.gan.state import GANState, r1_penalty
from gan_core.presets import preset_config
from gan_core.quality.metrics import readability_row, readable
from gan_core.runs.checkpoint import VERSION, load_checkpoint, save_checkpoint
from gan_core.runs.record import from_record, to_record

from helpers import tiny_config

RECIPE = {"augment": "translation-cutout", "r1_gamma": 1.0, "loss": "lsgan"}


def digit_like(n: int = 8) -> torch.Tensor:
    """Images with ink only in the central 20x20 (as MNIST's digits): a 3-pixel shift loses none of it."""
    x = torch.zeros(n, 28, 28)
    x[:, 4:24, 4:24] = torch.rand(n, 20, 20) + 0.1
    return x


def test_the_fields_are_off_in_seed_and_carry_their_metadata():
    seed = preset_config("seed")
    assert (seed.augment, seed.r1_gamma) == ("off", 0.0)
    assert field_spec("augment").choices == AUGMENTS and field_spec("augment").flag == "--augment"
    assert (field_spec("r1_gamma").low, field_spec("r1_gamma").high) == (0.0, 1000.0)
    with pytest.raises(ConfigError, match="augment"):
        GANConfig(augment="rotation")
    with pytest.raises(ConfigError, match="r1_gamma"):
        GANConfig(r1_gamma=-1.0)


def test_translation_moves_each_image_by_at_most_three_pixels_and_keeps_its_ink():
    torch.manual_seed(0)
    x = digit_like(64)
    moved = A.translate(x)
    assert torch.allclose(moved.sum((1, 2)), x.sum((1, 2)))  # nothing of the digit falls off the edge
    shifts = set()
    for before, after in zip(x, moved, strict=True):
        found = [(dy, dx) for dy in range(-3, 4) for dx in range(-3, 4)
                 if torch.equal(torch.roll(before, (dy, dx), (0, 1)), after)]
        assert len(found) == 1
        shifts.add(found[0])
    assert len(shifts) > 10  # each image draws its own offset


def test_cutout_zeroes_one_square_of_at_most_14_by_14_per_image():
    torch.manual_seed(0)
    holes = A.cutout(torch.ones(64, 28, 28)) == 0
    for hole in holes:
        rows, cols = hole.any(1).nonzero().flatten(), hole.any(0).nonzero().flatten()
        assert 0 < len(rows) <= 14 and 0 < len(cols) <= 14
        assert hole.sum() == len(rows) * len(cols)  # one filled rectangle
        assert rows.diff().eq(1).all() and cols.diff().eq(1).all()
    assert holes.sum((1, 2)).eq(196).float().mean() > 0.3  # mostly a whole square, clipped at the edges


def test_off_is_the_identity_and_every_policy_keeps_the_shape():
    x = torch.rand(6, 784)
    assert A.augment(x, "off") is x
    for policy in AUGMENTS:
        assert A.augment(x, policy).shape == x.shape
    with pytest.raises(ValueError, match="unknown augmentation"):
        A.augment(x, "flip")


def test_the_augmentation_is_differentiable_a_gradient_reaches_g_through_it():
    torch.manual_seed(0)
    state = GANState.fresh(tiny_config(augment="translation-cutout"))
    state.g_step(20)
    grads = [p.grad for p in state.generator.parameters()]
    assert all(g is not None for g in grads) and sum(float(g.abs().sum()) for g in grads) > 0
    x = torch.rand(4, 784, requires_grad=True)
    A.augment(x, "translation-cutout").sum().backward()
    kept = x.grad.reshape(4, 28, 28)
    assert set(kept.unique().tolist()) <= {0.0, 1.0} and kept.sum() > 4 * 200  # each kept pixel passes 1


def test_d_sees_real_and_fake_through_the_same_augmentation(monkeypatch):
    seen = []
    original = engine.augment

    def spy(images, policy):
        out = original(images, policy)
        seen.append((images.detach().clone(), out.detach().clone(), policy))
        return out

    monkeypatch.setattr(engine, "augment", spy)
    torch.manual_seed(0)
    state = GANState.fresh(tiny_config(augment="translation-cutout"))
    real = digit_like(20).reshape(20, 784)
    state.train_step(real)
    (d_in, d_out, d_policy), (g_in, g_out, g_policy) = seen
    assert d_policy == g_policy == "translation-cutout"
    assert d_in.shape[0] == 40 and torch.equal(d_in[:20], real)  # one call for real + fake together
    changed = (d_in != d_out).reshape(40, -1).any(1)
    assert changed[:20].all() and changed[20:].all()  # both halves transformed
    assert g_in.shape[0] == 20 and (g_in != g_out).reshape(20, -1).any(1).all()  # the G step's fakes too


def test_r1_is_the_squared_input_gradient_and_trains_d_through_a_second_backward():
    linear = nn.Linear(784, 1)
    x = torch.rand(5, 784)
    assert float(r1_penalty(linear, x).detach()) == pytest.approx(float(linear.weight.detach().pow(2).sum()), rel=1e-5)
    torch.manual_seed(0)
    d = make_discriminator(tiny_config(spectral_norm=True))
    d.train()
    penalty = r1_penalty(d, torch.rand(8, 784))
    penalty.backward()
    weight = d.net[0].parametrizations.weight.original
    assert penalty > 0 and weight.grad is not None and weight.grad.abs().sum() > 0
    assert d.training  # its mode is restored


def test_r1_runs_every_fourth_d_step_only_and_is_not_in_the_reported_loss(monkeypatch):
    calls = []
    original = engine.r1_penalty
    monkeypatch.setattr(engine, "r1_penalty", lambda d, real, labels=None: calls.append(1) or original(d, real, labels))
    torch.manual_seed(0)
    with_r1 = GANState.fresh(tiny_config(r1_gamma=10.0))
    torch.manual_seed(0)
    without = GANState.fresh(tiny_config())
    real = torch.rand(20, 784)
    for step in range(8):
        torch.manual_seed(step)
        a = with_r1.train_step(real)
        torch.manual_seed(step)
        b = without.train_step(real)
        with_r1.step += 1
        without.step += 1
        if step == 0:
            assert a[0] == b[0]  # the same game loss; the penalty only changes the update
    assert len(calls) == 2
    first = next(with_r1.discriminator.parameters())
    assert not torch.equal(first, next(without.discriminator.parameters()))


@pytest.mark.parametrize("recipe", [RECIPE, {"augment": "cutout"}, {"r1_gamma": 0.5, "spectral_norm": True}])
def test_the_fields_round_trip_through_a_checkpoint(tmp_path, recipe):
    state = GANState.fresh(tiny_config(**recipe))
    save_checkpoint(to_record(state), tmp_path / "c.pt")
    config = from_record(load_checkpoint(tmp_path / "c.pt"), "c.pt").config
    assert {k: getattr(config, k) for k in recipe} == recipe


def test_a_checkpoint_from_before_the_fields_continues_with_both_off(tmp_path):
    record = to_record(GANState.fresh(tiny_config()))
    record["version"] = 4
    config = record["config"]
    del config["augment"], config["r1_gamma"]
    save_checkpoint(record, tmp_path / "old.pt")
    loaded = load_checkpoint(tmp_path / "old.pt")
    assert loaded["version"] == VERSION
    assert (loaded["config"].augment, loaded["config"].r1_gamma) == ("off", 0.0)


def test_readability_needs_both_classifiers_to_agree_confidently():
    eye = np.eye(10)
    judge = np.array([eye[3], eye[3], eye[4], 0.5 * eye[1] + 0.5 * eye[2]])
    referee = np.array([eye[3], eye[5], eye[4], eye[1]])
    assert readable(judge, referee).tolist() == [True, False, True, False]
    row = readability_row(judge, referee, 0.8)
    assert row["readable"] == 0.5 and row["readable_ratio"] == pytest.approx(0.625)
    assert row["readable_histogram"][3] == 0.25 and row["readable_histogram"][4] == 0.25
    assert sum(row["readable_histogram"]) == pytest.approx(0.5)
