"""F5 of an ASP.NET Core project built with <PlatformTarget>x86</PlatformTarget> (framework-dependent, the usual
bin/Debug/<tfm> output: app host, App.dll, runtimeconfig, no hostfxr) in the 64-bit IIS Express: the x64 runtime
refuses the x86 App.dll (BadImageFormatException, 500.30); the scan said nothing (audit9 H1). The fix is the launch
profile's use64Bit or the platform target, never a publish or out-of-process hosting."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.iisexpress.solution import CORE, debug_build, scan_json


@pytest.mark.parametrize(("use64", "app_dll", "flip"), [(True, "managed_x86.dll", '"use64Bit": false'),
                                                         (False, "managed_x64.dll", '"use64Bit": true')])
def test_the_project_built_for_the_other_architecture_is_an_error(tmp_path: Path, use64: bool, app_dll: str,
                                                                   flip: str) -> None:
    _, doc = scan_json(debug_build(tmp_path / "sol", use64, app_dll), "--fail-on", "never")
    findings = doc["findings"]
    assert isinstance(findings, list)
    [f] = [f for f in findings if f["rule"] == "aspnetcore-inprocess-arch"]
    assert f["binary"].endswith(f"bin\\Debug\\net8.0\\{CORE}.dll") and "500.30" in f["symptom"]
    fixes = {x["number"]: x for x in doc["fixes"]}  # type: ignore[union-attr]
    summaries = [fixes[n]["summary"] for n in f["fix_numbers"]]
    assert any(flip in s for s in summaries) and any("<PlatformTarget>AnyCPU" in s for s in summaries)
    assert not any("dotnet publish" in s or "OutOfProcess" in s for s in summaries)


def test_an_anycpu_project_gets_none(tmp_path: Path) -> None:
    _, doc = scan_json(debug_build(tmp_path / "sol", True, "managed_anycpu.dll"), "--fail-on", "never")
    assert [f for f in doc["findings"] if f["rule"] == "aspnetcore-inprocess-arch"] == []  # type: ignore[union-attr]
