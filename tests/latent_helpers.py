"""Small, exactly known models for the latent-lab tests (no training needed)."""

from __future__ import annotations

import torch
from torch import nn

from gan_core.gan.model import Generator, init_weights

from helpers import tiny_config


def random_generator(seed: int = 0, z_dim: int = 100) -> Generator:
    """An untrained generator in eval mode (deterministic per seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = Generator(tiny_config(z_dim=z_dim))
        init_weights(generator, 0.2)  # larger than the seed's 0.02, so images vary visibly with z
    return generator.eval()


class LinearJudge(nn.Module):
    """Logits = features @ head, features = images @ W: a classifier with a known, smooth gradient."""

    def __init__(self, seed: int = 0, width: int = 16) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.proj = nn.Parameter(torch.randn(784, width, generator=gen) * 0.2)
        self.out = nn.Parameter(torch.randn(width, 10, generator=gen))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return images.reshape(len(images), -1) @ self.proj

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.features(images) @ self.out
