"""The app's pages through Streamlit's AppTest: widgets, validation, the trainer buttons, the latent lab, damaged runs.

Every test gets its own checkpoints root (GANLAB_CHECKPOINTS) and a tiny IDX copy of 400 bundled
MNIST digits (GANLAB_DATA_DIR), so nothing tries the network and an epoch takes a few steps.
Fragments with ``run_every`` are not auto-run by AppTest; the tests call ``at.run()`` to poll.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan_core import GANConfig, Trainer

from helpers import (
    TINY_WIDGETS,
    assert_no_exception,
    buttons,
    chart_specs,
    image_url,
    new_app,
    outside,
    saved_run,
    set_values,
    show,
    status,
    step,
    stop_if_running,
    wait_for,
)


def test_widgets_present(env: Path) -> None:
    at = new_app()
    assert_no_exception(at)
    keys = {w.key for w in at.number_input}
    for field in ("lr_d", "lr_g", "beta1_d", "beta1_g", "beta2", "batch_size", "epochs", "d_steps",
                  "dropout_keep", "seed"):
        assert f"cfg_{field}" in keys, field
    assert at.text_input(key="cfg_run").value == "mnist-1"
    assert at.selectbox(key="cfg_dataset").value == "mnist"
    assert any("Device in use" in c.value for c in at.sidebar.caption)
    assert buttons(at) == {"train": True, "pause": False, "resume": False, "stop": False}


@pytest.mark.parametrize(("key", "value", "message"), [
    ("cfg_lr_d", 0.0, "must be in (0, 1]"),
    ("cfg_beta2", 1.0, "must be in [0, 1)"),
    ("cfg_batch_size", 1, "must be in [2, 4096]"),
    ("cfg_dropout_keep", 0.0, "must be in (0, 1]"),
    ("cfg_pack", 3, "must divide batch_size"),
])
def test_invalid_value_shows_message_and_blocks_train(env: Path, key: str, value: object, message: str) -> None:
    at = new_app()
    at.number_input(key=key).set_value(value).run()
    errors = [e.value for e in at.sidebar.error]
    assert any(message in text for text in errors), errors
    assert buttons(at)["train"] is False
    assert_no_exception(at)


def test_preset_fills_the_recipe(env: Path) -> None:
    at = new_app()
    assert at.selectbox(key="cfg_preset").value == "clean"  # the default recipe
    assert at.selectbox(key="cfg_loss").value == "lsgan" and at.number_input(key="cfg_lr_g").value == 0.0016
    assert at.number_input(key="cfg_epochs").value == 60  # the first run: about a minute on a 2-core CPU
    at.selectbox(key="cfg_preset").select("seed").run()
    assert at.number_input(key="cfg_beta1_d").value == 0.1
    assert at.number_input(key="cfg_pack").value == 1
    assert at.checkbox(key="cfg_spectral_norm").value is False  # the seed has no spectral norm
    at.checkbox(key="cfg_spectral_norm").check().run()
    assert at.selectbox(key="cfg_preset").value == "stable"  # the bool alone is stable's whole recipe
    at.selectbox(key="cfg_preset").select("seed").run()
    at.number_input(key="cfg_lr_g").set_value(0.0003).run()
    assert at.selectbox(key="cfg_preset").value == "custom"
    at.selectbox(key="cfg_preset").select("stable").run()
    assert at.checkbox(key="cfg_spectral_norm").value is True
    assert at.number_input(key="cfg_lr_g").value == 0.0002
    assert_no_exception(at)


def test_invalid_run_name(env: Path) -> None:
    at = new_app()
    at.text_input(key="cfg_run").input("../escape").run()
    assert any("letters, digits" in e.value for e in at.sidebar.error)
    assert buttons(at)["train"] is False
    assert not any(env.iterdir())


def test_buttons_follow_the_trainer_every_session_shares(env: Path) -> None:
    at = set_values(new_app(), {**TINY_WIDGETS, "cfg_epochs": 25})  # long enough that Stop comes before the end
    at.text_input(key="cfg_run").input("buttons").run()
    at.button(key="btn_train").click().run()
    try:
        assert_no_exception(at)
        assert buttons(at)["train"] is False and buttons(at)["stop"] is True
        wait_for(at, lambda a: status(a) in ("running", "finished") and a.metric[1].value != "0")
        at.button(key="btn_pause").click().run()
        wait_for(at, lambda a: status(a) == "paused")
        assert buttons(at) == {"train": False, "pause": False, "resume": True, "stop": True}
        # A session opened now (another tab) shows the same paused run: "paused" is known only to the
        # server's one trainer (on disk a paused run is a checkpoint like a stopped one).
        fresh = new_app()
        assert fresh.text_input(key="cfg_run").value == "buttons" and status(fresh) == "paused"
        assert buttons(fresh) == {"train": False, "pause": False, "resume": True, "stop": True}
        at.button(key="btn_resume").click().run()
        assert status(at) == "running"
        at.button(key="btn_stop").click().run()
        assert status(at) == "idle"
        assert buttons(at) == {"train": True, "pause": False, "resume": True, "stop": False}
        assert (env / "buttons" / "checkpoint.pt").is_file()
        stopped_at = step(at)
        # Resume in another session starts a new trainer from the checkpoint, and the first tab follows it.
        other = new_app()
        assert other.text_input(key="cfg_run").value == "buttons"
        other.button(key="btn_resume").click().run()
        assert status(other) == "running"
        at.run()
        assert buttons(at)["stop"] is True  # the first tab shares the trainer the second one started
        wait_for(at, lambda a: step(a) > stopped_at)  # ...which continues the run from its checkpoint
        at.button(key="btn_stop").click().run()
        assert status(at) == "idle" and step(at) > stopped_at
        assert_no_exception(at)
    finally:
        stop_if_running(at)


def test_existing_name_asks_instead_of_overwriting(env: Path, data_dir: Path) -> None:
    folder = saved_run(env, data_dir, "taken")
    before = (folder / "checkpoint.pt").stat().st_mtime_ns
    at = new_app()
    assert at.text_input(key="cfg_run").value == "taken"  # the newest run is selected
    at.button(key="btn_train").click().run()
    assert any("already exists" in w.value for w in at.warning)
    labels = [b.label for b in at.button]
    assert "Continue 'taken'" in labels and "Train as 'taken-2'" in labels
    assert buttons(at)["stop"] is False  # nothing started
    assert (folder / "checkpoint.pt").stat().st_mtime_ns == before
    at.button(key="btn_ask_rename").click().run()
    try:
        assert at.text_input(key="cfg_run").value == "taken-2"
        assert buttons(at)["stop"] is True
    finally:
        stop_if_running(at)
    assert (folder / "checkpoint.pt").stat().st_mtime_ns == before
    assert_no_exception(at)


def test_slider_changes_generated_image(env: Path, data_dir: Path) -> None:
    saved_run(env, data_dir)
    at = show(new_app(), "explore")
    assert_no_exception(at)
    assert len(at.slider) == 8  # K defaults to 8
    before = image_url(at, "current sliders")
    slider = at.slider(key="lab_z_0")
    slider.set_value(1.0 if slider.value < 0.5 else -1.0).run()
    assert image_url(at, "current sliders") != before  # media URLs are content hashes: a new URL is a new picture
    # K follows the number box; Zero resets every slider to 0.
    at.number_input(key="lab_k").set_value(3).run()
    assert len(at.slider) == 3
    at.button(key="lab_zero").click().run()
    assert all(s.value == 0.0 for s in at.slider)
    assert_no_exception(at)


def test_timeline_and_downloads(env: Path, data_dir: Path) -> None:
    saved_run(env, data_dir, epochs=3)
    at = show(new_app(), "explore")
    assert_no_exception(at)
    assert at.select_slider(key="tl_epoch").value == 3
    labels = {b.label for b in at.get("download_button")}
    assert {"Timeline GIF", "This grid (PNG)", "losses.csv", "Weights (checkpoint.pt)"} <= labels
    at.select_slider(key="tl_epoch").set_value(1).run()
    assert any("epoch 1" in c for img in at.image for c in img.captions)
    assert_no_exception(at)


def test_damaged_run_is_reported_and_the_rest_works(env: Path, data_dir: Path) -> None:
    saved_run(env, data_dir, "good")
    (env / "broken").mkdir()
    (env / "broken" / "checkpoint.pt").write_bytes(b"not a checkpoint at all")
    at = show(new_app(), "runs")
    assert_no_exception(at)
    assert any("broken" in w.value and "damaged" in w.value for w in at.warning)
    assert at.text_input(key="cfg_run").value == "good"
    assert len(show(at, "explore").slider) == 8
    # Selecting the damaged run shows a clear message for it, and nothing else breaks.
    at.text_input(key="cfg_run").input("broken").run()
    assert any("damaged" in e.value for e in at.error)  # the lab says why it cannot open
    assert any("damaged" in e.value for e in show(at, "train").error)
    assert_no_exception(at)


def metrics_row(epoch: int, fid: float, histogram: list[float]) -> dict[str, object]:
    """A stored metrics row as the trainer writes it (see gan_core.metrics.quality_row)."""
    return {"epoch": epoch, "step": epoch * 8, "fid": fid, "fid_floor": 2.5, "fid_n": 400, "fid_ref_n": 400,
            "inception_score": 3.25, "histogram": histogram, "kl_uniform": 0.9,
            "classes_present": sum(share >= 0.01 for share in histogram), "max_class_share": max(histogram),
            "min_class_share": min(histogram), "confidence": 0.8, "samples": 400, "d_loss": 0.6, "g_loss": 1.2}


def with_metrics(folder: Path, rows: list[dict[str, object]]) -> None:
    """Write judge rows into a saved run's checkpoint: the judge itself is too slow to train per test."""
    import torch

    from gan_core.runs.checkpoint import save_checkpoint

    record = torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=True)
    record["metrics_log"] = rows
    save_checkpoint(record, folder / "checkpoint.pt")


def test_stored_run_shows_quality_and_collapse(env: Path, data_dir: Path) -> None:
    folder = saved_run(env, data_dir, "judged")
    collapsed = [0.02, 0.55, 0.05, 0.05, 0.05, 0.08, 0.0, 0.1, 0.1, 0.0]  # class 1 holds 55%
    readable = {"readable": 0.41, "readable_real": 0.9, "readable_ratio": 0.41 / 0.9,
                "readable_histogram": [0.041] * 10}
    with_metrics(folder, [metrics_row(1, 80.0, [0.1] * 10), {**metrics_row(2, 61.5, collapsed), **readable}])
    at = new_app()
    assert_no_exception(at)
    shown = next(m for m in at.metric if m.label.startswith("Readable"))
    assert shown.label == "Readable (real 90%)" and shown.value == "41%"  # beside what real digits score
    fid = next(m for m in at.metric if m.label.startswith("FID"))
    assert fid.value == "61.50" and "floor 2.50 at n=400" in fid.label  # the FID next to its floor
    assert next(m for m in at.metric if m.label == "Classes present").value == "8 / 10"
    specs = chart_specs(at)
    assert any("class histogram" in spec for spec in specs)
    assert any("real-vs-real floor" in spec for spec in specs)  # the FID trend with its floor
    assert any("gradient norm (L2)" in spec for spec in specs)  # beside the losses
    warnings = [w.value for w in at.warning]
    assert any("mode collapse: class 1 is 55%" in text for text in warnings), warnings
    assert not any("only" in text and "classes present" in text for text in warnings)  # 8 present: no warning


def test_stored_run_without_metrics_says_why(env: Path, data_dir: Path) -> None:
    saved_run(env, data_dir, "unjudged")  # eval_every = 0
    at = new_app()
    assert_no_exception(at)
    assert any("quality metrics are off" in c.value.lower() for c in at.caption)
    assert not any(m.label.startswith("FID") for m in at.metric)
    assert not any("class histogram" in spec for spec in chart_specs(at))
    assert not any("mode collapse" in w.value for w in at.warning)


# --- the Streamlit-free helpers behind the page ------------------------------------------------------

def test_latent_helpers() -> None:
    import torch

    from gan_core.gan.model import seeded_z
    from gan_core.images import upscale
    from gan_core.latent.sampling import interpolate, sweep, with_values
    from ganlab.explore.lab_batch import lab_batch

    global_state = torch.get_rng_state()
    base = seeded_z(7, 100)[0]
    assert torch.equal(base, seeded_z(7, 100)[0]) and base.abs().max() <= 1.0
    assert torch.equal(torch.get_rng_state(), global_state)  # the trainer's RNG is never touched
    z = with_values(base, [3, 5], [0.25, 2.0])
    assert z[3] == 0.25 and z[5] == 1.0 and torch.equal(base[:3], z[:3])  # clipped to the prior
    rows = sweep(z, [3, 5], steps=9)
    assert rows.shape == (18, 100)
    assert rows[0, 3] == -1.0 and rows[8, 3] == 1.0 and rows[9, 5] == -1.0 and torch.all(rows[:9, 5] == 1.0)
    strip = interpolate(base, -base, 10)
    assert torch.allclose(strip[0], base) and torch.allclose(strip[-1], -base)
    batch, layout = lab_batch(z, list(range(8)), 9, base, -base, 10)
    assert batch.shape == (1 + 72 + 10, 100)
    digit, sweep_images, strip_images = layout.split(np.arange(83)[:, None, None] * np.ones((1, 28, 28)))
    assert digit[0, 0] == 0 and sweep_images.shape[0] == 72 and strip_images[0, 0, 0] == 73
    assert upscale(np.eye(2, dtype=np.uint8), 3).shape == (6, 6)


def test_chart_table_downsamples_long_runs() -> None:
    from ganlab.charts.series import chart_table, moving_average

    assert np.allclose(moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1.0, 2.0, 4.0, 6.0])
    history = np.random.default_rng(0).random((250_000, 4), dtype=np.float32)
    table = chart_table(history)
    assert len(table["step"]) <= 1000 and table["step"][0] == 1 and table["step"][-1] == 250_000
    assert abs(table["d_loss_smooth"][-1] - 0.5) < 0.05  # smoothed over the full series
    short = chart_table(history[:10])
    assert len(short["step"]) == 10 and np.allclose(short["g_loss"], history[:10, 1])


def test_timeline_gif(env: Path, data_dir: Path) -> None:
    from PIL import Image

    from gan_core.runs.folder import RunPaths
    from ganlab.explore.frames import frame_paths, timeline_gif

    saved_run(env, data_dir, "gif", epochs=2)
    frames = frame_paths(RunPaths.of(env, "gif"))
    assert [epoch for epoch, _ in frames] == [1, 2]
    gif = Image.open(__import__("io").BytesIO(timeline_gif(frames)))
    assert gif.format == "GIF" and gif.n_frames == 2


def test_holder_starts_one_trainer(env: Path, data_dir: Path) -> None:
    from ganlab.state.holder import TrainerBusy, TrainerHolder, button_states, next_free_name

    box = TrainerHolder()
    config = GANConfig(batch_size=50, epochs=50, eval_every=0)
    made = []

    def make() -> Trainer:
        made.append(Trainer(config, "one", checkpoints=env, data_dir=data_dir, threads=0))
        return made[-1]

    box.start(make)
    try:
        with pytest.raises(TrainerBusy):
            box.start(make)
        assert len(made) == 1
    finally:
        box.shutdown()
    assert box.alive() is None
    assert next_free_name(env, "one") == "one-2"
    states = button_states("running", True, config_ok=True, can_continue_run=True)
    assert (states.train, states.pause, states.resume, states.stop) == (False, True, False, True)
    states = button_states(None, False, config_ok=False, can_continue_run=True)
    assert (states.train, states.pause, states.resume, states.stop) == (False, False, True, False)


def test_chart_specs_are_built_once_and_carry_no_data() -> None:
    """The live charts refresh every 2 s: their spec must stay byte-identical (the browser then only swaps
    data) and hold no rows; the rows travel in a separate, downsampled table."""
    import json

    import numpy as np

    from ganlab.charts.core import LOSS_SERIES, PROB_SERIES, curve_spec, curve_table, fid_spec, histogram_spec
    from ganlab.charts.series import MAX_POINTS

    labels = tuple(PROB_SERIES.values())
    first = curve_spec(labels, "mean D output", 0.5, "equilibrium 0.5")
    first["width"] = 123  # Streamlit adds keys to the dict it gets: the cache must not see that
    again = curve_spec(labels, "mean D output", 0.5, "equilibrium 0.5")
    assert "width" not in again and json.dumps(again, sort_keys=True) == json.dumps(
        curve_spec(labels, "mean D output", 0.5, "equilibrium 0.5"), sort_keys=True)
    for spec in (again, curve_spec(tuple(LOSS_SERIES.values()), "loss"), fid_spec(), histogram_spec(0.4)):
        assert "datasets" not in spec and "data" not in spec  # rows come with each refresh, not in the spec
    assert '"y": 0.5' in json.dumps(again)  # the equilibrium rule keeps its own one-row data

    history = np.random.default_rng(0).random((5 * MAX_POINTS, 4), dtype=np.float32)
    table = curve_table(history, PROB_SERIES)
    assert len(table) == 2 * MAX_POINTS and set(table["series"]) == set(labels)
    assert table["step"].max() == len(history)  # the newest step is always drawn
    edited = curve_table(history, PROB_SERIES, [{"step": 7, "field": "lr_g", "old": 2e-4, "new": 1e-3}])
    assert len(edited) == len(table) + 1 and edited["edit"].iloc[-1] == "lr_g 0.0002 → 0.001"
    assert "isValid(datum.edit)" in json.dumps(again)  # the edit rules' layer
    last = table[table["series"] == "D(x)"].iloc[-1]
    assert last["raw"] == history[-1, 2]  # raw values are the real ones at the kept steps


def test_watchers_share_one_refresh_budget() -> None:
    from ganlab.state.holder import Watchers

    watchers = Watchers(base=2.0)
    assert watchers.period(now=0.0) == 2.0  # nobody yet: the base period
    watchers.seen("a", now=0.0)
    assert watchers.period(now=0.0) == 2.0
    for session in "bcdefghij":
        watchers.seen(session, now=1.0)
    # Ten pages: each every 2 s * 10 ** 1.3 = 40 s, so together they refresh 2x less often than one page.
    assert watchers.count(now=1.0) == 10 and watchers.period(now=1.0) == pytest.approx(39.9, abs=0.1)
    assert Watchers(base=2.0, exponent=1.0).period(now=0.0) == 2.0
    linear = Watchers(base=2.0, exponent=1.0)
    for session in "abcdefghij":
        linear.seen(session, now=0.0)
    assert linear.period(now=0.0) == 20.0
    watchers.seen("a", now=40.0)  # "a" keeps refreshing; the others closed their pages after t = 1
    assert watchers.count(now=110.0) == 10  # within 3 periods of 40 s they still count
    assert watchers.count(now=122.0) == 1 and watchers.period(now=122.0) == 2.0  # then only "a" is left


def test_every_config_field_has_a_sidebar_control_with_its_range(env: Path) -> None:
    """The sidebar is generated from the config's metadata: each field has its control, its tooltip states
    the range the CLI states, and a value outside it shows that range under the control and blocks Train."""
    from gan_core.config import fields

    at = new_app()
    widgets = {w.key: w for kind in ("number_input", "checkbox", "selectbox") for w in at.get(kind)}
    for spec in fields():
        widget = widgets[f"cfg_{spec.name}"]
        assert widget.label == spec.label and spec.range_text() in widget.help, spec.name
        if spec.kind in (int, float) and not spec.choices:
            default = widget.value
            at.number_input(key=f"cfg_{spec.name}").set_value(outside(spec)).run()
            errors = [e.value for e in at.sidebar.error]
            assert any(spec.range_text() in text for text in errors), (spec.name, errors)
            assert buttons(at)["train"] is False
            at.number_input(key=f"cfg_{spec.name}").set_value(default).run()
            assert not at.sidebar.error, spec.name
    assert_no_exception(at)


def test_bundled_digits_are_said_and_the_download_can_be_asked_for_again(env: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 item 1: once an earlier start fell back to the bundled digits, the sidebar says so and its
    button asks for the MNIST download again (the marker that keeps the fallback is removed)."""
    from gan_core.data import OFFLINE_MARKER

    at = new_app()  # MNIST on disk (data_dir): nothing to say, no button
    assert not [b for b in at.sidebar.button if b.key == "retry_download"]
    offline = tmp_path / "offline-data"
    offline.mkdir()
    (offline / OFFLINE_MARKER).write_text("an earlier start failed to download MNIST\n")
    monkeypatch.setenv("GANLAB_DATA_DIR", str(offline))
    at = new_app()
    assert any("could not be downloaded at an earlier start" in c.value for c in at.sidebar.caption)
    at.sidebar.button(key="retry_download").click().run()
    assert not (offline / OFFLINE_MARKER).exists()  # the next run tries the download
    assert not [b for b in at.sidebar.button if b.key == "retry_download"]  # and the sidebar stops saying so
    assert_no_exception(at)


def test_runs_page_shows_disk_use_and_deletes_after_asking(env: Path, data_dir: Path) -> None:
    folder = saved_run(env, data_dir, "gone")
    at = show(new_app(), "runs")
    table = at.dataframe[0].value
    assert list(table["run"]) == ["gone"] and table["disk"][0].endswith("MiB") and table["disk"][0] != "0.0 MiB"
    at.button(key="btn_delete").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    assert folder.exists()  # only asked so far
    at.button(key="btn_delete_confirm").click().run()
    assert not folder.exists()
    assert any("was deleted" in s.value for s in at.success)
    assert_no_exception(at)


def test_a_version_1_checkpoint_opens_in_the_app_and_continues(env: Path, data_dir: Path) -> None:
    """A checkpoint in the first format (written by a frozen copy of that writer) is listed, explored and
    continued like any run."""
    from fixtures.checkpoint_v1 import write_v1_checkpoint

    write_v1_checkpoint(env / "old" / "checkpoint.pt")
    at = show(new_app(), "runs")
    assert at.text_input(key="cfg_run").value == "old"
    row = at.dataframe[0].value.iloc[0]
    assert (row["run"], row["epochs"], row["state"]) == ("old", "1 / 2", "ok")  # saved mid-run
    at = show(at, "explore")
    assert image_url(at, "current sliders")  # the lab samples its generator
    at = show(at, "train")
    assert any("gradient norms: not recorded" in c.value.lower() for c in at.caption)  # saved before them
    at.button(key="btn_resume").click().run()
    try:
        wait_for(at, lambda a: status(a) == "finished", timeout=120)
        assert "epoch 2 of 2" in at.get("progress")[0].proto.text
    finally:
        stop_if_running(at)
    assert_no_exception(at)
    assert any("gradient norm (L2)" in spec for spec in chart_specs(at))  # recorded by the continued steps
