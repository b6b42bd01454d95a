"""engine/ is laid out by role and every import points down the layers: a test holds what the packages promise."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).parent.parent / "engine"
# From the bottom (shared vocabulary) up: a module may import its own layer and the layers before it.
LAYERS = ["vocabulary", "data", "store", "health", "control", "training", "commands"]


def layer_of(module: str) -> str:
    """'engine.store.history' -> 'store'; a top-level module such as 'engine.events' -> 'vocabulary'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "vocabulary"


def engine_imports(path: Path) -> list[str]:
    """Every module a file imports, from its syntax tree (function-level imports included)."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            if node.module in ("engine", *(f"engine.{layer}" for layer in LAYERS)):
                found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ENGINE.parent).with_suffix("").parts).removesuffix(".__init__")


def test_every_engine_import_points_down_the_layers():
    upward = []
    for path in sorted(ENGINE.rglob("*.py")):
        own = LAYERS.index(layer_of(module_name(path)))
        for target in engine_imports(path):
            if target.startswith("engine.") and LAYERS.index(layer_of(target)) > own:
                upward.append(f"{module_name(path)} imports {target}")
    assert upward == []


def test_store_and_data_never_import_training_control_or_commands():
    for package in ("store", "data"):
        for path in (ENGINE / package).rglob("*.py"):
            reached = {layer_of(t) for t in engine_imports(path) if t.startswith("engine.")}
            assert not reached & {"training", "control", "commands"}, path


def test_nothing_in_engine_imports_the_ui():
    for path in ENGINE.rglob("*.py"):
        roots = {target.split(".")[0] for target in engine_imports(path)}
        assert not roots & {"textual", "tui"}, path


def test_the_checker_sees_an_upward_import(tmp_path):
    """The direction test can fail: an import from store/ up into training/ is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("from engine.training.trainer import Trainer\n")
    assert layer_of("engine.store.history") == "store"
    assert [t for t in engine_imports(bad) if LAYERS.index(layer_of(t)) > LAYERS.index("store")] == ["engine.training.trainer"]


def test_each_package_says_what_it_holds_and_may_import():
    for package in [ENGINE, *(ENGINE / layer for layer in LAYERS[1:])]:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
        assert doc and ("May import" in doc or package == ENGINE), package


def test_patience_counts_epochs_without_a_gain_and_a_nan_is_none():
    from engine.early_stopping import Patience

    patience = Patience(patience=2, min_delta=1e-3)
    gains = [patience.update(epoch, loss) for epoch, loss in enumerate([1.0, 0.9, 0.8995, float("nan")], start=1)]
    assert gains == [True, True, False, False] and patience.best_epoch == 2 and patience.exhausted


def test_knob_values_reads_each_knob_at_its_config_path():
    from engine.config import Config
    from engine.knobs import knob_values

    assert knob_values(Config().model_dump()) == {"lr": 0.001, "weight_decay": 0.0001, "dropout": 0.3, "clf_weight": 0.5}
    assert knob_values({}) == {"lr": None, "weight_decay": None, "dropout": None, "clf_weight": None}
