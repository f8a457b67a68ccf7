"""D's verdicts on screen: a coloured border round each image of the sample grid (Okabe-Ito blue where D
says real, orange where it says fake, grey where it is undecided), its legend, and the histogram of D's
output on real digits against generated ones."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gan_core.data import DataError
from gan_core.gan.model import IMAGE_SIDE
from gan_core.images import to_uint8
from gan_core.runs.reader import RunReader
from ganlab.charts.trust import verdict_spec, verdict_table
from ganlab.state.models import dataset
from ganlab.state.refresh import slots

# Okabe & Ito's colour-blind-safe palette: blue and orange stay apart for every common colour vision.
REAL_RGB = np.array((0, 114, 178), np.float32)  # "#0072B2"
FAKE_RGB = np.array((230, 159, 0), np.float32)  # "#E69F00"
UNDECIDED_RGB = np.array((190, 190, 190), np.float32)


def verdict_colours(values: np.ndarray, probability: bool, reference: float) -> np.ndarray:
    """One RGB colour per verdict, uint8 (n, 3): grey at ``reference``, blending to blue at "surely real"
    (probability 1; for raw scores the largest distance above the reference) and to orange at "surely fake"."""
    values = np.asarray(values, np.float64)
    if probability:
        t = (values - 0.5) * 2.0
    else:
        spread = float(np.abs(values - reference).max()) if len(values) else 1.0
        t = (values - reference) / max(spread, 1e-9)
    t = np.clip(t, -1.0, 1.0)[:, None].astype(np.float32)
    towards = np.where(t >= 0, REAL_RGB, FAKE_RGB)
    return np.rint(UNDECIDED_RGB + np.abs(t) * (towards - UNDECIDED_RGB)).astype(np.uint8)


def bordered_grid(images: np.ndarray, colours: np.ndarray, ncols: int = 10, scale: int = 2,
                  border: int = 3, gap: int = 2) -> np.ndarray:
    """Images (n, 28, 28) tiled row by row, each framed in its colour: RGB uint8."""
    tiles = to_uint8(images)
    n = len(tiles)
    nrows = int(np.ceil(n / ncols))
    side = IMAGE_SIDE * scale
    cell = side + 2 * border
    step = cell + gap
    picture = np.full((nrows * step + gap, ncols * step + gap, 3), 255, np.uint8)
    for i, (tile, colour) in enumerate(zip(tiles, colours, strict=True)):
        row, col = divmod(i, ncols)
        top, left = gap + row * step, gap + col * step
        picture[top:top + cell, left:left + cell] = colour
        big = np.repeat(np.repeat(tile, scale, axis=0), scale, axis=1)
        picture[top + border:top + border + side, left + border:left + border + side] = big[..., None]
    return picture


def _swatch(rgb: np.ndarray) -> str:
    r, g, b = (int(v) for v in rgb)
    return f'<span style="color:rgb({r},{g},{b});font-size:1.2em">■</span>'


def legend_html(grid: dict[str, Any]) -> str:
    """The border colours in words (D's probability, or its raw score around the loss's reference)."""
    if grid["probability"]:
        real, middle, fake = "D says real (p = 1)", "undecided (0.5)", "D says fake (p = 0)"
    else:
        ref = grid["reference"]
        real, middle, fake = f"raw score above {ref:g} (the real side)", f"at {ref:g}", \
            f"below {ref:g} (the fake side)"
    return (f"{_swatch(REAL_RGB)} {real} &nbsp; {_swatch(UNDECIDED_RGB)} {middle} &nbsp; "
            f"{_swatch(FAKE_RGB)} {fake}")


def real_images(dataset_name: str) -> torch.Tensor | None:
    """The run's training digits, for D's histogram of a saved run (a live run brings its own)."""
    try:
        return dataset(dataset_name).images
    except (DataError, OSError):
        return None


def run_verdicts(reader: RunReader, live: bool) -> dict[str, Any] | None:
    """D's verdicts on the run's preview grid and, where real digits can be loaded, the histogram."""
    if live:
        return reader.verdicts()
    return reader.verdicts(real_images(reader.config.dataset))


def grid_verdict(verdicts: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    """The verdict on the grid shown: the EMA generator's ("ema") or the raw G's ("raw")."""
    if verdicts is None:
        return None
    return verdicts.get("grid_raw") if kind == "raw" else verdicts.get("grid")


def verdict_caption(grid: dict[str, Any], step: int) -> str:
    values = np.asarray(grid["values"], np.float64)
    side = (values > grid["reference"]).sum()
    what = "D's probability that each image is real" if grid["probability"] else grid["note"]
    return (f"Border: {what} (D at step {step:,}, eval mode). D calls {side} of {len(values)} images real; "
            f"mean {values.mean():.2f}.")


def histogram_ui(verdicts: dict[str, Any] | None) -> None:
    """D's output on a batch of real digits against a batch of generated ones (same bins); two slots, the
    chart and its caption, whatever there is to show (the Train page refreshes it in place)."""
    chart, note = slots(2)
    if verdicts is None:  # a live run before its first published verdicts
        note.caption("D's real-vs-generated histogram appears with the first published weights.")
        return
    histogram = verdicts.get("histogram")
    if histogram is None:
        note.caption("D's real-vs-generated histogram needs the run's training digits, which could not be loaded.")
        return
    axis = "D's probability “real”" if histogram["probability"] else "D's raw score"
    chart.vega_lite_chart(verdict_table(histogram), verdict_spec(axis, float(histogram["reference"])),
                          width="stretch")
    fakes = "the raw G" if verdicts.get("histogram_fake", "raw") == "raw" else "the EMA generator"
    gap = ""
    if histogram["real_mean"] is not None and histogram["fake_mean"] is not None:
        gap = f" Means: real {histogram['real_mean']:.2f}, generated {histogram['fake_mean']:.2f}."
    explained = "" if histogram["probability"] else f" {histogram['note']}."
    note.caption(f"D's output on {sum(histogram['real'])} real training digits and {sum(histogram['fake'])} "
                 f"digits of {fakes}: training pushes the two together.{gap}{explained}")
