"""A labelled folder's classes are shown by their sub-folders' names (not 0-9) wherever labels are shown:
the data, the CLI's evaluate output, the quality block's histogram table; MNIST and the other torchvision
sets keep their own names. The collapse warnings count the data's classes, not the judge's ten outputs."""

from __future__ import annotations

import functools
import re

import pytest
from folder_helpers import digit_files, write_folder

from gan_core.config import GANConfig
from gan_core.data import CLASS_NAMES, load_training_data
from gan_core.quality import referee
from gan_core.quality.metrics import format_row, quality_warnings
from ganlab.charts.core import histogram_table

from helpers import TINY, finish, one_thread  # noqa: F401 (one_thread: autouse)

PETS = {"0": "cat", "1": "dog"}  # the offline zeros and ones, filed as cats and dogs


@pytest.fixture(scope="module")
def pets(tmp_path_factory):
    files = {f"{PETS[name[0]]}/{name[2:]}": body for name, body in digit_files(600, broken=False).items()
             if name[0] in PETS}
    root = tmp_path_factory.mktemp("pets")
    return root, load_training_data(f"folder:{write_folder(root / 'pets', files)}", root / "data")


def test_a_labelled_folder_names_its_classes_by_its_sub_folders_and_mnist_keeps_its_digits(pets):
    _, data = pets
    assert data.label_names == ("cat", "dog") and set(data.labels.tolist()) == {0, 1}
    assert load_training_data("mnist", download=False).label_names == tuple("0123456789")  # the bundled digits
    assert CLASS_NAMES["kmnist"][0] == "お"
    # The quality block's histogram: one bar per class of the data (the judge has 10 outputs, 8 name nothing).
    shares = [0.7, 0.3] + [0.0] * 8
    table = histogram_table(shares, data.label_names)
    assert table["class"].tolist() == ["cat", "dog"] and table["share"].tolist() == [0.7, 0.3]
    assert histogram_table(shares, CLASS_NAMES["mnist"])["class"].tolist() == list("0123456789")
    row = {"fid": 1.0, "fid_floor": 0.5, "fid_n": 10, "inception_score": 1.5, "histogram": [0.3, 0.7] + [0.0] * 8,
           "classes_present": 2, "max_class_share": 0.7, "kl_uniform": 0.1, "confidence": 0.9}
    assert "max share 70.0% (dog)" in format_row(row, data.label_names)
    # The collapse warnings count the data's 2 classes, not the judge's 10 outputs: cats and dogs half and
    # half is no collapse (it warned "only 2 of 10 classes present" and "class 0 is 50%" on every run).
    halves = {**row, "classes": 2, "histogram": [0.5, 0.5] + [0.0] * 8, "classes_present": 2}
    assert quality_warnings(halves) == []
    only_cats = {**halves, "histogram": [1.0] + [0.0] * 9, "classes_present": 1}
    assert quality_warnings(only_cats) == ["mode collapse: only 1 of 2 classes present (fewer than 2)"]
    ten = {**row, "histogram": [0.5, 0.5] + [0.0] * 8, "classes_present": 2}  # MNIST's rules unchanged
    assert len(quality_warnings(ten)) == 2 and "only 2 of 10 classes present (fewer than 8)" in quality_warnings(ten)[1]


def test_the_cli_evaluate_of_a_labelled_folder_names_its_classes(pets, tmp_path, capsys, monkeypatch):
    from gan_core.cli import main as cli
    from gan_core.train.trainer import Trainer

    root, data = pets
    config = GANConfig(**{**TINY, "epochs": 1, "batch_size": 50, "dataset": f"folder:{root / 'pets'}"})
    trainer = Trainer(config, "pets", checkpoints=tmp_path, data_dir=root / "data", threads=0, data=data)
    trainer.start()
    finish(trainer)
    # The judge and the referee at a few steps each: the names are the subject here, not their accuracy.
    monkeypatch.setattr(cli, "judge_for", functools.partial(cli.judge_for, steps=20))
    monkeypatch.setattr(referee, "TRAIN_STEPS", 20)
    assert cli.main(["evaluate", "--run", "pets", "--checkpoints", str(tmp_path), "--data-dir", str(root / "data"),
                     "--n", "100"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert re.fullmatch(r"histogram\s+cat:\S+%\s+dog:\S+%", lines["histogram"]), lines["histogram"]
    assert re.fullmatch(r"per class\s+cat:\S+%\s+dog:\S+%", lines["per"].strip()), lines["per"]
    assert re.match(r"classes\s+\d/2 present", lines["classes"]) and "1 = one class .. 2 = all" in lines["IS"]
    assert not any("of 10 classes" in line for line in lines.values())
