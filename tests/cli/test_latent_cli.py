import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from gan_core.cli.main import main
from gan_core.runs.checkpoint import load_generator
from gan_core.runs.folder import RunPaths

from helpers import write_mnist_idx


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    data = write_mnist_idx(root / "data", n=40)
    assert main(["train", "--run", "demo", "--epochs", "1", "--checkpoints", str(root / "ckpt"), "--data-dir",
                 str(data), "--batch-size", "20", "--eval-every", "0", "--quiet"]) == 0
    return root / "ckpt"


def test_invert_then_sample_renders_the_reconstruction(run, tmp_path, capsys):
    generator, _ = load_generator(RunPaths.of(run, "demo").checkpoint)
    png = tmp_path / "digit.png"
    picture = Image.new("L", (140, 140), 255)
    ImageDraw.Draw(picture).line([(30, 20), (100, 20), (60, 120)], fill=0, width=10)  # a dark "7" on paper
    picture.save(png)
    z_file = tmp_path / "z.npy"
    assert main(["invert", "--run", "demo", "--checkpoints", str(run), "--image", str(png), "--out", str(z_file),
                 "--steps", "20"]) == 0
    assert "pixel MSE" in capsys.readouterr().out
    z = np.load(z_file)
    assert z.shape == (1, 100) and z.dtype == np.float32 and np.abs(z).max() <= 1
    out = tmp_path / "again.npy"
    assert main(["sample", "--run", "demo", "--checkpoints", str(run), "--z", str(z_file), "--out", str(out)]) == 0
    with torch.no_grad():
        expected = generator(torch.from_numpy(z)).reshape(1, 28, 28).numpy()
    np.testing.assert_allclose(np.load(out), expected, atol=1e-6)  # the very images the app shows for z
    grid = tmp_path / "again.png"
    assert main(["sample", "--run", "demo", "--checkpoints", str(run), "--z", str(z_file), "--out", str(grid)]) == 0
    assert Image.open(grid).size == (32, 32)


def test_invert_refuses_a_text_file_in_one_line(run, tmp_path, capsys):
    fake = tmp_path / "fake.png"
    fake.write_text("this is text\n")
    assert main(["invert", "--run", "demo", "--checkpoints", str(run), "--image", str(fake), "--out",
                 str(tmp_path / "z.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not an image" in err
    assert not (tmp_path / "z.npy").exists()


def test_sample_refuses_latents_of_the_wrong_size(run, tmp_path, capsys):
    z_file = tmp_path / "z.npy"
    np.save(z_file, np.zeros((2, 7), np.float32))
    assert main(["sample", "--run", "demo", "--checkpoints", str(run), "--z", str(z_file), "--out",
                 str(tmp_path / "x.png")]) == 2
    assert "takes 100" in capsys.readouterr().err
