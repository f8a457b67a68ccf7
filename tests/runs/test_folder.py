"""run.json summaries, the run listing that reads them, disk use and deleting a run."""

import os
from pathlib import Path

import pytest

from gan_core.config import ConfigError
from gan_core.gan.state import GANState
from gan_core.runs import checkpoint as ckpt
from gan_core.runs.checkpoint import VERSION, save_checkpoint
from gan_core.runs.folder import RunError, RunLock, RunPaths, delete_run, disk_usage, list_runs
from gan_core.runs.record import to_record
from gan_core.runs.summary import read_summary, summarise, write_summary
from gan_core.train.trainer import Trainer

from helpers import finish, tiny_config, tiny_data, wait_until

SOURCE = {"kind": "test", "train_size": 80, "held_out_size": 0, "message": "test: 80 random images"}


@pytest.fixture(scope="module")
def record() -> dict:
    return dict(to_record(GANState.fresh(tiny_config(eval_every=0))), data_source=SOURCE)


def saved_run(root: Path, name: str, record: dict, *, summary: bool = True) -> RunPaths:
    """A run folder holding ``record`` as its checkpoint, and its summary unless told otherwise."""
    paths = RunPaths.of(root, name)
    paths.make()
    save_checkpoint(record, paths.checkpoint)
    if summary:
        write_summary(paths.summary, summarise(record, paths.checkpoint.stat()))
    return paths


class CountingLoader:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self._real = ckpt.load_checkpoint
        monkeypatch.setattr(ckpt, "load_checkpoint", self)

    def __call__(self, path: str | os.PathLike[str]) -> dict:
        self.calls += 1
        return self._real(path)


def test_the_trainer_writes_a_summary_describing_each_checkpoint(tmp_path: Path) -> None:
    trainer = Trainer(tiny_config(epochs=2, eval_every=0), "r", checkpoints=tmp_path, data=tiny_data())
    trainer.start()
    finish(trainer)
    paths = RunPaths.of(tmp_path, "r")
    summary = read_summary(paths.summary)
    assert summary is not None and summary.describes(paths.checkpoint.stat())
    last = trainer.epoch_log()[-1]
    assert (summary.epochs_done, summary.epochs_total, summary.step) == (2, 2, 8)
    assert (summary.d_loss, summary.g_loss, summary.fid) == (last["d_loss"], last["g_loss"], None)
    assert summary.data_source == "test: 80 random images" and summary.dataset == "mnist"
    assert summary.preset is None and summary.checkpoint_version == VERSION  # batch 20 is no preset's
    assert summary.saved_at.endswith("+00:00")


def test_summary_takes_the_last_computed_fid_and_the_preset(record: dict) -> None:
    rows = [{"fid": 80.0}, {"fid": 50.0}, {"fid": None}]
    config = dict(record["config"], batch_size=100, spectral_norm=True)
    summary = summarise(dict(record, metrics_log=rows, config=config, data_source={}), os.stat(__file__))
    assert summary.fid == 50.0 and summary.preset == "stable"
    assert summary.data_source is None and summary.data_kind is None  # a record from before the data splits


def test_listing_reads_only_summaries_when_they_agree(tmp_path: Path, record: dict,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a", "b", "c"):
        saved_run(tmp_path, name, dict(record, epoch=1, step=4))
    loader = CountingLoader(monkeypatch)
    infos = list_runs(tmp_path)
    assert loader.calls == 0
    assert sorted(info.name for info in infos) == ["a", "b", "c"]
    for info in infos:
        assert (info.error, info.epochs_done, info.step, info.data_source) == (None, 1, 4, "test: 80 random images")
        checkpoint_bytes = os.stat(tmp_path / info.name / "checkpoint.pt").st_size
        assert info.disk_bytes == disk_usage(tmp_path / info.name) > checkpoint_bytes


def test_a_missing_or_stale_summary_is_rebuilt_from_the_checkpoint_once(tmp_path: Path, record: dict,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    old = saved_run(tmp_path, "old", record, summary=False)  # a run from before summaries
    touched = saved_run(tmp_path, "touched", record)
    stat = touched.checkpoint.stat()
    os.utime(touched.checkpoint, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # same size, newer
    loader = CountingLoader(monkeypatch)
    infos = {info.name: info for info in list_runs(tmp_path)}
    assert loader.calls == 2 and infos["old"].error is None and infos["touched"].error is None
    assert infos["old"].data_source == infos["touched"].data_source == "test: 80 random images"
    assert infos["old"].data_kind == "test"
    assert read_summary(old.summary).describes(old.checkpoint.stat())
    list_runs(tmp_path)
    assert loader.calls == 2  # the rebuilt summaries serve the next listing


def test_a_truncated_checkpoint_with_a_stale_summary_is_listed_as_damaged(tmp_path: Path, record: dict) -> None:
    paths = saved_run(tmp_path, "cut", record)
    data = paths.checkpoint.read_bytes()
    paths.checkpoint.write_bytes(data[: len(data) // 2])
    (info,) = list_runs(tmp_path)
    assert info.name == "cut" and "damaged or truncated" in info.error and info.disk_bytes > 0


def test_delete_removes_a_run_and_refuses_a_locked_one(tmp_path: Path, record: dict) -> None:
    paths = saved_run(tmp_path, "gone", record)
    with RunLock(paths), pytest.raises(RunError, match="being trained by another trainer"):
        delete_run(tmp_path, "gone")
    assert paths.checkpoint.is_file()
    delete_run(tmp_path, "gone")
    assert not paths.folder.exists() and list_runs(tmp_path) == []


def test_delete_refuses_a_live_trainer_and_what_is_not_a_run(tmp_path: Path) -> None:
    trainer = Trainer(tiny_config(epochs=10_000, eval_every=0), "live", checkpoints=tmp_path, data=tiny_data())
    trainer.start()
    try:
        assert wait_until(lambda: RunPaths.of(tmp_path, "live").checkpoint.is_file() or not trainer.is_alive())
        with pytest.raises(RunError, match="being trained"):
            delete_run(tmp_path, "live")
    finally:
        trainer.stop()
    assert RunPaths.of(tmp_path, "live").checkpoint.is_file()
    (tmp_path / "judge").mkdir()
    with pytest.raises(RunError, match="not a run"):
        delete_run(tmp_path, "judge")
    assert (tmp_path / "judge").is_dir()
    with pytest.raises(ConfigError):
        delete_run(tmp_path, "..")


def test_run_lock_is_released_when_its_block_raises(tmp_path: Path) -> None:
    paths = RunPaths.of(tmp_path, "r")
    with pytest.raises(KeyError), RunLock(paths):
        raise KeyError("boom")
    with RunLock(paths):  # free again
        pass
