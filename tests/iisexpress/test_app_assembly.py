"""IIS Express: an ASP.NET Core project's F5 output (bin/Debug/net8.0, framework-dependent, app host, no hostfxr) whose
own DLL is built x86 or x64 (``<PlatformTarget>``) and runs in the iisexpress.exe of the other bitness: HTTP 500.30
with a BadImageFormatException; AnyCPU runs in both (audit9 H1)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fixes_of, fixture
from tests.iisexpress.solution import CORE, core_solution, scan_json


def _debug_build(tmp_path: Path, use64: bool, dll: str) -> tuple[int, dict[str, Any]]:
    """The solution with an F5 build whose BankTech_API_V1.dll is ``dll``, and a developer machine (--drive C=) with
    the .NET runtime of both architectures."""
    sol = core_solution(tmp_path / "sol", use64=use64, arch="x64")
    debug = sol / CORE / "bin" / "Debug" / "net8.0"
    debug.mkdir(parents=True)
    shutil.copyfile(fixture("apphost_x64.exe"), debug / f"{CORE}.exe")
    shutil.copyfile(fixture(dll), debug / f"{CORE}.dll")
    (debug / f"{CORE}.runtimeconfig.json").write_text(
        '{"runtimeOptions": {"tfm": "net8.0", "frameworks": [{"name": "Microsoft.NETCore.App", "version": "8.0.0"}, '
        '{"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}]}}\n', encoding="utf-8")
    machine = tmp_path / "c"
    for pf, arch in (("Program Files", "x64"), ("Program Files (x86)", "x86")):
        dotnet = machine / pf / "dotnet"
        for sub in ("host/fxr/8.0.0", "shared/Microsoft.NETCore.App/8.0.1", "shared/Microsoft.AspNetCore.App/8.0.1"):
            (dotnet / sub).mkdir(parents=True)
        shutil.copyfile(fixture(f"hostfxr_{arch}.dll"), dotnet / "host" / "fxr" / "8.0.0" / "hostfxr.dll")
    (machine / "Windows" / "SysWOW64").mkdir(parents=True)
    return scan_json(sol, "--drive", f"C={machine}")


@pytest.mark.parametrize(("use64", "dll", "built", "switch"), [(True, "managed_x86.dll", "x86", '"use64Bit": false'),
                                                               (False, "managed_x64.dll", "x64", '"use64Bit": true')])
def test_a_debug_build_of_the_other_architecture_is_500_30_with_the_profile_fix(
        tmp_path: Path, use64: bool, dll: str, built: str, switch: str) -> None:
    code, doc = _debug_build(tmp_path, use64, dll)
    found = [{**f, "fixes": fixes_of(doc, f)} for f in doc["findings"]]
    assert code == 1 and [f["rule"] for f in found] == ["aspnetcore-inprocess-arch"]
    [f] = found
    assert "500.30" in f["symptom"] and "BadImageFormatException" in f["symptom"] and f"{CORE}.dll" in f["symptom"]
    assert f"<PlatformTarget>{built}</PlatformTarget>" in f["cause"] and "iisexpress.exe" in f["cause"]
    assert switch in f["fixes"][0]["summary"] and f["fixes"][0]["verified"] is True
    assert "AnyCPU" in f["fixes"][-1]["summary"]


@pytest.mark.parametrize("use64", [True, False])
def test_an_anycpu_debug_build_runs_in_both(tmp_path: Path, use64: bool) -> None:
    code, doc = _debug_build(tmp_path, use64, "managed_anycpu.dll")
    assert (code, doc["findings"]) == (0, [])
