"""Charts of the trust views: D's real-vs-generated histogram, precision and recall per evaluation beside
their real-vs-real reference, and nearest-training-digit distances. Specs built once (see ``charts``);
colours from Okabe & Ito's colour-blind-safe palette, real in blue and generated in orange throughout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ganlab.charts.core import QUALITY_HEIGHT, frozen_spec

REAL, GENERATED = "real", "generated"
BLUE, ORANGE, GREEN, PURPLE = "#0072B2", "#E69F00", "#009E73", "#CC79A7"


def _two(labels: tuple[str, str], colours: tuple[str, str]) -> alt.Color:
    return alt.Color("series:N", scale=alt.Scale(domain=list(labels), range=list(colours)),
                     legend=alt.Legend(orient="top", title=None))


@frozen_spec
def verdict_spec(axis: str, reference: float) -> dict[str, Any]:
    """Overlaid histograms (count per bin) of D's output on real and generated digits; a dashed rule where
    D is undecided."""
    bars = alt.Chart().mark_bar(opacity=0.55, binSpacing=0).encode(
        x=alt.X("start:Q", title=axis, bin="binned"), x2="end:Q",
        y=alt.Y("count:Q", stack=None, title="images"), color=_two((REAL, GENERATED), (BLUE, ORANGE)),
        tooltip=["series:N", alt.Tooltip("start:Q", format=".2f"), alt.Tooltip("end:Q", format=".2f"), "count:Q"])
    rule = alt.Chart(alt.Data(values=[{"x": reference}])).mark_rule(strokeDash=[6, 4], color="#555").encode(x="x:Q")
    return (bars + rule).properties(height=QUALITY_HEIGHT, title="D's output: real vs generated").to_dict()


def verdict_table(histogram: Mapping[str, Any]) -> pd.DataFrame:
    edges = np.asarray(histogram["edges"], np.float64)
    records = [{"series": label, "start": edges[i], "end": edges[i + 1], "count": int(count)}
               for label, column in ((REAL, "real"), (GENERATED, "fake"))
               for i, count in enumerate(histogram[column])]
    return pd.DataFrame(records, columns=["series", "start", "end", "count"])


PR_SERIES = ("precision", "recall", "precision (real)", "recall (real)")


@frozen_spec
def pr_spec() -> dict[str, Any]:
    """Precision and recall per evaluated epoch (solid) and the same for real against real digits at the
    same sample sizes (dashed): what a perfect generator would score at these sizes."""
    colour = alt.Color("series:N", scale=alt.Scale(domain=list(PR_SERIES), range=[BLUE, ORANGE, BLUE, ORANGE]),
                       legend=alt.Legend(orient="top", title=None, columns=4))
    dash = alt.StrokeDash("reference:N", scale=alt.Scale(domain=["generated", "real vs real"],
                                                         range=[[1, 0], [5, 4]]), legend=None)
    base = alt.Chart().encode(
        x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("value:Q", title="share", scale=alt.Scale(domain=[0, 1])),
        color=colour, strokeDash=dash, tooltip=["epoch:Q", "series:N", alt.Tooltip("value:Q", format=".3f")])
    return (base.mark_line(strokeWidth=2) + base.mark_point(filled=True)).properties(
        height=QUALITY_HEIGHT, title="precision (fidelity) and recall (coverage)").to_dict()


def pr_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """(epoch, series, reference, value) for the evaluations that carry precision and recall."""
    columns = (("precision", PR_SERIES[0], "generated"), ("recall", PR_SERIES[1], "generated"),
               ("precision_real", PR_SERIES[2], "real vs real"), ("recall_real", PR_SERIES[3], "real vs real"))
    records = [{"epoch": row["epoch"], "series": label, "reference": ref, "value": float(row[column])}
               for row in rows for column, label, ref in columns if row.get(column) is not None]
    return pd.DataFrame(records, columns=["epoch", "series", "reference", "value"])


DISTANCE_BINS = 25


@frozen_spec
def distance_spec(space: str) -> dict[str, Any]:
    """Distances to the nearest training digit, generated digits against held-out real ones: the share of
    each set per bin (the sets differ in size), and each set's median as a dashed rule."""
    colour = _two(("held-out real", GENERATED), (BLUE, ORANGE))
    bars = alt.Chart().mark_bar(opacity=0.55, binSpacing=0).transform_filter("isValid(datum.share)").encode(
        x=alt.X("start:Q", bin="binned", title=f"distance to the nearest training digit ({space})"), x2="end:Q",
        y=alt.Y("share:Q", stack=None, title="share of the set", axis=alt.Axis(format="%")), color=colour,
        tooltip=["series:N", alt.Tooltip("start:Q", format=".2f"), alt.Tooltip("share:Q", format=".1%")])
    medians = alt.Chart().mark_rule(strokeDash=[6, 4], strokeWidth=2).transform_filter(
        "isValid(datum.median)").encode(x="median:Q", color=colour,
                                        tooltip=["series:N", alt.Tooltip("median:Q", format=".2f")])
    return (bars + medians).properties(height=QUALITY_HEIGHT).to_dict()


def distance_table(memorisation: Mapping[str, Any]) -> pd.DataFrame:
    """(series, start, end, share) per bin over both sets' range, then one (series, median) row per set."""
    sets = {"held-out real": np.asarray(memorisation["held_out"], np.float64),
            GENERATED: np.asarray(memorisation["generated"], np.float64)}
    both = np.concatenate(list(sets.values()))
    edges = np.linspace(both.min(), both.max() + 1e-9, DISTANCE_BINS + 1) if len(both) else np.linspace(0, 1, 2)
    records: list[dict[str, object]] = []
    for label, values in sets.items():
        counts = np.histogram(values, edges)[0] / max(len(values), 1)
        records += [{"series": label, "start": edges[i], "end": edges[i + 1], "share": float(c)}
                    for i, c in enumerate(counts)]
        records.append({"series": label, "median": float(np.median(values)) if len(values) else None})
    return pd.DataFrame(records, columns=["series", "start", "end", "share", "median"])
