"""UI-independent control logic for the app: one trainer per process, button states, free run names.

No Streamlit here, so all of it is testable with plain pytest; app.py keeps one ``TrainerHolder`` in
``st.cache_resource`` so that every tab and session of a server process shares it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gan_core.runs.folder import RunPaths
from gan_core.runs.snapshot import Status
from gan_core.train.process import TrainerProcess
from gan_core.train.trainer import Trainer

AnyTrainer = Trainer | TrainerProcess  # the app trains in a process; tests may use a thread


class TrainerBusy(RuntimeError):
    """A trainer is already alive in this process; it must be stopped before another starts."""


class TrainerHolder:
    """The one current trainer of a server process.

    ``start`` checks and swaps under a lock, so two clicks (or two tabs) racing each other start at
    most one trainer: the loser gets ``TrainerBusy``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trainer: AnyTrainer | None = None

    @property
    def trainer(self) -> AnyTrainer | None:
        """The latest trainer, alive or finished (its snapshot still tells how it ended)."""
        return self._trainer

    def alive(self) -> AnyTrainer | None:
        trainer = self._trainer
        return trainer if trainer is not None and trainer.is_alive() else None

    def start(self, make: Callable[[], AnyTrainer]) -> AnyTrainer:
        """Build a trainer with ``make`` and start it, unless one is alive already."""
        with self._lock:
            current = self.alive()
            if current is not None:
                raise TrainerBusy(f"run '{current.paths.name}' is training; stop it before starting another")
            trainer = make()
            trainer.start()
            self._trainer = trainer
            return trainer

    def data_source(self, dataset: str, data_dir: str | Path) -> str | None:
        """The data source line of the latest trainer, if it trained on this dataset from ``data_dir``."""
        trainer = self._trainer
        if trainer is None or trainer.config.dataset != dataset or trainer.data_dir != Path(data_dir):
            return None
        return trainer.snapshot().data_source or None

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop the current trainer (tests and server shutdown); it checkpoints before ending."""
        trainer = self._trainer
        if trainer is not None:
            trainer.stop(timeout)


class Watchers:
    """The sessions watching live training, so that together they refresh at a bounded total rate.

    Every refresh of every page costs the browser and the server CPU that training needs on a small
    machine; ten pages refreshing every 2 s starved training to 15% of its headless speed here. So the
    refresh budget is shared: with n watchers each page refreshes every ``base * n ** exponent`` s.
    The exponent is above 1 because a page that refreshes rarely pays more per refresh (its code has
    gone cold in the browser): measured in Chromium, about 0.07 s of CPU per refresh for one page
    refreshing every 2 s, 0.25 s for each of ten pages refreshing every 20 s. With 1.3, ten pages
    refresh every 40 s each. A session that has not refreshed for ``expiry_periods`` of its periods no
    longer counts.
    """

    def __init__(self, base: float, exponent: float = 1.3, expiry_periods: float = 3.0) -> None:
        self.base = base
        self.exponent = exponent
        self._expiry_periods = expiry_periods
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}

    def seen(self, session: str, now: float) -> None:
        with self._lock:
            self._seen[session] = now

    def count(self, now: float) -> int:
        with self._lock:
            # A watcher missing for a few of its periods is gone.
            horizon = self._expiry_periods * self._period_of(len(self._seen))
            self._seen = {s: t for s, t in self._seen.items() if now - t <= horizon}
            return len(self._seen)

    def period(self, now: float) -> float:
        """Each watcher's refresh period now."""
        return self._period_of(self.count(now))

    def _period_of(self, watchers: int) -> float:
        return self.base * max(watchers, 1) ** self.exponent


@dataclass(frozen=True)
class ButtonStates:
    train: bool
    pause: bool
    resume: bool
    stop: bool


def button_states(status: str | None, alive: bool, *, config_ok: bool, can_continue_run: bool) -> ButtonStates:
    """Which of Train / Pause / Resume / Stop are enabled, from the trainer's status.

    ``status``/``alive`` describe the process's trainer (None/False when there is none);
    ``can_continue_run``: the selected run has a checkpoint and the new epoch total goes beyond it.
    """
    return ButtonStates(
        train=not alive and config_ok,
        pause=alive and status == Status.RUNNING,
        resume=(alive and status == Status.PAUSED) or (not alive and can_continue_run),
        stop=alive,
    )


def next_free_name(root: str | Path, name: str) -> str:
    """``name-2``, ``name-3``, ... : the first run name whose folder does not exist under ``root``."""
    stem = name
    parts = name.rsplit("-", 1)
    if len(parts) == 2 and parts[1].isdigit():
        stem = parts[0]
    n = 2
    while True:
        candidate = f"{stem[:56]}-{n}"  # stays within the 64-character name limit
        if not RunPaths.of(root, candidate).folder.exists():
            return candidate
        n += 1
