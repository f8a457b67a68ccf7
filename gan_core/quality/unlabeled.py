"""Quality without labels: what still holds for a folder of pictures that has no classes.

The judge is a classifier: it needs labels to learn, and its Inception score, class histogram, classes
present and readability are all about classes. A dataset without labels (or with more classes than the
judge has outputs) keeps the figures that need only a feature space and real images:

* FID against the real-vs-real floor, precision and recall against their real-vs-real reference, and
  each sample's realism (the same ``RealSide`` and ``manifold`` code as the judge's rows);
* the nearest held-out real image of the most realistic samples (``nearest_real``: indices into the
  held-out split, whose order is ``shared.splits``), so a person can see what a sample resembles.

The feature space is a linear autoencoder of the data's own pixels: its top ``COMPONENTS`` principal
components, fitted to the training split without labels (closed form: no training loop, a fraction of a
second, deterministic, nothing drawn from any RNG). It sees only pixels, not strokes: its distances are
coarser than a trained network's, which bench/unlabeled_quality.py checks against the judge on MNIST.
D's verdicts (ganlab/train/verdicts.py) need no labels either and are shown as for any run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data import TrainingData, evenly_spaced
from .distance import pairwise_distances
from .manifold import manifold_row
from .real_side import RealSide
from .shared import needs_label_free, splits

__all__ = ["NOT_AVAILABLE", "PixelFeatures", "UnlabeledJudge", "label_free_judge", "needs_label_free", "project"]

COMPONENTS = 64  # principal components kept: ~90% of MNIST's pixel variance
FIT_IMAGES = 10_000  # training images the components are fitted to (evenly spaced), at most
FLOOR_IMAGES = 10_000  # as the judge's: training images on the real side of the real-vs-real figures
FEATURES_NAME = f"pixel PCA-{COMPONENTS} (a linear autoencoder of this data, fitted without labels)"
# What a row without labels cannot say, for the UI and the CLI.
NOT_AVAILABLE = ("readable share, Inception score, classes present and the class histogram need a classifier "
                 "of labelled classes")


@dataclass
class UnlabeledJudge:
    """The judge's interface (``describe``, ``evaluate``) without a classifier: see the module docstring."""

    mean: np.ndarray  # (784,) pixel mean of the fitted images
    components: np.ndarray  # (COMPONENTS, 784) orthonormal rows
    reference: np.ndarray  # features of every held-out image
    floor_real: np.ndarray  # features of up to FLOOR_IMAGES training images
    train_size: int
    identity: str = ""
    real: RealSide = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.real = RealSide(self.reference, self.floor_real)

    def features(self, images: torch.Tensor | np.ndarray) -> np.ndarray:
        return project(images, self.mean, self.components)

    def net(self) -> PixelFeatures:
        """The features as a module with the judge network's ``features``: the nearest-image search
        (``neighbours.NeighbourIndex``) of data without labels searches in them."""
        return PixelFeatures(self.mean, self.components)

    def describe(self) -> str:
        return (f"no labels: FID and precision/recall in {FEATURES_NAME} {self.identity}, against "
                f"{len(self.reference):,} held-out real images (fitted on {self.train_size:,})")

    def evaluate(self, images: torch.Tensor | np.ndarray) -> dict[str, Any]:
        """The metrics row of generated images in [0, 1]: FID (and floor), precision, recall, realism, the
        nearest real image of the most realistic samples; ``unlabeled`` marks what it leaves out."""
        fake = self.features(images)
        n = min(len(fake), len(self.real.floor_real))
        row: dict[str, Any] = {"fid": None, "fid_floor": None, "fid_n": int(n),
                               "fid_ref_n": int(len(self.reference)), "samples": int(len(fake))}
        if n >= 2 and len(self.reference) >= 2:
            row.update(fid=self.real.fid(fake[:n]), fid_floor=self.real.floor(n))
        row.update(manifold_row(fake, self.real, n))
        if row.get("realism_best"):
            distances = pairwise_distances(fake[row["realism_best"]], self.reference)
            row["nearest_real"] = [int(i) for i in distances.argmin(axis=1)]
        row.update(judge=self.identity, unlabeled=True, features=FEATURES_NAME)
        return row


def label_free_judge(data: TrainingData, components: int = COMPONENTS) -> UnlabeledJudge:
    """Fit the pixel PCA to ``data``'s training split and score its real sides: the quality judge of data
    without usable labels."""
    train_images, _, held_images, _ = splits(data)
    train = train_images.numpy()  # float32; only the rows used are made float64 (exactly: a widening)
    fit = torch.from_numpy(train[evenly_spaced(len(train), min(len(train), FIT_IMAGES))].astype(np.float64))
    centre = fit.mean(dim=0)
    centred = fit - centre
    # The covariance's eigenvectors, largest first (torch's eigh: ~30x faster than numpy's SVD on 2 cores).
    _, vectors = torch.linalg.eigh(centred.T @ centred)
    basis = vectors.flip(1)[:, :min(components, len(fit))].T.numpy()
    mean = centre.numpy()
    basis = basis * np.where(basis.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)  # a fixed sign per component
    digest = hashlib.sha256(np.round(basis, 6).tobytes()).hexdigest()[:12]
    floor = train[evenly_spaced(len(train), min(len(train), FLOOR_IMAGES))].astype(np.float64)
    return UnlabeledJudge(mean, basis, project(held_images, mean, basis), project(floor, mean, basis), len(train),
                          identity=f"pca-{digest}")


def project(images: torch.Tensor | np.ndarray, mean: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Images in [0, 1] (any shape (n, ...)) -> their (n, components) coordinates on the fitted basis."""
    pixels = np.asarray(images.detach().cpu() if isinstance(images, torch.Tensor) else images, np.float64)
    return (pixels.reshape(len(pixels), -1) - mean) @ basis.T


class PixelFeatures(nn.Module):
    """The pixel PCA as a module: ``features(x)`` of flat images, float32; its mean and components are
    buffers, so the weights-keyed caches (``neighbours.cached_features``) key on them as on a judge's."""

    def __init__(self, mean: np.ndarray, components: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("components", torch.as_tensor(components, dtype=torch.float32))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return (images.reshape(len(images), -1).float() - self.mean) @ self.components.T
