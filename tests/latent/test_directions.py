import numpy as np
import pytest
import torch
from torch import nn

from gan_core.latent.directions import (
    DirectionCache,
    Directions,
    align,
    distinctness,
    move,
    principal_directions,
    raw_directions,
    slider_effect,
    sweep_directions,
)

from latent_helpers import random_generator


def linear_first_layer(seed=0):
    """A generator whose first block is linear (no LeakyReLU) with weight U diag(s) V^T: h1's principal
    directions are then known exactly: direction i = V[:, i] / sqrt(3) (the prior's per-coordinate std)."""
    generator = random_generator(seed)
    gen = torch.Generator().manual_seed(seed)
    u, _ = torch.linalg.qr(torch.randn(256, 100, generator=gen))
    v, _ = torch.linalg.qr(torch.randn(100, 100, generator=gen))
    s = torch.cat([torch.tensor([10.0, 7.0, 5.0, 3.5, 2.5]), torch.linspace(1.0, 0.1, 95)])  # distinct top 5
    with torch.no_grad():
        generator.net[0].weight.copy_(u @ torch.diag(s) @ v.T)
    generator.net[1] = nn.Identity()
    return generator, v


def test_principal_directions_recover_the_known_basis():
    generator, v = linear_first_layer()
    d = principal_directions(generator, "h1", n=4000, k=5)
    assert d.vectors.shape == (5, 100) and d.vectors.dtype == np.float32
    assert np.all(np.diff(d.explained) <= 0) and d.explained.sum() <= 1.0
    for i in range(5):
        cos = d.vectors[i] @ v[:, i].numpy() / np.linalg.norm(d.vectors[i])
        assert abs(cos) > 0.98, (i, cos)
        assert np.linalg.norm(d.vectors[i]) == pytest.approx(1 / np.sqrt(3), rel=0.05)


def test_a_wide_layer_s_randomised_pca_recovers_the_known_basis_repeatably(monkeypatch: pytest.MonkeyPatch) -> None:
    """Layers wider than EXACT_WIDTH (the DCGAN's) take a seeded randomised SVD: the same known basis and
    variance shares as the exact path, the same directions on every call, the global RNG untouched."""
    import gan_core.latent.directions as directions

    generator, v = linear_first_layer()
    exact = principal_directions(generator, "h1", n=4000, k=5)
    monkeypatch.setattr(directions, "EXACT_WIDTH", 0)  # h1 (256 wide) now takes the wide layers' path
    before = torch.random.get_rng_state()
    d = principal_directions(generator, "h1", n=4000, k=5)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert np.array_equal(principal_directions(generator, "h1", n=4000, k=5).vectors, d.vectors)
    assert d.explained == pytest.approx(exact.explained, rel=1e-3)
    for i in range(5):
        cos = d.vectors[i] @ v[:, i].numpy() / np.linalg.norm(d.vectors[i])
        assert abs(cos) > 0.98, (i, cos)
        assert np.linalg.norm(d.vectors[i]) == pytest.approx(1 / np.sqrt(3), rel=0.05)


def test_unknown_layer_is_refused():
    with pytest.raises(ValueError, match="unknown layer"):
        principal_directions(random_generator(), "h9", n=100, k=2)


def test_move_and_sweep_stay_in_the_box():
    vectors = np.stack([np.full(100, 0.5, np.float32), np.eye(100, dtype=np.float32)[3]])
    z = torch.full((100,), 0.2)
    moved = move(z, vectors, [1.0, -1.0])
    assert moved[0] == pytest.approx(0.7) and moved[3] == pytest.approx(-0.3)  # 0.2 + 0.5 (- 1)
    far = move(z, vectors, [3.0])
    assert far.max() == 1.0 and far.min() == 1.0  # 0.2 + 1.5, clipped to the box
    rows = sweep_directions(torch.zeros(100), vectors, steps=5, span=2.0)
    assert rows.shape == (10, 100)
    assert rows[0, 0] == -1.0 and rows[2, 0] == 0.0 and rows[4, 0] == 1.0  # -2*0.5, 0, +2*0.5
    assert rows[5, 3] == pytest.approx(-1.0) and rows[9, 3] == pytest.approx(1.0)


def test_slider_effect_is_zero_for_a_coordinate_the_generator_ignores():
    generator = random_generator()
    with torch.no_grad():
        generator.net[0].weight[:, 0] = 0.0
    z = torch.rand(20, 100) * 2 - 1
    effect = slider_effect(generator, z, raw_directions(100, [0, 1]), span=1.0)
    assert effect[0] == pytest.approx(0.0, abs=1e-7) and effect[1] > 1e-4


def test_distinctness_of_a_direction_and_its_copy_is_zero():
    generator = random_generator()
    z = torch.rand(10, 100) * 2 - 1
    v = raw_directions(100, [5])[0] * 0.5
    assert distinctness(generator, z, np.stack([v, -v])) == pytest.approx(0.0, abs=1e-4)
    assert distinctness(generator, z, raw_directions(100, [5, 60])) > 0.3


def basis(seed, k=6, dim=100):
    rng = np.random.default_rng(seed)
    return Directions(rng.normal(size=(k, dim)).astype(np.float32), np.linspace(0.3, 0.05, k), "h1", seed)


def test_align_undoes_a_permutation_and_sign_flips():
    previous = basis(0)
    order, signs = [3, 0, 5, 1, 4, 2], np.array([1, -1, -1, 1, 1, -1], np.float32)[:, None]
    shuffled = Directions(previous.vectors[order] * signs, previous.explained[order], "h1", 1)
    aligned = align(shuffled, previous)
    np.testing.assert_allclose(aligned.vectors, previous.vectors)
    np.testing.assert_allclose(aligned.explained, previous.explained)
    assert align(shuffled, None) is shuffled


def test_cache_recomputes_per_version_but_not_too_often():
    generator = random_generator()
    cache = DirectionCache(min_interval=5.0, samples=500, components=4)
    first = cache.get("run", 1, generator, now=100.0)
    assert cache.get("run", 1, generator, now=200.0) is first  # same weights: no recomputation
    assert cache.get("run", 2, generator, now=102.0) is first  # new weights, but too soon
    with torch.no_grad():
        generator.net[0].weight.mul_(1.01)  # the weights move a little, as in training
    second = cache.get("run", 2, generator, now=106.0)
    assert second is not first and second.version == 2
    cos = np.sum(first.vectors * second.vectors, 1) / (np.linalg.norm(first.vectors, axis=1)
                                                       * np.linalg.norm(second.vectors, axis=1))
    assert np.all(cos > 0.9)  # aligned: same order and sign as before
