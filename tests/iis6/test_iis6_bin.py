"""IIS 6: the bin of ASP.NET applications (an application whose ScriptMaps name aspnet_isapi.dll), loaded in its
pool's w3wp.exe at the server-wide bitness (in IIS 5 isolation mode in aspnet_wp.exe): managed-assembly-arch with
the server-wide switch and aspnet_regiis, side effects naming what moves, coverage and verification over unread
applications. Real assemblies (tests/fixtures/pe/bin, mcs -platform:...), metabases shaped as the demo's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.findings import EffectKind, Finding, Fix
from iisbitness.loadplan import context
from iisbitness.report import CoverageStatus, Report

from .test_iis6 import ASPNET_FILES, DEMO, FW, FW64, FX, aspnet, image, metabase

SWITCH_32 = "cscript %SystemDrive%\\Inetpub\\AdminScripts\\adsutil.vbs SET W3SVC/AppPools/Enable32bitAppOnWin64 1"
SWITCH_64 = "cscript %SystemDrive%\\Inetpub\\AdminScripts\\adsutil.vbs SET W3SVC/AppPools/Enable32bitAppOnWin64 0"


def app(name: str, pool: str = "", maps: str = "") -> str:
    """An application key ``/LM/W3SVC/1/ROOT/<name>`` over ``c:\\inetpub\\<name>``."""
    return (f'<IIsWebVirtualDir\tLocation ="/LM/W3SVC/1/ROOT/{name}"\n\t\tAppRoot="/LM/W3SVC/1/ROOT/{name}"\n'
            f'\t\tPath="c:\\inetpub\\{name}"\n' + (f'\t\tAppPoolId="{pool}"\n' if pool else "")
            + (f"\t\t{maps}\n" if maps else "") + "\t>\n</IIsWebVirtualDir>")


def pool(name: str) -> str:
    return f'<IIsApplicationPool\tLocation ="/LM/W3SVC/AppPools/{name}"\n\t>\n</IIsApplicationPool>'


def server(tmp: Path, framework: str, wow64: bool, body: str, files: dict[str, str], iis5: bool = False) -> Path:
    """An IIS 6 x64 image: ASP.NET 2.0 registered from ``framework`` at /LM/W3SVC, workers 32-bit when ``wow64``."""
    maps, filters = aspnet(framework)
    w3svc = maps + f'\n\t\tIIs5IsolationModeEnabled="{"TRUE" if iis5 else "FALSE"}"'
    pools = f'Enable32BitAppOnWin64="{"TRUE" if wow64 else "FALSE"}"'
    return image(tmp, metabase(w3svc, pools, filters + "\n" + body), {**ASPNET_FILES, **files})


def bin_findings(r: Report) -> list[Finding]:
    return [f for f in r.findings if f.rule == "managed-assembly-arch"]


def test_x86_only_assembly_in_64bit_workers_gets_the_switch_to_32bit(tmp_path: Path) -> None:
    root = server(tmp_path, FW64, False, app("legacy"), {
        "inetpub/legacy/bin/Legacy.dll": "managed_x86.dll", "inetpub/legacy/bin/Any.dll": "managed_anycpu.dll",
        "inetpub/wwwroot/bin/Any.dll": "managed_anycpu.dll"})
    r = scan(root)
    assert [(f.rule, f.process, f.pool, f.application, f.binary) for f in r.findings] == [
        ("managed-assembly-arch", "w3wp.exe", "DefaultAppPool", "/legacy", "c:\\inetpub\\legacy\\bin\\Legacy.dll")]
    f = r.findings[0]
    assert f.process_arch is Arch.X64 and f.binary_arch == (Arch.X86,)
    assert "BadImageFormatException" in f.symptom and "'Legacy'" in f.symptom
    assert "server-wide by Enable32bitAppOnWin64 (/LM/W3SVC/AppPools)" in f.cause
    switch, rebuild = f.fixes
    assert switch.commands == (SWITCH_32, "%windir%\\Microsoft.NET\\Framework\\v2.0.50727\\aspnet_regiis.exe -i -enable",
                               "iisreset")
    assert switch.powershell[0].startswith('cscript "$env:SystemDrive\\Inetpub\\AdminScripts\\adsutil.vbs"')
    assert switch.verified is True
    # the side effect names every application of the pool and the ISAPI DLLs that run at x86 with them
    arch = [e for e in switch.side_effects if e.kind is EffectKind.ARCH]
    assert [(e.pool, e.before, e.after, e.applications, e.isapi) for e in arch] == [
        ("DefaultAppPool", Arch.X64, Arch.X86, ("Default Web Site/", "Default Web Site/legacy"),
         ("aspnet_filter.dll", "aspnet_isapi.dll"))]
    assert arch[0].binaries == 4  # aspnet_filter, aspnet_isapi and the bin assemblies, by file name (Any.dll twice)
    assert rebuild.commands == ('corflags "c:\\inetpub\\legacy\\bin\\Legacy.dll" /32BITREQ-',)


def test_x64_only_assembly_in_32bit_workers_gets_the_switch_to_64bit(tmp_path: Path) -> None:
    r = scan(server(tmp_path, FW, True, "", {"inetpub/wwwroot/bin/Native64.dll": "managed_x64.dll"}))
    [f] = bin_findings(r)
    assert (f.process, f.process_arch, f.application) == ("w3wp.exe", Arch.X86, "/")
    switch = f.fixes[0]
    assert switch.commands[:2] == (SWITCH_64, "%windir%\\Microsoft.NET\\Framework64\\v2.0.50727\\aspnet_regiis.exe -i -enable")
    assert switch.verified is True
    assert f.fixes[-1].label == "the x64 DLL: rebuild AnyCPU or x86"


def test_anycpu_bin_and_applications_without_aspnet_give_nothing(tmp_path: Path) -> None:
    """AnyCPU loads at either bitness; an application whose ScriptMaps send nothing to aspnet_isapi.dll (a classic
    ASP one) starts no ASP.NET, so its bin is not loaded; nor is one whose aspnet_isapi.dll the
    WebSvcExtRestrictionList prohibits (404.2)."""
    body = app("asp", maps='ScriptMaps=".asp,C:\\WINDOWS\\system32\\inetsrv\\asp.dll,5,GET,HEAD,POST"')
    files = {"inetpub/wwwroot/bin/Any.dll": "managed_anycpu.dll", "inetpub/asp/bin/Legacy.dll": "managed_x86.dll",
             "Windows/System32/inetsrv/asp.dll": "isapi_ext_x64.dll"}
    r = scan(server(tmp_path, FW64, False, body, files))
    assert r.findings == ()
    loads = scan(server(tmp_path / "2", FW64, False, body, files), ScanOptions(load_map=True)).loads
    assert loads is not None
    bins = [(e.resolved, e.verdict.value, e.reason) for e in loads if e.kind == "bin-assembly"]
    assert bins == [("inetpub/wwwroot/bin/Any.dll", "loads", "x64 process, binary loads in x86, x64, arm64"),
                    ("inetpub/asp/bin/Legacy.dll", "skipped", ("ASP.NET never starts for Default Web Site/asp: no "
                     "script map of it names aspnet_isapi.dll, so its bin is never loaded"))]
    restricted = metabase(aspnet(FW64)[0] + '\n\t\tIIs5IsolationModeEnabled="FALSE"\n\t\tWebSvcExtRestrictionList="0,*.dll\n'
                          f'\t\t\t0,{FW64}\\aspnet_isapi.dll,0,ASP.NET v2.0.50727,ASP.NET v2.0.50727"')
    root = image(tmp_path / "3", restricted, {**ASPNET_FILES, "inetpub/wwwroot/bin/Legacy.dll": "managed_x86.dll"})
    r = scan(root, ScanOptions(load_map=True))
    assert [f.rule for f in r.findings] == ["isapi-not-allowed"]  # the 404.2 note of aspnet_isapi.dll, not of bin
    assert r.loads is not None
    assert [e.reason for e in r.loads if e.kind == "bin-assembly"] == [
        ("ASP.NET never starts for Default Web Site/: the WebSvcExtRestrictionList prohibits the aspnet_isapi.dll its "
        "script maps name (HTTP 404.2), so its bin is never loaded")]


def test_applications_without_aspnet_are_skipped_for_their_script_maps_not_a_pool_setting(tmp_path: Path) -> None:
    """The skip reason of an IIS 6 application's bin without an (allowed) aspnet_isapi.dll script map is its own,
    not IIS 7+'s No Managed Code pool (``managedRuntimeVersion=""``), which IIS 6 does not have."""
    from iisbitness.image.server_image import ServerImage
    from iisbitness.loadplan.context import PlanContext
    from iisbitness.loadplan.plan import SkipReason
    from iisbitness.scan.pipeline import read_backend

    body = app("asp", maps='ScriptMaps=".asp,C:\\WINDOWS\\system32\\inetsrv\\asp.dll,5,GET,HEAD,POST"')
    img = ServerImage.offline(server(tmp_path, FW64, False, body, {"inetpub/asp/bin/Legacy.dll": "managed_x86.dll"}))
    plan = read_backend(img, Arch.X64, "test", ScanOptions()).plan(PlanContext(img))
    assert [(s.name, s.why) for s in plan.skipped if s.kind is not None and s.kind.value == "bin-assembly"] == [
        ("Legacy.dll", SkipReason.NO_ASPNET_SCRIPT_MAP)]

def test_switch_that_breaks_another_applications_bin_is_not_verified(tmp_path: Path) -> None:
    """A 32-bit-only ISAPI extension (wc.dll) in 64-bit workers gets the switch to 32-bit; an x64-only assembly in
    another pool's application then fails: the switch is offered not verified, naming that assembly (the bin was not
    modelled: the switch was 'verified')."""
    body = "\n".join((pool("WebConnectPool"), pool("Reports"),
                      app("wconnect", "WebConnectPool", 'ScriptMaps=".wc,c:\\inetpub\\wconnect\\wc.dll,1,GET,HEAD,POST"'),
                      app("reports", "Reports")))
    r = scan(server(tmp_path, FW64, False, body, {"inetpub/wconnect/wc.dll": "isapi_ext_x86.dll",
                                                  "inetpub/reports/bin/Report64.dll": "managed_x64.dll"}))
    assert [f.rule for f in r.findings] == ["iis6-extension-arch"]
    switch = r.findings[0].fixes[0]
    assert switch.commands[0] == SWITCH_32
    assert switch.verified is False
    assert switch.note is not None and "managed-assembly-arch c:\\inetpub\\reports\\bin\\Report64.dll (w3wp.exe x86" in switch.note
    moved = {e.pool: e for e in switch.side_effects if e.kind is EffectKind.ARCH}
    assert set(moved) == {"DefaultAppPool", "WebConnectPool", "Reports"}
    assert moved["Reports"].applications == ("Default Web Site/reports",)
    assert moved["WebConnectPool"].isapi == ("aspnet_filter.dll", "wc.dll")
    text = CliRunner().invoke(main, ["scan", str(tmp_path / "img"), "--no-color"]).output
    assert "also: Reports runs as x86 (was x64): Default Web Site/reports, 3 binaries" in " ".join(text.split())


def test_application_folder_missing_makes_the_switch_not_verified_and_coverage_says_so(tmp_path: Path) -> None:
    """The switch runs every ASP.NET application's bin at the other bitness: one whose folder is not in the image
    (its bin unread) makes it not verified, and the coverage names the folder and what to copy."""
    body = "\n".join((pool("Reports"), app("legacy"), app("reports", "Reports")))
    root = server(tmp_path, FW64, False, body, {"inetpub/legacy/bin/Legacy.dll": "managed_x86.dll",
                                                "inetpub/wwwroot/Default.htm": "not_pe.txt"})
    r = scan(root)
    [f] = bin_findings(r)
    switch = f.fixes[0]
    assert switch.commands[0] == SWITCH_32 and switch.verified is False
    assert switch.note is not None and ("Not verified: Default Web Site/reports (folder c:\\inetpub\\reports is not in "
                                        "the image) was not checked") in switch.note
    cov = {c.application: c for c in r.coverage}
    assert cov["Default Web Site/reports"].status is CoverageStatus.NOT_CHECKED
    assert cov["Default Web Site/reports"].remedy == "copy c:\\inetpub\\reports into the image as inetpub/reports"
    assert cov["Default Web Site/legacy"].status is CoverageStatus.CHECKED
    # with the folder given, it is read (an AnyCPU bin) and the switch is verified
    shutil.copy(FX / "managed_anycpu.dll", (root / "inetpub" / "reports" / "bin").mkdir(parents=True) or
                root / "inetpub" / "reports" / "bin" / "Any.dll")
    again = bin_findings(scan(root))[0].fixes[0]
    assert again.verified is True


def test_iis5_isolation_mode_loads_bin_in_the_aspnet_wp_of_the_registered_framework(tmp_path: Path) -> None:
    """IIS 5 isolation mode: ASP.NET applications run in aspnet_wp.exe, here of Framework64 (x64), so an x86-only
    assembly fails there; with 32-bit workers (Enable32bitAppOnWin64 on) leaving IIS 5 isolation mode is the fix
    (each pool's w3wp.exe then x86, naming the ISAPI DLLs that ran at x64), with 64-bit workers no configuration
    fits it (32-bit ASP.NET needs 32-bit workers): only the rebuild."""
    files = {"inetpub/wwwroot/bin/Legacy.dll": "managed_x86.dll"}
    r = scan(server(tmp_path, FW64, True, "", files, iis5=True))
    [f] = bin_findings(r)
    assert (f.process, f.process_arch, f.pool) == ("aspnet_wp.exe", Arch.X64, None)
    assert "aspnet_wp.exe" in f.cause and "IIS 5 isolation mode" in f.cause
    isolation = f.fixes[0]
    assert isolation.commands[0].endswith("adsutil.vbs SET W3SVC/IIs5IsolationModeEnabled 0")
    new = [e for e in isolation.side_effects if e.kind is EffectKind.NEW_POOL]
    assert [(e.pool, e.after, e.applications) for e in new] == [("DefaultAppPool", Arch.X86, ("Default Web Site/",))]
    # the ISAPI DLLs inetinfo.exe/dllhost.exe ran at x64 now run at x86 in it, named (the bin is among binaries)
    assert new[0].isapi == ("aspnet_filter.dll", "aspnet_isapi.dll")
    [f] = bin_findings(scan(server(tmp_path / "2", FW64, False, "", files, iis5=True)))
    assert [x.label for x in f.fixes] == ["the x86 DLL: rebuild or clear 32BITREQ"]


def demo_copy(tmp_path: Path, bin_file: str | None) -> Path:
    """The demo server (IIS 5 isolation mode, Enable32bitAppOnWin64 on, ASP.NET from Framework), copied, with
    ``bin_file`` as wwwroot's bin\\Legacy.dll (None: without inetpub/wwwroot at all)."""
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root)
    if bin_file is None:
        shutil.rmtree(root / "inetpub" / "wwwroot")
    else:
        (root / "inetpub" / "wwwroot" / "bin").mkdir()
        shutil.copy(FX / bin_file, root / "inetpub" / "wwwroot" / "bin" / "Legacy.dll")
    return root


def switch_of(r: Report) -> Fix:
    return next(x for f in r.findings for x in f.fixes if x.label == "every worker as 64-bit")


def test_demo_switch_moves_aspnet_wp_and_breaks_an_x86_only_bin(tmp_path: Path) -> None:
    """The demo's ASP.NET is registered from Framework (x86): its aspnet_wp.exe is x86, where an x86-only assembly
    loads. The server-wide switch to 64-bit registers Framework64: aspnet_wp.exe then runs as x64 (a side effect
    naming both ASP.NET applications) and the assembly fails there, so the switch is not verified (it was)."""
    r = scan(demo_copy(tmp_path, "managed_x86.dll"))
    assert bin_findings(r) == []
    switch = switch_of(r)
    assert switch.verified is False
    assert switch.note is not None and ("managed-assembly-arch c:\\inetpub\\wwwroot\\bin\\Legacy.dll (aspnet_wp.exe x64"
                                        in switch.note)
    wp = [e for e in switch.side_effects if e.process == "aspnet_wp.exe"]
    assert [(e.kind, e.before, e.after, e.applications, e.binaries) for e in wp] == [
        (EffectKind.ARCH, Arch.X86, Arch.X64, ("Default Web Site/", "Default Web Site/wconnect"), 1)]
    text = " ".join(CliRunner().invoke(main, ["scan", str(tmp_path / "demo"), "--no-color"]).output.split())
    assert "also: aspnet_wp.exe runs as x64 (was x86): Default Web Site/, Default Web Site/wconnect, 1 binary" in text


def test_demo_switch_is_not_verified_over_an_application_not_in_the_image(tmp_path: Path) -> None:
    """Without inetpub/wwwroot the switch would run Default Web Site/'s ASP.NET (and its unread bin) at x64: not
    verified, naming it (it was 'verified': the bin was not modelled); the coverage says what to copy."""
    r = scan(demo_copy(tmp_path, None))
    switch = switch_of(r)
    assert switch.verified is False
    assert switch.note is not None and ("Not verified: Default Web Site/ (folder c:\\inetpub\\wwwroot is not in the "
                                        "image) was not checked") in switch.note
    [cov] = [c for c in r.coverage if c.status is CoverageStatus.NOT_CHECKED]
    assert cov.application == "Default Web Site/" and cov.remedy == "copy c:\\inetpub\\wwwroot into the image as inetpub/wwwroot"
    assert switch_of(scan(DEMO)).verified is True  # with the folder (no bin), as before


def test_demo_switch_moving_aspnet_wp_over_a_file_not_read_names_that_file(tmp_path: Path) -> None:
    """The demo's aspnet_wp.exe (IIS 5 isolation mode: no pool) loads an x64-only assembly and a bin entry that is a
    link to nothing (not read). The switch to 64-bit moves aspnet_wp.exe to x64, where it still loads that file: not
    verified, naming the file the moved process loads (LoadPlan.unchecked, which coverage reads too). Verification
    skipped processes without a pool and left it to the coverage's "Default Web Site/ ... was only partly checked"."""
    root = demo_copy(tmp_path, "managed_x64.dll")
    bin_folder = root / "inetpub" / "wwwroot" / "bin"
    (bin_folder / "Gone.dll").symlink_to(bin_folder / "nothing.dll")
    r = scan(root)
    [f] = bin_findings(r)
    switch = f.fixes[0]
    assert switch.label == "every worker as 64-bit" and switch.verified is False
    assert switch.note is not None and ("Not verified: at that architecture its worker loads "
                                        "c:\\inetpub\\wwwroot\\bin\\Gone.dll (not read: a symbolic link to nothing") in switch.note
    assert "was only partly checked" not in switch.note, switch.note
    [cov] = [c for c in r.coverage if c.application == "Default Web Site/"]
    assert cov.status is CoverageStatus.PARTLY and "Gone.dll" in cov.reasons[0], cov


def test_demo_with_an_x64_only_bin_gets_the_switch_to_64bit(tmp_path: Path) -> None:
    """An x64-only assembly in the demo's x86 aspnet_wp.exe: the fix is the switch that registers Framework64."""
    r = scan(demo_copy(tmp_path, "managed_x64.dll"))
    [f] = bin_findings(r)
    assert (f.process, f.process_arch, f.site, f.application) == ("aspnet_wp.exe", Arch.X86, "Default Web Site", "/")
    assert f.fixes[0].label == "every worker as 64-bit" and f.fixes[0].commands[0] == SWITCH_64
    assert f.fixes[0].verified is True
    assert len(r.findings) == len(scan(DEMO).findings) + 1

def test_json_names_the_isapi_of_an_iis6_switch_only(tmp_path: Path) -> None:
    """Additive within iisbitness/scan/2: a side effect's ``isapi`` is written only where it names something (an IIS
    6 switch); the schema validates it."""
    root = server(tmp_path, FW64, False, app("legacy"), {"inetpub/legacy/bin/Legacy.dll": "managed_x86.dll"})
    out = CliRunner().invoke(main, ["scan", str(root), "--format", "json"])
    doc = json.loads(out.output)
    schema = json.loads((Path(__file__).parents[2] / "src/iisbitness/formats/schema/scan-2.json").read_text("utf-8"))
    jsonschema.validate(doc, schema)
    effects = [e for fx in doc["fixes"] for e in fx["side_effects"]]
    assert [e["isapi"] for e in effects if "isapi" in e] == [["aspnet_filter.dll", "aspnet_isapi.dll"]]
    demo7 = CliRunner().invoke(main, ["scan", str(DEMO.parent / "contoso-iis10"), "--format", "json"])
    assert '"isapi"' not in demo7.output


def test_bin_not_listed_whole_makes_the_application_partly_checked_and_the_switch_not_verified(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bin cut at its listing limit (MAX_BIN_FILES, lowered here) is an unread problem of its application: partly
    checked, and the switch that runs it at the other bitness is not verified."""
    monkeypatch.setattr(context, "MAX_BIN_FILES", 3)
    files = {f"inetpub/reports/bin/Any{i}.dll": "managed_anycpu.dll" for i in range(5)}
    body = "\n".join((pool("Reports"), app("legacy"), app("reports", "Reports")))
    r = scan(server(tmp_path, FW64, False, body, {**files, "inetpub/legacy/bin/Legacy.dll": "managed_x86.dll",
                                                  "inetpub/wwwroot/Default.htm": "not_pe.txt"}))
    cov = {c.application: c for c in r.coverage}
    assert cov["Default Web Site/reports"].status is CoverageStatus.PARTLY
    assert "more than 3" in " ".join(cov["Default Web Site/reports"].reasons)
    switch = bin_findings(r)[0].fixes[0]
    assert switch.verified is False
    assert switch.note is not None and "Default Web Site/reports (inetpub/reports/bin: " in switch.note


def test_cached_report_keeps_the_isapi_of_a_side_effect(tmp_path: Path) -> None:
    """scan --cache gives an unchanged server's stored report: the side effect's ``isapi`` comes back from it."""
    root = server(tmp_path, FW64, False, app("legacy"), {"inetpub/legacy/bin/Legacy.dll": "managed_x86.dll"})
    args = ["scan", str(root), "--format", "json", "--cache", str(tmp_path / "c.sqlite"), "-q"]
    first, second = (CliRunner().invoke(main, args).output for _ in range(2))
    assert first == second and '"isapi": [' in second


def test_32bit_preferred_dll_and_an_anycpu_assembly_needing_an_x86_one_fail_in_64bit_workers(tmp_path: Path) -> None:
    """A DLL carrying 32BITPREFERRED loads in no 64-bit process (facts I6), and an AnyCPU assembly whose reference is
    x86-only fails "or one of its dependencies" (mcs-built ManagedApp.dll references managed_x86)."""
    r = scan(server(tmp_path, FW64, False, "", {"inetpub/wwwroot/bin/ManagedApp.dll": "ManagedApp.dll",
                                                "inetpub/wwwroot/bin/managed_x86.dll": "managed_x86.dll",
                                                "inetpub/wwwroot/bin/Pref.dll": "managed_anycpu32bitpreferred.dll"}))
    by_file = {f.binary.rsplit("\\", 1)[-1]: f for f in bin_findings(r)}
    assert set(by_file) == {"ManagedApp.dll", "managed_x86.dll", "Pref.dll"}
    assert by_file["ManagedApp.dll"].chain == ("ManagedApp.dll", "managed_x86.dll (x86)")
    assert by_file["Pref.dll"].fixes[-1].commands == ('corflags "c:\\inetpub\\wwwroot\\bin\\Pref.dll" /32BITREQ- /32BITPREF-',)
    assert all(f.fixes[0].commands[0] == SWITCH_32 and f.fixes[0].verified for f in by_file.values())


def test_a_directory_mapping_aspnet_below_an_application_makes_it_load_its_bin(tmp_path: Path) -> None:
    """An application whose own ScriptMaps name only asp.dll, with a directory below it (no AppRoot) whose ScriptMaps
    send .aspx to aspnet_isapi.dll: requests there start ASP.NET in the application's AppDomain, which loads the
    application's bin."""
    asp = 'ScriptMaps=".asp,C:\\WINDOWS\\system32\\inetsrv\\asp.dll,5,GET,HEAD,POST"'
    sub = ('<IIsWebDirectory\tLocation ="/LM/W3SVC/1/ROOT/shop/reports"\n'
           f'\t\tScriptMaps=".aspx,{FW64}\\aspnet_isapi.dll,1,GET,HEAD,POST,DEBUG"\n\t>\n</IIsWebDirectory>')
    files = {"inetpub/shop/bin/Legacy.dll": "managed_x86.dll", "Windows/System32/inetsrv/asp.dll": "isapi_ext_x64.dll"}
    r = scan(server(tmp_path, FW64, False, app("shop", maps=asp) + "\n" + sub, files))
    assert [(f.application, f.binary) for f in bin_findings(r)] == [("/shop", "c:\\inetpub\\shop\\bin\\Legacy.dll")]
    r = scan(server(tmp_path / "2", FW64, False, app("shop", maps=asp), files))
    assert bin_findings(r) == []


def test_32bit_windows_offers_only_the_rebuild(tmp_path: Path) -> None:
    """On 32-bit Windows every worker is 32-bit and nothing switches (facts A5): an x64-only assembly gets the rebuild
    only, and its cause does not speak of a server-wide switch."""
    r = scan(server(tmp_path, FW, False, "", {"inetpub/wwwroot/bin/Native64.dll": "managed_x64.dll"}),
             ScanOptions(os_arch=Arch.X86))
    [f] = bin_findings(r)
    assert (f.process, f.process_arch) == ("w3wp.exe", Arch.X86)
    assert [x.label for x in f.fixes] == ["the x64 DLL: rebuild AnyCPU or x86"]
    assert "Enable32bitAppOnWin64" not in f.cause
