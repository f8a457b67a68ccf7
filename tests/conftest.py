"""Suite-wide settings."""

import pytest


@pytest.fixture(autouse=True)
def no_spare_training_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTests run the app inside pytest: no training process is started ahead of a click there (the
    browser tests' servers keep theirs, as a user's server does)."""
    monkeypatch.setenv("GANLAB_WARM_TRAINER", "0")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest test first: with two workers taking whole files, the first-run walk (two minutes of a
    real first run) then runs beside the rest of the suite instead of after most of it."""
    items.sort(key=lambda item: item.path.name != "test_first_run.py")
