"""Generation quality: FID against its real-vs-real floor, IS, classes present, the class histogram, and
the collapse / D-wins warnings (computed by the library, the same for live and saved runs). Data without
labels (a folder of pictures, ``gan_core.quality.unlabeled``) shows what still holds in the same slots: FID,
precision and recall, the nearest real image of the most realistic samples, and says what is not available."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import streamlit as st

from gan_core import GANConfig
from gan_core.images import make_grid
from gan_core.quality.judge import eval_noise
from gan_core.quality.metrics import COLLAPSE_MAX_SHARE, quality_warnings
from gan_core.quality.unlabeled import NOT_AVAILABLE
from gan_core.runs.reader import RunReader
from gan_core.runs.snapshot import Status
from ganlab.charts.core import fid_spec, fid_table, histogram_spec, histogram_table
from ganlab.charts.trust import pr_spec, pr_table
from ganlab.state.labels import eval_labels
from ganlab.state.models import class_label, class_names, held_out
from ganlab.state.refresh import slots
from ganlab.state.resources import fast_png, fmt_number, one_thread


def no_quality_note(config: GANConfig) -> str:
    if config.eval_every == 0:
        return "Quality metrics are off (eval_every = 0)."
    when = f"every {config.eval_every} epochs" if config.eval_every > 1 else "each epoch"
    return f"Quality metrics (FID, IS, class histogram) appear after {when}."


def change(row: dict[str, Any], previous: dict[str, Any] | None, key: str, form: str,
           scale: float = 1.0) -> str | None:
    """The metric's change since the previous evaluation, formatted (None when either lacks it)."""
    if previous is None or row.get(key) is None or previous.get(key) is None:
        return None
    return form.format((row[key] - previous[key]) * scale)


def quality_metrics(row: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """Latest readable share (real digits' in the label), FID (its floor in the label), IS, classes present and
    the largest class; deltas against the previous evaluation. Always five columns, so the block keeps its
    layout from the first evaluation on."""
    fid, floor = row.get("fid"), row.get("fid_floor")
    fid_delta = change(row, previous, "fid", "{:+.2f}")
    hist = row.get("histogram") or []
    m = st.columns(5)
    readable, real = row.get("readable"), row.get("readable_real")
    readable_delta = change(row, previous, "readable", "{:+.1f} pts", scale=100)
    m[0].metric(f"Readable (real {fmt_number(real, '.0%')})", fmt_number(readable, ".0%"), delta=readable_delta,
                help="share of samples that two independent classifiers (the judge and the referee) both read "
                     "as the same digit with p >= 0.9; in brackets the same share of held-out real digits, "
                     "the best a generator can score")
    m[1].metric(f"FID (floor {fmt_number(floor)} at n={row.get('fid_n')})", fmt_number(fid), delta=fid_delta,
                delta_color="inverse",
                help="Fréchet distance of judge features, generated vs held-out real; the floor is the same "
                     "distance for real images at the same sample size: the best a generator can score")
    m[2].metric("Inception score", fmt_number(row.get("inception_score")),
                help=f"from 1 (all samples alike) to {len(hist) or 10} (confident and spread over every class)")
    m[3].metric("Classes present", f"{row.get('classes_present', '–')} / {row.get('classes') or len(hist) or '–'}",
                help="classes holding at least 1% of the samples")
    m[4].metric("Largest class", fmt_number(row.get("max_class_share"), ".0%"),
                help=f"collapse warning above {COLLAPSE_MAX_SHARE:.0%}")


def asked_text(row: dict[str, Any], names: tuple[str, ...]) -> str:
    """A conditional run's asked-for shares: of the samples G was asked to draw as each class, the share the
    judge reads as that class (chance: one in ten); "–" for a class not asked for."""
    per_class = " · ".join(f"{class_label(names, c)}: {fmt_number(share, '.0%')}"
                           for c, share in enumerate(row.get("asked_per_class") or []))
    return (f"**Asked-for class: {fmt_number(row['asked'], '.0%')}** of the samples are read by the judge as the "
            f"class G was asked for (chance 10%). Per asked-for class: {per_class}")


def unlabeled_metrics(row: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """The figures of data without labels, in the same five columns as ``quality_metrics``: FID, precision
    and recall beside their real-vs-real references; the class figures said to be unavailable, and why."""
    fid, floor = row.get("fid"), row.get("fid_floor")
    m = st.columns(5)
    m[0].metric(f"FID (floor {fmt_number(floor)} at n={row.get('fid_n')})", fmt_number(fid),
                delta=change(row, previous, "fid", "{:+.2f}"),
                delta_color="inverse", help=f"Fréchet distance in {row.get('features', 'pixel features')}, "
                                            "generated vs held-out real; the floor is real against real")
    m[1].metric(f"Precision (real {fmt_number(row.get('precision_real'))})", fmt_number(row.get("precision")),
                help="share of samples inside the real images' neighbourhoods, in the same features")
    m[2].metric(f"Recall (real {fmt_number(row.get('recall_real'))})", fmt_number(row.get("recall")),
                help="share of real images inside the samples' neighbourhoods: the variety G draws")
    m[3].metric("Inception score", "not available", help=NOT_AVAILABLE)
    m[4].metric("Classes present", "not available", help=NOT_AVAILABLE)
    st.caption(f"**This dataset has no labels** (or more classes than the judge has): the {NOT_AVAILABLE}, so "
               f"they are not available. FID and precision/recall are measured in {row.get('features')}; the "
               "nearest real images and D's verdicts below need no labels.")


def nearest_real_ui(reader: RunReader, row: dict[str, Any]) -> None:
    """The nearest held-out real image of each of the most realistic samples (drawn beside them on the
    right): what the samples resemble, in the features the figures use."""
    if not row.get("nearest_real"):
        return
    images = held_out(reader.config.dataset).images[row["nearest_real"]]
    st.image(fast_png(make_grid(images, ncols=len(images), scale=2)), output_format="PNG",
             caption="the nearest held-out real image of each of the most realistic samples (right, top row)")


def quality_notes(reader: RunReader, rows: Sequence[dict[str, Any]]) -> str:
    """The judge, the evaluation shown (its epoch: the schedule may leave one standing for many epochs) and
    when the next comes, one line each."""
    config, snap = reader.config, reader.snapshot()
    lines = [f"Quality judge: {snap.judge}"] if snap.judge else []
    if snap.judge_progress is not None and snap.judge_progress < 1:
        lines.append(f"Preparing the quality judge: {snap.judge_progress:.0%} (training goes on meanwhile).")
    if rows:
        row = rows[-1]
        since = snap.epoch - int(row["epoch"])
        ago = f", {since} epoch{'s' if since > 1 else ''} ago" if since > 0 else ""
        lines.append(f"**Measured at epoch {row['epoch']}** (step {int(row.get('step', 0)):,}{ago}).")
    if snap.next_eval_epoch is not None and snap.status == Status.RUNNING:
        lines.append(f"Next evaluation after epoch {snap.next_eval_epoch}.")
    if not rows:
        lines.append(no_quality_note(config))
    return "  \n".join(lines)


def dated_warnings(reader: RunReader, row: dict[str, Any] | None) -> list[str]:
    """The run's warnings, those of the latest evaluation naming its epoch (a collapse seen at epoch 1 is
    no verdict on epoch 20)."""
    measured = set(quality_warnings(row)) if row is not None else set()
    return [f"{text} (evaluation of epoch {row['epoch']})" if text in measured else text
            for text in reader.warnings()]


def quality_ui(reader: RunReader) -> None:
    """Draw the quality block of ``reader``'s run (the live judge's status line while it trains): the same
    heading and slots before the first evaluation and after it, so a refresh replaces it in place."""
    rows, config = reader.metrics(), reader.config
    st.markdown("#### Quality")
    warned, notes, numbers, asked, trends, classes = slots(6)
    row = rows[-1] if rows else None
    warnings = dated_warnings(reader, row)
    if warnings:
        warned.warning("\n\n".join(warnings), icon="⚠️")
    notes.caption(quality_notes(reader, rows))
    if row is None:
        return
    with numbers.container():
        if row.get("unlabeled"):
            unlabeled_metrics(row, rows[-2] if len(rows) > 1 else None)
        else:
            quality_metrics(row, rows[-2] if len(rows) > 1 else None)
    if row.get("asked") is not None:
        asked.markdown(asked_text(row, class_names(config.dataset)))
    left, right = trends.container().columns(2)
    left.vega_lite_chart(fid_table(rows), fid_spec(), width="stretch")
    with right:
        precision_recall_ui(rows)
    left, right = classes.container().columns([2, 3])
    if row.get("unlabeled"):
        with left:
            nearest_real_ui(reader, row)
        with right:
            realism_ui(reader, row)
        return
    left.vega_lite_chart(histogram_table(row.get("histogram") or [], class_names(config.dataset)),
                         histogram_spec(COLLAPSE_MAX_SHARE), width="stretch")
    with right:
        realism_ui(reader, row)


def precision_recall_ui(rows: Sequence[dict[str, Any]]) -> None:
    """Precision and recall per evaluation beside the real-vs-real reference at the same sizes."""
    chart, note = slots(2)
    table = pr_table(rows)
    if table.empty:
        note.caption("Precision and recall appear with the evaluations that measure them.")
        return
    chart.vega_lite_chart(table, pr_spec(), width="stretch")
    last = next(row for row in reversed(rows) if row.get("precision") is not None)
    note.caption(f"Epoch {last['epoch']}: precision {last['precision']:.2f} (real vs real "
                 f"{fmt_number(last.get('precision_real'))}): the share of generated digits that look real; recall "
                 f"{last['recall']:.2f} (real vs real {fmt_number(last.get('recall_real'))}): the share of real "
                 f"variety G draws. k = {last.get('pr_k', 3)}, n = {last.get('pr_n', '–')} (Kynkäänniemi et al. "
                 f"2019); dashed: real against real digits at the same n, the best a generator can score.")


@st.cache_resource(max_entries=4, show_spinner=False)
def _extremes(run: str, version: int, epoch: int, _reader: RunReader, _row: dict[str, Any]) -> np.ndarray | None:
    """The 10 most then the 10 least realistic samples of an evaluation, drawn again from the same noise."""
    del run, version, epoch  # cache key
    picks = list(_row["realism_best"]) + list(_row["realism_worst"])
    noise = eval_noise(int(_row["samples"]), _reader.config.z_dim)[picks]
    asked = eval_labels(_reader.config, int(_row["samples"]))  # a conditional run's: as evaluated
    with one_thread():  # the evaluations judge the EMA generator
        return _reader.sample(noise, "ema", None if asked is None else asked[picks])


def realism_ui(reader: RunReader, row: dict[str, Any]) -> None:
    """The most and least realistic samples of the latest evaluation (the paper's realism score)."""
    most, least, note = slots(3)
    if not row.get("realism_best") or not row.get("samples"):
        return
    snap = reader.snapshot()
    images = _extremes(f"{snap.run}:{id(reader)}", snap.weights_version, int(row["epoch"]), reader, row)
    if images is None:
        return
    best, worst = images[:len(row["realism_best"])], images[len(row["realism_best"]):]
    for slot, label, pictures, scores in ((most, "most", best, row["realism_best_scores"]),
                                          (least, "least", worst, row["realism_worst_scores"])):
        slot.image(fast_png(make_grid(pictures, ncols=len(pictures), scale=2)),
                   caption=f"the {len(pictures)} {label} realistic of {row['samples']:,} samples · realism "
                           + " ".join(f"{v:.2f}" for v in scores), output_format="PNG")
    redrawn = "" if int(row.get("step", snap.step)) == snap.step else \
        f" Drawn again from the same noise by the weights of step {snap.step:,}; scored at step {row['step']:,}."
    note.caption("Realism (Kynkäänniemi et al. 2019): above 1 a sample lies inside the ball of some real digit's "
                 f"3 nearest neighbours in judge features; the EMA generator, as evaluated.{redrawn}")
