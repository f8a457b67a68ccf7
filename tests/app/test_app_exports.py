"""The Runs page offers a run's generator as ONNX and as safetensors, built on the click (a deferred
download) from the app's cached reader of the run, never on a rerun."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from safetensors.torch import load
from streamlit.runtime.media_file_manager import MediaFileManager

from gan_core.runs.export import CARD_KEY
from gan_core.runs.reader import SavedRun
from ganlab.runs import downloads

from helpers import assert_no_exception, new_app, show, train


def test_the_runs_page_builds_the_exports_only_on_a_click(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    train(env, "tiny", 2, ema_decay=0.9)
    deferred, exports = {}, []
    add_deferred = MediaFileManager.add_deferred

    def remember(self, data, mimetype, coordinates, file_name=None, **kwargs):
        deferred[file_name] = data
        return add_deferred(self, data, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", remember)
    real_export = downloads.export
    monkeypatch.setattr(downloads, "export", lambda run, fmt: exports.append(fmt) or real_export(run, fmt))
    at = show(new_app(), "runs")  # two runs of the script: the first page, then the Runs page
    assert_no_exception(at)
    labels = {b.label for b in at.get("download_button")}
    assert {"Generator (ONNX)", "Generator (safetensors)"} <= labels
    assert exports == []  # drawn twice, nothing built
    # A click builds from the app's cached reader of the run: it never reads the checkpoint again.
    monkeypatch.setattr(SavedRun, "open", lambda *a: pytest.fail("the click read the checkpoint again"))
    assert set(deferred) == {"tiny-generator.onnx", "tiny-generator.safetensors"}
    onnx_card = {p.key: p.value for p in onnx.load_from_string(deferred["tiny-generator.onnx"]()).metadata_props}
    assert json.loads(onnx_card[CARD_KEY])["run"] == "tiny"
    assert "net.0.weight" in load(deferred["tiny-generator.safetensors"]())
    assert exports == ["onnx", "safetensors"]  # once each, on the "click"
