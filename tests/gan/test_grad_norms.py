"""The G and D gradient norms recorded in every history row: right values, old runs migrated, charted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gan_core.gan.history import HISTORY, STATS, history_columns, latest_row
from gan_core.gan.state import GANState
from gan_core.runs.checkpoint import VERSION, load_checkpoint, save_checkpoint
from gan_core.runs.record import from_record, to_record
from ganlab.charts.core import GRAD_SERIES, LOSS_SERIES, curve_table
from ganlab.charts.series import moving_average

from helpers import tiny_config, tiny_data

D_NORM, G_NORM = len(STATS), len(STATS) + 1  # their columns in a history row


def direct_norm(module: torch.nn.Module) -> float:
    """The L2 norm of all the module's gradients, in float64 from one flat vector: the definition."""
    return float(torch.cat([p.grad.double().flatten() for p in module.parameters() if p.grad is not None]).norm())


def test_each_step_records_the_total_gradient_norm_of_d_and_of_g() -> None:
    # Spectral norm on: D's weights are parametrized (net.0.parametrizations.weight.original), the harder case.
    state = GANState.fresh(tiny_config(spectral_norm=True, d_steps=2))
    real = tiny_data(40).images
    row = state.train_step(real[:20], update_g=True).tolist()
    # The optimizers' steps leave .grad as backward wrote it: the norms of this very step.
    assert row[D_NORM] == pytest.approx(direct_norm(state.discriminator), rel=1e-4)  # float32 sums: ~1e-5 apart
    assert row[G_NORM] == pytest.approx(direct_norm(state.generator), rel=1e-4)  # float32 sums: ~1e-5 apart
    g_norm = row[G_NORM]
    row = state.train_step(real[20:], update_g=False).tolist()  # D alone: G's norm is its latest update's
    assert row[D_NORM] == pytest.approx(direct_norm(state.discriminator), rel=1e-4)  # float32 sums: ~1e-5 apart
    assert row[G_NORM] == g_norm and row[D_NORM] > 0


def version_3_record(state: GANState) -> dict:
    """``state``'s record in the version-3 layout: 4 history columns, no G gradient norm in the progress."""
    record = to_record(state)
    record["version"] = 3
    record["history"] = record["history"][:, :len(STATS)].clone()
    del record["progress"]["last_g_grad_norm"]
    return record


def test_a_version_3_run_migrates_with_norms_not_recorded_and_records_them_when_continued(tmp_path: Path) -> None:
    state = GANState.fresh(tiny_config(d_steps=2))
    real = tiny_data(20).images
    for step in range(3):
        state.history.append(state.train_step(real, update_g=step % 2 == 1)[None].numpy())
    state.step = 3
    old = version_3_record(state)
    save_checkpoint(old, tmp_path / "v3.pt")

    record = load_checkpoint(tmp_path / "v3.pt")
    assert record["version"] == VERSION and record["history"].shape == (3, len(HISTORY))
    assert torch.equal(record["history"][:, :len(STATS)], old["history"])  # the losses untouched
    assert record["history"][:, len(STATS):].isnan().all()
    continued = from_record(record, "v3.pt")
    row = continued.train_step(real, update_g=False).tolist()  # no G update since the migration: unknown
    assert np.isfinite(row[D_NORM]) and np.isnan(row[G_NORM])
    row = continued.train_step(real, update_g=True).tolist()
    assert np.isfinite(row[:len(HISTORY)]).all()


def test_old_histories_read_as_six_columns_with_norms_not_recorded() -> None:
    old = np.arange(8, dtype=np.float32).reshape(2, 4)
    rows = history_columns(old)
    assert rows.shape == (2, len(HISTORY)) and np.array_equal(rows[:, :4], old) and np.isnan(rows[:, 4:]).all()
    assert history_columns(np.zeros(0)).shape == (0, len(HISTORY))
    with pytest.raises(ValueError):
        history_columns(np.zeros((2, 5)))
    latest = latest_row(rows)
    assert latest["d_loss"] == 4.0 and latest["d_grad_norm"] is None and latest["g_grad_norm"] is None
    assert latest_row(rows[:0]) == {}


def test_the_gradient_chart_leaves_out_steps_that_were_not_recorded() -> None:
    history = np.ones((10, len(HISTORY)), np.float32)
    history[:4, len(STATS):] = np.nan  # a run saved before norms were recorded, then continued
    table = curve_table(history, GRAD_SERIES)
    assert len(table) == 2 * 6 and table["step"].min() == 5 and not table["smoothed"].isna().any()
    assert len(curve_table(history, LOSS_SERIES)) == 2 * 10  # the losses keep every step
    assert np.allclose(moving_average(np.array([np.nan, 1.0, 3.0]), 2), [np.nan, 1.0, 2.0], equal_nan=True)
