"""Runs side by side: recipes, mean ± sd over seeds, edited runs kept apart, curves to overlay."""

import math

import pytest
import torch

from gan_core.presets import preset_config
from gan_core.runs.compare import (
    curves,
    format_mean_sd,
    group_by_recipe,
    overlay_rows,
    recipe_label,
    run_figures,
)


def record(seed: int, fid: float | None, *, preset: str = "stable", edits=(), epochs: int = 2, **changes):
    config = preset_config(preset, seed=seed, epochs=epochs, **changes)
    log = [{"epoch": e, "d_loss": 1.0 + e, "g_loss": 2.0, "d_real": 0.6, "d_fake": 0.4, "seconds": 2.0}
           for e in range(1, epochs + 1)]
    metrics = [] if fid is None else [{"epoch": epochs, "fid": fid, "inception_score": 5.0 + seed,
                                       "precision": 0.5}]
    # 4 steps per epoch, and one more step into an unfinished epoch (not counted in images/s)
    return {"config": config, "epoch": epochs, "step": 4 * epochs + 1, "progress": {"batch_in_epoch": 1},
            "epoch_log": log, "metrics_log": metrics, "edits": list(edits)}


def test_recipes_group_seeds_with_mean_and_sample_sd():
    runs = {"a0": record(0, 40.0), "a1": record(1, 50.0), "a2": record(2, 60.0),
            "h0": record(0, 90.0, loss="hinge"), "s0": record(0, None, preset="seed")}
    rows = group_by_recipe(run_figures(name, rec) for name, rec in runs.items())
    assert [r.recipe for r in rows] == ["stable", "stable + loss=hinge", "seed"]
    stable = rows[0]
    assert stable.runs == ("a0", "a1", "a2") and stable.seeds == (0, 1, 2)
    assert stable.mean["fid"] == pytest.approx(50.0) and stable.sd["fid"] == pytest.approx(10.0)
    assert stable.mean["inception_score"] == pytest.approx(6.0)
    assert stable.count["recall"] == 0 and stable.mean["recall"] is None  # only where present
    assert stable.mean["precision"] == pytest.approx(0.5) and stable.sd["precision"] == 0.0
    assert stable.mean["images_per_sec"] == pytest.approx(8 * 100 / 4.0)  # 2 epochs x 4 steps x 100 in 4 s
    assert rows[1].sd["fid"] is None  # one seed: no spread to show
    assert rows[2].mean["fid"] is None and rows[2].mean["images_per_sec"] is not None
    assert format_mean_sd(50.0, 10.0) == "50.0 ± 10.0" and format_mean_sd(None, None) == "–"


def test_edited_runs_are_labelled_and_grouped_only_with_the_same_edits():
    edit = {"step": 5, "field": "lr_g", "old": 2e-4, "new": 1e-3}
    runs = {"plain": record(0, 40.0), "edited0": record(0, 45.0, edits=[edit]),
            "edited1": record(1, 47.0, edits=[edit]),
            "other": record(2, 70.0, edits=[{**edit, "step": 6}])}
    rows = group_by_recipe(run_figures(name, rec) for name, rec in runs.items())
    assert [(r.recipe, r.runs) for r in rows] == [("stable", ("plain",)),
                                                  ("stable (edited)", ("edited0", "edited1")),
                                                  ("stable (edited)", ("other",))]


def test_labels_name_the_nearest_preset_and_the_differences():
    assert recipe_label(preset_config("seed", seed=3, epochs=9)) == "seed"
    assert recipe_label(preset_config("seed", lr_g=1e-3)) == "seed + lr_g=0.001"
    assert recipe_label(preset_config("stable", loss="lsgan")) == "stable + loss=lsgan"


def test_curves_overlay_per_run_with_fid_and_edit_positions():
    rec = record(0, 40.0, epochs=3, edits=[{"step": 6, "field": "lr_d", "old": 2e-4, "new": 1e-4}])
    c = curves(rec)
    assert c["epoch"] == [1, 2, 3] and c["d_loss"] == [2.0, 3.0, 4.0]
    assert (c["fid_epoch"], c["fid"]) == ([3], [40.0])
    assert c["edit_steps"] == [6] and math.isclose(c["edit_epochs"][0], 1.5)
    rows = overlay_rows({"r": c, "q": curves(record(1, 50.0))}, "d_loss")
    assert {row["run"] for row in rows} == {"r", "q"} and len(rows) == 5
    assert overlay_rows({"r": c}, "fid") == [{"run": "r", "epoch": 3, "value": 40.0}]
    assert c["g_grad_norm"] == [None, None, None] and overlay_rows({"r": c}, "g_grad_norm") == []  # no history


def test_gradient_norm_curves_are_epoch_means_of_the_recorded_steps():
    rec = record(0, None, epochs=3)  # 4 steps an epoch, then one step into the 4th
    history = torch.zeros(13, 6)
    history[:, 4] = torch.arange(13, dtype=torch.float32)  # D's norm: the step's index
    history[:, 5] = 1.0
    history[:6, 4:] = float("nan")  # saved before norms were recorded, continued at step 7
    c = curves({**rec, "history": history})
    assert c["d_grad_norm"] == [None, pytest.approx(6.5), pytest.approx(9.5)]  # epoch 2: steps 7 and 8 only
    assert c["g_grad_norm"] == [None, 1.0, 1.0]
    assert [row["epoch"] for row in overlay_rows({"r": c}, "d_grad_norm")] == [2, 3]


def test_sweep_table_groups_the_sweeps_runs_from_their_checkpoints(tmp_path, capsys):
    from gan_core.cli.main import main
    from gan_core.sweep.plan import expand_grid, new_manifest, write_manifest
    from gan_core.train.trainer import Trainer

    from helpers import finish, tiny_data

    runs = expand_grid("t", ["seed"], [0, 1], {"batch_size": [20], "eval_every": [0]}, epochs=1)
    write_manifest(tmp_path, new_manifest("t", runs, 1))
    for run in runs:
        trainer = Trainer(run.config(1, "cpu"), run.name, checkpoints=tmp_path, data=tiny_data())
        trainer.start()
        finish(trainer)
    assert main(["sweep", "--name", "t", "--table", "--checkpoints", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| recipe |") and len(lines) == 3
    assert lines[2].startswith("| seed + batch_size=20 | 2 (0, 1) | 1 | – |")
