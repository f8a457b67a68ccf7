"""One way to read a run, live or saved.

A live run is a ``Trainer`` (or ``process.TrainerProcess``): it publishes snapshots while it trains. A saved
run is its checkpoint. Both answer the same questions through ``RunReader``, so a view asks "what is this
run's step, history, metrics, sample of z?" once, without caring where the answers come from.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from .checkpoint import load_generator
from .config import GANConfig
from .history import latest_row
from .losses import loss_view
from .metrics import run_warnings
from .model import Generator, generate
from .verdict import saved_verdicts
from .view import Snapshot, Status


class RunReader(Protocol):
    """What every view may ask of a run. ``Trainer``, ``TrainerProcess`` and ``SavedRun`` implement it."""

    config: GANConfig

    def snapshot(self) -> Snapshot: ...

    def history(self) -> np.ndarray: ...

    def epoch_log(self) -> tuple[dict[str, float], ...]: ...

    def metrics(self) -> tuple[dict[str, Any], ...]: ...

    def warnings(self) -> list[str]: ...

    def edits(self) -> tuple[dict[str, Any], ...]: ...

    def sample(self, z: torch.Tensor, which: str = "ema") -> np.ndarray | None: ...

    def verdicts(self, real_images: torch.Tensor | None = None) -> dict[str, Any] | None: ...

    def generator_copy(self) -> Generator | None: ...


class SavedRun:
    """A run as its checkpoint left it: read once, never trained, safe to share between threads."""

    def __init__(self, name: str, record: dict[str, Any], generator: Generator, raw: Generator | None = None) -> None:
        self.config: GANConfig = record["config"]
        self._history = record["history"].numpy().astype(np.float32)
        self._history.flags.writeable = False
        self._epoch_log = tuple(record["epoch_log"])
        self._metrics = tuple(record.get("metrics_log", ()))
        self._edits = tuple(dict(edit) for edit in record.get("edits", ()))
        self._generator = generator  # the EMA generator (the trained G when the run keeps none)
        self._raw = raw or generator
        self._record = record
        self._verdicts: dict[str, Any] | None = None  # only grown (a histogram added), so racing readers agree
        epoch, step = int(record["epoch"]), int(record["step"])
        self._snapshot = Snapshot(
            run=name, status=Status.FINISHED if epoch >= self.config.epochs else Status.IDLE, epoch=epoch,
            epochs_total=self.config.epochs, step=step, weights_version=step, **latest_row(self._history))

    @classmethod
    def open(cls, path: str | Path) -> SavedRun:
        """Read ``checkpoints/<run>/checkpoint.pt``; raises ``CheckpointError`` when it is damaged."""
        generator, record = load_generator(path)
        raw = Generator(record["config"])
        raw.load_state_dict(record["generator"])  # load_generator checked these weights against the config
        return cls(Path(path).parent.name, record, generator, raw.eval().requires_grad_(False))

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def history(self) -> np.ndarray:
        return self._history

    def epoch_log(self) -> tuple[dict[str, float], ...]:
        return self._epoch_log

    def metrics(self) -> tuple[dict[str, Any], ...]:
        return self._metrics

    def edits(self) -> tuple[dict[str, Any], ...]:
        return self._edits

    def warnings(self) -> list[str]:
        return run_warnings(self._metrics, self._epoch_log, loss_view(self.config.loss).d_wins_below)

    def sample(self, z: torch.Tensor, which: str = "ema") -> np.ndarray:
        """Images from the EMA generator (``which`` "ema") or the trained G ("raw")."""
        if which not in ("ema", "raw"):
            raise ValueError(f"which must be 'ema' or 'raw', got {which!r}")
        return generate(self._generator if which == "ema" else self._raw, z).numpy()

    def verdicts(self, real_images: torch.Tensor | None = None) -> dict[str, Any] | None:
        """D's verdict on the preview grid (see ``verdict.saved_verdicts``), computed once; given real images
        (the run's training digits), the real-vs-fake histogram as well."""
        if self._verdicts is None or (real_images is not None and self._verdicts["histogram"] is None):
            self._verdicts = saved_verdicts(self._record, self._generator, real_images)
        return self._verdicts

    def generator_copy(self) -> Generator:
        """A private eval-mode copy of the generator, for work that needs gradients (edits, inversion)."""
        return copy.deepcopy(self._generator).eval()
