"""The referee: a second digit classifier that scores latent edits and never steers them.

"Toward 7" climbs the judge's log-probability of class 7, so the judge's own verdict on the result
proves little (an edit could find the judge's blind spots). The referee is trained on the same real
training images as the judge but with another architecture (5x5 convolutions, ELU, average pooling,
no dropout) and another seed; an edit counts only when the referee agrees.

Cached next to the judge as ``<cache_dir>/referee-<dataset>-<hash>.pt``, read with ``weights_only=True``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .atomic import atomic_write
from .data import HOLD_OUT_EVERY, TrainingData, stride_split

REFEREE_FORMAT = "gan_core.referee"
REFEREE_VERSION = 1
REFEREE_SEED = 98_765  # not the judge's seed
TRAIN_STEPS = 800
BATCH = 64
CHUNK = 1000
log = logging.getLogger(__name__)


class RefereeNet(nn.Module):
    """28x28 -> conv12 5x5 -> avgpool -> conv24 5x5 -> avgpool -> 96 features -> 10 logits."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 12, 5, padding=2), nn.ELU(), nn.AvgPool2d(2),
            nn.Conv2d(12, 24, 5, padding=2), nn.ELU(), nn.AvgPool2d(2),
        )
        self.fc = nn.Linear(24 * 7 * 7, 96)
        self.head = nn.Linear(96, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return F.elu(self.fc(self.conv(images.reshape(-1, 1, 28, 28)).flatten(1)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


@dataclass
class Referee:
    net: RefereeNet
    held_out_accuracy: float
    cached: bool
    path: Path | None = None

    @torch.no_grad()
    def probabilities(self, images: torch.Tensor | np.ndarray) -> np.ndarray:
        """Softmax probabilities (n, 10) of images in [0, 1], in chunks."""
        x = torch.as_tensor(np.asarray(images, dtype=np.float32)).reshape(len(images), -1)
        self.net.eval()
        out = [torch.softmax(self.net(x[s:s + CHUNK]), 1).double().numpy() for s in range(0, len(x), CHUNK)]
        return np.concatenate(out) if out else np.zeros((0, 10))


def train_referee(images: torch.Tensor, labels: torch.Tensor, *, steps: int = TRAIN_STEPS,
                  seed: int = REFEREE_SEED) -> RefereeNet:
    """A RefereeNet trained with Adam on random 2-pixel shifts of (images, labels); the global RNG is
    left as it was (a run resumed around it continues bit for bit)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        net = RefereeNet()
        optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
        batch = min(BATCH, len(images))
        net.train()
        for step in range(steps):
            idx = torch.randint(0, len(images), (batch,), generator=gen)
            x = F.pad(images[idx].reshape(-1, 1, 28, 28), (2, 2, 2, 2))
            dx, dy = (int(v) for v in torch.randint(0, 5, (2,), generator=gen))
            loss = F.cross_entropy(net(x[:, :, dy:dy + 28, dx:dx + 28]), labels[idx])
            for group in optimiser.param_groups:
                group["lr"] = 1e-3 if step < steps * 2 // 3 else 3e-4
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
    return net.eval()


def data_key(data: TrainingData, steps: int) -> str:
    digest = hashlib.sha256(f"{REFEREE_FORMAT}:{REFEREE_VERSION}:{HOLD_OUT_EVERY}:{steps}:".encode())
    for tensor in (data.images, data.labels):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def referee_path(cache_dir: str | os.PathLike[str], dataset: str, key: str) -> Path:
    return Path(cache_dir) / f"referee-{dataset}-{key[:16]}.pt"


def load_or_train_referee(data: TrainingData, cache_dir: str | os.PathLike[str] | None, dataset: str = "mnist",
                          *, steps: int = TRAIN_STEPS) -> Referee:
    """The referee of ``data`` (trained on its training split, like the judge), from the cache or trained now."""
    images, labels, held_images, held_labels = splits(data)
    key = data_key(data, steps)
    path = referee_path(cache_dir, dataset, key) if cache_dir is not None else None
    net = _load_cached(path, key) if path is not None else None
    cached = net is not None
    if net is None:
        net = train_referee(images, labels, steps=steps)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            record = {"format": REFEREE_FORMAT, "version": REFEREE_VERSION, "key": key, "state": net.state_dict()}
            atomic_write(path, lambda handle: torch.save(record, handle))
    referee = Referee(net, float("nan"), cached, path)
    if len(held_images):
        referee.held_out_accuracy = float((referee.probabilities(held_images).argmax(1)
                                           == held_labels.numpy()).mean())
    return referee


def splits(data: TrainingData) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, labels, held-out images, labels): the data's own held-out split, or for data built by
    hand (tests) every ``HOLD_OUT_EVERY``-th image, as the judge does."""
    images, labels = data.images.detach().float().cpu(), data.labels.detach().long().cpu()
    if data.held_images is not None and data.held_labels is not None:
        return images, labels, data.held_images.float().cpu(), data.held_labels.long().cpu()
    train, held = stride_split(len(images), HOLD_OUT_EVERY)
    return images[train], labels[train], images[held], labels[held]


def _load_cached(path: Path, key: str) -> RefereeNet | None:
    if not path.is_file():
        return None
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
        if not (isinstance(record, dict) and record.get("format") == REFEREE_FORMAT
                and record.get("key") == key):
            return None
        with torch.random.fork_rng(devices=[]):
            net = RefereeNet()
        net.load_state_dict(record["state"])
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile,
            KeyError, TypeError) as exc:
        log.warning("ignoring unreadable referee cache %s (%s)", path, type(exc).__name__)
        return None
    return net.eval()
