"""Requests from other threads to the training loop, and how the loop serves them between two steps.

``Requests`` is the part of ``trainer.Trainer`` that any thread may call (pause, unpause, stop,
step_once, edit) and the loop's side of the same requests: halting at a pause or stop (after a
checkpoint), one hand-made update while paused (step-by-step mode) and live hyperparameter edits. The
requests are plain flags under one condition; the loop reads them before each step, so every request
takes effect at a step boundary and a run stepped or edited by hand is still a valid, exactly
resumable run.
"""

from __future__ import annotations

import threading
from typing import Any

import torch

from ..config import ConfigError, GANConfig
from ..gan.state import EDITABLE, GANState
from ..gan.stepping import BOTH_STEP, STEP_KINDS, StepReport, explain, look
from ..runs.snapshot import Status
from .epochs import EpochEnd
from .publish import Rate


class Requests(EpochEnd):
    """Pause/stop/step/edit requests and the loop's handling of them (see ``trainer.Trainer``)."""

    config: GANConfig
    _control: threading.Condition  # guards the requests below
    _pause_requested: bool
    _stop_requested: bool
    _step_requested: str | None  # a STEP_KINDS update to apply while paused
    _edits_requested: list[tuple[str, Any]]  # (field, value), applied before the next step

    # --- any thread ---------------------------------------------------------------------------------

    def pause(self) -> None:
        with self._control:
            self._pause_requested = True

    def unpause(self) -> None:
        with self._control:
            self._pause_requested = False
            self._control.notify_all()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Ask the loop to checkpoint and end, then wait up to ``timeout`` s for it."""
        with self._control:
            self._stop_requested = True
            self._control.notify_all()
            thread = self._publisher
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def step_once(self, kind: str) -> bool:
        """With the run paused, apply exactly one update: "D", "G" or "D+G" (``stepping.STEP_KINDS``) on the
        next batch, through the training loop's own code, then stay paused. False when not paused."""
        if kind not in STEP_KINDS:
            raise ValueError(f"step kind must be one of {', '.join(STEP_KINDS)}, got {kind!r}")
        with self._control:
            if not self._pause_requested or self._stop_requested:
                return False
            self._step_requested = kind
            self._control.notify_all()
            return True

    def edit(self, name: str, value: Any) -> None:
        """Change a hyperparameter of ``engine.EDITABLE`` from the next step on; recorded in the checkpoint
        and events.csv. Raises ConfigError at once for a field or value that is not allowed."""
        if name not in EDITABLE:
            raise ConfigError(name, f"cannot change while training; editable: {', '.join(EDITABLE)}")
        self.config.replace(**{name: value})  # validates
        with self._control:
            self._edits_requested.append((name, value))

    # --- the training thread, between two steps -----------------------------------------------------

    def _should_halt(self) -> bool:
        with self._control:
            return self._pause_requested or self._stop_requested

    def _halt(self, state: GANState) -> bool | str:
        """Checkpoint, then wait while paused; False when the loop must end (stop requested), True to go
        on, or the kind of one hand-made step to take (the run stays paused after it)."""
        self._save(state)
        self._writer.wait()  # paused or stopped means "on disk"
        with self._control:
            if self._stop_requested:
                self._publish(status=Status.IDLE, eta_seconds=None, images_per_sec=0.0)
                return False
            self._publish(status=Status.PAUSED, eta_seconds=None, images_per_sec=0.0)
            while self._pause_requested and not self._stop_requested and self._step_requested is None:
                self._control.wait()
            stopped, step, self._step_requested = self._stop_requested, self._step_requested, None
        if step is not None and not stopped:
            return step
        self._publish(status=Status.IDLE if stopped else Status.RUNNING, images_per_sec=0.0)
        return not stopped

    def _apply_edits(self, state: GANState) -> None:
        with self._control:
            if not self._edits_requested:
                return
            requested, self._edits_requested = self._edits_requested, []
        for name, value in requested:
            state.apply_edit(name, value)
        self.config = state.config  # the values in force now
        with self._lock:
            self._edits = tuple(state.edits)

    def _manual_step(self, state: GANState, kind: str, real: torch.Tensor | None, pending: list[torch.Tensor],
                     rate: Rate) -> None:
        """One hand-made update (step-by-step mode), published with what it did; the loop's own step code."""
        before = look(state)
        state.capture_grad_norms, state.grad_norms = True, {}
        try:
            if real is None:
                g_loss, row = float(state.g_only_step()), None
            else:
                pending.append(state.train_step(real, update_g=kind == BOTH_STEP))
                state.step += 1
                state.batch_in_epoch += 1
                row = pending[-1].tolist()
                g_loss = row[1] if kind == BOTH_STEP else None
        finally:
            state.capture_grad_norms = False
        self._flush(state, pending, rate)
        after = look(state)
        d_loss, d_real, d_fake = (None, None, None) if row is None else (row[0], row[2], row[3])
        report = StepReport(kind, state.step, state.g_updates, d_loss, g_loss, d_real, d_fake, before, after,
                            dict(state.grad_norms), explain(kind, state.config.loss, before, after, d_real, d_fake))
        self._publish_generator(state)
        with self._lock:
            self._step_report = report
