"""A pool's worker exists whether or not it loads anything of ours (WAS starts a w3wp.exe for every pool that hosts
applications, at the pool's bitness: facts A4). A fix that runs a worker whose every entry a preCondition keeps out at
another architecture changes that worker's architecture; it creates no worker ("each pool gets a w3wp.exe of its
own" was said of it, with the old pool's bitness as the new pool's setting). And a fix after which a worker loads
nothing of ours still says what it takes out of it (nothing was said). The entries are a real server's: Camstar's
``cepiis.dll`` module and ``*`` mapping (tests/fixtures/config/real, Gowthamdccpl)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.config.apphost import read_server
from iisbitness.findings import EffectKind
from iisbitness.fixes.effects import side_effects
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.build import build
from iisbitness.loadplan.context import PlanContext
from iisbitness.model.edits import SetPoolArch, apply_all
from tests.fix.test_handler_bypassed import HANDLER, _image, _pool32

UNGUARDED = HANDLER.replace(' preCondition="bitness64"', "")
"""The real mapping without its preCondition: IIS answers 500.21 where the module is not loaded."""


def _scan(img: Path, *args: str) -> str:
    res = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["scan", str(img), *args])
    assert res.exit_code == 1, res.output
    return res.stdout


def test_a_flip_of_a_worker_that_loaded_nothing_of_ours_runs_that_worker_at_another_architecture(
        tmp_path: Path) -> None:
    """The 32-bit pool's only entry of ours is the bitness64 module (skipped there); its mapping gets 500.21, and the
    flip to 64-bit is the fix: the same worker, now x64, now loading the module."""
    img = _pool32(tmp_path, UNGUARDED)
    doc = json.loads(_scan(img, "--format", "json"))
    [finding] = [f for f in doc["findings"] if f["rule"] == "handler-module-skipped"]
    flip = next(x for x in doc["fixes"] if x["label"] == "run the pool as 64-bit")
    assert flip["number"] in finding["fix_numbers"] and flip["verified"] is True
    assert [(e["kind"], e["name"], e["before"], e["after"], e["applications"]) for e in flip["side_effects"]] == [
        ("arch", "P", "x86", "x64", ["A/"]), ("loaded", "CamstarAppServer", "x86", "x64", [])]
    text = _scan(img)
    assert "also: global module CamstarAppServer now loads in P" in text
    assert "of its own" not in text and "new pool" not in text


def test_a_fix_after_which_a_worker_loads_nothing_of_ours_says_what_it_takes_out(tmp_path: Path) -> None:
    """The 64-bit pool loads only the bitness64 module; run at 32-bit, its worker skips it: the worker is still there,
    at x86, without the module, and the mapping that names it fails with 500.21."""
    img = ServerImage.offline(_image(tmp_path, UNGUARDED, content=("sites/a/index.htm", "a")))
    server = read_server(img, Arch.X64, "test")
    ctx = PlanContext(img)
    before = build(server, ctx)
    assert [ld.name for ld in before.loads if ld.process.pool is not None] == ["CamstarAppServer"]
    after = build(apply_all(server, (SetPoolArch("P", Arch.X86),)), ctx)
    assert not [ld for ld in after.loads if ld.process.pool is not None]
    effects = side_effects(before, after)
    assert [(e.kind, e.name, e.before, e.after) for e in effects] == [
        (EffectKind.ARCH, "P", Arch.X64, Arch.X86), (EffectKind.UNLOADED, "CamstarAppServer", Arch.X64, Arch.X86)]
    assert [h[:3] for h in effects[1].handlers] == [("CamstarRequestHandler", "*", "*")]


def test_sarif_default_level_of_the_rule_is_error_as_its_500_21_results_are(tmp_path: Path) -> None:
    """The rule's registered severity is SARIF's ``defaultConfiguration.level``: ``error``, what a 500.21 result is
    (it was registered as a warning, so a consumer reading the descriptor took the 500.21s for warnings); a bypassed
    mapping's result still says ``warning`` itself."""
    for handler, level in ((UNGUARDED, "error"), (HANDLER, "warning")):
        img = _pool32(tmp_path / level, handler)
        res = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["scan", str(img), "--format", "sarif"])
        run = json.loads(res.stdout)["runs"][0]
        [descriptor] = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "handler-module-skipped"]
        assert descriptor["defaultConfiguration"]["level"] == "error"
        assert [r["level"] for r in run["results"] if r["ruleId"] == "handler-module-skipped"] == [level]
