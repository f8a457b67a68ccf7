"""The small public entry point: open a saved run (or the shipped demo) from Python and sample from it.

    from gan_core import open_run
    run = open_run("checkpoints/NAME")        # a run folder, its checkpoint.pt, or a demo folder ("demo")
    images = run.sample(16, seed=0)           # numpy float32 (16, 28, 28) in [0, 1]

A thin face over ``reader.SavedRun`` / ``demo.DemoRun``, the readers the app itself uses: the images of
``sample(n, seed)`` are the app's and the CLI's for that seed (``seeded_z(seed, z_dim, n)`` through
``model.generate``, the EMA generator in eval mode), so the library keeps one way to draw digits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import GANConfig
from ..gan.history import HISTORY
from ..gan.model import Generator, seeded_z
from .checkpoint import CheckpointError
from .demo import DemoRun, is_demo, open_demo
from .folder import CHECKPOINT_NAME
from .reader import SavedRun


class Run:
    """A finished or stopped run, read-only: its config, its per-step history, its generator, its samples."""

    def __init__(self, reader: SavedRun, path: Path) -> None:
        self.reader = reader  # the app's reader of this run (snapshot, metrics, verdicts, ...)
        self.path = path  # the run's folder
        self.name = path.name

    @property
    def config(self) -> GANConfig:
        """The run's training configuration (the one typed ``GANConfig``)."""
        return self.reader.config

    @property
    def history(self) -> np.ndarray:
        """Per-step float32 rows, read-only, one column per name in ``columns``: D and G losses, mean D(x),
        mean D(G(z)), D's and G's gradient norms (NaN where a run saved before they were recorded)."""
        return self.reader.history()

    columns = HISTORY

    @property
    def generator(self) -> Generator:
        """The EMA generator (the trained G when the run keeps none) in eval mode: an ``nn.Module`` mapping
        z of shape (batch, z_dim), drawn from Uniform[-1, 1], to flat images (batch, 784) in [0, 1]. It is
        the one ``sample`` uses: change it and the samples change."""
        return self.reader.generator

    @property
    def epoch(self) -> int:
        return self.reader.snapshot().epoch

    @property
    def is_demo(self) -> bool:
        return isinstance(self.reader, DemoRun)

    def metrics(self) -> tuple[dict[str, Any], ...]:
        """The quality rows measured while training (FID, IS, ... per evaluated epoch); may be empty."""
        return self.reader.metrics()

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> np.ndarray:
        """``n`` images, float32 (n, 28, 28) in [0, 1], of the latents ``seeded_z(seed, z_dim, n)``: the same
        digits ``python -m gan_core sample --seed`` writes, and image 0 is the latent lab's digit of ``seed``.
        A conditional run draws class ``label`` (required there; refused by an unconditional run)."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        labels = None if label is None else torch.full((n,), int(label), dtype=torch.long)
        return self.reader.sample(seeded_z(seed, self.config.z_dim, n), labels=labels)

    def __repr__(self) -> str:
        kind = "demo" if self.is_demo else "run"
        return f"<gan_core {kind} '{self.name}': epoch {self.epoch}, {self.config.dataset}, z_dim {self.config.z_dim}>"


def open_run(path: str | os.PathLike[str]) -> Run:
    """Open a saved run: its folder (``checkpoints/NAME``), its ``checkpoint.pt``, or a demo folder (the
    shipped ``demo/``). Raises ``CheckpointError`` (a ``DemoError`` for the demo) naming the file when it
    is missing, damaged or refused; weights are read without running code."""
    path = Path(path)
    if path.is_dir() and is_demo(path):
        return Run(open_demo(path, name=path.name), path)
    checkpoint = path / CHECKPOINT_NAME if path.is_dir() or not path.suffix else path
    if not checkpoint.is_file():
        raise CheckpointError(f"{checkpoint}: no checkpoint file (open_run takes a run folder, its "
                              f"{CHECKPOINT_NAME}, or a demo folder)")
    return Run(SavedRun.open(checkpoint), checkpoint.parent)
