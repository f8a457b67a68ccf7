import threading

import numpy as np
import pytest
import torch

from gan_core.gan.state import GANState
from gan_core.runs.checkpoint import load_checkpoint
from gan_core.runs.folder import RunPaths
from gan_core.runs.snapshot import Status
from gan_core.train.trainer import Trainer

from helpers import HANG_SECONDS, assert_stays_paused, finish, tiny_config, tiny_data, wait_until


def make(tmp_path, run="r", **config):
    return Trainer(tiny_config(**config), run, checkpoints=tmp_path, data=tiny_data())


def trainer_threads():
    return [t for t in threading.enumerate() if t.name.startswith("gan-trainer-")]


def test_finished_run_publishes_everything(tmp_path):
    trainer = make(tmp_path, epochs=2)
    trainer.start()
    finish(trainer)
    snap = trainer.snapshot()
    assert snap.status == Status.FINISHED and snap.error is None
    assert (snap.epoch, snap.step, snap.steps_per_epoch) == (2, 8, 4)
    assert snap.images_per_sec > 0 and snap.weights_version >= 3
    assert all(np.isfinite(v) for v in (snap.d_loss, snap.g_loss, snap.d_real, snap.d_fake, snap.d_grad_norm,
                                        snap.g_grad_norm))
    history = trainer.history()
    assert history.shape == (8, 6) and np.isfinite(history).all()  # losses, D outputs, gradient norms
    assert [row["epoch"] for row in trainer.epoch_log()] == [1, 2]
    images = trainer.sample(torch.zeros(3, 100))
    assert images.shape == (3, 28, 28) and images.min() >= 0 and images.max() <= 1


def test_start_twice_makes_one_thread_and_stop_ends_it_mid_run(tmp_path):
    trainer = make(tmp_path, epochs=10_000)
    for _ in range(5):
        trainer.start()
    assert wait_until(lambda: trainer.snapshot().step > 0)
    assert len(trainer_threads()) == 1
    trainer.stop(HANG_SECONDS)  # returns once the thread has ended, long before the run's 10,000 epochs
    assert not trainer.is_alive() and not trainer_threads()
    assert trainer.snapshot().epoch < 10_000
    snap = trainer.snapshot()
    assert snap.status == Status.IDLE
    assert load_checkpoint(RunPaths.of(tmp_path, "r").checkpoint)["step"] == snap.step
    trainer.stop()  # idempotent


def test_concurrent_starts_from_many_threads_make_one_trainer_thread(tmp_path):
    trainer = make(tmp_path, epochs=10_000)
    barrier = threading.Barrier(8)

    def click():
        barrier.wait()
        trainer.start()

    clickers = [threading.Thread(target=click) for _ in range(8)]
    for t in clickers:
        t.start()
    for t in clickers:
        t.join()
    assert len(trainer_threads()) == 1
    trainer.stop()


def test_pause_checkpoints_and_resume_continues(tmp_path):
    trainer = make(tmp_path, epochs=10_000)
    trainer.start()
    assert wait_until(lambda: trainer.snapshot().step >= 3)
    trainer.pause()
    trainer.pause()
    assert wait_until(lambda: trainer.snapshot().status == Status.PAUSED)
    paused_at = trainer.snapshot().step
    assert load_checkpoint(RunPaths.of(tmp_path, "r").checkpoint)["step"] == paused_at
    assert_stays_paused(trainer, paused_at)
    trainer.unpause()
    assert wait_until(lambda: trainer.snapshot().step > paused_at + 2)
    trainer.stop()
    assert trainer.snapshot().status == Status.IDLE


def test_exception_inside_a_step_shows_in_the_snapshot(tmp_path, monkeypatch):
    real_step = GANState.train_step

    def flaky(self, real, update_g=True, labels=None):
        if self.step == 5:
            raise RuntimeError("injected failure in step 6")
        return real_step(self, real, update_g, labels)

    monkeypatch.setattr(GANState, "train_step", flaky)
    trainer = make(tmp_path, epochs=3)
    trainer.start()
    finish(trainer, Status.ERROR)
    snap = trainer.snapshot()
    assert snap.status == Status.ERROR
    assert snap.error == "RuntimeError: injected failure in step 6"
    assert not trainer.is_alive()


def test_nan_stops_with_diverged_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    real_step = GANState.train_step

    def poison_weights_in_step_5(self, real, update_g=True, labels=None):
        if self.step == 4:  # the first step of epoch 2, after epoch 1's checkpoint
            with torch.no_grad():
                for p in self.generator.parameters():
                    p.fill_(float("nan"))
        return real_step(self, real, update_g, labels)

    monkeypatch.setattr(GANState, "train_step", poison_weights_in_step_5)
    trainer = make(tmp_path, epochs=5)
    paths = RunPaths.of(tmp_path, "r")
    trainer.start()
    finish(trainer, Status.ERROR)
    snap = trainer.snapshot()
    assert snap.status == Status.ERROR
    assert snap.error.startswith("diverged at step 5")
    good = load_checkpoint(paths.checkpoint)
    assert good["epoch"] == 1 and good["step"] == 4
    assert all(torch.isfinite(t).all() for t in good["generator"].values())
    monkeypatch.undo()
    resumed = Trainer(tiny_config(epochs=2), "r", checkpoints=tmp_path, data=tiny_data(), continue_run=True)
    resumed.start()
    finish(resumed)
    assert resumed.snapshot().status == Status.FINISHED and resumed.snapshot().epoch == 2


def test_new_run_never_overwrites_an_existing_one(tmp_path):
    first = make(tmp_path, epochs=1)
    first.start()
    finish(first)
    before = RunPaths.of(tmp_path, "r").checkpoint.read_bytes()
    again = make(tmp_path, epochs=1)
    again.start()
    finish(again, Status.ERROR)
    assert again.snapshot().status == Status.ERROR
    assert "already exists" in again.snapshot().error
    assert RunPaths.of(tmp_path, "r").checkpoint.read_bytes() == before


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    trainer = Trainer(tiny_config(), "ghost", checkpoints=tmp_path, data=tiny_data(), continue_run=True)
    trainer.start()
    finish(trainer, Status.ERROR)
    assert trainer.snapshot().status == Status.ERROR
    assert "has no checkpoint to continue" in trainer.snapshot().error


def test_second_trainer_on_the_same_run_is_refused(tmp_path):
    first = make(tmp_path, epochs=10_000)
    first.start()
    assert wait_until(lambda: first.snapshot().step > 0)
    try:
        first.pause()
        assert wait_until(lambda: first.snapshot().status == Status.PAUSED)
        second = Trainer(tiny_config(), "r", checkpoints=tmp_path, data=tiny_data(), continue_run=True)
        second.start()
        finish(second, Status.ERROR)
        assert second.snapshot().status == Status.ERROR
        assert "is being trained by another trainer" in second.snapshot().error
    finally:
        first.stop()
    third = Trainer(tiny_config(epochs=10_000), "r", checkpoints=tmp_path, data=tiny_data(), continue_run=True)
    third.start()
    assert wait_until(lambda: third.snapshot().step > first.snapshot().step)  # lock released on stop
    third.stop()


@pytest.mark.parametrize("batch", [200])
def test_too_few_images_for_one_batch(tmp_path, batch):
    trainer = make(tmp_path, batch_size=batch)
    trainer.start()
    finish(trainer, Status.ERROR)
    assert "fewer than one batch" in trainer.snapshot().error


def test_autosave_writes_the_first_and_last_epoch_and_a_pause_but_not_every_epoch(tmp_path, monkeypatch):
    from gan_core.train import checkpointing

    saved = []  # the epoch of every checkpoint handed to disk
    real_save = checkpointing.ckpt.save_checkpoint
    monkeypatch.setattr(checkpointing.ckpt, "save_checkpoint",
                        lambda record, path: (saved.append(record["epoch"]), real_save(record, path)))
    trainer = Trainer(tiny_config(epochs=6, checkpoint_seconds=3600.0), "auto", checkpoints=tmp_path,
                      data=tiny_data())
    trainer.add_callback(lambda event, snap: trainer.pause() if event == "epoch" and snap.epoch == 3 else None)
    trainer.start()
    assert wait_until(lambda: trainer.snapshot().status == Status.PAUSED, 30)
    assert saved == [1, 3]  # the first epoch, then the pause: epoch 2's end was not due
    trainer.unpause()
    finish(trainer)
    assert saved == [1, 3, 6]  # epochs 4 and 5 were not due; the last always is
    assert load_checkpoint(RunPaths.of(tmp_path, "auto").checkpoint)["epoch"] == 6
    saved.clear()
    every = Trainer(tiny_config(epochs=3, checkpoint_seconds=0.0), "every", checkpoints=tmp_path, data=tiny_data())
    every.start()
    finish(every)
    assert saved == [1, 2, 3]  # 0: every epoch, as before autosave
