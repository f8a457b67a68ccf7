"""The package map of docs/design.md, enforced: which package may import which, no circles, sizes.

Every import of gan_core and ganlab is read from the source (``TYPE_CHECKING`` and function-level imports
included), so a lazy import cannot hide a dependency that the map forbids.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Layers, lowest first: a module may import from its own layer and the ones below, never above. Packages
# on one layer (a tuple) must not import each other. gan_core's top-level modules are its base layer.
LAYERS = {
    "gan_core": ["(base)", "data", "gan", "quality", "runs", ("latent", "train"), "sweep", "cli"],
    "ganlab": ["state", "charts", "widgets", ("train", "explore", "runs"), "pages"],
}
MAX_LINES = 350
MAX_MODULES = 15


def _modules(top: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``top``."""
    out = {}
    for path in sorted((ROOT / top).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """The gan_core / ganlab modules (or packages) that ``name`` imports, resolved to absolute names."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}  # "from . import checkpoint"
    return {m for m in found if m.split(".")[0] in LAYERS}


def _unit(module: str) -> str:
    """The package a module belongs to in the map: gan_core.runs.demo -> runs; gan_core.config -> (base)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "(root)"
    sub = parts[1]
    return sub if (ROOT / parts[0] / sub).is_dir() else "(base)"


def _layer(top: str, unit: str) -> int:
    for i, entry in enumerate(LAYERS[top]):
        if unit == entry or (isinstance(entry, tuple) and unit in entry):
            return i
    raise AssertionError(f"{top}/{unit} is not in the package map (tests/test_architecture.py, docs/design.md)")


def violations(top: str) -> list[str]:
    modules = _modules(top)
    bad = []
    for name, path in modules.items():
        unit = _unit(name)
        if unit == "(root)":
            continue  # the package's face (__init__, __main__) may re-export anything
        if name == f"{top}.__main__":
            continue
        for target in sorted(_imports(name, path)):
            if target.split(".")[0] != top:
                continue  # ganlab may use all of gan_core; gan_core never imports ganlab (checked below)
            if target not in modules:
                continue  # "from gan_core.x import Name": the module part is checked as its own entry
            other = _unit(target)
            if other in ("(root)", unit):
                if other == "(root)" and top == "gan_core":
                    bad.append(f"{name} imports the package face {target}")
                continue
            mine, theirs = _layer(top, unit), _layer(top, other)
            if theirs > mine or (theirs == mine and other != unit):
                bad.append(f"{name} ({unit}) imports {target} ({other})")
    return bad


@pytest.mark.parametrize("top", sorted(LAYERS))
def test_no_import_goes_up_the_map(top: str) -> None:
    assert violations(top) == []


def test_the_library_never_imports_the_app_or_a_screen() -> None:
    screens = {"ganlab", "streamlit", "altair", "pandas"}
    for name, path in _modules("gan_core").items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            assert not {n.split(".")[0] for n in names} & screens, f"{name} imports {names}"


@pytest.mark.parametrize("top", sorted(LAYERS))
def test_no_import_circle(top: str) -> None:
    modules = _modules(top)
    graph = {name: {t for t in _imports(name, path) if t in modules and t != name}
             for name, path in modules.items() if _unit(name) != "(root)"}
    graph = {name: {t for t in targets if t in graph} for name, targets in graph.items()}
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_the_map_catches_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a base module importing the trainer is reported."""
    fake = tmp_path / "gan_core"
    (fake / "train").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "train" / "__init__.py").write_text("")
    (fake / "train" / "trainer.py").write_text("X = 1\n")
    (fake / "config.py").write_text("from .train.trainer import X\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations("gan_core") == ["gan_core.config ((base)) imports gan_core.train.trainer (train)"]


def test_files_and_folders_stay_small() -> None:
    folders: dict[Path, int] = {}
    for top in ("gan_core", "ganlab", "bench", "tools", "tests"):
        for path in (ROOT / top).rglob("*.py"):
            if "fixtures" in path.parts:
                continue
            lines = len(path.read_text().splitlines())
            assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES})"
            if path.name != "__init__.py":
                folders[path.parent] = folders.get(path.parent, 0) + 1
    for folder, count in folders.items():
        assert count <= MAX_MODULES, f"{folder.relative_to(ROOT)} holds {count} modules"
