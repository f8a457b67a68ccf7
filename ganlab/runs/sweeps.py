"""Runs page: launch a sweep on this machine and follow it; compare runs (or a sweep's runs) side by side.

A sweep launched here is ``python -m gan_core sweep`` in a child process (local Ray, every core): while it
runs, the app does not train (Train is disabled), and while the app trains, no sweep can be launched.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from gan_core.presets import DEFAULT_PRESET, PRESETS
from gan_core.runs.compare import curves, format_mean_sd, group_by_recipe, load_records, overlay_rows, run_figures
from gan_core.runs.folder import RunPaths
from gan_core.sweep.driver import sweep_running
from gan_core.sweep.plan import SweepError, list_sweeps, manifest_path, progress
from ganlab.state.resources import checkpoints_root, data_dir, holder
from ganlab.state.runs_list import all_runs
from ganlab.widgets.actions import flash

SWEEP_PRESETS, SWEEP_SEEDS, SWEEP_EPOCHS = "sweep_presets", "sweep_seeds", "sweep_epochs"
SWEEP_SETS, SWEEP_NAME, COMPARE_SWEEP, COMPARE_RUNS = "sweep_sets", "sweep_name", "compare_sweep", "compare_runs"
PROGRESS_SECONDS = 2.0


@st.cache_resource
def launched() -> dict[str, subprocess.Popen]:
    """The sweep drivers this server started, by sweep name (so they are waited for, never orphaned)."""
    return {}


def any_sweep_running() -> str | None:
    """The name of a sweep whose driver runs on this machine now, if any: one this server launched (alive
    from its first second, before Ray has started and the driver has locked the sweep), or any driver
    holding a sweep's lock."""
    for name, process in launched().items():
        if process.poll() is None:
            return name
    root = checkpoints_root()
    return next((name for name in list_sweeps(root) if sweep_running(root, name)), None)


def on_launch() -> None:
    if holder().alive() is not None:
        flash("error", "The app is training: stop it before launching a sweep on this machine.")
        return
    name = st.session_state[SWEEP_NAME].strip()
    command = [sys.executable, "-m", "gan_core", "sweep", "--name", name,
               "--presets", ",".join(st.session_state[SWEEP_PRESETS]), "--seeds", st.session_state[SWEEP_SEEDS],
               "--epochs", str(st.session_state[SWEEP_EPOCHS]), "--checkpoints", str(checkpoints_root()),
               "--data-dir", str(data_dir())]
    for item in filter(None, (part.strip() for part in st.session_state[SWEEP_SETS].split(";"))):
        command += ["--set", item]
    log = manifest_path(checkpoints_root(), name).with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    launched()[name] = process
    threading.Thread(target=process.wait, daemon=True).start()  # reap it when it ends
    if wait_for_start(process, checkpoints_root(), name):
        st.session_state[COMPARE_SWEEP] = name
    else:
        flash("error", f"The sweep did not start: {tail(log)}")


def wait_for_start(process: subprocess.Popen, root: Path, name: str, timeout: float = 30.0) -> bool:
    """True once the driver wrote its manifest (the grid was valid), False when it exited first."""
    path = manifest_path(root, name)
    for _ in range(int(timeout / 0.1)):
        if path.is_file():
            return True
        if process.poll() is not None:
            return path.is_file()
        threading.Event().wait(0.1)
    return path.is_file()


def tail(path: Path, lines: int = 3) -> str:
    try:
        return " ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "no log"


def launcher_ui() -> None:
    running = any_sweep_running()
    with st.expander("Launch a sweep", expanded=False):
        st.caption("A grid of runs (presets × --set values × seeds) trained side by side on this machine by Ray, "
                   "one run per core. While it runs the app does not train (Train is disabled); "
                   "see docs/sweeps.md for clusters.")
        a, b, c = st.columns([2, 1, 1])
        a.multiselect("Presets", list(PRESETS), default=[DEFAULT_PRESET], key=SWEEP_PRESETS)
        b.text_input("Seeds", "0,1", key=SWEEP_SEEDS)
        c.number_input("Epochs", min_value=1, max_value=100_000, value=5, key=SWEEP_EPOCHS)
        d, e = st.columns([3, 1])
        d.text_input("Values to sweep (field=v1,v2; several separated by ';')", "", key=SWEEP_SETS,
                     placeholder="loss=non-saturating,hinge; lr_g=0.0002,0.001")
        e.text_input("Sweep name", "sweep-1", key=SWEEP_NAME)
        busy = running is not None or holder().alive() is not None
        st.button("Launch sweep", key="btn_sweep", on_click=on_launch, disabled=busy, type="primary")
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
    sweep = a.selectbox("A sweep", ["–", *sweeps], key=COMPARE_SWEEP)
    picked = b.multiselect("or runs", names, key=COMPARE_RUNS)
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
            chart = alt.Chart(pd.DataFrame(rows)).mark_line(point=series == "fid").encode(
                x=alt.X("epoch:Q"), y=alt.Y("value:Q", title=title), color=alt.Color("run:N", legend=None),
                tooltip=["run:N", "epoch:Q", alt.Tooltip("value:Q", format=".3f")])
            col.altair_chart(chart.properties(height=200, title=title), width="stretch")
    grids = [(name, RunPaths.of(root, name)) for name in records]
    grid_cols = st.columns(min(len(grids), 6))
    for i, (name, paths) in enumerate(grids):
        epochs = paths.sample_epochs()
        if epochs:
            grid_cols[i % len(grid_cols)].image(str(paths.sample(epochs[-1])), caption=f"{name} · epoch {epochs[-1]}")
