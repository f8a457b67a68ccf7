"""Latent-space maths: slider overrides, sweeps, interpolation.

Pure torch/numpy, no Streamlit and no global RNG: every draw uses its own ``torch.Generator`` so that
exploring latents never disturbs the trainer's RNG streams (which a bit-exact resume relies on).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

Z_LOW, Z_HIGH = -1.0, 1.0  # the prior's support: z ~ Uniform[-1, 1]^z_dim


def with_values(base: torch.Tensor, dims: Sequence[int], values: Sequence[float]) -> torch.Tensor:
    """A copy of the (z_dim,) vector ``base`` with ``base[dims[i]] = values[i]``, clipped to the prior."""
    if len(dims) != len(values):
        raise ValueError(f"{len(dims)} dims but {len(values)} values")
    z = base.detach().clone().reshape(-1)
    if len(dims):
        z[list(dims)] = torch.tensor(list(values), dtype=z.dtype).clamp(Z_LOW, Z_HIGH)
    return z


def sweep(z: torch.Tensor, dims: Sequence[int], steps: int = 9) -> torch.Tensor:
    """(len(dims) * steps, z_dim): row r sweeps ``dims[r]`` from -1 to 1, the other entries stay at ``z``."""
    if steps < 2:
        raise ValueError("a sweep needs at least 2 steps")
    z = z.reshape(1, -1)
    values = torch.linspace(Z_LOW, Z_HIGH, steps, dtype=z.dtype)
    rows = z.repeat(len(dims) * steps, 1)
    for r, dim in enumerate(dims):
        rows[r * steps:(r + 1) * steps, dim] = values
    return rows


def interpolate(z_a: torch.Tensor, z_b: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """(steps, z_dim) straight-line points from ``z_a`` to ``z_b``, both ends included.

    Linear is right for this prior: the uniform box is convex, so every point stays in its support
    (spherical interpolation suits Gaussian priors instead).
    """
    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps")
    t = torch.linspace(0.0, 1.0, steps, dtype=z_a.dtype).reshape(-1, 1)
    return (1.0 - t) * z_a.reshape(1, -1) + t * z_b.reshape(1, -1)


PRIOR_CENTRE = (Z_LOW + Z_HIGH) / 2.0


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    """The truncation trick for this prior: z scaled toward the box's centre by ``psi`` (1 = untouched,
    0 = the centre itself). Stays in the box for psi in [0, 1]."""
    if not 0.0 <= psi <= 1.0:
        raise ValueError(f"psi must be in [0, 1], got {psi}")
    return PRIOR_CENTRE + psi * (z - PRIOR_CENTRE)

