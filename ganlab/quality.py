"""Generation quality: FID against its real-vs-real floor, IS, classes present, the class histogram, and
the collapse / D-wins warnings (computed by the library, the same for live and saved runs)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from gan_core import GANConfig
from gan_core.metrics import CLASS_NAMES, COLLAPSE_MAX_SHARE
from gan_core.reader import RunReader
from gan_core.view import Status
from ganlab.charts import fid_spec, fid_table, histogram_spec, histogram_table
from ganlab.resources import fmt_number


def no_quality_note(config: GANConfig) -> str:
    if config.eval_every == 0:
        return "Quality metrics are off (eval_every = 0)."
    when = f"every {config.eval_every} epochs" if config.eval_every > 1 else "each epoch"
    return f"Quality metrics (FID, IS, class histogram) appear after {when}."


def quality_metrics(row: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """Latest FID (its floor in the label), IS and classes present; deltas against the previous evaluation."""
    fid, floor = row.get("fid"), row.get("fid_floor")
    fid_delta = None
    if previous is not None and fid is not None and previous.get("fid") is not None:
        fid_delta = f"{fid - previous['fid']:+.2f}"
    hist = row.get("histogram") or []
    m = st.columns(4)
    m[0].metric(f"FID (floor {fmt_number(floor)} at n={row.get('fid_n')})", fmt_number(fid), delta=fid_delta,
                delta_color="inverse",
                help="Fréchet distance of judge features, generated vs held-out real; the floor is the same "
                     "distance for real images at the same sample size: the best a generator can score")
    m[1].metric("Inception score", fmt_number(row.get("inception_score")),
                help=f"from 1 (all samples alike) to {len(hist) or 10} (confident and spread over every class)")
    m[2].metric("Classes present", f"{row.get('classes_present', '–')} / {len(hist) or '–'}",
                help="classes holding at least 1% of the samples")
    m[3].metric("Largest class", fmt_number(row.get("max_class_share"), ".0%"),
                help=f"collapse warning above {COLLAPSE_MAX_SHARE:.0%}")


def quality_ui(reader: RunReader) -> None:
    """Draw the quality block of ``reader``'s run (the live judge's status line while it trains)."""
    rows, config, judge = reader.metrics(), reader.config, reader.snapshot().judge
    st.markdown("**Quality**")
    for text in reader.warnings():
        st.warning(text, icon="⚠️")
    snap = reader.snapshot()
    if judge:
        st.caption(f"Quality judge: {judge}")
    if snap.judge_progress is not None and snap.judge_progress < 1:
        st.caption(f"Preparing the quality judge: {snap.judge_progress:.0%} (training goes on meanwhile).")
    if snap.next_eval_epoch is not None and snap.status == Status.RUNNING:
        st.caption(f"Next evaluation after epoch {snap.next_eval_epoch}.")
    if not rows:
        st.caption(no_quality_note(config))
        return
    row = rows[-1]
    quality_metrics(row, rows[-2] if len(rows) > 1 else None)
    left, right = st.columns([3, 2])
    left.vega_lite_chart(fid_table(rows), fid_spec(), width="stretch")
    names = CLASS_NAMES.get(config.dataset, CLASS_NAMES["mnist"])
    right.vega_lite_chart(histogram_table(row.get("histogram") or [], names), histogram_spec(COLLAPSE_MAX_SHARE),
                          width="stretch")
