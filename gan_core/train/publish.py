"""The trainer's write side of ``TrainerView``: what readers on other threads may see of the run.

``Publisher`` owns everything the training thread publishes: the per-step stats it reads back to the
host once per many steps (refusing a diverged run there), the images/s rate, the eval-mode CPU copies
of the generators and D's verdicts, the run's tables (history, epoch log, metrics, edits) and the
snapshot. What it publishes is immutable once out, so readers never see the training state itself.
"""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from typing import Any

import torch

from ..gan.history import STATS, latest_row
from ..gan.model import Generator
from ..gan.state import GANState
from ..gan.stepping import StepReport
from ..quality.verdict import live_verdicts
from ..runs.snapshot import TrainerView

# How stale a reader's generator copies may get while training (an epoch's end refreshes them too). A
# refresh deep-copies both generators to the CPU and re-estimates the EMA generator's BatchNorm statistics
# on the training thread, so it is spaced in time instead of following every flush.
GENERATOR_SECONDS = 2.0
# How stale D's verdicts may get while training (an epoch's end refreshes them too). They cost D's passes
# over the preview images and a real sample on the training thread, so they come with every other
# generator refresh, not with each.
VERDICT_SECONDS = 2 * GENERATOR_SECONDS
RATE_WINDOW_SECONDS = 5.0  # images/s is measured over roughly this much recent time


class DivergedError(RuntimeError):
    pass


class Publisher:
    """Publishes the training thread's state into ``view`` (the trainer itself), under the view's lock."""

    def __init__(self, view: TrainerView, *, generator_seconds: float = GENERATOR_SECONDS,
                 verdict_seconds: float = VERDICT_SECONDS) -> None:
        self.view = view
        self.generator_seconds = generator_seconds
        self.verdict_seconds = verdict_seconds
        self.steps_per_epoch = 0  # for the ETA
        self.verdict_real: torch.Tensor | None = None  # the real images D's live histogram is drawn from
        self._pending: list[torch.Tensor] = []  # step stats still on the device, read back by flush()
        self._rate = Rate()
        self._generators_at = -generator_seconds
        self._verdicts_at = -verdict_seconds

    # --- the snapshot and the tables --------------------------------------------------------------

    def publish(self, **changes: Any) -> None:
        """Replace fields of the snapshot."""
        with self.view._lock:
            self.view._snapshot = replace(self.view._snapshot, **changes)

    def begin(self, state: GANState, real_images: torch.Tensor, steps_per_epoch: int) -> None:
        """The run as it starts or continues: its generators, D's verdicts (on ``real_images`` from now
        on) and all of its tables."""
        self.steps_per_epoch = steps_per_epoch
        self.verdict_real = real_images
        self.generators(state, verdicts=True)
        with self.view._lock:
            self.view._history = state.history_array()
            self.view._epoch_log = tuple(state.epoch_log)
            self.view._metrics = tuple(state.metrics_log)
            self.view._edits = tuple(state.edits)

    def metrics(self, state: GANState) -> None:
        with self.view._lock:
            self.view._metrics = tuple(state.metrics_log)

    def edits(self, state: GANState) -> None:
        with self.view._lock:
            self.view._edits = tuple(state.edits)

    def step_report(self, report: StepReport) -> None:
        with self.view._lock:
            self.view._step_report = report

    def epoch(self, state: GANState) -> None:
        """The finished epoch: its log row, then its number (last: whoever sees it sees the rest)."""
        with self.view._lock:
            self.view._epoch_log = tuple(state.epoch_log)
        self.publish(epoch=state.epoch)

    # --- step stats ----------------------------------------------------------------------------------

    def record(self, row: torch.Tensor) -> None:
        """One step's HISTORY row, still on the device: it is read back with the others by ``flush``."""
        self._pending.append(row)

    def pending(self) -> int:
        return len(self._pending)

    def flush(self, state: GANState) -> None:
        """Read the pending step stats back to the host (one sync for many steps) and publish them."""
        if not self._pending:
            return
        chunk = torch.stack(self._pending).float().cpu()
        first_step = state.step - len(self._pending) + 1
        self._pending.clear()
        bad = ~torch.isfinite(chunk[:, :len(STATS)]).all(dim=1)  # the losses: a NaN weight shows there next
        if bad.any():
            step = first_step + int(bad.nonzero()[0, 0])
            raise DivergedError(f"diverged at step {step}: a loss became NaN or infinite; "
                                f"the last good checkpoint is kept")
        state.history.append(chunk.numpy())
        history = state.history_array()
        images_per_sec = self._rate.update(len(chunk) * state.config.batch_size)
        steps_left = (state.config.epochs - state.epoch) * self.steps_per_epoch - state.batch_in_epoch
        eta = steps_left * state.config.batch_size / images_per_sec if images_per_sec > 0 else None
        with self.view._lock:
            self.view._history = history
        self.publish(step=state.step, images_per_sec=images_per_sec, eta_seconds=eta, **latest(state))

    def restart_rate(self) -> None:
        """Forget the rate's marks (after a pause: its time is no training time)."""
        self._rate.reset()

    # --- the generators and D's verdicts -------------------------------------------------------------

    def generators(self, state: GANState, verdicts: bool = False) -> None:
        """Swap in fresh eval-mode CPU copies of the EMA generator and G: readers keep whichever copies
        they already hold. D's verdicts follow when ``verdicts`` or every ``verdict_seconds``."""
        raw = _eval_copy(state.generator)
        shown = raw if state.ema is None else _eval_copy(state.shown_generator())
        judged = None
        due = verdicts or time.monotonic() - self._verdicts_at >= self.verdict_seconds
        if self.verdict_real is not None and due:
            judged, self._verdicts_at = live_verdicts(state, self.verdict_real), time.monotonic()
        with self.view._lock:
            self.view._published, self.view._published_raw = shown, raw
            self.view._verdicts = judged or self.view._verdicts
            snapshot = self.view._snapshot
            self.view._snapshot = replace(snapshot, weights_version=snapshot.weights_version + 1)
        self._generators_at = time.monotonic()

    def generators_if_due(self, state: GANState) -> None:
        """The generators (and verdicts, when theirs are due) once ``generator_seconds`` have passed."""
        if time.monotonic() - self._generators_at >= self.generator_seconds:
            self.generators(state)

    def epoch_generators(self, state: GANState) -> None:
        """At an epoch's end: the generators and D's verdicts, whatever the time."""
        self.generators(state, verdicts=True)

    def shown(self) -> Generator | None:
        """The latest published copy of the shown generator (eval mode, CPU, never trained)."""
        with self.view._lock:
            return self.view._published


class Rate:
    """Images per second over a short sliding window of (time, images) marks."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._marks: list[tuple[float, int]] = [(time.monotonic(), 0)]
        self._total = 0

    def update(self, images: int) -> float:
        now = time.monotonic()
        self._total += images
        self._marks.append((now, self._total))
        while len(self._marks) > 2 and now - self._marks[1][0] >= RATE_WINDOW_SECONDS:
            self._marks.pop(0)
        (t0, n0), (t1, n1) = self._marks[0], self._marks[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def latest(state: GANState) -> dict[str, float | None]:
    """The snapshot's loss fields from the latest history row."""
    return latest_row(state.history_array())


def _eval_copy(generator: Generator) -> Generator:
    copy_ = copy.deepcopy(generator).cpu().eval()
    copy_.requires_grad_(False)
    return copy_
