"""The DCGAN pair (Radford et al. 2016), sized for 28x28 digits and for a CPU.

G: z (joined to the label embedding when conditional) -> Linear -> 7x7xWIDE -> BatchNorm, ReLU ->
transposed convolution to 14x14xNARROW -> BatchNorm, ReLU -> transposed convolution to 28x28 -> sigmoid.
D: strided convolutions 28 -> 14 -> 7 with LeakyReLU and no BatchNorm (D judges a real and a fake batch in
one pass, as the MLP's does), then one Linear to the logit. With spectral norm every convolution and the
head are normalised; with PacGAN the ``pack`` images of a pack enter D as channels.

The widths keep a step on one CPU thread within about 3x the MLP's (docs/models.md measures both).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrizations

from ..config import GANConfig
from ..images import IMAGE_SIDE
from .model import Discriminator, Generator
from .spectral import SNLinear

WIDE, NARROW = 64, 32  # channels at 7x7 and at 14x14, in G and in D
QUARTER = IMAGE_SIDE // 4  # 7: the smallest feature map


class ConvGenerator(Generator):
    """z -> 7x7xWIDE -> 14x14xNARROW -> 28x28, BatchNorm and ReLU between, sigmoid at the end."""

    # After the first block's ReLU (the 7x7 map: the directions' default layer), after the second's, the image.
    LAYERS = {"h1": 3, "h2": 6, "image": 9}

    def __init__(self, config: GANConfig) -> None:
        super().__init__(config)
        self.net = nn.Sequential(
            nn.Linear(self.in_features, WIDE * QUARTER * QUARTER), nn.Unflatten(1, (WIDE, QUARTER, QUARTER)),
            nn.BatchNorm2d(WIDE), nn.ReLU(),
            nn.ConvTranspose2d(WIDE, NARROW, 4, stride=2, padding=1), nn.BatchNorm2d(NARROW), nn.ReLU(),
            nn.ConvTranspose2d(NARROW, 1, 4, stride=2, padding=1), nn.Sigmoid(), nn.Flatten())


class ConvDiscriminator(Discriminator):
    """28x28 (x pack channels) -> 14x14xNARROW -> 7x7xWIDE -> logit, LeakyReLU, no BatchNorm."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__(config, WIDE * QUARTER * QUARTER)
        layers: list[nn.Module] = [
            nn.Conv2d(config.pack, NARROW, 4, stride=2, padding=1), nn.LeakyReLU(config.leaky_slope),
            nn.Conv2d(NARROW, WIDE, 4, stride=2, padding=1), nn.LeakyReLU(config.leaky_slope),
            nn.Flatten(), nn.Linear(WIDE * QUARTER * QUARTER, 1)]
        if config.spectral_norm:
            layers = [SNLinear(m) if isinstance(m, nn.Linear) else
                      parametrizations.spectral_norm(m) if isinstance(m, nn.Conv2d) else m for m in layers]
        self.net = nn.Sequential(*layers)

    def shaped(self, images: torch.Tensor) -> torch.Tensor:
        return images.reshape(images.shape[0] // self.pack, self.pack, IMAGE_SIDE, IMAGE_SIDE)
