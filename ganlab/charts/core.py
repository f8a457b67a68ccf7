"""The app's charts: Vega-Lite specs built with Altair once per process, and the tables they plot.

A chart that refreshes every second must not be rebuilt every second. Building the two curve charts
with Altair and letting ``st.altair_chart`` validate and convert them cost about 150 ms of Python per
refresh, holding the GIL that the training thread needs between its kernels. So each spec here is
built and validated once, carries no data, and the app passes each refresh's table beside it
(``st.vega_lite_chart(table, spec)``). The spec then stays byte-identical between refreshes, and the
browser only swaps the data of a chart it already has instead of compiling a new one.

The UI draws these; the library never imports them.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from gan_core.quality.metrics import class_shares
from ganlab.charts.series import chart_table

# Column -> legend label, and label -> colour, of the two curve charts.
LOSS_SERIES = {"d_loss": "D loss", "g_loss": "G loss"}
PROB_SERIES = {"d_real": "D(x)", "d_fake": "D(G(z))"}
GRAD_SERIES = {"d_grad_norm": "‖∇D‖", "g_grad_norm": "‖∇G‖"}
COLORS = {"D loss": "#3b6ea8", "G loss": "#f58518", "D(x)": "#2e9e5b", "D(G(z))": "#e45756",
          "‖∇D‖": "#3b6ea8", "‖∇G‖": "#f58518",
          "generated": "#3b6ea8", "real-vs-real floor": "#888"}
EDIT_COLOR = "#9467bd"  # vertical rules where hyperparameters were edited live
CURVE_HEIGHT = 240  # px
QUALITY_HEIGHT = 220  # px


def _legend_color(labels: Sequence[str]) -> alt.Color:
    scale = alt.Scale(domain=list(labels), range=[COLORS[label] for label in labels])
    return alt.Color("series:N", scale=scale, legend=alt.Legend(orient="top", title=None))


def _dataless(spec: dict[str, Any]) -> dict[str, Any]:
    """Drop Altair's placeholder dataset ("empty", one blank row) that it gives layers without data: they
    must inherit the table the app passes with each refresh instead."""
    placeholder = {"name": "empty"}
    spec.get("datasets", {}).pop("empty", None)
    if not spec.get("datasets"):
        spec.pop("datasets", None)
    for part in (spec, *spec.get("layer", [])):  # a single chart carries it at the top
        if part.get("data") == placeholder:
            del part["data"]
    return spec


def frozen_spec(build: Any) -> Any:
    """Cache a spec builder and hand each caller its own copy (Streamlit adds keys to the dict it gets)."""
    cached = functools.lru_cache(maxsize=None)(lambda *args: _dataless(build(*args)))

    @functools.wraps(build)
    def fresh(*args: Any) -> dict[str, Any]:
        return copy.deepcopy(cached(*args))

    return fresh


@frozen_spec
def curve_spec(labels: tuple[str, ...], title: str, reference: float | None = None,
               reference_text: str = "") -> dict[str, Any]:
    """Raw (faint) and smoothed lines per series over ``step``; a vertical rule at each live edit (rows of
    the table with an ``edit`` label); optionally a dashed horizontal rule at ``reference`` (D's
    equilibrium or decision boundary under the run's loss, ``losses.loss_view``)."""
    base = alt.Chart().encode(x=alt.X("step:Q", title="step"), color=_legend_color(labels))
    raw = base.mark_line(opacity=0.3, strokeWidth=1).encode(y=alt.Y("raw:Q", title=title))
    tooltip = ["step:Q", "series:N", alt.Tooltip("smoothed:Q", format=".3f")]
    chart: alt.LayerChart = raw + base.mark_line(strokeWidth=2.2).encode(y="smoothed:Q", tooltip=tooltip)
    edits = alt.Chart().transform_filter("isValid(datum.edit)")
    chart = chart + edits.mark_rule(color=EDIT_COLOR, strokeWidth=1.5).encode(x="step:Q", tooltip=["step:Q", "edit:N"])
    chart = chart + edits.mark_text(align="left", dx=3, baseline="top", color=EDIT_COLOR, fontSize=10).encode(
        x="step:Q", y=alt.value(2), text="edit:N")
    if reference is not None:
        # Its own one-row data: a layer without data would draw one rule per row of the curves.
        rule_data = alt.Data(values=[{"y": reference, "text": reference_text}])
        rule = alt.Chart(rule_data).mark_rule(strokeDash=[6, 4], color="#888").encode(y="y:Q")
        label = alt.Chart(rule_data).mark_text(align="left", dx=4, dy=-7, color="#888").encode(
            y="y:Q", x=alt.value(0), text="text:N")
        chart = chart + rule + label
    return chart.properties(height=CURVE_HEIGHT).to_dict()


def curve_table(history: np.ndarray, series: Mapping[str, str],
                edits: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """Long table (step, series, raw, smoothed, edit) of the chosen history columns, downsampled for the
    browser, plus one row per live edit (no series, its label in ``edit``) for the edit rules. Steps where
    a series was not recorded (NaN: gradient norms of a run saved before they were) are left out."""
    table = chart_table(history, columns=tuple(series))
    n = len(table["step"])
    curves = pd.DataFrame({
        "step": np.tile(table["step"], len(series)),
        # Categorical: one small dictionary instead of a string per row for Arrow to encode each refresh.
        "series": pd.Categorical.from_codes(np.repeat(np.arange(len(series)), n), list(series.values())),
        "raw": np.concatenate([table[column] for column in series]),
        "smoothed": np.concatenate([table[f"{column}_smooth"] for column in series]),
        "edit": None,
    })
    if curves["raw"].isna().any():
        curves = curves[curves["raw"].notna()].reset_index(drop=True)
    if not edits:
        return curves
    marks = pd.DataFrame({"step": [int(e["step"]) for e in edits],
                          "series": pd.Categorical([None] * len(edits), categories=list(series.values())),
                          "raw": np.nan, "smoothed": np.nan,
                          "edit": [f"{e['field']} {e['old']:g} → {e['new']:g}" for e in edits]})
    return pd.concat([curves, marks], ignore_index=True)


@frozen_spec
def fid_spec() -> dict[str, Any]:
    """FID per evaluated epoch next to the real-vs-real floor: the gap between the lines, not the FID
    alone, says how far G is from the data (the floor is what real images score at the same n)."""
    base = alt.Chart().encode(
        x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("FID:Q", title="FID (judge features)"),
        color=_legend_color(("generated", "real-vs-real floor")),
        tooltip=["epoch:Q", "series:N", alt.Tooltip("FID:Q", format=".2f")])
    return (base.mark_line(strokeWidth=2) + base.mark_point(filled=True)).properties(
        height=QUALITY_HEIGHT).to_dict()


def fid_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """(epoch, series, FID) for the epochs that have a value (too few samples give none)."""
    records = [{"epoch": row["epoch"], "series": label, "FID": row.get(column)}
               for row in rows for column, label in (("fid", "generated"), ("fid_floor", "real-vs-real floor"))
               if row.get(column) is not None]
    return pd.DataFrame(records, columns=["epoch", "series", "FID"])


@frozen_spec
def histogram_spec(limit: float) -> dict[str, Any]:
    """Share of samples per judged class (classes in table order); the dashed rule is ``limit``."""
    bars = alt.Chart().mark_bar(color="#3b6ea8").encode(
        x=alt.X("class:N", sort=None, title="judged class"),
        y=alt.Y("share:Q", title="share of samples", axis=alt.Axis(format="%")),
        tooltip=["class:N", alt.Tooltip("share:Q", format=".1%")])
    rule = alt.Chart(alt.Data(values=[{"share": limit}])).mark_rule(strokeDash=[6, 4], color="#e45756").encode(
        y="share:Q")
    return (bars + rule).properties(height=QUALITY_HEIGHT, title="class histogram of the generated samples").to_dict()


def histogram_table(histogram: Sequence[float], names: Sequence[str]) -> pd.DataFrame:
    """One row per class of the data (``metrics.class_shares``): its name and share."""
    return pd.DataFrame(class_shares(histogram, names), columns=["class", "share"])


def overlay_chart(rows: Sequence[Mapping[str, Any]], title: str, points: bool = False) -> alt.Chart:
    """One series of several runs overlaid (``compare.overlay_rows``: run, epoch, value), a line per run;
    drawn once per page, so it is built with Altair directly."""
    chart = alt.Chart(pd.DataFrame(rows)).mark_line(point=points).encode(
        x=alt.X("epoch:Q"), y=alt.Y("value:Q", title=title), color=alt.Color("run:N", legend=None),
        tooltip=["run:N", "epoch:Q", alt.Tooltip("value:Q", format=".3f")])
    return chart.properties(height=200, title=title)
