"""The other assemblies of an in-process ASP.NET Core app: the runtime assets its ``<app>.deps.json`` lists, which the
runtime loads into the same worker on first use ("Default probing", learn.microsoft.com). An x86-only or x64-only one
in a worker of the other architecture throws System.BadImageFormatException there; the scan read only the app's own
DLL, so an AnyCPU app with an x86-only package was "checked", 0 findings. And what the scan could not read of such an
app (no deps.json, an asset absent, a self-contained app's hostpolicy.dll, hostfxr.dll or own DLL absent) left it
"checked" too. Real compiler-built fixtures: managed_x86 (PE32 32BITREQ), managed_x64 (PE32+), managed_anycpu."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.report import Report
from tests.aspnetcore.image import deps_json, make_image, publish_folder, put, rules_of, run, write
from tests.conftest import fixes_of

POOL64 = 'managedRuntimeVersion=""'
POOL32 = 'enable32BitAppOnWin64="true" managedRuntimeVersion=""'
WEB = """<?xml version="1.0" encoding="utf-8"?>
<configuration><location path="." inheritInChildApplications="false"><system.webServer>
<handlers><add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" resourceType="Unspecified" /></handlers>
<aspNetCore processPath="{pp}" {args}hostingModel="inprocess" />
</system.webServer></location></configuration>
"""
BARCODE = ("Contoso.Barcode/2.1.0", "package", "lib/net8.0/Contoso.Barcode.dll")
REPORTS = ("Reports/1.0.0", "project", "Reports.dll")
LEGACY = ("Legacy.Interop/1.0.0.0", "reference", "Legacy.Interop.dll")


def _runtime(root: Path) -> None:
    for pf, arch in (("Program Files", "x64"), ("Program Files (x86)", "x86")):
        put(root, f"hostfxr_{arch}.dll", f"{pf}/dotnet/host/fxr/8.0.4/hostfxr.dll")
        for fw in ("Microsoft.NETCore.App", "Microsoft.AspNetCore.App"):
            (root / pf / "dotnet" / "shared" / fw / "8.0.4").mkdir(parents=True, exist_ok=True)


def _fdd(root: Path, attrs: str, libraries: tuple[tuple[str, str, str], ...], files: dict[str, str],
         deps: bool = True) -> Report:
    """A framework-dependent in-process app Shop (AnyCPU) whose deps.json lists ``libraries``; ``files``: file name in
    the app's folder -> fixture."""
    make_image(root, [("Core", attrs, "shop")])
    write(root, "inetpub/shop/web.config", WEB.format(pp="dotnet", args='arguments=".\\Shop.dll" '))
    write(root, "inetpub/shop/Shop.runtimeconfig.json", json.dumps(
        {"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}}}))
    put(root, "managed_anycpu.dll", "inetpub/shop/Shop.dll")
    if deps:
        deps_json(root, "inetpub/shop/Shop.deps.json", "Shop", libraries)
    for name, fx in files.items():
        put(root, fx, f"inetpub/shop/{name}")
    _runtime(root)
    return run(root)


def _self_contained(root: Path, arch: str, skip: tuple[str, ...] = (), runtimeconfig: bool = True) -> Report:
    """A self-contained ``arch`` in-process app Shop.exe in a 64-bit pool, as published, less the files of ``skip``."""
    make_image(root, [("Core", POOL64, "shop")])
    write(root, "inetpub/shop/web.config", WEB.format(pp=".\\Shop.exe", args=""))
    files = {"Shop.exe": f"apphost_{arch}.exe", "hostfxr.dll": f"hostfxr_{arch}.dll",
             "hostpolicy.dll": f"hostpolicy_{arch}.dll", "coreclr.dll": f"coreclr_{arch}.dll",
             "aspnetcorev2_inprocess.dll": f"aspnetcorev2_inprocess_{arch}.dll", "Shop.dll": "managed_anycpu.dll"}
    for name, fx in files.items():
        if name not in skip:
            put(root, fx, f"inetpub/shop/{name}")
    deps_json(root, "inetpub/shop/Shop.deps.json", "Shop", rid=f"win-{arch}")
    if runtimeconfig:
        write(root, "inetpub/shop/Shop.runtimeconfig.json", json.dumps({"runtimeOptions": {
            "tfm": "net8.0", "includedFrameworks": [{"name": "Microsoft.NETCore.App", "version": "8.0.11"},
                                                    {"name": "Microsoft.AspNetCore.App", "version": "8.0.11"}]}}))
    return run(root)


def _partly(report: Report) -> list[str]:
    return [r for c in report.coverage if c.status.value != "checked" for r in c.reasons]


def test_an_x86_only_package_of_an_anycpu_app_in_a_64_bit_pool_is_named_with_its_package(tmp_path: Path) -> None:
    report = _fdd(tmp_path, POOL64, (BARCODE,), {"Contoso.Barcode.dll": "managed_x86.dll"})
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")]
    [f] = report.findings
    assert f.binary is not None and f.binary.endswith("Contoso.Barcode.dll")
    assert "BadImageFormatException" in f.symptom and "'Contoso.Barcode'" in f.symptom and "500.30" in f.symptom
    assert "package 'Contoso.Barcode' 2.1.0" in f.cause and "deps.json" in f.cause
    assert "<PlatformTarget>x86</PlatformTarget>" in f.cause
    assert [x.label for x in f.fixes][-1] == "an AnyCPU build of package Contoso.Barcode"
    assert "package 'Contoso.Barcode'" in f.fixes[-1].summary and "<PackageReference>" in f.fixes[-1].summary
    flip = [x for x in f.fixes if x.edits]
    assert flip and flip[0].verified is True
    assert _partly(report) == []


def test_an_x64_project_reference_in_a_32_bit_pool_is_built_anycpu_and_a_referenced_dll_rebuilt(tmp_path: Path) -> None:
    report = _fdd(tmp_path, POOL32, (REPORTS, LEGACY),
                  {"Reports.dll": "managed_x64.dll", "Legacy.Interop.dll": "managed_x64.dll"})
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")] * 2
    by_file = {(f.binary or "").rsplit("\\", 1)[-1]: f for f in report.findings}
    reports, legacy = by_file["Reports.dll"], by_file["Legacy.Interop.dll"]
    assert "project 'Reports'" in reports.cause
    assert reports.fixes[-1].summary.startswith("Build project 'Reports' as AnyCPU: remove <PlatformTarget>x64")
    assert "reference 'Legacy.Interop'" in legacy.cause
    assert legacy.fixes[-1].summary == "Rebuild 'Legacy.Interop.dll' as AnyCPU or for x86"


def test_anycpu_dependencies_load_in_either_pool(tmp_path: Path) -> None:
    for attrs in (POOL64, POOL32):
        root = tmp_path / str(len(attrs))
        report = _fdd(root, attrs, (BARCODE, REPORTS),
                      {"Contoso.Barcode.dll": "managed_anycpu.dll", "Reports.dll": "managed_anycpu.dll"})
        assert rules_of(report) == [] and _partly(report) == []
        loads = scan(root, ScanOptions(os_arch=Arch.X64, load_map=True)).loads or ()
        deps = [ld for ld in loads if ld.name in ("Contoso.Barcode.dll", "Reports.dll")]
        assert len(deps) == 2 and all(ld.verdict.value == "loads" for ld in deps), deps


def test_an_app_built_x86_with_an_x86_package_gets_both_findings(tmp_path: Path) -> None:
    """The AnyCPU rebuild of the app alone leaves the package failing: each has its own finding and fix."""
    make = _fdd(tmp_path, POOL64, (BARCODE,), {"Contoso.Barcode.dll": "managed_x86.dll", "Shop.dll": "managed_x86.dll"})
    assert sorted(f.binary.rsplit("\\", 1)[-1] for f in make.findings if f.binary) == ["Contoso.Barcode.dll", "Shop.dll"]


def test_a_native_asset_chosen_by_runtime_identifier_is_left_to_the_host(tmp_path: Path) -> None:
    """runtimeTargets assets (runtimes/win-x86/native/...) are picked by the worker's runtime identifier: the x86 copy
    is not the one a 64-bit worker loads, so no finding."""
    _fdd(tmp_path, POOL64, (BARCODE,), {"Contoso.Barcode.dll": "managed_anycpu.dll"})
    doc = json.loads((tmp_path / "inetpub/shop/Shop.deps.json").read_text())
    doc["targets"][".NETCoreApp,Version=v8.0"]["Contoso.Barcode/2.1.0"]["runtimeTargets"] = {
        "runtimes/win-x86/native/barcode_native.dll": {"rid": "win-x86", "assetType": "native"},
        "runtimes/win-x64/native/barcode_native.dll": {"rid": "win-x64", "assetType": "native"}}
    write(tmp_path, "inetpub/shop/Shop.deps.json", json.dumps(doc))
    put(tmp_path, "nativelib_x86.dll", "inetpub/shop/runtimes/win-x86/native/barcode_native.dll")
    put(tmp_path, "nativelib_x64.dll", "inetpub/shop/runtimes/win-x64/native/barcode_native.dll")
    report = run(tmp_path)
    assert rules_of(report) == [] and _partly(report) == []


def test_without_a_deps_json_the_app_is_partly_checked(tmp_path: Path) -> None:
    report = _fdd(tmp_path, POOL64, (), {"Contoso.Barcode.dll": "managed_x86.dll"}, deps=False)
    assert rules_of(report) == []
    [why] = _partly(report)
    assert "Shop.deps.json is not in the image" in why and "other assemblies" in why


def test_a_deps_json_that_is_not_json_leaves_the_app_partly_checked(tmp_path: Path) -> None:
    _fdd(tmp_path, POOL64, (), {})
    write(tmp_path, "inetpub/shop/Shop.deps.json", "{ not json")
    [why] = _partly(run(tmp_path))
    assert "Shop.deps.json" in why and "were not checked" in why


def test_an_asset_the_image_lacks_is_named(tmp_path: Path) -> None:
    report = _fdd(tmp_path, POOL64, (BARCODE, REPORTS), {"Reports.dll": "managed_anycpu.dll"})
    assert rules_of(report) == []
    [why] = _partly(report)
    assert "Contoso.Barcode.dll, which" in why and "Shop.deps.json lists" in why and "Reports.dll" not in why


def test_check_app_names_the_package(tmp_path: Path) -> None:
    out = publish_folder(tmp_path, {"App.exe": "apphost_x64.exe", "App.dll": "managed_anycpu.dll",
                                    "Contoso.Barcode.dll": "managed_x86.dll"})
    deps_json(out, "App.deps.json", "App", (BARCODE,))
    write(out, "App.runtimeconfig.json", json.dumps(
        {"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}}}))
    write(out, "web.config", WEB.format(pp=".\\App.exe", args=""))
    r = CliRunner().invoke(main, ["check-app", str(out), "--pool-arch", "x64", "--runtime", "none", "--format", "json"])
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and [f["rule"] for f in doc["findings"]] == ["aspnetcore-inprocess-arch"]
    summaries = [fx["summary"] for fx in fixes_of(doc, doc["findings"][0])]
    assert any("package 'Contoso.Barcode'" in s for s in summaries), summaries


def test_a_self_contained_app_as_published_is_checked(tmp_path: Path) -> None:
    report = _self_contained(tmp_path, "x64")
    assert rules_of(report) == [] and _partly(report) == []


def test_an_x86_hostpolicy_in_a_64_bit_worker_is_named_in_the_500_32(tmp_path: Path) -> None:
    report = _self_contained(tmp_path / "a", "x86")
    [f] = report.findings
    assert "500.32" in f.symptom and "hostpolicy.dll is an x86 native DLL" in f.cause


@pytest.mark.parametrize("absent", ["hostpolicy.dll", "coreclr.dll", "Shop.dll"])
def test_a_self_contained_app_whose_file_is_absent_is_partly_checked_naming_it(tmp_path: Path, absent: str) -> None:
    report = _self_contained(tmp_path, "x64", skip=(absent,))
    assert rules_of(report) == []
    [why] = _partly(report)
    assert f"{absent}, which" in why and "not in the image" in why and "self-contained" in why


def test_a_self_contained_app_without_hostfxr_is_not_judged_as_framework_dependent(tmp_path: Path) -> None:
    """Its runtimeconfig.json lists includedFrameworks: self-contained, hostfxr.dll not copied. It was taken for a
    framework-dependent app: the machine's dotnet judged, nothing said of the missing file."""
    report = _self_contained(tmp_path, "x64", skip=("hostfxr.dll",))
    assert rules_of(report) == []
    [why] = _partly(report)
    assert "hostfxr.dll, which" in why and "self-contained" in why
    loads = scan(tmp_path, ScanOptions(os_arch=Arch.X64, load_map=True)).loads or ()
    assert not any("dotnet" in (ld.windows_path or "").lower() for ld in loads), "the machine's dotnet is not its host"


def test_a_file_two_libraries_list_is_one_load(tmp_path: Path) -> None:
    """The host keeps one asset per name (hostpolicy add_tpa_asset): one load, one finding."""
    other = ("Contoso.Barcode.Legacy/1.0.0", "package", "lib/netstandard2.0/Contoso.Barcode.dll")
    report = _fdd(tmp_path, POOL64, (BARCODE, other), {"Contoso.Barcode.dll": "managed_x86.dll"})
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")]


def _json_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the JSON files the aspnetcore collector reads from now on (its ``read_json`` spied on: the real
    read, each call's file name recorded), in order."""
    from iisbitness.loadplan.collectors import aspnetcore

    real = aspnetcore.read_json
    read: list[str] = []

    def counted(path: Path, *args: object, **kwargs: object) -> tuple[object, str]:
        read.append(path.name)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(aspnetcore, "read_json", counted)
    return read


def test_a_deps_json_is_read_once_per_scan_and_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker architecture a pool's outlook plans (x86 and x64 here) and each fix re-plan ran the collector, and
    each run read and parsed the deps.json again (a published app's is tens to hundreds of KiB): 4 reads per scan here,
    6 per scan and 10 per fix of the demo's one app. The file is real; the spy counts the reads and returns what they give."""
    _fdd(tmp_path, POOL32, (BARCODE,), {"Contoso.Barcode.dll": "managed_x64.dll"})
    read = _json_reads(monkeypatch)
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")]
    assert read.count("Shop.deps.json") == 1, read
    read.clear()
    result = CliRunner().invoke(main, ["fix", str(tmp_path), "--os-arch", "x64"])
    assert result.exit_code in (0, 1), result.output
    assert read.count("Shop.deps.json") == 1, read


def test_a_runtimeconfig_json_is_read_once_per_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runtimeconfig.json of a framework-dependent app was read and parsed by each collector run too (its frameworks,
    and again to tell a self-contained app without hostfxr.dll): once per scan now, as the deps.json."""
    _fdd(tmp_path, POOL32, (BARCODE,), {"Contoso.Barcode.dll": "managed_x64.dll"})
    read = _json_reads(monkeypatch)
    assert rules_of(run(tmp_path)) == [("aspnetcore-inprocess-arch", "S1")]
    assert read.count("Shop.runtimeconfig.json") == 1, read