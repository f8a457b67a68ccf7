"""The judge: a small CNN classifier of real images, used to score generated ones.

It is trained on the training split of the selected dataset only (never on generated images), and the
held-out split (``TrainingData.held_out``: real images the GAN never trains on either) serves twice: for
the judge's accuracy, and, all of it, as the real reference of every FID. The real-vs-real floor is the
FID of as many training digits as there are generated samples against that same reference.

Where the judge comes from, first found wins:
  1. the cache ``<cache_dir>/judge-<dataset>-<hash>.pt``; the hash covers the data tensors and
     ``JUDGE_VERSION``, so a new dataset or a new recipe retrains it;
  2. the weights shipped with the package for the bundled offline digits (``BUNDLED``, trained by
     ``python -m tools.make_bundled_judge``), so a fresh offline install trains no judge;
  3. training (``judge_net.train_judge``), resumable through a partial file beside the cache.
Both files hold tensors and plain data only and are read with ``weights_only=True``.

Nothing here draws from the global torch RNG, so the judge may be prepared on a thread beside a
training run and the run still continues bit for bit.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import TrainingData, evenly_spaced
from ..records import save_record
from . import shared
from .classifier import FEATURES, TRAIN_STEPS, JudgeNet, new_net, predict, remove, train_judge, weights_id
from .metrics import NUM_CLASSES, asked_row, quality_row, readability_row, readable
from .real_side import RealSide
from .referee import Referee, load_or_train_referee
from .shared import cache_path, labelled_splits, load_first, splits

__all__ = ["BUNDLED", "FEATURES", "JUDGE_DIR", "Judge", "JudgeNet", "accuracy", "data_key", "eval_noise",
           "judge_path", "load_or_train_judge", "predict", "train_judge"]

JUDGE_DIR = "_judge"  # cache folder under the checkpoints root; never a valid run name
JUDGE_FORMAT = "gan_core.judge"
# Bump when the architecture or the training recipe changes: caches are rebuilt, and the bundled
# weights must be made again (tests check they match). 2: dropout masks from the judge's own generator,
# trained on the training split only.
JUDGE_VERSION = 2
BUNDLED = Path(__file__).parents[1] / "assets" / "judge-mnist-bundled-5k.pt"
FLOOR_IMAGES = 10_000  # training digits scored for the real-vs-real floor: FID samples of up to this many


def data_key(data: TrainingData, steps: int = TRAIN_STEPS) -> str:
    """The judge's cache key: both splits' images and labels (bytes and shapes), the judge version and its
    training length (``shared.data_key``)."""
    return shared.data_key(JUDGE_FORMAT, JUDGE_VERSION, steps, splits(data))


def accuracy(net: JudgeNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    return shared.accuracy(predict(net, images)[1], labels)


@dataclass
class Judge:
    """A trained judge plus the held-out real features that every FID is measured against."""

    net: JudgeNet
    held_out_accuracy: float
    train_size: int
    held_out_size: int
    reference: np.ndarray  # features of every held-out image: the FID reference
    floor_real: np.ndarray  # features of the training images: the real side of the real-vs-real floor
    cached: bool  # True when loaded (cache or bundled weights), False when trained just now
    path: Path | None = None
    origin: str = ""  # "cached", "bundled" or "trained now"
    identity: str = ""  # hash of the weights (judge_net.weights_id), recorded with every metrics row
    classes: int = NUM_CLASSES  # the data's classes (a folder may have fewer than the net's NUM_CLASSES outputs)
    # The second opinion of the readability figures (None: the rows carry no readability), and the share of
    # held-out real digits that both networks read alike with p >= 0.9: what a perfect generator would score.
    referee: Referee | None = None
    readable_real: float | None = None
    real: RealSide = field(init=False, repr=False)  # what every evaluation compares with, computed once

    def __post_init__(self) -> None:
        self.real = RealSide(self.reference, self.floor_real)

    def describe(self) -> str:
        how = self.origin or ("cached" if self.cached else "trained now")
        return (f"judge CNN {self.identity}: {self.held_out_accuracy:.2%} accuracy on {self.held_out_size:,} "
                f"held-out real images (trained on {self.train_size:,}, {how})")

    def add_referee(self, data: TrainingData, cache_dir: str | os.PathLike[str] | None, dataset: str, *,
                    steps: int) -> None:
        """Load (or train) the referee of ``data`` and score the held-out real digits with it; from then on
        every evaluation reports readability. Safe while another thread evaluates: the real share is set
        before the referee that turns the figures on."""
        referee = load_or_train_referee(data, cache_dir, dataset, steps=steps)
        held_images = splits(data)[2]
        self.readable_real = float(readable(predict(self.net, held_images)[1],
                                            referee.probabilities(held_images)).mean())
        self.referee = referee

    def readable(self, images: torch.Tensor | np.ndarray) -> np.ndarray:
        """bool (n,): the judge and the referee read each image as the same digit with p >= 0.9."""
        if self.referee is None:
            raise ValueError("readability needs the referee: load the judge with referee_steps")
        return readable(predict(self.net, images)[1], self.referee.probabilities(images))

    def evaluate(self, images: torch.Tensor | np.ndarray, asked: torch.Tensor | np.ndarray | None = None
                 ) -> dict[str, Any]:
        """The metrics row (see ``metrics.quality_row``) of generated images in [0, 1], tagged with the
        judge's identity; given the labels a conditional G was ``asked`` for, the share read as them
        (``metrics.asked_row``)."""
        features, probs = predict(self.net, images)
        row = quality_row(features, probs, self.real)
        if asked is not None:
            row.update(asked_row(probs, np.asarray(asked)))
        if self.referee is not None:
            row.update(readability_row(probs, self.referee.probabilities(images), self.readable_real))
        row["judge"] = self.identity
        if self.classes < NUM_CLASSES:  # the collapse warnings judge the histogram against the data's classes
            row["classes"] = self.classes
        return row


def judge_path(cache_dir: str | os.PathLike[str], dataset: str, key: str) -> Path:
    return cache_path(cache_dir, "judge", dataset, key)


def load_or_train_judge(data: TrainingData, cache_dir: str | os.PathLike[str] | None, dataset: str = "mnist",
                        *, steps: int = TRAIN_STEPS, progress: Callable[[int, int], None] | None = None,
                        cancel: threading.Event | None = None, referee_steps: int = 0) -> Judge:
    """The judge of ``data``: cached, bundled, or trained (resumably) and cached; see the module docstring.

    ``cache_dir=None`` trains without caching (tests). ``progress(done, total)`` follows the training
    steps; a set ``cancel`` event stops a training with its progress saved (``judge_net.Cancelled``).
    ``referee_steps`` > 0 prepares the referee of ``data`` too (``referee.TRAIN_STEPS`` is its own
    length), and every evaluation then reports readability.
    """
    train_images, train_labels, held_images, held_labels = labelled_splits(data, "judge")
    key = data_key(data, steps)
    path = judge_path(cache_dir, dataset, key) if cache_dir is not None else None
    found = load_first((path, BUNDLED), JUDGE_FORMAT, key=key, version=JUDGE_VERSION, new_net=new_net)
    if found is not None:
        net, origin = found[0], ("cached", "bundled")[found[1]]
    else:
        origin = "trained now"
        partial = None if path is None else path.with_suffix(".partial.pt")
        if partial is not None:
            partial.parent.mkdir(parents=True, exist_ok=True)
        net = train_judge(train_images, train_labels, steps=steps, partial=partial, key=key, progress=progress,
                          cancel=cancel)
        if path is not None:
            save_record(path, judge_record(net, key, dataset))
            remove(partial)
    features, probs = predict(net, held_images)  # once: for the accuracy and the FID references
    # The floor's real side: training digits, evenly spaced (the offline set is sorted by label), at most
    # FLOOR_IMAGES of them (60,000 MNIST digits through the judge would cost seconds for nothing).
    floor_images = train_images[evenly_spaced(len(train_images), min(len(train_images), FLOOR_IMAGES))]
    judge = Judge(net, shared.accuracy(probs, held_labels), len(train_images), len(held_images),
                  reference=features, floor_real=predict(net, floor_images)[0], cached=origin != "trained now",
                  path=path, origin=origin, identity=weights_id(net), classes=len(data.label_names))
    if referee_steps > 0:
        judge.add_referee(data, cache_dir, dataset, steps=referee_steps)
    return judge


def judge_record(net: JudgeNet, key: str, dataset: str) -> dict[str, Any]:
    """What the cache and the bundled weights file hold: the weights and what they were trained for."""
    return {"format": JUDGE_FORMAT, "version": JUDGE_VERSION, "key": key, "dataset": dataset,
            "state": net.state_dict()}


def eval_noise(n: int, z_dim: int, seed: int = 0) -> torch.Tensor:
    """The fixed evaluation noise: a dedicated generator, so the global RNG is never touched."""
    from ..gan.model import seeded_z

    return seeded_z(EVAL_NOISE_SEED + seed, z_dim, n)


EVAL_NOISE_SEED = 20_240_531
