"""The game's pages through AppTest: step buttons and live edits on Train, sweeps and runs side by side on
Runs (fixtures in tests/app/conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

from gan_core.sweep.plan import SweepRun, new_manifest, write_manifest

from helpers import (
    TINY_WIDGETS,
    assert_no_exception,
    chart_specs,
    new_app,
    saved_run,
    set_values,
    show,
    stop_if_running,
    wait_for,
)


def metric(at, label: str) -> str:  # noqa: ANN001 - an AppTest
    return next(m.value for m in at.metric if m.label == label)


def step_metric(at) -> int:  # noqa: ANN001 - an AppTest
    value = metric(at, "Step")
    return int(value.replace(",", "")) if value[0].isdigit() else -1


def last_step(at) -> tuple[str, int, int]:  # noqa: ANN001 - an AppTest
    """The step report's headline "Last step (kind) · step N · G updates M" as (kind, N, M); ("", -1, -1)
    while there is none."""
    for box in at.markdown:
        found = re.match(r"\*\*Last step \(([^)]+)\)\*\* · step ([\d,]+) · G updates ([\d,]+)", box.value)
        if found:
            return found[1], int(found[2].replace(",", "")), int(found[3].replace(",", ""))
    return "", -1, -1


def test_pause_then_d_and_g_steps_move_the_counters_and_edits_are_recorded(env: Path) -> None:
    at = set_values(new_app(), {**TINY_WIDGETS, "cfg_epochs": 200})
    at.text_input(key="cfg_run").input("stepped").run()
    at.button(key="btn_train").click().run()
    try:
        wait_for(at, lambda a: metric(a, "Status") == "running" and step_metric(a) > 0)
        at.number_input(key="edit_lr_g").set_value(0.001).run()  # a live edit while training
        wait_for(at, lambda a: any("lr_g" in str(df.value) for df in a.dataframe))
        at.button(key="btn_pause").click().run()
        wait_for(at, lambda a: metric(a, "Status") == "paused")
        before = step_metric(at)
        at.button(key="btn_step_D").click().run()
        wait_for(at, lambda a: step_metric(a) == before + 1)
        assert any("D step" in m.value for m in at.markdown) or any("D step:" in t.value for t in at.text)
        wait_for(at, lambda a: last_step(a)[0] == "D")
        _, d_step, g_updates = last_step(at)
        at.button(key="btn_step_G").click().run()
        wait_for(at, lambda a: last_step(a)[0] == "G")  # the G step ran and reported itself
        assert last_step(at) == ("G", d_step, g_updates + 1)  # one G update more, on the same D step
        assert step_metric(at) == before + 1  # a G step alone uses no batch: the D-step counter stays
        assert_no_exception(at)
    finally:
        stop_if_running(at)


def test_runs_page_compares_a_sweeps_runs_by_recipe(env: Path, data_dir: Path) -> None:
    for seed in (0, 1):
        saved_run(env, data_dir, name=f"sw-seed-s{seed}", epochs=1)
    runs = [SweepRun(f"sw-seed-s{seed}", "seed", seed, {}) for seed in (0, 1)]
    write_manifest(env, new_manifest("sw", runs, 1))
    at = show(new_app(), "runs")
    at.selectbox(key="compare_sweep").set_value("sw").run()
    assert_no_exception(at)
    table = at.table[0].value
    assert len(table) == 1 and table["runs"].iloc[0] == 2  # one recipe (saved_run trains seed 3 each time)
    assert sum("(epoch mean)" in spec for spec in chart_specs(at)) == 2  # D and G gradient norms overlaid too
    assert not at.button(key="btn_sweep").disabled  # nothing trains here: a sweep may be launched
