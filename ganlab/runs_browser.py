"""The run browser: every run under the checkpoints root, damaged ones included, to explore or continue."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ganlab import keys
from ganlab.actions import on_open
from ganlab.resources import checkpoints_root, holder
from ganlab.runs_list import all_runs


def run_browser_ui(name: str | None) -> None:
    try:
        runs = all_runs()
    except OSError as exc:  # a broken folder must not take the page down
        st.error(f"Cannot list {checkpoints_root()}: {type(exc).__name__}: {exc}")
        return
    if not runs:
        st.caption(f"No runs under `{checkpoints_root()}` yet.")
        return
    rows = [{
        "run": info.name,
        "epochs": f"{info.epochs_done} / {info.epochs_total}" if info.error is None else "–",
        "D loss": info.d_loss, "G loss": info.g_loss,
        "dataset": info.dataset or "–",
        "saved": info.modified.strftime("%Y-%m-%d %H:%M") if info.modified else "–",
        "state": "ok" if info.error is None else "damaged",
    } for info in runs]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"D loss": st.column_config.NumberColumn(format="%.3f"),
                                "G loss": st.column_config.NumberColumn(format="%.3f")})
    for info in runs:
        if info.error is not None:
            st.warning(f"Run **{info.name}** is damaged and cannot be opened: {info.error}")
    names = [info.name for info in runs if info.error is None]
    if not names:
        return
    cols = st.columns([3, 1, 1])
    index = names.index(name) if name in names else 0
    picked = cols[0].selectbox("Pick a run", names, index=index, key=keys.BROWSER_PICK)
    cols[1].button("Open", key="btn_open", on_click=on_open, args=(picked,), width="stretch",
                   help="select it: the Train and Explore pages show this run; the sidebar shows its settings")
    cols[2].button("Continue it", key="btn_open_resume", on_click=on_open, args=(picked, True), width="stretch",
                   disabled=holder().alive() is not None)
