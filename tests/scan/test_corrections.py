"""Issue 12, part 4: corrected texts and commands, each against the source named in the test."""

from __future__ import annotations

import struct
from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.fixes.commands import move_to_new_pool
from iisbitness.fixes.commands_iis6 import regiis
from tests.conftest import apphost, fixture, make_image, site
from tests.iis6.test_iis6 import image as iis6_image
from tests.iis6.test_iis6 import metabase

POOL64 = '<add name="P64" managedRuntimeVersion="v4.0" />'
POOL32 = '<add name="P32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />'
START_P64 = '%windir%\\system32\\inetsrv\\appcmd.exe start apppool /apppool.name:"P64"'


def test_isapi_filter_iis7_is_a_500_page_not_a_disabled_pool(tmp_path: Path) -> None:
    """David Wang, "HOWTO: Diagnose and Fix Common ISAPI Filter Installation Failures": 503 on IIS 6;
    IIS 7+ shows HTTP 500.0 "Calling LoadLibraryEx on ISAPI filter ... failed" (field reports)."""
    gf = '<isapiFilters><filter name="F" path="C:\\F\\f.dll" /></isapiFilters>'
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s"), gf), {"F/f.dll": "filter_x86.dll"})
    f = next(f for f in scan(img).findings if f.rule == "isapi-filter-arch")
    assert f.symptom.startswith("HTTP Error 500.0 - Internal Server Error on every request to site 'S'")
    assert '"Calling LoadLibraryEx on ISAPI filter "C:\\F\\f.dll" failed"' in f.symptom
    assert "0x800700C1" in f.symptom and "not disabled" in f.symptom
    assert "503" not in f.symptom and "5002" not in f.symptom
    # the filter's fixes do not start a pool that is not stopped
    assert not any("start apppool" in c for fx in f.fixes for c in fx.commands)


def test_isapi_filter_docs_and_readme_say_500_not_503() -> None:
    repo = Path(__file__).resolve().parents[2]
    page = (repo / "docs/rules/isapi-filter-arch.md").read_text()
    assert "Calling LoadLibraryEx on ISAPI filter" in page and "**not** disabled" in page
    row = next(ln for ln in (repo / "README.md").read_text().splitlines() if ln.startswith("| [`isapi-filter-arch`]"))
    assert "500.0" in row and "503" not in row


def test_global_module_fixes_start_the_stopped_pool(tmp_path: Path) -> None:
    """Rapid-fail protection stops the pool (WAS 5002); a recycle does not start it."""
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s"),
                                       '<globalModules><add name="Vendor" image="C:\\Vendor\\v.dll" /></globalModules>'),
                     {"Vendor/v.dll": "module_x86.dll", "s/default.htm": b"<p>S</p>"})
    f = next(f for f in scan(img).findings if f.rule == "global-module-arch")
    pre = f.fixes[0]
    assert pre.verified is True and pre.commands[-1] == START_P64
    assert pre.powershell[-1] == "Start-WebAppPool -Name 'P64'"
    flip = next(fx for fx in f.fixes if fx.summary.startswith("Run application pool 'P64'"))
    assert flip.verified is True
    # NOTE: set, then start; no recycle: recycling a stopped pool fails (0x80070426), starting it applies the change
    assert flip.commands == ('%windir%\\system32\\inetsrv\\appcmd.exe set apppool "P64" /enable32BitAppOnWin64:true',
                             START_P64)
    assert flip.powershell[-2:] == ("Set-ItemProperty 'IIS:\\AppPools\\P64' -Name enable32BitAppOnWin64 -Value $true",
                                    "Start-WebAppPool -Name 'P64'")
    assert flip.note is not None and "a recycle would fail on a stopped pool" in flip.note


def test_flip_for_a_500_cause_only_recycles(tmp_path: Path) -> None:
    """An ISAPI extension mismatch leaves the pool running: no start command."""
    web = ('<?xml version="1.0"?><configuration><system.webServer><handlers>'
           '<add name="x" path="*.x" verb="*" modules="IsapiModule" scriptProcessor="C:\\X\\x.dll" />'
           '</handlers></system.webServer></configuration>')
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s")),
                     {"X/x.dll": "isapi_ext_x86.dll", "s/web.config": web})
    f = next(f for f in scan(img).findings if f.rule == "isapi-extension-arch")
    assert f.fixes[0].commands[-1].endswith('recycle apppool "P64"')


def test_move_to_new_pool_powershell_sets_the_pipeline_mode_like_appcmd() -> None:
    fx = move_to_new_pool((("S", "/old"),), "P (x86)", Arch.X86, "P", "v2.0", "Classic", Arch.X64)
    assert '/managedPipelineMode:"Classic"' in fx.commands[0]
    assert "Set-ItemProperty 'IIS:\\AppPools\\P (x86)' -Name managedPipelineMode -Value 'Classic'" in fx.powershell
    arm = move_to_new_pool((("S", "/a"),), "P (x64)", Arch.X64, "P", "v4.0", "Integrated", Arch.ARM64)
    assert "Set-ItemProperty 'IIS:\\AppPools\\P (x64)' -Name enableEmulationOnWinArm64 -Value $true" in arm.powershell


def test_iis_manager_dialog_text_as_kb_3194551_gives_it(tmp_path: Path) -> None:
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s")), {"s/bin/X86.dll": "managed_x86.dll"})
    f = next(f for f in scan(img).findings if f.rule == "iis-manager-32bit-assembly")
    assert '"There was an error performing this operation. ' in f.symptom and "while" not in f.symptom
    page = (Path(__file__).resolve().parents[2] / "docs/rules/iis-manager-32bit-assembly.md").read_text()
    assert "There was an error performing this operation." in page


def test_net_start_w3svc_prints_asterisks_not_percent_one(tmp_path: Path) -> None:
    """David Wang, W3SVC error 193: net.exe prints "*** is not a valid Win32 application." """
    r = scan(iis6_image(tmp_path, metabase('IIs5IsolationModeEnabled="TRUE"', 'Enable32BitAppOnWin64="TRUE"'), {}))
    f = next(f for f in r.findings if f.rule == "iis6-isolation-wow64")
    assert "System error 193 has occurred. *** is not a valid Win32 application." in f.symptom
    assert "%1" not in f.symptom


def test_aspnet_11_regiis_has_no_enable() -> None:
    """KB 894435; aspnet_regiis docs: -enable exists from ASP.NET 2.0 on."""
    assert regiis(Arch.X86, "v1.1.4322") == (
        "%windir%\\Microsoft.NET\\Framework\\v1.1.4322\\aspnet_regiis.exe -i",
        "cscript %windir%\\system32\\iisext.vbs /EnFile %windir%\\Microsoft.NET\\Framework\\v1.1.4322\\aspnet_isapi.dll")
    assert regiis(Arch.X64, "v2.0.50727") == ("%windir%\\Microsoft.NET\\Framework64\\v2.0.50727\\aspnet_regiis.exe -i -enable",)


def test_switch_to_32bit_for_aspnet_11_uses_i_then_iisext(tmp_path: Path) -> None:
    fw11 = "C:\\WINDOWS\\Microsoft.NET\\Framework\\v1.1.4322"
    w3svc = (f'ScriptMaps=".aspx,{fw11}\\aspnet_isapi.dll,1,GET,HEAD,POST,DEBUG"\n'
             '\t\tIIs5IsolationModeEnabled="FALSE"')
    r = scan(iis6_image(tmp_path, metabase(w3svc), {"Windows/Microsoft.NET/Framework/v1.1.4322/aspnet_isapi.dll":
                                                     "isapi_ext_x86.dll"}))
    f = next(f for f in r.findings if f.rule == "iis6-extension-arch")
    cmds = [c for fx in f.fixes for c in fx.commands]
    assert "%windir%\\Microsoft.NET\\Framework\\v1.1.4322\\aspnet_regiis.exe -i" in cmds
    assert not any("v1.1.4322" in c and "-enable" in c for c in cmds)
    assert any(c.startswith("cscript %windir%\\system32\\iisext.vbs /EnFile") for c in cmds)


def _with_cor_flags(name: str, set_bits: int) -> bytes:
    """A fixture with bits set in its COR20 Flags (PE headers per the PE Format spec)."""
    import pefile  # test-only dependency

    data = bytearray(fixture(name).read_bytes())
    pe = pefile.PE(data=bytes(data))
    off = pe.get_offset_from_rva(pe.OPTIONAL_HEADER.DATA_DIRECTORY[14].VirtualAddress) + 16
    (flags,) = struct.unpack_from("<I", data, off)
    struct.pack_into("<I", data, off, flags | set_bits)
    return bytes(data)


def test_corflags_on_strong_named_assembly_needs_force_and_resigning(tmp_path: Path) -> None:
    """CorFlags.exe docs: /Force for strong-named images, which must then be signed again."""
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s")),
                     {"s/bin/Signed.dll": _with_cor_flags("managed_x86.dll", 0x8)})
    f = next(f for f in scan(img).findings if f.rule == "managed-assembly-arch")
    fx = next(x for x in f.fixes if x.commands and x.commands[0].startswith("corflags"))
    # NOTE: the file by its full path: a bare name worked only from the bin folder, not pasted as it is
    assert fx.commands == ('corflags "C:\\s\\bin\\Signed.dll" /32BITREQ- /Force',)
    assert fx.powershell == ("corflags 'C:\\s\\bin\\Signed.dll' /32BITREQ- /Force",)
    assert fx.note is not None and "/Force" in fx.note and "re-sign" in fx.note


def test_corflags_32bitpref_needs_the_45_corflags(tmp_path: Path) -> None:
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s")),
                     {"s/bin/Pref.dll": "managed_anycpu32bitpreferred.dll", "s/bin/X86.dll": "managed_x86.dll"})
    r = scan(img, ScanOptions())
    by = {f.binary.rsplit("\\", 1)[-1]: f for f in r.findings if f.rule == "managed-assembly-arch" and f.binary}
    pref = next(x for x in by["Pref.dll"].fixes if x.commands and x.commands[0].startswith("corflags"))
    assert pref.commands == ('corflags "C:\\s\\bin\\Pref.dll" /32BITREQ- /32BITPREF-',)
    assert pref.note is not None and ".NET Framework 4.5" in pref.note
    plain = next(x for x in by["X86.dll"].fixes if x.commands and x.commands[0].startswith("corflags"))
    assert plain.commands == ('corflags "C:\\s\\bin\\X86.dll" /32BITREQ-',) and "4.5" not in (plain.note or "")


def test_corflags_line_says_where_corflags_runs(tmp_path: Path) -> None:
    """CorFlags.exe is installed with Visual Studio, not with Windows ("CorFlags.exe (CorFlags Conversion Tool)",
    learn.microsoft.com): pasted into a server's prompt the line fails with "'corflags' is not recognized". Its note
    said nothing of it (user audit 2026-12-07); it says to run it in a Developer Command Prompt or PowerShell."""
    img = make_image(tmp_path, apphost(POOL64, site("S", 1, "P64", r"C:\s")), {"s/bin/X86.dll": "managed_x86.dll"})
    f = next(f for f in scan(img).findings if f.rule == "managed-assembly-arch")
    fx = next(x for x in f.fixes if x.commands and x.commands[0].startswith("corflags"))
    assert fx.note is not None and fx.note.startswith(
        "CorFlags.exe comes with Visual Studio (and the Windows SDK), not with Windows: run the line in a Developer "
        "Command Prompt or Developer PowerShell")


def test_a_pool_defined_twice_is_one_pool_and_a_problem_naming_both_lines(tmp_path: Path) -> None:
    """A second ``<add name="P64">`` in applicationPools: IIS refuses it ("Cannot add duplicate collection entry of
    type 'add' with unique key attribute 'name'", KB 942055); the report listed the pool twice, once per
    architecture, with the same application under each. Now: the first entry, and a problem at the second's line."""
    dup = '<add name="P64" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />'
    img = make_image(tmp_path, apphost(f"{POOL64}\n{dup}", site("S", 1, "P64", r"C:\s")))
    report = scan(img)
    assert [p.name for p in report.pools] == ["P64"] and report.pools[0].worker_arch is Arch.X64
    [problem] = [p for p in report.problems if "P64" in p.message]
    assert problem.file.endswith("applicationHost.config") and problem.line == 6
    assert "line 5" in problem.message and "Cannot add duplicate collection entry" in problem.message


def test_a_pool_defined_again_in_other_case_is_the_same_pool(tmp_path: Path) -> None:
    """IIS compares a collection's unique key without case (the scan looks pools up the same way): ``P64`` and
    ``p64`` are one pool, the second entry refused as above, not a second pool at another architecture."""
    dup = '<add name="p64" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />'
    report = scan(make_image(tmp_path, apphost(f"{POOL64}\n{dup}", site("S", 1, "P64", r"C:\s"))))
    assert [(p.name, p.worker_arch) for p in report.pools] == [("P64", Arch.X64)]
    assert [p for p in report.problems if "'p64' is defined again" in p.message]
