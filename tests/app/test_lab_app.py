"""The latent lab through AppTest: one current z that every tool reads and hands its result back to, the
first view (a start the referee reads, principal-direction sliders, one set of sliders), the "Start from"
choice, an edit that reaches its digit and one that fails, and adopting an inverted digit.

The referee here is a stand-in whose reading depends on the image alone (``latent_helpers.FakeReferee``): the
2-epoch test run draws no digit a real referee would read, and the test must know which seeds count as readable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gan_core.gan.model import generate, seeded_z
from gan_core.latent.steering import EditPath
from gan_core.latent.store import load_latent
from gan_core.runs.folder import RunPaths
from gan_core.runs.reader import SavedRun

from helpers import assert_no_exception, image_url, lab_sliders, new_app, saved_run, show
from latent_helpers import FakeReferee


@pytest.fixture()
def lab(env: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> SavedRun:
    import ganlab.explore.edits
    import ganlab.state.models

    saved_run(env, data_dir)
    monkeypatch.setattr(ganlab.state.models, "referee", lambda name: FakeReferee())
    monkeypatch.setattr(ganlab.explore.edits, "referee", lambda name: FakeReferee())
    return SavedRun.open(RunPaths.of(env, "saved").checkpoint)


def seeds_reading(run: SavedRun, digit: int | None, count: int) -> list[int]:
    """The first ``count`` seeds whose digit (EMA generator, as the lab draws it) the stand-in reads as ``digit``
    (any digit: None) with p >= 0.9."""
    z = torch.cat([seeded_z(s, run.config.z_dim) for s in range(400)])
    probs = FakeReferee().probabilities(generate(run.generator_copy(), z).numpy())
    readable = (probs.max(1) >= 0.9) & ((probs.argmax(1) == digit) if digit is not None else True)
    return [int(s) for s in np.flatnonzero(readable)[:count]]


def base(at) -> np.ndarray:
    return np.asarray(at.session_state["lab_base"], np.float32)


def shown(at) -> np.ndarray:
    return np.asarray(at.session_state["lab_shown"], np.float32)


def test_the_first_view_is_a_readable_digit_under_principal_direction_sliders(lab: SavedRun) -> None:
    at = show(new_app(), "explore")
    assert_no_exception(at)
    assert at.radio(key="lab_mode").value == "Principal directions"
    labels = [s.label for s in lab_sliders(at)]
    assert sorted(labels) == [f"PC {i} σ" for i in range(1, 7)]
    # One set of latent sliders: besides them, only the truncation slider.
    assert {s.label for s in at.slider} - set(labels) == {"Truncation ψ (1 = off)"}
    first = seeds_reading(lab, None, 1)[0]
    assert np.array_equal(base(at), seeded_z(first, 100)[0].numpy())  # any readable digit: the first one
    assert any(m.value.startswith("Referee reads **") for m in at.markdown)
    # "Start from a 4": the first seed whose digit reads 4; "Another": the next one.
    fours = seeds_reading(lab, 4, 2)
    at.selectbox(key="lab_start").set_value(4).run()
    assert np.array_equal(base(at), seeded_z(fours[0], 100)[0].numpy())
    assert f"seed {fours[0]}, a 4" in " ".join(c.value for c in at.caption)
    assert "Referee reads **4** (95%)" in [m.value for m in at.markdown]
    at.button(key="lab_another").click().run()
    assert np.array_equal(base(at), seeded_z(fours[1], 100)[0].numpy())
    assert_no_exception(at)


def test_each_mode_draws_one_set_of_sliders_and_a_sweep_row_per_slider(lab: SavedRun) -> None:
    at = show(new_app(), "explore")
    at.radio(key="lab_mode").set_value("Raw z[i]").run()
    assert [s.label for s in lab_sliders(at)] == [f"z[{d}]" for d in range(6)] or \
        sorted(s.label for s in lab_sliders(at)) == sorted(f"z[{d}]" for d in range(6))
    before = shown(at)
    lab_sliders(at)[0].set_value(0.5).run()
    moved = shown(at) - before
    assert np.count_nonzero(moved) == 1  # a raw slider moves one coordinate
    at.radio(key="lab_mode").set_value("Class directions").run()
    assert len(lab_sliders(at)) == 10 and all(s.value == 0.0 for s in lab_sliders(at))  # a new mode starts at 0
    assert any("row i: the slider's direction from -2 to +2" in c for img in at.image for c in img.captions)
    assert_no_exception(at)


def fake_edit(start: np.ndarray, end: np.ndarray, digit: int, reads: int) -> EditPath:
    """An edit from ``start`` to ``end`` that the referee reads as ``reads`` (p 0.95): reached iff it is ``digit``."""
    path = np.stack([start, (start + end) / 2, end])[:, None, :].astype(np.float32)
    return EditPath(path, np.array([[0.1], [0.5], [0.99]], np.float32), np.array([2]), False,
                    reached=np.array([reads == digit]), referee_p=np.array([0.95 if reads == digit else 0.01]),
                    read_digit=np.array([reads]), read_p=np.array([0.95]), pixel_change=np.array([0.1]),
                    attempts=np.array([1]))


def test_every_tool_reads_the_one_z_and_an_edit_that_reaches_its_digit_becomes_it(
        lab: SavedRun, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ganlab.explore.edits

    at = show(new_app(), "explore")
    lab_sliders(at)[0].set_value(2.0).run()
    z = shown(at)
    assert not np.allclose(z, base(at))  # the slider moved the shown z off its base
    # Saved latents save the z shown now.
    at.text_input(key="lt_save_name").set_value("mine").run()
    at.button(key="lt_save").click().run()
    assert np.allclose(load_latent(RunPaths.of(env, "saved"), "mine", 100)[0], z)
    # "Toward d" starts from that z; the referee reads the result as d: it becomes the lab's z.
    target = seeded_z(fours := seeds_reading(lab, 4, 1)[0], 100)[0].numpy()
    started = []

    def toward(generator, judge, z0, digit, *, referee, **kwargs):
        started.append(np.asarray(z0[0]).copy())
        assert isinstance(referee, FakeReferee)  # the referee decides, not the judge
        return fake_edit(np.asarray(z0[0]), target, digit, reads=4)

    monkeypatch.setattr(ganlab.explore.edits, "toward_digit", toward)
    at.button(key="lt_toward_4").click().run()
    assert_no_exception(at)
    assert np.allclose(started[0], z)
    assert [s.value for s in at.success] and "Reached 4" in at.success[0].value
    assert np.allclose(base(at), target) and all(s.value == 0.0 for s in lab_sliders(at)), fours
    assert "toward 4" in " ".join(c.value for c in at.caption)


def test_an_edit_that_fails_says_so_keeps_the_z_and_offers_its_best_attempt(
        lab: SavedRun, monkeypatch: pytest.MonkeyPatch) -> None:
    import ganlab.explore.edits

    at = show(new_app(), "explore")
    start = base(at)
    elsewhere = seeded_z(seeds_reading(lab, 2, 1)[0], 100)[0].numpy()  # an attempt that ends on a "2"
    monkeypatch.setattr(ganlab.explore.edits, "toward_digit",
                        lambda g, j, z0, d, **kw: fake_edit(z0[0], elsewhere, d, reads=2))
    at.button(key="lt_toward_8").click().run()
    assert_no_exception(at)
    assert not at.success and "“Toward 8” failed: the referee reads the result as 2 (95%)" in at.error[0].value
    assert np.array_equal(base(at), start)  # the lab keeps its z
    at.button(key="lt_use_edit").click().run()
    assert np.allclose(base(at), elsewhere)
    assert "the best attempt toward 8" in " ".join(c.value for c in at.caption)


def test_an_inverted_digit_becomes_the_lab_z_when_adopted(lab: SavedRun) -> None:
    at = show(new_app(), "explore")
    before = image_url(at, "current sliders")
    at.button(key="lt_invert").click().run(timeout=120)
    assert_no_exception(at)
    found = at.session_state["lt_inversion"][1]
    at.button(key="lt_use_inverted").click().run()
    assert np.allclose(base(at), found.z[0]) and np.allclose(shown(at), found.z[0])
    assert "the inverted digit" in " ".join(c.value for c in at.caption)
    assert image_url(at, "current sliders") != before
