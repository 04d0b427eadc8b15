"""IIS 6 (issue 4): MetaBase.xml parsing and inheritance, the iis6-* rules, fixes, demo and CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.config.metabase import parse_script_maps, read_iis6, split_multisz
from iisbitness.model.source import ConfigSource
from iisbitness.report import Report

FX = Path(__file__).parents[1] / "fixtures" / "pe" / "bin"
DEMO = Path(__file__).parents[2] / "src" / "iisbitness" / "demo" / "w2003-iis6"
FW = "C:\\WINDOWS\\Microsoft.NET\\Framework\\v2.0.50727"
FW64 = "C:\\WINDOWS\\Microsoft.NET\\Framework64\\v2.0.50727"


def metabase(w3svc: str = "", pools: str = 'Enable32BitAppOnWin64="FALSE"', body: str = "") -> str:
    return f"""<?xml version ="1.0"?>
<configuration xmlns="urn:microsoft-catalog:XML_Metabase_V64_0">
<MBProperty>
<IIsWebService\tLocation ="/LM/W3SVC"
\t\tAppPoolId="DefaultAppPool"
\t\t{w3svc}
\t>
</IIsWebService>
<IIsApplicationPools\tLocation ="/LM/W3SVC/AppPools"
\t\t{pools}
\t>
</IIsApplicationPools>
<IIsApplicationPool\tLocation ="/LM/W3SVC/AppPools/DefaultAppPool"
\t>
</IIsApplicationPool>
<IIsWebServer\tLocation ="/LM/W3SVC/1"
\t\tServerComment="Default Web Site"
\t>
</IIsWebServer>
<IIsWebVirtualDir\tLocation ="/LM/W3SVC/1/ROOT"
\t\tAppIsolated="2"
\t\tAppRoot="/LM/W3SVC/1/ROOT"
\t\tPath="c:\\inetpub\\wwwroot"
\t>
</IIsWebVirtualDir>
{body}
</MBProperty>
</configuration>
"""


def image(tmp: Path, mb: str, files: dict[str, str]) -> Path:
    root = tmp / "img"
    inetsrv = root / "Windows" / "System32" / "inetsrv"
    inetsrv.mkdir(parents=True)
    (root / "Windows" / "SysWOW64").mkdir()
    (inetsrv / "MetaBase.xml").write_text(mb, encoding="utf-8")
    for dest, src in files.items():
        p = root / dest
        p.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FX / src, p)
    return root


def site_filter(name: str, path: str, parent: str = "/LM/W3SVC/1") -> str:
    """The ISAPI filter ``name`` at ``path`` of ``parent`` (site 1; ``/LM/W3SVC``: global), alone in its
    FilterLoadOrder (metabase keys)."""
    return (f"\n{_key('IIsFilters', f'{parent}/Filters', FilterLoadOrder=name)}"
            f"\n{_key('IIsFilter', f'{parent}/Filters/{name}', FilterPath=path)}")


def _key(kind: str, location: str, **values: str) -> str:
    """A metabase key of class ``kind`` at ``location`` with ``values``, as MetaBase.xml writes it."""
    lines = "".join(f'\t\t{name}="{value}"\n' for name, value in values.items())
    return f'<{kind}\tLocation ="{location}"\n{lines}\t>\n</{kind}>'


def found(r: Report) -> list[tuple[str, str | None, str | None]]:
    return [(f.rule, f.process, f.binary) for f in r.findings]


ASPNET_FILES = {
    "Windows/Microsoft.NET/Framework/v2.0.50727/aspnet_filter.dll": "filter_x86.dll",
    "Windows/Microsoft.NET/Framework/v2.0.50727/aspnet_isapi.dll": "isapi_ext_x86.dll",
    "Windows/Microsoft.NET/Framework64/v2.0.50727/aspnet_filter.dll": "filter_x64.dll",
    "Windows/Microsoft.NET/Framework64/v2.0.50727/aspnet_isapi.dll": "isapi_ext_x64.dll",
}


def aspnet(folder: str) -> tuple[str, str]:
    """(W3SVC ScriptMaps attribute, global filter keys) registering ASP.NET 2.0 from ``folder``."""
    maps = (f'ScriptMaps=".aspx,{folder}\\aspnet_isapi.dll,1,GET,HEAD,POST,DEBUG\n'
            f'\t\t\t.asmx,{folder}\\aspnet_isapi.dll,1,GET,HEAD,POST,DEBUG"')
    return maps, site_filter("ASP.NET_2.0.50727.0", f"{folder}\\aspnet_filter.dll", "/LM/W3SVC")


# -- the example server -------------------------------------------------------------------------

def test_demo_shows_isolation_wow64_and_32bit_filter_in_inetinfo() -> None:
    r = scan(DEMO)
    assert r.server.kind == "iis6"
    assert r.server.os_arch is Arch.X64
    got = found(r)
    assert ("iis6-isolation-wow64", "inetinfo.exe", None) in got
    assert ("iis6-filter-arch", "inetinfo.exe", f"{FW}\\aspnet_filter.dll") in got
    iso = next(f for f in r.findings if f.rule == "iis6-isolation-wow64")
    assert iso.config is not None and iso.config.line == 18  # the /LM/W3SVC key's start tag
    cmds = [c for fx in iso.fixes for c in fx.commands]
    assert "cscript %SystemDrive%\\Inetpub\\AdminScripts\\adsutil.vbs SET W3SVC/IIs5IsolationModeEnabled 0" in cmds
    assert "net stop http /y" in cmds
    # Leaving IIS 5 mode keeps 32-bit workers: the 64-bit-only site filter would break, and that is listed.
    to_worker = iso.fixes[0]
    assert to_worker.verified is False and to_worker.note and "rewrite64.dll" in to_worker.note


def test_iis7_demo_is_unchanged() -> None:
    demo7 = DEMO.parent / "contoso-iis10"
    r = scan(demo7)
    assert r.server.kind == "iis7+"
    assert not [f for f in r.findings if f.rule.startswith("iis6-")]


def test_demo_command_shows_both_servers() -> None:
    out = CliRunner().invoke(main, ["demo", "--no-color"])
    assert out.exit_code == 0, out.output
    assert "server IIS6," in out.output and "iis6-isolation-wow64" in out.output and "server IIS7+," in out.output


def test_arm64_is_refused_for_iis6() -> None:
    """IIS 6 never ran on ARM64: --os-arch arm64 was a rule crash (KeyError) and arm64 builds of ASP.NET in the
    fixes; it is an input error naming the metabase."""
    for fmt in ("text", "json"):
        out = CliRunner().invoke(main, ["scan", str(DEMO), "--os-arch", "arm64", "--format", fmt, "-q"])
        assert out.exit_code == 2, out.output
        assert "MetaBase.xml: an IIS 6 metabase, but the OS is taken as arm64 (--os-arch)" in out.output
    assert CliRunner().invoke(main, ["scan", str(DEMO), "--os-arch", "x86", "-q"]).exit_code == 1


# -- iis6-isolation-wow64 -----------------------------------------------------------------------

def test_isolation_missing_with_wow64_is_a_warning_and_said_unknown(tmp_path: Path) -> None:
    maps, filters = aspnet(FW)
    r = scan(image(tmp_path, metabase(maps, 'Enable32BitAppOnWin64="TRUE"', filters), ASPNET_FILES))
    f = next(f for f in r.findings if f.rule == "iis6-isolation-wow64")
    assert f.severity.label == "warning"
    assert "not set" in f.cause
    assert any("IIs5IsolationModeEnabled is not set" in p.message for p in r.problems)
    # Worker isolation assumed: 32-bit workers load the 32-bit ASP.NET: no mismatch.
    assert [x for x in found(r) if x[0] != "iis6-isolation-wow64"] == []


def test_worker_isolation_with_wow64_is_fine(tmp_path: Path) -> None:
    maps, filters = aspnet(FW)
    w3svc = maps + '\n\t\tIIs5IsolationModeEnabled="FALSE"'
    r = scan(image(tmp_path, metabase(w3svc, 'Enable32BitAppOnWin64="TRUE"', filters), ASPNET_FILES))
    assert r.findings == ()
    assert r.pools[0].worker_arch is Arch.X86


# -- iis6-filter-arch / iis6-extension-arch -----------------------------------------------------

def test_everything_fits_gives_no_finding(tmp_path: Path) -> None:
    maps, filters = aspnet(FW64)
    w3svc = maps + '\n\t\tIIs5IsolationModeEnabled="FALSE"'
    r = scan(image(tmp_path, metabase(w3svc, body=filters), ASPNET_FILES))
    assert r.findings == ()
    assert r.pools[0].worker_arch is Arch.X64 and r.pools[0].applications == ("Default Web Site/",)


def test_aspnet_registered_from_framework_in_64bit_workers(tmp_path: Path) -> None:
    maps, filters = aspnet(FW)
    w3svc = maps + '\n\t\tIIs5IsolationModeEnabled="FALSE"'
    r = scan(image(tmp_path, metabase(w3svc, body=filters), ASPNET_FILES))
    got = found(r)
    assert ("iis6-filter-arch", "w3wp.exe", f"{FW}\\aspnet_filter.dll") in got
    assert ("iis6-extension-arch", "w3wp.exe", f"{FW}\\aspnet_isapi.dll") in got
    for f in r.findings:
        first = f.fixes[0]
        assert first.commands[0] == "%windir%\\Microsoft.NET\\Framework64\\v2.0.50727\\aspnet_regiis.exe -i -enable"
        assert first.verified is True
    ext = next(f for f in r.findings if f.rule == "iis6-extension-arch")
    assert "*.aspx, *.asmx" in ext.symptom


def test_missing_aspnet_binaries_are_inferred_from_the_framework_folder(tmp_path: Path) -> None:
    maps, filters = aspnet(FW64)
    w3svc = maps + '\n\t\tIIs5IsolationModeEnabled="FALSE"'
    r = scan(image(tmp_path, metabase(w3svc, 'Enable32BitAppOnWin64="1"', filters), {}))
    assert r.server.config_only
    assert {(f.rule, f.evidence.value) for f in r.findings} == {("iis6-filter-arch", "inferred"),
                                                               ("iis6-extension-arch", "inferred")}
    assert all(f.fixes[0].commands[0].startswith("%windir%\\Microsoft.NET\\Framework\\v2.0.50727\\aspnet_regiis.exe")
               for f in r.findings)


def test_32bit_only_extension_gets_the_server_wide_switch_with_what_it_breaks(tmp_path: Path) -> None:
    maps, filters = aspnet(FW64)
    w3svc = maps + '\n\t\tIIs5IsolationModeEnabled="FALSE"'
    body = filters + site_filter("Rewrite64", "C:\\Program Files\\Contoso\\rewrite64.dll") + """
<IIsWebVirtualDir\tLocation ="/LM/W3SVC/1/ROOT/wconnect"
\t\tAppRoot="/LM/W3SVC/1/ROOT/wconnect"
\t\tPath="c:\\inetpub\\wconnect"
\t\tScriptMaps=".wc,c:\\inetpub\\wconnect\\wc.dll,1,GET,HEAD,POST"
\t>
</IIsWebVirtualDir>"""
    files = dict(ASPNET_FILES)
    files["inetpub/wconnect/wc.dll"] = "isapi_ext_x86.dll"
    files["Program Files/Contoso/rewrite64.dll"] = "filter_x64.dll"
    r = scan(image(tmp_path, metabase(w3svc, body=body), files))
    assert found(r) == [("iis6-extension-arch", "w3wp.exe", "c:\\inetpub\\wconnect\\wc.dll")]
    f = r.findings[0]
    assert f.application == "/wconnect"
    switch = f.fixes[0]
    assert switch.commands[0] == "cscript %SystemDrive%\\Inetpub\\AdminScripts\\adsutil.vbs SET W3SVC/AppPools/Enable32bitAppOnWin64 1"
    assert "%windir%\\Microsoft.NET\\Framework\\v2.0.50727\\aspnet_regiis.exe -i -enable" in switch.commands
    assert switch.verified is False
    assert switch.note is not None and "rewrite64.dll" in switch.note
    assert "aspnet_filter" not in switch.note  # ASP.NET is re-registered as 32-bit by the same fix
    assert any("WebConnectionHandler" in (x.note or "") for x in f.fixes)


def test_an_arm64ec_extension_and_filter_in_the_x64_worker_fail_on_an_import_not_with_error_193(tmp_path: Path) -> None:
    """An ARM64EC image's Machine is AMD64: the x64 loader of x64 Windows maps it and fails on an import (RtlIsEcCode,
    error 127; pe.classify.off_arm), as the IIS 7 rules say; the IIS 6 rules said "%1 is not a valid Win32
    application" (error 193) and event 2274's "another processor architecture" for it."""
    w3svc = 'IIs5IsolationModeEnabled="FALSE"\n\t\tScriptMaps=".wc,c:\\inetpub\\wc.dll,1,GET"'
    body = site_filter("Ec", "C:\\Program Files\\Contoso\\ec.dll")
    files = {"inetpub/wc.dll": "hybrid_arm64ec_marker.dll", "Program Files/Contoso/ec.dll": "hybrid_arm64ec_marker.dll"}
    r = scan(image(tmp_path, metabase(w3svc, body=body), files))
    by_rule = {f.rule: f for f in r.findings}
    ext, flt = by_rule["iis6-extension-arch"], by_rule["iis6-filter-arch"]
    for f in (ext, flt):
        assert f.process_arch is Arch.X64 and "error 193" not in f.symptom and "0xC1" not in f.symptom.upper()
        assert "RtlIsEcCode" in f.symptom and "ERROR_PROC_NOT_FOUND, Win32 error 127" in f.symptom, f.symptom
    assert ext.symptom.startswith("HTTP 500 on requests for *.wc in ") and ext.symptom.endswith("Other requests work.")
    assert "2274" not in flt.symptom and "W3SVC-WP event 2268" in flt.symptom and "c1 00 00 00" not in flt.symptom


def test_prohibited_extension_is_a_404_2_note_naming_its_bitness(tmp_path: Path) -> None:
    """WebSvcExtRestrictionList prohibits the DLL: never loaded, so no error; a note with the real symptom
    (404.2) that also says the DLL would not fit the 64-bit worker once allowed (issue 12)."""
    w3svc = ('IIs5IsolationModeEnabled="FALSE"\n\t\tScriptMaps=".wc,c:\\inetpub\\wc.dll,1,GET"\n'
             '\t\tWebSvcExtRestrictionList="0,*.dll\n\t\t\t0,*.exe"')
    r = scan(image(tmp_path, metabase(w3svc), {"inetpub/wc.dll": "isapi_ext_x86.dll"}))
    assert [(f.rule, f.severity.label) for f in r.findings] == [("isapi-not-allowed", "note")]
    f = r.findings[0]
    assert "404.2" in f.symptom and "WebSvcExtRestrictionList" in f.cause
    assert "Allowing it is not enough" in f.cause and "x86" in f.cause


# -- parsing and inheritance --------------------------------------------------------------------

def test_inheritance_down_the_key_path(tmp_path: Path) -> None:
    w3svc = ('IIs5IsolationModeEnabled="FALSE"\n'
             '\t\tScriptMaps=".dll32,C:\\Tools\\x86.dll,1,GET\n\t\t\t.exe1,C:\\Tools\\cgi.exe,1,GET"')
    body = """<IIsWebVirtualDir\tLocation ="/LM/W3SVC/1/ROOT/app"
\t\tAppRoot="/LM/W3SVC/1/ROOT/app"
\t\tAppPoolId="Other"
\t>
</IIsWebVirtualDir>
<IIsApplicationPool\tLocation ="/LM/W3SVC/AppPools/Other"
\t>
</IIsApplicationPool>"""
    root = image(tmp_path, metabase(w3svc, body=body), {"Tools/x86.dll": "isapi_ext_x86.dll"})
    mb = root / "Windows" / "System32" / "inetsrv" / "MetaBase.xml"
    server = read_iis6(mb, "MetaBase.xml", Arch.X64, "test")
    app = next(a for a in server.apps if a.path == "/app")
    assert app.pool == "Other"
    assert app.physical_path == "c:\\inetpub\\wwwroot\\app"  # Path inherited from ROOT plus the key name
    assert [s.extension for s in app.script_maps] == [".dll32", ".exe1"]
    assert app.script_maps[0].defined_at == "/LM/W3SVC" and app.script_maps[0].source.line == 4
    r = scan(root)
    # One load per worker: DefaultAppPool (ROOT) and Other (/app); the CGI .exe is not a load.
    assert sorted((f.pool, f.application) for f in r.findings) == [("DefaultAppPool", "/"), ("Other", "/app")]
    assert all(f.config is not None and f.config.line == 4 for f in r.findings)


def test_enable32_on_w3svc_is_inherited_by_apppools(tmp_path: Path) -> None:
    w3svc = 'Enable32BitAppOnWin64="TRUE"\n\t\tIIs5IsolationModeEnabled="FALSE"'
    root = image(tmp_path, metabase(w3svc, pools=""), {})
    server = read_iis6(root / "Windows/System32/inetsrv/MetaBase.xml", "m", Arch.X64, "t")
    assert server.enable_32bit_app_on_win64 and server.enable_32bit_from == "/LM/W3SVC" and server.worker_arch is Arch.X86


def test_multisz_as_stored_on_one_line() -> None:
    value = ".asp,C:\\Program Files\\a b\\asp.dll,5,GET,HEAD .aspx,C:\\x\\aspnet_isapi.dll,1,GET"
    maps, bad = parse_script_maps(value, ConfigSource("m"), "/LM/W3SVC")
    assert [(m.extension, m.processor) for m in maps] == [(".asp", "C:\\Program Files\\a b\\asp.dll"),
                                                           (".aspx", "C:\\x\\aspnet_isapi.dll")]
    assert not bad
    assert split_multisz("a\n\t\tb\r\n c") == ["a", "b", "c"]


def test_config_option_names_a_metabase(tmp_path: Path) -> None:
    maps, filters = aspnet(FW)
    mb = tmp_path / "saved-metabase.xml"
    mb.write_text(metabase(maps + '\n\t\tIIs5IsolationModeEnabled="FALSE"', body=filters), encoding="utf-8")
    img = tmp_path / "empty"
    img.mkdir()
    r = scan(img, ScanOptions(config=mb))
    assert r.server.kind == "iis6" and r.server.config_file == str(mb)
    assert {f.rule for f in r.findings} == {"iis6-filter-arch", "iis6-extension-arch"}


def test_malformed_metabase_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    bad = metabase().replace("</IIsWebServer>", "</IIsWebServerX>")
    root = image(tmp_path, bad, {})
    out = CliRunner().invoke(main, ["scan", str(root)])
    assert out.exit_code == 2
    line = bad.splitlines().index("</IIsWebServerX>") + 1
    assert f"Windows/System32/inetsrv/MetaBase.xml:{line}:" in out.output


def test_not_a_metabase_structure_exits_2(tmp_path: Path) -> None:
    root = image(tmp_path, '<?xml version="1.0"?>\n<configuration xmlns="urn:microsoft-catalog:XML_Metabase_V64_0">\n'
                           "<Other/>\n</configuration>\n", {})
    out = CliRunner().invoke(main, ["scan", str(root)])
    assert out.exit_code == 2 and "MetaBase.xml" in out.output and "MBProperty" in out.output


def test_no_fix_runs_an_aspnet_regiis_of_the_other_mode(tmp_path: Path) -> None:
    """The demo runs IIS 5 isolation mode with Enable32BitAppOnWin64 on: the 32-bit aspnet_filter.dll in the 64-bit
    inetinfo.exe was offered '[1] ASP.NET from Framework64 (verified)', aspnet_regiis -i alone; but on IIS 6 x64
    the 64-bit aspnet_regiis runs only when IIS is in 64-bit mode (facts G6): the command fails. Each fix that runs
    the Framework64 aspnet_regiis first sets Enable32bitAppOnWin64 0 (the server-wide switch)."""
    r = scan(DEMO)
    offered = [fx for f in r.findings if f.rule in ("iis6-filter-arch", "iis6-extension-arch") for fx in f.fixes]
    assert offered
    for fx in offered:
        regiis = [i for i, c in enumerate(fx.commands) if "Framework64\\v2.0.50727\\aspnet_regiis.exe" in c]
        switch = [i for i, c in enumerate(fx.commands) if c.endswith("W3SVC/AppPools/Enable32bitAppOnWin64 0")]
        assert not regiis or (switch and switch[0] < regiis[0]), (fx.summary, fx.commands)
    fil = next(f for f in r.findings if f.rule == "iis6-filter-arch")
    assert fil.fixes[0].verified and fil.fixes[0].label == "every worker as 64-bit"


def test_iis6_own_extensions_in_a_32bit_worker_are_inferred_a_vendor_one_not_checked(tmp_path: Path) -> None:
    """A configuration-only IIS 6 image in 32-bit mode: the worker reaches System32\\inetsrv in SysWOW64. IIS's own
    ssinc.dll and httpodbc.dll (installed in both views) are inferred x86 and fit; a vendor's extension there is not
    one of Windows' own, so binary-missing says it was not checked instead of inferring it."""
    maps, filters = aspnet(FW)
    maps = maps.removesuffix('"') + ('\n\t\t\t.shtm,C:\\WINDOWS\\system32\\inetsrv\\ssinc.dll,5,GET,POST'
                                      '\n\t\t\t.idc,C:\\WINDOWS\\system32\\inetsrv\\httpodbc.dll,5,GET,POST'
                                      '\n\t\t\t.vnd,C:\\WINDOWS\\system32\\inetsrv\\vendorext.dll,5,GET,POST"')
    w3svc = maps + '\n\t\tIIs5IsolationModeEnabled="FALSE"'
    r = scan(image(tmp_path, metabase(w3svc, 'Enable32BitAppOnWin64="TRUE"', filters), ASPNET_FILES))
    assert [(f.rule, f.severity.name, f.binary) for f in r.findings if "inetsrv" in (f.binary or "")] == [
        ("binary-missing", "WARNING", "C:\\WINDOWS\\system32\\inetsrv\\vendorext.dll")]


def test_an_extension_not_checked_in_iis5_isolation_mode_leaves_its_application_partly_checked(tmp_path: Path) -> None:
    """IIS 6 in IIS 5 isolation mode runs extensions in inetinfo.exe and dllhost.exe, processes without a pool: wc.dll
    taken out of the copy is binary-missing's could-not-check warning, and its application (the script map's) is
    partly checked, not "all 2 applications checked" over it (a review's finding); the other stays checked."""
    image = tmp_path / "img"
    shutil.copytree(DEMO, image)
    (image / "inetpub/wconnect/wc.dll").unlink()
    r = scan(image)
    assert any(f.rule == "binary-missing" and "wc.dll" in (f.binary or "").lower() for f in r.findings)
    by_app = {c.application: c for c in r.coverage}
    assert by_app["Default Web Site/wconnect"].status.value == "partly-checked", by_app
    assert any("wc.dll" in reason for reason in by_app["Default Web Site/wconnect"].reasons)
    assert by_app["Default Web Site/"].status.value == "checked", by_app
    assert CliRunner().invoke(main, ["scan", str(image), "-q", "--fail-on", "never", "--fail-on-incomplete"]).exit_code == 1
