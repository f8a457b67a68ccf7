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
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..atomic import atomic_write
from ..records import load_tagged

FEATURES = 128  # size of the penultimate layer, the space the FID is measured in
BATCH = 64
TRAIN_STEPS = 800  # optimiser steps, whatever the data size (epochs = steps / batches per epoch)
MAX_EPOCHS = 20
DROPOUT = 0.3
CHUNK = 200  # images per forward pass when scoring: 1.4-2x faster than 1,000 on a 2-core CPU (cache-sized)
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
    """A JudgeNet built without touching the global RNG: on the meta device, then filled with torch's
    default init (uniform within 1/sqrt(fan_in)) from ``gen``, or zeros (weights about to be loaded)."""
    with torch.device("meta"):
        net = JudgeNet()
    net = net.to_empty(device="cpu")
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                for param in (module.weight, module.bias):
                    if gen is None:
                        param.zero_()
                    else:
                        param.uniform_(-fan_in ** -0.5, fan_in ** -0.5, generator=gen)
    return net


def _shift(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random translations by up to 2 pixels (cheap augmentation for small training sets)."""
    x = images.reshape(-1, 1, 28, 28)
    padded = F.pad(x, (2, 2, 2, 2))
    dx, dy = (int(v) for v in torch.randint(0, 5, (2,), generator=gen))
    return padded[:, :, dy:dy + 28, dx:dx + 28].reshape(len(images), -1)


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
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    n = len(images)
    batch = min(BATCH, n)
    per_epoch = max(n // batch, 1)
    epochs = max(1, min(MAX_EPOCHS, -(-steps // per_epoch)))
    total = epochs * per_epoch
    done, perm = 0, None
    saved = _load_partial(partial, key) if partial is not None else None
    if saved is not None:
        net.load_state_dict(saved["net"])
        optimiser.load_state_dict(saved["optimiser"])
        gen.set_state(saved["generator"])
        done, perm = int(saved["done"]), saved["perm"]

    def save() -> None:
        if partial is not None:
            record = {"format": PARTIAL_FORMAT, "key": key, "done": done, "perm": perm, "net": net.state_dict(),
                      "optimiser": optimiser.state_dict(), "generator": gen.get_state()}
            atomic_write(partial, lambda handle: torch.save(record, handle))

    net.train()
    while done < total:
        epoch, b = divmod(done, per_epoch)
        if b == 0:
            perm = torch.randperm(n, generator=gen)
        for group in optimiser.param_groups:
            group["lr"] = 1e-3 if epoch < epochs * 2 // 3 else 3e-4
        idx = perm[b * batch:(b + 1) * batch]  # type: ignore[index]
        features = net.features(_shift(images[idx], gen))
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


def _load_partial(path: Path, key: str) -> dict[str, Any] | None:
    return load_tagged(path, PARTIAL_FORMAT, key=key)


@torch.no_grad()
def predict(net: JudgeNet, images: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(features (n, 128), softmax probabilities (n, 10)) as float64 numpy, in chunks, eval mode."""
    images = torch.as_tensor(np.asarray(images, dtype=np.float32)) if not isinstance(images, torch.Tensor) \
        else images.detach().float().cpu()
    images = images.reshape(len(images), -1)
    feats, probs = [], []
    for start in range(0, len(images), CHUNK):
        f = net.features(images[start:start + CHUNK])
        feats.append(f.double().numpy())
        probs.append(torch.softmax(net.head(f), dim=1).double().numpy())
    if not feats:
        return np.zeros((0, FEATURES)), np.zeros((0, 10))
    return np.concatenate(feats), np.concatenate(probs)


def weights_id(net: nn.Module) -> str:
    """A short hash of the weights: the judge's identity, recorded with every metrics row."""
    digest = hashlib.sha256()
    for name, tensor in sorted(net.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def remove(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
