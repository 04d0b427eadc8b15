"""A framework-dependent in-process app whose web.config names its DLL below the application's folder
(``arguments="./bin/Debug/netcoreapp2.2/WebApplication2.dll"``, as the corpus' collinsauve__AspNetCoreTest
Web.config does): ANCM hands the host the application's physical path joined with a relative ``.dll`` argument
(dotnet/aspnetcore AspNetCoreModuleV2/CommonLib/HostFxrResolver.cpp ``AppendArguments``), and the host reads the
app's runtimeconfig.json beside that DLL. The scan looked in the application's folder only: it said the two files
were "not in the image", left the application partly checked, and never compared the runtime the app needs with the
one installed (audit8 G8)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.aspnetcore.image import deps_json, make_image, put, rules_of, run, write

WEB_CONFIG = """<?xml version="1.0"?>
<configuration><system.webServer>
<handlers><add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" resourceType="Unspecified" /></handlers>
<aspNetCore processPath="dotnet" arguments="./bin/Debug/netcoreapp2.2/WebApplication2.dll" hostingModel="inprocess" />
</system.webServer></configuration>
"""
SUB = "inetpub/shop/bin/Debug/netcoreapp2.2"


def _image(root: Path, runtimeconfig: bool) -> None:
    make_image(root, [("Core64", 'managedRuntimeVersion=""', "shop")])
    write(root, "inetpub/shop/web.config", WEB_CONFIG)
    put(root, "managed_anycpu.dll", f"{SUB}/WebApplication2.dll")
    if runtimeconfig:
        write(root, f"{SUB}/WebApplication2.runtimeconfig.json", json.dumps(
            {"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}}}))
        deps_json(root, f"{SUB}/WebApplication2.deps.json", "WebApplication2")
    put(root, "hostfxr_x64.dll", "Program Files/dotnet/host/fxr/6.0.25/hostfxr.dll")
    for fw in ("Microsoft.NETCore.App", "Microsoft.AspNetCore.App"):
        (root / "Program Files" / "dotnet" / "shared" / fw / "6.0.25").mkdir(parents=True, exist_ok=True)


def test_the_runtimeconfig_beside_the_dll_arguments_names_is_read(tmp_path: Path) -> None:
    _image(tmp_path, runtimeconfig=True)
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-runtime-missing", "S1")]
    assert "6.0.25" in report.findings[0].cause
    assert [c.application for c in report.coverage if c.status.value != "checked"] == []


def test_without_it_the_folder_arguments_names_is_the_one_said(tmp_path: Path) -> None:
    _image(tmp_path, runtimeconfig=False)
    report = run(tmp_path)
    [c] = [c for c in report.coverage if c.status.value != "checked"]
    assert any("WebApplication2.runtimeconfig.json is not in the image" in r and "netcoreapp2.2" in r
               for r in c.reasons), c.reasons


SELF_CONTAINED = """<?xml version="1.0"?>
<configuration><system.webServer>
<handlers><add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" resourceType="Unspecified" /></handlers>
<aspNetCore processPath=".\\\\bin\\\\Shop.exe" hostingModel="inprocess" />
</system.webServer></configuration>
"""


def test_a_self_contained_app_host_below_the_folder_is_read_beside_its_exe(tmp_path: Path) -> None:
    """processPath=".\\\\bin\\\\Shop.exe": ANCM looks for hostfxr.dll beside the EXE (HostFxrResolver.cpp
    GetHostFxrParameters). The scan looked beside web.config, took the x86 self-contained app for a framework-dependent
    one and missed its HTTP 500.32 in a 64-bit pool."""
    make_image(tmp_path, [("Core64", 'managedRuntimeVersion=""', "shop")])
    write(tmp_path, "inetpub/shop/web.config", SELF_CONTAINED)
    for fixture, name in (("apphost_x86.exe", "Shop.exe"), ("hostfxr_x86.dll", "hostfxr.dll"),
                          ("coreclr_x86.dll", "coreclr.dll"), ("aspnetcorev2_inprocess_x86.dll",
                                                               "aspnetcorev2_inprocess.dll")):
        put(tmp_path, fixture, f"inetpub/shop/bin/{name}")
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")]
    assert "\\inetpub\\shop\\bin\\" in (report.findings[0].binary or "")
