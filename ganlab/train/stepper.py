"""Train page: step the game by hand (the run paused) and edit hyperparameters live (while it trains).

The buttons call the trainer's own ``step_once`` and ``edit``: a hand-made step is the training loop's
step on the next batch, and an edit takes effect at the next step and is recorded in the checkpoint and
``events.csv``; this module only shows what they did.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gan_core import ConfigError
from gan_core.config import field_spec
from gan_core.gan.state import EDITABLE
from gan_core.gan.stepping import STEP_KINDS, StepReport
from gan_core.images import make_grid
from gan_core.runs.snapshot import Status
from ganlab.state import keys
from ganlab.state.holder import AnyTrainer
from ganlab.state.resources import fast_png, holder
from ganlab.widgets.actions import flash
from ganlab.widgets.sidebar import hint


def on_step(kind: str) -> None:
    trainer = holder().alive()
    if trainer is None or not trainer.step_once(kind):
        flash("warning", "Pause the run first: hand-made steps apply to a paused run.")


def on_edit(name: str) -> None:
    trainer = holder().alive()
    if trainer is None:
        return
    value = st.session_state[keys.edit_box(name)]
    try:
        if value != getattr(trainer.config, name):
            trainer.edit(name, value)
    except ConfigError as exc:
        flash("error", f"Not changed: {exc}")


def stepper_ui(name: str | None) -> None:
    """The region, for the run the server trains now (nothing for a saved run)."""
    trainer = holder().alive()
    if trainer is None or name != trainer.paths.name:
        return
    status = trainer.snapshot().status
    with st.expander("Step by step · live edits", expanded=status == Status.PAUSED):
        step_buttons(status == Status.PAUSED)
        report = trainer.step_report()
        if report is not None:
            report_ui(report)
        if status in (Status.RUNNING, Status.PAUSED):
            edits_ui(trainer)


def step_buttons(paused: bool) -> None:
    cols = st.columns([1, 1, 1, 3])
    for col, kind in zip(cols, STEP_KINDS, strict=False):
        col.button(f"{kind} step", key=keys.step_button(kind), on_click=on_step, args=(kind,), disabled=not paused,
                   width="stretch", help=f"one {kind} update on the next batch, then stay paused")
    cols[3].caption("One update of D, of G, or of both, on the run's next batch: the same step as training. "
                    "A G step uses no real batch, so the step counter (D updates) does not move."
                    if paused else "Pause the run to step it by hand.")


def report_ui(report: StepReport) -> None:
    st.markdown(f"**Last step ({report.kind})** · step {report.step:,} · G updates {report.g_updates:,}")
    st.write(report.explanation)
    m = st.columns(4)
    for col, (label, value) in zip(m, (("D loss", report.d_loss), ("G loss", report.g_loss),
                                       ("D(x)", report.d_real), ("D(G(z))", report.d_fake)), strict=True):
        col.metric(label, "–" if value is None else f"{value:.3f}")
    before, after = st.columns(2)
    before.image(fast_png(make_grid(report.before.grid[:36], ncols=6, scale=2)),
                 caption=f"raw G before · D's mean verdict {report.before.mean_verdict:.3f}")
    after.image(fast_png(make_grid(report.after.grid[:36], ncols=6, scale=2)),
                caption=f"raw G after · D's mean verdict {report.after.mean_verdict:.3f}")
    rows = [{"net": net, "layer": layer, "gradient norm": norm}
            for net, layers in report.grad_norms.items() for layer, norm in layers.items()]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={"gradient norm": st.column_config.NumberColumn(format="%.4g")})


def edits_ui(trainer: AnyTrainer) -> None:
    st.markdown("**Live edits** (from the next step on; recorded with the step)")
    cols = st.columns(len(EDITABLE))
    for col, name in zip(cols, EDITABLE, strict=True):
        spec = field_spec(name)
        key = keys.edit_box(name)
        current = getattr(trainer.config, name)
        if st.session_state.get(keys.edit_shown(name)) != current:  # follow the value in force, unless being edited
            st.session_state[key] = current
            st.session_state[keys.edit_shown(name)] = current
        look = hint(name)
        kwargs = {"format": look.format} if look.format else {}
        col.number_input(spec.label, key=key, step=look.step, on_change=on_edit, args=(name,), **kwargs)
    edits = trainer.edits()
    if edits:
        st.dataframe(pd.DataFrame(list(edits)), hide_index=True, width="stretch")
