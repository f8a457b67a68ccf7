"""Nearest real digits: is the generator copying its training set?

``NeighbourIndex`` holds the training split twice: as pixels and as the judge's features (cached on disk,
keyed by the judge's weights and the images). A query is one matrix product against all of them
(``distance.squared_distances``), then a top-k: no tree, no approximate index, fast enough for 60,000 images
(docs/trust.md has the timings).

``memorisation`` compares, for a set of generated digits, the distance to the nearest training digit with
the same distance for real digits G never trained on (the held-out split). A generator that memorises
puts its samples much closer to training digits than fresh real digits are; one that generalises does not.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..gan.model import IMAGE_PIXELS
from ..gan.modes import evaluating
from ..records import load_tagged, save_record
from .distance import squared_distances
from .shared import chunks, hash_weights

SPACES = ("features", "pixels")
FEATURES_FORMAT = "gan_core.neighbour_features"
CHUNK = 2000  # images per judge pass when computing features
# Nearest-training-digit distance of generated digits over that of held-out real digits (medians): below
# COPYING the samples sit far closer to training digits than unseen real digits do.
COPYING, CLOSER = 0.5, 0.8


@torch.no_grad()
def judge_features(net: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The judge's penultimate features, float32 (n, d), eval mode, in chunks."""
    x = images.detach().float().cpu().reshape(len(images), IMAGE_PIXELS)
    with evaluating(net):
        parts = [net.features(chunk) for chunk in chunks(x, CHUNK)]
    return torch.cat(parts) if parts else torch.zeros(0, 0)


def features_key(net: nn.Module, images: torch.Tensor) -> str:
    """sha256 of the judge's weights and the images: a cache entry is valid for exactly this pair."""
    digest = hashlib.sha256(FEATURES_FORMAT.encode())
    hash_weights(digest, net)
    x = images.detach().float().cpu().contiguous()
    digest.update(f"{tuple(x.shape)}".encode())
    digest.update(x.numpy().tobytes())
    return digest.hexdigest()


def cached_features(net: nn.Module, images: torch.Tensor, cache_dir: str | os.PathLike[str] | None) -> torch.Tensor:
    """``judge_features(net, images)``, read from ``cache_dir`` when computed before, else computed and
    written there (atomically; tensors only, read with ``weights_only=True``)."""
    if cache_dir is None:
        return judge_features(net, images)
    key = features_key(net, images)
    path = Path(cache_dir) / f"features-{key[:16]}.pt"
    record = load_tagged(path, FEATURES_FORMAT, key=key)
    if record is not None and isinstance(record.get("features"), torch.Tensor):
        return record["features"]
    features = judge_features(net, images)
    save_record(path, {"format": FEATURES_FORMAT, "key": key, "features": features})
    return features


@dataclass(frozen=True)
class Neighbours:
    """The k nearest training images of each query: indices into the index's images, and distances."""

    indices: np.ndarray  # int64 (q, k), nearest first
    distances: np.ndarray  # float64 (q, k)
    space: str


class NeighbourIndex:
    """Training images searchable by judge features or pixels."""

    def __init__(self, net: nn.Module, images: torch.Tensor, features: torch.Tensor) -> None:
        self.net = net
        self.images = images.detach().float().cpu().reshape(len(images), IMAGE_PIXELS).contiguous()
        self._points = {"features": features.float().contiguous(), "pixels": self.images}
        self._norms = {space: (x * x).sum(1) for space, x in self._points.items()}

    @classmethod
    def build(cls, net: nn.Module, images: torch.Tensor,
              cache_dir: str | os.PathLike[str] | None = None) -> NeighbourIndex:
        return cls(net, images, cached_features(net, images, cache_dir))

    def __len__(self) -> int:
        return len(self.images)

    def _embed(self, queries: torch.Tensor | np.ndarray, space: str) -> torch.Tensor:
        if space not in SPACES:
            raise ValueError(f"space must be one of {', '.join(SPACES)}, got {space!r}")
        x = torch.as_tensor(np.asarray(queries, np.float32)).reshape(-1, IMAGE_PIXELS)
        return judge_features(self.net, x) if space == "features" else x

    @torch.no_grad()
    def query(self, queries: torch.Tensor | np.ndarray, k: int = 5, space: str = "features") -> Neighbours:
        """The ``k`` nearest training images of each query image ((q, 784) or (q, 28, 28) in [0, 1])."""
        q = self._embed(queries, space)
        points = self._points[space]
        squared = squared_distances(q, points, self._norms[space])
        k = min(k, len(points))
        values, indices = torch.topk(squared, k, dim=1, largest=False)
        return Neighbours(indices.numpy(), values.clamp_min(0).double().sqrt().numpy(), space)


def nearest_distances(index: NeighbourIndex, images: torch.Tensor | np.ndarray, space: str = "features") -> np.ndarray:
    """Each image's distance to its nearest training image, float64 (n,)."""
    return index.query(images, k=1, space=space).distances[:, 0]


def memorisation(index: NeighbourIndex, generated: torch.Tensor | np.ndarray, held_out: torch.Tensor | np.ndarray,
                 space: str = "features", held_distances: np.ndarray | None = None) -> dict[str, Any]:
    """Distances to the nearest training image of ``generated`` digits and of ``held_out`` real digits
    (never trained on; ``held_distances``: those distances computed before, as ``nearest_distances`` gives
    them), their medians' ratio and a verdict in plain words; plain data."""
    to_gen = nearest_distances(index, generated, space)
    to_held = nearest_distances(index, held_out, space) if held_distances is None else held_distances
    gen_median, held_median = float(np.median(to_gen)), float(np.median(to_held))
    ratio = gen_median / held_median if held_median > 0 else float("inf")
    if ratio < COPYING:
        verdict = (f"generated digits sit much closer to training digits than unseen real digits do "
                   f"(ratio {ratio:.2f}): the generator may be copying training digits")
    elif ratio < CLOSER:
        verdict = (f"generated digits sit somewhat closer to training digits than unseen real digits do "
                   f"(ratio {ratio:.2f}): look at their nearest training digits")
    else:
        verdict = (f"no sign of copying: generated digits are about as far from the training digits as unseen "
                   f"real digits are, or farther (ratio {ratio:.2f})")
    return {"space": space, "generated": [float(v) for v in to_gen], "held_out": [float(v) for v in to_held],
            "generated_median": gen_median, "held_out_median": held_median, "ratio": ratio, "verdict": verdict}
