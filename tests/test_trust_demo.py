"""The demo run: exported from a checkpoint, opened read-only, refused when damaged or swapped."""

import json

import numpy as np
import pytest

from gan_core import demo
from gan_core.cli import main
from gan_core.model import seeded_z
from gan_core.reader import SavedRun
from gan_core.runs import RunPaths
from gan_core.trainer import Trainer
from gan_core.view import Status

from helpers import tiny_config, tiny_data


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    trainer = Trainer(tiny_config(eval_every=0, spectral_norm=True), "run", checkpoints=root / "ckpt",
                      data=tiny_data())
    trainer.start()
    trainer.join(600)
    assert trainer.snapshot().status == "finished", trainer.snapshot().error
    checkpoint = RunPaths.of(root / "ckpt", "run").checkpoint
    demo.export_demo(checkpoint, root / "demo", command="python -m gan_core train ...", evaluation={"fid": 1.0})
    return root, checkpoint


def copy_demo(exported, tmp_path):
    root, _ = exported
    folder = tmp_path / "demo"
    folder.mkdir()
    for name in (demo.WEIGHTS, demo.MANIFEST):
        (folder / name).write_bytes((root / "demo" / name).read_bytes())
    return folder


def test_the_demo_draws_what_its_run_drew_in_half_precision_and_fits_in_8_mb(exported):
    root, checkpoint = exported
    size = sum((root / "demo" / name).stat().st_size for name in (demo.WEIGHTS, demo.MANIFEST))
    assert size <= 8 * 2**20
    run, saved = demo.open_demo(root / "demo"), SavedRun.open(checkpoint)
    z = seeded_z(1, run.config.z_dim, 16)
    assert np.abs(run.sample(z) - saved.sample(z)).max() < 0.02  # float16 weights
    assert run.sample(z, which="raw") is None  # no raw G is shipped
    assert run.config == saved.config and run.snapshot().step == saved.snapshot().step
    assert np.allclose(run.history(), saved.history(), atol=1e-4)
    assert run.read_only and run.manifest["evaluation"] == {"fid": 1.0}
    grid = run.verdicts()["grid"]
    assert np.allclose(grid["values"], saved.verdicts()["grid"]["values"], atol=0.02)


def test_a_demo_exported_before_gradient_norms_opens_with_them_not_recorded(exported, tmp_path):
    folder = copy_demo(exported, tmp_path)
    manifest = json.loads((folder / demo.MANIFEST).read_text())
    new = np.array(manifest["history"], dtype=np.float32)
    assert new.shape[1] == 6 and np.isfinite(new).all()  # recorded in the run it was exported from
    manifest["history"] = new[:, :4].tolist()  # the older 4-column layout
    (folder / demo.MANIFEST).write_text(json.dumps(manifest))
    run = demo.open_demo(folder)
    assert np.array_equal(run.history()[:, :4], new[:, :4]) and np.isnan(run.history()[:, 4:]).all()
    assert run.snapshot().d_loss == pytest.approx(float(new[-1, 0])) and run.snapshot().g_grad_norm is None


def test_a_damaged_weights_file_is_refused(exported, tmp_path):
    folder = copy_demo(exported, tmp_path)
    blob = bytearray((folder / demo.WEIGHTS).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (folder / demo.WEIGHTS).write_bytes(bytes(blob))
    with pytest.raises(demo.DemoError, match="sha256"):
        demo.open_demo(folder)
    (folder / demo.WEIGHTS).write_bytes(b"")
    with pytest.raises(demo.DemoError, match=demo.WEIGHTS):
        demo.open_demo(folder)


def test_a_swapped_weights_file_is_refused_even_with_a_matching_hash(exported, tmp_path):
    folder = copy_demo(exported, tmp_path)
    from safetensors.torch import load, save

    tensors = load((folder / demo.WEIGHTS).read_bytes())
    header = demo._metadata((folder / demo.WEIGHTS).read_bytes())
    # Another network's weights under the same names: D's first layer one column short.
    tensors["discriminator.net.0.bias"] = tensors["discriminator.net.0.bias"][:-1].contiguous()
    blob = save(tensors, metadata=header)
    (folder / demo.WEIGHTS).write_bytes(blob)
    manifest = json.loads((folder / demo.MANIFEST).read_text())
    import hashlib

    manifest["sha256"] = hashlib.sha256(blob).hexdigest()
    (folder / demo.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(demo.DemoError, match="discriminator weights do not match"):
        demo.open_demo(folder)
    manifest["config"]["z_dim"] = 50  # a manifest from another run
    (folder / demo.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(demo.DemoError, match="header"):
        demo.open_demo(folder)


def test_a_damaged_manifest_is_refused(exported, tmp_path):
    folder = copy_demo(exported, tmp_path)
    (folder / demo.MANIFEST).write_text("{ not json")
    with pytest.raises(demo.DemoError, match="damaged demo manifest"):
        demo.open_demo(folder)


def test_continuing_the_demo_is_refused_with_a_clear_message(exported, tmp_path, capsys):
    folder = copy_demo(exported, tmp_path)
    trainer = Trainer(tiny_config(eval_every=0), "demo", checkpoints=folder.parent, data=tiny_data(), continue_run=True)
    trainer.start()
    trainer.join(30)
    assert trainer.snapshot().status == Status.ERROR and trainer.snapshot().error == demo.CONTINUE_REFUSED
    assert main(["train", "--run", "demo", "--checkpoints", str(folder.parent), "--continue", "--quiet"]) == 2
    assert "read-only" in capsys.readouterr().err


def test_the_shipped_demo_opens_though_its_header_predates_newer_config_fields():
    from pathlib import Path

    from gan_core.config import GANConfig

    shipped = Path(__file__).resolve().parents[1] / "demo"
    manifest = json.loads((shipped / demo.MANIFEST).read_text())
    missing = set(GANConfig().to_dict()) - set(manifest["config"])
    assert missing  # exported before some of today's fields (e.g. checkpoint_seconds): they take defaults
    run = demo.open_demo(shipped)
    assert run.config == GANConfig.from_dict(manifest["config"])
