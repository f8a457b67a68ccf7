"""Every on-disk format tag, pinned: files written before a refactor keep loading with no shim.

A tag names the writer's module as it was when the format was made ("gan_core.judge" is older than
gan_core/quality/judge.py); it is a name on disk, not an import path, and never follows a module that moves.
The loaders of these files are tested with real old files: the version-1 checkpoint (tests/fixtures,
tests/runs/test_migrations.py), the shipped demo (below and tests/runs/test_demo.py), the bundled judge and
referee (tests/quality/test_judge_loader.py) and a sweep manifest written before the move into packages
(below).
"""

import json
import shutil
from pathlib import Path

from gan_core.quality import classifier, judge, neighbours, referee
from gan_core.runs import checkpoint, demo
from gan_core.sweep import plan

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def test_the_format_tags_are_the_ones_on_disk() -> None:
    assert checkpoint.FORMAT == "gan_core.checkpoint"
    assert demo.DEMO_FORMAT == "gan_core.demo"
    assert judge.JUDGE_FORMAT == "gan_core.judge"
    assert referee.REFEREE_FORMAT == "gan_core.referee"
    assert classifier.PARTIAL_FORMAT == "gan_core.judge.partial"
    assert neighbours.FEATURES_FORMAT == "gan_core.neighbour_features"
    assert (plan.MANIFEST_FORMAT, plan.MANIFEST_VERSION) == ("gan_core.sweep", 1)


def test_the_shipped_demo_carries_its_tag_and_opens() -> None:
    manifest = json.loads((ROOT / "demo" / demo.MANIFEST).read_text())
    assert manifest["format"] == demo.DEMO_FORMAT
    run = demo.open_demo(ROOT / "demo")
    assert manifest["version"] == demo.DEMO_VERSION == 1
    assert run.snapshot().epoch == manifest["epoch"] == 400
    # Its config predates issue 24's fields: it loads as what it trained, the unconditional MLP pair.
    assert run.config.to_dict() == {**manifest["config"], "architecture": "mlp", "conditional": False}


def test_a_sweep_manifest_written_before_the_move_reads_unchanged(tmp_path: Path) -> None:
    folder = plan.manifest_path(tmp_path, "pinned").parent
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "sweep_manifest_v1.json", folder / "pinned.json")
    manifest = plan.read_manifest(tmp_path, "pinned")
    runs = plan.sweep_runs(manifest)
    assert [r.name for r in runs] == ["pinned-clean-losslsgan-s0", "pinned-clean-losslsgan-s1",
                                      "pinned-seed-losslsgan-s0", "pinned-seed-losslsgan-s1"]
    assert runs[2].config(manifest["epochs"]).loss == "lsgan" and runs[2].preset == "seed"
