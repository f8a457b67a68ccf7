"""A Trainer in a child process, observed through the same methods as a Trainer.

Why a process: inside the Streamlit server a training *thread* shares the interpreter lock with every
page refresh. The trainer releases the lock inside each kernel and needs it back between kernels, so
each millisecond the UI spends in Python stalls training on both cores, not on one. Measured here: a
thread busy in Python 10% of the time cost the training thread 9% of its images/s; the same load in
another process cost 1% (see bench/app_latency.py for the app itself). In its own process the trainer
only shares the CPU.

The child runs an ordinary ``Trainer`` and pushes its state to the parent every ``PUSH_SECONDS``:
the snapshot, the new history rows, metrics when they change, and the generator's weights when they
change. The parent keeps the latest copy, so reading costs no round trip, and it samples from its
own copy of the generator, so the latent lab never waits on the trainer. Commands (pause, unpause,
stop, step, edit) go the other way; the messages are the dataclasses of ``gan_core.messages``. If the
parent dies, the child sees its pipe close, checkpoints and ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import ConfigError, GANConfig
from ..gan.model import Generator
from ..gan.nets import make_generator
from ..gan.state import EDITABLE
from ..gan.stepping import STEP_KINDS
from ..runs.folder import RunPaths
from ..runs.snapshot import Snapshot, Status, TrainerView
from ..threads import one_thread_here
from .messages import Action, Command, Launch, StateUpdate
from .publish import GENERATOR_SECONDS
from .trainer import Trainer

# How often the child sends its state (snapshot, new history rows: a small message): the parent's readers
# lag the trainer by at most this much.
PUSH_SECONDS = 0.5
URGENT_PUSH_SECONDS, URGENT_SECONDS = 0.05, 3.0  # after a command: push this often, for this long
# The generators (6 MB each) cross the pipe at most this often: as often as the trainer refreshes its own
# copies while training, so the parent's are as fresh as the trainer's readers' would be.
WEIGHTS_SECONDS = GENERATOR_SECONDS
# OpenMP threads that wait at a barrier spin this many times before sleeping (libgomp's default is
# 300,000). Next to a browser on the same cores, the long spin burnt CPU that the lagging thread then
# lacked: with ten pages open training went from 1,549 to 1,907 images/s (bench/load.py), while the
# headless speed stayed the same (2,951 vs 2,987 images/s, CLI runs side by side).
OPENMP_SPIN_COUNT = 10_000
# The folder holding gan_core: the child starts there, so ``-m gan_core.process`` imports this very package
# whether it is installed or a checkout, and whatever folder the parent runs in.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class TrainerProcess(TrainerView):
    """``Trainer``'s control and observation methods, with the training in a child process.

    Same arguments as ``Trainer`` except ``data`` (the child loads its own) and callbacks (they would
    run in the child).
    """

    def __init__(self, config: GANConfig, run: str, *, checkpoints: str | Path = "checkpoints",
                 data_dir: str | Path = "data", continue_run: bool = False, threads: int | None = None,
                 classifier_steps: int | None = None) -> None:
        super().__init__(run, config.epochs)
        self.config = config
        self.paths = RunPaths.of(checkpoints, run)
        self.data_dir = Path(data_dir)
        # Absolute: the child runs in PACKAGE_ROOT, and relative folders mean the parent's working directory.
        self._launch = Launch(config, run, str(Path(checkpoints).resolve()), str(Path(data_dir).resolve()),
                              continue_run, threads, classifier_steps)
        self._changed = threading.Condition(self._lock)  # notified on each received state
        self._conn: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._send_lock = threading.Lock()

    # --- control ------------------------------------------------------------------------------------

    def start(self) -> None:
        with self._send_lock:
            if self._process is not None:
                return  # one trainer, one process, however often Train is clicked
            with self._lock:
                self._snapshot = replace(self._snapshot, status=Status.RUNNING)
            self._process, self._conn = _take_spare() or _spawn()[:2]
            self._conn.send(self._launch)
            self._publisher = threading.Thread(target=self._receive, name=f"gan-observer-{self.paths.name}",
                                               daemon=True)
            self._publisher.start()

    def pause(self, timeout: float = 10.0) -> None:
        """Ask the child to checkpoint and pause; wait up to ``timeout`` s until it reports it."""
        self._send(Action.PAUSE)
        self._await(lambda snap: snap.status != Status.RUNNING, timeout)

    def step_once(self, kind: str, timeout: float = 30.0) -> bool:
        """``Trainer.step_once`` in the child: one hand-made update while paused; waits up to ``timeout`` s
        for its report. False when the run is not paused."""
        if kind not in STEP_KINDS:
            raise ValueError(f"step kind must be one of {', '.join(STEP_KINDS)}, got {kind!r}")
        if self.snapshot().status != Status.PAUSED:
            return False
        previous = self.step_report()
        self._send(Action.STEP_ONCE, kind)
        with self._changed:
            self._changed.wait_for(lambda: self._step_report is not previous or not self.is_alive(), timeout)
        return True

    def edit(self, name: str, value: Any) -> None:
        """``Trainer.edit`` in the child; validated here first, so a bad value raises ConfigError at once."""
        if name not in EDITABLE:
            raise ConfigError(name, f"cannot change while training; editable: {', '.join(EDITABLE)}")
        self.config = self.config.replace(**{name: value})
        self._send(Action.EDIT, name, value)

    def unpause(self, timeout: float = 10.0) -> None:
        self._send(Action.UNPAUSE)
        self._await(lambda snap: snap.status != Status.PAUSED, timeout)

    def stop(self, timeout: float | None = 30.0) -> None:
        """Ask the child to checkpoint and end, then wait up to ``timeout`` s for its last state."""
        self._send(Action.STOP)
        self.join(timeout)

    # --- plumbing -----------------------------------------------------------------------------------

    def _await(self, done: Callable[[Snapshot], bool], timeout: float) -> None:
        """Wait until a received snapshot satisfies ``done`` (commands act within a step or two)."""
        with self._changed:
            self._changed.wait_for(lambda: done(self._snapshot) or not self.is_alive(), timeout)

    def _send(self, action: Action, *arguments: Any) -> None:
        with self._send_lock:
            if self._conn is None or not self.is_alive():
                return
            with contextlib.suppress(OSError):  # the child is gone; the receiver reports how it ended
                self._conn.send(Command(action, arguments))

    def _receive(self) -> None:
        try:
            while True:
                try:
                    message = self._conn.recv()
                except (EOFError, OSError):
                    break
                self._apply(message)
        finally:
            try:
                code = self._process.wait(10)
            except subprocess.TimeoutExpired:
                code = None
            with self._lock:
                if self._snapshot.status in (Status.RUNNING, Status.PAUSED):  # no final state: the child died
                    self._snapshot = replace(self._snapshot, status=Status.ERROR, eta_seconds=None,
                                             error=f"the training process ended unexpectedly (exit code {code})")
                self._changed.notify_all()

    def _apply(self, update: StateUpdate) -> None:
        generators: dict[str, Generator] = {}
        # Build outside the lock: readers keep the old copies meanwhile. No EMA weights when EMA is off:
        # then the raw G is what a person sees.
        for which, weights in (("raw", update.weights), ("ema", update.ema_weights)):
            if weights is not None:
                generators[which] = make_generator(self.config)
                generators[which].load_state_dict({name: torch.from_numpy(array) for name, array in weights.items()})
                generators[which].eval().requires_grad_(False)
        with self._lock:
            start, rows = update.history_start, update.history_rows
            self._history = rows if start == 0 else np.concatenate((self._history[:start], rows))
            self._history.setflags(write=False)
            if update.epoch_log is not None:
                self._epoch_log = update.epoch_log
            if update.metrics is not None:
                self._metrics = update.metrics
            if update.edits is not None:
                self._edits = update.edits
            if update.step_report is not None:
                self._step_report = update.step_report
            if update.verdicts is not None:
                self._verdicts = update.verdicts
            if generators:
                self._published_raw = generators["raw"]
                self._published = generators.get("ema", generators["raw"])
            self._snapshot = update.snapshot  # last: a reader that sees it sees the rest too
            self._changed.notify_all()


# --- starting the child, now or ahead of time -------------------------------------------------------------

# A child started ahead of a click (``prestart``) has imported torch and gan_core and warmed torch.optim
# while nobody waited, and waits for its Launch: Train then costs only the run's own set-up. One at a time.
_spare_lock = threading.Lock()
_spare: tuple[subprocess.Popen[bytes], Connection, dict[str, str]] | None = None


def _child_env() -> dict[str, str]:
    return {"GOMP_SPINCOUNT": str(OPENMP_SPIN_COUNT), **os.environ}


def _spawn() -> tuple[subprocess.Popen[bytes], Connection, dict[str, str]]:
    # A fresh interpreter (not multiprocessing's spawn, which re-runs the parent's __main__: in a Streamlit
    # server that is app.py) joined to this one by a socket pair.
    ours, theirs = socket.socketpair()
    env = _child_env()
    process = subprocess.Popen([sys.executable, "-m", "gan_core.train.process", str(theirs.fileno())],
                               pass_fds=(theirs.fileno(),), env=env, cwd=PACKAGE_ROOT)
    theirs.close()  # the child holds its end now: EOF here means the child is gone
    return process, Connection(ours.detach()), env


def prestart() -> None:
    """Start a training process now, unless one is already waiting, so that the next ``TrainerProcess``
    starts without paying for the interpreter, the imports and torch's first-use costs. The waiting
    process exits by itself when this one does (its socket closes)."""
    global _spare
    with _spare_lock:
        if _spare is None or _spare[0].poll() is not None:
            _spare = _spawn()


def _take_spare() -> tuple[subprocess.Popen[bytes], Connection] | None:
    """The waiting process, if it is alive and was started with today's environment; else None."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is None:
        return None
    process, conn, env = spare
    if process.poll() is None and env == _child_env():
        return process, conn
    conn.close()  # a stale spare reads EOF and exits
    return None


# --- the child ------------------------------------------------------------------------------------------

def _child_main(conn: Connection, launch: Launch) -> None:
    trainer = Trainer(launch.config, launch.run, checkpoints=launch.checkpoints, data_dir=launch.data_dir,
                      continue_run=launch.continue_run, threads=launch.threads,
                      classifier_steps=launch.classifier_steps)
    wake = threading.Event()  # a command arrived or training ended: push now, not at the next tick
    urgent = [0.0]  # until when to push quickly, so a pause or stop shows in the page within ~0.1 s
    threading.Thread(target=_obey, args=(conn, trainer, wake, urgent), name="gan-commands", daemon=True).start()
    trainer.start()
    threading.Thread(target=lambda: (trainer.join(), wake.set()), name="gan-end", daemon=True).start()
    sent_rows, weights_version, metrics_sent, log_sent, edits_sent, report_sent = 0, -1, None, None, (), None
    verdicts_sent = None
    weights_sent_at = -WEIGHTS_SECONDS
    while True:
        done = not trainer.is_alive()  # read before the state: the last push then holds the final state
        snap, history = trainer.snapshot(), trainer.history()
        start = sent_rows if len(history) >= sent_rows else 0  # a continued run may restore a longer history
        sent_rows = len(history)
        weights = None
        due = done or time.monotonic() - weights_sent_at >= WEIGHTS_SECONDS
        ema_weights = None
        if due and snap.weights_version != weights_version and (state := trainer.generator_state("raw")) is not None:
            weights, weights_version, weights_sent_at = state, snap.weights_version, time.monotonic()
            if trainer.config.ema_decay > 0:  # the stored config's, on a continued run
                ema_weights = trainer.generator_state("ema")
        verdicts = trainer.verdicts()
        metrics, edits, report = trainer.metrics(), trainer.edits(), trainer.step_report()
        epoch_log = trainer.epoch_log()
        update = StateUpdate(snap, start, np.array(history[start:]),
                             epoch_log=epoch_log if epoch_log is not log_sent else None,
                             metrics=metrics if metrics is not metrics_sent else None,
                             weights=weights, ema_weights=ema_weights,
                             verdicts=verdicts if verdicts is not verdicts_sent else None,
                             edits=edits if edits is not edits_sent else None,
                             step_report=report if report is not report_sent else None)
        metrics_sent, edits_sent, report_sent, log_sent = metrics, edits, report, epoch_log
        verdicts_sent = verdicts
        try:
            conn.send(update)
        except OSError:
            trainer.stop(None)  # the parent is gone: checkpoint and end
            return
        if done:
            conn.close()
            return
        wake.wait(URGENT_PUSH_SECONDS if time.monotonic() < urgent[0] else PUSH_SECONDS)
        wake.clear()


def _obey(conn: Connection, trainer: Trainer, wake: threading.Event, urgent: list[float]) -> None:
    """Commands from the parent; its pipe closing (parent killed or exited) means stop."""
    act = {Action.PAUSE: trainer.pause, Action.UNPAUSE: trainer.unpause, Action.STOP: trainer.stop,
           Action.STEP_ONCE: trainer.step_once, Action.EDIT: trainer.edit}
    while True:
        try:
            command = conn.recv()
        except (EOFError, OSError):
            trainer.stop(None)
            return
        if isinstance(command, Command):
            urgent[0] = time.monotonic() + URGENT_SECONDS
            wake.set()
            act[command.action](*command.arguments)


def _child_entry(fd: int) -> None:
    conn = Connection(fd)
    one_thread_here()  # the trainer's thread gets the cores: one OpenMP team per training process
    # torch.optim's first use imports torch._dynamo (seconds): pay it before the Launch arrives.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    try:
        launch = conn.recv()
    except (EOFError, OSError):
        return  # a spare that was never used: its parent ended or discarded it
    _child_main(conn, launch)


if __name__ == "__main__":
    _child_entry(int(sys.argv[1]))
