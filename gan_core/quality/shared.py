"""What the judge and the referee share, each rule written once: the split they learn from and are tested
on, the key of that data, where their weights are cached and how they are read back, the random shifts
they train on, the learning-rate schedule, torch's default init drawn from a private generator, and
scoring in chunks.

What differs between them is on purpose (the referee must not share the judge's blind spots): the
architecture, the seed, the length, the batch sampling (epochs of a permutation vs. random draws) and
what their data key covers; those stay in ``classifier.py``/``judge.py`` and ``referee.py``.

Nothing here draws from the global torch RNG: both are prepared on a thread beside a training run, which
must continue bit for bit.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data import HOLD_OUT_EVERY, DataError, TrainingData, stride_split
from ..records import MISFIT, load_tagged
from .metrics import NUM_CLASSES

log = logging.getLogger(__name__)

CHUNK = 200  # images per forward pass when scoring: 1.4-2x faster than 1,000 on a 2-core CPU (cache-sized)
SHIFT = 2  # training images are moved by up to this many pixels each way
LR, LATE_LR = 1e-3, 3e-4  # Adam's learning rate, and the lower one for the last third of training


def needs_label_free(data: TrainingData) -> bool:
    """True when ``data`` cannot train a classifier of NUM_CLASSES outputs: no labels (a folder of pictures
    without class sub-folders), or more classes than that; ``quality.unlabeled`` measures such data."""
    return not data.labeled or len(data.class_names) > NUM_CLASSES


def labelled_splits(data: TrainingData, what: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``splits(data)`` for a classifier (``what``: judge or referee) to learn from: data without usable
    labels is refused in one line instead of failing deep inside torch on label -1."""
    if needs_label_free(data):
        raise DataError(f"the {what} network needs labelled data with at most {NUM_CLASSES} classes; this "
                        f"dataset has {len(data.class_names) if data.labeled else 'no'} labels (its quality is "
                        f"measured without them: gan_core.quality.unlabeled)")
    return splits(data)


def splits(data: TrainingData) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, labels, held-out images, labels) on the CPU: the data's own held-out split, or for
    data built by hand (tests) every ``HOLD_OUT_EVERY``-th image."""
    images, labels = data.images.detach().float().cpu(), data.labels.detach().long().cpu()
    if data.held_images is not None and data.held_labels is not None:
        return images, labels, data.held_images.detach().float().cpu(), data.held_labels.detach().long().cpu()
    train, held = stride_split(len(images), HOLD_OUT_EVERY)
    return images[train], labels[train], images[held], labels[held]


def data_key(format: str, version: int, steps: int, tensors: Iterable[torch.Tensor]) -> str:
    """sha256 of the classifier's format, version, hold-out stride and training length, then each tensor's
    dtype, shape and bytes: cached weights are valid for exactly this data and recipe."""
    digest = hashlib.sha256(f"{format}:{version}:{HOLD_OUT_EVERY}:{steps}:".encode())
    for tensor in tensors:
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{t.dtype}{tuple(t.shape)}".encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def hash_weights(digest: Any, net: nn.Module) -> None:
    """Feed every weight of ``net`` (name, then bytes, in name order) into ``digest``."""
    for name, tensor in sorted(net.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())


def cache_path(cache_dir: str | os.PathLike[str], name: str, dataset: str, key: str) -> Path:
    """``<cache_dir>/<name>-<dataset>-<first 16 hex digits of the data key>.pt``; a dataset named by a path
    (``folder:/my/digits``) becomes one file name (``folder-my-digits``)."""
    safe = re.sub(r"[^A-Za-z0-9_]+", "-", dataset).strip("-")[:64]
    return Path(cache_dir) / f"{name}-{safe}-{key[:16]}.pt"


def load_first(paths: Sequence[Path | None], format: str, *, key: str, version: int,
               new_net: Callable[[], nn.Module]) -> tuple[nn.Module, int] | None:
    """(network in eval mode, index into ``paths``) of the first file (None skipped) holding a ``format``
    record of this ``version`` and data ``key`` whose weights fit ``new_net()``; None when none does."""
    for index, path in enumerate(paths):
        record = load_tagged(path, format, key=key, version=version)
        if record is None:
            continue
        net = new_net()
        try:
            net.load_state_dict(record["state"])
        except MISFIT as exc:
            log.warning("%s weights %s do not fit the network (%s); ignoring them", format, path, exc)
            continue
        return net.eval(), index
    return None


def build(make: Callable[[], nn.Module], gen: torch.Generator | None) -> nn.Module:
    """``make()`` built without touching the global RNG: on the meta device, then every convolution and
    linear layer filled with torch's default init (the same draws as ``torch.manual_seed(s); make()`` when
    ``gen`` is seeded with s), drawn from ``gen``; or zeros, for weights about to be loaded."""
    with torch.device("meta"):
        net = make()
    net = net.to_empty(device="cpu")
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                if gen is None:
                    module.weight.zero_()
                    module.bias.zero_()
                else:
                    bound = 1 / math.sqrt(module.weight[0].numel())
                    nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=gen)
                    nn.init.uniform_(module.bias, -bound, bound, generator=gen)
    return net


def shifted(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The batch moved by one random translation of up to ``SHIFT`` pixels each way (cheap augmentation
    for small training sets), flat (n, 784) like its input."""
    x = images.reshape(-1, 1, 28, 28)
    padded = F.pad(x, (SHIFT,) * 4)
    dx, dy = (int(v) for v in torch.randint(0, 2 * SHIFT + 1, (2,), generator=gen))
    return padded[:, :, dy:dy + 28, dx:dx + 28].reshape(len(images), -1)


def set_learning_rate(optimiser: torch.optim.Optimizer, done: int, total: int) -> None:
    """``LR`` for the first two thirds of ``total`` (steps or epochs), then ``LATE_LR``."""
    for group in optimiser.param_groups:
        group["lr"] = LR if done < total * 2 // 3 else LATE_LR


def as_images(images: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Images in [0, 1] as a float32 CPU tensor (n, 784), from a tensor or an array of any image shape."""
    x = images.detach().float().cpu() if isinstance(images, torch.Tensor) \
        else torch.as_tensor(np.asarray(images, dtype=np.float32))
    return x.reshape(len(x), -1)


def chunks(images: torch.Tensor, size: int = CHUNK) -> Iterator[torch.Tensor]:
    """``images`` in slices of ``size``: one forward pass each."""
    return (images[start:start + size] for start in range(0, len(images), size))


def accuracy(probs: np.ndarray, labels: torch.Tensor) -> float:
    """Share of rows whose most likely class is the label; NaN for no rows."""
    if not len(probs):
        return float("nan")
    return float((probs.argmax(axis=1) == labels.cpu().numpy()).mean())
