"""Suite-wide settings."""

import pytest


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
