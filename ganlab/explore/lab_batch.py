"""One generator call per latent-lab view: where the big digit, the sweep rows and the strip sit in the batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gan_core.latent.directions import sweep_directions
from gan_core.latent.sampling import interpolate, truncate


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


def lab_batch(z: torch.Tensor, vectors: np.ndarray, span: float, sweep_steps: int, strip_end: torch.Tensor,
              strip_steps: int, psi: float = 1.0) -> tuple[torch.Tensor, LabBatch]:
    """All latents of one latent-lab view in one batch, so the generator runs once per rerun: z (the base
    moved by the sliders), one sweep row per slider direction (from -span to span around z) and the strip
    from z to ``strip_end``; truncation ``psi`` applies to every one of them alike."""
    z = z.reshape(1, -1)
    rows = sweep_directions(z, vectors, sweep_steps, span) if len(vectors) else z[:0]
    strip = interpolate(z[0], strip_end.reshape(-1), strip_steps)
    batch = truncate(torch.cat((z, rows, strip)), psi)
    return batch, LabBatch(len(rows), len(strip))
