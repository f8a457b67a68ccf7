"""What every epoch's end records, whatever else is due: the epoch's means and its sample grid.

``close_epoch`` moves the training state past a finished epoch (its loss means into the epoch log, a
fresh order for the next one); ``SampleGrid`` saves the published generator's fixed-noise grid to the
run folder, one PNG per epoch.
"""

from __future__ import annotations

import numpy as np

from ..gan.history import STATS
from ..gan.model import generate
from ..gan.state import GANState
from ..images import make_grid, save_png
from ..runs.folder import RunPaths
from .publish import Publisher


def close_epoch(state: GANState, steps_per_epoch: int) -> None:
    """Count the epoch done: the means of its steps' losses (and its seconds) into ``state.epoch_log``,
    and no batch order, so that the next epoch draws its own."""
    rows = state.history_array()[-steps_per_epoch:, :len(STATS)]
    state.epoch += 1
    means = rows.astype(np.float64).mean(axis=0)
    state.epoch_log.append({"epoch": state.epoch, **{k: float(v) for k, v in zip(STATS, means, strict=True)},
                            "seconds": state.epoch_seconds})
    state.perm = None
    state.batch_in_epoch, state.epoch_seconds = 0, 0.0


class SampleGrid:
    """The epoch's 10x10 grid of the preview noise through the published generator, as a PNG."""

    def __init__(self, paths: RunPaths, publisher: Publisher) -> None:
        self.paths = paths
        self.publisher = publisher

    def epoch_ended(self, state: GANState) -> None:
        generator = self.publisher.shown()
        if generator is not None:
            grid = generate(generator, state.preview_z, state.preview_labels).numpy()  # row r: label r
            save_png(make_grid(grid, ncols=10), self.paths.sample(state.epoch))
