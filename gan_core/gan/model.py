"""The seed tutorial's MLP generator and discriminator.

Differences from the seed, on purpose: D returns logits (the seed applied a sigmoid and then a
with-logits loss, a double sigmoid that caps the losses) and BatchNorm keeps running statistics
so that G in eval mode draws deterministic, batch-independent samples.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GANConfig
from ..images import IMAGE_PIXELS, IMAGE_SIDE  # noqa: F401  (IMAGE_SIDE: re-exported for the networks' users)
from .modes import evaluating
from .spectral import SNLinear

G_HIDDEN = (256, 512, 1024)
D_HIDDEN = (1024, 512, 256)


class Dropout(nn.Module):
    """Inverted dropout, as ``nn.Dropout(1 - keep)``: in training each unit is kept with probability ``keep``
    and scaled by 1 / keep; in eval mode the identity. The mask is one uniform draw per unit compared with
    ``keep``: torch's CPU dropout draws it through ``bernoulli_``, which took about 2.5x as long forward and
    backward at G's shape (bench/profile_step.py, docs/performance.md)."""

    def __init__(self, keep: float) -> None:
        super().__init__()
        self.keep = keep

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.keep >= 1.0:
            return x
        kept = torch.rand(x.shape, device=x.device) < self.keep  # fp32 draws whatever x's dtype (bf16 rounds)
        return x * (kept * (1.0 / self.keep)).to(x.dtype)

    def extra_repr(self) -> str:
        return f"keep={self.keep}"


class Generator(nn.Module):
    """z (z_dim) -> 256 -> 512 -> 1024 -> 784, each hidden layer Linear, LeakyReLU, BatchNorm."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = config.z_dim
        for hidden in G_HIDDEN:
            # The seed's order: activation first, then BatchNorm.
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(config.leaky_slope), nn.BatchNorm1d(hidden)]
            width = hidden
        layers += [Dropout(config.dropout_keep), nn.Linear(width, IMAGE_PIXELS), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)
        self.z_dim = config.z_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Flat images in [0, 1], shape (batch, 784)."""
        return self.net(z)


class Discriminator(nn.Module):
    """784 -> 1024 -> 512 -> 256 -> 1, LeakyReLU, no BatchNorm; returns the logit of "real".

    With ``config.pack`` > 1 (PacGAN) D sees ``pack`` consecutive images concatenated into one input
    (784 * pack wide) and returns one logit per pack: a generator that repeats itself is easier to spot
    in a pack than in a single image. pack = 1 is the seed's D, weight for weight.
    """

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        self.pack = config.pack
        width = IMAGE_PIXELS * config.pack
        for hidden in D_HIDDEN:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(config.leaky_slope)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        if config.spectral_norm:
            # Each weight is divided by its largest singular value (one power iteration per training
            # forward), which bounds how sharply D can react and keeps it from overpowering G.
            layers = [SNLinear(m) if isinstance(m, nn.Linear) else m for m in layers]
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits, shape (batch // pack,); sigmoid(logit) is the probability that an image (pack) is real.
        The batch must be a multiple of ``pack``; pack i holds images i*pack .. i*pack + pack - 1."""
        return self.net(images.reshape(images.shape[0] // self.pack, IMAGE_PIXELS * self.pack)).squeeze(1)


def init_weights(module: nn.Module, std: float) -> None:
    """Seed init: weights and biases truncated-normal(std) cut at 2 std; BatchNorm scale 1, offset 0."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, SNLinear)):
            # A spectrally normalised weight is computed from the stored ``original``: initialise that.
            weight = m.parametrizations.weight.original if isinstance(m, SNLinear) else m.weight
            nn.init.trunc_normal_(weight, std=std, a=-2 * std, b=2 * std)
            nn.init.trunc_normal_(m.bias, std=std, a=-2 * std, b=2 * std)
        elif isinstance(m, nn.BatchNorm1d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def build_models(config: GANConfig, device: torch.device | str = "cpu") -> tuple[Generator, Discriminator]:
    """Freshly initialised (G, D) on ``device``; draws from the global torch RNG, so seed first."""
    generator, discriminator = Generator(config), Discriminator(config)
    init_weights(generator, config.init_std)
    init_weights(discriminator, config.init_std)
    return generator.to(device), discriminator.to(device)


GENERATE_CHUNK = 1000  # latents per forward pass: bounds memory for large batches


def generate(generator: Generator, z: torch.Tensor) -> torch.Tensor:
    """Images (n, 28, 28) in [0, 1], float32 on the CPU, from ``generator`` in eval mode (running BatchNorm
    statistics, no dropout: an image never depends on its batch-mates). The one way every view, metric
    and command turns latents into digits; restores the generator's mode afterwards."""
    device = next(generator.parameters()).device
    with evaluating(generator), torch.no_grad():
        out = [generator(z[s:s + GENERATE_CHUNK].to(device, torch.float32)).float().cpu()
               for s in range(0, len(z), GENERATE_CHUNK)]
    images = torch.cat(out) if out else torch.zeros(0, IMAGE_PIXELS)
    return images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def seeded_z(seed: int, z_dim: int, n: int = 1) -> torch.Tensor:
    """``n`` latents drawn from the prior with a private generator seeded by ``seed``; shape (n, z_dim).
    The global RNG is untouched, so sampling never disturbs a run's bit-exact resume."""
    return sample_z(n, z_dim, generator=torch.Generator().manual_seed(int(seed)))


def sample_z(n: int, z_dim: int, *, device: torch.device | str = "cpu",
             generator: torch.Generator | None = None) -> torch.Tensor:
    """n latent vectors from the seed's prior, Uniform[-1, 1]^z_dim."""
    return torch.rand(n, z_dim, device=device, generator=generator) * 2.0 - 1.0
