"""An in-process ASP.NET Core app's assembly published ReadyToRun for x64 (``dotnet publish -r win-x64
-p:PublishReadyToRun=true``) in a 32-bit pool: PE32+ AMD64 with precompiled x64 code, which the runtime refuses in an
x86 worker (BadImageFormatException, no fall back to the IL: dotnet/runtime readytoruninfo.cpp). Its remedy was "Install
the x86 build of 'Reports.dll' (e.g. the vendor's x86 package)"; it is the app's own publish for win-x86, or portable.

The fixture r2r_win_x64.dll is a real ReadyToRun image (Microsoft's System.ComponentModel.dll 8.0.30 for win-x64,
MIT; tests/fixtures/pe/manifest.toml says where it comes from): no ReadyToRun compiler runs here."""

from __future__ import annotations

import json
from pathlib import Path

from iisbitness.findings import Finding
from tests.aspnetcore.image import deps_json, make_image, put, rules_of, run, write
from tests.aspnetcore.test_app_dependencies import POOL32, POOL64, REPORTS, WEB, _fdd, _runtime


def _finding(report_findings: tuple[Finding, ...], name: str) -> Finding:
    [f] = [f for f in report_findings if (f.binary or "").endswith("\\" + name)]
    return f


def test_a_dependency_published_ready_to_run_for_x64_in_a_32_bit_pool_is_published_for_win_x86(tmp_path: Path) -> None:
    report = _fdd(tmp_path, POOL32, (REPORTS,), {"Reports.dll": "r2r_win_x64.dll"})
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")]
    f = _finding(report.findings, "Reports.dll")
    assert "ReadyToRun" in f.cause and "precompiled for x64" in f.cause and "readytoruninfo.cpp" in f.cause
    remedy = f.fixes[-1]
    assert "Install the x86 build" not in remedy.summary and "vendor" not in remedy.summary
    assert remedy.summary.startswith("Publish the app for the pool's architecture (win-x86) or portable")
    assert remedy.commands == ("dotnet publish -c Release -r win-x86 --self-contained false",)
    assert remedy.powershell == remedy.commands
    assert "NuGet package" in (remedy.note or "")
    flip = [x for x in f.fixes if x.edits]
    assert flip and flip[0].verified is True  # NOTE: the x64 worker loads it: the flip is verified by re-analysis


def test_the_same_dependency_in_a_64_bit_pool_loads(tmp_path: Path) -> None:
    assert rules_of(_fdd(tmp_path, POOL64, (REPORTS,), {"Reports.dll": "r2r_win_x64.dll"})) == []


def test_an_app_assembly_published_ready_to_run_for_x64_in_a_32_bit_pool_is_not_told_to_build_anycpu(
        tmp_path: Path) -> None:
    """The app's own DLL: the AnyCPU rebuild (remove <PlatformTarget>) does not undo a ReadyToRun publish."""
    make_image(tmp_path, [("Core", POOL32, "shop")])
    write(tmp_path, "inetpub/shop/web.config", WEB.format(pp="dotnet", args='arguments=".\\Shop.dll" '))
    write(tmp_path, "inetpub/shop/Shop.runtimeconfig.json", json.dumps(
        {"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}}}))
    put(tmp_path, "r2r_win_x64.dll", "inetpub/shop/Shop.dll")
    deps_json(tmp_path, "inetpub/shop/Shop.deps.json", "Shop")
    _runtime(tmp_path)
    report = run(tmp_path)
    f = _finding(report.findings, "Shop.dll")
    assert "500.30" in f.symptom and "ReadyToRun" in f.cause
    labels = [x.label for x in f.fixes]
    assert "build the app as AnyCPU" not in labels and "publish for win-x86 (ReadyToRun)" in labels
