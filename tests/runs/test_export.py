"""``python -m gan_core export``: the ONNX file computes what PyTorch computes (onnxruntime, 64 latents,
fp32, any batch), the safetensors file reloads into the API's generator bit for bit, and each carries its
model card, inside and beside it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from safetensors.torch import load_file, safe_open

from gan_core import GANConfig, open_run
from gan_core.cli.main import main
from gan_core.gan.model import generate, seeded_z
from gan_core.gan.nets import make_generator
from gan_core.runs.export import CARD_FORMAT, CARD_KEY, model_card

from helpers import train

SHIPPED_DEMO = Path(__file__).resolve().parents[2] / "demo"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny finished run with an EMA generator, exported by the CLI in both formats."""
    root = tmp_path_factory.mktemp("export")
    train(root / "ckpt", "tiny", 2, ema_decay=0.9)
    files = {}
    for file_format in ("onnx", "safetensors"):
        out = root / "out" / f"g.{file_format}"
        assert main(["export", "--run", "tiny", "--checkpoints", str(root / "ckpt"), "--format", file_format,
                     "--out", str(out)]) == 0
        files[file_format] = out
    return open_run(root / "ckpt" / "tiny"), files


def test_onnx_matches_pytorch_within_1e4_on_64_latents_at_any_batch(exported):
    run, files = exported
    z = seeded_z(7, run.config.z_dim, 64)
    expected = generate(run.generator, z).numpy()  # the EMA generator in eval mode, as every view draws
    session = onnxruntime.InferenceSession(str(files["onnx"]), providers=["CPUExecutionProvider"])
    got = session.run(None, {"z": z.numpy()})[0]
    assert got.shape == (64, 28, 28) and got.dtype == np.float32
    assert np.abs(got - expected).max() <= 1e-4
    # The batch is dynamic, and BatchNorm uses its running statistics: one latent alone draws the same digit.
    alone = session.run(None, {"z": z[5:6].numpy()})[0]
    assert alone.shape == (1, 28, 28) and np.abs(alone[0] - expected[5]).max() <= 1e-4


def test_safetensors_reloads_into_the_api_generator_bit_for_bit(exported):
    run, files = exported
    with safe_open(str(files["safetensors"]), "pt") as handle:
        card = json.loads(handle.metadata()[CARD_KEY])
    reloaded = make_generator(GANConfig.from_dict(card["config"])).eval()
    reloaded.load_state_dict(load_file(files["safetensors"]))
    for key, value in run.generator.state_dict().items():
        assert torch.equal(reloaded.state_dict()[key], value), key
    z = seeded_z(3, run.config.z_dim, 64)
    assert np.array_equal(generate(reloaded, z).numpy(), run.sample(64, seed=3))


@pytest.mark.parametrize("file_format", ["onnx", "safetensors"])
def test_the_model_card_travels_beside_and_inside_the_file(exported, file_format):
    run, files = exported
    out = files[file_format]
    card = json.loads(Path(f"{out}.json").read_text())
    assert card["format"] == CARD_FORMAT and card["file_format"] == file_format and card["generator"] == "ema"
    assert card["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert GANConfig.from_dict(card["config"]) == run.config and (card["epochs"], card["step"]) == (2, 8)
    assert card["dataset"]["name"] == "mnist" and card["dataset"]["train_size"] == 80
    assert card["z_prior"] == {"distribution": "uniform", "low": -1.0, "high": 1.0, "dim": run.config.z_dim,
                               "python": f"torch.rand(n, {run.config.z_dim}) * 2 - 1"}
    assert card["fid"] is None  # the tiny run measured none
    if file_format == "onnx":
        inside = {p.key: p.value for p in onnx.load(str(out)).metadata_props}[CARD_KEY]
    else:
        with safe_open(str(out), "pt") as handle:
            inside = handle.metadata()[CARD_KEY]
    assert json.loads(inside) == {k: v for k, v in card.items() if k not in ("sha256", "bytes")}


def test_the_demo_card_names_its_measured_fid(tmp_path):
    demo = open_run(SHIPPED_DEMO)
    card = model_card(demo, "safetensors")
    assert card["fid"]["value"] == demo.reader.manifest["evaluation"]["fid"] and card["epochs"] == demo.epoch


def test_a_wrong_suffix_or_a_missing_run_is_one_line(exported, tmp_path, capsys):
    assert main(["export", "--run", "tiny", "--format", "onnx", "--out", str(tmp_path / "g.safetensors")]) == 2
    assert main(["export", "--run", "ghost", "--checkpoints", str(tmp_path), "--format", "onnx",
                 "--out", str(tmp_path / "g.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "must end in .onnx" in err[0] and "no checkpoint file" in err[1]
    assert not list(tmp_path.iterdir())
