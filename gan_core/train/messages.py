"""What ``process.TrainerProcess`` and its training process say to each other, as small dataclasses.

They live in their own module because the child runs ``gan_core.process`` as ``__main__``: a class
defined there would be pickled as ``__main__.X``, which the parent cannot unpickle.

parent -> child: one ``Launch``, then any number of ``Command``.
child -> parent: ``StateUpdate`` every push period, the last one holding the final state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from ..config import GANConfig
from ..gan.stepping import StepReport
from ..runs.snapshot import Snapshot


@dataclass(frozen=True)
class Launch:
    """The child's ``Trainer`` arguments."""

    config: GANConfig
    run: str
    checkpoints: str
    data_dir: str
    continue_run: bool
    threads: int | None
    classifier_steps: int | None = None


class Action(StrEnum):
    PAUSE = "pause"
    UNPAUSE = "unpause"
    STOP = "stop"
    STEP_ONCE = "step_once"  # arguments: (kind,)
    EDIT = "edit"  # arguments: (field name, value)


@dataclass(frozen=True)
class Command:
    action: Action
    arguments: tuple[Any, ...] = ()  # the Trainer method's arguments


@dataclass(frozen=True)
class StateUpdate:
    """The child's trainer state: the snapshot always, the rest only what changed since the last one."""

    snapshot: Snapshot
    history_start: int  # history rows from this index on follow (0: the whole history)
    history_rows: np.ndarray
    epoch_log: tuple[dict[str, float], ...] | None = None  # None: unchanged
    metrics: tuple[dict[str, Any], ...] | None = None  # None: unchanged
    weights: dict[str, np.ndarray] | None = None  # the raw G's state dict; None: unchanged
    ema_weights: dict[str, np.ndarray] | None = None  # the EMA generator's (sent with weights when EMA is on)
    verdicts: dict[str, Any] | None = None  # D's live verdicts (verdict.live_verdicts); None: unchanged
    edits: tuple[dict[str, Any], ...] | None = None  # None: unchanged
    step_report: StepReport | None = None  # None: unchanged (a report is never withdrawn)
