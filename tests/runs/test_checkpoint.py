import copy
import os
import pickle
import random
import zipfile

import numpy as np
import pytest
import torch

from gan_core.gan.state import GANState
from gan_core.runs import checkpoint as ckpt
from gan_core.runs.checkpoint import CheckpointError, load_checkpoint, load_generator, save_checkpoint
from gan_core.runs.record import to_record

from helpers import PickleAttack, tiny_config


@pytest.fixture(scope="module")
def fresh_record():
    return to_record(GANState.fresh(tiny_config()))


@pytest.fixture()
def record(fresh_record):
    return copy.deepcopy(fresh_record)  # a test may change its record; building one costs more than copying


def test_round_trip_restores_everything(tmp_path, record):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(record, path)
    loaded = load_checkpoint(path)
    # The run stores the precision "auto" chose (fp32 on a CPU without native bf16), the rest as given.
    assert loaded["config"] == tiny_config(precision=loaded["config"].precision)
    assert loaded["config"].precision in ("fp32", "bf16")
    for key in record["generator"]:
        assert torch.equal(loaded["generator"][key], record["generator"][key]), key
    assert "net.2.running_mean" in loaded["generator"]  # BatchNorm statistics travel too
    generator, _ = load_generator(path)
    assert not generator.training


def test_interrupted_save_keeps_previous_checkpoint_and_leaves_no_temp(tmp_path, record, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(record, path)
    before = path.read_bytes()

    def fail_midway(fd):
        raise OSError("disk unplugged during fsync")

    newer = dict(record, step=999)
    monkeypatch.setattr(os, "fsync", fail_midway)
    with pytest.raises(OSError, match="disk unplugged"):
        save_checkpoint(newer, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_checkpoint(path)["step"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


def test_pickled_callable_is_refused_and_never_runs(tmp_path, record):
    marker = tmp_path / "pwned"
    path = tmp_path / "checkpoint.pt"
    torch.save(dict(record, payload=PickleAttack(marker)), path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value) and "refused" in str(info.value)
    assert not marker.exists()


def test_plain_pickle_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(pickle.dumps(PickleAttack(marker)))
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(path)
    assert not marker.exists()


def test_zero_byte_file(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"empty checkpoint file \(0 bytes\)"):
        load_checkpoint(path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_truncated_file(tmp_path, record, keep):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(record, path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match="damaged or truncated"):
        load_checkpoint(path)


def test_missing_file_and_foreign_file(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "nope.pt")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not a gan_core checkpoint"):
        load_checkpoint(foreign)


def test_shapes_that_do_not_match_the_config_are_refused(tmp_path, record):
    path = tmp_path / "checkpoint.pt"
    record["config"] = dict(record["config"], z_dim=64)  # weights are for z_dim 100
    save_checkpoint(record, path)
    with pytest.raises(CheckpointError, match="generator weights do not match the stored config"):
        load_generator(path)


def test_config_with_wrong_types_is_refused(tmp_path, record):
    path = tmp_path / "checkpoint.pt"
    record["config"] = dict(record["config"], batch_size="100")
    save_checkpoint(record, path)
    with pytest.raises(CheckpointError, match=r"invalid config in checkpoint \(batch_size: must be int"):
        load_checkpoint(path)


def test_checkpoint_is_a_zip_of_tensors_only(tmp_path, record):
    # weights_only loading is only meaningful if what we save needs nothing else.
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(record, path)
    assert zipfile.is_zipfile(path)
    torch.load(path, weights_only=True)


def test_rng_capture_and_restore_round_trip():
    state = ckpt.capture_rng()
    first = (torch.rand(3), np.random.rand(2).tolist(), random.random())
    ckpt.restore_rng(state)
    again = (torch.rand(3), np.random.rand(2).tolist(), random.random())
    assert torch.equal(first[0], again[0]) and first[1:] == again[1:]
