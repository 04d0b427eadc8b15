"""An in-process app's own assembly that does not fit the worker, beyond test_app_assembly_arch's framework-dependent
x86/x64 builds: a self-contained app's (500.30; 500.32 when its runtime bits fail first), a "Prefer 32-bit" DLL (facts
I6), and check-app's build fix (the AnyCPU rebuild, no ``-r`` publish: NETSDK1032) (audit9 H1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.report import Report
from tests.aspnetcore.image import CORPUS, make_image, put, rules_of, run, write
from tests.aspnetcore.test_aspnetcore_inprocess import X64_SC, X86_SC, _dotnet, _fdd_app, _self_contained
from tests.conftest import fixes_of

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")

POOL64 = 'managedRuntimeVersion=""'
POOL32 = 'enable32BitAppOnWin64="true" managedRuntimeVersion=""'


def _fdd(tmp_path: Path, attrs: str, dll: str) -> Report:
    """A framework-dependent in-process app (processPath="dotnet" arguments=".\\Shop.dll") whose Shop.dll is ``dll``,
    with the .NET runtime of both architectures installed."""
    make_image(tmp_path, [("Core", attrs, "shop")])
    _fdd_app(tmp_path, "shop", "8.0.0")
    put(tmp_path, dll, "inetpub/shop/Shop.dll")
    _dotnet(tmp_path, "Program Files", "x64", "8.0.4")
    _dotnet(tmp_path, "Program Files (x86)", "x86", "8.0.4")
    return run(tmp_path)


def test_a_prefer_32_bit_app_assembly_is_32_bit_only_as_facts_i6_reads_a_dll(tmp_path: Path) -> None:
    """AnyCPU with 32BITPREF on a DLL: 32-bit only (facts I6): fine in a 32-bit worker, 500.30 in a 64-bit one, whose
    fix is Prefer32Bit false, not a PlatformTarget."""
    assert rules_of(_fdd(tmp_path / "a", POOL32, "managed_anycpu32bitpreferred.dll")) == []
    [f] = _fdd(tmp_path / "b", POOL64, "managed_anycpu32bitpreferred.dll").findings
    assert "500.30" in f.symptom and "<Prefer32Bit>" in f.cause and "<Prefer32Bit>false" in f.fixes[-1].summary


def test_self_contained_x64_app_with_an_x86_assembly_is_500_30(tmp_path: Path) -> None:
    make_image(tmp_path, [("Core", POOL64, "office")])
    _self_contained(tmp_path, "office", X64_SC, "myITOffice.exe", "x64")
    put(tmp_path, "managed_x86.dll", "inetpub/office/myITOffice.dll")
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")]
    f = report.findings[0]
    assert "500.30" in f.symptom and "'myITOffice'" in f.symptom and "self-contained" in f.cause
    assert "<PlatformTarget>x86</PlatformTarget>" in f.cause and "AnyCPU" in f.fixes[-1].summary


def test_self_contained_x86_runtime_fails_first_with_500_32(tmp_path: Path) -> None:
    """Runtime bits and assembly both x86 in a 64-bit worker: hostfxr fails to load first, one finding, 500.32."""
    make_image(tmp_path, [("Core", POOL64, "maps")])
    _self_contained(tmp_path, "maps", X86_SC, "googlemaps.exe", "x86")
    put(tmp_path, "managed_x86.dll", "inetpub/maps/googlemaps.dll")
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")]
    assert "500.32" in report.findings[0].symptom and "500.30" not in report.findings[0].symptom


def test_check_app_of_an_x86_debug_build_against_a_64_bit_pool_is_an_error_with_the_anycpu_build_fix(
        tmp_path: Path) -> None:
    """audit9 H1's check-app: bin/Debug/net8.0 of an app host x86 build (framework-dependent), --runtime none. The build
    fix is the AnyCPU rebuild, no ``-r win-x64`` publish (with PlatformTarget x86 the SDK refuses it, NETSDK1032)."""
    out = tmp_path / "bin" / "Debug" / "net8.0"
    out.mkdir(parents=True)
    put(out, "apphost_x86.exe", "App.exe")
    put(out, "managed_x86.dll", "App.dll")
    write(out, "App.runtimeconfig.json", json.dumps(
        {"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}}}))
    write(out, "web.config", '<?xml version="1.0"?>\n<configuration><location path="." inheritInChildApplications="false">'
          '<system.webServer><handlers><add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" '
          'resourceType="Unspecified" /></handlers><aspNetCore processPath=".\\App.exe" hostingModel="inprocess" />'
          "</system.webServer></location></configuration>\n")
    r = CliRunner().invoke(main, ["check-app", str(out), "--pool-arch", "x64", "--runtime", "none", "--format", "json"])
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and [f["rule"] for f in doc["findings"]] == ["aspnetcore-inprocess-arch"]
    f = doc["findings"][0]
    assert "500.30" in f["symptom"]
    summaries = [fx["summary"] for fx in fixes_of(doc, f)]
    assert summaries and "AnyCPU" in summaries[0] and not any("RuntimeIdentifier" in s for s in summaries)
