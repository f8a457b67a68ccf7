import numpy as np

from gan_core.quality.judge import JudgeNet, load_or_train_judge
from gan_core.quality.referee import RefereeNet, load_or_train_referee

from helpers import tiny_data


def test_referee_is_another_network_cached_next_to_the_judge(tmp_path):
    data = tiny_data(100)
    referee = load_or_train_referee(data, tmp_path, steps=20)
    assert isinstance(referee.net, RefereeNet) and not isinstance(referee.net, JudgeNet)
    assert not referee.cached and referee.path.parent == tmp_path and referee.path.name.startswith("referee-")
    again = load_or_train_referee(data, tmp_path, steps=20)
    assert again.cached
    probs = referee.probabilities(data.images[:10])
    assert probs.shape == (10, 10)
    np.testing.assert_allclose(again.probabilities(data.images[:10]), probs)
    judge = load_or_train_judge(data, tmp_path, steps=20)
    assert judge.path != referee.path and judge.path.parent == referee.path.parent
    assert not np.allclose(judge.net.head.weight.detach().numpy()[:, :96], referee.net.head.weight.detach().numpy())


def test_the_referee_draws_nothing_from_the_global_rng_yet_starts_from_torchs_default_init():
    """It is prepared on a thread beside a training run, which shares the global RNG: a draw there would
    break the run's bit-exact resume (it did, in test_core_resume, before new_referee)."""
    import torch

    from gan_core.quality.referee import REFEREE_SEED, new_referee, train_referee

    torch.manual_seed(REFEREE_SEED)
    reference = RefereeNet()  # torch's default init, drawn from the global RNG
    fresh = new_referee(torch.Generator().manual_seed(REFEREE_SEED))
    for key, value in reference.state_dict().items():
        assert torch.equal(value, fresh.state_dict()[key]), key
    data = tiny_data(60)
    before = torch.get_rng_state()
    train_referee(data.images, data.labels, steps=3)
    assert torch.equal(torch.get_rng_state(), before)
