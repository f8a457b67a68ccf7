"""Checkpoints outlive the format: every older layout loads, is listed and continues training."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_core.config import GANConfig
from gan_core.gan.history import HISTORY, STATS
from gan_core.gan.state import GANState
from gan_core.runs import migrations
from gan_core.runs.checkpoint import VERSION, CheckpointError, load_checkpoint, save_checkpoint
from gan_core.runs.folder import RunPaths, list_runs
from gan_core.runs.record import from_record, to_record
from gan_core.runs.snapshot import Status
from gan_core.train.trainer import Trainer

from fixtures.checkpoint_v1 import CONFIG_V1, write_v1_checkpoint
from helpers import finish, tiny_data


@pytest.fixture(scope="module")
def v1_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The version-1 checkpoint, written once (~35 MB); tests copy it."""
    return write_v1_checkpoint(tmp_path_factory.mktemp("v1") / "checkpoint.pt")


def copy_of(v1_file: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(v1_file, target))


def test_the_version_1_fixture_loads_as_the_current_version(v1_file: Path) -> None:
    record = load_checkpoint(v1_file)
    assert record["version"] == VERSION
    assert isinstance(record["config"], GANConfig) and record["config"].spectral_norm
    assert (record["epoch"], record["step"], record["metrics_log"]) == (1, 6, [])
    assert (record["data_source"], record["g_updates"], record["edits"]) == ({}, 6, [])  # keys v1 lacked
    assert (record["config"].architecture, record["config"].conditional) == ("mlp", False)  # the seed's pair
    state = from_record(record, "old.pt")
    assert state.batch_in_epoch == 2 and state.history_array().shape == (6, len(HISTORY))
    assert np.isnan(state.history_array()[:, len(STATS):]).all()  # gradient norms: not recorded then


def test_a_version_1_record_from_before_the_judge_gets_an_empty_metrics_log(tmp_path: Path, v1_file: Path) -> None:
    # The earliest version-1 records were written before the quality judge existed.
    record = torch.load(v1_file, weights_only=True)
    del record["metrics_log"]
    torch.save(record, tmp_path / "old.pt")
    record = load_checkpoint(tmp_path / "old.pt")
    assert record["version"] == VERSION
    assert record["metrics_log"] == []
    assert from_record(record, "old.pt").metrics_log == []


def test_a_version_1_run_is_listed_and_continues_through_the_trainer(tmp_path: Path, v1_file: Path) -> None:
    paths = RunPaths.of(tmp_path, "old")
    stored = torch.load(copy_of(v1_file, paths.checkpoint), weights_only=True)
    (info,) = list_runs(tmp_path)
    assert (info.name, info.error, info.epochs_done, info.epochs_total, info.step) == ("old", None, 1, 2, 6)
    assert info.preset is None and info.checkpoint_version == VERSION  # batch 20 is no preset's

    config = GANConfig.from_dict({**stored["config"], "epochs": 3})
    trainer = Trainer(config, "old", checkpoints=tmp_path, data=tiny_data(80), continue_run=True)
    trainer.start()
    finish(trainer)
    snap = trainer.snapshot()
    assert (snap.status, snap.epoch, snap.step) == (Status.FINISHED, 3, 12), snap.error
    record = load_checkpoint(paths.checkpoint)
    assert record["version"] == VERSION
    assert torch.equal(record["history"][:6, :len(STATS)], stored["history"])  # continued, history kept
    norms = record["history"][:, len(STATS):]
    assert norms[:6].isnan().all() and torch.isfinite(norms[6:]).all()  # recorded from the continuation on
    assert [row["epoch"] for row in record["epoch_log"]] == [1, 2, 3]
    (info,) = list_runs(tmp_path)
    assert (info.error, info.epochs_done, info.epochs_total, info.step) == (None, 3, 3, 12)


def test_a_checkpoint_from_a_newer_version_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "new.pt"
    save_checkpoint({"format": "gan_core.checkpoint", "version": VERSION + 1, "config": {"new": 1}}, path)
    with pytest.raises(CheckpointError, match=rf"version {VERSION + 1} was written by a newer gan_core.*"
                                             rf"reads versions 1 to {VERSION}"):
        load_checkpoint(path)
    (tmp_path / "new").mkdir()
    path.rename(tmp_path / "new" / "checkpoint.pt")
    (info,) = list_runs(tmp_path)
    assert "newer gan_core" in info.error


@pytest.mark.parametrize("version", [None, 0, "1", True])
def test_a_record_without_a_valid_version_is_refused(tmp_path: Path, version: object) -> None:
    path = tmp_path / "odd.pt"
    save_checkpoint({"format": "gan_core.checkpoint", "version": version}, path)
    with pytest.raises(CheckpointError, match="is not a version"):
        load_checkpoint(path)


def test_migrate_applies_each_later_step_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def step(name: str):
        def apply(record: dict) -> dict:
            calls.append((name, record["version"]))
            return dict(record, **{name: True})
        return apply

    monkeypatch.setattr(migrations, "STEPS", (step("a"), step("b"), step("c")))
    monkeypatch.setattr(migrations, "VERSION", 4)
    assert migrations.migrate({"version": 2}) == {"version": 4, "b": True, "c": True}
    assert calls == [("b", 2), ("c", 3)]
    calls.clear()
    assert migrations.migrate({"version": 4}) == {"version": 4} and calls == []


def test_version_5_records_become_the_unconditional_mlp_they_trained() -> None:
    record = migrations.migrate({"version": 5, "config": {"spectral_norm": True}})
    assert record["version"] == VERSION >= 6
    assert record["config"] == {"spectral_norm": True, "architecture": "mlp", "conditional": False}


def test_the_writer_writes_the_current_version() -> None:
    assert VERSION == migrations.VERSION == len(migrations.STEPS) + 1
    record = to_record(GANState.fresh(GANConfig.from_dict(CONFIG_V1)))
    assert record["version"] == VERSION and "metrics_log" in record


def test_a_run_saved_mid_epoch_continues_on_data_of_another_size(tmp_path: Path, v1_file: Path) -> None:
    """The stored order of the unfinished epoch indexes the old images; with more (or fewer) images now,
    that epoch starts over instead of training on empty or out-of-range batches."""
    paths = RunPaths.of(tmp_path, "old")
    stored = torch.load(copy_of(v1_file, paths.checkpoint), weights_only=True)
    assert len(stored["progress"]["perm"]) == 80
    config = GANConfig.from_dict({**stored["config"], "epochs": 2})
    trainer = Trainer(config, "old", checkpoints=tmp_path, data=tiny_data(160), continue_run=True)
    trainer.start()
    finish(trainer)
    snap = trainer.snapshot()
    assert (snap.status, snap.epoch, snap.step) == (Status.FINISHED, 2, 6 + 8), snap.error  # a whole new epoch of 8
    assert torch.isfinite(load_checkpoint(paths.checkpoint)["history"][:, :len(STATS)]).all()
