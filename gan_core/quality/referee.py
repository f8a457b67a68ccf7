"""The referee: a second digit classifier that scores latent edits and never steers them.

"Toward 7" climbs the judge's log-probability of class 7, so the judge's own verdict on the result
proves little (an edit could find the judge's blind spots). The referee is trained on the same real
training images as the judge but with another architecture (5x5 convolutions, ELU, average pooling,
no dropout) and another seed; an edit counts only when the referee agrees.

It is also the judge's second opinion in every evaluation: a generated digit counts as readable when
both read it as the same digit with p >= 0.9 (``metrics.readability_row``). 3,000 steps: 97.7% on the
1,000 held-out offline digits, and 90% of those digits are read by both with p >= 0.9 (800 steps gave
96.7% and 85%).

Cached next to the judge as ``<cache_dir>/referee-<dataset>-<hash>.pt``, read with ``weights_only=True``;
the bundled offline digits' referee ships with the package (``BUNDLED``, made by
``python -m tools.make_bundled_judge``), so a fresh offline install trains none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data import TrainingData
from ..records import save_record
from . import shared
from .shared import (
    LR,
    as_images,
    build,
    cache_path,
    chunks,
    load_first,
    set_learning_rate,
    shifted,
    splits,  # noqa: F401 (imported from here by ganlab.state.models and bench.latent)
)

REFEREE_FORMAT = "gan_core.referee"
REFEREE_VERSION = 2  # 2: 3,000 training steps (was 800)
REFEREE_SEED = 98_765  # not the judge's seed
TRAIN_STEPS = 3000
BATCH = 64
BUNDLED = Path(__file__).parents[1] / "assets" / "referee-mnist-bundled-5k.pt"


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
        self.net.eval()
        out = [torch.softmax(self.net(chunk), 1).double().numpy() for chunk in chunks(as_images(images))]
        return np.concatenate(out) if out else np.zeros((0, 10))


def new_referee(gen: torch.Generator | None = None) -> RefereeNet:
    """A RefereeNet with torch's default init drawn from ``gen`` (zeros without; ``shared.build``). The
    global RNG is shared by every thread: a referee prepared beside a training run must not draw from it,
    or the run no longer continues bit for bit."""
    return build(RefereeNet, gen)  # type: ignore[return-value]


def train_referee(images: torch.Tensor, labels: torch.Tensor, *, steps: int = TRAIN_STEPS,
                  seed: int = REFEREE_SEED) -> RefereeNet:
    """A RefereeNet trained with Adam on random 2-pixel shifts of (images, labels). Every draw comes from
    private generators seeded with ``seed``, none from the global RNG."""
    gen = torch.Generator().manual_seed(seed)
    net = new_referee(torch.Generator().manual_seed(seed))
    optimiser = torch.optim.Adam(net.parameters(), lr=LR)
    batch = min(BATCH, len(images))
    net.train()
    for step in range(steps):
        idx = torch.randint(0, len(images), (batch,), generator=gen)
        loss = F.cross_entropy(net(shifted(images[idx], gen)), labels[idx])
        set_learning_rate(optimiser, step, steps)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return net.eval()


def data_key(data: TrainingData, steps: int) -> str:
    """The referee's cache key (``shared.data_key``) over the data's training images and labels as given
    (unlike the judge's, not over the held-out split: the bundled referee's key was made so)."""
    return shared.data_key(REFEREE_FORMAT, REFEREE_VERSION, steps, (data.images, data.labels))


def referee_path(cache_dir: str | os.PathLike[str], dataset: str, key: str) -> Path:
    return cache_path(cache_dir, "referee", dataset, key)


def load_or_train_referee(data: TrainingData, cache_dir: str | os.PathLike[str] | None, dataset: str = "mnist",
                          *, steps: int = TRAIN_STEPS) -> Referee:
    """The referee of ``data`` (trained on its training split, like the judge): cached, bundled, or trained
    now (and cached when ``cache_dir`` is given)."""
    images, labels, held_images, held_labels = shared.labelled_splits(data, "referee")
    key = data_key(data, steps)
    path = referee_path(cache_dir, dataset, key) if cache_dir is not None else None
    found = load_first((path, BUNDLED), REFEREE_FORMAT, key=key, version=REFEREE_VERSION, new_net=new_referee)
    if found is not None:
        net = found[0]
    else:
        net = train_referee(images, labels, steps=steps)
        if path is not None:
            save_record(path, referee_record(net, key))
    referee = Referee(net, float("nan"), found is not None, path)  # type: ignore[arg-type]
    referee.held_out_accuracy = shared.accuracy(referee.probabilities(held_images), held_labels)
    return referee


def referee_record(net: RefereeNet, key: str) -> dict:
    """What the cache and the bundled file hold: the weights and the data key they were trained for."""
    return {"format": REFEREE_FORMAT, "version": REFEREE_VERSION, "key": key, "state": net.state_dict()}
