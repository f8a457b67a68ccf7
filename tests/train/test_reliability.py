"""Reliability: SIGKILL mid-write and at random moments, one writer per run, disk trouble, damaged runs in listings."""

from __future__ import annotations

import contextlib
import errno
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from gan_core import atomic
from gan_core.runs.checkpoint import FORMAT as CHECKPOINT_FORMAT
from gan_core.runs.checkpoint import load_checkpoint
from gan_core.runs.folder import RunPaths, list_runs
from gan_core.runs.snapshot import Status
from gan_core.train.trainer import Trainer

from helpers import PickleAttack, finish, tiny_config, tiny_data, wait_until, write_mnist_idx

ROOT = Path(__file__).resolve().parents[2]


def cli_train(ckpt: Path, data: Path, run: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    args = [sys.executable, "-m", "gan_core", "train", "--run", run, "--checkpoints", str(ckpt),
            "--data-dir", str(data), "--quiet", *extra]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@contextlib.contextmanager
def killed_at_the_end(proc: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """SIGKILL ``proc`` (Popen.kill) when the block ends, however it ends: a failed assertion leaves no
    trainer behind."""
    try:
        yield proc
    finally:
        proc.kill()
        proc.communicate()


def read_csv_epochs(paths: RunPaths) -> list[int]:
    lines = paths.losses_csv.read_text().splitlines()
    assert lines[0] == "epoch,d_loss,g_loss,d_real,d_fake,seconds"
    return [int(line.split(",")[0]) for line in lines[1:]]


def checkpointed_or_ended(paths: RunPaths, before: int, proc: subprocess.Popen) -> Callable[[], bool]:
    """True once the checkpoint's mtime moved past ``before``, or the process ended."""
    return lambda: (paths.checkpoint.exists() and paths.checkpoint.stat().st_mtime_ns != before
                    or proc.poll() is not None)


# A child trainer's sitecustomize (put on its PYTHONPATH): the second checkpoint record it serialises (a dict
# whose format is GANLAB_TEST_PAUSE_FORMAT) stops part-way, with the first GANLAB_TEST_PAUSE_PART of its bytes
# in the file it was going to, and tells the test by writing "<file> <bytes written> <record bytes>" to
# GANLAB_TEST_PAUSED; it then hangs until the test kills it. The hook takes torch.save, not the library's
# writer, so whatever file the library hands it (a temp file beside the checkpoint, or the checkpoint itself
# if a write is not atomic) is the one left half-written.
PAUSE_THE_SECOND_CHECKPOINT_WRITE = """
import io, os, threading
import torch

real_save, records = torch.save, 0

def save(obj, f, *args, **kwargs):
    global records
    if isinstance(obj, dict) and obj.get("format") == os.environ["GANLAB_TEST_PAUSE_FORMAT"]:
        records += 1
        if records == 2:
            write_part_then_hang(obj, f, *args, **kwargs)
    return real_save(obj, f, *args, **kwargs)

def write_part_then_hang(obj, f, *args, **kwargs):
    whole = io.BytesIO()
    real_save(obj, whole, *args, **kwargs)
    data = whole.getvalue()
    part = int(len(data) * float(os.environ["GANLAB_TEST_PAUSE_PART"]))
    handle = f if hasattr(f, "write") else open(f, "wb")
    handle.write(data[:part])
    handle.flush()
    os.fsync(handle.fileno())
    paused = os.environ["GANLAB_TEST_PAUSED"]
    with open(paused + ".part", "w") as note:
        note.write(f"{handle.name} {part} {len(data)}")
    os.replace(paused + ".part", paused)
    threading.Event().wait()

torch.save = save
"""


def kill_mid_write(paths: RunPaths, data: Path, args: list[str], hook: Path, part: float,
                   first_epoch: int) -> tuple[Path, int, int]:
    """Start a trainer (its first checkpoint: ``first_epoch``) whose second checkpoint write stops after
    ``part`` of the record, SIGKILL it there; returns the file that write was filling, the bytes in it and
    the record's size."""
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(PAUSE_THE_SECOND_CHECKPOINT_WRITE)
    paused = hook / "paused"
    paused.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])),
           "GANLAB_TEST_PAUSE_FORMAT": CHECKPOINT_FORMAT, "GANLAB_TEST_PAUSE_PART": str(part),
           "GANLAB_TEST_PAUSED": str(paused)}
    with killed_at_the_end(cli_train(paths.root, data, paths.name, *args, env=env)) as proc:
        # Either the pause, or a sign that it will never come: the process ended, or the CSV that follows
        # each checkpoint write shows the second write landed (the hook missed it).
        assert wait_until(lambda: paused.exists() or proc.poll() is not None
                          or paths.losses_csv.exists() and len(read_csv_epochs(paths)) > first_epoch)
        assert paused.exists(), f"the second checkpoint write never paused (exit code {proc.poll()})"
    # Killed, and certainly mid-write: the writer thread was hanging inside it.
    name, written, size = paused.read_text().split()
    return Path(name), int(written), int(size)


def test_sigkill_mid_checkpoint_write_or_at_random_never_loses_or_duplicates_an_epoch(tmp_path):
    data = write_mnist_idx(tmp_path / "data", n=60)  # 3 steps per epoch at batch 20: a checkpoint every epoch
    ckpt = tmp_path / "ckpt"
    paths = RunPaths.of(ckpt, "k")
    rng = random.Random(20261128)
    previous_log: list[dict] = []
    # Kills in the middle of a checkpoint write (half of the record written; all of it, before the rename),
    # and at random moments; each later start continues from whatever checkpoint the last kill left.
    for kill in ("half", "random", "before rename", "random"):
        args = ["--resume", "--epochs", "100000"] if previous_log else [
            "--epochs", "100000", "--batch-size", "20", "--eval-every", "0", "--checkpoint-seconds", "0"]
        if kill == "random":
            before = paths.checkpoint.stat().st_mtime_ns
            with killed_at_the_end(cli_train(ckpt, data, "k", *args)) as proc:
                assert wait_until(checkpointed_or_ended(paths, before, proc))
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(rng.uniform(0, 0.4))
            record = load_checkpoint(paths.checkpoint)
        else:
            first_epoch = len(previous_log) + 1  # of this start, which continues from the last kill's checkpoint
            temp, written, size = kill_mid_write(paths, data, args, tmp_path / "hook",
                                                 0.5 if kill == "half" else 1, first_epoch)
            # The checkpoint is the last complete one, this start's first; the killed write's bytes are all in
            # its temp file beside it, the record's half or whole.
            record = load_checkpoint(paths.checkpoint)
            assert record["epoch"] == first_epoch
            assert temp.parent == paths.folder and temp.name.endswith(atomic.TEMP_SUFFIX)
            assert temp.stat().st_size == written == (size if kill == "before rename" else size // 2)
            if kill == "before rename":  # the whole next record was there: only the rename commits it
                assert load_checkpoint(temp)["epoch"] == record["epoch"] + 1

        log = record["epoch_log"]  # always the last complete checkpoint
        assert [row["epoch"] for row in log] == list(range(1, record["epoch"] + 1))
        assert log[:len(previous_log)] == previous_log  # resumed from it, history never rewritten
        assert record["step"] >= 3 * record["epoch"]
        previous_log = log

    # A final resume repairs whatever the last kill left: CSV rows and grids match the checkpoint.
    final = cli_train(ckpt, data, "k", "--resume", "--epochs", str(previous_log[-1]["epoch"] + 1))
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    record = load_checkpoint(paths.checkpoint)
    epochs = list(range(1, record["epoch"] + 1))
    assert read_csv_epochs(paths) == epochs
    assert paths.sample_epochs() == epochs
    assert not list(paths.folder.rglob(f"*{atomic.TEMP_SUFFIX}"))


def test_a_second_process_on_the_same_run_is_refused_and_a_dead_holders_lock_is_taken_over(tmp_path):
    data = write_mnist_idx(tmp_path / "data", n=60)
    ckpt = tmp_path / "ckpt"
    paths = RunPaths.of(ckpt, "shared")
    first = cli_train(ckpt, data, "shared", "--epochs", "100000", "--batch-size", "20", "--eval-every", "0")
    try:
        assert wait_until(lambda: paths.checkpoint.exists(), 60)
        second = cli_train(ckpt, data, "shared", "--resume")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert err.strip().splitlines()[-1] == (
            f"error: run 'shared' is being trained by another trainer (pid {first.pid}); stop it first")
    finally:
        first.kill()
        first.communicate()
    third = cli_train(ckpt, data, "shared", "--resume", "--epochs", str(load_checkpoint(paths.checkpoint)["epoch"] + 1))
    _, err = third.communicate(timeout=60)
    assert third.returncode == 0, err


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EROFS])
def test_full_or_read_only_disk_reports_error_and_keeps_last_good_checkpoint(tmp_path, monkeypatch, failure):
    trainer = Trainer(tiny_config(epochs=3), "disk", checkpoints=tmp_path, data=tiny_data())
    paths = RunPaths.of(tmp_path, "disk")
    real_replace = os.replace

    def replace_then_fail(src, dst):
        if Path(dst) == paths.checkpoint and paths.checkpoint.exists():  # the second checkpoint fails
            raise OSError(failure, os.strerror(failure))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace_then_fail)
    trainer.start()
    finish(trainer, Status.ERROR)
    snap = trainer.snapshot()
    assert snap.status == Status.ERROR
    assert os.strerror(failure) in snap.error
    monkeypatch.undo()
    good = load_checkpoint(paths.checkpoint)
    assert good["epoch"] == 1
    assert not list(paths.folder.rglob(f"*{atomic.TEMP_SUFFIX}"))
    resumed = Trainer(tiny_config(epochs=3), "disk", checkpoints=tmp_path, data=tiny_data(), continue_run=True)
    resumed.start()
    finish(resumed)
    assert read_csv_epochs(paths) == [1, 2, 3]


def test_run_listing_marks_damaged_runs_and_keeps_the_rest(tmp_path):
    good = Trainer(tiny_config(epochs=1), "good", checkpoints=tmp_path, data=tiny_data())
    good.start()
    finish(good)
    marker = tmp_path / "pwned"
    hostile = RunPaths.of(tmp_path, "hostile")
    hostile.folder.mkdir()

    torch.save({"format": "gan_core.checkpoint", "x": PickleAttack(marker)}, hostile.checkpoint)
    empty = RunPaths.of(tmp_path, "empty")
    empty.folder.mkdir()
    empty.checkpoint.write_bytes(b"")
    infos = {info.name: info for info in list_runs(tmp_path)}
    assert infos["good"].error is None and infos["good"].epochs_done == 1
    assert "refused" in infos["hostile"].error and str(hostile.checkpoint) in infos["hostile"].error
    assert "0 bytes" in infos["empty"].error
    assert not marker.exists()


def test_server_defaults_bind_localhost_keep_xsrf_and_send_no_statistics():
    import tomllib

    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["address"] == "localhost"
    assert settings["server"]["enableXsrfProtection"] is True
    assert settings["browser"]["gatherUsageStats"] is False
    assert "file_uploader" not in (ROOT / "app.py").read_text()  # no checkpoint upload is offered
