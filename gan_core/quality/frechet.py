"""The Fréchet distance between two Gaussians fitted to features (FID with the judge in Inception's place);
numpy, float64. The matrix square root is taken through symmetric eigen-decompositions, so the result is a
real number, never NaN or complex.
"""

from __future__ import annotations

import numpy as np


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of (n, d) features in float64; the covariance uses n - 1."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need (n >= 2, d) features, got shape {x.shape}")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix; tiny negative eigenvalues become 0."""
    sym = (matrix + matrix.T) / 2.0
    values, vectors = np.linalg.eigh(sym)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     root1: np.ndarray | None = None) -> float:
    """||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2), in float64.

    tr((S1 S2)^1/2) equals tr((S1^1/2 S2 S1^1/2)^1/2), and the latter is the root of a symmetric PSD
    matrix, so both roots come from ``eigh``: no complex parts to drop, no NaN. Clamped at 0. ``root1``,
    S1's square root, may be given when S1 is a fixed reference (``real_side.RealSide``).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    root1 = sqrt_psd(s1) if root1 is None else root1
    middle = sqrt_psd(root1 @ s2 @ root1)
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(middle))
    return max(value, 0.0)


def fid_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    return frechet_distance(*gaussian_stats(features1), *gaussian_stats(features2))
