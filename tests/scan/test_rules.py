"""Each scan rule, positive and negative, on real binaries in temporary server images."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.findings import Finding, Severity
from iisbitness.image.paths import unseen
from iisbitness.report import Report
from tests.conftest import DEMO, PE_BIN, apphost, make_image, site

POOL64 = '<add name="P64" managedRuntimeVersion="v4.0" />'
POOL32 = '<add name="P32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />'


def rules(report: Report) -> list[tuple[str, str | None]]:
    return [(f.rule, f.pool) for f in report.findings]


def test_global_module_x86_without_precondition_in_64bit_pool(tmp_path: Path) -> None:
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\inetpub\s"),
                                       '<globalModules><add name="Vendor" image="C:\\Vendor\\v.dll" /></globalModules>'),
                     {"Vendor/v.dll": "module_x86.dll", "inetpub/s/index.htm": "hi"})
    r = scan(img)
    assert rules(r) == [("global-module-arch", "P64")]
    f = r.findings[0]
    assert f.process == "w3wp.exe" and f.process_arch is Arch.X64 and f.binary_arch == (Arch.X86,)
    text = (img / "Windows/System32/inetsrv/config/applicationHost.config").read_text()
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if 'name="Vendor"' in ln)
    assert f.config is not None and f.config.line == line and f.config.file.endswith("applicationHost.config")
    assert "503" in f.symptom and "AMD64" in f.symptom
    # NOTE: the preCondition takes Vendor out of P64's worker, where it never ran (ran False: the pool stopped), so it
    # takes nothing from the sites and is not ranked after the flip (verify._order counts only unloads that ran)
    restrict, flip = (x for x in f.fixes if x.edits)
    assert flip.verified is True and "enable32BitAppOnWin64:true" in flip.commands[0]
    assert restrict.verified is True and "bitness32" in restrict.commands[0]
    assert [(e.kind.value, e.name, e.pool, e.ran) for e in restrict.side_effects] == [
        ("unloaded", "Vendor", "P64", False)]


def test_precondition_skips_module_in_other_bitness(tmp_path: Path) -> None:
    gm = ('<globalModules><add name="V32" image="C:\\Vendor\\v32.dll" preCondition="bitness32" />'
          '<add name="V64" image="C:\\Vendor\\v64.dll" preCondition="bitness64" /></globalModules>')
    img = make_image(tmp_path, apphost(POOL64 + POOL32, site("A", 1, "P64", r"C:\a") + site("B", 2, "P32", r"C:\b"), gm),
                     {"Vendor/v32.dll": "module_x86.dll", "Vendor/v64.dll": "module_x64.dll"})
    assert scan(img).findings == ()


def test_a_bitness_precondition_with_the_other_bitness_binary_gets_no_contradictory_fix(tmp_path: Path) -> None:
    """preCondition="bitness64" on a module whose DLL is x86: the 64-bit worker fails to load it. Adding bitness32
    would make it load nowhere, so the fixes are the right build (and the pool flip), not a preCondition. The flip
    clears the 503 by leaving V out (a 32-bit worker skips a bitness64 entry): it says so, but V never ran in P64
    (ran False), so the verified flip that restarts the pool stopped by the 503 ranks before the build advice."""
    gm = '<globalModules><add name="V" image="C:\\Vendor\\v.dll" preCondition="bitness64" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64, site("A", 1, "P64", r"C:\a"), gm), {"Vendor/v.dll": "module_x86.dll"})
    [f] = scan(img).findings
    assert f.rule == "global-module-arch"
    assert not [x for x in f.fixes if "preCondition" in x.summary or "bitness32" in " ".join(x.commands)]
    assert [x.label for x in f.fixes] == ["run the pool as 32-bit", "an x64 build of the global module"]
    assert [(e.kind.value, e.name, e.ran) for e in f.fixes[0].side_effects] == [
        ("arch", "P64", None), ("unloaded", "V", False)]


def test_unknown_precondition_tokens_do_not_crash_or_invent(tmp_path: Path) -> None:
    gm = ('<globalModules><add name="V32" image="C:\\V\\v32.dll" preCondition="bitness32,winx86_64,someFutureToken" />'
          '<add name="V64" image="C:\\V\\v64.dll" preCondition="someFutureToken,bitness64" /></globalModules>')
    img = make_image(tmp_path, apphost(POOL64, site("A", 1, "P64", r"C:\a"), gm),
                     {"V/v32.dll": "module_x86.dll", "V/v64.dll": "module_x64.dll"})
    assert scan(img).findings == ()


def test_unknown_token_still_reports_a_real_mismatch(tmp_path: Path) -> None:
    gm = '<globalModules><add name="V" image="C:\\V\\v.dll" preCondition="someFutureToken" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64, site("A", 1, "P64", r"C:\a"), gm), {"V/v.dll": "module_x86.dll"})
    f = scan(img).findings[0]
    assert f.rule == "global-module-arch" and "someFutureToken" in f.cause


def test_system32_redirected_to_syswow64_for_32bit_pool(tmp_path: Path) -> None:
    gm = '<globalModules><add name="Own" image="%windir%\\System32\\inetsrv\\own.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64 + POOL32, site("A", 1, "P64", r"C:\a") + site("B", 2, "P32", r"C:\b"), gm),
                     {"Windows/System32/inetsrv/own.dll": "module_x64.dll",
                      "Windows/SysWOW64/inetsrv/own.dll": "module_x86.dll"})
    assert scan(img).findings == ()


def test_dll_only_in_system32_breaks_32bit_pool(tmp_path: Path) -> None:
    """Facts B12: a DLL put only in System32 is not found by 32-bit workers, which look in SysWOW64: the
    module fails to load (W3SVC-WP 2280, data 7E 00 00 00 = 126) and the pool gets 503."""
    gm = '<globalModules><add name="Own" image="%windir%\\System32\\inetsrv\\own.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL32, site("B", 2, "P32", r"C:\b"), gm),
                     {"Windows/System32/inetsrv/own.dll": "module_x64.dll",
                      "Windows/SysWOW64/inetsrv/cachuri.dll": "module_x86.dll"})
    r = scan(img)
    assert [(f.rule, f.pool, f.severity.label) for f in r.findings] == [("binary-missing", "P32", "error")]
    f = r.findings[0]
    assert "7E 00 00 00" in f.symptom and "503" in f.symptom
    assert "Windows/SysWOW64/inetsrv" in f.cause and "Windows/System32/inetsrv/own.dll" in f.cause


def test_sysnative_is_no_folder_for_a_64bit_worker(tmp_path: Path) -> None:
    """Facts E1: %windir%\\Sysnative is how 32-bit processes reach the real System32; 64-bit processes have no
    such folder, so the 64-bit worker cannot find the module on any server (an error, not an 'unknown' warning),
    while the 32-bit worker is sent to System32 and meets the x64 DLL."""
    gm = '<globalModules><add name="Nat" image="%windir%\\Sysnative\\inetsrv\\nat.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64 + POOL32, site("A", 1, "P64", r"C:\a") + site("B", 2, "P32", r"C:\b"), gm),
                     {"Windows/System32/inetsrv/nat.dll": "module_x64.dll"})
    r = scan(img)
    got = {(f.rule, f.pool, f.severity.label, f.resolved): f for f in r.findings}
    assert set(got) == {("binary-missing", "P64", "error", None),
                        ("global-module-arch", "P32", "error", "Windows/System32/inetsrv/nat.dll")}
    assert "Sysnative exists only for 32-bit processes" in got[("binary-missing", "P64", "error", None)].cause
    assert unseen("C:\\Windows\\Sysnative\\x.dll", Arch.X86, Arch.X86) is not None  # 32-bit Windows has none
    assert unseen("C:\\Windows\\Sysnative\\x.dll", Arch.ARM64, Arch.X86) is None
    assert unseen("C:\\Windows\\System32\\x.dll", Arch.X64, Arch.X64) is None


def test_absent_from_a_folder_the_image_lacks_is_inferred(tmp_path: Path) -> None:
    """A configuration-only image (SysWOW64\\inetsrv absent, or holding no binary): for one of Windows' own IIS
    modules, which IIS installs in both views, the folder decides x86, the worker fits by inference, and the report
    says nothing."""
    gm = ('<globalModules><add name="AnonymousAuthenticationModule" image="%windir%\\System32\\inetsrv\\authanon.dll" />'
          '</globalModules>')
    img = make_image(tmp_path, apphost(POOL32, site("B", 2, "P32", r"C:\b"), gm),
                     {"Windows/SysWOW64/inetsrv/readme.txt": "not a binary"})
    assert scan(img).findings == ()


def test_a_vendor_file_reached_through_redirection_on_a_configuration_only_image_is_not_checked(tmp_path: Path) -> None:
    """A configuration-only image: a vendor's global module, ISAPI filter and WSUS's suscomp.dll scheme named under
    System32\\inetsrv, which a 32-bit worker reaches in SysWOW64. Windows installs its own IIS modules in both views;
    which builds a product puts in SysWOW64 is its installer's choice, and WSUS leaves that file out (facts B12, KB
    4468361). Each is
    binary-missing's "not checked" warning with its kind's symptom; SysWOW64 used to infer x86 and call them loaded:
    0 findings, "all applications checked"."""
    gm = ('<globalModules><add name="StaticCompressionModule" image="%windir%\\System32\\inetsrv\\compstat.dll" />'
          '<add name="Own" image="%windir%\\System32\\inetsrv\\own.dll" /></globalModules>'
          '<isapiFilters><filter name="F" path="%windir%\\System32\\inetsrv\\vendorfilter.dll" /></isapiFilters>'
          '<httpCompression><scheme name="xpress" dll="%windir%\\system32\\inetsrv\\suscomp.dll" /></httpCompression>')
    img = make_image(tmp_path, apphost(POOL32, site("B", 2, "P32", r"C:\b"), gm), {"b/index.htm": "b"})
    found = {(f.binary or "").rsplit("\\", 1)[-1]: f for f in scan(img).findings}
    assert set(found) == {"own.dll", "vendorfilter.dll", "suscomp.dll"}
    assert all(f.rule == "binary-missing" and f.severity is Severity.WARNING and f.pool == "P32" and not f.arch_inferred
               and "Windows installs its own IIS modules in both views" in f.cause for f in found.values())
    assert "W3SVC-WP event 2280" in found["own.dll"].symptom
    assert "Calling LoadLibraryEx on ISAPI filter" in found["vendorfilter.dll"].symptom
    assert "HTTP 500.19" in found["suscomp.dll"].symptom


def test_absent_from_a_held_vendor_folder_is_missing_on_the_server(tmp_path: Path) -> None:
    """A Program Files vendor folder copied with other DLLs but not the configured one: an error in every
    worker that loads it, whatever the folder says about architecture."""
    gm = '<globalModules><add name="V" image="C:\\Program Files\\Vendor\\v.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64 + POOL32, site("A", 1, "P64", r"C:\a") + site("B", 2, "P32", r"C:\b"), gm),
                     {"Program Files/Vendor/helper.dll": "module_x64.dll"})
    r = scan(img)
    assert [(f.rule, f.pool, f.severity.label) for f in r.findings] == [("binary-missing", "P32", "error"),
                                                                         ("binary-missing", "P64", "error")]
    assert "Program Files/Vendor with 1 other binary" in r.findings[0].cause


def test_programfiles_expands_to_x86_folder_in_32bit_worker(tmp_path: Path) -> None:
    gm = '<globalModules><add name="ANCM" image="%ProgramFiles%\\IIS\\ancm.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64 + POOL32, site("A", 1, "P64", r"C:\a") + site("B", 2, "P32", r"C:\b"), gm),
                     {"Program Files/IIS/ancm.dll": "module_x64.dll", "Program Files (x86)/IIS/ancm.dll": "module_x86.dll"})
    assert scan(img).findings == ()


def test_programfiles_x64_only_breaks_32bit_worker(tmp_path: Path) -> None:
    gm = '<globalModules><add name="M" image="C:\\Program Files\\Vendor\\m.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL32, site("B", 2, "P32", r"C:\b"), gm),
                     {"Program Files/Vendor/m.dll": "module_x64.dll"})
    r = scan(img)
    assert rules(r) == [("global-module-arch", "P32")]
    assert "x86" in r.findings[0].symptom


def test_pool_inherits_enable32bit_from_defaults(tmp_path: Path) -> None:
    pools = '<add name="Inh" /><applicationPoolDefaults enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />'
    gm = '<globalModules><add name="M" image="C:\\V\\m.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(pools, site("A", 1, "Inh", r"C:\a"), gm), {"V/m.dll": "module_x64.dll"})
    r = scan(img)
    assert r.pools[0].enable_32bit_from == "applicationPoolDefaults" and r.pools[0].worker_arch is Arch.X86
    assert rules(r) == [("global-module-arch", "Inh")]


def test_isapi_filter_site_level(tmp_path: Path) -> None:
    loc = ('<location path="S"><system.webServer><isapiFilters>'
           '<filter name="F" path="C:\\F\\f.dll" /></isapiFilters></system.webServer></location>')
    text = apphost(POOL64, site("S", 1, "P64", r"C:\s")).replace("</configuration>", loc + "\n</configuration>")
    img = make_image(tmp_path, text, {"F/f.dll": "filter_x86.dll"})
    r = scan(img)
    assert rules(r) == [("isapi-filter-arch", "P64")]
    f = r.findings[0]
    assert f.site == "S" and "2274" in f.symptom
    # IIS 7+: the 500.0 page, and the pool is not disabled; 503/2268 is IIS 6 (David Wang; KB 895976)
    assert 'HTTP Error 500.0 - Internal Server Error' in f.symptom
    assert 'Calling LoadLibraryEx on ISAPI filter "C:\\F\\f.dll" failed' in f.symptom and "0x800700C1" in f.symptom
    assert "503" not in f.symptom and "2268" not in f.symptom and "5002" not in f.symptom
    assert "not disabled" in f.symptom
    # PowerShell writes the same <location path="S"> of applicationHost.config, not S's web.config
    assert _filter_commands(f) == (
        '"S" -section:system.webServer/isapiFilters "/[name=\'F\'].preCondition:bitness32" /commit:apphost',
        "-PSPath 'MACHINE/WEBROOT/APPHOST' -Location 'S' -Filter")


def _filter_commands(f: Finding) -> tuple[str, str]:
    """The filter fix's appcmd arguments after ``set config`` and its PowerShell arguments up to ``-Filter``."""
    [cmd] = [c for fx in f.fixes for c in fx.commands if "isapiFilters" in c]
    [ps] = [c for fx in f.fixes for c in fx.powershell if "isapiFilters" in c]
    return cmd.split(" set config ", 1)[1], ps.split("Set-WebConfigurationProperty ", 1)[1].split(" -Filter ", 1)[0] + " -Filter"


def test_isapi_filter_in_site_web_config_commands_write_the_web_config(tmp_path: Path) -> None:
    """A filter declared in the site's web.config is not in applicationHost.config: appcmd must write at the
    site's level (no /commit:apphost, which finds no such entry there) and PowerShell at the site's path."""
    web = ('<?xml version="1.0"?><configuration><system.webServer><isapiFilters>'
           '<filter name="F" path="C:\\F\\f.dll" /></isapiFilters></system.webServer></configuration>')
    img = make_image(tmp_path, apphost(POOL64, site("My Site", 1, "P64", r"C:\s")),
                     {"F/f.dll": "filter_x86.dll", "s/web.config": web})
    [f] = scan(img).findings
    assert f.rule == "isapi-filter-arch" and f.config is not None and f.config.file == "s/web.config"
    assert _filter_commands(f) == (
        '"My Site" -section:system.webServer/isapiFilters "/[name=\'F\'].preCondition:bitness32"',
        "-PSPath 'MACHINE/WEBROOT/APPHOST/My Site' -Filter")


def test_isapi_extension_in_web_config_and_fastcgi_ignored(tmp_path: Path) -> None:
    web = ('<?xml version="1.0"?><configuration><system.webServer><handlers>'
           '<add name="wc" path="*.wc" verb="*" modules="IsapiModule" scriptProcessor="C:\\s\\bin\\wc.dll" />'
           '<add name="php" path="*.php" verb="*" modules="FastCgiModule" scriptProcessor="C:\\PHP\\php-cgi.exe" />'
           '</handlers></system.webServer></configuration>')
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s")),
                     {"s/web.config": web, "s/bin/wc.dll": "isapi_ext_x86.dll", "PHP/php-cgi.exe": "fcgi_x86.exe"})
    r = scan(img)
    assert rules(r) == [("isapi-extension-arch", "P64")]
    f = r.findings[0]
    assert f.config is not None and f.config.file == "s/web.config" and f.config.line == 1
    assert "%1 is not a valid Win32 application" in f.symptom


def test_handler_precondition_false_is_skipped(tmp_path: Path) -> None:
    loc = ('<handlers><add name="x32" path="*.x" verb="*" modules="IsapiModule" '
           'scriptProcessor="C:\\X\\x.dll" preCondition="bitness32" /></handlers>')
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s"), location=loc), {"X/x.dll": "isapi_ext_x86.dll"})
    assert scan(img).findings == ()


def test_handlers_clear_in_location_drops_inherited(tmp_path: Path) -> None:
    loc = ('<handlers><add name="x" path="*.x" verb="*" modules="IsapiModule" scriptProcessor="C:\\X\\x.dll" /></handlers>')
    per_site = '<location path="S"><system.webServer><handlers><clear /></handlers></system.webServer></location>'
    text = apphost(POOL64, site("S", 1, "P64", r"C:\s"), location=loc).replace("</configuration>", per_site + "</configuration>")
    img = make_image(tmp_path, text, {"X/x.dll": "isapi_ext_x86.dll"})
    assert scan(img).findings == ()


def test_handlers_remove_in_web_config(tmp_path: Path) -> None:
    loc = ('<handlers><add name="x" path="*.x" verb="*" modules="IsapiModule" scriptProcessor="C:\\X\\x.dll" /></handlers>')
    web = '<configuration><system.webServer><handlers><remove name="x" /></handlers></system.webServer></configuration>'
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s"), location=loc),
                     {"X/x.dll": "isapi_ext_x86.dll", "s/web.config": web})
    assert scan(img).findings == ()


def test_managed_assemblies_by_corflags(tmp_path: Path) -> None:
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s")),
                     {"s/bin/Any.dll": "managed_anycpu.dll", "s/bin/X86.dll": "managed_x86.dll",
                      "s/bin/X64.dll": "managed_x64.dll", "s/bin/Pref.dll": "managed_anycpu32bitpreferred.dll"})
    r = scan(img)
    got = sorted((f.rule, f.binary.rsplit("\\", 1)[-1]) for f in r.findings if f.binary)
    assert got == [("iis-manager-32bit-assembly", "Pref.dll"), ("iis-manager-32bit-assembly", "X86.dll"),
                   ("managed-assembly-arch", "Pref.dll"), ("managed-assembly-arch", "X86.dll")]
    bif = next(f for f in r.findings if f.rule == "managed-assembly-arch")
    assert "0x8007000B" in bif.symptom and "BadImageFormatException" in bif.symptom


def test_x64_assembly_in_32bit_pool(tmp_path: Path) -> None:
    img = make_image(tmp_path, apphost(POOL32, site("S", 1, "P32", r"C:\s")), {"s/bin/X64.dll": "managed_x64.dll"})
    assert rules(scan(img)) == [("managed-assembly-arch", "P32")]


def test_no_managed_code_pool_does_not_load_bin(tmp_path: Path) -> None:
    pools = '<add name="NoClr" managedRuntimeVersion="" />'
    img = make_image(tmp_path, apphost(pools, site("S", 1, "NoClr", r"C:\s")), {"s/bin/X86.dll": "managed_x86.dll"})
    assert [f.rule for f in scan(img).findings] == ["iis-manager-32bit-assembly"]


def test_iis_manager_rule_silent_on_32bit_os(tmp_path: Path) -> None:
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s")), {"s/bin/X86.dll": "managed_x86.dll"})
    assert scan(img, ScanOptions(os_arch=Arch.X86)).findings == ()


def test_iis_manager_32bit_console_only_where_x86_loads_the_file(tmp_path: Path) -> None:
    """On ARM64 Windows inetmgr.exe is ARM64 and mmc.exe /32 is x86: neither loads an x64-only assembly (facts A7, F2)."""
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s")),
                     {"s/bin/X64.dll": "managed_x64.dll", "s/bin/X86.dll": "managed_x86.dll"})
    fixes = {f.binary.rsplit("\\", 1)[-1]: f.fixes for f in scan(img, ScanOptions(os_arch=Arch.ARM64)).findings
             if f.rule == "iis-manager-32bit-assembly" and f.binary}
    assert [c for fx in fixes["X64.dll"] for c in fx.commands + fx.powershell if "mmc" in c] == []
    assert "web.config by hand" in fixes["X64.dll"][0].summary and "loads in: x64" in fixes["X64.dll"][0].note
    assert fixes["X86.dll"][0].commands == ("mmc.exe /32 iis.msc",)


def test_pool_conflict_offers_split_and_rejects_flip(tmp_path: Path) -> None:
    apps = ('                <application path="/old" applicationPool="P64">\n'
            '                    <virtualDirectory path="/" physicalPath="C:\\s\\old" />\n'
            '                </application>')
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s", apps)),
                     {"s/bin/New.dll": "managed_x64.dll", "s/old/bin/Old.dll": "managed_x86.dll"})
    r = scan(img)
    conflict = next(f for f in r.findings if f.rule == "pool-arch-conflict")
    assert conflict.fixes[0].verified is True
    assert 'set app "S/old" /applicationPool:"P64 (x86)"' in conflict.fixes[0].commands[1]
    old = next(f for f in r.findings if f.rule == "managed-assembly-arch")
    assert old.rejected_fixes and "would break" in old.rejected_fixes[0].reason and "New.dll" in old.rejected_fixes[0].reason
    assert not any("as 32-bit" in fx.summary for fx in old.fixes)


def test_binary_missing_not_inferable_and_inferred(tmp_path: Path) -> None:
    gm = ('<globalModules><add name="Third" image="C:\\Vendor\\third.dll" />'
          '<add name="Net32" image="%windir%\\Microsoft.NET\\Framework\\v4.0.30319\\webengine4.dll" /></globalModules>')
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s"), gm))
    r = scan(img)
    assert r.server.config_only is True
    got = {(f.rule, f.evidence.value) for f in r.findings}
    assert got == {("binary-missing", "unknown"), ("global-module-arch", "inferred")}
    inferred = next(f for f in r.findings if f.rule == "global-module-arch")
    assert "inferred" in inferred.cause and inferred.binary_arch == (Arch.X86,)


def test_not_a_pe_binary_is_reported_not_crashed(tmp_path: Path) -> None:
    gm = '<globalModules><add name="Bad" image="C:\\V\\bad.dll" /><add name="Good" image="C:\\V\\g.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s"), gm),
                     {"V/bad.dll": "corrupt_truncated.dll", "V/g.dll": "module_x86.dll"})
    r = scan(img)
    assert sorted(f.rule for f in r.findings) == ["binary-invalid", "global-module-arch"]
    bad = next(f for f in r.findings if f.rule == "binary-invalid")
    assert "not a valid PE" in bad.cause and "bad.dll" in bad.cause


def test_unknown_environment_variable_is_reported(tmp_path: Path) -> None:
    gm = '<globalModules><add name="A" image="%ANCM_PATH%" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s"), gm))
    f = scan(img).findings[0]
    assert f.rule == "binary-invalid" and "%ANCM_PATH%" in f.cause
    img2 = scan(img, ScanOptions(env={"ANCM_PATH": "C:\\Program Files (x86)\\x.dll"}))
    assert [x.rule for x in img2.findings] == ["global-module-arch"]


def test_arm64_pool_modes(tmp_path: Path) -> None:
    pools = ('<add name="Emu" managedRuntimeVersion="" /><add name="Native" enableEmulationOnWinArm64="false" managedRuntimeVersion="" />'
             '<add name="W" enable32BitAppOnWin64="true" managedRuntimeVersion="" />')
    gm = '<globalModules><add name="M" image="C:\\M\\m.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(pools, site("A", 1, "Emu", r"C:\a") + site("B", 2, "Native", r"C:\b")
                                       + site("C", 3, "W", r"C:\c"), gm), {"M/m.dll": "module_arm64.dll"})
    r = scan(img, ScanOptions(os_arch=Arch.ARM64))
    assert {p.name: p.worker_arch for p in r.pools} == {"Emu": Arch.X64, "Native": Arch.ARM64, "W": Arch.X86}
    assert sorted(f.pool for f in r.findings if f.pool) == ["Emu", "W"]


@pytest.mark.parametrize("marker", ["Windows/System32/xtajit64.dll", "Windows/System32/xtajit.dll",
                                    "Windows/SyChpe32/chpeutil.txt"])
def test_arm64_image_without_sysarm32_is_arm64(tmp_path: Path, marker: str) -> None:
    """Windows 11 24H2 on Arm dropped ARM32 (no SysArm32, no Program Files (Arm)) but keeps SysWOW64 and its x86/x64
    emulators: the image is ARM64, not x64, so a native ARM64 pool and its ARM64-only module fit."""
    pools = '<add name="Native" enableEmulationOnWinArm64="false" managedRuntimeVersion="" />'
    gm = '<globalModules><add name="M" image="C:\\M\\m.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(pools, site("B", 2, "Native", r"C:\b"), gm),
                     {"M/m.dll": "module_arm64.dll", marker: "x"})
    r = scan(img)
    assert r.server.os_arch is Arch.ARM64 and r.server.os_arch_from.endswith("(ARM64 only)")
    assert [p.worker_arch for p in r.pools] == [Arch.ARM64] and r.findings == ()


def test_dependency_of_wrong_arch_is_named_as_a_chain(tmp_path: Path) -> None:
    """A 64-bit module that imports a 32-bit DLL fails "or one of its dependencies"."""
    gm = '<globalModules><add name="Top" image="C:\\Vendor\\chain_top_x64.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s"), gm),
                     {"Vendor/chain_top_x64.dll": "chain_top_x64.dll", "Vendor/chain_dep.dll": "chain_dep_x86.dll"})
    r = scan(img)
    assert rules(r) == [("global-module-arch", "P64")]
    f = r.findings[0]
    assert f.binary_arch == (Arch.X64,)
    assert f.chain == ("chain_top_x64.dll", "chain_dep.dll (x86)")
    assert "dependency" in f.cause


def test_dependency_of_right_arch_gives_no_finding(tmp_path: Path) -> None:
    gm = '<globalModules><add name="Top" image="C:\\Vendor\\chain_top_x64.dll" preCondition="bitness64" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s"), gm),
                     {"Vendor/chain_top_x64.dll": "chain_top_x64.dll", "Vendor/chain_dep.dll": "chain_dep_x64.dll"})
    assert scan(img).findings == ()


def test_applicationhost_config_under_syswow64_is_named_as_never_read(tmp_path: Path) -> None:
    """Facts E4: a 32-bit editor saving System32\\inetsrv\\config\\applicationHost.config writes to SysWOW64 instead;
    IIS never reads that copy. Its x86 module would be a finding if it were read: it is not analysed, and said so."""
    stray = apphost('<add name="P" managedRuntimeVersion="v4.0" />', site("S", 1, "P", r"C:\s"),
                    '<globalModules><add name="M" image="C:\\V\\m.dll" /></globalModules>')
    img = make_image(tmp_path, apphost('<add name="P" managedRuntimeVersion="v4.0" />', site("S", 1, "P", r"C:\s")),
                     {"Windows/SysWOW64/inetsrv/config/applicationHost.config": stray, "V/m.dll": "module_x86.dll"})
    report = scan(img)
    assert report.findings == ()
    [p] = [p for p in report.problems if "SysWOW64" in p.file]
    assert p.file == "Windows/SysWOW64/inetsrv/config/applicationHost.config"
    assert p.message.startswith("IIS never reads this file: a 32-bit program")


def test_empty_module_image_and_filter_path_are_said_not_skipped_silently(tmp_path: Path) -> None:
    gm = ('<globalModules><add name="Empty" image="" /></globalModules>'
          '<isapiFilters><filter name="NoPath" path=" " /></isapiFilters>')
    r = scan(make_image(tmp_path, apphost(POOL64 + POOL32, site("A", 1, "P64", r"C:\a") + site("B", 2, "P32", r"C:\b"),
                                          gm)))
    assert r.findings == ()
    said = sorted(p.message.split(" names no ")[0] for p in r.problems if " names no " in p.message)
    assert said == ["ISAPI filter 'NoPath'", "global module 'Empty'"]


def test_module_missing_from_syswow64_is_one_finding_per_32bit_pool_with_fixes(tmp_path: Path) -> None:
    """Issue 20 §4: a module installed only in System32 breaks every 32-bit worker that loads it: one finding per
    pool (each in its own table row, JSON ``pools`` of the cause names both), each with a verified bitness64
    preCondition and the advice to install the x86 build: its side effect is that the 32-bit workers then run without
    the module, but it never ran there (the file is missing from SysWOW64\\inetsrv, ``ran`` False), so the fix that
    restarts the pools the 503 stopped ranks before the advice (verify._order counts only unloads that ran)."""
    pool32b = '<add name="P32b" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />'
    gm = '<globalModules><add name="Own" image="%windir%\\System32\\inetsrv\\own.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64 + POOL32 + pool32b, site("A", 1, "P64", r"C:\a")
                                       + site("B", 2, "P32", r"C:\b") + site("C", 3, "P32b", r"C:\c"), gm),
                     {"Windows/System32/inetsrv/own.dll": "module_x64.dll",
                      "Windows/SysWOW64/inetsrv/cachuri.dll": "module_x86.dll"})
    r = scan(img)
    assert [(f.rule, f.pool) for f in r.findings] == [("binary-missing", "P32"), ("binary-missing", "P32b")]
    for f in r.findings:
        restrict, install = f.fixes
        assert restrict.label == 'preCondition="bitness64"' and restrict.verified is True
        # NOTE: the 32-bit workers never loaded it (the file is missing there); the 64-bit one keeps it
        assert [(e.kind.value, e.name, e.pool, e.ran) for e in restrict.side_effects] == [
            ("unloaded", "Own", "P32", False), ("unloaded", "Own", "P32b", False)]
        assert 'start apppool /apppool.name:%p' in restrict.commands[-1] and '"P32" "P32b"' in restrict.commands[-1]
        assert install.label == "an x86 build of the global module" and install.verified is None
    from iisbitness.formats import scan_json
    doc = scan_json.report_dict(r)
    assert [doc["causes"][f["cause_number"] - 1]["pools"] for f in doc["findings"]] == [["P32", "P32b"]] * 2
    assert doc["findings"][0]["fix_numbers"][0] == doc["findings"][1]["fix_numbers"][0] == 1


def test_the_cause_of_an_isapi_extension_without_precondition_says_when_it_loads(tmp_path: Path) -> None:
    """The demo's wc.dll handler (one application's web.config, no preCondition): the cause said 'so every worker
    loads it', a global module's words; an ISAPI extension loads in its application's worker on the first request
    the mapping takes (facts D4), and the missing preCondition only means the mapping holds at either bitness."""
    [f] = [f for f in scan(DEMO / "contoso-iis10").findings if f.rule == "isapi-extension-arch"]
    assert "every worker loads it" not in f.cause
    assert "It has no preCondition, so the mapping holds in a worker of either bitness" in f.cause
    assert "on the first request it maps" in f.cause
    [g, *_] = [f for f in scan(DEMO / "contoso-iis10").findings if f.rule == "global-module-arch"]
    assert "It has no preCondition, so every worker loads it." in g.cause


@pytest.mark.parametrize("dll", ["hybrid_arm64x_marker.dll", "hybrid_arm64ec_marker.dll"])
def test_a_hybrid_arm64_module_fits_x64_pools_only_on_windows_on_arm(tmp_path: Path, dll: str) -> None:
    """ARM64X and ARM64EC images hold ARM64 code: an x64 worker of Windows on Arm loads them (emulated, the EC view),
    an x64 worker of x64 Windows cannot (an ARM64X forwarder copied from an ARM64 hosting bundle, facts A8). The
    reader's loadable_by ({x64, arm64} / {x64}) is the Windows on Arm answer; before, it was taken on x64 Windows too
    and the module 'fitted' the x64 pool there. A binary that loads in no process also made the rule fail (an
    assertion) instead of reporting it."""
    gm = '<globalModules><add name="M" image="C:\\M\\m.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64, site("A", 1, "P64", r"C:\a"), gm), {"M/m.dll": dll})
    [f] = scan(img).findings
    assert (f.rule, f.pool, f.process_arch) == ("global-module-arch", "P64", Arch.X64)
    assert "on x64 Windows: its code is ARM64" in f.cause and f.binary_arch == ()
    assert [x.label for x in f.fixes] == ["an x64 build of the global module"]
    [entry] = [e for e in scan(img, ScanOptions(load_map=True)).loads or () if e.name == "M"]
    assert entry.verdict.value == "cannot-load" and "loads in no process of this server" in entry.reason, entry.reason
    assert "on x64 Windows: its code is ARM64" in entry.reason
    assert scan(img, ScanOptions(os_arch=Arch.ARM64)).findings == ()


def _ancm_without_windows(tmp_path: Path, dll: str) -> tuple[Path, Path]:
    """An image without a Windows folder (the OS not shown) whose global module is ANCM V2 as ``dll``, and its
    applicationHost.config given beside it."""
    gm = ('<globalModules><add name="AspNetCoreModuleV2" '
          'image="%ProgramFiles%\\IIS\\Asp.Net Core Module\\V2\\aspnetcorev2.dll" /></globalModules>')
    config = tmp_path / "applicationHost.config"
    config.write_text(apphost(POOL64, site("A", 1, "P64", r"C:\a"), gm), encoding="utf-8")
    img = tmp_path / "img"
    module = img / "Program Files" / "IIS" / "Asp.Net Core Module" / "V2" / "aspnetcorev2.dll"
    module.parent.mkdir(parents=True)
    module.write_bytes((PE_BIN / dll).read_bytes())
    return img, config


@pytest.mark.parametrize("dll", ["hybrid_arm64x_marker.dll", "hybrid_arm64ec_marker.dll"])
def test_a_hybrid_module_on_an_assumed_os_asks_for_the_os_instead_of_stating_a_failure(tmp_path: Path,
                                                                                        dll: str) -> None:
    """Review r10 #1: the OS only assumed (x64: the image has no Windows folder), an ARM64X ANCM forwarder was an ERROR
    global-module-arch with evidence "read", "no process of this server loads it" stated as fact, though the arm64
    hosting bundle alone installs that file (facts A8): itself a sign of Windows on Arm. Now one could-not-check
    warning that says so and asks for --os-arch; with the OS given, the verdict as before (x64: the error; arm64:
    nothing)."""
    img, config = _ancm_without_windows(tmp_path, dll)
    r = scan(img, ScanOptions(config=config))
    assert r.server.os_arch_from.startswith("assumed")
    [f] = r.findings
    assert (f.rule, f.severity, f.binary_not_checked) == ("binary-invalid", Severity.WARNING, True)
    assert "loads only on Windows on Arm" in f.cause and "give --os-arch arm64 or --os-arch x64" in f.cause
    assert "no process of this server loads it" not in f.cause and "If this server is x64 Windows" in f.cause
    [g] = scan(img, ScanOptions(config=config, os_arch=Arch.X64)).findings
    assert (g.rule, g.severity, g.evidence.value) == ("global-module-arch", Severity.ERROR, "read")
    assert "on x64 Windows: its code is ARM64" in g.cause
    assert scan(img, ScanOptions(config=config, os_arch=Arch.ARM64)).findings == ()


@pytest.mark.parametrize("dll", ["hybrid_arm64x_marker.dll", "hybrid_arm64ec_marker.dll"])
def test_no_flip_for_a_hybrid_module_in_an_x86_pool_on_an_assumed_os(tmp_path: Path, dll: str) -> None:
    """The OS only assumed, an x86 pool loading an ARM64X/ARM64EC module was offered "run the pool as 64-bit": right
    only on Windows on Arm (its x64 worker loads the image), wrong on x64 Windows (no process loads it). Now advice
    that says so and asks for --os-arch; with --os-arch arm64 the flip, as before; with x64, no flip at all."""
    gm = '<globalModules><add name="M" image="C:\\M\\m.dll" /></globalModules>'
    config = tmp_path / "applicationHost.config"
    config.write_text(apphost(POOL32, site("A", 1, "P32", r"C:\a"), gm), encoding="utf-8")
    img = tmp_path / "img"
    (img / "M").mkdir(parents=True)
    (img / "M" / "m.dll").write_bytes((PE_BIN / dll).read_bytes())
    r = scan(img, ScanOptions(config=config))
    assert r.server.os_arch_from.startswith("assumed")
    [f] = [f for f in r.findings if f.rule == "global-module-arch"]
    assert f.process_arch is Arch.X86 and not [x for x in f.fixes if x.label.startswith("run the pool")]
    [advice] = [x for x in f.fixes if "--os-arch" in x.label]
    assert advice.verified is None and not advice.commands and "only on Windows on Arm" in advice.summary
    assert "--os-arch arm64 or --os-arch x64" in advice.summary
    [g] = [f for f in scan(img, ScanOptions(config=config, os_arch=Arch.ARM64)).findings if f.rule == "global-module-arch"]
    assert [x.label for x in g.fixes if x.label.startswith("run the pool")] == ["run the pool as 64-bit (x64)"]
    assert not [x for x in g.fixes if "--os-arch" in x.label]
    [h] = [f for f in scan(img, ScanOptions(config=config, os_arch=Arch.X64)).findings if f.rule == "global-module-arch"]
    assert not [x for x in h.fixes if x.label.startswith("run the pool") or "--os-arch" in x.label]


@pytest.mark.parametrize("dll", ["hybrid_arm64x_marker.dll", "hybrid_arm64ec_marker.dll"])
def test_the_load_map_of_a_hybrid_module_on_an_assumed_os_says_unknown_as_the_finding_does(tmp_path: Path,
                                                                                          dll: str) -> None:
    """The OS only assumed: the finding is a could-not-check warning, and the load map said "loads" (the module's
    ARM64X view fits an x64 worker on Windows on Arm): it says unknown and asks for --os-arch; with the OS given, the
    map's verdict follows the OS, as the findings do (x64: cannot load; arm64: loads)."""
    img, config = _ancm_without_windows(tmp_path, dll)

    def verdict(os_arch: Arch | None) -> tuple[str, str]:
        loads = scan(img, ScanOptions(config=config, os_arch=os_arch, load_map=True)).loads
        assert loads is not None
        [e] = [e for e in loads if e.kind == "global-module"]
        return e.verdict.value, e.reason

    assumed = verdict(None)
    assert assumed[0] == "unknown" and "give --os-arch" in assumed[1]
    assert verdict(Arch.X64)[0] == "cannot-load"
    assert verdict(Arch.ARM64)[0] == "loads"  # NOTE: as the finding test above: no finding on ARM64


def test_an_arm64ec_module_on_x64_windows_fails_on_rtliseccode_not_on_its_architecture(tmp_path: Path) -> None:
    """Review r10 #2: an ARM64EC DLL's Machine is AMD64 (0x8664): the x64 loader maps it and fails on
    KERNEL32!RtlIsEcCode (error 127, 0x8007007F; github jcsteh/osara #1369), so W3SVC-WP 2282's "only supports loading
    images built for a AMD64 processor architecture" and error 193 were false for it; an ARM64X (Machine ARM64) keeps
    them. ISAPI filters alike (HTTP 500.0 with 0x8007007F)."""
    for dll, quote, error in (("hybrid_arm64ec_marker.dll", False, "0x8007007F"),
                              ("hybrid_arm64x_marker.dll", True, "0x800700C1")):
        gm = '<globalModules><add name="M" image="C:\\M\\m.dll" /></globalModules>'
        filters = '<isapiFilters><filter name="F" path="C:\\M\\m.dll" /></isapiFilters>'
        root = tmp_path / dll
        img = make_image(root, apphost(POOL64, site("A", 1, "P64", r"C:\a"), gm + filters), {"M/m.dll": dll})
        found = {f.rule: f for f in scan(img).findings}
        module, flt = found["global-module-arch"], found["isapi-filter-arch"]
        assert ("processor architecture" in module.symptom) is quote, module.symptom
        assert ("RtlIsEcCode" in module.symptom) is not quote and (quote or error in module.symptom)
        assert ("W3SVC-WP event 2280" in module.symptom) is not quote
        assert ("processor architecture" in flt.symptom) is quote and error in flt.symptom, flt.symptom
        assert ("RtlIsEcCode" in flt.symptom) is not quote
        handlers = ('<handlers><add name="H" path="*.x" verb="*" modules="IsapiModule" scriptProcessor="C:\\M\\m.dll" />'
                    '</handlers>')
        root = tmp_path / f"ext-{dll}"
        img = make_image(root, apphost(POOL64, site("A", 1, "P64", r"C:\a"), location=handlers), {"M/m.dll": dll})
        [ext] = [f for f in scan(img).findings if f.rule == "isapi-extension-arch"]
        assert ("error 193" in ext.symptom) is quote and error in ext.symptom and ("RtlIsEcCode" in ext.symptom) is not quote


def test_a_read_binary_that_loads_nowhere_shows_its_platform_target_not_unknown(tmp_path: Path) -> None:
    """Review r10 #3: an ARM64X module read off Windows on Arm loads in no process (binary_arch empty, evidence read);
    the compact text said ``[unknown]`` and the HTML "architecture unknown", as for a file nobody read. Now
    ``[none: ARM64X]`` and the class arch-none; an absent file keeps ``unknown``."""
    from iisbitness.formats import scan_html, scan_text
    gm = '<globalModules><add name="M" image="C:\\M\\m.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64, site("A", 1, "P64", r"C:\a"), gm), {"M/m.dll": "hybrid_arm64x_marker.dll"})
    r = scan(img)
    [f] = r.findings
    assert (f.binary_arch, f.binary_target, f.evidence.value) == ((), "ARM64X", "read")
    text = scan_text.render(r)
    assert "m.dll [none: ARM64X]" in text and "[unknown]" not in text
    page = scan_html.render([r])
    assert 'class="arch arch-none">none: ARM64X<' in page and "architecture unknown" not in page


def test_an_itanium_filter_is_reported_not_a_failed_rule(tmp_path: Path) -> None:
    """A binary that loads in no process of any Windows IIS runs on (IA64, ARM32) has no architecture to restrict a
    preCondition to: the finding with the build advice, where the rule used to fail on an assertion."""
    filters = '<isapiFilters><filter name="F" path="C:\\M\\f.dll" /></isapiFilters>'
    img = make_image(tmp_path, apphost(POOL64, site("A", 1, "P64", r"C:\a"), filters), {"M/f.dll": "managed_itanium.dll"})
    [f] = scan(img).findings
    assert (f.rule, f.pool, f.binary_arch) == ("isapi-filter-arch", "P64", ())
    assert "platform Itanium (loads in: none)" in f.cause


def test_an_arm64x_runtime_beside_an_x64_module_breaks_it_on_x64_windows_only(tmp_path: Path) -> None:
    """The module fits the x64 pool; its dependency chain_dep.dll, an ARM64X build in its folder, does not on x64
    Windows (the chain is the cause), and does in an x64 (emulated) worker of Windows on Arm."""
    gm = '<globalModules><add name="M" image="C:\\M\\chain_top_x64.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(POOL64, site("A", 1, "P64", r"C:\a"), gm),
                     {"M/chain_top_x64.dll": "chain_top_x64.dll", "M/chain_dep.dll": "hybrid_arm64x_marker.dll"})
    [f] = scan(img).findings
    assert f.rule == "global-module-arch"
    assert "chain_top_x64.dll -> chain_dep.dll (ARM64X: Windows on Arm only)" in f.cause, f.cause
    assert scan(img, ScanOptions(os_arch=Arch.ARM64)).findings == ()


@pytest.mark.parametrize("dll", ["hybrid_arm64x_marker.dll", "hybrid_arm64ec_marker.dll"])
def test_an_application_whose_worker_loads_a_hybrid_on_an_assumed_os_is_partly_checked(tmp_path: Path,
                                                                                        dll: str) -> None:
    """The could-not-check warning of a hybrid module on an assumed OS left coverage "1 of 1 application checked" and
    --fail-on-incomplete passing: the application is partly checked, and the remedy is the OS to give."""
    img, config = _ancm_without_windows(tmp_path, dll)
    (img / "a").mkdir()
    (img / "a" / "index.htm").write_text("a", encoding="utf-8")
    [c] = scan(img, ScanOptions(config=config)).coverage
    assert c.status.value == "partly-checked", c
    assert "--os-arch arm64" in c.remedy and any("loads only on Windows on Arm" in r for r in c.reasons), c
    [c] = scan(img, ScanOptions(config=config, os_arch=Arch.X64)).coverage
    assert c.status.value == "checked", c

