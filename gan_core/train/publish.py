"""How the training thread tells readers what it did: step stats read back in batches, snapshots, weights.

``Publishing`` is the part of ``trainer.Trainer`` that writes the ``TrainerView`` fields: it reads the
pending per-step stats back to the host once per many steps (refusing a diverged run there), measures
images/s, and swaps in eval-mode copies of the generators and D's verdicts. Everything it publishes is
immutable once out, so readers on other threads never see the training state itself.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import replace

import torch

from ..gan.history import STATS, latest_row
from ..gan.model import Generator
from ..gan.state import GANState
from ..quality.verdict import live_verdicts
from ..runs.snapshot import Snapshot, TrainerView

VERDICT_SECONDS = 4.0  # how often D's verdicts are refreshed while training (the page redraws every 4 s)
RATE_WINDOW_SECONDS = 5.0  # images/s is measured over roughly this much recent time


class DivergedError(RuntimeError):
    pass


class Publishing(TrainerView):
    """The publishing side of the training thread (see ``trainer.Trainer`` for the fields' owners)."""

    _callbacks: list[Callable[[str, Snapshot], None]]
    _steps_per_epoch: int
    _verdict_real: torch.Tensor | None  # the real images D's live histogram is drawn from
    _verdicts_at: float

    def _flush(self, state: GANState, pending: list[torch.Tensor], rate: Rate) -> None:
        """Read the pending step stats back to the host (one sync for many steps) and publish them."""
        if not pending:
            return
        chunk = torch.stack(pending).float().cpu()
        first_step = state.step - len(pending) + 1
        pending.clear()
        bad = ~torch.isfinite(chunk[:, :len(STATS)]).all(dim=1)  # the losses: a NaN weight shows there next
        if bad.any():
            step = first_step + int(bad.nonzero()[0, 0])
            raise DivergedError(f"diverged at step {step}: a loss became NaN or infinite; "
                                f"the last good checkpoint is kept")
        state.history.append(chunk.numpy())
        history = state.history_array()
        images_per_sec = rate.update(len(chunk) * state.config.batch_size)
        steps_left = (state.config.epochs - state.epoch) * self._steps_per_epoch - state.batch_in_epoch
        eta = steps_left * state.config.batch_size / images_per_sec if images_per_sec > 0 else None
        with self._lock:
            self._history = history
        self._publish(step=state.step, images_per_sec=images_per_sec, eta_seconds=eta, **self._latest(state))

    def _publish_generator(self, state: GANState, verdicts: bool = False) -> None:
        """Swap in fresh eval-mode CPU copies of the EMA generator and G: readers keep whichever copies
        they already hold. D's verdicts follow when ``verdicts`` or every VERDICT_SECONDS."""
        raw = _eval_copy(state.generator)
        shown = raw if state.ema is None else _eval_copy(state.shown_generator())
        judged = None
        if self._verdict_real is not None and (verdicts or time.monotonic() - self._verdicts_at >= VERDICT_SECONDS):
            judged, self._verdicts_at = live_verdicts(state, self._verdict_real), time.monotonic()
        with self._lock:
            self._published, self._published_raw = shown, raw
            self._verdicts = judged or self._verdicts
            self._snapshot = replace(self._snapshot, weights_version=self._snapshot.weights_version + 1)

    def _publish(self, **changes: object) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, **changes)

    def _notify(self, event: str) -> None:
        snap = self.snapshot()
        for fn in self._callbacks:
            fn(event, snap)

    @staticmethod
    def _latest(state: GANState) -> dict[str, float | None]:
        return latest_row(state.history_array())


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


def _eval_copy(generator: Generator) -> Generator:
    copy_ = copy.deepcopy(generator).cpu().eval()
    copy_.requires_grad_(False)
    return copy_
