"""``train``'s progress on stderr: a redrawn bar on a terminal, plain lines in a log file or a pipe.

A bar redraws itself with carriage returns several times a second: on a terminal that is one line, in a log
file it is hundreds of kilobytes of overwritten text (a 100-epoch run wrote 917 redraws, 125 kB). So when
stderr is not a terminal, ``train`` writes one line per finished epoch instead, and one every
``LINE_SECONDS`` inside an epoch that takes longer than that.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ..runs.snapshot import Snapshot

LINE_SECONDS = 60.0  # the longest silence of a log inside one long epoch


def progress_for(quiet: bool, start_epoch: int = 0, stream: TextIO | None = None) -> Bar | Lines | None:
    """None with ``--quiet``, a bar on a terminal, else plain lines (``start_epoch``: the epochs a continued
    run already has); both write to ``stream`` (stderr)."""
    stream = sys.stderr if stream is None else stream
    if quiet:
        return None
    return Bar(stream) if stream.isatty() else Lines(stream, start_epoch)


def _next_eval(snap: Snapshot) -> str:
    return "-" if snap.next_eval_epoch is None else f"epoch {snap.next_eval_epoch}"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


class Bar:
    """A tqdm bar over all steps of the run, with the epoch, losses and speed beside it."""

    def __init__(self, stream: TextIO) -> None:
        from tqdm import tqdm  # imported only when a bar is shown

        self.bar = tqdm(total=0, unit="step", dynamic_ncols=True, desc="train", file=stream)

    def update(self, snap: Snapshot) -> None:
        if not snap.steps_per_epoch:
            return
        bar = self.bar
        if not bar.total:
            bar.reset(total=snap.epochs_total * snap.steps_per_epoch)
            bar.update(snap.step)
        bar.update(snap.step - bar.n)
        bar.set_postfix(epoch=f"{snap.epoch}/{snap.epochs_total}", d=_fmt(snap.d_loss), g=_fmt(snap.g_loss),
                        img_s=f"{snap.images_per_sec:,.0f}", next_eval=_next_eval(snap), refresh=False)
        bar.refresh()

    def close(self) -> None:
        self.bar.close()


class Lines:
    """One plain line per finished epoch (and one per ``LINE_SECONDS`` inside a long one): no redraws."""

    def __init__(self, stream: TextIO, start_epoch: int = 0) -> None:
        self.stream = stream
        self.epoch = start_epoch  # the epoch of the last line
        self.at = time.monotonic()

    def update(self, snap: Snapshot) -> None:
        now = time.monotonic()
        if not snap.steps_per_epoch or (snap.epoch == self.epoch and now - self.at < LINE_SECONDS):
            return
        total = snap.epochs_total * snap.steps_per_epoch
        where = f"epoch {snap.epoch}/{snap.epochs_total} done" if snap.epoch != self.epoch else \
            f"epoch {snap.epoch + 1}/{snap.epochs_total} running"
        print(f"{where}: step {snap.step:,}/{total:,}, d {_fmt(snap.d_loss)}, g {_fmt(snap.g_loss)}, "
              f"{snap.images_per_sec:,.0f} img/s, next eval {_next_eval(snap)}", file=self.stream, flush=True)
        self.epoch, self.at = snap.epoch, now

    def close(self) -> None:
        pass
