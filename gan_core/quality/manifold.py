"""Precision, recall and realism of generated samples (Kynkäänniemi et al. 2019, "Improved Precision and
Recall Metric for Assessing Generative Models"), in the judge's feature space; numpy, float64.

Each set of features stands for a manifold: the union of balls around its points, each ball's radius the
distance to the point's k-th nearest neighbour in its own set. Precision is the share of generated samples
inside the real manifold (fidelity: how many fakes look real); recall is the share of real samples inside
the generated manifold (coverage: how much of the real variety G draws). FID mixes both into one number.

Both depend on the sample sizes (a small set has larger balls), so they are always reported beside the
same metrics for real against real at the same sizes.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .distance import pairwise_distances

K = 3  # the paper's choice for its main results


class RealManifold(Protocol):
    """What ``manifold_row`` needs of the real side (``real_side.RealSide`` is one): the reference
    features, their k-NN radii, and the real-vs-real precision/recall at a sample size."""

    k: int
    reference: np.ndarray

    @property
    def radii(self) -> np.ndarray: ...

    def real_precision_recall(self, n: int) -> tuple[float, float]: ...


def knn_radii(features: np.ndarray, k: int = K) -> np.ndarray:
    """Distance from each point to its k-th nearest other point of the same set, (n,)."""
    n = len(features)
    if n <= k:
        raise ValueError(f"need more than k={k} points, got {n}")
    distances = pairwise_distances(features, features)
    return np.partition(distances, k, axis=1)[:, k]  # column 0 is the point itself, at distance 0


def coverage(manifold: np.ndarray, radii: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query, whether it lies in at least one ball of the manifold, bool (len(queries),)."""
    return (pairwise_distances(queries, manifold) <= radii[None, :]).any(axis=1)


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = K,
                     real_radii: np.ndarray | None = None) -> tuple[float, float]:
    """(precision, recall) of ``fake`` features against ``real`` ones; ``real_radii`` may be given when the
    real set is fixed (``knn_radii(real, k)``, see ``real_side.RealSide``)."""
    radii = knn_radii(real, k) if real_radii is None else real_radii
    precision = float(coverage(real, radii, fake).mean())
    recall = float(coverage(fake, knn_radii(fake, k), real).mean())
    return precision, recall


def realism(real: np.ndarray, fake: np.ndarray, k: int = K, real_radii: np.ndarray | None = None) -> np.ndarray:
    """The paper's realism score per fake, (len(fake),): max over real points of radius / distance. Above 1
    the sample lies inside some real ball. As in the paper, the half of the real balls with the largest radii
    are left out first, so that outliers with huge balls do not call everything realistic."""
    radii = knn_radii(real, k) if real_radii is None else real_radii
    keep = radii <= np.median(radii)
    distances = pairwise_distances(fake, real[keep])
    return (radii[keep][None, :] / np.maximum(distances, 1e-12)).max(axis=1)


def manifold_row(fake: np.ndarray, real: RealManifold, n: int, extremes: int = 10) -> dict[str, object]:
    """Precision and recall of the first ``n`` fakes against the reference real features, the same of ``n``
    evenly spaced other real features (real against real at the same sizes), and the indices and realism
    scores of the ``extremes`` most and least realistic of all ``fake`` samples; plain data."""
    k, reference = real.k, real.reference
    if n <= k or len(reference) <= k:
        return {}
    precision, recall = precision_recall(reference, fake[:n], k, real_radii=real.radii)
    precision_real, recall_real = real.real_precision_recall(n)
    scores = realism(reference, fake, k, real_radii=real.radii)
    order = np.argsort(-scores, kind="stable")
    best, worst = order[:extremes], order[::-1][:extremes]
    return {
        "precision": precision, "recall": recall, "precision_real": precision_real, "recall_real": recall_real,
        "pr_k": k, "pr_n": int(n),
        "realism_best": [int(i) for i in best], "realism_best_scores": [float(scores[i]) for i in best],
        "realism_worst": [int(i) for i in worst], "realism_worst_scores": [float(scores[i]) for i in worst],
    }
