"""bench.throughput fits its measurements into its budget (issue 14: the bench takes <= 5 minutes on any CPU)."""

import pytest

from bench.throughput.budget import fitted_epochs, measure_within


class FakeClock:
    """Seconds that pass only when a fake measurement says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def taking(self, seconds: float, log: list[str], name: str):
        def measure() -> None:
            self.now += seconds
            log.append(name)
        return measure


@pytest.mark.parametrize(("budget", "counts"), [
    (1000, (3, 2, 2)),  # a fast machine: everything wanted, a checkpoint-every-epoch run per pair
    (250, (3, 2, 1)),  # 3 x 10 + 2 x 80 = 190, and one 40-s every-epoch run in the 60 s left
    (200, (3, 2, 0)),  # 190 s: no room for a 40-s every-epoch run
    (175, (1, 2, 0)),  # the second pair, not a second short repeat: the metrics' share needs pairs
    (120, (1, 1, 0)),  # a slow machine: one of each, the minimum
    (50, (1, 1, 0)),  # slower still: one of each even past the budget, or there would be no figures
])
def test_measurements_fit_the_budget_with_one_of_each_at_least(budget, counts):
    clock, log = FakeClock(), []
    done = measure_within(budget, clock.taking(10, log, "short"), clock.taking(80, log, "pair"),
                          clock.taking(40, log, "every"), repeats=3, pairs=2, clock=clock)
    assert done == counts
    assert [log.count(name) for name in ("short", "pair", "every")] == list(counts)
    assert log[:2] == ["short", "pair"]
    assert clock.now <= max(budget, 90)  # within the budget, but for the minimum of one short and one pair


@pytest.mark.parametrize(("pair_seconds", "left", "epochs"), [
    (150.0, 200.0, 30),  # two runs of 30 epochs fit: the default run as the app runs it
    (400.0, 200.0, 15),  # a slow CPU: shorter runs, so the bench still ends within its budget
    (400.0, 10.0, 2),  # never under 2 epochs: a first and a last evaluation
    (400.0, -5.0, 2),
])
def test_whole_runs_are_shortened_only_where_a_pair_would_not_fit(pair_seconds, left, epochs):
    assert fitted_epochs(30, pair_seconds, left) == epochs
