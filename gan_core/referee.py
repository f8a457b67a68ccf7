"""The referee: a second digit classifier that scores latent edits and never steers them.

"Toward 7" climbs the judge's log-probability of class 7, so the judge's own verdict on the result
proves little (an edit could find the judge's blind spots). The referee is trained on the same real
training images as the judge but with another architecture (wider 5x5 convolutions, average pooling,
no dropout) and another seed; an edit counts only when the referee agrees.

Cached next to the judge as ``<cache_dir>/referee-<dataset>-<hash>.pt``, read with ``weights_only=True``.
"""

from __future__ import annotations

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
from .data import TrainingData, stride_split
from .judge import HOLD_OUT_EVERY, TRAIN_STEPS, data_key, predict, train_judge

REFEREE_FORMAT = "gan_core.referee"
REFEREE_VERSION = 1
REFEREE_SEED = 98_765  # not the judge's seed
log = logging.getLogger(__name__)


class RefereeNet(nn.Module):
    """28x28 -> conv24 5x5 -> avgpool -> conv48 5x5 -> avgpool -> 96 features -> 10 logits."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 24, 5, padding=2), nn.ELU(), nn.AvgPool2d(2),
            nn.Conv2d(24, 48, 5, padding=2), nn.ELU(), nn.AvgPool2d(2),
        )
        self.fc = nn.Linear(48 * 7 * 7, 96)
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

    def probabilities(self, images: torch.Tensor | np.ndarray) -> np.ndarray:
        """Softmax probabilities (n, 10) of images in [0, 1]."""
        return predict(self.net, images)[1]


def referee_path(cache_dir: str | os.PathLike[str], dataset: str, key: str) -> Path:
    return Path(cache_dir) / f"referee-{dataset}-{key[:16]}.pt"


def load_or_train_referee(data: TrainingData, cache_dir: str | os.PathLike[str] | None, dataset: str = "mnist",
                          *, steps: int = TRAIN_STEPS) -> Referee:
    """The referee of ``data`` (trained on the judge's training split), from the cache or trained now."""
    train_idx, held_idx = stride_split(len(data), HOLD_OUT_EVERY)
    images, labels = data.images.detach().float().cpu(), data.labels.detach().long().cpu()
    key = f"{REFEREE_VERSION}:{data_key(data, steps)}"
    path = referee_path(cache_dir, dataset, data_key(data, steps)) if cache_dir is not None else None
    net = _load_cached(path, key) if path is not None else None
    cached = net is not None
    if net is None:
        net = train_judge(images[train_idx], labels[train_idx], steps=steps, seed=REFEREE_SEED,
                          make_net=RefereeNet)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            record = {"format": REFEREE_FORMAT, "version": REFEREE_VERSION, "key": key,
                      "state": net.state_dict()}
            atomic_write(path, lambda handle: torch.save(record, handle))
    probs = predict(net, images[held_idx])[1]
    accuracy = float((probs.argmax(1) == labels[held_idx].numpy()).mean()) if len(probs) else float("nan")
    return Referee(net.eval(), accuracy, cached, path)


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
