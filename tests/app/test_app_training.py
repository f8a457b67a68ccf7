"""Training from the app through AppTest: the trainer buttons follow the one trainer every session shares,
an existing run name is asked about, not overwritten, and the holder starts one trainer at a time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gan_core import GANConfig, Trainer

from helpers import (
    TINY_WIDGETS,
    assert_no_exception,
    buttons,
    new_app,
    saved_run,
    set_values,
    status,
    step,
    stop_if_running,
    wait_for,
)


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
