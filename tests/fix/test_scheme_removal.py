"""KB 4468361's fix for a compression scheme DLL no build of which fits a worker: remove the scheme
(``appcmd set config -section:system.webServer/httpCompression /-[name='xpress']``), verified like any fix, ranked
after the fixes that keep compression, its side effect on the line, written by ``fix --apply``."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import scan
from iisbitness.findings import Severity
from iisbitness.fixes.commands import remove_compression_scheme
from iisbitness.fixes.text import Document, Edits
from iisbitness.formats.causes import effect_lines, removal, view
from iisbitness.model.edits import RemoveCompressionScheme
from iisbitness.scan.fix import apply_fix, plan_fix
from tests.conftest import apphost, make_image, site
from tests.scan.test_compression_scheme import MODULES

# NOTE: WSUS's scheme as its installer writes it (Lex Li, "IIS 7 and WSUS on Windows Server x64"), by a literal path:
# one file, x64, for every worker
SCHEMES = """        <httpCompression directory="%SystemDrive%\\inetpub\\temp\\IIS Temporary Compressed Files">
            <scheme name="gzip" dll="%Windir%\\system32\\inetsrv\\gzip.dll" />
            <scheme name="xpress" doStaticCompression="false" dll="C:\\Program Files\\Update Services\\WebServices\\suscomp.dll" staticCompressionLevel="10" dynamicCompressionLevel="0" />
        </httpCompression>
"""
SUSCOMP = "Program Files/Update Services/WebServices/suscomp.dll"


def _image(root: Path, bin32: bool) -> Path:
    """WsusPool at x64 and Legacy, 32-bit; with ``bin32`` Legacy's bin holds an x86-only assembly, so that a flip of it
    to 64-bit breaks it and the removal is the one verified fix."""
    pools = '<add name="WsusPool" managedRuntimeVersion="v4.0" />\n' \
            '<add name="Legacy" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />'
    files: dict[str, str | Path | bytes] = {SUSCOMP: "module_x64.dll", "wsus/index.htm": "w", "legacy/index.htm": "l"}
    if bin32:
        files["legacy/bin/x86only.dll"] = "managed_x86.dll"
    return make_image(root, apphost(pools, site("WSUS Administration", 1, "WsusPool", "C:\\wsus")
                                    + site("Legacy", 2, "Legacy", "C:\\legacy"), MODULES + SCHEMES), files)


def _scheme_findings(img: Path) -> list[object]:
    return [f for f in scan(img).findings if f.rule in ("compression-scheme-arch", "binary-missing")]


def test_removal_is_verified_ranked_last_and_says_no_pool_compresses_with_it(tmp_path: Path) -> None:
    [found] = [f for f in scan(_image(tmp_path, bin32=False)).findings if f.rule == "compression-scheme-arch"]
    assert found.pool == "Legacy"
    summaries = [x.summary for x in found.fixes]
    assert summaries[0] == "Run application pool 'Legacy' as 64-bit (x64)"
    [remove] = [x for x in found.fixes if x.label == "remove compression scheme 'xpress'"]
    assert found.fixes.index(remove) > 1  # NOTE: after the flip and the build, which keep compression
    assert remove.summary == ("Remove compression scheme 'xpress' (C:\\Program Files\\Update Services\\WebServices\\"
                              "suscomp.dll) from httpCompression (KB 4468361)")
    assert (remove.verified, remove.edits) == (True, (RemoveCompressionScheme("xpress"),))
    assert remove.commands == (("%windir%\\system32\\inetsrv\\appcmd.exe set config "
                               "-section:system.webServer/httpCompression \"/-[name='xpress']\" /commit:apphost"), "iisreset")
    assert remove.powershell == ("Import-Module WebAdministration",
                                 ("Remove-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter "
                                 "'system.webServer/httpCompression' -Name '.' -AtElement @{name='xpress'}"), "iisreset")
    # NOTE: the side effect the administrator approves: every pool that loaded it, not only the one that failed
    assert removal(remove) == "no pool compresses with 'xpress' any more"
    assert "no pool compresses with 'xpress' any more: compression scheme xpress no longer loads in Legacy, WsusPool" \
        in effect_lines(remove)


def test_fix_apply_removes_the_scheme_line_and_the_rescan_is_clean(tmp_path: Path) -> None:
    img = _image(tmp_path, bin32=True)
    [found] = [f for f in scan(img).findings if f.rule == "compression-scheme-arch"]
    assert [x.label for x in found.fixes if x.verified] == ["remove compression scheme 'xpress'",
                                                             "compression modules only in 64-bit workers"]
    assert any(r.summary == "Run application pool 'Legacy' as 64-bit (x64)" for r in found.rejected_fixes)
    config = img / "Windows/System32/inetsrv/config/applicationHost.config"
    before = config.read_bytes()
    plan = plan_fix(img, rules=("compression-scheme-arch",))
    assert plan.edits == (RemoveCompressionScheme("xpress"),)
    [change] = plan.changes
    line_no = before.splitlines().index(next(x for x in before.splitlines() if b'name="xpress"' in x)) + 1
    assert change.changes == (f"line {line_no}: compression scheme 'xpress': removed",)
    apply_fix(plan, stamp="20260101T000000Z")
    line = next(x for x in before.splitlines(keepends=True) if b'name="xpress"' in x)
    assert config.read_bytes() == before.replace(line, b"")
    assert (config.parent / "applicationHost.config.iisbitness-20260101T000000Z.bak").read_bytes() == before
    assert _scheme_findings(img) == []


def test_scheme_names_that_would_end_the_quoting_are_not_written() -> None:
    """A scheme name is read from an untrusted configuration: ``$(...)`` stays literal in PowerShell's single quotes,
    and a name appcmd's ``[name='...']`` selector or cmd.exe cannot hold is a ``rem`` / ``#`` line, never a command."""
    dollar = remove_compression_scheme("x$(calc)", "c.dll")
    assert dollar.powershell[1].endswith("-AtElement @{name='x$(calc)'}")
    assert dollar.commands[0].endswith("\"/-[name='x$(calc)']\" /commit:apphost")
    quote = remove_compression_scheme("a'b", "c.dll")
    assert quote.commands[0].startswith("rem Not written: ") and len(quote.commands) == 1
    assert quote.powershell[1].endswith("-AtElement @{name='a''b'}")
    amp = remove_compression_scheme('x" & calc & "', "c.dll")
    assert amp.commands[0].startswith("rem Not written: ")


def test_removal_of_an_element_sharing_its_line_takes_only_its_text() -> None:
    data = (b'<configuration>\r\n  <system.webServer>\r\n    <httpCompression><scheme name="a" dll="a.dll" />'
            b'<scheme name="b" dll="b.dll" /></httpCompression>\r\n    <x>\r\n      <scheme name="c" dll="c.dll">\r\n'
            b'      </scheme>\r\n    </x>\r\n  </system.webServer>\r\n</configuration>\r\n')
    doc = Document.read(data, "t.config")
    edits = Edits.of(doc)
    els = {el.get("name"): el for el in doc.root.iter("scheme")}
    edits.remove(els["a"])
    edits.remove(els["c"])
    assert edits.result() == data.replace(b'<scheme name="a" dll="a.dll" />', b"").replace(
        b'      <scheme name="c" dll="c.dll">\r\n      </scheme>\r\n', b"")


def test_compression_modules_precondition_is_verified_last_and_apply_rescans_clean(tmp_path: Path) -> None:
    """The optional way out: the compression modules (and so every scheme DLL) kept out of 32-bit workers by a
    bitness64 preCondition; ranked after the fixes that keep compression; its side effects are the two modules, not
    'no pool compresses with xpress' (the scheme stays configured and compresses in 64-bit workers)."""
    img = _image(tmp_path, bin32=True)
    [found] = [f for f in scan(img).findings if f.rule == "compression-scheme-arch"]
    modules = found.fixes[-1]
    assert modules.summary == ("Load the compression modules (StaticCompressionModule, DynamicCompressionModule) only "
                               "in 64-bit workers, so that their scheme DLLs load only there: no compression in 32-bit "
                               "workers")
    assert modules.verified is True and [x.label for x in found.fixes][-2:] == [
        "remove compression scheme 'xpress'", "compression modules only in 64-bit workers"]
    assert sorted((e.name, e.load_kind, e.pool) for e in modules.side_effects) == [
        ("DynamicCompressionModule", "global-module", "Legacy"), ("StaticCompressionModule", "global-module", "Legacy")]
    assert "no pool compresses" not in removal(modules)
    config = img / "Windows/System32/inetsrv/config/applicationHost.config"
    before = config.read_text("utf-8")
    plan = plan_fix(img, fixes=(3,), numbering=lambda report: [n.fix for n in view(report).fixes])
    assert plan.chosen and plan.chosen[0].fix.summary == modules.summary
    apply_fix(plan, stamp="20260101T000000Z")
    after = config.read_text("utf-8")
    assert after.count('preCondition="bitness64"') == 2 and 'name="xpress"' in after
    assert after.replace(' preCondition="bitness64"', "") == before
    assert _scheme_findings(img) == []


def test_the_kb_case_a_scheme_dll_absent_from_syswow64_is_offered_its_removal(tmp_path: Path) -> None:
    """KB 4468361's own case: WSUS's ``suscomp.dll`` named under ``%windir%\\system32\\inetsrv``, installed there only
    (x64), so a 32-bit pool looks for it in SysWOW64\\inetsrv, which holds IIS's own x86 modules but not it
    (binary-missing, an error). Its fixes are the flip to 64-bit and the build advice, and, as for a scheme DLL of the
    wrong build, the KB's removal of the scheme and the compression modules' preCondition (binary-missing offered
    neither)."""
    schemes = SCHEMES.replace("C:\\Program Files\\Update Services\\WebServices\\suscomp.dll",
                              "%windir%\\system32\\inetsrv\\suscomp.dll")
    pools = '<add name="WsusPool" managedRuntimeVersion="v4.0" />\n' \
            '<add name="Legacy" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />'
    files: dict[str, str | Path | bytes] = {"wsus/index.htm": "w", "legacy/index.htm": "l",
                                             "Windows/System32/inetsrv/suscomp.dll": "module_x64.dll"}
    for name in ("compstat.dll", "compdyn.dll", "gzip.dll"):
        files[f"Windows/System32/inetsrv/{name}"] = "module_x64.dll"
        files[f"Windows/SysWOW64/inetsrv/{name}"] = "module_x86.dll"
    img = make_image(tmp_path, apphost(pools, site("WSUS Administration", 1, "WsusPool", "C:\\wsus")
                                       + site("Legacy", 2, "Legacy", "C:\\legacy"), MODULES + schemes), files)
    [found] = [f for f in scan(img).findings if f.rule == "binary-missing"]
    assert (found.pool, found.severity) == ("Legacy", Severity.ERROR)
    labels = [x.label for x in found.fixes]
    assert "remove compression scheme 'xpress'" in labels
    assert "compression modules only in 64-bit workers" in labels
    assert found.fixes[0].summary == "Run application pool 'Legacy' as 64-bit (x64)"
    [remove] = [x for x in found.fixes if x.label == "remove compression scheme 'xpress'"]
    assert remove.verified and labels.index(remove.label) > labels.index(found.fixes[0].label)
