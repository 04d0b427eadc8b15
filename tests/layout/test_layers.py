"""The package layout is the architecture: import-linter's contracts in pyproject.toml hold.

Each stage imports only stages before it (sources -> model -> load plan -> findings -> fixes ->
rules -> report -> scan/explain -> formats -> api -> cli), with no cycles, including imports made
inside functions (grimp sees those too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """lint-imports exits 0 on this tree; a broken contract makes it print the offending import chain."""
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT / "src"))
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_contracts_cover_every_top_level_module() -> None:
    """A new top-level module or package must be given a layer, or the contract would not see it."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    top = next(c for c in cfg["tool"]["importlinter"]["contracts"] if c["containers"] == ["iisbitness"])
    layered = {name.strip() for layer in top["layers"] for name in layer.split("|")}
    pkg = ROOT / "src" / "iisbitness"
    present = {p.stem for p in pkg.glob("*.py") if p.stem != "__init__"}
    present |= {p.name for p in pkg.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    present -= {"demo"}  # NOTE: example server images, no code
    assert present - layered == set()
