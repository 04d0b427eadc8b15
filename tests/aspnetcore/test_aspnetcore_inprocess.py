"""ASP.NET Core Module in-process hosting: self-contained, framework-dependent, out-of-process."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from iisbitness.findings import Severity
from iisbitness.formats.causes import effect_lines
from iisbitness.loadplan.collectors.aspnetcore import satisfies
from iisbitness.loadplan.plan import Evidence
from iisbitness.report import CoverageStatus
from tests.aspnetcore.image import CORPUS, deps_json, make_image, put, rules_of, run, write

X86_SC = "CristopherRoSa__googlemaps__bin__Release__net6.0__win-x86__publish__web.config"
X64_SC = "tkanel__myOffice__bin__Release__netcoreapp3.1__win-x64__publish__web.config"
FDD_V1 = "Dev-Lynx__Chop9ja.API__bin__Release__netcoreapp2.1__publish__web.config"
FDD_INPROC = """<?xml version="1.0" encoding="utf-8"?>
<configuration><location path="." inheritInChildApplications="false"><system.webServer>
<handlers><add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" resourceType="Unspecified" /></handlers>
<aspNetCore processPath="dotnet" arguments=".\\Shop.dll" hostingModel="inprocess" />
</system.webServer></location></configuration>
"""
ANCM_INPROC = """<?xml version="1.0" encoding="utf-8"?>
<configuration><system.webServer>
<handlers><add name="aspNetCore" path="*" verb="*" modules="{module}" resourceType="Unspecified" /></handlers>
<aspNetCore processPath=".\\googlemaps.exe" hostingModel="inprocess" />
</system.webServer></configuration>
"""
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def _self_contained(root: Path, folder: str, corpus: str, exe: str, arch: str) -> None:
    (root / "inetpub" / folder).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CORPUS / corpus, root / "inetpub" / folder / "web.config")
    put(root, f"apphost_{arch}.exe", f"inetpub/{folder}/{exe}")
    put(root, f"hostfxr_{arch}.dll", f"inetpub/{folder}/hostfxr.dll")
    put(root, f"coreclr_{arch}.dll", f"inetpub/{folder}/coreclr.dll")
    put(root, f"aspnetcorev2_inprocess_{arch}.dll", f"inetpub/{folder}/aspnetcorev2_inprocess.dll")
    put(root, f"hostpolicy_{arch}.dll", f"inetpub/{folder}/hostpolicy.dll")
    put(root, "managed_anycpu.dll", f"inetpub/{folder}/{exe[:-4]}.dll")
    deps_json(root, f"inetpub/{folder}/{exe[:-4]}.deps.json", exe[:-4], rid=f"win-{arch}")


def _dotnet(root: Path, pf: str, arch: str, version: str) -> None:
    put(root, f"hostfxr_{arch}.dll", f"{pf}/dotnet/host/fxr/{version}/hostfxr.dll")
    for fw in ("Microsoft.NETCore.App", "Microsoft.AspNetCore.App"):
        (root / pf / "dotnet" / "shared" / fw / version).mkdir(parents=True, exist_ok=True)


def _fdd_app(root: Path, folder: str, version: str) -> None:
    write(root, f"inetpub/{folder}/web.config", FDD_INPROC)
    write(root, f"inetpub/{folder}/Shop.runtimeconfig.json", json.dumps(
        {"runtimeOptions": {"tfm": "net8.0", "framework": {"name": "Microsoft.AspNetCore.App", "version": version}}}))
    put(root, "managed_anycpu.dll", f"inetpub/{folder}/Shop.dll")
    deps_json(root, f"inetpub/{folder}/Shop.deps.json", "Shop")


def test_self_contained_x86_in_64bit_pool_is_500_32_and_flip_is_verified(tmp_path: Path) -> None:
    make_image(tmp_path, [("Core64", 'managedRuntimeVersion=""', "maps")])
    _self_contained(tmp_path, "maps", X86_SC, "googlemaps.exe", "x86")
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-inprocess-arch", "S1")]
    f = report.findings[0]
    assert "500.32" in f.symptom and f.evidence is Evidence.READ
    assert f.fixes[0].verified is True and "enable32BitAppOnWin64:true" in f.fixes[0].commands[0]
    assert any("win-x64" in c for fx in f.fixes for c in fx.commands)
    assert any("outofprocess" in c for fx in f.fixes for c in fx.commands)


def test_self_contained_x64_in_64bit_pool_is_fine(tmp_path: Path) -> None:
    make_image(tmp_path, [("Core64", 'managedRuntimeVersion=""', "office")])
    _self_contained(tmp_path, "office", X64_SC, "myITOffice.exe", "x64")
    assert rules_of(run(tmp_path)) == []


def test_out_of_process_gives_no_finding(tmp_path: Path) -> None:
    make_image(tmp_path, [("Core32", 'enable32BitAppOnWin64="true" managedRuntimeVersion=""', "api")])
    (tmp_path / "inetpub" / "api").mkdir(parents=True)
    shutil.copyfile(CORPUS / FDD_V1, tmp_path / "inetpub/api/web.config")
    put(tmp_path, "apphost_x64.exe", "inetpub/api/Chop9ja.API.exe")
    assert rules_of(run(tmp_path)) == []


def test_ancm_v1_handler_runs_out_of_process_whatever_hosting_model_says(tmp_path: Path) -> None:
    """ANCM V1 (modules="AspNetCoreModule") ignores hostingModel: the x86 publish runs in its own process."""
    make_image(tmp_path, [("Core64", 'managedRuntimeVersion=""', "maps")])
    _self_contained(tmp_path, "maps", X86_SC, "googlemaps.exe", "x86")
    for module, rules in (("AspNetCoreModuleV2", [("aspnetcore-inprocess-arch", "S1")]), ("AspNetCoreModule", [])):
        write(tmp_path, "inetpub/maps/web.config", ANCM_INPROC.format(module=module))
        assert rules_of(run(tmp_path)) == rules, module


def test_framework_dependent_uses_the_dotnet_of_the_pools_program_files(tmp_path: Path) -> None:
    make_image(tmp_path, [("Core32", 'enable32BitAppOnWin64="true" managedRuntimeVersion=""', "shop")])
    _fdd_app(tmp_path, "shop", "8.0.0")
    _dotnet(tmp_path, "Program Files", "x64", "8.0.4")  # x64 only: the 32-bit worker finds none
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-runtime-missing", "S1")]
    f = report.findings[0]
    assert f.severity is Severity.ERROR and "Program Files (x86)\\dotnet" in f.cause
    assert f.fixes[0].verified is True and "enable32BitAppOnWin64:false" in f.fixes[0].commands[0]


def test_framework_dependent_with_matching_install_is_fine(tmp_path: Path) -> None:
    make_image(tmp_path, [("Core32", 'enable32BitAppOnWin64="true" managedRuntimeVersion=""', "shop")])
    _fdd_app(tmp_path, "shop", "8.0.0")
    _dotnet(tmp_path, "Program Files (x86)", "x86", "8.0.4")
    assert rules_of(run(tmp_path)) == []


def test_framework_dependent_version_too_old(tmp_path: Path) -> None:
    make_image(tmp_path, [("Core64", 'managedRuntimeVersion=""', "shop")])
    _fdd_app(tmp_path, "shop", "8.0.0")
    _dotnet(tmp_path, "Program Files", "x64", "6.0.25")
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-runtime-missing", "S1")]
    assert "6.0.25" in report.findings[0].cause


def test_config_only_image_gives_a_note_not_an_error(tmp_path: Path) -> None:
    make_image(tmp_path, [("Core64", 'managedRuntimeVersion=""', "shop")])
    _fdd_app(tmp_path, "shop", "8.0.0")
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-runtime-missing", "S1")]
    assert report.findings[0].severity is Severity.NOTE and report.findings[0].evidence is Evidence.UNKNOWN


def test_two_in_process_apps_in_one_pool_is_500_35(tmp_path: Path) -> None:
    make_image(tmp_path, [("Core64", 'managedRuntimeVersion=""', "a"), ("Core64", 'managedRuntimeVersion=""', "b")])
    _self_contained(tmp_path, "a", X64_SC, "myITOffice.exe", "x64")
    _self_contained(tmp_path, "b", X64_SC, "myITOffice.exe", "x64")
    report = run(tmp_path)
    assert rules_of(report) == [("aspnetcore-multiple-inprocess", None)]
    f = report.findings[0]
    assert "500.35" in f.symptom and f.fixes[0].verified is True


@pytest.mark.parametrize(("have", "want", "roll", "ok"), [
    ("8.0.4", "8.0.0", "Minor", True), ("8.1.0", "8.0.0", "LatestPatch", False), ("9.0.0", "8.0.0", "Minor", False),
    ("9.0.0", "8.0.0", "Major", True), ("8.0.0", "8.0.0", "Disable", True), ("7.0.0", "8.0.0", "Major", False),
])
def test_roll_forward(have: str, want: str, roll: str, ok: bool) -> None:
    assert satisfies(have, want, roll) is ok


FDD_INHERITED = FDD_INPROC.replace('<location path="." inheritInChildApplications="false">', "").replace(
    "</location>", "")
LEGACY = """<?xml version="1.0" encoding="utf-8"?>
<configuration><system.webServer><handlers>{handlers}</handlers></system.webServer></configuration>
"""


@pytest.mark.parametrize(("handlers", "expected"), [
    ('<remove name="aspNetCore" />', []),
    ("", [("aspnetcore-multiple-inprocess", None)]),
])
def test_child_application_under_an_in_process_app(tmp_path: Path, handlers: str,
                                                   expected: list[tuple[str, str | None]]) -> None:
    """A site-root ASP.NET Core app whose web.config has no <location inheritInChildApplications="false">: its
    aspNetCore section reaches the child /legacy (same pool). Microsoft's guidance for a non-Core child removes the
    inherited handler; ANCM then does not serve /legacy. Without the removal IIS would start a second in-process
    app in the pool (500.35)."""
    make_image(tmp_path, [("Core64", 'managedRuntimeVersion=""', "shop")])
    cfg = tmp_path / "Windows/System32/inetsrv/config/applicationHost.config"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "</application></site>", '</application><application path="/legacy" applicationPool="Core64">'
        '<virtualDirectory path="/" physicalPath="C:\\inetpub\\legacy" /></application></site>'), encoding="utf-8")
    _fdd_app(tmp_path, "shop", "8.0.0")
    write(tmp_path, "inetpub/shop/web.config", FDD_INHERITED)
    write(tmp_path, "inetpub/legacy/web.config", LEGACY.format(handlers=handlers))
    _dotnet(tmp_path, "Program Files", "x64", "8.0.1")
    assert rules_of(run(tmp_path)) == expected


@pytest.mark.parametrize("process_path", ["dotnet", ".\\Shop.exe"])
def test_an_in_process_app_whose_folder_holds_only_web_config_is_partly_checked(tmp_path: Path,
                                                                                process_path: str) -> None:
    """The folder holds the web.config and none of the app's files (Shop.dll, Shop.runtimeconfig.json): the
    runtime the app needs was not read, so the application is partly checked, with that reason (it was
    reported "checked" with no word about them)."""
    make_image(tmp_path, [("Core64", 'managedRuntimeVersion=""', "shop")])
    write(tmp_path, "inetpub/shop/web.config", FDD_INPROC.replace('processPath="dotnet"',
                                                                  f'processPath="{process_path}"'))
    _dotnet(tmp_path, "Program Files", "x64", "8.0.4")
    [c] = run(tmp_path).coverage
    assert c.status is CoverageStatus.PARTLY, c
    assert any("Shop.runtimeconfig.json" in r and "not in the image" in r for r in c.reasons), c.reasons
    _fdd_app(tmp_path, "shop", "8.0.0")  # NOTE: with the app's runtimeconfig.json it is checked
    assert [c.status for c in run(tmp_path).coverage] == [CoverageStatus.CHECKED]


@pytest.mark.parametrize("kind", ["link-out", "not-json", "fifo"])
def test_a_runtimeconfig_that_links_out_is_damaged_or_special_is_not_read_and_says_so(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, kind: str) -> None:
    """Shop.runtimeconfig.json linking out of the offline image is never read (the analyst's file); one that is not
    JSON or not a regular file (a FIFO would block the read) is not read either: each leaves the application partly
    checked with the reason, never "checked" with the runtime it needs unknown."""
    make_image(tmp_path, [("Core64", 'managedRuntimeVersion=""', "shop")])
    _fdd_app(tmp_path, "shop", "8.0.0")
    _dotnet(tmp_path, "Program Files", "x64", "8.0.4")
    config = tmp_path / "inetpub" / "shop" / "Shop.runtimeconfig.json"
    if kind == "link-out":
        outside = tmp_path_factory.mktemp("outside") / "secret.json"
        outside.write_text(config.read_text())
        config.unlink()
        config.symlink_to(outside)
    elif kind == "not-json":
        config.write_text("{not json")
    else:
        config.unlink()
        os.mkfifo(config)
    [c] = run(tmp_path).coverage
    assert c.status is CoverageStatus.PARTLY, c
    assert any("Shop.runtimeconfig.json" in r for r in c.reasons), c.reasons


@pytest.mark.parametrize(("pool", "sc", "exe", "arch", "said"), [
    ('enable32BitAppOnWin64="true" managedRuntimeVersion=""', X86_SC, "googlemaps.exe", "x86", False),
    ('managedRuntimeVersion=""', X64_SC, "myITOffice.exe", "x64", False),
])
def test_the_new_pool_of_500_35_claims_no_memory_it_did_not_have(tmp_path: Path, pool: str, sc: str, exe: str,
                                                                  arch: str, said: bool) -> None:
    """The new pool a 500.35 fix makes copies its pool's bitness: a 32-bit pool's applications get no "at most 4 GB
    ... it had terabytes" line (they had 4 GB before too); the line is for applications moved from a 64-bit worker."""
    make_image(tmp_path, [("Core", pool, "a"), ("Core", pool, "b")])
    _self_contained(tmp_path, "a", sc, exe, arch)
    _self_contained(tmp_path, "b", sc, exe, arch)
    [f] = [f for f in run(tmp_path).findings if f.rule == "aspnetcore-multiple-inprocess"]
    [effect] = [e for e in f.fixes[0].side_effects if e.kind.value == "new-pool"]
    assert effect.moved_from is not None and effect.moved_from.value == arch
    assert ("terabytes" in " ".join(effect_lines(f.fixes[0]))) is said
