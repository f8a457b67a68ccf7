"""Requests from other threads to the training loop, served between two steps.

``Requests`` owns the flags that any thread may set (pause, stop, one hand-made step, live edits) under
one condition, and the loop's side of them: whether to halt, waiting while paused, and handing over
the edits. ``hand_made_step`` is the loop's side of a step request (step-by-step mode). Every request
takes effect at a step boundary, so a run stepped or edited by hand is still a valid, exactly resumable
run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import torch

from ..gan.state import GANState
from ..gan.stepping import BOTH_STEP, STEP_KINDS, StepReport, explain, look
from ..runs.snapshot import Status
from .publish import Publisher

STOP = "stop"  # what ``Requests.halt`` returns when the loop must end (the step kinds are "D", "G", "D+G")


class Requests:
    """Pause, stop, step and edit requests: plain flags under one condition."""

    def __init__(self) -> None:
        self._control = threading.Condition()
        self._pause = False
        self._stop = False
        self._step: str | None = None  # a STEP_KINDS update to apply while paused
        self._edits: list[tuple[str, Any]] = []  # (field, value), applied before the next step

    # --- any thread ---------------------------------------------------------------------------------

    def pause(self) -> None:
        with self._control:
            self._pause = True

    def unpause(self) -> None:
        with self._control:
            self._pause = False
            self._control.notify_all()

    def stop(self) -> None:
        with self._control:
            self._stop = True
            self._control.notify_all()

    def step_once(self, kind: str) -> bool:
        """Ask for one ``kind`` update (``stepping.STEP_KINDS``) while paused; False when not paused."""
        if kind not in STEP_KINDS:
            raise ValueError(f"step kind must be one of {', '.join(STEP_KINDS)}, got {kind!r}")
        with self._control:
            if not self._pause or self._stop:
                return False
            self._step = kind
            self._control.notify_all()
            return True

    def edit(self, name: str, value: Any) -> None:
        """Ask for ``name = value`` from the next step on (validated by the caller)."""
        with self._control:
            self._edits.append((name, value))

    # --- the training thread, between two steps -----------------------------------------------------

    def halt_requested(self) -> bool:
        with self._control:
            return self._pause or self._stop

    def halt(self, announce: Callable[[Status], None]) -> str | None:
        """Wait while paused: STOP when the loop must end, the kind of one hand-made step to take (the
        run stays paused after it), or None to go on. ``announce`` publishes each status change; it runs
        under the condition, so no request slips between a status and the wait it describes."""
        with self._control:
            if self._stop:
                announce(Status.IDLE)
                return STOP
            announce(Status.PAUSED)
            while self._pause and not self._stop and self._step is None:
                self._control.wait()
            stopped, step, self._step = self._stop, self._step, None
        if step is not None and not stopped:
            return step
        announce(Status.IDLE if stopped else Status.RUNNING)
        return STOP if stopped else None

    def apply_edits(self, state: GANState) -> bool:
        """Apply the requested edits to ``state`` (recorded in ``state.edits``); True when there were any."""
        with self._control:
            requested, self._edits = self._edits, []
        for name, value in requested:
            state.apply_edit(name, value)
        return bool(requested)


def hand_made_step(state: GANState, kind: str, real: torch.Tensor | None, publisher: Publisher,
                   labels: torch.Tensor | None = None) -> None:
    """One ``kind`` update through the loop's own step code (G alone when ``real`` is None: no batch is
    consumed), published with what it did: the looks before and after, losses and gradient norms."""
    before = look(state)
    state.capture_grad_norms, state.grad_norms = True, {}
    try:
        if real is None:
            g_loss, row = float(state.g_only_step()), None
        else:
            stats = state.train_step(real, update_g=kind == BOTH_STEP, labels=labels)
            publisher.record(stats)
            state.step += 1
            state.batch_in_epoch += 1
            row = stats.tolist()
            g_loss = row[1] if kind == BOTH_STEP else None
    finally:
        state.capture_grad_norms = False
    publisher.flush(state)
    after = look(state)
    d_loss, d_real, d_fake = (None, None, None) if row is None else (row[0], row[2], row[3])
    report = StepReport(kind, state.step, state.g_updates, d_loss, g_loss, d_real, d_fake, before, after,
                        dict(state.grad_norms), explain(kind, state.config.loss, before, after, d_real, d_fake))
    publisher.generators(state)
    publisher.step_report(report)
