"""Nearest real digits by matrix product, cached judge features and the memorisation verdict."""

import numpy as np
import torch

from gan_core.quality import neighbours as nb
from gan_core.quality.classifier import JudgeNet


def index_of(n=200, seed=0, cache_dir=None):
    torch.manual_seed(seed)
    net = JudgeNet().eval()
    images = torch.rand(n, 784, generator=torch.Generator().manual_seed(seed))
    return nb.NeighbourIndex.build(net, images, cache_dir)


def test_query_matches_brute_force_in_both_spaces():
    index = index_of()
    queries = torch.rand(4, 28, 28, generator=torch.Generator().manual_seed(9))
    for space in nb.SPACES:
        found = index.query(queries, k=5, space=space)
        points = nb.judge_features(index.net, index.images) if space == "features" else index.images
        q = nb.judge_features(index.net, queries.reshape(4, -1)) if space == "features" else queries.reshape(4, -1)
        direct = torch.cdist(q.double(), points.double())
        expected = torch.topk(direct, 5, largest=False)
        assert (found.indices == expected.indices.numpy()).all(), space
        assert np.allclose(found.distances, expected.values.numpy(), atol=1e-3), space
        assert (np.diff(found.distances, axis=1) >= 0).all()


def test_a_training_image_finds_itself_at_distance_zero():
    index = index_of()
    found = index.query(index.images[17:18], k=3, space="pixels")
    assert found.indices[0, 0] == 17 and found.distances[0, 0] < 1e-3


def test_features_are_cached_and_a_damaged_cache_is_recomputed(tmp_path):
    first = index_of(cache_dir=tmp_path)
    files = list(tmp_path.glob("features-*.pt"))
    assert len(files) == 1
    files[0].write_bytes(b"damaged")
    again = index_of(cache_dir=tmp_path)
    assert torch.equal(again._points["features"], first._points["features"])
    third = index_of(cache_dir=tmp_path)  # rewritten after the damage: read back, same values
    assert torch.equal(third._points["features"], first._points["features"])


def test_copies_of_training_digits_are_called_copying_and_fresh_digits_are_not():
    index = index_of(n=300)
    held_out = torch.rand(50, 784, generator=torch.Generator().manual_seed(5))
    copied = nb.memorisation(index, index.images[:50] + 0.001, held_out, space="pixels")
    assert copied["ratio"] < nb.COPYING and "copying" in copied["verdict"]
    fresh = nb.memorisation(index, torch.rand(50, 784, generator=torch.Generator().manual_seed(6)), held_out,
                            space="pixels")
    assert fresh["ratio"] > nb.CLOSER and fresh["verdict"].startswith("no sign of copying")
    assert len(fresh["generated"]) == len(fresh["held_out"]) == 50
