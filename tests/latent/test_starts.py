import numpy as np
import pytest
import torch

from gan_core.gan.model import generate, seeded_z
from gan_core.latent.starts import readable_latents

from helpers import one_thread  # noqa: F401 - an autouse fixture
from latent_helpers import FakeReferee, demo_models, random_generator


def reading(generator, seeds):
    """(digits, p) the fake referee gives each seed's digit, drawn as the lab draws it."""
    probs = FakeReferee().probabilities(generate(generator, torch.cat([seeded_z(int(s), 100) for s in seeds])))
    return probs.argmax(1), probs.max(1)


def test_the_first_seeds_the_referee_reads_as_the_digit_in_order_across_batches():
    generator = random_generator()
    found = readable_latents(generator, FakeReferee(), 100, digit=3, count=4, seed=10, batch=16)
    assert len(found) == 4 and np.all(np.diff(found.seeds) > 0) and found.seeds[0] >= 10
    assert found.seeds[-1] >= 16 + 10, "the four must span several batches for this test to mean something"
    digits, p = reading(generator, range(10, int(found.seeds[-1]) + 1))
    accepted = np.flatnonzero((digits == 3) & (p >= 0.9)) + 10
    np.testing.assert_array_equal(found.seeds, accepted[:4])  # the first four, none skipped
    np.testing.assert_array_equal(found.digits, [3] * 4)
    np.testing.assert_allclose(found.referee_p, 0.95)
    np.testing.assert_allclose(found.z, torch.cat([seeded_z(int(s), 100) for s in found.seeds]).numpy())
    same = readable_latents(generator, FakeReferee(), 100, digit=3, count=4, seed=10, batch=256)
    np.testing.assert_array_equal(same.seeds, found.seeds)  # the batch size changes nothing


def test_any_digit_when_none_is_asked_and_fewer_when_the_draws_run_out():
    generator = random_generator()
    found = readable_latents(generator, FakeReferee(), 100, count=5, batch=8)
    digits, p = reading(generator, range(int(found.seeds[-1]) + 1))
    np.testing.assert_array_equal(found.seeds, np.flatnonzero(p >= 0.9)[:5])
    np.testing.assert_array_equal(found.digits, digits[found.seeds])
    short = readable_latents(generator, FakeReferee(), 100, count=1000, max_draws=20, batch=8)
    assert short.drawn == 20 and len(short) == int((reading(generator, range(20))[1] >= 0.9).sum()) < 20
    assert len(readable_latents(generator, FakeReferee(), 100, count=0)) == 0
    with pytest.raises(ValueError):
        readable_latents(generator, FakeReferee(), 100, digit=10)


def test_the_judge_must_agree_when_given_and_nothing_global_is_touched():
    generator = random_generator().train()

    class JudgeReadsSeven(torch.nn.Module):
        def features(self, images):
            return images.reshape(len(images), -1)[:, :128]

        def head(self, features):
            return torch.nn.functional.one_hot(torch.full((len(features),), 7), 10).float() * 20

    state = torch.get_rng_state()
    found = readable_latents(generator, FakeReferee(), 100, count=3, judge_net=JudgeReadsSeven())
    assert torch.equal(state, torch.get_rng_state()) and generator.training  # global RNG and G's mode kept
    np.testing.assert_array_equal(found.digits, [7, 7, 7])  # only where the referee reads 7 too


def test_on_the_demo_each_start_is_read_as_its_digit():
    generator, _, referee = demo_models()
    for digit in (0, 8):
        found = readable_latents(generator, referee, generator.z_dim, digit=digit, count=3)
        probs = referee.probabilities(generate(generator, torch.from_numpy(found.z)))
        assert len(found) == 3 and np.all(probs.argmax(1) == digit) and np.all(probs[:, digit] >= 0.9)
