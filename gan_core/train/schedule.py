"""When to evaluate: every ``eval_every`` epochs, as long as evaluation stays a small share of the run.

An evaluation (2,000 samples through G and the judge, then the FID) costs about the same whatever the
dataset, while an epoch's length grows with it: on the 4,000 offline digits an evaluation per epoch took
a large share of a short run. With a ``share`` the schedule skips an epoch's evaluation when it would
push the time spent evaluating, plus one more evaluation kept in reserve for the last epoch, above that
share of the wall time so far. The first evaluation (once the judge is ready: it measures the cost) and
the last epoch's are always made, so a run long enough for those two stays within its share at its end.
``share=None`` evaluates every ``eval_every`` epochs, whatever the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

# The default budget of the evaluations' own time: 4%, so that with what evaluating costs outside its own
# timing (the judge's reference statistics on first use, caches the evaluation evicts) metrics stay
# within 5% of a run's wall time against the same run with metrics off (bench/throughput.py).
EVAL_SHARE = 0.04


@dataclass
class EvalSchedule:
    every: int  # config.eval_every: evaluate at most every this many epochs; 0 = never
    epochs: int  # the run's last epoch: always evaluated
    share: float | None = EVAL_SHARE
    spent: float = 0.0  # seconds spent evaluating so far
    cost: float | None = None  # the last evaluation's seconds; None before the first

    def due(self, epoch: int, elapsed: float) -> bool:
        """Evaluate after ``epoch``, ``elapsed`` wall seconds into this session's training?"""
        if self.every <= 0:
            return False
        if epoch >= self.epochs:
            return True
        if epoch % self.every:
            return False
        return self._affordable(elapsed)

    def record(self, seconds: float) -> None:
        self.spent += seconds
        self.cost = seconds

    def next_epoch(self, epoch: int, elapsed: float, epoch_seconds: float) -> int | None:
        """The epoch after which the next evaluation is expected, from the last epoch's length; None when
        metrics are off or the run is over."""
        if self.every <= 0 or epoch >= self.epochs:
            return None
        candidate = (epoch // self.every + 1) * self.every
        while candidate < self.epochs:
            if self._affordable(elapsed + (candidate - epoch) * epoch_seconds):
                return candidate
            candidate += self.every
        return self.epochs

    def _affordable(self, elapsed: float) -> bool:
        if self.share is None or self.cost is None:
            return True
        reserve = self.cost  # the last epoch's evaluation, which comes whatever the budget says then
        return self.spent + self.cost + reserve <= self.share * (elapsed + self.cost)
