"""Digit directions from the judge: "make it a 7" by projected gradient ascent, and linear class directions.

``toward_digit`` moves latents toward a class by a fixed number of normalised gradient steps on the
judge's log-probability of that class, each followed by a pull back toward the starting latent (so the
style is kept) and a projection onto the prior's box. A step that would change the image by more than
``MAX_PIXEL_CHANGE`` (mean absolute pixel difference from the start) is not taken and ends that edit:
an edit cannot win by drifting into pixels the start never had. An edit also ends once the judge gives
the class ``TARGET_P``. The judge steers; ``referee.py`` holds the classifier that scores the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .latent import Z_HIGH, Z_LOW
from .model import sample_z

# Fixed on purpose (docs/latent-lab.md measures them): the same edit for every digit and every latent.
STEPS = 100  # gradient steps at most
STEP_SIZE = 0.3  # z-distance (L2) of one step along the normalised gradient
PULL = 0.02  # share of the way back to the starting latent after each step
MAX_PIXEL_CHANGE = 0.20  # mean |image - start image| an edit may reach (pixels in [0, 1])
TARGET_P = 0.9999  # the judge's probability at which an edit stops (well past 0.9: the referee must agree)
CLASS_DIRECTION_SAMPLES = 20_000
CLASS_DIRECTION_SEED = 11

ShouldStop = Callable[[], bool]


@dataclass(frozen=True)
class EditPath:
    """The latents an edit went through: ``path[t]`` is (n, z_dim) after t steps (path[0] = start)."""

    path: np.ndarray  # float32 (steps + 1, n, z_dim); rows of finished edits repeat their last latent
    judge_p: np.ndarray  # float32 (steps + 1, n): the judge's probability of the asked class at each point
    steps_taken: np.ndarray  # int (n,)
    cancelled: bool

    @property
    def final(self) -> np.ndarray:
        return self.path[-1]


def _class_log_prob(generator: nn.Module, judge_net: nn.Module, z: torch.Tensor,
                    digits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    images = generator(z)
    log_p = torch.log_softmax(judge_net(images), dim=1).gather(1, digits[:, None]).squeeze(1)
    return log_p, images


def toward_digit(generator: nn.Module, judge_net: nn.Module, z: torch.Tensor | np.ndarray,
                 digits: int | np.ndarray | torch.Tensor, *, steps: int = STEPS, step_size: float = STEP_SIZE,
                 pull: float = PULL, max_pixel_change: float = MAX_PIXEL_CHANGE, target_p: float = TARGET_P,
                 should_stop: ShouldStop | None = None) -> EditPath:
    """Edit each row of z (n, z_dim) toward its digit (an int for all, or one per row); see the module."""
    z0 = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1, generator.z_dim)
    n = len(z0)
    digits = torch.as_tensor(np.broadcast_to(np.asarray(digits, dtype=np.int64), (n,)).copy())
    g_mode, j_mode = generator.training, judge_net.training
    generator.eval()
    judge_net.eval()
    requires = [p.requires_grad for p in (*generator.parameters(), *judge_net.parameters())]
    for p in (*generator.parameters(), *judge_net.parameters()):
        p.requires_grad_(False)
    try:
        with torch.no_grad():
            log_p, start_images = _class_log_prob(generator, judge_net, z0, digits)
        current = z0.clone()
        active = log_p.exp() < target_p
        path, probs = [current.clone()], [log_p.exp()]
        taken = torch.zeros(n, dtype=torch.int64)
        cancelled = False
        for _ in range(steps):
            if not bool(active.any()):
                break
            if should_stop is not None and should_stop():
                cancelled = True
                break
            with torch.enable_grad():
                x = current.clone().requires_grad_(True)
                log_p, _ = _class_log_prob(generator, judge_net, x, digits)
                (grad,) = torch.autograd.grad(log_p.sum(), x)
            direction = grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
            proposal = current + step_size * direction
            proposal = (proposal - pull * (proposal - z0)).clamp(Z_LOW, Z_HIGH)
            with torch.no_grad():
                new_log_p, images = _class_log_prob(generator, judge_net, proposal, digits)
            within_cap = (images - start_images).abs().mean(1) <= max_pixel_change
            accept = active & within_cap
            current = torch.where(accept[:, None], proposal, current)
            taken += accept.long()
            reached = accept & (new_log_p.exp() >= target_p)
            active = accept & ~reached  # an edit stops at the cap or once the judge is convinced
            prev_p = probs[-1]
            probs.append(torch.where(accept, new_log_p.exp(), prev_p))
            path.append(current.clone())
    finally:
        for p, flag in zip((*generator.parameters(), *judge_net.parameters()), requires, strict=True):
            p.requires_grad_(flag)
        generator.train(g_mode)
        judge_net.train(j_mode)
    return EditPath(torch.stack(path).numpy(), torch.stack(probs).float().numpy(), taken.numpy(), cancelled)


@torch.no_grad()
def class_directions(generator: nn.Module, judge_net: nn.Module, *, n: int = CLASS_DIRECTION_SAMPLES,
                     seed: int = CLASS_DIRECTION_SEED, num_classes: int = 10) -> np.ndarray:
    """(num_classes, z_dim): the mean of the latents the judge assigns to class c minus the mean of all.

    A class nobody generates gets a zero row. Adding t * row c to a latent is the linear "class slider".
    """
    z = sample_z(n, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    g_mode, j_mode = generator.training, judge_net.training
    generator.eval()
    judge_net.eval()
    try:
        labels = torch.cat([judge_net(generator(z[s:s + 5000])).argmax(1) for s in range(0, n, 5000)])
    finally:
        generator.train(g_mode)
        judge_net.train(j_mode)
    overall = z.mean(0)
    rows = [z[labels == c].mean(0) - overall if bool((labels == c).any()) else torch.zeros_like(overall)
            for c in range(num_classes)]
    return torch.stack(rows).numpy()
