"""The sidebar through AppTest: the config widgets and their ranges, validation that blocks Train, presets,
run names, and the bundled-digits note with its retry.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gan_core.quality.judge import JUDGE_DIR

from helpers import assert_no_exception, buttons, new_app, outside


def test_widgets_present(env: Path) -> None:
    at = new_app()
    assert_no_exception(at)
    keys = {w.key for w in at.number_input}
    for field in ("lr_d", "lr_g", "beta1_d", "beta1_g", "beta2", "batch_size", "epochs", "d_steps",
                  "dropout_keep", "seed"):
        assert f"cfg_{field}" in keys, field
    assert at.text_input(key="cfg_run").value == "mnist-1"
    assert at.selectbox(key="cfg_dataset_choice").value == "mnist"
    assert any("Device in use" in c.value for c in at.sidebar.caption)
    assert buttons(at) == {"train": True, "pause": False, "resume": False, "stop": False}


@pytest.mark.parametrize(("key", "value", "message"), [
    ("cfg_lr_d", 0.0, "must be in (0, 1]"),
    ("cfg_beta2", 1.0, "must be in [0, 1)"),
    ("cfg_batch_size", 1, "must be in [2, 4096]"),
    ("cfg_dropout_keep", 0.0, "must be in (0, 1]"),
    ("cfg_pack", 3, "must divide batch_size"),
])
def test_invalid_value_shows_message_and_blocks_train(env: Path, key: str, value: object, message: str) -> None:
    at = new_app()
    at.number_input(key=key).set_value(value).run()
    errors = [e.value for e in at.sidebar.error]
    assert any(message in text for text in errors), errors
    assert buttons(at)["train"] is False
    assert_no_exception(at)


def test_preset_fills_the_recipe(env: Path) -> None:
    at = new_app()
    assert at.selectbox(key="cfg_preset").value == "clean"  # the default recipe
    assert at.selectbox(key="cfg_loss").value == "lsgan" and at.number_input(key="cfg_lr_g").value == 0.0016
    assert at.number_input(key="cfg_epochs").value == 60  # the first run: about a minute on a 2-core CPU
    at.selectbox(key="cfg_preset").select("seed").run()
    assert at.number_input(key="cfg_beta1_d").value == 0.1
    assert at.number_input(key="cfg_pack").value == 1
    assert at.checkbox(key="cfg_spectral_norm").value is False  # the seed has no spectral norm
    at.checkbox(key="cfg_spectral_norm").check().run()
    assert at.selectbox(key="cfg_preset").value == "stable"  # the bool alone is stable's whole recipe
    at.selectbox(key="cfg_preset").select("seed").run()
    at.number_input(key="cfg_lr_g").set_value(0.0003).run()
    assert at.selectbox(key="cfg_preset").value == "custom"
    at.selectbox(key="cfg_preset").select("stable").run()
    assert at.checkbox(key="cfg_spectral_norm").value is True
    assert at.number_input(key="cfg_lr_g").value == 0.0002
    assert_no_exception(at)


def test_invalid_run_name(env: Path) -> None:
    at = new_app()
    at.text_input(key="cfg_run").input("../escape").run()
    assert any("letters, digits" in e.value for e in at.sidebar.error)
    assert buttons(at)["train"] is False
    assert [p.name for p in env.iterdir()] == [JUDGE_DIR]  # nothing beside the classifiers' shared cache
    assert not any(env.parent.glob("escape*"))


def test_every_config_field_has_a_sidebar_control_with_its_range(env: Path) -> None:
    """The sidebar is generated from the config's metadata: each field has its control, its tooltip states
    the range the CLI states, and a value outside it shows that range under the control and blocks Train."""
    from gan_core.config import fields

    at = new_app()
    widgets = {w.key: w for kind in ("number_input", "checkbox", "selectbox") for w in at.get(kind)}
    for spec in fields():
        widget = widgets[f"cfg_{spec.name}" if not spec.open_prefix else "cfg_dataset_choice"]
        assert widget.label == spec.label and spec.range_text() in widget.help, spec.name
        if spec.kind in (int, float) and not spec.choices:
            default = widget.value
            at.number_input(key=f"cfg_{spec.name}").set_value(outside(spec)).run()
            errors = [e.value for e in at.sidebar.error]
            assert any(spec.range_text() in text for text in errors), (spec.name, errors)
            assert buttons(at)["train"] is False
            at.number_input(key=f"cfg_{spec.name}").set_value(default).run()
            assert not at.sidebar.error, spec.name
    assert_no_exception(at)


def test_bundled_digits_are_said_and_the_download_can_be_asked_for_again(env: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 item 1: once an earlier start fell back to the bundled digits, the sidebar says so and its
    button asks for the MNIST download again (the marker that keeps the fallback is removed)."""
    from gan_core.data import OFFLINE_MARKER

    at = new_app()  # MNIST on disk (data_dir): nothing to say, no button
    assert not [b for b in at.sidebar.button if b.key == "retry_download"]
    offline = tmp_path / "offline-data"
    offline.mkdir()
    (offline / OFFLINE_MARKER).write_text("an earlier start failed to download MNIST\n")
    monkeypatch.setenv("GANLAB_DATA_DIR", str(offline))
    at = new_app()
    assert any("could not be downloaded at an earlier start" in c.value for c in at.sidebar.caption)
    at.sidebar.button(key="retry_download").click().run()
    assert not (offline / OFFLINE_MARKER).exists()  # the next run tries the download
    assert not [b for b in at.sidebar.button if b.key == "retry_download"]  # and the sidebar stops saying so
    assert_no_exception(at)
