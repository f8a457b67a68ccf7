"""evaluating(): eval mode (and, when asked, frozen weights) inside the block, each network exactly as it
was after it, even when the block fails."""

import pytest
import torch
from torch import nn

from gan_core.gan.modes import evaluating


def nets():
    training = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5)).train()
    frozen_bias = nn.Linear(4, 2).eval()
    frozen_bias.bias.requires_grad_(False)  # a flag that differs between weights must come back as it was
    return training, frozen_bias


def flags(*modules):
    return [p.requires_grad for m in modules for p in m.parameters()]


def test_eval_mode_inside_and_each_mode_restored_after():
    a, b = nets()
    with evaluating(a, None, b):  # None is skipped: an optional judge
        assert not a.training and not b.training and not any(m.training for m in a.modules())
        assert flags(a, b) == [True, True, True, False]  # not frozen: gradients still reach the weights
    assert a.training and all(m.training for m in a.modules()) and not b.training
    assert flags(a, b) == [True, True, True, False]


def test_frozen_weights_get_no_gradients_and_their_flags_come_back():
    a, b = nets()
    x = torch.ones(1, 3, requires_grad=True)
    with evaluating(a, b, frozen=True):
        assert flags(a, b) == [False] * 4
        b(a(x)).sum().backward()
        assert x.grad is not None and all(p.grad is None for m in (a, b) for p in m.parameters())
    assert flags(a, b) == [True, True, True, False] and a.training and not b.training


def test_modes_and_flags_are_restored_when_the_block_raises():
    a, b = nets()
    with pytest.raises(RuntimeError, match="inside"), evaluating(a, b, frozen=True):
        assert not a.training and flags(a, b) == [False] * 4
        raise RuntimeError("inside")
    assert a.training and not b.training and flags(a, b) == [True, True, True, False]
