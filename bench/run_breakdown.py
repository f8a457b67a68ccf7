"""Where a default run's wall time goes outside the step: one metrics-off run, its parts timed.

    python -m bench.run_breakdown [--epochs 30]

A whole ``Trainer`` run of the ``stable`` preset with the defaults but quality metrics off (their share
is ``bench.throughput``'s), on the bundled digits, with the trainer's own methods wrapped in timers: the
training steps, the epochs' ends and, inside them, D's verdicts on the preview grid, the grid's PNG, the
published generator copies and the checkpoints handed to the writer. Prints seconds and shares of the
run's wall time from the end of its first step, and the steps' own images/s within the run.
"""

from __future__ import annotations

import argparse
import collections
import functools
import tempfile
import time
from typing import Any

from gan_core.config import GANConfig
from gan_core.data import load_training_data
from gan_core.gan import state as gan_state
from gan_core.presets import preset_config
from gan_core.threads import one_thread_here
from gan_core.train import checkpointing, trainer
from gan_core.train import epochs as trainer_epochs
from gan_core.train import publish as trainer_publish

SECONDS: dict[str, float] = collections.defaultdict(float)
CALLS: collections.Counter[str] = collections.Counter()


def timed(owner: Any, name: str, label: str) -> None:
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SECONDS[label] += time.perf_counter() - started
            CALLS[label] += 1

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=GANConfig().epochs)
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args()
    one_thread_here()  # the trainer's thread gets the cores
    timed(gan_state.GANState, "train_step", "training steps")
    timed(trainer.Trainer, "_end_epoch", "epochs' ends, all")
    timed(trainer_publish, "live_verdicts", "  D's verdicts (preview grid, histogram)")
    timed(trainer_epochs, "save_png", "  the epoch's grid PNG")
    timed(trainer_publish, "_eval_copy", "  published generator copies")
    timed(checkpointing.Checkpointing, "save", "  checkpoints handed to the writer")
    timed(trainer_publish.Publisher, "flush", "stats read back and published")
    data = load_training_data("mnist", args.data_dir)
    config = preset_config("stable", epochs=args.epochs, eval_every=0)
    with tempfile.TemporaryDirectory() as root:
        run = trainer.Trainer(config, "breakdown", checkpoints=root, data=data)
        run.start()
        run.join()
        snap = run.snapshot()
        wall = time.monotonic() - run.started_at - snap.first_step_seconds
    print(f"{args.epochs} epochs of stable, metrics off: {wall:.1f} s from the first step's end, "
          f"{(snap.step - 1) * config.batch_size / wall:,.0f} images/s")
    for label, seconds in sorted(SECONDS.items(), key=lambda kv: -kv[1]):
        print(f"  {label:42s} {seconds:7.2f} s  {seconds / wall:6.1%}  ({CALLS[label]} calls)")
    step_rate = snap.step * config.batch_size / SECONDS["training steps"]
    print(f"  the steps' own rate in the run: {step_rate:,.0f} images/s")


if __name__ == "__main__":
    main()
