"""The sidebar's dataset control through AppTest: the user's own pictures by folder path, validation under
the field, and a run on them whose data line lists the unreadable files and whose quality block says what
it can measure without labels; the Explore page's lab works without a judge and says which tools need one.
(The .zip upload's checks are the library's: test_folder_data.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from folder_helpers import digit_files, write_folder

from helpers import (
    TINY_WIDGETS,
    app_server,
    assert_no_exception,
    buttons,
    image_url,
    lab_sliders,
    new_app,
    set_values,
    show,
    status,
    stop_if_running,
    wait_for,
)

OWN = "my images (folder or .zip)"


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with app_server(monkeypatch, tmp_path / "checkpoints", tmp_path / "data", tmp_path / "no-demo") as root:
        yield root


def test_a_folder_of_pictures_trains_and_shows_what_holds_without_labels(env: Path, tmp_path: Path) -> None:
    flat = {name.replace("/", "_"): body for name, body in digit_files(150).items()}  # no class folders
    folder = write_folder(tmp_path / "pictures", flat)
    at = set_values(new_app(), {**TINY_WIDGETS, "cfg_epochs": 1, "cfg_eval_every": 1, "cfg_eval_samples": 200})
    at.selectbox(key="cfg_dataset_choice").select(OWN).run()
    assert any("give a path after 'folder:'" in e.value for e in at.sidebar.error) and buttons(at)["train"] is False
    at.text_input(key="cfg_dataset_path").input(str(folder)).run()
    assert not at.sidebar.error and buttons(at)["train"] is True
    at.text_input(key="cfg_run").input("mine").run()
    at.button(key="btn_train").click().run()
    try:
        wait_for(at, lambda a: status(a) == "finished" and any("no labels" in c.value for c in a.caption))
        captions = " ".join(c.value for c in at.caption)
        assert "folder pictures: 120 training images" in captions and "3 unreadable files skipped" in captions
        for name in ("3_broken.png", "5_empty.jpg", "7_text.gif"):
            assert name in captions
        assert "**This dataset has no labels**" in captions
        assert [m.value for m in at.metric if m.label == "Inception score"] == ["not available"]
        assert_no_exception(at)
        # Explore: the lab works without a judge (it showed only an info box): a seeded z, its principal-
        # direction sliders, the big digit and its nearest real images in a pixel PCA; the tools that need
        # the judge or the referee (classifiers that learn from labels) say why they are absent.
        explore = show(at, "explore")
        assert_no_exception(explore)
        assert len(lab_sliders(explore)) == 6 and image_url(explore, "G(z) for the current sliders")
        assert [r.options for r in explore.radio if r.key == "lab_mode"] == [["Principal directions", "Raw z[i]"]]
        texts = " ".join(m.value for m in [*explore.markdown, *explore.info, *explore.caption])
        assert "No referee reading" in texts and "the edits are not available" in texts
        assert "nearest training digits in pixel PCA features" in " ".join(
            c for img in explore.image for c in img.captions)
        assert "Base z: seed 0." in texts
        assert any("Timeline" in h.value for h in explore.subheader), [h.value for h in explore.subheader]
        show(at, "train")
    finally:
        stop_if_running(at)
