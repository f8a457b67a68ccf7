"""The run browser: every run under the checkpoints root, damaged ones included, to explore or continue."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gan_core.runs.demo import MANIFEST, WEIGHTS, DemoError
from gan_core.runs.folder import RunError, delete_run
from ganlab.runs.downloads import downloads_ui
from ganlab.state import keys
from ganlab.state.resources import checkpoints_root, demo_dir, holder
from ganlab.state.runs_list import all_runs
from ganlab.state.source import DEMO_RUN, demo_exists, demo_problem, demo_run, is_demo_name
from ganlab.widgets.actions import flash, on_open


def run_browser_ui(name: str | None) -> None:
    delete_ui()
    try:
        runs = all_runs()
    except OSError as exc:  # a broken folder must not take the page down
        st.error(f"Cannot list {checkpoints_root()}: {type(exc).__name__}: {exc}")
        return
    demo = demo_row()
    if not runs and demo is None:
        st.caption(f"No runs under `{checkpoints_root()}` yet.")
        return
    rows = [] if demo is None else [demo]
    rows += [{
        "run": info.name,
        "epochs": f"{info.epochs_done} / {info.epochs_total}" if info.error is None else "–",
        "D loss": info.d_loss, "G loss": info.g_loss,
        "dataset": info.dataset or "–",
        "FID": info.fid,
        "saved": info.modified.strftime("%Y-%m-%d %H:%M") if info.modified else "–",
        "disk": f"{info.disk_bytes / 2**20:,.1f} MiB",
        "state": "ok" if info.error is None else "damaged",
    } for info in runs]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"D loss": st.column_config.NumberColumn(format="%.3f"),
                                "G loss": st.column_config.NumberColumn(format="%.3f"),
                                "FID": st.column_config.NumberColumn(format="%.1f")})
    st.caption(f"{len(runs)} runs, {sum(info.disk_bytes for info in runs) / 2**20:,.1f} MiB on disk"
               + (" (the demo run not counted)." if demo is not None else "."))
    problem = demo_problem()
    if problem is not None:
        st.warning(f"The shipped demo run is refused and cannot be opened: {problem}")
    for info in runs:
        if info.error is not None:
            st.warning(f"Run **{info.name}** is damaged and cannot be opened: {info.error}")
    # The demo first; a damaged run can be picked to delete it.
    names = ([DEMO_RUN] if demo is not None and problem is None else []) + [info.name for info in runs]
    if not names:
        return
    cols = st.columns([3, 1, 1, 1])
    index = names.index(name) if name in names else 0
    picked = cols[0].selectbox("Pick a run", names, index=index, key=keys.BROWSER_PICK)
    cols[1].button("Open", key=keys.BTN_OPEN, on_click=on_open, args=(picked,), width="stretch",
                   help="select it: the Train and Explore pages show this run; the sidebar shows its settings")
    cols[2].button("Continue it", key=keys.BTN_OPEN_RESUME, on_click=on_open, args=(picked, True), width="stretch",
                   disabled=holder().alive() is not None)
    cols[3].button("Delete…", key=keys.BTN_DELETE, on_click=ask_delete, args=(picked,), width="stretch",
                   help="remove the run's folder (asks first)")
    if picked not in {info.name for info in runs if info.error is not None}:
        downloads_ui(picked)


def demo_row() -> dict[str, object] | None:
    """The demo run's row of the table (first, marked read-only or refused); None when none is shipped."""
    if not demo_exists():
        return None
    try:
        run = demo_run()
    except DemoError:
        return {"run": DEMO_RUN, "epochs": "–", "D loss": None, "G loss": None, "dataset": "–", "FID": None,
                "saved": "–", "disk": "–", "state": "refused"}
    if run is None:
        return None
    snap, fid = run.snapshot(), run.last_fid()
    size = sum(path.stat().st_size for path in (demo_dir() / MANIFEST, demo_dir() / WEIGHTS))
    return {"run": DEMO_RUN, "epochs": f"{snap.epoch} / {snap.epochs_total}", "D loss": snap.d_loss,
            "G loss": snap.g_loss, "dataset": run.config.dataset, "FID": None if fid is None else fid["value"],
            "saved": "shipped",
            "disk": f"{size / 2**20:,.1f} MiB", "state": "read-only"}


def ask_delete(name: str) -> None:
    if is_demo_name(name):
        flash("error", "The demo run is read-only: it ships with the app and cannot be deleted here.")
        return
    st.session_state[keys.DELETE_ASK] = name


def on_delete(name: str) -> None:
    st.session_state.pop(keys.DELETE_ASK, None)
    try:
        delete_run(checkpoints_root(), name)
    except RunError as exc:
        flash("error", str(exc))
    else:
        flash("success", f"Run **{name}** was deleted.")


def delete_ui() -> None:
    """The confirmation a delete needs, and what came of it."""
    asked = st.session_state.get(keys.DELETE_ASK)
    if asked is not None:
        st.warning(f"Delete run **{asked}** and everything in its folder (checkpoint, grids, CSVs, saved latents)? "
                   "This cannot be undone.")
        a, b = st.columns(2)
        a.button(f"Delete '{asked}' for good", key=keys.BTN_DELETE_CONFIRM, type="primary", on_click=on_delete,
                 args=(asked,))
        b.button("Cancel", key=keys.BTN_DELETE_CANCEL, on_click=lambda: st.session_state.pop(keys.DELETE_ASK, None))
    if keys.FLASH in st.session_state:
        kind, text = st.session_state.pop(keys.FLASH)
        getattr(st, kind)(text)
