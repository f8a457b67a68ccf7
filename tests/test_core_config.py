import dataclasses
import subprocess
import sys

import pytest

from gan_core.config import ConfigError, GANConfig, validate_run_name

SEED_DEFAULTS = dict(batch_size=100, lr_d=2e-4, lr_g=2e-4, beta1_d=0.1, beta1_g=0.5, beta2=0.999, z_dim=100,
                     dropout_keep=0.5, leaky_slope=0.2, d_steps=1, seed=0, dataset="mnist", device="auto")


def test_defaults_are_the_seeds():
    config = GANConfig()
    for name, value in SEED_DEFAULTS.items():
        assert getattr(config, name) == value, name


@pytest.mark.parametrize("field,value,fragment", [
    ("batch_size", 0, "[2, 4096]"),
    ("batch_size", 1.5, "must be int"),
    ("batch_size", True, "must be int"),
    ("lr_d", -1e-4, "(0, 1]"),
    ("lr_g", 0.0, "(0, 1]"),
    ("lr_g", float("nan"), "finite"),
    ("beta1_d", 1.0, "[0, 1)"),
    ("beta1_g", -0.1, "[0, 1)"),
    ("beta2", 1.5, "[0, 1)"),
    ("dropout_keep", 0.0, "(0, 1]"),
    ("leaky_slope", 1.0, "[0, 1)"),
    ("z_dim", 0, "[1, 4096]"),
    ("d_steps", 0, "[1, 100]"),
    ("epochs", 0, "[1, 100000]"),
    ("seed", -1, "[0,"),
    ("init_std", 0.0, "(0, 1]"),
    ("log_every", 0, "[1, 10000]"),
    ("dataset", "cifar", "mnist, fashion-mnist"),
    ("dataset", 3, "must be str"),
    ("device", "tpu", "auto, cpu, cuda"),
])
def test_each_invalid_field_raises_the_typed_error_naming_it(field, value, fragment):
    with pytest.raises(ConfigError) as info:
        GANConfig(**{field: value})
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert fragment in str(info.value)


def test_round_trip_through_dict_and_unknown_keys():
    config = GANConfig(epochs=3, lr_g=1e-3)
    assert GANConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="bogus"):
        GANConfig.from_dict({**config.to_dict(), "bogus": 1})


def test_config_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        GANConfig().epochs = 5  # type: ignore[misc]


@pytest.mark.parametrize("name", ["../etc", "a/b", "", ".", "-x", "x" * 65])
def test_run_names_cannot_escape_the_checkpoints_folder(name):
    with pytest.raises(ConfigError):
        validate_run_name(name)


def test_cli_prints_validation_message_without_traceback_and_exits_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gan_core", "train", "--run", "x", "--batch-size", "0",
                             "--checkpoints", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: batch_size: must be in [2, 4096], got 0"
    assert "Traceback" not in result.stderr
