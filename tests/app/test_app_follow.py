"""Every session follows the server. The first session's fill survives being cut short at any point (a click
on another page during the first page load): on an install with no runs of its own the demo shows. And a page
that did not start the server's trainer says which run trains, shows it, and pauses or stops it."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from gan_core.presets import DEFAULT_PRESET, preset_config
from ganlab.state import keys
from ganlab.widgets import sidebar

from helpers import TINY_WIDGETS, assert_no_exception, buttons, new_app, set_values, show, status, wait_for

SHIPPED_DEMO = Path(__file__).resolve().parents[2] / "demo"


@pytest.fixture()
def demo_dir() -> Path:
    """A fresh install as a user gets it: the repository's demo run."""
    return SHIPPED_DEMO


class CutShort:
    """``streamlit`` as the sidebar module sees it, except that the run stops (and starts again) at the
    ``at``-th read or write of session state, once: Streamlit stops a run for a newer one (a click) at any
    access to session state, not only at a widget. ``at=None`` only counts the accesses."""

    def __init__(self, at: int | None) -> None:
        self.at, self.touches = at, 0

    def __getattr__(self, name: str) -> object:
        return getattr(streamlit, name)

    @property
    def session_state(self) -> object:
        return Touches(self)

    def touch(self) -> None:
        self.touches += 1
        if self.touches == self.at:
            streamlit.rerun()


class Touches:
    """Session state whose every access goes through ``CutShort.touch`` first."""

    def __init__(self, owner: CutShort) -> None:
        self._owner = owner

    def __getattr__(self, name: str) -> object:  # get, setdefault, pop
        method = getattr(streamlit.session_state, name)

        def touched(*args: object, **kwargs: object) -> object:
            self._owner.touch()
            return method(*args, **kwargs)
        return touched

    def __getitem__(self, key: str) -> object:
        self._owner.touch()
        return streamlit.session_state[key]

    def __setitem__(self, key: str, value: object) -> None:
        self._owner.touch()
        streamlit.session_state[key] = value

    def __contains__(self, key: str) -> bool:
        self._owner.touch()
        return key in streamlit.session_state


def first_fill() -> None:
    """A session's first run, as far as the fill (AppTest runs this function as the script)."""
    from ganlab.widgets.sidebar import init_session

    init_session()


def test_the_first_fill_cut_short_anywhere_still_shows_the_demo(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CutShort(None)
    monkeypatch.setattr(sidebar, "st", counting)
    AppTest.from_function(first_fill).run()
    defaults = preset_config(DEFAULT_PRESET)
    last = counting.touches
    assert last > 20  # one per config field at least: the fill has many places to be cut
    # The first and last few accesses and one between (each try costs half a second): where the fill starts,
    # where the old flag was set (first), and where the run name and the demo are written (last).
    for at in (1, 2, 3, last // 2, last - 3, last - 2, last - 1, last):
        monkeypatch.setattr(sidebar, "st", CutShort(at))
        session = AppTest.from_function(first_fill).run()
        assert_no_exception(session)
        state = session.session_state
        assert keys.SHOW_DEMO in state and state[keys.SHOW_DEMO] is True, f"cut short at access {at}: no demo"
        assert state[keys.RUN] == "mnist-1" and state[keys.INITIALISED], at
        assert state[keys.field("batch_size")] == defaults.batch_size, at


def test_a_page_that_did_not_start_the_trainer_follows_it(env: Path) -> None:
    a, b = new_app(), new_app()  # two tabs on a fresh install: both show the demo
    assert b.session_state[keys.SHOW_DEMO] and b.button(key=keys.BTN_STOP).disabled
    b = show(b, "explore")
    assert not [button for button in b.button if button.key and button.key.startswith("bar_")]  # nothing trains
    set_values(a, {**TINY_WIDGETS, "cfg_epochs": 50})  # long enough that b's Stop comes before the end
    a.button(key=keys.BTN_TRAIN).click().run()
    try:
        assert_no_exception(a)
        b.run()  # the page's look at the trainer found it changed: the page is drawn again
        assert any("Run **mnist-1** is training" in box.value for box in b.info), [box.value for box in b.info]
        assert not b.button(key=keys.BAR_PAUSE).disabled and not b.button(key=keys.BAR_STOP).disabled
        assert b.button(key=keys.BAR_RESUME).disabled
        b.button(key=keys.BAR_SHOW).click().run()  # "Show": the page switches to the trained run
        assert keys.SHOW_DEMO not in b.session_state and b.session_state[keys.RUN] == "mnist-1"
        assert b.session_state[keys.field("epochs")] == 50  # the sidebar holds the run's own config
        assert not [button for button in b.button if button.key == keys.BAR_SHOW]
        b = show(b, "train")  # its Train page: the run's own buttons
        assert buttons(b)["pause"] and buttons(b)["stop"] and not buttons(b)["train"]
        b = show(b, "runs")
        b.button(key=keys.BAR_STOP).click().run()
        assert_no_exception(b)
        wait_for(a, lambda at: status(at) == "idle")  # a sees its run stopped by b
        assert buttons(a) == {"train": True, "pause": False, "resume": True, "stop": False}  # resume: continue it
        assert not [button for button in b.button if button.key and button.key.startswith("bar_")]
    finally:
        a.run()
        if not a.button(key=keys.BTN_STOP).disabled:
            a.button(key=keys.BTN_STOP).click().run()
