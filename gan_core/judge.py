"""The judge: a small CNN classifier of the real training images, used to score generated ones.

It is trained on the real images of the selected dataset only (never on generated ones), with every
``HOLD_OUT_EVERY``-th image held out (a stride split: the offline digits are sorted by label, a slice
would hold out only 9s). The held-out images serve twice: for the judge's accuracy, and as the real
reference of the FID, split again by stride into two disjoint halves (reference, and the real sample
of the real-vs-real floor).

The trained judge is cached as ``<cache_dir>/judge-<dataset>-<hash>.pt``; the hash covers the data
tensors and ``JUDGE_VERSION``, so a new dataset or a new recipe retrains it. The cache holds tensors
and plain data only and is read with ``weights_only=True``.

Nothing here draws from the global torch RNG as seen from outside: building and training run inside
``torch.random.fork_rng`` with a fixed seed, so a training run resumed around a judge load continues
bit for bit, and the judge itself is the same on every machine run (CPU).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .atomic import atomic_write
from .data import TrainingData, stride_split
from .metrics import quality_row

log = logging.getLogger(__name__)

JUDGE_DIR = "_judge"  # cache folder under the checkpoints root; never a valid run name
JUDGE_FORMAT = "gan_core.judge"
JUDGE_VERSION = 1  # bump when the architecture or the training recipe changes: the cache is rebuilt
HOLD_OUT_EVERY = 5  # every 5th real image is held out from the judge's training
JUDGE_SEED = 1234
FEATURES = 128  # size of the penultimate layer, the space the FID is measured in
BATCH = 64
TRAIN_STEPS = 800  # optimiser steps, whatever the data size (epochs = steps / batches per epoch)
MAX_EPOCHS = 20
CHUNK = 1000  # images per forward pass when scoring


class JudgeNet(nn.Module):
    """28x28 -> conv16 -> pool -> conv32 -> pool -> 128 features -> 10 logits (small: it scores every epoch)."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.fc = nn.Linear(32 * 7 * 7, FEATURES)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(FEATURES, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        x = (images.reshape(-1, 1, 28, 28) - 0.5) / 0.5
        return F.relu(self.fc(self.conv(x).flatten(1)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(images)))


def data_key(data: TrainingData, steps: int = TRAIN_STEPS) -> str:
    """sha256 of the images and labels (bytes and shapes), the judge version and its training length."""
    digest = hashlib.sha256(f"{JUDGE_FORMAT}:{JUDGE_VERSION}:{HOLD_OUT_EVERY}:{steps}:".encode())
    for tensor in (data.images, data.labels):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def _shift(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random translations by up to 2 pixels (cheap augmentation for small training sets)."""
    x = images.reshape(-1, 1, 28, 28)
    padded = F.pad(x, (2, 2, 2, 2))
    dx, dy = (int(v) for v in torch.randint(0, 5, (2,), generator=gen))
    return padded[:, :, dy:dy + 28, dx:dx + 28].reshape(len(images), -1)


def train_judge(images: torch.Tensor, labels: torch.Tensor, *, steps: int = TRAIN_STEPS,
                seed: int = JUDGE_SEED) -> JudgeNet:
    """A JudgeNet trained on (images, labels) on the CPU; leaves the global RNG as it found it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        net = JudgeNet()
        optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
        n = len(images)
        batch = min(BATCH, n)
        per_epoch = max(n // batch, 1)
        epochs = max(1, min(MAX_EPOCHS, -(-steps // per_epoch)))
        net.train()
        for epoch in range(epochs):
            perm = torch.randperm(n, generator=gen)
            lr = 1e-3 if epoch < epochs * 2 // 3 else 3e-4
            for group in optimiser.param_groups:
                group["lr"] = lr
            for b in range(per_epoch):
                idx = perm[b * batch:(b + 1) * batch]
                x = _shift(images[idx], gen)
                loss = F.cross_entropy(net(x), labels[idx])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
    return net.eval()


@torch.no_grad()
def predict(net: JudgeNet, images: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(features (n, 128), softmax probabilities (n, 10)) as float64 numpy, in chunks, eval mode."""
    images = torch.as_tensor(np.asarray(images, dtype=np.float32)) if not isinstance(images, torch.Tensor) \
        else images.detach().float().cpu()
    images = images.reshape(len(images), -1)
    feats, probs = [], []
    was_training = net.training
    net.eval()
    try:
        for start in range(0, len(images), CHUNK):
            f = net.features(images[start:start + CHUNK])
            feats.append(f.double().numpy())
            probs.append(torch.softmax(net.head(f), dim=1).double().numpy())
    finally:
        net.train(was_training)
    if not feats:
        return np.zeros((0, FEATURES)), np.zeros((0, 10))
    return np.concatenate(feats), np.concatenate(probs)


def accuracy(net: JudgeNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    return _accuracy(predict(net, images)[1], labels)


def _accuracy(probs: np.ndarray, labels: torch.Tensor) -> float:
    if not len(probs):
        return float("nan")
    return float((probs.argmax(axis=1) == labels.cpu().numpy()).mean())


@dataclass
class Judge:
    """A trained judge plus the held-out real features that every FID is measured against."""

    net: JudgeNet
    held_out_accuracy: float
    train_size: int
    held_out_size: int
    reference: np.ndarray  # features of the even held-out images: the FID reference
    floor_real: np.ndarray  # features of the odd held-out images: the real side of the floor
    cached: bool  # True when loaded from the cache file, False when trained just now
    path: Path | None = None

    def describe(self) -> str:
        how = "cached" if self.cached else "trained now"
        return (f"judge CNN: {self.held_out_accuracy:.2%} accuracy on {self.held_out_size:,} held-out real "
                f"images (trained on {self.train_size:,}, {how})")

    def evaluate(self, images: torch.Tensor | np.ndarray) -> dict[str, Any]:
        """The metrics row (see ``metrics.quality_row``) of generated images in [0, 1]."""
        features, probs = predict(self.net, images)
        return quality_row(features, probs, self.reference, self.floor_real)


def _load_cached(path: Path, key: str) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile,
            KeyError) as exc:
        log.warning("ignoring unreadable judge cache %s (%s)", path, type(exc).__name__)
        return None
    if (not isinstance(record, dict) or record.get("format") != JUDGE_FORMAT
            or record.get("version") != JUDGE_VERSION or record.get("key") != key):
        return None
    return record


def judge_path(cache_dir: str | os.PathLike[str], dataset: str, key: str) -> Path:
    return Path(cache_dir) / f"judge-{dataset}-{key[:16]}.pt"


def load_or_train_judge(data: TrainingData, cache_dir: str | os.PathLike[str] | None, dataset: str = "mnist",
                        *, steps: int = TRAIN_STEPS) -> Judge:
    """The judge of ``data``: from the cache when it matches the data, else trained and cached.

    ``cache_dir=None`` trains without caching (tests).
    """
    train_idx, held_idx = stride_split(len(data), HOLD_OUT_EVERY)
    images, labels = data.images.detach().float().cpu(), data.labels.detach().long().cpu()
    key = data_key(data, steps)
    path = judge_path(cache_dir, dataset, key) if cache_dir is not None else None
    record = _load_cached(path, key) if path is not None else None
    cached = record is not None
    if record is not None:
        with torch.random.fork_rng(devices=[]):
            net = JudgeNet()
        try:
            net.load_state_dict(record["state"])
        except (RuntimeError, KeyError, TypeError) as exc:
            log.warning("judge cache %s does not fit the network (%s); retraining", path, exc)
            cached = False
        net.eval()
    if not cached:
        net = train_judge(images[train_idx], labels[train_idx], steps=steps)
    features, probs = predict(net, images[held_idx])  # once: for the accuracy and the FID references
    acc = _accuracy(probs, labels[held_idx])
    if not cached and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"format": JUDGE_FORMAT, "version": JUDGE_VERSION, "key": key, "dataset": dataset,
                  "state": net.state_dict(), "held_out_accuracy": acc, "train_size": int(len(train_idx)),
                  "held_out_size": int(len(held_idx))}
        atomic_write(path, lambda handle: torch.save(record, handle))
    return Judge(net, acc, int(len(train_idx)), int(len(held_idx)), reference=features[0::2],
                 floor_real=features[1::2], cached=cached, path=path)


def eval_noise(n: int, z_dim: int, seed: int = 0) -> torch.Tensor:
    """The fixed evaluation noise: a dedicated generator, so the global RNG is never touched."""
    from .model import seeded_z

    return seeded_z(EVAL_NOISE_SEED + seed, z_dim, n)


EVAL_NOISE_SEED = 20_240_531
