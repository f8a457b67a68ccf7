"""The two models of issue 24 in the app through AppTest: the sidebar's architecture and conditional fields with
the pair's parameter counts, and a conditional DCGAN run (one epoch on the 400 digits) on every page: the grid's
rows named by class, the quality block's asked-for shares, the lab's digit control (the same z, another class),
its strip across the labels and "toward a digit" as a label change, the DCGAN's own layers, and the Runs page.

The referee is a stand-in whose reading depends on the image alone (``latent_helpers.FakeReferee``): a one-epoch
run draws nothing a real referee reads, and its training would cost seconds per test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan_core import GANConfig, parameter_counts
from gan_core.runs.snapshot import Snapshot, Status
from gan_core.train.trainer import Trainer

from helpers import assert_no_exception, finish, image_url, metrics_row, new_app, show, with_metrics
from latent_helpers import FakeReferee

CONDITIONAL_DCGAN = dict(architecture="dcgan", conditional=True)


@pytest.fixture()
def conditional_run(env: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-epoch conditional DCGAN run "cdc" (8 steps of 50 digits), with two judged epochs written in."""
    import ganlab.explore.edits
    import ganlab.state.models

    monkeypatch.setattr(ganlab.state.models, "referee", lambda name: FakeReferee())
    monkeypatch.setattr(ganlab.explore.edits, "referee", lambda name: FakeReferee())
    monkeypatch.setattr(ganlab.state.models, "UI_DIRECTION_SAMPLES", 1000)  # a tenth: the DCGAN PCA costs a second
    config = GANConfig(batch_size=50, epochs=1, log_every=1, seed=3, eval_every=0, **CONDITIONAL_DCGAN)
    trainer = Trainer(config, "cdc", checkpoints=env, data_dir=data_dir, threads=0)
    trainer.start()
    finish(trainer)
    asked = {"asked": 0.42, "asked_per_class": [0.9, 0.1, None, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.25]}
    with_metrics(env / "cdc", [metrics_row(1, 80.0, [0.1] * 10), {**metrics_row(1, 70.0, [0.1] * 10), **asked}])
    return env / "cdc"


def lab_z(at) -> tuple[np.ndarray, np.ndarray]:
    """The lab's base z and the z of its big digit."""
    return (np.asarray(at.session_state["lab_base"], np.float32), np.asarray(at.session_state["lab_shown"], np.float32))


def test_the_sidebar_shows_each_pair_s_parameter_counts(env: Path) -> None:
    at = new_app()
    counts = parameter_counts(GANConfig())
    assert f"Parameters: G **{counts['generator']:,}** · D **{counts['discriminator']:,}** (mlp)" in \
        [c.value for c in at.sidebar.caption]
    at.selectbox(key="cfg_architecture").set_value("dcgan")
    at.checkbox(key="cfg_conditional").check().run()
    counts = parameter_counts(GANConfig(**CONDITIONAL_DCGAN))
    assert f"Parameters: G **{counts['generator']:,}** · D **{counts['discriminator']:,}** (dcgan, conditional)" in \
        [c.value for c in at.sidebar.caption]
    assert_no_exception(at)


def test_a_conditional_dcgan_run_works_on_every_page(conditional_run: Path) -> None:
    at = new_app()  # the Train page of the newest run
    assert_no_exception(at)
    assert any("rows ask for, top to bottom: 0 · 1 · 2 · 3 · 4 · 5 · 6 · 7 · 8 · 9" in c
               for image in at.image for c in image.captions)
    asked = next(m.value for m in at.markdown if m.value.startswith("**Asked-for class"))
    assert "**Asked-for class: 42%**" in asked and "0: 90% · 1: 10% · 2: – · 3: 30%" in asked and "9: 25%" in asked

    at = show(at, "explore")
    assert_no_exception(at)
    assert at.radio(key="lab_label").value == 0
    assert at.selectbox(key="lab_layer").options == ["h1", "h2", "image"]  # the DCGAN's layers, not the MLP's
    assert "Class directions" not in at.radio(key="lab_mode").options  # the class is asked for, not climbed to
    base, shown = lab_z(at)
    digit, across = image_url(at, "current sliders"), image_url(at, "this z across all the labels")
    at.radio(key="lab_label").set_value(7).run()
    assert image_url(at, "G(z, 7) for the current sliders") != digit  # another class drawn ...
    assert np.array_equal(lab_z(at)[0], base) and np.array_equal(lab_z(at)[1], shown)  # ... from the same z
    assert image_url(at, "this z across all the labels") == across  # the z's strip is the z's, whatever the class
    # "Toward a digit" is a label change: "→ 3" asks for a 3, the z stays.
    at.button(key="lt_toward_3").click().run()
    assert at.radio(key="lab_label").value == 3 and np.array_equal(lab_z(at)[0], base)
    assert any(m.value.startswith("Asked for **3**: the referee") for m in at.markdown)
    assert_no_exception(at)

    assert_no_exception(show(at, "runs"))


@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("status", [Status.FINISHED, Status.RUNNING])
def test_the_lab_s_start_note_never_names_a_digit_the_digit_control_has_left(monkeypatch: pytest.MonkeyPatch,
                                                                           conditional: bool, status: Status) -> None:
    """The base z's note from a readable start: on a conditional run the digit control may draw the z as
    another class later, so the note says which class it was found for ("a 0 the referee reads" stayed under
    the lab's 7, seen in Chromium). On a run that still trains the weights move on under the kept z, so the
    reading is dated ("Base z: seed 0, a 8 the referee reads" stayed under a 1 twenty epochs later, seen in
    Chromium's first-run walk)."""
    from types import SimpleNamespace

    from gan_core.latent.starts import ReadableLatents
    from ganlab.state import models

    found = ReadableLatents(np.zeros((1, 4), np.float32), np.array([5]), np.array([8]), np.array([0.97]), 6)
    monkeypatch.setattr(models, "referee", lambda name: None)
    monkeypatch.setattr(models, "private_generator", lambda reader: None)
    monkeypatch.setattr(models, "readable_latents", lambda *args, **kwargs: found)
    reader = SimpleNamespace(config=GANConfig(conditional=conditional, z_dim=4),
                             snapshot=lambda: Snapshot("r", status=status, epoch=12))
    _, note = models.readable_start(reader, None, 0)
    when = " at epoch 12" if status == Status.RUNNING else ""
    if conditional:
        assert note == f"seed 5, found when asked for an 8, which the referee read with p = 97%{when}"
    elif when:
        assert note == "seed 5, an 8 the referee read with p = 97% at epoch 12"
    else:
        assert note == "seed 5, an 8 the referee reads with p = 97%"


@pytest.mark.parametrize(("name", "said"), [(7, "a 7"), (8, "an 8"), ("18", "an 18"), ("11", "an 11"), (1, "a 1"),
                                            ("Coat", "a Coat"), ("Ankle boot", "an Ankle boot"), ("f", "an f"),
                                            ("b", "a b"), ("お", "a お")])
def test_a_class_is_named_with_the_article_it_is_said_with(name: object, said: str) -> None:
    from ganlab.state.labels import a_class

    assert a_class(name) == said
