"""Suite-wide settings."""

import pytest


@pytest.fixture(autouse=True)
def no_spare_training_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTests run the app inside pytest: no training process is started ahead of a click there (the
    browser tests' servers keep theirs, as a user's server does)."""
    monkeypatch.setenv("GANLAB_WARM_TRAINER", "0")
