"""One script run at a time per page, with the app's own Streamlit settings, in headless Chromium.

Streamlit's ``runner.fastReruns`` starts a page's next run at once on a click, beside the run still going,
and the old one only stops at its next Streamlit call. Two runs of one page then share its session state
from two threads: a CI run of the upload walk died in the sidebar with "dictionary changed size during
iteration" while it iterated the session's keys. The app's config turns it off; this page shows why."""

from __future__ import annotations

import itertools
from pathlib import Path

import browser as web

web.require_chromium()

WORK_SECONDS = 1.5  # each run's work between two Streamlit calls (a model loading, a grid sampling)
# A page that logs each of its runs' start and end; its work holds no Streamlit call, so a run only yields
# before and after it.
PAGE = f"""
import os, time
import streamlit as st

start = time.monotonic()
st.button("Again", key="again")
time.sleep({WORK_SECONDS})
with open(os.environ["RUNS_LOG"], "a") as log:
    log.write(f"{{start}} {{time.monotonic()}}\\n")
st.write("done")
"""


def runs(log: Path) -> list[tuple[float, float]]:
    return sorted(tuple(map(float, line.split())) for line in log.read_text().splitlines()) if log.exists() else []


def test_a_click_during_a_run_never_starts_a_second_run_beside_it(tmp_path: Path, monkeypatch) -> None:
    script, log = tmp_path / "page.py", tmp_path / "runs.log"
    script.write_text(PAGE)
    monkeypatch.setenv("RUNS_LOG", str(log))
    with web.chromium() as browser, web.streamlit_server(tmp_path / "ck", tmp_path / "data", tmp_path / "st.log",
                                                         script=script) as url:
        page = browser.new_page()
        page.goto(url)
        web.wait_on_page(page, lambda: len(runs(log)) == 1, "the first run")
        for _ in range(2):  # a click, then another while the run it started is at work
            page.get_by_role("button", name="Again").click()
            page.wait_for_timeout(WORK_SECONDS * 1000 / 3)
        web.wait_on_page(page, lambda: len(runs(log)) == 3, "three runs")
        page.close()
    logged = runs(log)
    for (_, end), (start, _) in itertools.pairwise(logged):
        assert start >= end, f"a run started {end - start:.2f} s before the one before it ended: {logged}"
