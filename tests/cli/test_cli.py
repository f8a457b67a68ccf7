import numpy as np
import pytest
from PIL import Image

from gan_core.cli.main import main
from gan_core.runs.folder import RunPaths

from helpers import write_mnist_idx


@pytest.fixture()
def dirs(tmp_path):
    return {"data": write_mnist_idx(tmp_path / "data", n=60), "ckpt": tmp_path / "ckpt"}


def train(dirs, *extra):
    return main(["train", "--checkpoints", str(dirs["ckpt"]), "--data-dir", str(dirs["data"]),
                 "--batch-size", "20", "--eval-every", "0", "--quiet", *extra])


def test_train_then_continue_then_sample(dirs, capsys, tmp_path):
    assert train(dirs, "--run", "demo", "--epochs", "2", "--seed", "3") == 0
    out = capsys.readouterr()
    assert "finished: run 'demo' at epoch 2/2, step 6" in out.out
    rate = float(out.out.strip().splitlines()[-1].removeprefix("images/s: "))
    assert rate > 0
    assert "60 training images from" in out.err and "+20 test images held out" in out.err  # the source line
    assert "first step " in out.err and " s after launch" in out.err

    resume = ["train", "--run", "demo", "--epochs", "3", "--continue", "--checkpoints", str(dirs["ckpt"]),
              "--data-dir", str(dirs["data"]), "--quiet"]
    assert main(resume) == 0
    paths = RunPaths.of(dirs["ckpt"], "demo")
    assert paths.sample_epochs() == [1, 2, 3]
    assert len(paths.losses_csv.read_text().splitlines()) == 4

    npy, png = tmp_path / "out" / "s.npy", tmp_path / "out" / "s.png"
    assert main(["sample", "--run", "demo", "--checkpoints", str(dirs["ckpt"]), "--n", "12", "--out", str(npy)]) == 0
    images = np.load(npy)
    assert images.shape == (12, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    assert main(["sample", "--run", "demo", "--checkpoints", str(dirs["ckpt"]), "--n", "12", "--out", str(png)]) == 0
    assert Image.open(png).size == (4 * 30 + 2, 3 * 30 + 2)


def test_existing_run_needs_continue(dirs, capsys):
    assert train(dirs, "--run", "demo", "--epochs", "1") == 0
    capsys.readouterr()
    assert train(dirs, "--run", "demo", "--epochs", "1") == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "sample"])
def test_missing_run_is_one_clear_line(dirs, capsys, command, tmp_path):
    args = (["train", "--run", "ghost", "--resume", "--checkpoints", str(dirs["ckpt"])] if command == "train"  # alias
            else ["sample", "--run", "ghost", "--checkpoints", str(dirs["ckpt"]), "--out", str(tmp_path / "x.png")])
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "has no checkpoint" in err


@pytest.mark.parametrize("command", ["train", "sample"])
def test_damaged_run_is_one_clear_line(dirs, capsys, command, tmp_path):
    paths = RunPaths.of(dirs["ckpt"], "broken")
    paths.folder.mkdir(parents=True)
    paths.checkpoint.write_bytes(b"PK\x03\x04 not really a zip")
    args = (["train", "--run", "broken", "--resume", "--checkpoints", str(dirs["ckpt"])] if command == "train"
            else ["sample", "--run", "broken", "--checkpoints", str(dirs["ckpt"]), "--out", str(tmp_path / "x.npy")])
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert str(paths.checkpoint) in err and "damaged or truncated" in err
