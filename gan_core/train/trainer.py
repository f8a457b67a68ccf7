"""The background trainer: one thread runs the GAN loop, everyone else reads immutable snapshots.

The thread owns the models. Readers (the Streamlit app, the CLI's progress bar) call ``snapshot()``,
``history()`` and ``sample()`` of its ``TrainerView`` side, which only read data published under
``_lock``; the trainer never calls back into a UI.

``Trainer`` is this file's loop plus three parts, one job each, that share its fields (all set in
``Trainer.__init__``): ``trainer_requests.Requests`` (pause, stop, one hand-made step, live edits: the
calls of other threads and how the loop serves them), ``trainer_epochs.EpochEnd`` (epoch means, grid,
evaluation, checkpoint writing) and ``trainer_publish.Publishing`` (step stats read back in batches,
snapshots and weights for readers).
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

from ..config import GANConfig
from ..data import TrainingData, load_training_data
from ..gan.state import GANState
from ..gan.stepping import G_STEP
from ..quality.judge import Judge
from ..quality.loader import JudgeLoader
from ..runs import checkpoint as ckpt
from ..runs.demo import CONTINUE_REFUSED, is_demo
from ..runs.folder import RunError, RunLock, RunPaths, reconcile, write_events_csv
from ..runs.record import from_record
from ..runs.snapshot import PHASE_DATA, PHASE_DONE, PHASE_STARTING, PHASE_TRAINING, Snapshot, Status
from ..runs.writer import BackgroundWriter
from ..threads import physical_cores
from .publish import VERDICT_SECONDS, DivergedError, Rate
from .requests import Requests
from .schedule import EVAL_SHARE, EvalSchedule

log = logging.getLogger(__name__)

# How often the UI-facing generator copies are refreshed while training (an epoch's end refreshes them too):
# the app's training process sends weights at most every 2 s (process.WEIGHTS_SECONDS), and each refresh
# copies both generators and re-estimates the EMA generator's BatchNorm statistics.
PUBLISH_SECONDS = 2.0


class Trainer(Requests):
    """Trains one run in a background thread; start/pause/unpause/stop are idempotent and thread-safe.

    ``continue_run=True`` continues ``checkpoints/<run>/checkpoint.pt`` (optionally to a new ``epochs``);
    ``continue_run=False`` refuses a run folder that already holds a checkpoint.
    """

    def __init__(self, config: GANConfig, run: str, *, checkpoints: str | Path = "checkpoints",
                 data_dir: str | Path = "data", continue_run: bool = False, data: TrainingData | None = None,
                 threads: int | None = None, judge: Judge | None = None,
                 eval_share: float | None = EVAL_SHARE) -> None:
        super().__init__(run, config.epochs)
        self.config = config
        self.paths = RunPaths.of(checkpoints, run)
        self.data_dir = Path(data_dir)
        self.continue_run = continue_run
        self._data = data
        # torch intra-op threads for training: None = one per physical core, 0 = leave the process's setting.
        self._threads = physical_cores() if threads is None else threads
        self._writer = BackgroundWriter()
        self._control = threading.Condition()  # guards the pause/stop requests
        self._pause_requested = False
        self._stop_requested = False
        self._step_requested: str | None = None  # a STEP_KINDS update to apply while paused
        self._edits_requested: list[tuple[str, Any]] = []  # (field, value), applied before the next step
        # A ready judge (tests, benches), or None: then a JudgeLoader prepares it beside the training.
        self._judge: Judge | None = judge
        self._judge_loader: JudgeLoader | None = None
        self._eval_share = eval_share  # None: evaluate every eval_every epochs whatever it costs
        self._schedule: EvalSchedule | None = None
        self._loop_started = 0.0
        self._saved_at: float | None = None
        self.started_at = 0.0  # time.monotonic() when start() was called
        self._eval_z: torch.Tensor | None = None
        self._callbacks: list[Callable[[str, Snapshot], None]] = []
        self._steps_per_epoch = 0
        self._verdict_real: torch.Tensor | None = None  # the real images D's live histogram is drawn from
        self._verdicts_at = -VERDICT_SECONDS

    # --- control (any thread; pause, unpause, stop, step_once and edit are in Requests) ---------------

    def start(self) -> None:
        with self._control:
            if self._publisher is not None:
                return  # one trainer, one thread, however often Train is clicked
            self._publisher = threading.Thread(target=self._main, name=f"gan-trainer-{self.paths.name}",
                                            daemon=True)
            self._publish(status=Status.RUNNING, phase=PHASE_STARTING)
            self.started_at = time.monotonic()
            self._publisher.start()

    def add_callback(self, fn: Callable[[str, Snapshot], None]) -> None:
        """``fn(event, snapshot)`` after "flush" (every log_every steps) and "epoch". It runs on the
        trainer thread, so it must be quick; it may call pause() or stop(), which take effect before
        the next step."""
        self._callbacks.append(fn)

    # --- observation (any thread): snapshot, history, epoch_log, metrics, warnings, sample ------------

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
            with RunLock(self.paths), self._writer:
                try:
                    self._train()
                finally:
                    if self._judge_loader is not None:
                        self._judge_loader.cancel()  # a judge in training saves its progress
        except Exception as exc:  # surfaced to the UI instead of dying silently
            if not isinstance(exc, (DivergedError, RunError, ckpt.CheckpointError)):
                log.exception("training thread failed")
            text = str(exc) if isinstance(exc, (DivergedError, RunError)) else f"{type(exc).__name__}: {exc}"
            self._publish(status=Status.ERROR, error=text, eta_seconds=None)
        self._publish(phase=PHASE_DONE)

    def _prepare(self) -> tuple[GANState, torch.Tensor]:
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
        self._publish(phase=PHASE_DATA)
        data = self._data or load_training_data(self.config.dataset, self.data_dir)
        self._data = data
        state.data_source = data.describe()
        if len(data) < self.config.batch_size:
            raise RunError(f"{len(data)} training images is fewer than one batch of {self.config.batch_size}")
        images = data.images.to(state.device)  # the whole set lives on the training device
        if state.perm is not None and len(state.perm) != len(images):
            # The data changed since the checkpoint (another folder, the offline digits split into
            # training and held-out): the stored order of the unfinished epoch indexes other images.
            log.warning("run '%s': %d training images now, %d when it was saved; the unfinished epoch "
                        "starts over", self.paths.name, len(images), len(state.perm))
            state.perm, state.batch_in_epoch, state.epoch_seconds = None, 0, 0.0
        return state, images

    def _train(self) -> None:
        if self._threads:
            torch.set_num_threads(self._threads)
        state, images = self._prepare()
        config = state.config
        batch = config.batch_size
        steps_per_epoch = self._steps_per_epoch = len(images) // batch
        self._verdict_real = images
        self._publish_generator(state, verdicts=True)
        with self._lock:
            self._history = state.history_array()
            self._epoch_log = tuple(state.epoch_log)
            self._metrics = tuple(state.metrics_log)
            self._edits = tuple(state.edits)
        self._prepare_judge(state)
        self._publish(status=Status.RUNNING, data_source=self._data.message if self._data else "",
                      device=str(state.device),
                      epoch=state.epoch, epochs_total=config.epochs, step=state.step,
                      steps_per_epoch=steps_per_epoch, phase=PHASE_TRAINING,
                      data_kind=self._data.kind if self._data else "", **self._latest(state))

        pending: list[torch.Tensor] = []
        first_step = True
        rate = Rate()
        last_publish = time.monotonic()
        while state.epoch < config.epochs:
            if state.perm is None:
                state.perm = torch.randperm(len(images), device=state.device)
                state.batch_in_epoch, state.epoch_seconds = 0, 0.0
            epoch_started = time.monotonic() - state.epoch_seconds
            while state.batch_in_epoch < steps_per_epoch:
                self._apply_edits(state)  # before a pause's checkpoint, so a stop keeps them
                manual = None
                if self._should_halt():
                    self._flush(state, pending, rate)
                    state.epoch_seconds = time.monotonic() - epoch_started
                    manual = self._halt(state)
                    if manual is False:
                        return
                    epoch_started = time.monotonic() - state.epoch_seconds
                    rate.reset()
                    if manual == G_STEP:  # G alone: no batch is consumed, so the epoch does not move
                        self._manual_step(state, G_STEP, None, pending, rate)
                        continue
                b = state.batch_in_epoch
                real = images[state.perm[b * batch:(b + 1) * batch]]
                if isinstance(manual, str):  # a hand-made D or D+G step: the same update on the same batch
                    self._manual_step(state, manual, real, pending, rate)
                    continue
                pending.append(state.train_step(real, update_g=(state.step + 1) % state.config.d_steps == 0))
                state.step += 1
                state.batch_in_epoch += 1
                if first_step:
                    first_step = False
                    self._publish(first_step_seconds=time.monotonic() - self.started_at, step=state.step)
                if len(pending) >= config.log_every:
                    self._flush(state, pending, rate)
                    if time.monotonic() - last_publish >= PUBLISH_SECONDS:
                        self._publish_generator(state)
                        last_publish = time.monotonic()
                    self._notify("flush")
            self._flush(state, pending, rate)
            state.epoch_seconds = time.monotonic() - epoch_started
            self._end_epoch(state, steps_per_epoch)
            last_publish = time.monotonic()  # the epoch's end published the generators
            self._notify("epoch")
        self._writer.wait()
        self._publish(status=Status.FINISHED, eta_seconds=0.0, next_eval_epoch=None)

