"""Saved runs in the app through AppTest: the lab and the timeline of a finished run, stored quality metrics,
damaged and first-format checkpoints, and the Runs page deleting after asking.
"""

from __future__ import annotations

from pathlib import Path

from helpers import (
    assert_no_exception,
    chart_specs,
    image_url,
    lab_sliders,
    metrics_row,
    new_app,
    saved_run,
    show,
    status,
    stop_if_running,
    wait_for,
    with_metrics,
)


def test_slider_changes_generated_image(env: Path, data_dir: Path) -> None:
    saved_run(env, data_dir)
    at = show(new_app(), "explore")
    assert_no_exception(at)
    assert len(lab_sliders(at)) == 6  # six principal directions by default
    before = image_url(at, "current sliders")
    lab_sliders(at)[0].set_value(3.0).run()
    assert image_url(at, "current sliders") != before  # media URLs are content hashes: a new URL is a new picture
    # K follows the number box; "Sliders to 0" resets every slider to 0.
    at.number_input(key="lab_k").set_value(3).run()
    assert len(lab_sliders(at)) == 3
    at.button(key="lab_zero").click().run()
    assert all(s.value == 0.0 for s in lab_sliders(at))
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
    assert len(lab_sliders(show(at, "explore"))) == 6
    # Selecting the damaged run shows a clear message for it, and nothing else breaks.
    at.text_input(key="cfg_run").input("broken").run()
    assert any("damaged" in e.value for e in at.error)  # the lab says why it cannot open
    assert any("damaged" in e.value for e in show(at, "train").error)
    assert_no_exception(at)


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
        wait_for(at, lambda a: status(a) == "finished")
        assert "epoch 2 of 2" in at.get("progress")[0].proto.text
    finally:
        stop_if_running(at)
    assert_no_exception(at)
    assert any("gradient norm (L2)" in spec for spec in chart_specs(at))  # recorded by the continued steps
