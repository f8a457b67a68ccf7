"""The background trainer: one thread runs the GAN loop, everyone else reads immutable snapshots.

``Trainer._train`` is the whole loop, top to bottom: prepare the state and the data, then for each epoch
and each batch serve the requests of other threads (``requests``) and take one step of the algorithm
(``GANState.train_step``), then end the epoch. Everything else is a collaborator the trainer holds, one
job each:

- ``requests.Requests``: pause, stop, one hand-made step and live edits, asked by any thread;
- ``publish.Publisher``: what readers see (the ``TrainerView`` fields: snapshot, history, generator
  copies, D's verdicts, images/s);
- ``evaluation.Evaluation``: the judge, the evaluation schedule and the evaluations;
- ``checkpointing.Checkpointing``: when the run is written to disk, and how;
- ``epochs.SampleGrid``: each epoch's sample grid.

The epoch-end work is one callback list ("epoch"), run in order after each epoch; "flush" runs after the
step stats are read back (every ``log_every`` steps). ``add_callback`` adds to both. Readers (the app, the
CLI's progress line) only call the ``TrainerView`` methods; the trainer never calls back into a UI.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import ConfigError, GANConfig
from ..data import TrainingData, load_training_data
from ..gan.state import EDITABLE, GANState
from ..gan.stepping import G_STEP
from ..quality.judge import Judge
from ..runs import checkpoint as ckpt
from ..runs.demo import CONTINUE_REFUSED, is_demo
from ..runs.folder import RunError, RunLock, RunPaths, reconcile, write_events_csv
from ..runs.record import from_record
from ..runs.snapshot import PHASE_DATA, PHASE_DONE, PHASE_STARTING, PHASE_TRAINING, Snapshot, Status, TrainerView
from ..threads import training_threads
from .checkpointing import Checkpointing
from .epochs import SampleGrid, close_epoch
from .evaluation import Evaluation
from .publish import DivergedError, Publisher, latest
from .requests import STOP, Requests, hand_made_step
from .schedule import EVAL_SHARE

log = logging.getLogger(__name__)

Callback = Callable[[GANState], None]  # runs on the training thread, between two steps


class Trainer(TrainerView):
    """Trains one run in a background thread; start/pause/unpause/stop are idempotent and thread-safe.

    ``continue_run=True`` continues ``checkpoints/<run>/checkpoint.pt`` (optionally to a new ``epochs``);
    ``continue_run=False`` refuses a run folder that already holds a checkpoint. ``classifier_steps``: how
    long the judge and the referee train when no cached or bundled weights serve (None: their own lengths).
    """

    def __init__(self, config: GANConfig, run: str, *, checkpoints: str | Path = "checkpoints",
                 data_dir: str | Path = "data", continue_run: bool = False, data: TrainingData | None = None,
                 threads: int | None = None, judge: Judge | None = None,
                 eval_share: float | None = EVAL_SHARE, classifier_steps: int | None = None) -> None:
        super().__init__(run, config.epochs)
        self.config = config  # the values in force: the stored ones on a continued run, then each edit's
        self.paths = RunPaths.of(checkpoints, run)
        self.data_dir = Path(data_dir)
        self.continue_run = continue_run
        self.started_at = 0.0  # time.monotonic() when start() was called
        self._data = data
        # torch intra-op threads for training: None = one per physical core, 0 = leave the process's setting.
        self._threads = training_threads() if threads is None else threads
        self._start_lock = threading.Lock()
        self._requests = Requests()
        self._publishing = Publisher(self)
        self._evaluation = Evaluation(self.paths, self._publishing, judge=judge, share=eval_share,
                                      classifier_steps=classifier_steps)
        self._checkpointing = Checkpointing(self.paths)
        self._callbacks: dict[str, list[Callback]] = {
            "flush": [self._publishing.generators_if_due],
            "epoch": [self._publishing.epoch_generators,  # first: the grid and the evaluation use them
                      SampleGrid(self.paths, self._publishing).epoch_ended,
                      self._evaluation.epoch_ended,
                      self._checkpointing.epoch_ended,  # after the evaluation: the checkpoint saves its row
                      self._publishing.epoch],  # last: a reader that sees the epoch sees all of it
        }

    # --- control (any thread) -----------------------------------------------------------------------

    def start(self) -> None:
        with self._start_lock:
            if self._publisher is not None:
                return  # one trainer, one thread, however often Train is clicked
            self._publisher = threading.Thread(target=self._main, name=f"gan-trainer-{self.paths.name}",
                                               daemon=True)
            self._publishing.publish(status=Status.RUNNING, phase=PHASE_STARTING)
            self.started_at = time.monotonic()
            self._publisher.start()

    def pause(self) -> None:
        """Checkpoint and wait before the next step (the status turns PAUSED once it is on disk)."""
        self._requests.pause()

    def unpause(self) -> None:
        self._requests.unpause()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Ask the loop to checkpoint and end, then wait up to ``timeout`` s for it."""
        self._requests.stop()
        with self._start_lock:
            thread = self._publisher
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def step_once(self, kind: str) -> bool:
        """With the run paused, apply exactly one update: "D", "G" or "D+G" (``stepping.STEP_KINDS``) on the
        next batch, through the training loop's own code, then stay paused. False when not paused."""
        return self._requests.step_once(kind)

    def edit(self, name: str, value: Any) -> None:
        """Change a hyperparameter of ``state.EDITABLE`` from the next step on; recorded in the checkpoint
        and events.csv. Raises ConfigError at once for a field or value that is not allowed."""
        if name not in EDITABLE:
            raise ConfigError(name, f"cannot change while training; editable: {', '.join(EDITABLE)}")
        self.config.replace(**{name: value})  # validates
        self._requests.edit(name, value)

    def add_callback(self, fn: Callable[[str, Snapshot], None]) -> None:
        """``fn(event, snapshot)`` after "flush" (every log_every steps) and "epoch", after the trainer's
        own callbacks. It runs on the trainer thread, so it must be quick; it may call pause() or stop(),
        which take effect before the next step."""
        for event, callbacks in self._callbacks.items():
            callbacks.append(lambda _state, event=event: fn(event, self.snapshot()))

    # --- observation (any thread): the TrainerView methods, and the weights as plain arrays -----------

    def generator_state(self, which: str = "ema") -> dict[str, np.ndarray] | None:
        """The latest published generator's (``which``: "ema" or "raw") weights and BatchNorm statistics
        as numpy arrays (plain pickle, e.g. for another process), or None before the first publication."""
        with self._lock:
            generator = self._pick(which)
        if generator is None:
            return None
        return {name: tensor.numpy().copy() for name, tensor in generator.state_dict().items()}

    # --- the training thread ------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            # Leaving the writer's block lets a write in flight land (it holds a good checkpoint: a
            # diverged state is never submitted) while the run is still locked.
            with RunLock(self.paths), self._checkpointing:
                try:
                    self._train()
                finally:
                    self._evaluation.cancel()
        except Exception as exc:  # surfaced to the UI instead of dying silently
            if not isinstance(exc, (DivergedError, RunError, ckpt.CheckpointError)):
                log.exception("training thread failed")
            text = str(exc) if isinstance(exc, (DivergedError, RunError)) else f"{type(exc).__name__}: {exc}"
            self._publishing.publish(status=Status.ERROR, error=text, eta_seconds=None)
        self._publishing.publish(phase=PHASE_DONE)

    def _train(self) -> None:
        """The loop: prepare, then each epoch's batches, one step each, then the epoch's end."""
        if self._threads:
            torch.set_num_threads(self._threads)
        state, images, labels = self._prepare()
        config, batch = state.config, state.config.batch_size
        steps_per_epoch = len(images) // batch
        self._begin(state, images, steps_per_epoch)
        first_step = True
        shown_paused = False  # the status says "paused" (a hand-made step was taken while paused)
        while state.epoch < config.epochs:
            if state.perm is None:  # a new epoch (a continued run may be inside one)
                state.perm = torch.randperm(len(images), device=state.device)
                state.batch_in_epoch, state.epoch_seconds = 0, 0.0
            epoch_started = time.monotonic() - state.epoch_seconds
            while state.batch_in_epoch < steps_per_epoch:
                # Between two steps: the edits first (a pause's checkpoint keeps them), then a pause or stop.
                if self._requests.apply_edits(state):
                    self.config = state.config
                    self._publishing.edits(state)
                hand_made = None
                if self._requests.halt_requested():
                    state.epoch_seconds = time.monotonic() - epoch_started  # a pause is no training time
                    hand_made = self._halt(state)  # announces "paused", and "running" when it returns None
                    if hand_made == STOP:
                        return
                    shown_paused = hand_made is not None
                    epoch_started = time.monotonic() - state.epoch_seconds
                b = state.batch_in_epoch
                taken = state.perm[b * batch:(b + 1) * batch]
                real, real_labels = images[taken], None if labels is None else labels[taken]
                if hand_made is not None:  # one update by hand, the loop's own, then paused again
                    # A D or D+G step takes this very batch; G alone takes none, so the epoch does not move.
                    hand_made_step(state, hand_made, None if hand_made == G_STEP else real, self._publishing,
                                   real_labels)
                    continue
                if shown_paused:  # unpaused right after a hand-made step, before a halt could say so
                    self._publishing.publish(status=Status.RUNNING, eta_seconds=None, images_per_sec=0.0)
                    shown_paused = False
                # The algorithm: (1) D learns to tell this real batch from G's fakes, (2) G learns to fool
                # D, every d_steps-th step (GANState.train_step).
                update_g = (state.step + 1) % state.config.d_steps == 0
                self._publishing.record(state.train_step(real, update_g=update_g, labels=real_labels))
                state.step += 1
                state.batch_in_epoch += 1
                if first_step:
                    first_step = False
                    self._publishing.publish(first_step_seconds=time.monotonic() - self.started_at,
                                             step=state.step)
                if self._publishing.pending() >= config.log_every:
                    self._publishing.flush(state)
                    self._trigger("flush", state)
            self._publishing.flush(state)
            state.epoch_seconds = time.monotonic() - epoch_started
            self._end_epoch(state, steps_per_epoch)
        self._checkpointing.wait()
        self._publishing.publish(status=Status.FINISHED, eta_seconds=0.0, next_eval_epoch=None)

    def _prepare(self) -> tuple[GANState, torch.Tensor, torch.Tensor | None]:
        """The run's state (continued from its checkpoint, or fresh), its training images on its device, and
        their labels for a conditional run (None otherwise)."""
        if self.continue_run:
            if is_demo(self.paths.folder):
                raise RunError(CONTINUE_REFUSED)
            if not self.paths.checkpoint.is_file():
                raise RunError(f"run '{self.paths.name}' has no checkpoint to continue "
                               f"({self.paths.checkpoint})")
            record = ckpt.load_checkpoint(self.paths.checkpoint)
            state = from_record(record, str(self.paths.checkpoint), epochs=self.config.epochs,
                                device=self.config.device)
            self.config = state.config
            reconcile(self.paths, state.epoch_log)
            write_events_csv(self.paths, state.edits)  # drops edits a crash left beyond the checkpoint
        else:
            if self.paths.checkpoint.exists():
                raise RunError(f"run '{self.paths.name}' already exists; continue it or pick another name")
            state = GANState.fresh(self.config)
        self.paths.make()
        self._publishing.publish(phase=PHASE_DATA)
        data = self._data = self._data or load_training_data(self.config.dataset, self.data_dir)
        state.data_source = data.describe()
        if len(data) < self.config.batch_size:
            raise RunError(f"{len(data)} training images is fewer than one batch of {self.config.batch_size}")
        images = data.images.to(state.device)  # the whole set lives on the training device
        labels = data.class_labels(state.generator.classes).to(state.device) if state.config.conditional else None
        if state.perm is not None and len(state.perm) != len(images):
            # The data changed since the checkpoint (another folder, the offline digits split into
            # training and held-out): the stored order of the unfinished epoch indexes other images.
            log.warning("run '%s': %d training images now, %d when it was saved; the unfinished epoch "
                        "starts over", self.paths.name, len(images), len(state.perm))
            state.perm, state.batch_in_epoch, state.epoch_seconds = None, 0, 0.0
        return state, images, labels

    def _begin(self, state: GANState, images: torch.Tensor, steps_per_epoch: int) -> None:
        """Publish the run as it starts (generators, verdicts, tables), and start preparing the judge."""
        data = self._data
        assert data is not None  # loaded by _prepare
        self._publishing.begin(state, images, steps_per_epoch)
        self._evaluation.start(state, data)
        self._publishing.publish(status=Status.RUNNING, data_source=data.message, device=str(state.device),
                                 epoch=state.epoch, epochs_total=state.config.epochs, step=state.step,
                                 steps_per_epoch=steps_per_epoch, phase=PHASE_TRAINING, data_kind=data.kind,
                                 **latest(state))

    def _end_epoch(self, state: GANState, steps_per_epoch: int) -> None:
        """Count the epoch done (its means into the log), then run the "epoch" callbacks in order."""
        close_epoch(state, steps_per_epoch)
        self._trigger("epoch", state)

    def _halt(self, state: GANState) -> str | None:
        """A pause or stop was asked for: read the stats back, checkpoint, wait while paused. Returns
        STOP, the kind of one hand-made step to take, or None to go on."""
        self._publishing.flush(state)
        self._checkpointing.save_and_wait(state)
        request = self._requests.halt(
            lambda status: self._publishing.publish(status=status, eta_seconds=None, images_per_sec=0.0))
        self._publishing.restart_rate()
        return request

    def _trigger(self, event: str, state: GANState) -> None:
        for callback in self._callbacks[event]:
            callback(state)
