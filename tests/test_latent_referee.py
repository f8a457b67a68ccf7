import numpy as np

from gan_core.judge import JudgeNet, load_or_train_judge
from gan_core.referee import RefereeNet, load_or_train_referee

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
