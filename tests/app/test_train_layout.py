"""The Train page's live panel keeps one element tree at every refresh (AppTest).

The browser does not replace a container that a rerun draws again: it keeps the container's children and
overwrites them by position, and drops the ones not drawn again only when the run ends, which for a
fragment refreshing every few seconds can be long after. A container whose children differ in number
between two refreshes therefore shows the earlier refresh's leftovers: a Quality block drawn with a
warning above its metrics at epoch 1, and without one at epoch 23, left epoch 1's metrics, charts and
samples under the live ones. ``leftovers`` models that rule on two renders of the panel.
"""

from __future__ import annotations

from itertools import permutations
from pathlib import Path

from streamlit.testing.v1 import AppTest

from helpers import assert_no_exception, metrics_row, new_app, saved_run, with_metrics


def leftovers(old: object, new: object, path: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    """The paths of blocks that ``new`` draws where ``old`` had a block of the same kind with a different
    number of children: there the browser keeps or shifts ``old``'s children. An element, or a block of
    another kind, replaces what was there whole."""
    old_children, new_children = getattr(old, "children", None), getattr(new, "children", None)
    if old_children is None or new_children is None or old.type != new.type:
        return []
    found = [path] if len(old_children) != len(new_children) else []
    for index in old_children.keys() & new_children.keys():
        found += leftovers(old_children[index], new_children[index], (*path, index))
    return found


def panel(at: AppTest) -> list[object]:
    """The live panel: the page's last two blocks, its two fragments (progress; curves, grid, quality)."""
    children = at.main.children
    return [children[index] for index in sorted(children)[-2:]]


def _warning_then_metrics() -> None:
    import streamlit as st

    with st.empty().container():
        if st.session_state.get("warn"):
            st.warning("mode collapse")
        st.metric("Classes present", "3 / 10")


def test_leftovers_finds_a_block_whose_children_shift() -> None:
    at = AppTest.from_function(_warning_then_metrics)
    at.session_state["warn"] = True
    with_warning = at.run().main
    at.session_state["warn"] = False
    without = at.run().main
    assert leftovers(with_warning, without) == [(0,)]
    assert leftovers(without, without) == []


def test_the_panel_keeps_its_tree_before_and_after_evaluations(env: Path, data_dir: Path) -> None:
    """Never trained, trained before its first evaluation, a first evaluation with a collapse warning, and
    a later one without: each render of the panel replaces any other in place."""
    saved_run(env, data_dir, "plain")
    with_metrics(saved_run(env, data_dir, "collapsed"), [metrics_row(1, 80.0, [0.64] + [0.04] * 9)])
    with_metrics(saved_run(env, data_dir, "later", epochs=3),
                 [metrics_row(1, 80.0, [0.64] + [0.04] * 9), metrics_row(3, 40.0, [0.1] * 10)])
    at = new_app()
    renders = {}
    for name in ("untrained", "plain", "collapsed", "later"):
        at.text_input(key="cfg_run").input(name).run()
        assert_no_exception(at)
        renders[name] = panel(at)
        if name == "collapsed":  # the page says when the standing evaluation was made
            assert [w.value for w in at.warning] == [
                "mode collapse: class 0 is 64% of the samples (over 40%) (evaluation of epoch 1)"]
            assert any("**Measured at epoch 1** (step 8, 1 epoch ago)." in c.value for c in at.caption)
    for old, new in permutations(renders, 2):
        for fragment, (before, after) in enumerate(zip(renders[old], renders[new], strict=True)):
            assert not leftovers(before, after), (old, new, fragment, leftovers(before, after))
