"""The run readers agree: the demo is a saved run read from its manifest, so the two answer every
question alike (the demo's accessors once drifted: its warnings ignored the loss's own D-wins threshold)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_core.gan.losses import loss_view
from gan_core.gan.nets import make_discriminator, make_generator
from gan_core.runs.demo import DemoRun
from gan_core.runs.reader import SavedRun
from gan_core.runs.snapshot import Status

from helpers import tiny_config


def readers(d_loss: float, **changes: object) -> tuple[DemoRun, SavedRun]:
    """The same two-epoch run as a demo (EMA generator only) and as a checkpoint's saved run."""
    config = tiny_config(**changes)
    generator, discriminator = make_generator(config).eval(), make_discriminator(config).eval()
    epoch_log = [{"epoch": e, "d_loss": d_loss, "g_loss": 2.0, "d_real": 0.9, "d_fake": 0.1, "seconds": 1.0}
                 for e in (1, 2)]
    history = np.full((8, 6), 0.5, np.float32)
    manifest = {"config": config.to_dict(), "epoch": 2, "step": 8, "epoch_log": epoch_log, "metrics_log": [],
                "history": history.tolist(), "preview_z": torch.zeros(4, config.z_dim).tolist()}
    record = {"config": config, "epoch": 2, "step": 8, "epoch_log": epoch_log, "metrics_log": [],
              "history": torch.from_numpy(history), "preview_z": torch.zeros(4, config.z_dim),
              "discriminator": discriminator.state_dict(), "generator": generator.state_dict()}
    return DemoRun("demo", manifest, generator, discriminator), SavedRun("run", record, generator, generator)


@pytest.mark.parametrize("loss", ["non-saturating", "lsgan", "hinge"])
def test_the_demo_warns_as_a_saved_run_does_with_its_loss_own_d_wins_threshold(loss: str) -> None:
    threshold = loss_view(loss).d_wins_below
    for d_loss, warns in ((threshold * 2, False), (threshold / 2, True)):
        demo, saved = readers(d_loss, loss=loss)
        assert demo.warnings() == saved.warnings()
        assert any("discriminator wins" in w for w in demo.warnings()) == warns, (loss, d_loss)
    # LSGAN's threshold is far below the default 0.05: a D loss of 0.01 is no win there.
    demo, _ = readers(0.01, loss="lsgan")
    assert demo.warnings() == []


def test_weights_are_answered_by_has_weights_not_by_drawing() -> None:
    demo, saved = readers(1.0)
    assert demo.has_weights() and not demo.has_weights("raw")  # the demo ships no raw G
    assert saved.has_weights() and saved.has_weights("raw")
    z = torch.zeros(2, demo.config.z_dim)
    assert demo.sample(z, "raw") is None and saved.sample(z, "raw") is not None
    with pytest.raises(ValueError, match="which"):
        demo.has_weights("best")


def test_the_demo_and_the_saved_run_read_the_same_record_alike() -> None:
    demo, saved = readers(1.0)
    assert np.array_equal(demo.history(), saved.history()) and not demo.history().flags.writeable
    assert demo.epoch_log() == saved.epoch_log() and demo.metrics() == saved.metrics() == ()
    assert demo.snapshot().d_loss == saved.snapshot().d_loss == 0.5
    assert demo.snapshot().status == Status.FINISHED and demo.snapshot().epochs_total == 2
    assert demo.snapshot().data_source == "demo run (read-only)" and demo.read_only and not saved.read_only
    assert demo.verdicts()["grid_raw"] is None and saved.verdicts()["grid_raw"] is not None
