"""What the training thread does when an epoch ends, and how it writes the run to disk.

``EpochEnd`` is the part of ``trainer.Trainer`` that closes an epoch: its means into the epoch log, the
sample grid, a quality evaluation when the schedule says so (the judge is prepared beside the training),
then, at most every ``checkpoint_seconds``, the checkpoint with the run summary and the CSVs that mirror
it. ``_save`` is also what a pause or a stop writes.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ..data import TrainingData
from ..gan.history import STATS
from ..gan.model import Generator, generate
from ..gan.state import GANState
from ..images import make_grid, save_png
from ..quality.judge import JUDGE_DIR, Judge, eval_noise
from ..quality.loader import JudgeLoader
from ..runs import checkpoint as ckpt
from ..runs.folder import RunPaths, write_events_csv, write_losses_csv
from ..runs.record import to_record
from ..runs.snapshot import PHASE_JUDGE_WAIT, PHASE_TRAINING
from ..runs.summary import summarise, write_summary
from ..runs.writer import BackgroundWriter, frozen_copy
from .publish import Publishing
from .schedule import EvalSchedule


class EpochEnd(Publishing):
    """Epoch means, grid, evaluation and checkpoint (see ``trainer.Trainer`` for the fields' owners)."""

    paths: RunPaths
    _data: TrainingData | None
    _writer: BackgroundWriter
    _judge: Judge | None  # a ready judge, or None while the loader prepares it
    _judge_loader: JudgeLoader | None
    _eval_share: float | None  # None: evaluate every eval_every epochs whatever it costs
    _schedule: EvalSchedule | None
    _eval_z: torch.Tensor | None
    _loop_started: float
    _saved_at: float | None  # time.monotonic() of the last checkpoint handed to the writer; None before one

    def _end_epoch(self, state: GANState, steps_per_epoch: int) -> None:
        """Epoch means into the log, then sample grid, evaluation, and when due (``_checkpoint_due``) the
        checkpoint and CSV: the checkpoint is the truth; grids and rows past it (a crash between writes,
        or before the next checkpoint) are repaired by ``reconcile`` when the run continues."""
        rows = state.history_array()[-steps_per_epoch:, :len(STATS)]  # epoch means of the losses
        state.epoch += 1
        means = rows.astype(np.float64).mean(axis=0)
        state.epoch_log.append({"epoch": state.epoch, **{k: float(v) for k, v in zip(STATS, means, strict=True)},
                                "seconds": state.epoch_seconds})
        state.perm = None
        state.batch_in_epoch, state.epoch_seconds = 0, 0.0
        self._publish_generator(state, verdicts=True)
        with self._lock:
            generator = self._published
        grid = generate(generator, state.preview_z).numpy()  # type: ignore[arg-type]
        save_png(make_grid(grid, ncols=10), self.paths.sample(state.epoch))
        self._evaluate(state, generator)  # type: ignore[arg-type]
        if self._checkpoint_due(state):
            self._save(state)
        with self._lock:
            self._epoch_log = tuple(state.epoch_log)
        self._publish(epoch=state.epoch)

    def _prepare_judge(self, state: GANState) -> None:
        """Start preparing the judge (cached, bundled or trained) on its own thread: the GAN's loop does
        not wait for it, and metrics begin with the first epoch that ends after it is ready. The judge
        draws nothing from the global RNG, so continued runs stay bit-exact."""
        config = state.config
        self._loop_started = time.monotonic()
        if config.eval_every <= 0 or self._data is None:
            return
        self._schedule = EvalSchedule(config.eval_every, config.epochs, self._eval_share)
        self._eval_z = eval_noise(config.eval_samples, config.z_dim)
        if self._judge is not None:
            self._publish(judge=self._judge.describe())
        else:
            self._judge_loader = JudgeLoader(self._data, self.paths.root / JUDGE_DIR, config.dataset,
                                             lambda line, share: self._publish(judge=line, judge_progress=share))
            self._judge_loader.start()
        self._publish(next_eval_epoch=self._schedule.next_epoch(state.epoch, 0.0, 0.0))

    def _evaluate(self, state: GANState, generator: Generator) -> None:
        """Judge's metrics of the fixed eval noise through eval-mode G when the schedule says so (the
        last epoch always, waiting for the judge if need be); appended to ``state.metrics_log`` (saved
        with the checkpoint that follows), tagged with the data's kind and the judge's identity."""
        schedule, config = self._schedule, state.config
        if schedule is None or self._eval_z is None:
            return
        elapsed = time.monotonic() - self._loop_started
        if self._judge is None and self._judge_loader is not None:
            if state.epoch >= config.epochs and self._judge_loader.failure is None:
                self._publish(phase=PHASE_JUDGE_WAIT)
                self._judge_loader.wait()
                self._publish(phase=PHASE_TRAINING)
            self._judge = self._judge_loader.ready()
        if self._judge is not None and schedule.due(state.epoch, elapsed):
            started = time.monotonic()
            row = self._judge.evaluate(generate(generator, self._eval_z))
            last = state.epoch_log[-1]
            row.update(epoch=state.epoch, step=state.step, d_loss=last["d_loss"], g_loss=last["g_loss"],
                       eval_seconds=time.monotonic() - started, data=state.data_source.get("kind", ""))
            schedule.record(row["eval_seconds"])
            state.metrics_log.append(row)
            with self._lock:
                self._metrics = tuple(state.metrics_log)
        elapsed = time.monotonic() - self._loop_started
        self._publish(next_eval_epoch=schedule.next_epoch(state.epoch, elapsed, state.epoch_log[-1]["seconds"]))

    def _checkpoint_due(self, state: GANState) -> bool:
        """At an epoch's end: the first and the last epoch, and any other once ``checkpoint_seconds``
        passed since the last write (pause and stop write one whatever the time)."""
        config = state.config
        return (self._saved_at is None or state.epoch >= config.epochs
                or time.monotonic() - self._saved_at >= config.checkpoint_seconds)

    def _save(self, state: GANState) -> None:
        """Hand a frozen copy of the record to the writer thread: checkpoint first, then the run summary
        that describes it and the CSV that mirrors its epoch log. Training goes on while ~35 MB are
        serialised and fsynced."""
        self._saved_at = time.monotonic()
        record = frozen_copy(to_record(state))
        paths = self.paths

        def write() -> None:
            ckpt.save_checkpoint(record, paths.checkpoint)
            write_summary(paths.summary, summarise(record, paths.checkpoint.stat()))
            write_losses_csv(paths, record["epoch_log"])
            write_events_csv(paths, record["edits"])

        self._writer.submit(write)
