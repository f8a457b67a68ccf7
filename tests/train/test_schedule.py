"""Issue 14 item 2: evaluations keep to their share of the wall time; the last epoch is always evaluated."""

from gan_core.train.schedule import EvalSchedule


def simulate(schedule, epochs, epoch_seconds, eval_seconds):
    """Epoch ends at which the schedule evaluates, and the share of wall time spent evaluating."""
    elapsed, done, predicted = 0.0, [], []
    for epoch in range(1, epochs + 1):
        elapsed += epoch_seconds
        if schedule.due(epoch, elapsed):
            done.append(epoch)
            elapsed += eval_seconds
            schedule.record(eval_seconds)
        predicted.append(schedule.next_epoch(epoch, elapsed, epoch_seconds))
    return done, schedule.spent / elapsed, predicted


def test_cheap_evaluations_run_every_epoch():
    done, share, _ = simulate(EvalSchedule(every=1, epochs=10), 10, epoch_seconds=10.0, eval_seconds=0.1)
    assert done == list(range(1, 11)) and share < 0.05


def test_costly_evaluations_are_spaced_to_the_budget_and_the_last_epoch_is_kept():
    done, share, predicted = simulate(EvalSchedule(every=1, epochs=60, share=0.05), 60, epoch_seconds=1.0,
                                      eval_seconds=0.5)
    assert done[0] == 1 and done[-1] == 60 and 5 < len(done) < 15
    assert share <= 0.05  # the last, unconditional, evaluation was kept in reserve
    # the announced next evaluation is the one that comes (for every epoch that evaluated next)
    for epoch, announced in zip(range(1, 60), predicted, strict=False):
        following = [e for e in done if e > epoch]
        assert announced == following[0], (epoch, announced, following)


def test_without_a_share_every_eval_every_epoch_is_evaluated_and_zero_is_off():
    done, _, predicted = simulate(EvalSchedule(every=3, epochs=10, share=None), 10, 1.0, 5.0)
    assert done == [3, 6, 9, 10] and predicted[0] == 3 and predicted[-1] is None
    assert simulate(EvalSchedule(every=0, epochs=5), 5, 1.0, 1.0)[0] == []


def test_a_run_too_short_for_two_evaluations_in_its_share_gets_the_first_and_the_last_only():
    done, share, _ = simulate(EvalSchedule(every=1, epochs=3), 3, epoch_seconds=2.0, eval_seconds=0.4)
    assert done == [1, 3] and share > 0.05  # the share cannot hold: both are what a person needs to see
