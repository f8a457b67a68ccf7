"""The loss menu: each loss's formulas, its gradients' behaviour, the config field, and how D's output and
the D-wins warning are read per loss."""

import math

import pytest
import torch
import torch.nn.functional as F

from gan_core.config import LOSSES, ConfigError, GANConfig
from gan_core.gan.losses import (
    HINGE,
    LSGAN,
    MINIMAX,
    NON_SATURATING,
    discriminator_loss,
    generator_loss,
    loss_view,
)
from gan_core.gan.state import GANState
from gan_core.quality.metrics import run_warnings

from helpers import tiny_config, tiny_data

REAL = torch.tensor([[2.0], [-0.5], [0.3]])
FAKE = torch.tensor([[-1.5], [0.7], [-3.0]])


def test_each_loss_is_its_formula():
    d_prob_real, d_prob_fake = torch.sigmoid(REAL), torch.sigmoid(FAKE)
    bce_d = (-torch.log(d_prob_real).mean() - torch.log(1 - d_prob_fake).mean())
    for loss in (NON_SATURATING, MINIMAX):
        assert discriminator_loss(loss, REAL, FAKE).item() == pytest.approx(bce_d.item(), rel=1e-6)
    assert generator_loss(NON_SATURATING, FAKE).item() == pytest.approx(-torch.log(d_prob_fake).mean().item(), rel=1e-6)
    assert generator_loss(MINIMAX, FAKE).item() == pytest.approx(torch.log(1 - d_prob_fake).mean().item(), rel=1e-6)
    lsgan_d = 0.5 * ((REAL - 1) ** 2).mean() + 0.5 * (FAKE ** 2).mean()
    assert discriminator_loss(LSGAN, REAL, FAKE).item() == pytest.approx(lsgan_d.item())
    assert generator_loss(LSGAN, FAKE).item() == pytest.approx((0.5 * (FAKE - 1) ** 2).mean().item())
    hinge_d = torch.clamp(1 - REAL, min=0).mean() + torch.clamp(1 + FAKE, min=0).mean()
    assert discriminator_loss(HINGE, REAL, FAKE).item() == pytest.approx(hinge_d.item())
    assert generator_loss(HINGE, FAKE).item() == pytest.approx(-FAKE.mean().item())


def test_the_default_loss_is_the_seed_formula_bit_for_bit():
    old = (F.binary_cross_entropy_with_logits(REAL, torch.ones_like(REAL))
           + F.binary_cross_entropy_with_logits(FAKE, torch.zeros_like(FAKE)))
    assert torch.equal(discriminator_loss(NON_SATURATING, REAL, FAKE), old)


def test_minimax_saturates_where_non_saturating_does_not():
    """When D rejects a fake confidently (score -8), minimax gives G almost no gradient: the stall the menu
    lets a student watch."""
    gradients = {}
    for loss in (NON_SATURATING, MINIMAX):
        score = torch.tensor([[-8.0]], requires_grad=True)
        generator_loss(loss, score).backward()
        gradients[loss] = abs(score.grad.item())
    assert gradients[MINIMAX] < 1e-3 and gradients[NON_SATURATING] > 0.99


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_trains_and_reports_d_outputs_as_its_view_says(loss):
    state = GANState.fresh(tiny_config(loss=loss))
    real = tiny_data().images[:20]
    with torch.no_grad():
        scores = state.discriminator(real)  # D before its step: what the step's D(x) reports
    _, d_real, _ = state.d_step(real)
    probability = loss_view(loss).output == "probability"
    expected = torch.sigmoid(scores).mean() if probability else scores.mean()
    assert d_real.item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-7)
    before = [p.detach().clone() for p in state.generator.parameters()]
    values = state.train_step(real).tolist()
    assert all(math.isfinite(v) for v in values)
    assert any(not torch.equal(a, b) for a, b in zip(before, state.generator.parameters(), strict=True))
    if probability:
        assert 0 <= values[2] <= 1 and 0 <= values[3] <= 1


def test_loss_is_a_validated_config_field_and_old_records_default_to_non_saturating():
    with pytest.raises(ConfigError, match="loss") as err:
        GANConfig(loss="wgan")
    assert err.value.field == "loss"
    stored = GANConfig().to_dict()
    del stored["loss"]  # a checkpoint from before the loss menu
    assert GANConfig.from_dict(stored).loss == NON_SATURATING


def test_views_give_each_loss_its_reference_and_d_wins_threshold():
    assert (loss_view(NON_SATURATING).output, loss_view(NON_SATURATING).reference) == ("probability", 0.5)
    assert (loss_view(LSGAN).output, loss_view(LSGAN).reference) == ("raw score", 0.5)
    assert (loss_view(HINGE).output, loss_view(HINGE).reference) == ("raw score", 0.0)
    for loss in LOSSES:  # D at its reference on every input: the loss the view says, and no D-wins warning
        view = loss_view(loss)
        at_reference = torch.full((4, 1), view.reference)
        if view.output == "probability":
            at_reference = torch.logit(at_reference)
        assert discriminator_loss(loss, at_reference, at_reference).item() == pytest.approx(
            view.d_loss_at_equilibrium, abs=1e-4)
        assert view.d_wins_below < view.d_loss_at_equilibrium
    log = [{"epoch": 1, "d_loss": 0.01}]  # a BCE D this low has won; an LSGAN one has not yet
    assert any("wins" in w for w in run_warnings([], log, loss_view(NON_SATURATING).d_wins_below))
    assert not run_warnings([], log, loss_view(LSGAN).d_wins_below)
