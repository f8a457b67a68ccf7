"""Precision, recall and realism (Kynkäänniemi et al. 2019) on feature sets with known answers."""

import numpy as np
import pytest

from gan_core.quality import manifold
from gan_core.quality.frechet import fid_from_features
from gan_core.quality.metrics import quality_row
from gan_core.quality.real_side import RealSide


def test_distances_by_matrix_product_match_the_direct_ones():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 5)), rng.normal(size=(4, 5))
    direct = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    assert np.allclose(manifold.pairwise_distances(a, b), direct)


def test_radius_is_the_kth_neighbour_excluding_the_point_itself():
    points = np.array([[0.0], [1.0], [3.0], [6.0], [10.0]])
    assert np.allclose(manifold.knn_radii(points, k=1), [1, 1, 2, 3, 4])
    assert np.allclose(manifold.knn_radii(points, k=3), [6, 5, 3, 5, 9])
    with pytest.raises(ValueError):
        manifold.knn_radii(points[:3], k=3)


def test_same_distribution_scores_high_a_collapsed_one_low_recall_and_a_far_one_low_precision():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(400, 8))
    same = rng.normal(size=(400, 8))
    precision, recall = manifold.precision_recall(real, same)
    assert precision > 0.8 and recall > 0.8
    collapsed = rng.normal(size=(400, 8)) * 0.05  # all near one point: real-looking, no variety
    precision, recall = manifold.precision_recall(real, collapsed)
    assert precision > 0.95 and recall < 0.2
    far = rng.normal(size=(400, 8)) + 10.0
    precision, recall = manifold.precision_recall(real, far)
    assert precision == 0.0 and recall == 0.0


def test_realism_ranks_a_sample_at_the_centre_above_an_outlier():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(300, 4))
    fake = np.stack([np.zeros(4), np.full(4, 8.0)])
    scores = manifold.realism(real, fake)
    assert scores[0] > 1.0 > scores[1]


def test_quality_row_carries_precision_recall_their_reference_and_realism_extremes():
    rng = np.random.default_rng(3)
    reference, floor = rng.normal(size=(60, 6)), rng.normal(size=(40, 6))
    fake = rng.normal(size=(100, 6))
    probs = rng.dirichlet(np.ones(10), size=100)
    row = quality_row(fake, probs, RealSide(reference, floor))
    assert row["pr_n"] == 40 and row["pr_k"] == 3
    assert (row["precision"], row["recall"]) == pytest.approx(manifold.precision_recall(reference, fake[:40]))
    assert (row["precision_real"], row["recall_real"]) == pytest.approx(manifold.precision_recall(reference, floor))
    scores = manifold.realism(reference, fake)
    assert row["realism_best"] == list(np.argsort(-scores, kind="stable")[:10])
    assert row["realism_worst_scores"][0] == pytest.approx(scores.min())
    assert len(row["realism_worst"]) == 10


def test_the_real_side_is_computed_once_and_matches_the_direct_computation():
    rng = np.random.default_rng(4)
    reference, floor = rng.normal(size=(80, 6)), rng.normal(size=(50, 6))
    real = RealSide(reference, floor)
    fake = rng.normal(size=(50, 6)) + 0.3
    assert real.fid(fake) == pytest.approx(fid_from_features(fake, reference), rel=1e-9)
    assert real.floor(50) == pytest.approx(fid_from_features(floor, reference), rel=1e-9)
    assert real.real_precision_recall(50) == pytest.approx(manifold.precision_recall(reference, floor))
    radii = real.radii
    row = quality_row(fake, rng.dirichlet(np.ones(10), size=50), real)
    assert real.radii is radii and row["fid_floor"] == real.floor(50)  # kept, not recomputed
