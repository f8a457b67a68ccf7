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

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..atomic import atomic_write
from ..data import HOLD_OUT_EVERY, TrainingData, stride_split
from ..records import UNREADABLE, load_tagged

REFEREE_FORMAT = "gan_core.referee"
REFEREE_VERSION = 2  # 2: 3,000 training steps (was 800)
REFEREE_SEED = 98_765  # not the judge's seed
TRAIN_STEPS = 3000
BATCH = 64
CHUNK = 200  # images per forward pass, as the judge (judge_net.CHUNK)
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
        x = torch.as_tensor(np.asarray(images, dtype=np.float32)).reshape(len(images), -1)
        self.net.eval()
        out = [torch.softmax(self.net(x[s:s + CHUNK]), 1).double().numpy() for s in range(0, len(x), CHUNK)]
        return np.concatenate(out) if out else np.zeros((0, 10))


def new_referee(gen: torch.Generator | None = None) -> RefereeNet:
    """A RefereeNet built without touching the global RNG: on the meta device, then torch's default init
    (the same draws as ``torch.manual_seed(s); RefereeNet()`` when ``gen`` is seeded with s), or zeros for
    weights about to be loaded. The global RNG is shared by every thread: a referee prepared beside a
    training run must not draw from it, or the run no longer continues bit for bit."""
    with torch.device("meta"):
        net = RefereeNet()
    net = net.to_empty(device="cpu")
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                bound = 1 / math.sqrt(module.weight[0].numel())
                if gen is None:
                    module.weight.zero_()
                    module.bias.zero_()
                else:
                    nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=gen)
                    nn.init.uniform_(module.bias, -bound, bound, generator=gen)
    return net


def train_referee(images: torch.Tensor, labels: torch.Tensor, *, steps: int = TRAIN_STEPS,
                  seed: int = REFEREE_SEED) -> RefereeNet:
    """A RefereeNet trained with Adam on random 2-pixel shifts of (images, labels). Every draw comes from
    private generators seeded with ``seed``, none from the global RNG."""
    gen = torch.Generator().manual_seed(seed)
    net = new_referee(torch.Generator().manual_seed(seed))
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
    """The referee of ``data`` (trained on its training split, like the judge): cached, bundled, or trained
    now (and cached when ``cache_dir`` is given)."""
    images, labels, held_images, held_labels = splits(data)
    key = data_key(data, steps)
    path = referee_path(cache_dir, dataset, key) if cache_dir is not None else None
    net = _load_cached(path, key)
    if net is None:
        net = _load_cached(BUNDLED, key)
    cached = net is not None
    if net is None:
        net = train_referee(images, labels, steps=steps)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda handle: torch.save(referee_record(net, key), handle))
    referee = Referee(net, float("nan"), cached, path)
    if len(held_images):
        referee.held_out_accuracy = float((referee.probabilities(held_images).argmax(1)
                                           == held_labels.numpy()).mean())
    return referee


def referee_record(net: RefereeNet, key: str) -> dict:
    """What the cache and the bundled file hold: the weights and the data key they were trained for."""
    return {"format": REFEREE_FORMAT, "version": REFEREE_VERSION, "key": key, "state": net.state_dict()}


def splits(data: TrainingData) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, labels, held-out images, labels): the data's own held-out split, or for data built by
    hand (tests) every ``HOLD_OUT_EVERY``-th image, as the judge does."""
    images, labels = data.images.detach().float().cpu(), data.labels.detach().long().cpu()
    if data.held_images is not None and data.held_labels is not None:
        return images, labels, data.held_images.float().cpu(), data.held_labels.long().cpu()
    train, held = stride_split(len(images), HOLD_OUT_EVERY)
    return images[train], labels[train], images[held], labels[held]


def _load_cached(path: Path | None, key: str) -> RefereeNet | None:
    record = load_tagged(path, REFEREE_FORMAT, key=key, version=REFEREE_VERSION)
    if record is None:
        return None
    net = new_referee()
    try:
        net.load_state_dict(record["state"])
    except UNREADABLE:
        return None
    return net.eval()
