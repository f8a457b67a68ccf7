"""The EMA generator: an exponential moving average of G's weights, the generator people look at.

A GAN's G oscillates around the equilibrium from one step to the next; the average of its recent weights
sits nearer the middle of that orbit and draws cleaner digits (Yazıcı et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training"). Only the trained parameters are averaged. BatchNorm's
running statistics belong to the weights that produced them, so the averaged generator gets its own,
re-estimated from one pass of fresh noise drawn from a private ``torch.Generator``: the run's RNG streams
are never touched, and the same averaged weights always get the same statistics.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .model import Generator, balanced_labels, sample_z

# Warm-up: the decay used after n updates is min(decay, (1 + n) / (WARMUP + n)), so the first averages
# are not dominated by the random initial weights (TensorFlow's ExponentialMovingAverage ``num_updates``).
WARMUP = 10
BN_SAMPLES = 1000  # noise vectors of the one pass that re-estimates the averaged G's BatchNorm statistics
BN_SEED = 97_531  # the private generator's seed: the statistics depend on the averaged weights alone


def decay_at(decay: float, updates: int) -> float:
    """The decay applied by update number ``updates`` + 1 (0-based count of earlier updates)."""
    return min(decay, (1.0 + updates) / (WARMUP + updates))


def averaged_copy(generator: Generator) -> Generator:
    """A frozen eval-mode copy of ``generator`` to start the average from."""
    ema = copy.deepcopy(generator).eval()
    ema.requires_grad_(False)
    return ema


@torch.no_grad()
def update(ema: Generator, generator: Generator, decay: float, updates: int) -> None:
    """ema <- d * ema + (1 - d) * G for every trained parameter, d = ``decay_at(decay, updates)``."""
    ema_params = [p for p in ema.parameters()]
    params = [p.detach() for p in generator.parameters()]
    torch._foreach_lerp_(ema_params, params, 1.0 - decay_at(decay, updates))


@torch.no_grad()
def recalibrate_batchnorm(generator: Generator, samples: int = BN_SAMPLES, seed: int = BN_SEED) -> None:
    """Replace every BatchNorm's running statistics with those of ``samples`` fresh latents through
    ``generator``'s current weights; leaves it in eval mode. Dropout stays off during the pass (it sits
    after the last BatchNorm anyway), so nothing draws from the global RNG."""
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    device = next(generator.parameters()).device
    z = sample_z(samples, generator.z_dim, device=device,
                 generator=torch.Generator(device=device).manual_seed(seed))
    labels = balanced_labels(generator, samples)  # a conditional G: every class alike
    generator.eval()
    saved = [m.momentum for m in norms]
    try:
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average: after one pass, exactly this batch's statistics
            m.train()
        generator(z, *(() if labels is None else (labels.to(device),)))
    finally:
        for m, momentum in zip(norms, saved, strict=True):
            m.momentum = momentum
        generator.eval()
