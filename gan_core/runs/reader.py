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
from torch import nn

from ..config import GANConfig
from ..gan.history import history_columns, latest_row
from ..gan.losses import loss_view
from ..gan.model import Generator, balanced_labels, generate, grid_labels, seeded_z
from ..gan.nets import make_discriminator, make_generator
from ..quality.metrics import last_fid, run_warnings
from ..quality.verdict import VERDICT_NOISE_SEED, VERDICT_REAL, real_fake_histogram
from ..quality.verdict import verdict as verdict_of
from .checkpoint import load_generator, load_state
from .snapshot import Snapshot, Status, pick_generator


class RunReader(Protocol):
    """What every view may ask of a run. ``Trainer``, ``TrainerProcess``, ``SavedRun`` and ``DemoRun``
    implement it."""

    config: GANConfig

    def snapshot(self) -> Snapshot: ...

    def history(self) -> np.ndarray: ...

    def epoch_log(self) -> tuple[dict[str, float], ...]: ...

    def metrics(self) -> tuple[dict[str, Any], ...]: ...

    def warnings(self) -> list[str]: ...

    def edits(self) -> tuple[dict[str, Any], ...]: ...

    def has_weights(self, which: str = "ema") -> bool:
        """Whether ``sample(z, which)`` draws images: a live run before its first publication has no
        weights, and the demo has no raw G."""
        ...

    def sample(self, z: torch.Tensor, which: str = "ema", labels: torch.Tensor | None = None) -> np.ndarray | None:
        """Images of ``z`` (and, for a conditional run, one label each), or None without weights."""
        ...

    def verdicts(self, real_images: torch.Tensor | None = None) -> dict[str, Any] | None: ...

    def generator_copy(self) -> Generator | None: ...


class SavedRun:
    """A run as its checkpoint left it: read once, never trained, safe to share between threads.

    ``record`` is a checkpoint record (``checkpoint.load_checkpoint``), or one built from another saved
    form of a run (the demo's manifest); ``raw`` is the trained G, None where the run ships none.
    """

    read_only = False  # True for a run that can never be continued (the demo)

    def __init__(self, name: str, record: dict[str, Any], generator: Generator, raw: Generator | None) -> None:
        self.config: GANConfig = record["config"]
        history = record["history"]  # a tensor in a checkpoint, an array in the demo's manifest
        history = history.float().numpy() if isinstance(history, torch.Tensor) else history
        self._history = history_columns(np.array(history, dtype=np.float32))
        self._epoch_log = tuple(record["epoch_log"])
        self._metrics = tuple(record.get("metrics_log", ()))
        self._edits = tuple(dict(edit) for edit in record.get("edits", ()))
        self.generator = generator  # the EMA generator in eval mode (the trained G when the run keeps none)
        self._raw = raw
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
        raw = make_generator(record["config"])
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

    def last_fid(self) -> dict[str, Any] | None:
        """The run's last FID (``metrics.last_fid``) and when it was measured; None when never."""
        fid = last_fid(self.metrics())
        return None if fid is None else {**fid, "when": "during training"}

    def data_source(self) -> dict[str, Any]:
        """What the run trained on as its checkpoint records it (kind, sizes, message, ...); {} if unrecorded."""
        return dict(self._record.get("data_source") or {})

    def warnings(self) -> list[str]:
        return run_warnings(self._metrics, self._epoch_log, loss_view(self.config.loss).d_wins_below)

    def has_weights(self, which: str = "ema") -> bool:
        return pick_generator(which, self.generator, self._raw) is not None

    def sample(self, z: torch.Tensor, which: str = "ema", labels: torch.Tensor | None = None) -> np.ndarray | None:
        """Images from the EMA generator (``which`` "ema") or the trained G ("raw"; None without one); a
        conditional run needs one label per latent (``gan.model.generate``)."""
        generator = pick_generator(which, self.generator, self._raw)
        return None if generator is None else generate(generator, z, labels).numpy()

    def verdicts(self, real_images: torch.Tensor | None = None) -> dict[str, Any] | None:
        """D's verdict on the preview grid (see ``saved_verdicts``), computed once; given real images (the
        run's training digits), the real-vs-fake histogram as well."""
        if self._verdicts is None or (real_images is not None and self._verdicts["histogram"] is None):
            self._verdicts = saved_verdicts(self._record, self.generator, real_images)
        return self._verdicts

    def generator_copy(self) -> Generator:
        """A private eval-mode copy of the generator, for work that needs gradients (edits, inversion)."""
        return copy.deepcopy(self.generator).eval()


def saved_verdicts(record: dict[str, Any], generator: nn.Module,
                   real_images: torch.Tensor | None = None) -> dict[str, Any]:
    """``live_verdicts`` for a checkpoint record (``generator``: the one people see): D's verdict on the
    preview grid of the shown and of the trained G and, given real images, the real-vs-fake histogram
    against the trained G's samples. A record without the trained G (the demo run ships only its EMA
    generator) has no "grid_raw", and its histogram's fakes come from ``generator`` ("histogram_fake")."""
    config = record["config"]
    discriminator = make_discriminator(config)
    load_state(discriminator, record["discriminator"], "checkpoint", "discriminator")
    trained = None
    if record.get("generator") is not None:
        trained = make_generator(config)
        load_state(trained, record["generator"], "checkpoint", "generator")
    asked = grid_labels(generator, len(record["preview_z"]))
    grid = generate(generator, record["preview_z"], asked)
    on_raw = None if trained is None else \
        verdict_of(discriminator, generate(trained, record["preview_z"], asked), config, asked)
    histogram = None
    if real_images is not None:
        step = max(1, len(real_images) // VERDICT_REAL)
        real = real_images[::step][:VERDICT_REAL]
        fake_labels = balanced_labels(generator, len(real))
        fake = generate(trained if trained is not None else generator,
                        seeded_z(VERDICT_NOISE_SEED, config.z_dim, len(real)), fake_labels)
        histogram = real_fake_histogram(discriminator, real, fake, config, fake_labels=fake_labels)
    return {"epoch": int(record["epoch"]), "step": int(record["step"]),
            "grid": verdict_of(discriminator, grid, config, asked).as_dict(),
            "grid_raw": None if on_raw is None else on_raw.as_dict(), "histogram": histogram,
            "histogram_fake": "raw" if trained is not None else "ema"}
