"""bin-reference-assembly: a reference assembly (the compiler-built fixture managed_refasm.dll) in bin fails the
application at start at any architecture (0x80131058): a finding of its own, FAIL in the load map, no bitness finding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.cli import main
from iisbitness.report import Verdict
from tests.conftest import DEMO, fixture


@pytest.mark.parametrize("arch", ["x86", "x64", "arm64"])
def test_check_app_fails_a_build_with_a_reference_assembly_at_every_arch(tmp_path: Path, arch: str) -> None:
    (tmp_path / "bin").mkdir()
    shutil.copyfile(fixture("managed_refasm.dll"), tmp_path / "bin" / "App.dll")
    r = CliRunner().invoke(main, ["check-app", str(tmp_path), "--pool-arch", arch, "--format", "json"])
    assert r.exit_code == 1, r.output
    found = json.loads(r.output)["findings"]
    assert [(f["rule"], f["severity"]) for f in found] == [("bin-reference-assembly", "error")]
    assert "0x80131058" in found[0]["symptom"]
    fixes = {fx["number"]: fx for fx in json.loads(r.output)["fixes"]}
    assert [fixes[n]["label"] for n in found[0]["fix_numbers"]] == ["deploy the implementation assembly"]


def test_load_map_fails_the_workers_load_and_no_bitness_finding(tmp_path: Path) -> None:
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    shutil.copyfile(fixture("managed_refasm.dll"), image / "inetpub/wwwroot/bin/RefOnly.dll")
    report = scan(image, ScanOptions(load_map=True, reference_assemblies=True))
    worker = [e for e in report.loads or () if e.name == "RefOnly.dll" and e.process == "w3wp.exe"]
    assert [(e.verdict, e.reason.split(":")[0]) for e in worker] == [
        (Verdict.CANNOT_LOAD, "reference assembly (ReferenceAssemblyAttribute)")]
    refonly = [(f.rule, f.site, f.application) for f in report.findings if (f.binary or "").endswith("RefOnly.dll")]
    assert refonly == [("bin-reference-assembly", "Default Web Site", "/")]


def test_an_implementation_assembly_is_no_reference_assembly(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    shutil.copyfile(fixture("managed_anycpu.dll"), tmp_path / "bin" / "App.dll")
    r = CliRunner().invoke(main, ["check-app", str(tmp_path), "--pool-arch", "x64", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["findings"] == [], r.output
