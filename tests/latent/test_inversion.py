import numpy as np
import pytest
import torch

from gan_core.latent.inversion import best_of_random, invert

from latent_helpers import LinearJudge, random_generator


@pytest.fixture(scope="module")
def setup():
    generator = random_generator(1)
    z_true = torch.rand(1, 100, generator=torch.Generator().manual_seed(5)) * 2 - 1
    with torch.no_grad():
        target = generator(z_true).reshape(28, 28).numpy()
    return generator, target


def test_inversion_improves_on_its_best_start_and_is_consistent(setup):
    generator, target = setup
    _, pool_best = best_of_random(generator, target, n=300, seed=0)
    result = invert(generator, target, starts=4, steps=60, pool=300, seed=0)
    assert result.z.shape == (1, 100) and result.z.dtype == np.float32
    assert result.z.min() >= -1 and result.z.max() <= 1
    assert result.mse < 0.8 * pool_best  # Adam moved well past the best random latent of the same pool
    assert np.all(np.diff(result.errors) <= 1e-9) and len(result.errors) == 60
    with torch.no_grad():
        image = generator(torch.from_numpy(result.z)).reshape(28, 28).numpy()
    np.testing.assert_allclose(image, result.image, atol=1e-6)
    assert float(((image - target) ** 2).mean()) == pytest.approx(result.mse, rel=1e-4)
    assert not any(p.grad is not None for p in generator.parameters())


def test_feature_distance_needs_a_judge_and_works_with_one(setup):
    generator, target = setup
    with pytest.raises(ValueError, match="judge"):
        invert(generator, target, feature_weight=1.0, steps=2)
    judge = LinearJudge()
    result = invert(generator, target, judge_net=judge, feature_weight=0.01, starts=2, steps=10, pool=50)
    assert np.isfinite(result.mse)
    # The weight is used: a large one trades pixel error for a closer match in the judge's features.
    plain = invert(generator, target, judge_net=judge, feature_weight=0.0, starts=2, steps=10, pool=50)
    heavy = invert(generator, target, judge_net=judge, feature_weight=0.1, starts=2, steps=10, pool=50)

    def feature_gap(image):
        with torch.no_grad():
            images = torch.as_tensor(np.stack([image, target]), dtype=torch.float32).reshape(2, 784)
            features = judge.features(images)
        return float(((features[0] - features[1]) ** 2).mean())

    assert feature_gap(heavy.image) < 0.5 * feature_gap(plain.image) and heavy.mse > plain.mse


def test_cancel_stops_early(setup):
    generator, target = setup
    calls = iter(range(100))
    result = invert(generator, target, steps=50, pool=20, should_stop=lambda: next(calls) >= 5)
    assert result.cancelled and len(result.errors) == 5
