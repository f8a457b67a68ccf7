"""Euclidean distances between two sets of points through one matrix product: |a|^2 + |b|^2 - 2 a.b.

One (q, n) product instead of q x n differences: the nearest-digit search, the precision/recall balls and
the latent benchmark's best random match all measure this way. Written for numpy arrays and torch tensors
alike (only ``*``, ``.sum(1)``, ``@`` and ``.T``), in the caller's dtype.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

Points = TypeVar("Points", np.ndarray, torch.Tensor)  # (n, d)


def squared_distances(a: Points, b: Points, b_norms: Points | None = None) -> Points:
    """|a_i - b_j|^2 for every pair, (len(a), len(b)). ``b_norms``, ``(b * b).sum(1)``, may be given when
    ``b`` is a fixed set searched many times. Rounding can leave tiny negatives: clamp before a root."""
    norms = (b * b).sum(1) if b_norms is None else b_norms
    return (a * a).sum(1)[:, None] + norms[None, :] - 2.0 * (a @ b.T)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances (len(a), len(b)) in float64."""
    squared = squared_distances(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return np.sqrt(np.clip(squared, 0.0, None))
