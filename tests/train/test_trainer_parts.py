"""Each of the trainer's collaborators alone, on a tiny GANState: no trainer thread, no loop."""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import pytest
import torch

from gan_core.gan.history import STATS
from gan_core.gan.state import GANState
from gan_core.runs import checkpoint as ckpt
from gan_core.runs.folder import RunPaths
from gan_core.runs.snapshot import Status, TrainerView
from gan_core.train import publish
from gan_core.train.checkpointing import Checkpointing
from gan_core.train.epochs import SampleGrid, close_epoch
from gan_core.train.evaluation import Evaluation
from gan_core.train.publish import DivergedError, Publisher, Rate
from gan_core.train.requests import STOP, Requests, hand_made_step
from gan_core.train.trainer import Trainer

from helpers import tiny_config, tiny_data

STEPS_PER_EPOCH = 4  # tiny_data(80) at batch 20


def tiny_state(**config: Any) -> tuple[GANState, torch.Tensor]:
    return GANState.fresh(tiny_config(**config)), tiny_data().images


def train_epoch(state: GANState, images: torch.Tensor, publisher: Publisher | None = None) -> None:
    """One epoch of steps in order, then closed, as the trainer's loop takes them."""
    for b in range(STEPS_PER_EPOCH):
        row = state.train_step(images[b * 20:(b + 1) * 20])
        state.step += 1
        if publisher is None:
            state.history.append(row[None].numpy())
        else:
            publisher.record(row)
    if publisher is not None:
        publisher.flush(state)
    close_epoch(state, STEPS_PER_EPOCH)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(publish.time, "monotonic", fake)
    return fake


# --- checkpointing --------------------------------------------------------------------------------------

def test_checkpointing_writes_when_due_and_not_otherwise(tmp_path, monkeypatch):
    saved = []
    real_save = ckpt.save_checkpoint
    monkeypatch.setattr(ckpt, "save_checkpoint", lambda record, path: (saved.append(record["epoch"]),
                                                                        real_save(record, path)))
    state, images = tiny_state(epochs=3, checkpoint_seconds=3600.0)
    paths = RunPaths.of(tmp_path, "r")
    paths.make()
    with Checkpointing(paths) as checkpointing:
        for _ in range(3):
            train_epoch(state, images)
            checkpointing.epoch_ended(state)
        checkpointing.wait()
        assert saved == [1, 3]  # the first epoch, then the last: epoch 2 came within checkpoint_seconds
        checkpointing.save_and_wait(state)  # a pause or stop writes whatever the time
        assert saved == [1, 3, 3]
    record = ckpt.load_checkpoint(paths.checkpoint)
    assert (record["epoch"], record["step"]) == (3, 12)
    assert paths.summary.is_file() and paths.losses_csv.is_file() and paths.events_csv.is_file()


def test_checkpointing_is_due_every_epoch_when_the_spacing_is_zero(tmp_path):
    state, images = tiny_state(epochs=3, checkpoint_seconds=0.0)
    paths = RunPaths.of(tmp_path, "r")
    paths.make()
    with Checkpointing(paths) as checkpointing:
        assert checkpointing.due(state)
        checkpointing.save(state)
        train_epoch(state, images)
        assert checkpointing.due(state)
    spaced = Checkpointing(paths)
    state.config = state.config.replace(checkpoint_seconds=3600.0)
    assert spaced.due(state)  # nothing written yet
    spaced.saved_at = math.inf  # "just written"
    assert not spaced.due(state)
    state.epoch = state.config.epochs
    assert spaced.due(state)  # the last epoch, whatever the time


# --- requests -------------------------------------------------------------------------------------------

def halting(requests: Requests) -> tuple[threading.Thread, list[Any], threading.Event]:
    """``requests.halt`` on its own thread (the loop's side); returns it, its announcements and result,
    and an event set once it announced PAUSED."""
    announced: list[Any] = []
    paused = threading.Event()

    def announce(status: Status) -> None:
        announced.append(status)
        if status == Status.PAUSED:
            paused.set()

    thread = threading.Thread(target=lambda: announced.append(("result", requests.halt(announce))))
    thread.start()
    return thread, announced, paused


def test_a_pause_request_halts_until_unpause():
    requests = Requests()
    assert not requests.halt_requested()
    requests.pause()
    assert requests.halt_requested()
    thread, announced, paused = halting(requests)
    assert paused.wait(10)
    thread.join(0.2)
    assert thread.is_alive()  # still halted: nobody unpaused
    requests.unpause()
    thread.join(10)
    assert announced == [Status.PAUSED, Status.RUNNING, ("result", None)]
    assert not requests.halt_requested()


def test_a_stop_ends_a_pause_and_a_stop_alone_halts_at_once():
    requests = Requests()
    requests.pause()
    thread, announced, paused = halting(requests)
    assert paused.wait(10)
    requests.stop()
    thread.join(10)
    assert announced == [Status.PAUSED, Status.IDLE, ("result", STOP)]
    fresh = Requests()
    fresh.stop()
    assert fresh.halt(lambda status: None) == STOP


def test_a_step_request_is_served_only_while_paused_and_the_run_stays_paused():
    requests = Requests()
    assert not requests.step_once("D")  # running: refused
    with pytest.raises(ValueError):
        requests.step_once("both")
    requests.pause()
    thread, announced, paused = halting(requests)
    assert paused.wait(10)
    assert requests.step_once("D+G")
    thread.join(10)
    assert announced == [Status.PAUSED, ("result", "D+G")]
    assert requests.halt_requested()  # still paused after the step


def test_an_edit_applies_at_the_next_step_boundary():
    requests = Requests()
    state, _ = tiny_state()
    requests.edit("lr_d", 1e-5)
    assert state.config.lr_d != 1e-5 and state.opt_d.param_groups[0]["lr"] != 1e-5  # not yet
    assert requests.apply_edits(state)
    assert state.config.lr_d == 1e-5 and all(g["lr"] == 1e-5 for g in state.opt_d.param_groups)
    assert [(e["field"], e["new"]) for e in state.edits] == [("lr_d", 1e-5)]
    assert not requests.apply_edits(state)  # served once


def test_a_hand_made_step_takes_one_update_and_publishes_its_report():
    state, images = tiny_state()
    view = TrainerView("r", 2)
    publisher = Publisher(view)
    hand_made_step(state, "D", images[:20], publisher)
    report = view.step_report()
    assert (state.step, state.g_updates, state.batch_in_epoch) == (1, 1, 1)  # the D step; G's first loss only
    assert report.kind == "D" and report.step == 1 and report.g_loss is None and "D" in report.grad_norms
    assert len(view.history()) == 1 and view.snapshot().step == 1
    hand_made_step(state, "G", None, publisher)  # G alone: no batch, no history row
    assert (state.step, state.g_updates, len(view.history())) == (1, 2, 1)
    assert view.step_report().kind == "G" and not state.capture_grad_norms


# --- the publisher --------------------------------------------------------------------------------------

def test_the_rate_is_images_per_second_over_a_recent_window(clock):
    rate = Rate()
    clock.now = 1.0
    assert rate.update(100) == 100.0
    clock.now = 2.0
    assert rate.update(300) == 200.0
    clock.now = 10.0  # the marks older than the window are dropped: 10 images in the last 8 s
    assert rate.update(10) == pytest.approx(10 / 8)


def test_the_publisher_reads_steps_back_in_one_flush_with_their_rate(clock):
    state, images = tiny_state()
    view = TrainerView("r", 2)
    publisher = Publisher(view)
    publisher.begin(state, images, STEPS_PER_EPOCH)
    for b in range(2):
        publisher.record(state.train_step(images[b * 20:(b + 1) * 20]))
        state.step += 1
        state.batch_in_epoch += 1
    assert publisher.pending() == 2 and len(view.history()) == 0  # nothing read back yet
    clock.now = 0.5
    publisher.flush(state)
    snap = view.snapshot()
    assert publisher.pending() == 0 and view.history().shape == (2, 6)
    assert snap.step == 2 and snap.images_per_sec == 40 / 0.5
    assert snap.eta_seconds == pytest.approx(6 * 20 / 80)  # 6 steps left of 2 epochs at 80 images/s
    assert snap.d_loss == pytest.approx(float(view.history()[-1, 0]))


def test_the_publisher_refuses_a_diverged_step():
    state, images = tiny_state()
    publisher = Publisher(TrainerView("r", 2))
    row = state.train_step(images[:20])
    state.step += 1
    publisher.record(torch.where(torch.arange(6) == 0, torch.tensor(float("nan")), row))
    with pytest.raises(DivergedError, match="diverged at step 1"):
        publisher.flush(state)
    assert len(state.history_array()) == 0


def test_the_publisher_refreshes_the_generators_at_its_interval(clock):
    state, images = tiny_state()
    view = TrainerView("r", 2)
    publisher = Publisher(view, generator_seconds=2.0, verdict_seconds=4.0)
    publisher.begin(state, images, STEPS_PER_EPOCH)
    first = view.snapshot().weights_version
    assert first == 1 and view.verdicts() is not None and view.sample(torch.zeros(1, 100)) is not None
    verdicts = view.verdicts()
    clock.now = 1.0
    publisher.generators_if_due(state)
    assert view.snapshot().weights_version == 1  # within the interval: no copy
    clock.now = 2.0
    publisher.generators_if_due(state)
    assert view.snapshot().weights_version == 2 and view.verdicts() is verdicts  # verdicts: not yet due
    clock.now = 4.0
    publisher.generators_if_due(state)
    assert view.snapshot().weights_version == 3 and view.verdicts() is not verdicts
    publisher.epoch_generators(state)  # an epoch's end: whatever the time
    assert view.snapshot().weights_version == 4


# --- the epoch's end: means, grid, evaluation -----------------------------------------------------------

def test_closing_an_epoch_logs_its_means_and_drops_its_order(tmp_path):
    state, images = tiny_state()
    state.perm, state.batch_in_epoch, state.epoch_seconds = torch.arange(80), 4, 1.5
    for b in range(STEPS_PER_EPOCH):
        state.history.append(state.train_step(images[b * 20:(b + 1) * 20])[None].numpy())
    close_epoch(state, STEPS_PER_EPOCH)
    means = state.history_array()[:, :len(STATS)].astype(np.float64).mean(axis=0)
    assert state.epoch == 1 and state.perm is None and (state.batch_in_epoch, state.epoch_seconds) == (0, 0.0)
    assert state.epoch_log == [{"epoch": 1, **dict(zip(STATS, means.tolist(), strict=True)), "seconds": 1.5}]


def test_the_sample_grid_is_saved_for_each_epoch(tmp_path):
    state, images = tiny_state()
    paths = RunPaths.of(tmp_path, "r")
    paths.make()
    publisher = Publisher(TrainerView("r", 2))
    publisher.begin(state, images, STEPS_PER_EPOCH)
    grid = SampleGrid(paths, publisher)
    train_epoch(state, images, publisher)
    grid.epoch_ended(state)
    assert paths.sample_epochs() == [1]


class FakeJudge:
    def __init__(self) -> None:
        self.seen: list[int] = []

    def describe(self) -> str:
        return "fake judge"

    def evaluate(self, images: torch.Tensor) -> dict[str, Any]:
        self.seen.append(len(images))
        return {"fid": 1.0}


@pytest.mark.parametrize("eval_every,evaluated", [(1, [1, 2, 3]), (2, [2, 3]), (0, [])])
def test_the_evaluation_follows_its_schedule_and_always_evaluates_the_last_epoch(tmp_path, eval_every, evaluated):
    state, images = tiny_state(epochs=3, eval_every=eval_every, eval_samples=30)
    view = TrainerView("r", 3)
    publisher = Publisher(view)
    publisher.begin(state, images, STEPS_PER_EPOCH)
    judge = FakeJudge()
    evaluation = Evaluation(RunPaths.of(tmp_path, "r"), publisher, judge=judge, share=None)
    evaluation.start(state, tiny_data())
    for _ in range(3):
        train_epoch(state, images, publisher)
        evaluation.epoch_ended(state)
    assert [row["epoch"] for row in state.metrics_log] == evaluated
    assert judge.seen == [30] * len(evaluated)  # the fixed eval noise through the published generator
    assert view.metrics() == tuple(state.metrics_log)
    if evaluated:
        row = state.metrics_log[-1]
        assert row["step"] == 12 and row["d_loss"] == state.epoch_log[-1]["d_loss"] and row["fid"] == 1.0
        assert view.snapshot().judge == "fake judge" and view.snapshot().next_eval_epoch is None


# --- the trainer's callback list ------------------------------------------------------------------------

def test_a_callers_callback_runs_after_the_trainers_own_epoch_end_work(tmp_path):
    trainer = Trainer(tiny_config(epochs=2), "r", checkpoints=tmp_path, data=tiny_data())
    seen = []
    trainer.add_callback(lambda event, snap: seen.append(
        (event, snap.epoch, len(trainer.epoch_log()), trainer.paths.sample_epochs())))
    trainer.start()
    trainer.join(60)
    assert trainer.snapshot().status == Status.FINISHED
    # By an epoch's callback, the epoch is logged, published and its grid saved.
    assert [s for s in seen if s[0] == "epoch"] == [("epoch", 1, 1, [1]), ("epoch", 2, 2, [1, 2])]
    assert [s[0] for s in seen].count("flush") == 4  # every log_every (2) of the 8 steps
