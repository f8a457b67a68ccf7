"""GAN inversion: find the latent whose image is closest to a given 28x28 digit.

Several starts are optimised at once as one batch (Adam on z, projected back onto the prior's box after
every step). The starts are the best of ``POOL`` random latents by pixel error, so the search begins
where the prior already fits and the result can only improve on them. The loss is the pixel MSE,
optionally plus the distance between the judge's features of the two images (a digit's shape matters
more than its exact stroke). Generator and judge stay in eval mode: an image never depends on its
batch-mates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..gan.model import sample_z
from ..gan.modes import evaluating
from .sampling import Z_HIGH, Z_LOW

STARTS = 8
STEPS = 300
LR = 0.05
POOL = 2000


@dataclass(frozen=True)
class Inversion:
    z: np.ndarray  # float32 (1, z_dim): the best latent found
    image: np.ndarray  # float32 (28, 28): G(z)
    errors: np.ndarray  # float32 (steps run,): the best start's pixel MSE after each step
    mse: float  # pixel MSE of ``image`` against the target
    cancelled: bool


def invert(generator: nn.Module, target: np.ndarray | torch.Tensor, *, starts: int = STARTS, steps: int = STEPS,
           lr: float = LR, pool: int = POOL, judge_net: nn.Module | None = None, feature_weight: float = 0.0,
           seed: int = 0, should_stop: Callable[[], bool] | None = None) -> Inversion:
    """The latent in the prior's box whose image best matches ``target`` (28x28 or 784 values in [0, 1])."""
    target = torch.as_tensor(np.asarray(target, dtype=np.float32)).reshape(1, -1)
    if feature_weight and judge_net is None:
        raise ValueError("feature_weight needs a judge_net")
    with evaluating(generator, judge_net, frozen=True):  # gradients flow to the latents only
        z = _starts(generator, target, starts, pool, seed).requires_grad_(True)
        target_features = judge_net.features(target) if feature_weight else None
        optimiser = torch.optim.Adam([z], lr=lr)
        best_z, best_mse = z.detach()[:1].clone(), float("inf")
        errors: list[float] = []
        cancelled = False
        for _ in range(steps):
            if should_stop is not None and should_stop():
                cancelled = True
                break
            images = generator(z)
            mse = ((images - target) ** 2).mean(1)
            loss = mse
            if target_features is not None:
                loss = loss + feature_weight * ((judge_net.features(images) - target_features) ** 2).mean(1)
            optimiser.zero_grad(set_to_none=True)
            loss.sum().backward()  # the starts are independent rows: one backward serves them all
            errors_now = mse.detach()
            row = int(errors_now.argmin())
            if float(errors_now[row]) < best_mse:  # the error of the latent before this step's update
                best_mse, best_z = float(errors_now[row]), z.detach()[row:row + 1].clone()
            errors.append(best_mse)
            optimiser.step()
            with torch.no_grad():
                z.clamp_(Z_LOW, Z_HIGH)
        with torch.no_grad():
            final = ((generator(z) - target) ** 2).mean(1)
            row = int(final.argmin())
            if float(final[row]) < best_mse:
                best_mse, best_z = float(final[row]), z.detach()[row:row + 1].clone()
            image = generator(best_z).reshape(28, 28)
    return Inversion(best_z.numpy().astype(np.float32), image.numpy(), np.asarray(errors, np.float32),
                     best_mse, cancelled)


@torch.no_grad()
def _starts(generator: nn.Module, target: torch.Tensor, starts: int, pool: int, seed: int) -> torch.Tensor:
    """The ``starts`` latents of a seeded random pool whose images are closest to the target."""
    candidates = sample_z(max(pool, starts), generator.z_dim, generator=torch.Generator().manual_seed(seed))
    errors = ((generator(candidates) - target) ** 2).mean(1)
    return candidates[torch.argsort(errors)[:starts]].clone()


@torch.no_grad()
def best_of_random(generator: nn.Module, target: np.ndarray | torch.Tensor, n: int = 20_000,
                   seed: int = 0, chunk: int = 5000) -> tuple[np.ndarray, float]:
    """The baseline inversion must beat: the best of ``n`` random latents by pixel MSE, (z (1, z_dim), mse)."""
    target = torch.as_tensor(np.asarray(target, dtype=np.float32)).reshape(1, -1)
    gen = torch.Generator().manual_seed(seed)
    best_z, best = None, float("inf")
    with evaluating(generator):
        for start in range(0, n, chunk):
            z = sample_z(min(chunk, n - start), generator.z_dim, generator=gen)
            errors = ((generator(z) - target) ** 2).mean(1)
            row = int(errors.argmin())
            if float(errors[row]) < best:
                best, best_z = float(errors[row]), z[row:row + 1].clone()
    return best_z.numpy(), best
