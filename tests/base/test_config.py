import argparse
import dataclasses
import subprocess
import sys

import pytest

from gan_core.cli.main import build_parser, config_flags
from gan_core.config import GROUPS, ConfigError, GANConfig, fields, validate_run_name
from gan_core.presets import RUN_FIELDS, preset_config

from helpers import inside, outside

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


def train_flags() -> dict[str, argparse.Action]:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {flag: action for action in commands.choices["train"]._actions for flag in action.option_strings}


@pytest.mark.parametrize("spec", fields(), ids=lambda spec: spec.name)
def test_every_field_has_a_train_flag_with_its_type_range_and_choices(spec):
    flags = train_flags()
    action = flags[spec.flag]
    assert action.dest == spec.name
    assert spec.help in action.help and spec.range_text() in action.help
    if spec.kind is bool:
        assert isinstance(action, argparse.BooleanOptionalAction)
        for given, value in ((spec.flag, True), ("--no-" + spec.flag[2:], False)):
            args = build_parser().parse_args(["train", "--run", "x", given])
            assert config_flags(args) == {spec.name: value}
        return
    if spec.choices:
        opened = (spec.open_prefix + "x",) if spec.open_prefix else ()  # folder:PATH: GANConfig checks it
        assert tuple(action.choices or spec.choices) == spec.choices
        for choice in (*spec.choices, *opened):
            args = build_parser().parse_args(["train", "--run", "x", spec.flag, choice])
            assert preset_config(**config_flags(args)).to_dict()[spec.name] == choice
        with pytest.raises((SystemExit, ConfigError)):
            preset_config(**config_flags(build_parser().parse_args(["train", "--run", "x", spec.flag, "not-a-choice"])))
        return
    assert action.type is spec.kind
    args = build_parser().parse_args(["train", "--run", "x", spec.flag, str(inside(spec))])
    assert preset_config(**config_flags(args)).to_dict()[spec.name] == inside(spec)
    args = build_parser().parse_args(["train", "--run", "x", spec.flag, str(outside(spec))])
    with pytest.raises(ConfigError) as info:
        preset_config(**config_flags(args))
    assert info.value.field == spec.name
    assert str(info.value) == f"{spec.name}: must be in {spec.range_text()}, got {outside(spec)!r}"


def test_field_metadata_is_complete_and_generates_validation_and_run_fields():
    specs = fields()
    assert [spec.name for spec in specs] == [f.name for f in dataclasses.fields(GANConfig)]
    for spec in specs:
        assert spec.label and spec.help and spec.group in GROUPS, spec.name
        assert spec.default == getattr(GANConfig(), spec.name)
    # Each number box's step and format moved with the hints to the UI: tests/app/test_hints.py.
    assert tuple(spec.name for spec in specs if spec.run_field) == RUN_FIELDS
    assert {"epochs", "seed", "device"} <= set(RUN_FIELDS) and "lr_d" not in RUN_FIELDS


def test_cross_field_rule_pack_divides_batch_size():
    with pytest.raises(ConfigError) as info:
        GANConfig(batch_size=100, pack=3)
    assert info.value.field == "pack" and "must divide batch_size 100" in str(info.value)
    assert GANConfig(batch_size=96, pack=3).pack == 3

