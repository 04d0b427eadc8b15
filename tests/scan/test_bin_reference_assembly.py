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
    report = scan(image, ScanOptions(load_map=True))
    worker = [e for e in report.loads or () if e.name == "RefOnly.dll" and e.process == "w3wp.exe"]
    assert [(e.verdict, e.reason.split(":")[0]) for e in worker] == [
        (Verdict.CANNOT_LOAD, "reference assembly (ReferenceAssemblyAttribute)")]
    refonly = [(f.rule, f.site, f.application) for f in report.findings if (f.binary or "").endswith("RefOnly.dll")]
    assert refonly == [("bin-reference-assembly", "Default Web Site", "/")]


def test_scan_and_fix_of_a_server_find_it_and_a_cached_scan_too(tmp_path: Path) -> None:
    """Every scan finds it (issue 25's cost removed: the marker is read with the references), not check-app only:
    ``scan`` of a server (text), a second scan answered from ``--cache`` (the marker stored with the headers), and
    ``fix`` (its plan names the finding and offers no pool change)."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    shutil.copyfile(fixture("managed_refasm.dll"), image / "inetpub/wwwroot/bin/RefOnly.dll")
    cache = tmp_path / "scan.sqlite"
    for _ in range(2):
        r = CliRunner().invoke(main, ["scan", str(image), "--cache", str(cache), "--format", "json"])
        found = [f for f in json.loads(r.output)["findings"] if (f.get("binary") or "").endswith("RefOnly.dll")]
        assert [f["rule"] for f in found] == ["bin-reference-assembly"], r.output
    fixed = CliRunner().invoke(main, ["fix", str(image)])
    assert "bin-reference-assembly (pool 'DefaultAppPool', Default Web Site/): no verified fix that changes" in (
        " ".join(fixed.output.split())), fixed.output


def test_an_implementation_assembly_is_no_reference_assembly(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    shutil.copyfile(fixture("managed_anycpu.dll"), tmp_path / "bin" / "App.dll")
    r = CliRunner().invoke(main, ["check-app", str(tmp_path), "--pool-arch", "x64", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["findings"] == [], r.output
