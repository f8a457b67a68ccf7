"""Samples a person can trust, in the app (AppTest): the raw/EMA switch, D's verdict on each grid image and its
real-vs-generated histogram, the nearest real digits of the lab's digit and of the fixed grid, precision and
recall beside FID with the most and least realistic samples, and the shipped demo run (opened on a fresh
install, listed first, read-only, refused when damaged or swapped).

One tiny demo and one tiny saved run per module (random images, 2 epochs); every test gets its own
checkpoints root and a fresh server (caches cleared); the judge trains for 40 steps.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gan_core.data import write_bundled_mnist
from gan_core.quality.neighbours import CLOSER, COPYING
from gan_core.runs import demo
from gan_core.runs.checkpoint import save_checkpoint
from gan_core.runs.folder import RunPaths
from gan_core.train.trainer import Trainer
from ganlab.state.source import DEMO_RUN
from ganlab.train.verdicts import FAKE_RGB, REAL_RGB, UNDECIDED_RGB, bordered_grid, legend_html, verdict_colours

from helpers import (
    assert_no_exception,
    chart_specs,
    finish,
    image_url,
    new_app,
    show,
    tiny_config,
    tiny_data,
    tiny_demo,
)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 real digits (the app's data), a tiny demo, and a tiny saved run whose EMA generator and G differ."""
    root = tmp_path_factory.mktemp("trust_app")
    write_bundled_mnist(root / "data", 400)
    tiny_demo(root / "demo")
    trainer = Trainer(tiny_config(seed=1), "saved", checkpoints=root / "runs", data=tiny_data())
    trainer.start()
    finish(trainer)
    return root


@pytest.fixture(scope="module")
def data_dir(shared: Path) -> Path:
    return shared / "data"


@pytest.fixture(scope="module")
def demo_dir(shared: Path) -> Path:
    return shared / "demo"


def with_saved_run(root: Path, shared: Path) -> Path:
    shutil.copytree(shared / "runs" / "saved", root / "saved")
    return root / "saved"


def texts(at: AppTest) -> str:
    return "\n".join([c.value for c in at.caption] + [m.value for m in at.markdown] + [i.value for i in at.info]
                     + [w.value for w in at.warning] + [e.value for e in at.error])


def charts(at: AppTest) -> str:
    """The page's Vega-Lite specs; none may point at Altair's placeholder dataset (it would draw nothing)."""
    specs = "\n".join(chart_specs(at))
    assert '"empty"' not in specs
    return specs


# --- the demo run ------------------------------------------------------------------------------------------

def test_a_fresh_install_opens_the_demo_with_d_verdicts_on_its_grid(env: Path) -> None:
    at = new_app()
    assert_no_exception(at)
    assert "The demo run" in texts(at) and "read-only" in texts(at)
    assert image_url(at, "fixed noise · EMA generator")  # the demo's grid, from its EMA generator
    assert "D says real" in texts(at) and "D's probability that each image is real" in texts(at)
    assert "D's output: real vs generated" in charts(at)  # the histogram, from the app's real digits
    assert "digits of the EMA generator" in texts(at)  # the demo has no raw G for the histogram's fakes
    assert not at.button(key="btn_train").disabled and at.button(key="btn_resume").disabled
    assert "Resume is off: the demo run is read-only" in texts(at)
    assert at.toggle(key="view_raw_g").disabled  # no raw G to switch to
    at = show(at, "explore")
    assert_no_exception(at)
    assert image_url(at, "current sliders")


def test_the_demo_is_listed_first_read_only_and_continue_and_delete_are_refused(env: Path, shared: Path) -> None:
    with_saved_run(env, shared)
    at = new_app()
    assert "The demo run" not in texts(at)  # another run exists: it opens, not the demo
    at = show(at, "runs")
    table = at.dataframe[0].value
    assert list(table["run"]) == [DEMO_RUN, "saved"] and table["state"].iloc[0] == "read-only"
    at.selectbox(key="browser_pick").set_value(DEMO_RUN).run()
    at.button(key="btn_open_resume").click().run()
    assert_no_exception(at)
    assert demo.CONTINUE_REFUSED in texts(at)
    from ganlab.state.resources import holder

    assert holder().trainer is None  # nothing was started
    at.button(key="btn_delete").click().run()
    assert "cannot be deleted" in texts(at)
    assert "btn_delete_confirm" not in [b.key for b in at.button]  # not even asked
    assert at.dataframe[0].value["run"].iloc[0] == DEMO_RUN


def test_train_from_the_demo_starts_a_new_run_in_one_click(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ganlab.widgets.actions

    asked: dict = {}

    def quick_trainer(config, name, **kwargs):  # an in-process tiny trainer: stops in a moment
        asked.update(kwargs)
        return Trainer(config.replace(epochs=1, batch_size=20), name, checkpoints=kwargs["checkpoints"],
                       data=tiny_data())

    monkeypatch.setattr(ganlab.widgets.actions, "TrainerProcess", quick_trainer)
    at = new_app()
    at.button(key="btn_train").click().run()
    assert_no_exception(at)
    from ganlab.state.resources import holder

    trainer = holder().trainer
    assert trainer is not None and trainer.paths.name == "mnist-1"
    assert "The demo run" not in texts(at)  # the pages follow the new run
    # The trainer's judge and referee train as long as the lab's (GANLAB_JUDGE_STEPS: 40 here), so they are the
    # same networks, from one cache entry, and a test server's training process trains neither for a minute.
    assert asked["classifier_steps"] == 40


@pytest.mark.parametrize("harm", ["damaged", "swapped", "no manifest"])
def test_a_damaged_or_swapped_demo_is_refused_and_the_app_still_opens(env: Path, shared: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      harm: str) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(shared / "demo", folder, ignore=shutil.ignore_patterns("_source"))
    weights = folder / demo.WEIGHTS
    if harm == "damaged":
        blob = bytearray(weights.read_bytes())
        blob[len(blob) // 2] ^= 0xFF
        weights.write_bytes(bytes(blob))
    elif harm == "swapped":  # the weights of another run
        other = demo.export_demo(RunPaths.of(shared / "runs", "saved").checkpoint, tmp_path / "other", command="x")
        shutil.copy(other, weights)
    else:
        (folder / demo.MANIFEST).unlink()
    monkeypatch.setenv("GANLAB_DEMO_DIR", str(folder))
    at = new_app()
    assert_no_exception(at)
    assert "The shipped demo run was refused" in texts(at) and "The demo run (" not in texts(at)
    assert not at.button(key="btn_train").disabled  # a run of one's own can still be trained
    at = show(at, "runs")
    assert_no_exception(at)
    assert at.dataframe[0].value["state"].iloc[0] == "refused"
    assert "The shipped demo run is refused" in texts(at)


# --- the raw/EMA switch and D's verdicts --------------------------------------------------------------------

def test_the_switch_shows_the_raw_g_on_the_grid_and_in_the_lab(env: Path, shared: Path) -> None:
    with_saved_run(env, shared)
    at = new_app()
    ema_grid = image_url(at, "fixed noise · EMA generator")
    legend = texts(at)
    assert "D says real" in legend and "Border: D's probability" in legend
    at.toggle(key="view_raw_g").set_value(True).run()
    assert_no_exception(at)
    assert image_url(at, "fixed noise · raw G") != ema_grid
    at = show(at, "explore")
    raw_digit = image_url(at, "current sliders")
    assert any("Raw G of **saved**" in c.value for c in at.caption)
    at.toggle(key="view_raw_g").set_value(False).run()
    assert image_url(at, "current sliders") != raw_digit
    assert any("EMA generator of **saved**" in c.value for c in at.caption)


def test_border_colours_and_legend_follow_the_verdict() -> None:
    colours = verdict_colours(np.array([1.0, 0.5, 0.0]), True, 0.5)
    assert (colours == np.stack([REAL_RGB, UNDECIDED_RGB, FAKE_RGB]).astype(np.uint8)).all()
    raw = verdict_colours(np.array([2.0, 0.0, -1.0]), False, 0.0)  # hinge: scores around 0
    assert (raw[0] == REAL_RGB).all() and (raw[1] == UNDECIDED_RGB).all() and raw[2][0] > raw[2][2]
    picture = bordered_grid(np.zeros((3, 28, 28)), colours, ncols=3, scale=1, border=2, gap=1)
    assert tuple(picture[1, 1]) == tuple(colours[0]) and tuple(picture[1, 1 + 32 + 1]) == tuple(colours[1])
    assert picture[1 + 2 + 5, 1 + 2 + 5].tolist() == [0, 0, 0]  # the digit itself, grey levels
    hinge = legend_html({"probability": False, "reference": 0.0})
    assert "raw score above 0" in hinge and "D says real" not in hinge


def test_a_loss_without_probability_shows_raw_scores_and_says_so(env: Path) -> None:
    trainer = Trainer(tiny_config(loss="hinge"), "hinge", checkpoints=env, data=tiny_data())
    trainer.start()
    finish(trainer)
    at = new_app()
    assert_no_exception(at)
    words = texts(at)
    assert "raw score above 0 (the real side)" in words
    assert "the hinge loss trains a score, not a probability" in words
    assert "D's raw score" in charts(at)


# --- precision, recall, realism ---------------------------------------------------------------------------

def test_precision_recall_are_charted_beside_fid_with_the_most_and_least_realistic(env: Path, shared: Path) -> None:
    import torch

    folder = with_saved_run(env, shared)
    rows = [{"epoch": epoch, "step": epoch * 4, "fid": 90.0 - 10 * epoch, "fid_floor": 4.0, "fid_n": 40,
             "inception_score": 2.0, "histogram": [0.1] * 10, "classes_present": 10, "max_class_share": 0.1,
             "min_class_share": 0.1, "samples": 60, "precision": 0.5 + 0.1 * epoch, "recall": 0.2 * epoch,
             "precision_real": 0.88, "recall_real": 0.9, "pr_k": 3, "pr_n": 40,
             "realism_best": list(range(10)), "realism_best_scores": [2.0 - 0.1 * i for i in range(10)],
             "realism_worst": list(range(59, 49, -1)), "realism_worst_scores": [0.1 * i for i in range(10)]}
            for epoch in (1, 2)]
    record = torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=True)
    record["metrics_log"] = rows
    save_checkpoint(record, folder / "checkpoint.pt")
    at = new_app()
    assert_no_exception(at)
    specs = charts(at)
    assert "precision (fidelity) and recall (coverage)" in specs and "FID (judge features)" in specs
    assert "precision 0.70 (real vs real 0.88)" in texts(at)
    assert image_url(at, "the 10 most realistic of 60 samples · realism 2.00")
    assert image_url(at, "the 10 least realistic of 60 samples · realism 0.00")


def test_without_precision_in_the_rows_the_chart_says_when_it_comes(env: Path, shared: Path) -> None:
    import torch

    folder = with_saved_run(env, shared)
    record = torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=True)
    record["metrics_log"] = [{"epoch": 1, "step": 4, "fid": 50.0, "fid_floor": 4.0, "fid_n": 40,
                              "histogram": [0.1] * 10}]
    save_checkpoint(record, folder / "checkpoint.pt")
    at = new_app()
    assert_no_exception(at)
    assert "precision (fidelity)" not in charts(at)
    assert "Precision and recall appear with the evaluations that measure them." in texts(at)


# --- nearest real digits -----------------------------------------------------------------------------------

def nearest_captions(at: AppTest) -> list[str]:
    return [c for img in at.image for c in img.captions if "nearest training digits" in c]


# The copying check's sentence for a ratio below each limit, as the page prints it (the library's wording).
VERDICTS = (
    (COPYING, "Generated digits sit much closer to training digits than unseen real digits do (ratio {}): the "
              "generator may be copying training digits."),
    (CLOSER, "Generated digits sit somewhat closer to training digits than unseen real digits do (ratio {}): "
             "look at their nearest training digits."),
    (float("inf"), "No sign of copying: generated digits are about as far from the training digits as unseen "
                   "real digits are, or farther (ratio {})."),
)


def assert_copying_verdicts(at: AppTest) -> None:
    """Each space's verdict is the sentence the COPYING/CLOSER thresholds give for the ratio it prints, that
    ratio is the one of the medians printed above it (to their rounding), and it is a warning exactly when
    the ratio is below COPYING (a caption otherwise)."""
    medians = [re.search(r"median distance ([\d.]+) for the grid, ([\d.]+) for \d+ held-out", m.value)
               for m in at.markdown]
    medians = [(float(found[1]), float(found[2])) for found in medians if found]
    verdicts = [(w.value, True) for w in at.warning if "(ratio " in w.value]
    verdicts += [(c.value, False) for c in at.caption if "(ratio " in c.value]
    assert len(medians) == len(verdicts) == 2, (medians, verdicts)  # features and pixels
    for text, warned in verdicts:
        ratio = float(re.search(r"\(ratio ([\d.]+)\)", text)[1])
        assert any(abs(ratio - grid / held) <= 0.005 + 0.005 * (1 + grid / held) / (held - 0.005)
                   for grid, held in medians), (ratio, medians)
        sentence = next(sentence for limit, sentence in VERDICTS if ratio < limit)
        assert text == sentence.format(f"{ratio:.2f}")
        assert warned == (ratio < COPYING), text


def test_the_lab_digit_and_a_grid_cell_show_their_5_nearest_training_digits_in_both_spaces(env: Path) -> None:
    at = show(new_app(), "explore")
    assert_no_exception(at)
    for space in ("judge features", "pixels"):
        captions = [c for img in at.image for c in img.captions if f"nearest training digits in {space}" in c]
        assert len(captions) == 2  # the lab's digit, and the grid cell picked below the copying check
        for caption in captions:
            distances = [float(d) for d in caption.split("distances ")[1].split(", ")]
            assert len(distances) == 5 and distances == sorted(distances) and distances[0] > 0
    before = nearest_captions(at)
    at.number_input(key="nn_cell").set_value(7).run()
    assert_no_exception(at)
    assert image_url(at, "grid cell 7") and nearest_captions(at)[:2] == before[:2] and nearest_captions(at) != before
    words = texts(at)
    assert "Is G copying its training digits?" in [s.value for s in at.subheader]
    assert "median distance" in words
    assert_copying_verdicts(at)
    assert "distance to the nearest training digit (judge features)" in charts(at)


def test_the_distance_histogram_compares_shares_of_sets_of_different_sizes() -> None:
    from ganlab.charts.trust import distance_table

    table = distance_table({"held_out": [1.0, 2.0, 3.0, 4.0], "generated": [2.5, 9.0]})
    bins = table[table["share"].notna()]
    assert bins.groupby("series")["share"].sum().round(9).to_dict() == {"generated": 1.0, "held-out real": 1.0}
    assert bins["start"].min() == 1.0 and bins["end"].max() >= 9.0
    medians = table[table["median"].notna()].set_index("series")["median"].to_dict()
    assert medians == {"held-out real": 2.5, "generated": 5.75}


def _histogram_page() -> None:
    import streamlit as st

    from ganlab.train.verdicts import histogram_ui

    histogram_ui(st.session_state.get("verdicts"))


def test_the_histogram_says_it_comes_with_the_first_weights_before_it_blames_the_digits() -> None:
    at = AppTest.from_function(_histogram_page).run()
    assert [c.value for c in at.caption] == [
        "D's real-vs-generated histogram appears with the first published weights."]
    at.session_state["verdicts"] = {"grid": {}, "histogram": None}  # published, but no real digits to judge
    assert "could not be loaded" in at.run().caption[0].value
