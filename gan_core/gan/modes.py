"""Looking at a network without changing it: eval mode (and, when asked, frozen weights), restored after.

Every view, metric and latent tool runs G, D or a classifier in eval mode (running BatchNorm statistics,
no dropout, spectral norm's stored vectors), often with its weights frozen so that gradients flow only to
the input; the network must come back exactly as it was, training mode and ``requires_grad`` flags
included, even when the work in between fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def evaluating(*modules: nn.Module | None, frozen: bool = False) -> Iterator[None]:
    """Eval mode for each module (None is skipped) inside the block; with ``frozen``, also no gradients
    for their weights. On leaving, each module's mode and each weight's ``requires_grad`` are restored."""
    nets = [m for m in modules if m is not None]
    modes = [m.training for m in nets]
    params = [p for m in nets for p in m.parameters()] if frozen else []
    flags = [p.requires_grad for p in params]
    for m in nets:
        m.eval()
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for m, mode in zip(nets, modes, strict=True):
            m.train(mode)
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad_(flag)
