"""The judge's network and its training: a small CNN classifier of real images, trained on the CPU.

Training draws nothing from the global torch RNG (a private generator seeds the weights, batches,
shifts and dropout masks), so it may run on a thread beside the GAN's loop without changing the GAN's
random streams: a continued run stays bit for bit equal to an uninterrupted one.

Training is resumable: every ``SAVE_EVERY`` steps (and when cancelled) its whole state is written to
a partial file, and a later call with the same file continues from there, to the same weights as an
uninterrupted training. A run stopped while its judge trains keeps the judge's progress.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..records import load_tagged, save_record
from .shared import LR, as_images, build, chunks, hash_weights, set_learning_rate, shifted

FEATURES = 128  # size of the penultimate layer, the space the FID is measured in
BATCH = 64
TRAIN_STEPS = 800  # optimiser steps, whatever the data size (epochs = steps / batches per epoch)
MAX_EPOCHS = 20
DROPOUT = 0.3
JUDGE_SEED = 1234
SAVE_EVERY = 100  # steps between partial saves of an unfinished training
PARTIAL_FORMAT = "gan_core.judge.partial"


class JudgeNet(nn.Module):
    """28x28 -> conv16 -> pool -> conv32 -> pool -> 128 features -> 10 logits (small: it scores every epoch)."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.fc = nn.Linear(32 * 7 * 7, FEATURES)
        self.head = nn.Linear(FEATURES, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        x = (images.reshape(-1, 1, 28, 28) - 0.5) / 0.5
        return F.relu(self.fc(self.conv(x).flatten(1)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits, without dropout: dropout belongs to training (``train_judge``), which draws its masks
        from its own generator."""
        return self.head(self.features(images))


def new_net(gen: torch.Generator | None = None) -> JudgeNet:
    """A JudgeNet with torch's default init drawn from ``gen`` (zeros without), the global RNG untouched
    (``shared.build``)."""
    return build(JudgeNet, gen)  # type: ignore[return-value]


class Cancelled(Exception):
    """Judge training stopped on request; its progress is in the partial file."""


def train_judge(images: torch.Tensor, labels: torch.Tensor, *, steps: int = TRAIN_STEPS,
                seed: int = JUDGE_SEED, partial: Path | None = None, key: str = "",
                progress: Callable[[int, int], None] | None = None,
                cancel: threading.Event | None = None) -> JudgeNet:
    """A JudgeNet trained on (images, labels) on the CPU; the global RNG is never used.

    ``partial`` (with the data's ``key``) makes the training resumable; ``progress(done, total)`` is
    called after every step; a set ``cancel`` event saves the progress and raises ``Cancelled``.
    """
    gen = torch.Generator().manual_seed(seed)
    net = new_net(gen)
    optimiser = torch.optim.Adam(net.parameters(), lr=LR)
    n = len(images)
    batch = min(BATCH, n)
    per_epoch = max(n // batch, 1)
    epochs = max(1, min(MAX_EPOCHS, -(-steps // per_epoch)))
    total = epochs * per_epoch
    done, perm = 0, None
    saved = load_tagged(partial, PARTIAL_FORMAT, key=key)
    if saved is not None:
        net.load_state_dict(saved["net"])
        optimiser.load_state_dict(saved["optimiser"])
        gen.set_state(saved["generator"])
        done, perm = int(saved["done"]), saved["perm"]

    def save() -> None:
        if partial is not None:
            record = {"format": PARTIAL_FORMAT, "key": key, "done": done, "perm": perm, "net": net.state_dict(),
                      "optimiser": optimiser.state_dict(), "generator": gen.get_state()}
            save_record(partial, record)

    net.train()
    while done < total:
        epoch, b = divmod(done, per_epoch)
        if b == 0:
            perm = torch.randperm(n, generator=gen)
        set_learning_rate(optimiser, epoch, epochs)
        idx = perm[b * batch:(b + 1) * batch]  # type: ignore[index]
        features = net.features(shifted(images[idx], gen))
        keep = (torch.rand(features.shape, generator=gen) >= DROPOUT).to(features.dtype) / (1 - DROPOUT)
        loss = F.cross_entropy(net.head(features * keep), labels[idx])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        done += 1
        if progress is not None:
            progress(done, total)
        if done < total and (done % SAVE_EVERY == 0 or (cancel is not None and cancel.is_set())):
            save()
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"judge training stopped at step {done}/{total}; its progress is saved")
    return net.eval()


@torch.no_grad()
def predict(net: JudgeNet, images: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(features (n, 128), softmax probabilities (n, 10)) as float64 numpy, in chunks (``forward`` has no
    dropout, so this is eval mode whatever ``net.training`` says)."""
    feats, probs = [], []
    for chunk in chunks(as_images(images)):
        f = net.features(chunk)
        feats.append(f.double().numpy())
        probs.append(torch.softmax(net.head(f), dim=1).double().numpy())
    if not feats:
        return np.zeros((0, FEATURES)), np.zeros((0, 10))
    return np.concatenate(feats), np.concatenate(probs)


def weights_id(net: nn.Module) -> str:
    """A short hash of the weights: the judge's identity, recorded with every metrics row."""
    digest = hashlib.sha256()
    hash_weights(digest, net)
    return digest.hexdigest()[:12]


def remove(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
