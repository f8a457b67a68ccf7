"""Differentiable augmentation of everything D sees (DiffAugment, Zhao et al. 2020, "Differentiable
Augmentation for Data-Efficient GAN Training").

With few training images, D memorises them and its verdicts stop teaching G anything. DiffAugment
transforms every image D judges, real and fake alike, in the D step and in the G step, with operations
that gradients pass through, so G still learns from D's verdict on its augmented fakes. Two of the
paper's three policies fit grey 28x28 digits (colour does not):

* translation: shift each image by up to 1/8 of its side (3 pixels) in each direction, zeros filling in;
* cutout: zero one square of half the side (14x14) at a random place in each image.

Offsets are drawn per image from the global torch RNG (checkpointed: a continued run draws the same).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import AUGMENTS

SIDE = 28
SHIFT = 3  # pixels: the paper's 1/8 of the side (3.5 here), rounded down
CUTOUT_RATIO = 0.5  # the paper's: a square of half the side


def augment(images: torch.Tensor, policy: str) -> torch.Tensor:
    """``images`` (n, 784) or (n, 28, 28) under ``policy`` (one of config.AUGMENTS), same shape; "off" returns
    them unchanged."""
    if policy not in AUGMENTS:
        raise ValueError(f"unknown augmentation {policy!r}; one of {', '.join(AUGMENTS)}")
    if policy == "off":
        return images
    x = images.reshape(-1, SIDE, SIDE)
    if "translation" in policy:
        x = translate(x)
    if "cutout" in policy:
        x = cutout(x)
    return x.reshape(images.shape)


def translate(x: torch.Tensor, s: int = SHIFT) -> torch.Tensor:
    """Each image of ``x`` (n, 28, 28) shifted by its own whole-pixel offset in [-s, s]^2; what moves in is
    zero. Gather-based, so the gradient flows back to the kept pixels."""
    n = x.shape[0]
    shift = torch.randint(-s, s + 1, (2, n, 1, 1), device=x.device)
    grid = torch.arange(SIDE, device=x.device)
    rows = (grid.view(1, SIDE, 1) + shift[0] + s).expand(n, SIDE, SIDE)
    cols = (grid.view(1, 1, SIDE) + shift[1] + s).expand(n, SIDE, SIDE)
    padded = F.pad(x, (s, s, s, s))
    return padded[torch.arange(n, device=x.device).view(n, 1, 1), rows, cols]


def cutout(x: torch.Tensor, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """Each image of ``x`` (n, 28, 28) with one (ratio * 28)-pixel square set to zero, its centre anywhere
    in the image (the square may reach past an edge, as in the paper)."""
    n, size = x.shape[0], int(SIDE * ratio + 0.5)
    centre = torch.randint(0, SIDE + (1 - size % 2), (2, n, 1, 1), device=x.device)
    start = centre - size // 2
    grid = torch.arange(SIDE, device=x.device)
    rows, cols = grid.view(1, SIDE, 1) - start[0], grid.view(1, 1, SIDE) - start[1]
    inside = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
    return x * ~inside
