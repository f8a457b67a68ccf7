"""The Train page's live panel: progress, loss, gradient-norm and D-output curves, the fixed-noise grid, quality.

Two sibling fragments (never nested): while training, the progress reruns every period and the curves,
grid and quality every ``CURVES_EVERY`` periods (they move slowly and cost the browser most). Both draw
into fixed slots (``ganlab.state.refresh``), so every rerun has the same element tree whatever the run's
state: before its first steps, its first evaluation, or after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import streamlit as st

from gan_core import CheckpointError
from gan_core.gan.history import STATS
from gan_core.gan.losses import loss_view
from gan_core.images import make_grid
from gan_core.runs.reader import RunReader
from gan_core.runs.snapshot import PHASE_JUDGE_WAIT, PHASE_STARTING, Snapshot, Status
from ganlab.charts.core import GRAD_SERIES, LOSS_SERIES, PROB_SERIES, curve_spec, curve_table
from ganlab.state.labels import grid_rows_caption
from ganlab.state.models import class_names
from ganlab.state.refresh import follow_status, live_period, slots
from ganlab.state.resources import fast_png, one_thread, timed
from ganlab.state.source import live_trainer, run_reader
from ganlab.train.quality import quality_ui
from ganlab.train.verdicts import (
    bordered_grid,
    grid_verdict,
    histogram_ui,
    legend_html,
    run_verdicts,
    verdict_caption,
    verdict_colours,
)
from ganlab.widgets.generator import shown_grid, shown_kind

CURVES_EVERY = 2  # curves, grid and quality refresh every 2nd tick


def live_ui(name: str | None, status: str | None) -> None:
    """The panel of run ``name``; ``status`` is the trainer's status this page was drawn for."""
    period = live_period(status)
    every = period * CURVES_EVERY if period is not None else None
    ticks = period if live_trainer(name) else every  # a saved run shown while another trains barely moves
    st.fragment(timed(progress_panel), run_every=ticks)(name, status, period)
    st.fragment(timed(charts_panel), run_every=every)(name)


def open_run(name: str | None) -> tuple[RunReader | None, tuple[str, str] | None]:
    """The run to show, or None and why not: ("info" or "error", a sentence)."""
    if name is None:
        return None, ("info", "Fix the highlighted setting in the sidebar.")
    try:
        reader = run_reader(name)
    except CheckpointError as exc:
        return None, ("error", f"Run **{name}** is damaged: {exc}")
    if reader is None:
        return None, ("info", f"Run **{name}** has not been trained yet: press **Train** to start it.")
    return reader, None


def progress_panel(name: str | None, page_status: str | None, period: float | None) -> None:
    """The part of the panel that changes every tick: why there is nothing to show, or the progress."""
    follow_status(page_status, period)
    note, body = slots(2)
    reader, why = open_run(name)
    if reader is None:
        kind, text = why
        getattr(note, kind)(text)
    else:
        with body.container():
            progress_block(reader)


def charts_panel(name: str | None) -> None:
    """The curves and the grid, then quality: nothing until the run exists (the progress panel says why)."""
    curves, quality = slots(2)
    reader, _ = open_run(name)
    if reader is None:
        return
    with curves.container():
        curves_and_grid(reader, live_trainer(name) is not None)
    with quality.container():
        quality_ui(reader)


def fmt_seconds(seconds: float | None) -> str:
    return "–" if seconds is None else str(dt.timedelta(seconds=int(round(seconds))))


def progress_label(snap: Snapshot) -> str:
    """What the run is doing, in words: preparing (data, model) or where it stands."""
    spe = snap.steps_per_epoch
    if snap.status == Status.RUNNING and spe == 0:
        return f"starting: {snap.phase or PHASE_STARTING}…"
    if snap.status == Status.RUNNING and snap.phase == PHASE_JUDGE_WAIT:
        return f"epoch {snap.epoch} of {snap.epochs_total} · {PHASE_JUDGE_WAIT} to evaluate it…"
    in_epoch = f" · batch {snap.step - snap.epoch * spe} of {spe}" if spe and snap.epoch < snap.epochs_total else ""
    return f"epoch {snap.epoch} of {snap.epochs_total} · step {snap.step:,}{in_epoch}"


def progress_block(reader: RunReader) -> None:
    """Progress bar, status, step, images/s, ETA, last D outputs, data source, error."""
    bar, numbers, data, error = slots(4)
    snap = reader.snapshot()
    running = snap.status == Status.RUNNING
    spe = snap.steps_per_epoch
    if spe and snap.epochs_total:
        done = snap.step / (snap.epochs_total * spe)
    else:
        done = 1.0 if snap.status == Status.FINISHED else snap.epoch / max(snap.epochs_total, 1)
    bar.progress(min(max(done, 0.0), 1.0), text=progress_label(snap))
    m = numbers.container().columns(5)
    m[0].metric("Status", str(snap.status))
    m[1].metric("Step", f"{snap.step:,}")
    m[2].metric("Images/s", f"{snap.images_per_sec:,.0f}" if running and spe else "–")
    m[3].metric("ETA", fmt_seconds(snap.eta_seconds) if running and spe else "–")
    both = snap.d_real is not None and snap.d_fake is not None
    m[4].metric("D(x) / D(G(z))", f"{snap.d_real:.2f} / {snap.d_fake:.2f}" if both else "–")
    if snap.data_source:
        data.caption(f"Data: {snap.data_source}")
    if snap.status == Status.ERROR:
        error.error(f"Training stopped with an error: {snap.error}")


@st.cache_resource(max_entries=4, show_spinner=False)
def _grid_png(run: str, weights_version: int, seed: int, z_dim: int, kind: str, verdict_step: int | None,
              _reader: RunReader, _verdict: dict[str, Any] | None) -> tuple[bytes, str] | None:
    """The fixed-noise 10x10 grid of one weights version from the generator the switch picks, each image
    framed in D's verdict; computed once per (version, generator, verdict)."""
    del run, weights_version, seed, z_dim, kind, verdict_step  # cache key
    with one_thread():
        images, label = shown_grid(_reader)
    if images is None:
        return None
    if _verdict is not None and len(_verdict["values"]) == len(images):
        colours = verdict_colours(np.asarray(_verdict["values"]), _verdict["probability"], _verdict["reference"])
        return fast_png(bordered_grid(images, colours)), label
    return fast_png(make_grid(images, ncols=10, scale=2)), label


def grad_norms_chart(history: np.ndarray, edits: Sequence[Mapping[str, Any]]) -> None:
    """The total gradient norm of D and of G per step, beside the losses: a norm that collapses or
    explodes shows a net that stopped learning or is about to diverge before the losses say so."""
    if np.isfinite(history[-1, len(STATS):]).any():  # the newest step recorded them
        st.vega_lite_chart(curve_table(history, GRAD_SERIES, edits),
                           curve_spec(tuple(GRAD_SERIES.values()), "gradient norm (L2)"), width="stretch")
    else:
        st.caption("Gradient norms: not recorded in this run's history (saved before they were recorded); "
                   "continuing a run records them from its next step.")


def curves_and_grid(reader: RunReader, live: bool) -> None:
    history = reader.history()
    config, snap = reader.config, reader.snapshot()
    left, right = st.columns([3, 2])
    with left:
        losses, grads, outputs = slots(3)
    if len(history):
        edits = reader.edits()
        view = loss_view(config.loss)
        losses.vega_lite_chart(curve_table(history, LOSS_SERIES, edits),
                               curve_spec(tuple(LOSS_SERIES.values()), f"loss ({config.loss})"), width="stretch")
        with grads:
            grad_norms_chart(history, edits)
        outputs.vega_lite_chart(curve_table(history, PROB_SERIES, edits),
                                curve_spec(tuple(PROB_SERIES.values()), f"mean D output ({view.output})",
                                           view.reference, view.reference_label), width="stretch")
    else:
        losses.caption("The curves appear after the first logged steps.")
    with right:
        picture, legend, note, histogram = slots(4)
    verdicts = reader.verdicts()  # the grid's verdicts need no real digits: draw it before loading them
    kind = shown_kind(reader)
    on_grid = grid_verdict(verdicts, kind)
    grid = _grid_png(f"{snap.run}:{id(reader)}", snap.weights_version, config.seed, config.z_dim, kind,
                     None if verdicts is None else int(verdicts["step"]), reader, on_grid)
    if grid is not None:
        png, label = grid
        rows = grid_rows_caption(config, class_names(config.dataset) if config.conditional else ())
        picture.image(png, caption=f"fixed noise · {label} · epoch {snap.epoch}, step {snap.step:,}"
                                   + (f" · {rows}" if rows else ""), width="content", output_format="PNG")
        if on_grid is not None:
            legend.markdown(legend_html(on_grid), unsafe_allow_html=True)
            note.caption(verdict_caption(on_grid, int(verdicts["step"])))
    else:
        picture.caption("The sample grid appears with the first published weights.")
    with histogram.container():
        histogram_ui(run_verdicts(reader, live))
