"""How many threads a training thread takes: one per physical core, unless OMP_NUM_THREADS says otherwise."""

import pytest

from gan_core.threads import physical_cores, training_threads


@pytest.mark.parametrize(("value", "expected"), [("1", 1), (" 3 ", 3), ("", None), ("0", None), ("two", None)])
def test_omp_num_threads_sets_the_training_threads_when_it_is_a_positive_count(monkeypatch, value, expected):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert training_threads() == (physical_cores() if expected is None else expected)


def test_without_omp_num_threads_a_training_thread_takes_every_physical_core(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert training_threads() == physical_cores()
