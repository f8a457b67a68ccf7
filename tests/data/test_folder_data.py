"""A folder or .zip of pictures as a dataset: decoding, labels, the listing of unreadable files, the cache,
the run's record, and every refusal of a hostile source in one line with nothing written."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from folder_helpers import BROKEN_FILES as BROKEN
from folder_helpers import a_good_name, digit_files, write_folder, write_zip

from gan_core.config import ConfigError, GANConfig
from gan_core.data import DataError, archive, folder, load_training_data
from gan_core.images import digit_from_bytes

from helpers import TINY, finish, one_thread, tiny_config  # noqa: F401 (one_thread: autouse)

N_GOOD = 130


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return digit_files(N_GOOD)


@pytest.fixture(scope="module")
def loaded(files, tmp_path_factory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("folder")
    data_dir = root / "data"
    return root, data_dir, load_training_data(f"folder:{write_folder(root / 'digits', files)}", data_dir)


def test_pictures_of_any_format_become_labelled_mnist_images_and_broken_files_are_listed(files, loaded):
    root, _, data = loaded
    assert (len(data), len(data.held_out()[0])) == (104, 26)  # 130 usable, every 5th held out
    assert data.labeled and data.class_names == tuple(str(d) for d in range(10))
    # Each picture went through the inversion's decoder, whatever its format, size and polarity.
    first = a_good_name(files)
    expected = np.round(digit_from_bytes(files[first]) * 255) / 255
    assert torch.allclose(data.images[0], torch.from_numpy(expected.reshape(-1)), atol=1e-6)
    assert data.labels[0] == int(first.split("/")[0])
    assert len(data.skipped) == 3 and "\n" not in data.message
    for name in BROKEN:
        assert name in data.message
    record = data.describe()
    assert (record["name"], record["count"], record["labeled"]) == ("digits", 130, True)
    assert len(record["hash"]) == 64 and record["skipped"] == list(data.skipped)


def test_the_prepared_images_are_cached_by_content_and_a_changed_file_is_new_data(files, loaded, monkeypatch):
    root, data_dir, data = loaded
    monkeypatch.setattr(folder, "digit_from_bytes", lambda _: pytest.fail("decoded again"))
    again = load_training_data(f"folder:{root / 'digits'}", data_dir)
    assert torch.equal(again.images, data.images) and again.content_hash == data.content_hash
    monkeypatch.undo()
    changed = write_folder(root / "changed", {**files, "3/broken.png": files[a_good_name(files)]})
    other = load_training_data(f"folder:{changed}", data_dir)
    assert other.content_hash != data.content_hash and len(other.skipped) == 2


def test_a_zip_gives_the_same_images_as_its_folder_and_its_single_top_folder_is_looked_through(files, loaded,
                                                                                                 tmp_path):
    _, _, data = loaded
    zipped = load_training_data(f"folder:{write_zip(tmp_path / 'mine.zip', files, top='digits/')}", tmp_path)
    assert torch.equal(zipped.images, data.images) and torch.equal(zipped.labels, data.labels)
    assert zipped.name == "mine" and zipped.class_names == data.class_names


def test_pictures_without_class_folders_are_unlabeled(files, tmp_path):
    flat = {name.replace("/", "_"): body for name, body in files.items()}
    data = load_training_data(f"folder:{write_zip(tmp_path / 'flat.zip', flat)}", tmp_path)
    assert not data.labeled and data.class_names == () and set(data.labels.tolist()) == {-1}
    assert "unlabeled" in data.message


def test_fewer_than_100_usable_images_is_one_clear_line(files, tmp_path):
    few = dict(list(files.items())[:60])
    with pytest.raises(DataError, match="only 60 usable images .* at least 100 are needed") as refused:
        load_training_data(f"folder:{write_zip(tmp_path / 'few.zip', few)}", tmp_path / "data")
    assert "\n" not in str(refused.value) and not (tmp_path / "data").exists()


def link_entry(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def hostile(path: Path, kind: str) -> Path:
    """A hostile ``kind`` of archive at ``path``."""
    if kind == "not a zip":
        path.write_bytes(b"PK but not really a zip archive" * 10)
        return path
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bad:
        if kind == "zip-slip":
            bad.writestr("digits/../../escaped.png", b"x")
        elif kind == "absolute path":
            bad.writestr("/tmp/escaped.png", b"x")
        elif kind == "symlink":
            bad.writestr(*link_entry("digits/link.png", "/etc/passwd"))
        elif kind == "zip bomb":
            bad.writestr("bomb.png", bytes(20 * 2**20))  # 20 MB of zeros pack into ~20 kB
        elif kind == "empty files":
            for i in range(10_000):
                bad.writestr(f"e{i}.png", b"")
    return path


@pytest.mark.parametrize("kind, message", [("zip-slip", "outside the archive's folder"),
                                           ("absolute path", "outside the archive's folder"),
                                           ("symlink", "symbolic link"), ("zip bomb", "times its size"),
                                           ("empty files", "10,000 empty files"), ("not a zip", "not a .zip")])
def test_a_hostile_archive_is_refused_in_one_line_and_nothing_is_written(tmp_path, kind, message):
    zipped = hostile(tmp_path / "upload.zip", kind)
    before = sorted(tmp_path.parent.rglob("*"))
    with pytest.raises(DataError, match=message) as refused:
        load_training_data(f"folder:{zipped}", tmp_path / "data")
    assert "\n" not in str(refused.value)
    with pytest.raises(DataError, match=message):
        archive.check_zip(zipped)  # the app's check of an upload, before it keeps the file
    assert sorted(tmp_path.parent.rglob("*")) == before


def test_the_archive_limits_are_read_from_its_directory(files, tmp_path, monkeypatch):
    zipped = write_zip(tmp_path / "ok.zip", files)
    assert archive.check_zip(zipped) == len(files)
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(DataError, match="unpacks to 0 MB; the limit is 0 MB"):
        archive.check_zip(zipped)
    monkeypatch.setattr(archive, "MAX_IMAGES", 100)
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", 2**30)
    with pytest.raises(DataError, match="133 pictures; the limit is 100"):
        archive.check_zip(zipped)
    monkeypatch.setattr(archive, "MAX_ZIP_BYTES", 1000)
    with pytest.raises(DataError, match="the limit is 0 MB"):
        load_training_data(f"folder:{zipped}", tmp_path)


def test_a_symlink_out_of_a_folder_is_refused_one_inside_is_read(files, tmp_path):
    root = write_folder(tmp_path / "digits", files)
    os.symlink(root / a_good_name(files), root / "3" / "again.bmp")  # inside: fine
    inside = load_training_data(f"folder:{root}", tmp_path / "data")
    assert (len(inside.skipped), len(inside) + len(inside.held_out()[0])) == (3, N_GOOD + 1)
    secret = tmp_path / "secret.png"
    secret.write_bytes(files[a_good_name(files)])
    os.symlink(secret, root / "3" / "stolen.png")
    with pytest.raises(DataError, match="stolen.png' is a symbolic link out of the folder"):
        load_training_data(f"folder:{root}", tmp_path / "data")


def test_the_dataset_field_takes_folder_paths_and_says_so():
    assert GANConfig(dataset="folder:/somewhere/digits").dataset == "folder:/somewhere/digits"
    for bad in ("folder:", "folder:  "):
        with pytest.raises(ConfigError, match="give a path after 'folder:'"):
            GANConfig(dataset=bad)
    with pytest.raises(ConfigError, match="one of mnist, fashion-mnist, kmnist, emnist-letters or folder:PATH"):
        GANConfig(dataset="digits")
    with pytest.raises(DataError, match="no such folder or .zip file"):
        load_training_data("folder:/no/such/place")


def test_a_run_on_unlabeled_pictures_trains_records_its_data_and_evaluates_without_labels(files, tmp_path, capsys):
    from gan_core.cli.main import main
    from gan_core.runs.checkpoint import load_checkpoint
    from gan_core.train.trainer import Trainer

    flat = write_zip(tmp_path / "flat.zip", {name.replace("/", "_"): body for name, body in files.items()})
    config = GANConfig(**{**TINY, "epochs": 1, "batch_size": 26, "dataset": f"folder:{flat}"})
    data = load_training_data(config.dataset, tmp_path / "data")  # decoded once, then cached for evaluate
    trainer = Trainer(config, "mine", checkpoints=tmp_path, data_dir=tmp_path / "data", threads=0, data=data)
    trainer.start()
    finish(trainer)
    source = load_checkpoint(trainer.paths.checkpoint)["data_source"]
    assert (source["name"], source["count"], source["hash"]) == ("flat", N_GOOD, data.content_hash)
    assert main(["evaluate", "--run", "mine", "--checkpoints", str(tmp_path), "--data-dir", str(tmp_path / "data"),
                 "--n", "200"]) == 0
    out = capsys.readouterr().out
    assert "no labels: FID and precision/recall in pixel PCA-64" in out and "precision " in out
    assert "not available  the readable share, Inception score" in out and "IS " not in out


def test_an_upload_is_checked_before_it_is_kept_and_then_loads_under_its_own_name(files, tmp_path):
    for kind in ("zip-slip", "zip bomb", "not a zip"):
        bad = hostile(tmp_path / f"{kind}.zip", kind).read_bytes()
        with pytest.raises(DataError):
            archive.keep_upload(bad, "../../evil name.zip", tmp_path / "data")
    assert not (tmp_path / "data").exists()
    good = write_zip(tmp_path / "good.zip", files).read_bytes()
    kept = archive.keep_upload(good, "../../My digits!.zip", tmp_path / "data")
    assert kept.parent.parent == tmp_path / "data" / "uploads" and kept.name == "My-digits.zip"
    assert kept.read_bytes() == good and archive.keep_upload(good, "My digits!.zip", tmp_path / "data") == kept
    assert load_training_data(f"folder:{kept}", tmp_path / "data").name == "My-digits"


def test_a_sweep_over_unlabeled_pictures_prepares_no_judge_and_does_not_fail(tmp_path):
    # The sweep trains each labelled dataset's judge before its runs start; pictures without classes have
    # none (the judge classifier refused them: the whole sweep failed before its first run).
    from gan_core.sweep.driver import _prepare_judges

    flat = {name.replace("/", "_"): body for name, body in digit_files(120, broken=False).items()}
    folder = write_folder(tmp_path / "pictures", flat)
    _prepare_judges([tiny_config(dataset=f"folder:{folder}", eval_every=1)], tmp_path / "ck", tmp_path / "data")
    assert not (tmp_path / "ck").exists()  # nothing trained, nothing cached


def test_a_cache_miss_reads_each_file_once_and_opens_a_zip_once(files, tmp_path, monkeypatch):
    # The digest and the decoding share one reading (they read every file twice, and a .zip was opened
    # three times: its directory's check, the digest, the decoding).
    opened, reads = [], []
    real_open, real_read = archive._open_zip, Path.read_bytes
    monkeypatch.setattr(archive, "_open_zip", lambda source: opened.append(source) or real_open(source))
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or real_read(self))
    zipped = load_training_data(f"folder:{write_zip(tmp_path / 'once.zip', files)}", tmp_path / "data")
    assert len(opened) == 1 and len(zipped) + len(zipped.held_out()[0]) == N_GOOD
    root = write_folder(tmp_path / "once", files)
    load_training_data(f"folder:{root}", tmp_path / "data2")
    assert sorted(reads) == sorted(root / name for name in files)  # every file, once


def test_the_walks_upload_zip_loads_497_pictures_and_lists_its_3_broken_files(tmp_path):
    from folder_helpers import make_upload_zip

    zipped = make_upload_zip(tmp_path / "upload.zip")
    assert archive.check_zip(zipped.read_bytes()) == 500  # the app's check of an upload passes it
    data = load_training_data(f"folder:{zipped}", tmp_path / "data")
    assert len(data) + len(data.held_out()[0]) == 497 and len(data.skipped) == 3
    assert data.label_names == tuple("0123456789") and data.name == "upload"
    assert all(f"digits/{name}" in data.message for name in BROKEN)
