import numpy as np
import torch
from torch import nn

from gan_core.gan.model import generate
from gan_core.latent.starts import readable_latents
from gan_core.latent.steering import MAX_PIXEL_CHANGE, RESTARTS, class_directions, toward_digit

from helpers import one_thread  # noqa: F401 - an autouse fixture
from latent_helpers import LinearJudge, demo_models, random_generator


def test_toward_digit_raises_the_class_probability_within_the_caps():
    generator, judge = random_generator(), LinearJudge()
    z = torch.rand(6, 100, generator=torch.Generator().manual_seed(0)) * 2 - 1  # a row still climbs at step 12
    cap = 0.08
    # the plain judge, one attempt: the climb itself (shifted views and restarts are tested below)
    edit = toward_digit(generator, judge, z, 7, steps=12, max_pixel_change=cap, target_p=0.999, shifts=((0, 0),),
                        restarts=0)
    assert edit.path.shape == (13, 6, 100) and edit.judge_p.shape == (13, 6)
    assert not edit.cancelled
    np.testing.assert_allclose(edit.path[0], z.numpy())
    assert np.all(edit.judge_p[-1] > 100 * edit.judge_p[0])  # every row gained a lot
    assert edit.final.min() >= -1.0 and edit.final.max() <= 1.0
    with torch.no_grad():
        change = (generator(torch.from_numpy(edit.final)) - generator(z)).abs().mean(1)
    assert torch.all(change <= cap + 1e-6)
    with torch.no_grad():
        probs = torch.softmax(judge(generator(torch.from_numpy(edit.final))), 1)[:, 7].numpy()
    np.testing.assert_allclose(probs, edit.judge_p[-1], rtol=1e-4)
    assert all(p.requires_grad for p in generator.parameters())  # the models are left as found


def shifted_log_p(judge, images, digit):
    """The mean log-probability of ``digit`` over the image and its eight one-pixel shifts, by np.roll."""
    views = [torch.from_numpy(np.roll(np.pad(images.reshape(-1, 28, 28).numpy(), ((0, 0), (1, 1), (1, 1))),
                                      (dy, dx), axis=(1, 2))[:, 1:29, 1:29].copy()).reshape(-1, 784)
             for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    with torch.no_grad():
        return torch.stack([torch.log_softmax(judge(v), 1)[:, digit] for v in views]).mean(0).numpy()


class LinearReferee:
    """A second linear classifier as the referee (another seed): it reads, it never steers."""

    def __init__(self, seed: int = 1) -> None:
        self.net = LinearJudge(seed)

    def probabilities(self, images):
        with torch.no_grad():
            return torch.softmax(self.net(torch.as_tensor(images).reshape(len(images), -1)), 1).double().numpy()


def test_the_referee_decides_restarts_and_which_attempt_is_kept():
    generator, judge, referee = random_generator(), LinearJudge(), LinearReferee()
    z = torch.rand(8, 100, generator=torch.Generator().manual_seed(2)) * 2 - 1
    once = toward_digit(generator, judge, z, 2, referee=referee, steps=8, target_p=0.999, restarts=0)
    edit = toward_digit(generator, judge, z, 2, referee=referee, steps=8, target_p=0.999, restarts=3)
    np.testing.assert_allclose(edit.path[0], z.numpy())
    assert edit.path.shape[1:] == (8, 100) and edit.final.min() >= -1.0 and edit.final.max() <= 1.0
    with torch.no_grad():
        start, final = generator(z), generator(torch.as_tensor(edit.final))
    probs = referee.probabilities(final)
    np.testing.assert_allclose(edit.referee_p, probs[:, 2], rtol=1e-6)  # the verdict is the referee's, on the final
    np.testing.assert_array_equal(edit.reached, probs[:, 2] >= 0.9)
    np.testing.assert_array_equal(edit.read_digit, probs.argmax(1))
    np.testing.assert_allclose(edit.read_p, probs.max(1), rtol=1e-6)
    np.testing.assert_allclose(edit.pixel_change, (final - start).abs().mean(1).numpy(), atol=1e-6)
    assert torch.all((final - start).abs().mean(1) <= 0.2 + 1e-6)  # the cap holds against the asked start
    assert 0 < once.reached.sum() < 8, "the test needs edits that reach the digit at once and edits that do not"
    first = once.reached
    np.testing.assert_array_equal(edit.final[first], once.final[first])  # a success is never restarted
    np.testing.assert_array_equal(edit.attempts, np.where(first, 1, 4))
    kept_ok, once_p = edit.reached[~first], once.referee_p[~first]
    assert np.all(kept_ok | (edit.referee_p[~first] >= once_p)) and np.any(edit.referee_p[~first] > once_p + 1e-3)
    assert edit.reached.sum() > once.reached.sum()  # the restarts won somewhere


def test_a_failed_edit_says_so_and_keeps_the_referees_best_attempt():
    class ReadsZero:
        def probabilities(self, images):
            probs = np.full((len(images), 10), 0.0)
            probs[:, 0] = 1.0
            return probs

    class ReadsFive:
        def probabilities(self, images):
            return np.eye(10)[np.full(len(images), 5)]

    generator, judge = random_generator(), LinearJudge()
    z = torch.rand(3, 100, generator=torch.Generator().manual_seed(2)) * 2 - 1
    edit = toward_digit(generator, judge, z, 5, referee=ReadsZero(), steps=6, target_p=0.999)
    assert not edit.reached.any() and np.all(edit.referee_p == 0.0)
    assert np.all(edit.read_digit == 0) and np.all(edit.read_p == 1.0) and np.all(edit.attempts == 1 + RESTARTS)
    assert np.all(edit.judge_p[-1] > edit.judge_p[0])  # the judge climbed: only the referee says no
    # An attempt stops once the judge gives target_p only where the referee reads the digit too: against a
    # referee that never does, the climb goes on past the judge's target.
    agreeing = toward_digit(generator, judge, z, 5, referee=ReadsFive(), steps=40, target_p=0.5, restarts=0)
    refusing = toward_digit(generator, judge, z, 5, referee=ReadsZero(), steps=40, target_p=0.5, restarts=0)
    stopped = agreeing.steps_taken < 40
    assert agreeing.reached.all() and stopped.any() and np.all(agreeing.judge_p[-1, stopped] >= 0.5)
    assert np.all(refusing.steps_taken[stopped] > agreeing.steps_taken[stopped])
    alone = toward_digit(generator, judge, z, 5, steps=6, target_p=0.999, restarts=0)  # no referee: the judge's
    with torch.no_grad():
        judge_p = torch.softmax(judge(generator(torch.as_tensor(alone.final))), 1)[:, 5].numpy()
    np.testing.assert_allclose(alone.referee_p, judge_p, rtol=1e-5)


def test_each_row_gets_its_own_digit_and_pull_one_keeps_the_start():
    generator, judge = random_generator(), LinearJudge()
    z = torch.rand(3, 100, generator=torch.Generator().manual_seed(1)) * 2 - 1
    edit = toward_digit(generator, judge, z, np.array([0, 4, 9]), steps=3, pull=1.0)
    np.testing.assert_allclose(edit.final, z.numpy(), atol=1e-6)
    # Each row climbs toward its own digit: its digit's shifted log-probability rises, and the path's
    # probabilities are the judge's for that digit (not for another row's).
    digits = (0, 4, 9)
    edit = toward_digit(generator, judge, z, np.array(digits), steps=3, restarts=0)
    with torch.no_grad():
        start, final = generator(z), generator(torch.as_tensor(edit.final))
        final_p = torch.softmax(judge(final), 1).numpy()
    for row, digit in enumerate(digits):
        gained = shifted_log_p(judge, final[row:row + 1], digit) - shifted_log_p(judge, start[row:row + 1], digit)
        assert gained[0] > 0, f"row {row} did not climb toward {digit}"
        np.testing.assert_allclose(edit.judge_p[-1, row], final_p[row, digit], rtol=1e-4, err_msg=f"row {row}")


def test_should_stop_cancels_between_steps():
    calls = []

    def stop_after_two():
        calls.append(1)
        return len(calls) > 2

    # target_p above 1: the judge is never "convinced", so only the stop can end it early
    edit = toward_digit(random_generator(), LinearJudge(), torch.zeros(1, 100), 3, steps=10, target_p=1.1,
                        max_pixel_change=1.0, should_stop=stop_after_two)
    assert edit.cancelled and len(edit.path) == 3 and edit.steps_taken[0] == 2


class Identity(nn.Module):
    z_dim = 4

    def forward(self, z):
        return z


class SignOfFirst(nn.Module):
    """Class 1 when z[0] > 0, else class 0: the class direction of 1 is +E[z0 | z0 > 0] = +0.5 along z0."""

    def forward(self, x):
        logits = torch.full((len(x), 10), -10.0)
        logits[:, 0] = -x[:, 0] * 100
        logits[:, 1] = x[:, 0] * 100
        return logits


def test_class_directions_are_class_means_minus_the_overall_mean():
    rows = class_directions(Identity(), SignOfFirst(), n=20_000)
    assert rows.shape == (10, 4)
    np.testing.assert_allclose(rows[1], [0.5, 0, 0, 0], atol=0.02)
    np.testing.assert_allclose(rows[0], [-0.5, 0, 0, 0], atol=0.02)
    assert np.all(rows[2:] == 0)  # never predicted: no direction


def test_on_the_demo_the_verdict_is_the_referees_on_the_image_shown():
    """"Toward 8" from a readable start of the demo (the issue's case started from a 0): what the edit reports is
    what the referee reads on the final image, success or not."""
    generator, judge_net, referee = demo_models()
    starts = readable_latents(generator, referee, generator.z_dim, digit=0, count=1)
    edit = toward_digit(generator, judge_net, starts.z, 8, referee=referee)
    probs = referee.probabilities(generate(generator, torch.from_numpy(edit.final)))
    np.testing.assert_array_equal(edit.reached, probs[:, 8] >= 0.9)
    np.testing.assert_allclose(edit.referee_p, probs[:, 8], rtol=1e-5)
    assert edit.reached.all()  # this start makes a readable 8
    assert np.all(edit.pixel_change <= MAX_PIXEL_CHANGE + 1e-6)
