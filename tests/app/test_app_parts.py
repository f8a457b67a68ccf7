"""The Streamlit-free helpers behind the pages: latent sampling and the lab's batch, chart tables and specs,
the timeline GIF, and the shared refresh budget of the watching sessions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import saved_run


def test_latent_helpers() -> None:
    import torch

    from gan_core.gan.model import seeded_z
    from gan_core.images import upscale
    from gan_core.latent.sampling import interpolate, sweep, with_values
    from ganlab.explore.lab_batch import lab_batch

    global_state = torch.get_rng_state()
    base = seeded_z(7, 100)[0]
    assert torch.equal(base, seeded_z(7, 100)[0]) and base.abs().max() <= 1.0
    assert torch.equal(torch.get_rng_state(), global_state)  # the trainer's RNG is never touched
    z = with_values(base, [3, 5], [0.25, 2.0])
    assert z[3] == 0.25 and z[5] == 1.0 and torch.equal(base[:3], z[:3])  # clipped to the prior
    rows = sweep(z, [3, 5], steps=9)
    assert rows.shape == (18, 100)
    assert rows[0, 3] == -1.0 and rows[8, 3] == 1.0 and rows[9, 5] == -1.0 and torch.all(rows[:9, 5] == 1.0)
    strip = interpolate(base, -base, 10)
    assert torch.allclose(strip[0], base) and torch.allclose(strip[-1], -base)
    batch, layout = lab_batch(z, np.eye(100, dtype=np.float32)[:8], 1.0, 9, -base, 10)
    assert batch.shape == (1 + 72 + 10, 100)
    assert torch.equal(batch[0], z) and torch.allclose(batch[-1], -base)  # the strip runs from z to its end
    assert torch.allclose(batch[1:10, 0], (z[0] + torch.linspace(-1, 1, 9)).clamp(-1, 1))  # row i moves z[i]
    assert torch.equal(batch[1:10, 1:], z[1:].expand(9, -1))  # ... and nothing else
    half, _ = lab_batch(z, np.eye(100, dtype=np.float32)[:8], 1.0, 9, -base, 10, psi=0.5)
    assert torch.allclose(half, batch / 2)  # truncation applies to every latent of the view alike
    digit, sweep_images, strip_images = layout.split(np.arange(83)[:, None, None] * np.ones((1, 28, 28)))
    assert digit[0, 0] == 0 and sweep_images.shape[0] == 72 and strip_images[0, 0, 0] == 73
    assert upscale(np.eye(2, dtype=np.uint8), 3).shape == (6, 6)


def test_chart_table_downsamples_long_runs() -> None:
    from ganlab.charts.series import chart_table, moving_average

    assert np.allclose(moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1.0, 2.0, 4.0, 6.0])
    history = np.random.default_rng(0).random((250_000, 4), dtype=np.float32)
    table = chart_table(history)
    assert len(table["step"]) <= 1000 and table["step"][0] == 1 and table["step"][-1] == 250_000
    assert abs(table["d_loss_smooth"][-1] - 0.5) < 0.05  # smoothed over the full series
    short = chart_table(history[:10])
    assert len(short["step"]) == 10 and np.allclose(short["g_loss"], history[:10, 1])


def test_chart_specs_are_built_once_and_carry_no_data() -> None:
    """The live charts refresh every 2 s: their spec must stay byte-identical (the browser then only swaps
    data) and hold no rows; the rows travel in a separate, downsampled table."""
    import json

    import numpy as np

    from ganlab.charts.core import LOSS_SERIES, PROB_SERIES, curve_spec, curve_table, fid_spec, histogram_spec
    from ganlab.charts.series import MAX_POINTS

    labels = tuple(PROB_SERIES.values())
    first = curve_spec(labels, "mean D output", 0.5, "equilibrium 0.5")
    first["width"] = 123  # Streamlit adds keys to the dict it gets: the cache must not see that
    again = curve_spec(labels, "mean D output", 0.5, "equilibrium 0.5")
    assert "width" not in again and json.dumps(again, sort_keys=True) == json.dumps(
        curve_spec(labels, "mean D output", 0.5, "equilibrium 0.5"), sort_keys=True)
    for spec in (again, curve_spec(tuple(LOSS_SERIES.values()), "loss"), fid_spec(), histogram_spec(0.4)):
        assert "datasets" not in spec and "data" not in spec  # rows come with each refresh, not in the spec
    assert '"y": 0.5' in json.dumps(again)  # the equilibrium rule keeps its own one-row data

    history = np.random.default_rng(0).random((5 * MAX_POINTS, 4), dtype=np.float32)
    table = curve_table(history, PROB_SERIES)
    assert len(table) == 2 * MAX_POINTS and set(table["series"]) == set(labels)
    assert table["step"].max() == len(history)  # the newest step is always drawn
    edited = curve_table(history, PROB_SERIES, [{"step": 7, "field": "lr_g", "old": 2e-4, "new": 1e-3}])
    assert len(edited) == len(table) + 1 and edited["edit"].iloc[-1] == "lr_g 0.0002 → 0.001"
    assert "isValid(datum.edit)" in json.dumps(again)  # the edit rules' layer
    last = table[table["series"] == "D(x)"].iloc[-1]
    assert last["raw"] == history[-1, 2]  # raw values are the real ones at the kept steps


def test_timeline_gif(env: Path, data_dir: Path) -> None:
    from PIL import Image

    from gan_core.runs.folder import RunPaths
    from ganlab.explore.frames import frame_paths, timeline_gif

    saved_run(env, data_dir, "gif", epochs=2)
    frames = frame_paths(RunPaths.of(env, "gif"))
    assert [epoch for epoch, _ in frames] == [1, 2]
    gif = Image.open(__import__("io").BytesIO(timeline_gif(frames)))
    assert gif.format == "GIF" and gif.n_frames == 2


def test_watchers_share_one_refresh_budget() -> None:
    from ganlab.state.holder import Watchers

    watchers = Watchers(base=2.0)
    assert watchers.period(now=0.0) == 2.0  # nobody yet: the base period
    watchers.seen("a", now=0.0)
    assert watchers.period(now=0.0) == 2.0
    for session in "bcdefghij":
        watchers.seen(session, now=1.0)
    # Ten pages: each every 2 s * 10 ** 1.3 = 40 s, so together they refresh 2x less often than one page.
    assert watchers.count(now=1.0) == 10 and watchers.period(now=1.0) == pytest.approx(39.9, abs=0.1)
    assert Watchers(base=2.0, exponent=1.0).period(now=0.0) == 2.0
    linear = Watchers(base=2.0, exponent=1.0)
    for session in "abcdefghij":
        linear.seen(session, now=0.0)
    assert linear.period(now=0.0) == 20.0
    watchers.seen("a", now=40.0)  # "a" keeps refreshing; the others closed their pages after t = 1
    assert watchers.count(now=110.0) == 10  # within 3 periods of 40 s they still count
    assert watchers.count(now=122.0) == 1 and watchers.period(now=122.0) == 2.0  # then only "a" is left
