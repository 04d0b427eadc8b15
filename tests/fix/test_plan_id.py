"""`fix --apply --plan ID` writes only the plan the administrator reviewed in the dry run.

Before, `--apply` planned again from the files as they were at that moment: a file changed between the dry run and
the apply (someone ran appcmd) was refused only if it changed during the apply itself, and `--fix N` could then
name another fix; what was written was not what was approved. Real input: the shared corpus's coso-configuration
applicationHost.config (a 32-bit pool, a site on D:) with x64 assemblies in the site's bin folders."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import REPO, corpus_dir, fixture, make_image

COSO = "coso-configuration__supernova__applicationHost.config"


def _server(root: Path) -> tuple[Path, Path]:
    # NOTE: the vendor module it configures (ANCM V2), both builds: a flip onto a vendor file only inferred from its
    # folder is not verified (its own test: tests/fix/test_inferred_vendor_unverified.py)
    image = make_image(root / "C", corpus_dir("iis-config") / COSO, {
        f"{pf}/IIS/Asp.Net Core Module/V2/aspnetcorev2.dll": dll
        for pf, dll in (("Program Files", "module_x64.dll"), ("Program Files (x86)", "module_x86.dll"))})
    cfg = image / "Windows" / "System32" / "inetsrv" / "config" / "applicationHost.config"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('managedRuntimeVersion=""', 'managedRuntimeVersion="v4.0"'),
                   encoding="utf-8")
    for rel in ("resources/web/bin/Web.dll", "resources/web/api/bin/Api.dll", "resources/ftp/x.txt"):
        (root / "D" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(fixture("managed_x64.dll" if rel.endswith(".dll") else "not_pe.txt"), root / "D" / rel)
    return image, cfg


def _fix(image: Path, root: Path, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["fix", str(image), "--drive", f"D={root / 'D'}", *args])
    return r.exit_code, r.stdout, r.stderr


def _plan_id(out: str) -> str:
    m = re.search(r"add --plan ([0-9a-f]{12}) to write exactly these", out)
    assert m is not None, out
    return m[1]


def test_a_file_changed_since_the_dry_run_is_refused_with_plan(tmp_path: Path) -> None:
    image, cfg = _server(tmp_path)
    code, out, _ = _fix(image, tmp_path, "--fix", "1")
    assert code == 0 and "Dry run: nothing written" in out
    reviewed = _plan_id(out)
    # NOTE: between the review and the apply, someone defines another pool (as appcmd add apppool writes it)
    changed = cfg.read_text(encoding="utf-8").replace(
        "<applicationPoolDefaults>", '<add name="Reports" enable32BitAppOnWin64="true" />\n'
        "            <applicationPoolDefaults>", 1)
    cfg.write_text(changed, encoding="utf-8")
    code, out, err = _fix(image, tmp_path, "--fix", "1", "--apply", "--plan", reviewed)
    assert code == 3 and "Not applied: nothing written" in out, out
    assert f"not {reviewed} (the one reviewed)" in err and "nothing written" in err, err
    assert cfg.read_text(encoding="utf-8") == changed
    assert not list(cfg.parent.glob("*.bak"))
    code, out, _ = _fix(image, tmp_path, "--fix", "1")
    now = _plan_id(out)
    assert now != reviewed
    code, out, _ = _fix(image, tmp_path, "--fix", "1", "--apply", "--plan", now)
    assert code == 0 and "Written: 1 file(s)" in out and len(list(cfg.parent.glob("*.bak"))) == 1, out


def test_the_same_plan_applies_and_plan_needs_apply(tmp_path: Path) -> None:
    image, cfg = _server(tmp_path)
    reviewed = _plan_id(_fix(image, tmp_path)[1])
    assert _plan_id(_fix(image, tmp_path)[1]) == reviewed  # NOTE: the same files and fixes, the same id
    code, _, err = _fix(image, tmp_path, "--plan", reviewed)
    assert code == 2 and "--plan ID goes with --apply" in err
    before = cfg.read_bytes()
    code, out, _ = _fix(image, tmp_path, "--apply", "--plan", reviewed.upper())
    assert code == 0 and "Written: 1 file(s)" in out and cfg.read_bytes() != before, out


def test_fix_json_carries_the_plan_id_a_pipeline_applies(tmp_path: Path) -> None:
    """The dry run's JSON has the id its text prints, so a pipeline can review the JSON and apply exactly it."""
    image, cfg = _server(tmp_path)
    code, out, _ = _fix(image, tmp_path, "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, json.loads((REPO / "src/iisbitness/formats/schema/fix-1.json").read_text()))
    assert code == 0 and doc["plan_id"] == _plan_id(_fix(image, tmp_path)[1])
    code, out, _ = _fix(image, tmp_path, "--apply", "--plan", doc["plan_id"], "--format", "json")
    assert code == 0 and json.loads(out)["plan_id"] == doc["plan_id"] and len(list(cfg.parent.glob("*.bak"))) == 1
    code, out, _ = _fix(image, tmp_path, "--format", "json")
    assert code == 0 and json.loads(out)["plan_id"] is None  # NOTE: nothing left to write
