import io

import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.images import gif_bytes
from gan_core.latent.sampling import truncate
from gan_core.latent.store import (
    LatentStoreError,
    combine,
    list_latents,
    load_latent,
    npy_bytes,
    read_latent,
    save_latent,
)
from gan_core.runs.folder import RunPaths


def test_save_list_load_round_trip(tmp_path):
    paths = RunPaths.of(tmp_path, "demo")
    z = np.linspace(-1, 1, 100, dtype=np.float32)
    assert list_latents(paths) == []
    save_latent(paths, "smile", z)
    save_latent(paths, "a-2_b", -z)
    assert list_latents(paths) == ["a-2_b", "smile"]
    loaded = load_latent(paths, "smile", z_dim=100)
    assert loaded.shape == (1, 100) and loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded[0], z)
    with pytest.raises(LatentStoreError, match="no saved latent"):
        load_latent(paths, "ghost")


@pytest.mark.parametrize("name", ["", "../up", "a/b", ".hidden", "x" * 49, "sp ace"])
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(LatentStoreError, match="latent name"):
        save_latent(RunPaths.of(tmp_path, "demo"), name, np.zeros(100))


def test_read_latent_refuses_pickles_wrong_shapes_and_values_off_the_box():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(LatentStoreError, match="npy"):
        read_latent(buffer.getvalue())
    with pytest.raises(LatentStoreError, match="takes 100"):
        read_latent(npy_bytes(np.zeros(64)), z_dim=100)
    with pytest.raises(LatentStoreError, match="box"):
        read_latent(npy_bytes(np.full(100, 1.5)))
    with pytest.raises(LatentStoreError, match="npy"):
        read_latent(b"not numpy")
    assert read_latent(npy_bytes(np.zeros(100))).shape == (1, 100)


def test_combine_is_a_minus_b_plus_c_clipped():
    a, b, c = np.full(4, 0.5), np.full(4, 0.25), np.array([0.0, 0.5, 1.0, -1.0])
    np.testing.assert_allclose(combine(a, b, c), [[0.25, 0.75, 1.0, -0.75]])
    np.testing.assert_allclose(combine(a, b), [[0.25] * 4])
    with pytest.raises(LatentStoreError, match="shapes"):
        combine(a, np.zeros(5))


def test_truncation_scales_toward_the_centre():
    z = torch.tensor([1.0, -0.5, 0.2])
    assert torch.equal(truncate(z, 1.0), z)
    assert torch.allclose(truncate(z, 0.5), z / 2)
    assert torch.equal(truncate(z, 0.0), torch.zeros(3))
    with pytest.raises(ValueError):
        truncate(z, 1.5)


def test_gif_has_one_frame_per_image():
    images = np.random.default_rng(0).random((5, 28, 28))
    picture = Image.open(io.BytesIO(gif_bytes(images, scale=2)))
    assert picture.format == "GIF" and picture.n_frames == 5 and picture.size == (56, 56)
