"""One generator call per latent-lab view: where the big digit, the sweep rows and the strip sit in the batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gan_core.latent.sampling import interpolate, sweep


@dataclass(frozen=True)
class LabBatch:
    """Where each part of one batched generator call lands: the digit, the sweep rows, the strip."""

    n_sweep: int
    n_strip: int

    def split(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(digit (28, 28), sweep (n_sweep, 28, 28), strip (n_strip, 28, 28))."""
        digit = images[0]
        sweep_images = images[1:1 + self.n_sweep]
        strip = images[1 + self.n_sweep:1 + self.n_sweep + self.n_strip]
        return digit, sweep_images, strip


def lab_batch(z: torch.Tensor, dims: Sequence[int], sweep_steps: int, z_a: torch.Tensor, z_b: torch.Tensor,
              strip_steps: int) -> tuple[torch.Tensor, LabBatch]:
    """All latents of one latent-lab view stacked into one batch, so the generator runs once per rerun."""
    sweep_rows = sweep(z, dims, sweep_steps) if len(dims) else z.reshape(1, -1)[:0]
    strip = interpolate(z_a, z_b, strip_steps)
    batch = torch.cat((z.reshape(1, -1), sweep_rows, strip))
    return batch, LabBatch(len(sweep_rows), len(strip))
