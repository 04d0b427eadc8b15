"""A framework-dependent in-process app whose own assembly is built x86 or x64 (``<PlatformTarget>``): the worker's
runtime (hostfxr, coreclr of the worker's architecture) loads, then refuses the app's DLL with
System.BadImageFormatException (dotnet/cli issues 3684, 7532), HTTP 500.30. The scan read only the runtime bits of
such an app: an x86 build in a 64-bit pool was "checked", 0 findings (audit9 H1). Real compiler-built fixtures:
managed_x86 / managed_x64 (32BITREQ / PE32+ IL-only), managed_anycpu for the control."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.aspnetcore.image import deps_json, make_image, put, rules_of, run, write

APP_HOST = """<?xml version="1.0" encoding="utf-8"?>
<configuration><system.webServer>
<handlers><add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" resourceType="Unspecified" /></handlers>
<aspNetCore processPath=".\\Shop.exe" stdoutLogEnabled="false" stdoutLogFile=".\\logs\\stdout" hostingModel="inprocess" />
</system.webServer></configuration>
"""
DOTNET = APP_HOST.replace('processPath=".\\Shop.exe"', 'processPath="dotnet" arguments=".\\Shop.dll"')


def _image(root: Path, web_config: str, pool32: bool, app_dll: str) -> None:
    attrs = 'managedRuntimeVersion=""' + (' enable32BitAppOnWin64="true"' if pool32 else "")
    make_image(root, [("Core", attrs, "shop")])
    write(root, "inetpub/shop/web.config", web_config)
    put(root, "apphost_x64.exe", "inetpub/shop/Shop.exe")
    put(root, app_dll, "inetpub/shop/Shop.dll")
    deps_json(root, "inetpub/shop/Shop.deps.json", "Shop")
    write(root, "inetpub/shop/Shop.runtimeconfig.json", json.dumps(
        {"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}}}))
    for pf, arch in (("Program Files", "x64"), ("Program Files (x86)", "x86")):
        put(root, f"hostfxr_{arch}.dll", f"{pf}/dotnet/host/fxr/8.0.0/hostfxr.dll")
        for fw in ("Microsoft.NETCore.App", "Microsoft.AspNetCore.App"):
            (root / pf / "dotnet" / "shared" / fw / "8.0.0").mkdir(parents=True, exist_ok=True)


@pytest.mark.parametrize("web_config", [APP_HOST, DOTNET], ids=["app-host", "dotnet"])
@pytest.mark.parametrize(("pool32", "app_dll"), [(False, "managed_x86.dll"), (True, "managed_x64.dll")])
def test_an_app_built_for_the_other_architecture_fails_to_start(tmp_path: Path, web_config: str, pool32: bool,
                                                                app_dll: str) -> None:
    _image(tmp_path, web_config, pool32, app_dll)
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")]
    [f] = report.findings
    assert "500.30" in f.symptom and "BadImageFormatException" in f.symptom and "'Shop'" in f.symptom
    assert "Shop.dll" in f.cause and "framework-dependent" in f.cause
    labels = [x.label for x in f.fixes]
    assert "build the app as AnyCPU" in labels
    assert not any("publish" in x.label or "out-of-process" in x.label for x in f.fixes)
    flip = [x for x in f.fixes if x.edits]
    assert flip and flip[0].verified


@pytest.mark.parametrize("web_config", [APP_HOST, DOTNET], ids=["app-host", "dotnet"])
def test_an_anycpu_app_loads_in_either_pool(tmp_path: Path, web_config: str) -> None:
    for pool32 in (False, True):
        root = tmp_path / str(pool32)
        _image(root, web_config, pool32, "managed_anycpu.dll")
        assert rules_of(run(root)) == []
