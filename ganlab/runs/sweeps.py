"""Runs page: launch a sweep on this machine and follow it; compare runs (or a sweep's runs) side by side.

A sweep launched here is ``python -m gan_core sweep`` in a child process (local Ray, every core): while it
runs, the app does not train (Train is disabled), and while the app trains, no sweep can be launched.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gan_core.presets import DEFAULT_PRESET, PRESETS
from gan_core.runs.compare import curves, format_mean_sd, group_by_recipe, load_records, overlay_rows, run_figures
from gan_core.runs.folder import RunPaths
from gan_core.sweep.launch import launch_sweep, log_tail, sweep_command, wait_for_start
from gan_core.sweep.plan import SweepError, list_sweeps, progress
from ganlab.charts.core import overlay_chart
from ganlab.state import keys
from ganlab.state.resources import checkpoints_root, data_dir, holder
from ganlab.state.runs_list import all_runs
from ganlab.state.sweeps import any_sweep_running, launched
from ganlab.widgets.actions import flash

PROGRESS_SECONDS = 2.0


def on_launch() -> None:
    if holder().alive() is not None:
        flash("error", "The app is training: stop it before launching a sweep on this machine.")
        return
    root, name = checkpoints_root(), st.session_state[keys.SWEEP_NAME].strip()
    sets = [part.strip() for part in st.session_state[keys.SWEEP_SETS].split(";") if part.strip()]
    command = sweep_command(root, data_dir(), name, st.session_state[keys.SWEEP_PRESETS],
                            st.session_state[keys.SWEEP_SEEDS], st.session_state[keys.SWEEP_EPOCHS], sets)
    process = launch_sweep(command, root, name)
    launched()[name] = process
    if wait_for_start(process, root, name):
        st.session_state[keys.COMPARE_SWEEP] = name
    else:
        flash("error", f"The sweep did not start: {log_tail(root, name)}")


def launcher_ui() -> None:
    running = any_sweep_running()
    with st.expander("Launch a sweep", expanded=False):
        st.caption("A grid of runs (presets × --set values × seeds) trained side by side on this machine by Ray, "
                   "one run per core. While it runs the app does not train (Train is disabled); "
                   "see docs/sweeps.md for clusters.")
        a, b, c = st.columns([2, 1, 1])
        a.multiselect("Presets", list(PRESETS), default=[DEFAULT_PRESET], key=keys.SWEEP_PRESETS)
        b.text_input("Seeds", "0,1", key=keys.SWEEP_SEEDS)
        c.number_input("Epochs", min_value=1, max_value=100_000, value=5, key=keys.SWEEP_EPOCHS)
        d, e = st.columns([3, 1])
        d.text_input("Values to sweep (field=v1,v2; several separated by ';')", "", key=keys.SWEEP_SETS,
                     placeholder="loss=non-saturating,hinge; lr_g=0.0002,0.001")
        e.text_input("Sweep name", "sweep-1", key=keys.SWEEP_NAME)
        busy = running is not None or holder().alive() is not None
        st.button("Launch sweep", key=keys.BTN_SWEEP, on_click=on_launch, disabled=busy, type="primary")
    if running is not None:
        st.fragment(sweep_progress, run_every=PROGRESS_SECONDS)(running)


def sweep_progress(name: str) -> None:
    try:
        rows = progress(checkpoints_root(), name)
    except SweepError as exc:
        st.error(str(exc))
        return
    done = sum(row["epochs_done"] for row in rows)
    total = sum(row["epochs"] for row in rows) or 1
    running = any_sweep_running() == name
    st.progress(min(done / total, 1.0), text=f"sweep {name}: {done} of {total} epochs"
                + ("" if running else " · ended"))
    st.dataframe(pd.DataFrame([{"run": r["name"], "epochs": f"{r['epochs_done']} / {r['epochs']}",
                                "last attempt": r["status"] or "–", "error": r["error"] or ""} for r in rows]),
                 hide_index=True, width="stretch")
    if not running:
        st.rerun()  # the page drops this fragment and shows the finished sweep's comparison


def compare_ui() -> None:
    """Pick a sweep or runs; the grouped table, overlaid curves and latest grids."""
    root = checkpoints_root()
    sweeps = list_sweeps(root)
    names = [info.name for info in all_runs() if info.error is None]
    a, b = st.columns([1, 2])
    sweep = a.selectbox("A sweep", ["–", *sweeps], key=keys.COMPARE_SWEEP)
    picked = b.multiselect("or runs", names, key=keys.COMPARE_RUNS)
    if sweep != "–":
        try:
            picked = [row["name"] for row in progress(root, sweep)]
        except SweepError as exc:
            st.error(str(exc))
            return
    records = load_records(root, picked)
    if not records:
        st.caption("Pick a sweep or some runs to compare them side by side.")
        return
    summaries = [run_figures(name, record) for name, record in records.items()]
    table = [{"recipe": row.recipe, "runs": len(row.runs), "seeds": ", ".join(map(str, row.seeds)),
              "readable": format_mean_sd(row.mean["readable"], row.sd["readable"], 3),
              "final FID": format_mean_sd(row.mean["fid"], row.sd["fid"]),
              "IS": format_mean_sd(row.mean["inception_score"], row.sd["inception_score"], 2),
              "precision": format_mean_sd(row.mean["precision"], row.sd["precision"], 3),
              "recall": format_mean_sd(row.mean["recall"], row.sd["recall"], 3),
              "images/s": format_mean_sd(row.mean["images_per_sec"], row.sd["images_per_sec"], 0)}
             for row in group_by_recipe(summaries)]
    st.markdown("**By recipe** (mean ± sd over seeds)")
    st.table(pd.DataFrame(table).set_index("recipe"))  # a few rows: plain HTML, readable and copyable
    by_run = {name: curves(record) for name, record in records.items()}
    charts = (("d_loss", "D loss"), ("d_fake", "mean D(G(z))"), ("fid", "FID"),
              ("d_grad_norm", "‖∇D‖ (epoch mean)"), ("g_grad_norm", "‖∇G‖ (epoch mean)"))
    cols = [*st.columns(3), *st.columns(3)]
    for col, (series, title) in zip(cols, charts, strict=False):
        rows = overlay_rows(by_run, series)
        if rows:
            col.altair_chart(overlay_chart(rows, title, points=series == "fid"), width="stretch")
    grids = [(name, RunPaths.of(root, name)) for name in records]
    grid_cols = st.columns(min(len(grids), 6))
    for i, (name, paths) in enumerate(grids):
        epochs = paths.sample_epochs()
        if epochs:
            grid_cols[i % len(grid_cols)].image(str(paths.sample(epochs[-1])), caption=f"{name} · epoch {epochs[-1]}")
