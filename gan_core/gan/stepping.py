"""Step-by-step mode: what one hand-made update did, for a student to see.

The update itself is the trainer's own (``GANState.train_step`` or ``g_only_step``, on the run's next
batch), so a run stepped by hand is an ordinary run that continues exactly. This module only looks before
and after: the raw G's fixed-noise grid, D's verdicts on those images, the step's losses and D outputs,
the gradient norm of each layer of the net that moved, and one line saying what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .losses import d_output, loss_view
from .modes import evaluating
from .state import GANState

D_STEP, G_STEP, BOTH_STEP = "D", "G", "D+G"
STEP_KINDS = (D_STEP, G_STEP, BOTH_STEP)


@dataclass(frozen=True)
class Look:
    """The raw G's images of the preview noise and D's verdict on each, at one moment."""

    grid: np.ndarray  # (100, 28, 28) in [0, 1]
    verdicts: np.ndarray  # (100,) D's output per image, read as the run's loss reads it
    mean_verdict: float


@dataclass(frozen=True)
class StepReport:
    kind: str  # one of STEP_KINDS
    step: int  # D updates after the step (unchanged by a G step alone)
    g_updates: int
    d_loss: float | None  # None for a G step alone: D did not move
    g_loss: float | None  # None for a D step alone
    d_real: float | None  # mean D(x) on the step's real batch, before D's update
    d_fake: float | None
    before: Look
    after: Look
    grad_norms: dict[str, dict[str, float]] = field(default_factory=dict)  # {"D"|"G": {layer: norm}}
    explanation: str = ""


def look(state: GANState) -> Look:
    """G and D in eval mode (no dropout, running statistics, spectral norm's power iteration untouched), so
    looking draws no random numbers and changes no state: the run continues as if nobody had looked."""
    generator, discriminator = state.generator, state.discriminator
    with evaluating(generator, discriminator), torch.no_grad():
        images = generator(state.preview_z, state.preview_labels)
        scores = discriminator(images, state.preview_labels) if discriminator.pack == 1 else None
    loss = state.config.loss
    if scores is None:  # a packing D judges groups, not single images: no per-image verdict
        verdicts = np.full(len(images), np.nan, np.float32)
        mean = float("nan")
    else:
        verdicts = (torch.sigmoid(scores) if loss_view(loss).output == "probability" else scores).float().cpu().numpy()
        mean = float(d_output(loss, scores))
    return Look(images.reshape(-1, 28, 28).float().cpu().numpy(), verdicts, mean)


def explain(kind: str, loss: str, before: Look, after: Look, d_real: float | None, d_fake: float | None) -> str:
    """One line on what the update did, in the terms of the run's loss."""
    view = loss_view(loss)
    what = "probability" if view.output == "probability" else "score"
    moved = f"D's mean {what} on the preview digits went {before.mean_verdict:.3f} → {after.mean_verdict:.3f}"
    if kind == D_STEP:
        return (f"D step: D saw a real batch (mean D(x) {d_real:.3f}) and a fake one (mean D(G(z)) {d_fake:.3f}) "
                f"and moved to tell them apart. G's weights did not change (making the fakes updated only its "
                f"BatchNorm statistics). {moved}.")
    if kind == G_STEP:
        return (f"G step: G moved to make D rate its fakes as real, with D frozen; no real batch was used and "
                f"the step counter stays. {moved}.")
    return (f"D+G step: D moved on a real and a fake batch (mean D(x) {d_real:.3f}, D(G(z)) {d_fake:.3f}), then "
            f"G moved against the updated D. {moved}.")
