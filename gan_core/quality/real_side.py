"""The real side of every evaluation, computed once per judge instead of once per evaluation.

An evaluation compares generated features with held-out real ones. Everything that involves only the
real features (their mean, covariance and its square root, each point's k-NN radius, the real-vs-real
FID floor and precision/recall) is the same at every epoch of every run scored by the same judge, and it
was most of an evaluation's numpy time. ``RealSide`` computes each part the first time it is asked for
and keeps it; the generated side is all that is left per evaluation.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..data import evenly_spaced
from . import manifold
from .frechet import frechet_distance, gaussian_stats, sqrt_psd


class RealSide:
    """Held-out real features split in two disjoint sets: ``reference`` (what every FID and every
    precision/recall is measured against) and ``floor_real`` (the real sample of the real-vs-real
    reference figures). Read-only once built."""

    def __init__(self, reference: np.ndarray, floor_real: np.ndarray, k: int = manifold.K) -> None:
        self.reference = np.asarray(reference, np.float64)
        self.floor_real = np.asarray(floor_real, np.float64)
        self.k = k
        self._floors: dict[int, float] = {}
        self._real_pr: dict[int, tuple[float, float]] = {}

    @cached_property
    def stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, covariance, covariance's square root) of the reference."""
        mean, cov = gaussian_stats(self.reference)
        return mean, cov, sqrt_psd(cov)

    @cached_property
    def radii(self) -> np.ndarray:
        """Each reference point's distance to its k-th nearest other reference point."""
        return manifold.knn_radii(self.reference, self.k)

    def fid(self, features: np.ndarray) -> float:
        """FID of ``features`` against the reference."""
        mean, cov, root = self.stats
        return frechet_distance(mean, cov, *gaussian_stats(features), root1=root)

    def spread(self, n: int) -> np.ndarray:
        """``n`` evenly spaced indices into ``floor_real``: held-out sets may come in label order."""
        return evenly_spaced(len(self.floor_real), n)

    def floor(self, n: int) -> float:
        """FID of ``n`` real held-out digits against the reference: the best a generator could score."""
        if n not in self._floors:
            self._floors[n] = self.fid(self.floor_real[self.spread(n)])
        return self._floors[n]

    def real_precision_recall(self, n: int) -> tuple[float, float]:
        """Precision and recall of ``n`` real held-out digits: what a perfect generator would score."""
        if n not in self._real_pr:
            self._real_pr[n] = manifold.precision_recall(self.reference, self.floor_real[self.spread(n)], self.k,
                                                         real_radii=self.radii)
        return self._real_pr[n]
