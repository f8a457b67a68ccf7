"""Readable starting digits: seeded latents whose digit the referee reads confidently.

The latent lab and "toward d" should start from a digit a person can read, not from whatever stroke seed 0
happens to draw. ``readable_latents`` walks the seeds ``seed, seed + 1, ...`` in batches (one G pass and one
referee pass per batch), keeps each latent ``seeded_z(s)`` whose digit (G in eval mode) the referee reads with
p >= ``READABLE_P`` (as ``digit`` when one is asked), and returns the first ``count`` with their seeds and
probabilities. A latent is named by its seed alone, as the lab's base seed is, and no draw touches the global
RNG. With ``judge_net`` the judge must read the same digit with p >= ``READABLE_P`` too: the readability
rule of every evaluation (``quality.metrics.readable``), which the demo's first base seed uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from torch import nn

from ..gan.model import generate, seeded_z
from ..quality.classifier import predict
from ..quality.metrics import READABLE_P, readable

BATCH = 256  # seeds looked at per G + referee pass
MAX_DRAWS = 20_000  # seeds looked at, at most, before giving up (a rare digit of a poor generator)


class Reader(Protocol):
    """What reads the digits: ``quality.referee.Referee`` (any object with its ``probabilities``)."""

    def probabilities(self, images: torch.Tensor | np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class ReadableLatents:
    """The latents found, in seed order: ``z[i] == seeded_z(seeds[i], z_dim)[0]``."""

    z: np.ndarray = field(repr=False)  # float32 (k, z_dim)
    seeds: np.ndarray  # int64 (k,)
    digits: np.ndarray  # int64 (k,): the digit the referee reads
    referee_p: np.ndarray  # float64 (k,): its probability of that digit (>= READABLE_P)
    drawn: int  # seeds looked at (k < count when MAX_DRAWS ran out first)

    def __len__(self) -> int:
        return len(self.seeds)


def readable_latents(generator: nn.Module, referee: Reader, z_dim: int, digit: int | None = None, count: int = 1,
                     *, seed: int = 0, judge_net: nn.Module | None = None, batch: int = BATCH,
                     max_draws: int = MAX_DRAWS) -> ReadableLatents:
    """The first ``count`` seeds from ``seed`` on whose digit the referee reads as ``digit`` (any digit when
    None) with p >= READABLE_P, the judge agreeing when ``judge_net`` is given; see the module. Fewer than
    ``count`` when ``max_draws`` seeds hold no more."""
    if digit is not None and not 0 <= digit <= 9:
        raise ValueError(f"digit must be 0-9 or None, got {digit}")
    found = [(np.zeros((0, z_dim), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))]
    drawn = kept = 0
    while kept < count and drawn < max_draws:
        seeds = np.arange(seed + drawn, seed + drawn + min(batch, max_draws - drawn))
        z = torch.cat([seeded_z(int(s), z_dim) for s in seeds])
        images = generate(generator, z)
        probs = referee.probabilities(images)
        reads, p = probs.argmax(1), probs.max(1)
        ok = p >= READABLE_P
        if judge_net is not None:
            ok &= readable(predict(judge_net, images)[1], probs)
        if digit is not None:
            ok &= reads == digit
        take = np.flatnonzero(ok)[:count - kept]
        found.append((z.numpy()[take], seeds[take], reads[take], p[take]))
        drawn, kept = drawn + len(seeds), kept + len(take)
    z_all, seeds_all, digits_all, p_all = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return ReadableLatents(z_all.astype(np.float32), seeds_all.astype(np.int64), digits_all.astype(np.int64),
                           p_all.astype(np.float64), drawn)
