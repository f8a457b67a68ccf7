"""The loss menu: what D and G minimise, and how D's output reads under each loss.

Every loss here is written on D's raw output (``scores``, one per real or fake input). The two
cross-entropy losses read it as a logit, D(x) = sigmoid(score), a probability with its equilibrium at
0.5; least squares and hinge use the raw score itself, which has no probability reading.

    non-saturating  D: -log D(x) - log(1 - D(G(z)))     G: -log D(G(z))             (Goodfellow et al. 2014, sec. 3)
    minimax         D: as above                          G: log(1 - D(G(z)))         (the game as stated; saturates)
    lsgan           D: 1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2  G: 1/2 (D(G(z)) - 1)^2     (Mao et al. 2017, a=0, b=c=1)
    hinge           D: max(0, 1 - D(x)) + max(0, 1 + D(G(z)))   G: -D(G(z))          (Lim & Ye 2017; Miyato et al. 2018)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..config import LOSSES

NON_SATURATING, MINIMAX, LSGAN, HINGE = LOSSES


def discriminator_loss(loss: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """D's loss on its scores for a real batch and a (detached) fake batch."""
    if loss in (NON_SATURATING, MINIMAX):  # both train D as a classifier: real -> 1, fake -> 0
        return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    if loss == LSGAN:  # pull real scores to 1 and fake ones to 0, quadratically
        return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean()
    if loss == HINGE:  # only scores inside the margin (real below +1, fake above -1) cost anything
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    raise ValueError(f"unknown loss {loss!r}")


def generator_loss(loss: str, fake: torch.Tensor) -> torch.Tensor:
    """G's loss on D's scores for its fakes."""
    if loss == NON_SATURATING:  # -log D(G(z)): strong gradients while D still rejects the fakes
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if loss == MINIMAX:  # log(1 - D(G(z))) = -BCE(fake, 0): its gradient vanishes when D rejects the fakes
        return -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    if loss == LSGAN:
        return 0.5 * ((fake - 1) ** 2).mean()
    if loss == HINGE:
        return -fake.mean()
    raise ValueError(f"unknown loss {loss!r}")


def d_output(loss: str, scores: torch.Tensor) -> torch.Tensor:
    """Mean D output as charted: the probability sigmoid(score) for the cross-entropy losses, else the raw
    score."""
    scores = scores.float()
    return (torch.sigmoid(scores) if output_is_probability(loss) else scores).mean()


def output_is_probability(loss: str) -> bool:
    return loss in (NON_SATURATING, MINIMAX)


@dataclass(frozen=True)
class LossView:
    """How to read D's output and D's loss under one loss, for charts, labels and warnings."""

    loss: str
    label: str  # the menu's words for it
    output: str  # what the D-output chart shows: "probability" or "raw score"
    reference: float  # the rule drawn on the D-output chart
    reference_label: str
    d_wins_below: float  # an epoch-mean D loss under this means D separates real from fake outright
    d_loss_at_equilibrium: float  # D's loss when it outputs the reference for every input


# The D-wins thresholds put D's outputs within about 2.5% of their targets: BCE 2 * 0.025 ~ 0.05 (the
# project's long-standing warning), least squares 0.025^2 ~ 6e-4 (rounded to 1e-3), hinge: the mean
# margin violation, linear as in BCE.
_VIEWS = {
    NON_SATURATING: LossView(NON_SATURATING, "non-saturating (-log D(G(z)), the tutorial's)", "probability",
                             0.5, "equilibrium 0.5", 0.05, 1.3863),
    MINIMAX: LossView(MINIMAX, "minimax (log(1 - D(G(z))), saturates)", "probability", 0.5, "equilibrium 0.5",
                      0.05, 1.3863),
    LSGAN: LossView(LSGAN, "least squares (LSGAN)", "raw score", 0.5,
                    "equilibrium 0.5 (targets: real 1, fake 0)", 1e-3, 0.25),
    HINGE: LossView(HINGE, "hinge", "raw score", 0.0, "decision boundary 0 (margins ±1)", 0.05, 2.0),
}


def loss_view(loss: str) -> LossView:
    if loss not in _VIEWS:
        raise ValueError(f"unknown loss {loss!r}")
    return _VIEWS[loss]
