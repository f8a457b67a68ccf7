"""Figure 2: the common-way peer loop, frozen here, on the same digits as the default run.

A DataLoader over torchvision's MNIST with a per-image ToTensor, separate D passes on real and fake,
sigmoid + BCELoss and a loss read back every step: how a tutorial trains the seed's networks. Written
with plain torch layers, so gan_core's own layers never speed up the peer.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bench.common import BATCH, seconds_per_call
from gan_core.data import TrainingData, idx_bytes
from gan_core.gan.model import D_HIDDEN, G_HIDDEN, IMAGE_PIXELS, sample_z


def write_torchvision_mnist(data: TrainingData, root: Path) -> None:
    """The same digits as torchvision's MNIST folder layout, so the baseline reads them its usual way."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    pixels = (data.images.numpy() * 255).round().astype(np.uint8).reshape(-1, 28, 28)
    labels = data.labels.numpy().astype(np.uint8)
    for split in ("train", "t10k"):  # torchvision insists on both splits; only train is read
        for name, array in ((f"{split}-images-idx3-ubyte", pixels), (f"{split}-labels-idx1-ubyte", labels)):
            (raw / name).write_bytes(idx_bytes(array))


def peer_models(device: torch.device) -> tuple[nn.Module, nn.Module]:
    """The seed's G and D written the common way (nn.Sequential, nn.Dropout, a sigmoid at D's end for
    BCELoss), default init: frozen here, so gan_core's own layers never speed up the peer."""
    torch.manual_seed(0)
    g_layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise([100, *G_HIDDEN]):
        g_layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(0.2), nn.BatchNorm1d(fan_out)]
    G = nn.Sequential(*g_layers, nn.Dropout(0.5), nn.Linear(G_HIDDEN[-1], IMAGE_PIXELS), nn.Sigmoid())
    d_layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise([IMAGE_PIXELS, *D_HIDDEN]):
        d_layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(0.2)]
    D = nn.Sequential(*d_layers, nn.Linear(D_HIDDEN[-1], 1), nn.Flatten(0), nn.Sigmoid())
    return G.to(device), D.to(device)


def baseline_rate(root: Path, steps: int, warmup: int, device: torch.device) -> float:
    """Images/s of the peer loop over the MNIST folder under ``root`` (``write_torchvision_mnist``)."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    dataset = datasets.MNIST(str(root), train=True, download=False, transform=transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True)
    batches = (real for _ in itertools.count() for real, _ in loader)  # epoch after epoch, reshuffled
    G, D = peer_models(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.1, 0.999))
    bce = nn.BCELoss()
    ones, zeros = torch.ones(BATCH, device=device), torch.zeros(BATCH, device=device)

    def step() -> None:
        real = next(batches).to(device).view(BATCH, -1)
        opt_d.zero_grad()
        fake = G(sample_z(BATCH, 100, device=device))
        d_loss = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        g_loss = bce(D(G(sample_z(BATCH, 100, device=device))), ones)
        g_loss.backward()
        opt_g.step()
        _ = d_loss.item(), g_loss.item()  # logged every step, as tutorials do

    return BATCH / seconds_per_call(step, steps, warmup, device)
