"""Suite-wide settings."""

import os

import pytest

# One torch thread per process: two workers (and the app servers and trainers the browser and process tests
# start) share two cores, and each of them on two threads left the cores oversubscribed. Set before torch is
# imported here; the processes the tests start inherit it (a trainer honours it: gan_core.threads).
os.environ["OMP_NUM_THREADS"] = "1"


@pytest.fixture(autouse=True)
def no_spare_training_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTests run the app inside pytest: no training process is started ahead of a click there (the
    browser tests' servers keep theirs, as a user's server does)."""
    monkeypatch.setenv("GANLAB_WARM_TRAINER", "0")


@pytest.fixture(autouse=True)
def short_referee(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trainer on the tests' tiny data trains its referee (readability) beside the GAN: 20 steps here, not
    its own 3,000 (a minute of both cores). The offline digits' referee ships trained and is unaffected."""
    monkeypatch.setattr("gan_core.quality.loader.REFEREE_STEPS", 20)


# The files that take longest (tens of seconds to two minutes each: browser walks, Ray, killed processes),
# longest first: with two workers taking whole files in collection order (pyproject.toml turns off xdist's
# own order, most tests first), a long file started last would leave one worker alone at the end. The order
# of the rest is unchanged.
SLOW_FIRST = ("tests/e2e/test_first_run.py", "tests/e2e/test_latent_browser.py", "tests/e2e/test_game_browser.py",
              "tests/train/test_process.py", "tests/cli/test_sweep.py", "tests/e2e/test_pages_follow.py",
              "tests/train/test_reliability.py", "tests/train/test_resume.py", "tests/e2e/test_models_browser.py",
              "tests/app/test_app_training.py", "tests/app/test_app_saved_runs.py", "tests/bench/test_gpu_check.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        return SLOW_FIRST.index(path) if path in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order
