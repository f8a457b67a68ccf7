"""Step-by-step mode and live hyperparameter edits: one hand-made update through the loop's own code, edits
from the next step on, recorded in the checkpoint and events.csv, and runs that continue bit for bit."""

import csv

import pytest
import torch

from gan_core.config import ConfigError
from gan_core.gan.stepping import BOTH_STEP, D_STEP, G_STEP
from gan_core.runs.checkpoint import load_checkpoint
from gan_core.runs.folder import RunPaths
from gan_core.runs.snapshot import Status
from gan_core.train.trainer import Trainer

from helpers import HANG_SECONDS, finish, tiny_config, tiny_data, wait_until, write_mnist_idx

EDIT_AT = 4  # steps; 4 steps per epoch, flushes every 2


def make(tmp_path, run, *, epochs=3, continue_run=False):
    return Trainer(tiny_config(epochs=epochs, eval_every=0), run, checkpoints=tmp_path, data=tiny_data(),
                   continue_run=continue_run)


def ended(trainer):
    """``finish``, where the run may also have been stopped (by a test's callback), without an error."""
    finish(trainer, Status.FINISHED, Status.IDLE)
    assert trainer.snapshot().error is None, trainer.snapshot().error
    return trainer


def record_of(tmp_path, run):
    return load_checkpoint(RunPaths.of(tmp_path, run).checkpoint)


def assert_same_run(a, b):
    for part in ("generator", "discriminator"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key}"
    for part in ("opt_g", "opt_d"):
        assert a[part]["param_groups"] == b[part]["param_groups"]
        for index, slot in a[part]["state"].items():
            for name, value in slot.items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(b[part]["state"][index][name]))
    assert torch.equal(a["history"], b["history"]) and torch.equal(a["rng"]["torch"], b["rng"]["torch"])
    assert (a["epoch"], a["step"], a["g_updates"], a["edits"]) == (b["epoch"], b["step"], b["g_updates"], b["edits"])
    assert a["config"] == b["config"]


def run_with_edit(tmp_path, run, *, stop_after_edit):
    trainer = make(tmp_path, run)

    def at_step(event, snap):
        if event == "flush" and snap.step == EDIT_AT and not trainer.edits():
            trainer.edit("lr_g", 1e-3)
            trainer.edit("d_steps", 2)
            if stop_after_edit:
                trainer.stop()

    trainer.add_callback(at_step)
    trainer.start()
    return ended(trainer)


def test_a_run_edited_live_then_stopped_and_continued_equals_the_uninterrupted_run(tmp_path):
    run_with_edit(tmp_path, "straight", stop_after_edit=False)
    first = run_with_edit(tmp_path, "split", stop_after_edit=True)
    assert first.snapshot().status == Status.IDLE and first.snapshot().step == EDIT_AT
    stopped = record_of(tmp_path, "split")
    assert [e["field"] for e in stopped["edits"]] == ["lr_g", "d_steps"]  # the stop's checkpoint kept them
    finish_run = make(tmp_path, "split", continue_run=True)
    finish_run.start()
    ended(finish_run)
    straight, split = record_of(tmp_path, "straight"), record_of(tmp_path, "split")
    assert_same_run(straight, split)
    assert straight["edits"] == [{"step": EDIT_AT, "field": "lr_g", "old": 2e-4, "new": 1e-3},
                                 {"step": EDIT_AT, "field": "d_steps", "old": 1, "new": 2}]
    assert straight["config"].lr_g == 1e-3 and straight["opt_g"]["param_groups"][0]["lr"] == 1e-3
    assert straight["g_updates"] == EDIT_AT + (12 - EDIT_AT) // 2  # one G update per 2 D steps after the edit
    with open(RunPaths.of(tmp_path, "split").events_csv) as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["step"], r["field"], r["new"]) for r in rows] == [("4", "lr_g", "0.001"), ("4", "d_steps", "2")]
    # and the edits changed the run: without them the weights differ
    plain = make(tmp_path, "plain")
    plain.start()
    ended(plain)
    assert not torch.equal(record_of(tmp_path, "plain")["generator"]["net.0.weight"],
                           straight["generator"]["net.0.weight"])


def test_edits_are_validated_at_once(tmp_path):
    trainer = make(tmp_path, "v")
    with pytest.raises(ConfigError, match="lr_g"):
        trainer.edit("lr_g", 5.0)
    with pytest.raises(ConfigError, match="editable"):
        trainer.edit("batch_size", 10)


def pause_at(trainer, step):
    """Start ``trainer`` and pause it at ``step``; the returned switch turns the pausing off."""
    armed = {"on": True}
    trainer.add_callback(lambda event, snap: trainer.pause() if armed["on"] and snap.step >= step else None)
    trainer.start()
    assert wait_until(lambda: trainer.snapshot().status == Status.PAUSED)
    return armed


def hand_step(trainer, kind):
    previous = trainer.step_report()
    assert trainer.step_once(kind)
    assert wait_until(lambda: trainer.step_report() is not previous and trainer.snapshot().status == Status.PAUSED)
    return trainer.step_report()


def test_hand_made_steps_move_one_net_once_and_keep_the_run_valid(tmp_path):
    trainer = make(tmp_path, "hand")
    armed = pause_at(trainer, 2)
    step, g_updates, rows = trainer.snapshot().step, None, len(trainer.history())
    d = hand_step(trainer, D_STEP)
    assert (d.step, trainer.snapshot().step, len(trainer.history())) == (step + 1, step + 1, rows + 1)
    assert list(d.grad_norms) == ["D"] and all(v > 0 for v in d.grad_norms["D"].values())
    assert any(name.startswith("net.0 Linear 784") for name in d.grad_norms["D"])
    assert d.before.grid.shape == (100, 28, 28)  # G's weights did not move; its BatchNorm statistics did
    assert not (d.before.verdicts == d.after.verdicts).all()  # D did
    assert d.d_loss is not None and d.g_loss is None and "D step" in d.explanation
    g_updates = d.g_updates
    g = hand_step(trainer, G_STEP)
    assert (g.step, g.g_updates, len(trainer.history())) == (step + 1, g_updates + 1, rows + 1)  # no batch used
    assert list(g.grad_norms) == ["G"] and not (g.before.grid == g.after.grid).all()
    assert g.d_loss is None and g.g_loss is not None
    both = hand_step(trainer, BOTH_STEP)
    assert (both.step, both.g_updates) == (step + 2, g_updates + 2) and set(both.grad_norms) == {"D", "G"}
    armed["on"] = False
    trainer.unpause()
    ended(trainer)
    record = record_of(tmp_path, "hand")
    assert record["epoch"] == 3 and record["step"] == 12 == len(record["history"])
    assert [row["epoch"] for row in record["epoch_log"]] == [1, 2, 3]
    assert trainer.step_once(D_STEP) is False  # not paused: nothing to do


def test_a_run_stepped_by_hand_continues_exactly_after_a_stop(tmp_path):
    def stepped(run, stop):
        trainer = make(tmp_path, run)
        armed = pause_at(trainer, 2)
        hand_step(trainer, D_STEP)
        hand_step(trainer, G_STEP)
        armed["on"] = False
        if stop:
            trainer.stop()
            ended(trainer)
            trainer = make(tmp_path, run, continue_run=True)
            trainer.start()
        else:
            trainer.unpause()
        return ended(trainer)

    stepped("once", stop=False)
    stepped("twice", stop=True)
    assert_same_run(record_of(tmp_path, "once"), record_of(tmp_path, "twice"))


def test_steps_and_edits_reach_a_training_process(tmp_path):
    from gan_core.train.process import TrainerProcess

    data = write_mnist_idx(tmp_path / "data", n=80)
    trainer = TrainerProcess(tiny_config(epochs=100_000, eval_every=0), "proc", checkpoints=tmp_path / "ck",
                             data_dir=data)
    trainer.start()
    try:
        assert wait_until(lambda: trainer.snapshot().step >= 2)
        trainer.pause()
        assert wait_until(lambda: trainer.snapshot().status == Status.PAUSED)
        step = trainer.snapshot().step
        assert trainer.step_once(D_STEP, timeout=HANG_SECONDS)  # returns with the step's report
        report = trainer.step_report()
        assert report is not None and report.kind == D_STEP and report.step == step + 1
        assert wait_until(lambda: trainer.snapshot().step == step + 1)
        trainer.edit("lr_d", 1e-4)
        assert trainer.config.lr_d == 1e-4  # the values in force, at once in the parent
        trainer.unpause()
        assert wait_until(lambda: trainer.edits() and trainer.edits()[0]["new"] == 1e-4)
    finally:
        trainer.stop()
    assert load_checkpoint(RunPaths.of(tmp_path / "ck", "proc").checkpoint)["edits"][0]["field"] == "lr_d"
