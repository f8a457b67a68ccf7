"""The run's quality evaluations while it trains.

``Evaluation`` owns the judge (a ready one, or a ``JudgeLoader`` preparing it beside the training), the
``EvalSchedule`` that says which epochs are evaluated, and the fixed evaluation noise. At an epoch's end
it evaluates the published generator when the schedule says so (the last epoch always, waiting for the
judge if need be) and appends the row to ``state.metrics_log``, which the checkpoint that follows saves.
The judge draws nothing from the global RNG, so evaluated runs still continue bit for bit.
"""

from __future__ import annotations

import time

import torch

from ..data import TrainingData
from ..gan.state import GANState
from ..quality.judge import JUDGE_DIR, Judge, eval_noise
from ..quality.loader import JudgeLoader, evaluate_generator
from ..runs.folder import RunPaths
from ..runs.snapshot import PHASE_JUDGE_WAIT, PHASE_TRAINING
from .publish import Publisher
from .schedule import EVAL_SHARE, EvalSchedule


class Evaluation:
    """Judge, schedule and evaluations of one training session; metrics off until ``start``."""

    def __init__(self, paths: RunPaths, publisher: Publisher, *, judge: Judge | None = None,
                 share: float | None = EVAL_SHARE, classifier_steps: int | None = None) -> None:
        self.paths = paths
        self.publisher = publisher
        self.judge = judge  # a ready judge (tests, benches), or None while the loader prepares it
        self.loader: JudgeLoader | None = None
        self.share = share  # None: evaluate every eval_every epochs whatever it costs
        self.classifier_steps = classifier_steps  # the judge's and the referee's training (None: their own)
        self.schedule: EvalSchedule | None = None
        self.noise: torch.Tensor | None = None
        self.started = time.monotonic()  # when this session's training began: the schedule's clock

    def start(self, state: GANState, data: TrainingData) -> None:
        """Start preparing the judge (cached, bundled or trained) on its own thread: the GAN's loop does
        not wait for it, and metrics begin with the first epoch that ends after it is ready."""
        config = state.config
        self.started = time.monotonic()
        if config.eval_every <= 0:
            return
        self.schedule = EvalSchedule(config.eval_every, config.epochs, self.share)
        self.noise = eval_noise(config.eval_samples, config.z_dim)
        if self.judge is not None:
            self.publisher.publish(judge=self.judge.describe())
        else:
            self.loader = JudgeLoader(data, self.paths.root / JUDGE_DIR, config.dataset,
                                      lambda line, share: self.publisher.publish(judge=line, judge_progress=share),
                                      steps=self.classifier_steps)
            self.loader.start()
        self.publisher.publish(next_eval_epoch=self.schedule.next_epoch(state.epoch, 0.0, 0.0))

    def epoch_ended(self, state: GANState) -> None:
        """The judge's metrics of the fixed noise through the published (eval-mode) generator when due,
        tagged with the data's kind and the judge's identity; then the next evaluation's epoch."""
        schedule, config = self.schedule, state.config
        if schedule is None or self.noise is None:
            return
        if self.judge is None and self.loader is not None:
            if state.epoch >= config.epochs and self.loader.failure is None:
                self.publisher.publish(phase=PHASE_JUDGE_WAIT)
                self.loader.wait()
                self.publisher.publish(phase=PHASE_TRAINING)
            self.judge = self.loader.ready()
        generator = self.publisher.shown()
        if self.judge is not None and generator is not None and schedule.due(state.epoch, self._elapsed()):
            started = time.monotonic()
            row = evaluate_generator(self.judge, generator, self.noise)
            last = state.epoch_log[-1]
            row.update(epoch=state.epoch, step=state.step, d_loss=last["d_loss"], g_loss=last["g_loss"],
                       eval_seconds=time.monotonic() - started, data=state.data_source.get("kind", ""))
            schedule.record(row["eval_seconds"])
            state.metrics_log.append(row)
            self.publisher.metrics(state)
        self.publisher.publish(next_eval_epoch=schedule.next_epoch(state.epoch, self._elapsed(),
                                                                   state.epoch_log[-1]["seconds"]))

    def cancel(self) -> None:
        """The training ended: a judge still in training saves its progress."""
        if self.loader is not None:
            self.loader.cancel()

    def _elapsed(self) -> float:
        return time.monotonic() - self.started
