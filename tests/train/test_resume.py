"""Resume continues the *same* run: a stop and resume equals an uninterrupted run, bit for bit on CPU."""

import csv

import pytest

from gan_core.runs.checkpoint import load_checkpoint
from gan_core.runs.folder import RunPaths
from gan_core.runs.snapshot import Status

from helpers import assert_same_state, train


# The last case also runs the quality metrics: the judge, prepared on its own thread, must not disturb the run.
@pytest.mark.parametrize("stop_at_step,recipe", [
    (None, {}), (6, {}), (6, {"spectral_norm": True, "pack": 2, "eval_every": 1, "eval_samples": 30}),
    # bf16 autocast runs emulated (slowly) on CPUs without bf16 instructions, but it runs, and resumes exactly.
    (6, {"precision": "bf16", "spectral_norm": True}),
    # The default preset's loss and rates with both recipe fields of issue 21 on: DiffAugment draws its
    # offsets from the checkpointed RNG, and R1's every-4th-step schedule follows the restored step count.
    (6, {"loss": "lsgan", "lr_d": 1.6e-3, "lr_g": 1.6e-3, "beta2": 0.99, "spectral_norm": True,
         "augment": "translation-cutout", "r1_gamma": 1.0}),
    # Issue 24's models, each one: the labels G is asked for come from the checkpointed RNG; the DCGAN pair
    # with its BatchNorm2d statistics, spectral norm on D's convolutions and the label projection, R1 through it.
    (6, {"conditional": True}), (6, {"architecture": "dcgan"}),
    (6, {"architecture": "dcgan", "conditional": True, "spectral_norm": True, "r1_gamma": 1.0})],
    ids=["epoch-boundary", "mid-epoch", "mid-epoch-sn-pack2-metrics", "mid-epoch-bf16", "mid-epoch-augment-r1",
         "mid-epoch-mlp-conditional", "mid-epoch-dcgan", "mid-epoch-dcgan-conditional-sn-r1"])
def test_stop_and_resume_equals_uninterrupted_run(tmp_path, stop_at_step, recipe):
    train(tmp_path, "straight", epochs=4, **recipe)
    first = train(tmp_path, "split", epochs=2 if stop_at_step is None else 4, stop_at_step=stop_at_step, **recipe)
    if stop_at_step is not None:
        assert first.snapshot().status == Status.IDLE and first.snapshot().step == stop_at_step
    second = train(tmp_path, "split", epochs=4, continue_run=True, **recipe)
    assert second.snapshot().status == Status.FINISHED
    straight = load_checkpoint(RunPaths.of(tmp_path, "straight").checkpoint)
    split = load_checkpoint(RunPaths.of(tmp_path, "split").checkpoint)
    assert_same_state(straight, split)
    paths = RunPaths.of(tmp_path, "split")
    for epoch in range(1, 5):  # the fixed-noise grids are identical too
        assert paths.sample(epoch).read_bytes() == RunPaths.of(tmp_path, "straight").sample(epoch).read_bytes()


def test_resume_appends_csv_rows_and_samples_without_duplicates(tmp_path):
    train(tmp_path, "r", epochs=2)
    train(tmp_path, "r", epochs=3, continue_run=True)
    paths = RunPaths.of(tmp_path, "r")
    with open(paths.losses_csv) as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert paths.sample_epochs() == [1, 2, 3]
    history = load_checkpoint(paths.checkpoint)["history"]
    # CSV holds epoch means of the per-step history, not the last batch as the seed did.
    assert float(rows[2]["d_loss"]) == pytest.approx(float(history[8:12, 0].double().mean()), abs=1e-6)


def test_resume_repairs_a_folder_left_by_a_crash_between_writes(tmp_path):
    train(tmp_path, "r", epochs=2)
    paths = RunPaths.of(tmp_path, "r")
    # As if killed after writing epoch 3's grid and CSV row, but before its checkpoint:
    paths.sample(3).write_bytes(paths.sample(2).read_bytes())
    with open(paths.losses_csv, "a") as handle:
        handle.write("3,9,9,9,9,9\n")
    (paths.folder / ".checkpoint.pt.12345.tmp").write_bytes(b"half a checkpoint")
    train(tmp_path, "r", epochs=3, continue_run=True)
    with open(paths.losses_csv) as handle:
        epochs = [int(r["epoch"]) for r in csv.DictReader(handle)]
    assert epochs == [1, 2, 3]
    assert paths.sample_epochs() == [1, 2, 3]
    assert not list(paths.folder.glob(".*.tmp"))
