"""Fix commands built from names read in an untrusted configuration: a name that would end the quoting never
turns a pasted fix into other commands (cmd.exe), and PowerShell gets every name in single quotes."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.fixes.commands import filter_precondition, flip_pool, global_module_precondition
from tests.conftest import apphost, make_image, site

INJECT = 'P" & calc.exe & rem "'


def test_pool_name_that_ends_the_quoting_is_not_written_for_cmd(tmp_path: Path) -> None:
    fix = flip_pool(INJECT, Arch.X86, Arch.X64, pool_stopped=True)
    assert fix.commands and all(c.startswith("rem Not written: ") and "calc" not in c for c in fix.commands)
    assert "Set-ItemProperty 'IIS:\\AppPools\\P\" & calc.exe & rem \"' -Name enable32BitAppOnWin64 -Value $true" \
        in fix.powershell
    # end to end: the pool's name comes from applicationHost.config (&quot; is a quote)
    pool = '<add name="P&quot; &amp; calc.exe &amp; rem &quot;" managedRuntimeVersion="v4.0" />'
    gm = '<globalModules><add name="M" image="C:\\V\\m.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(pool, site("S", 1, 'P&quot; &amp; calc.exe &amp; rem &quot;', r"C:\s"), gm),
                     {"V/m.dll": "module_x86.dll"})
    [finding] = scan(img).findings
    cmds = [c for fx in finding.fixes for c in fx.commands]
    assert cmds and not [c for c in cmds if "calc" in c]


def test_ordinary_names_with_spaces_are_quoted_as_before() -> None:
    fix = flip_pool("Intranet Pool (x86)", Arch.X86, Arch.X64)
    assert fix.commands == (
        '%windir%\\system32\\inetsrv\\appcmd.exe set apppool "Intranet Pool (x86)" /enable32BitAppOnWin64:true',
        '%windir%\\system32\\inetsrv\\appcmd.exe recycle apppool "Intranet Pool (x86)"')


def test_powershell_filter_is_single_quoted_so_dollar_is_not_expanded() -> None:
    """A double-quoted -Filter "...[@name='M$(calc)']" would run calc in PowerShell."""
    fix = global_module_precondition("M$(calc)", "bitness32", ("A", "B"))
    ps = [c for c in fix.powershell if "globalModules" in c]
    assert ps == [("Set-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' "
                   "-Filter 'system.webServer/globalModules/add[@name=''M$(calc)'']' -Name preCondition -Value 'bitness32'")]
    assert not any('"' in c and "$(" in c for c in fix.powershell)
    # '$' means nothing to cmd.exe: the appcmd lines stay
    assert fix.commands[0].endswith("\"/[name='M$(calc)'].preCondition:bitness32\" /commit:apphost")
    assert fix.commands[-1].startswith('for %p in ("A" "B") do ')


def test_apostrophe_in_a_name() -> None:
    """appcmd's [name='...'] cannot hold an apostrophe: no appcmd line; PowerShell quotes the XPath literal with
    double quotes inside its single-quoted string."""
    fix, _ = filter_precondition("Vendor's Filter", "bitness32", "My Site")
    [cmd] = fix.commands
    assert cmd.startswith("rem Not written: ") and "\"'\"" in cmd
    assert fix.powershell[1] == ("Set-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Location 'My Site' "
                                 "-Filter 'system.webServer/isapiFilters/filter[@name=\"Vendor''s Filter\"]' "
                                 "-Name preCondition -Value 'bitness32'")
    both, _ = filter_precondition("a'b\"c", "bitness32", None)
    assert both.powershell[1].startswith("# Not written: ")


def test_powershell_doubles_every_single_quote_character() -> None:
    """PowerShell also ends a '...' string at U+2018/U+2019/U+201A/U+201B: each is doubled like '."""
    fix = flip_pool("O\u2019Brien'; calc", Arch.X86, Arch.X64)
    assert fix.powershell[1] == "Set-ItemProperty 'IIS:\\AppPools\\O\u2019\u2019Brien''; calc' -Name enable32BitAppOnWin64 -Value $true"


def test_bin_file_name_with_a_quote_is_not_written_for_cmd(tmp_path: Path) -> None:
    """A zipped image can hold file names Windows would refuse; the corflags line must not run what follows."""
    img = make_image(tmp_path, apphost('<add name="P" managedRuntimeVersion="v4.0" />', site("S", 1, "P", r"C:\s")),
                     {'s/bin/a" & calc & ".dll': "managed_x86.dll", "s/bin/b.dll": "managed_x86.dll"})
    lines = [c for f in scan(img).findings if f.rule == "managed-assembly-arch" for fx in f.fixes for c in fx.commands
             if "corflags" in c or c.startswith("rem ")]
    assert len(lines) == 2 and 'corflags "C:\\s\\bin\\b.dll" /32BITREQ-' in lines
    assert [c for c in lines if c.startswith("rem Not written: ")] and not [c for c in lines if "calc" in c]


def test_a_pool_no_applicationpools_entry_defines_is_one_finding_whose_fix_creates_it(tmp_path: Path) -> None:
    """An application names pool 'Ghost', which applicationPools does not define: WAS starts no worker for it, so
    there is no global-module-arch finding in a worker that never exists, but one pool-undefined finding; its fix
    creates the pool ('appcmd set apppool "Ghost"' would find no such pool) at the architecture that loads the
    server's global module, and the other architecture is refused for what it would break."""
    gm = '<globalModules><add name="M" image="C:\\V\\m.dll" /></globalModules>'
    img = make_image(tmp_path, apphost('<add name="P" managedRuntimeVersion="v4.0" />', site("S", 1, "Ghost", r"C:\s"),
                                       gm), {"V/m.dll": "module_x86.dll", "s/default.htm": b"<p>S</p>"})
    [finding] = scan(img).findings
    assert (finding.rule, finding.pool, finding.process) == ("pool-undefined", "Ghost", None)
    assert finding.symptom.startswith("HTTP 503 Service Unavailable on every request to S/")
    [create] = finding.fixes
    assert create.verified and create.commands == (('%windir%\\system32\\inetsrv\\appcmd.exe add apppool /name:"Ghost" '
                                                    "/enable32BitAppOnWin64:true"),)
    assert create.powershell[1:] == ("New-WebAppPool -Name 'Ghost'",
                                     "Set-ItemProperty 'IIS:\\AppPools\\Ghost' -Name enable32BitAppOnWin64 -Value $true")
    [refused] = finding.rejected_fixes
    assert "64-bit" in refused.summary and "global-module-arch in 'Ghost'" in refused.reason

def test_a_line_not_written_is_said_once(tmp_path: Path) -> None:
    """Pool 'P%x' (cmd.exe expands % inside quotes too): its flip's set and start lines each became the same rem
    line, printed twice; now once. PowerShell takes the name in single quotes: its lines stay written."""
    gm = '<globalModules><add name="M" image="C:\\V\\m.dll" /></globalModules>'
    img = make_image(tmp_path, apphost('<add name="P%x" managedRuntimeVersion="v4.0" />', site("S", 1, "P%x", r"C:\s"),
                                       gm), {"V/m.dll": "module_x86.dll", "s/default.htm": b"<p>S</p>"})
    flip = next(x for f in scan(img).findings for x in f.fixes if x.summary.startswith("Run application pool 'P%x'"))
    assert len(flip.commands) == 1 and flip.commands[0].startswith("rem Not written"), flip.commands
    assert len(flip.powershell) >= 2 and not any(line.startswith("# Not written") for line in flip.powershell)


def _repeated(lines: tuple[str, ...]) -> list[str]:
    return [line for i, line in enumerate(lines) if line.startswith(("rem Not written", "# Not written"))
            and line in lines[:i]]


def test_a_name_no_line_can_take_is_said_once_by_every_fix(tmp_path: Path) -> None:
    """Pool 'P%x' serves S/ (an x64-only assembly) and T/ (an x86-only one), pool 'Q%y' serves U/, and global module
    "Vendor's Auth" (appcmd's [name='...'] cannot hold an apostrophe) is an x86 DLL: the flip's set, recycle and
    start lines, the split's add apppool, set apppool, environment variable and set app lines and the preCondition's
    globalModules and modules lines each became the same rem line (a Fix collapsed those in a row afterwards: the
    split's came back after its password line's). Each fix now says it once: a split whose pool cannot be created in
    cmd.exe has that one line (no later line would help: each needs the pool)."""
    pools = ('<add name="P%x" managedRuntimeVersion="v4.0"><processModel identityType="SpecificUser" userName="svc" '
             'password="[enc:IISWASOnlyCngProvider:QUJDREVG:enc]" /><environmentVariables><add name="A" value="1" />'
             '<add name="B" value="2" /></environmentVariables></add><add name="Q%y" managedRuntimeVersion="v4.0" />')
    gm = '<globalModules><add name="Vendor&apos;s Auth" image="C:\\V\\m.dll" /></globalModules>'
    img = make_image(tmp_path, apphost(pools, site("S", 1, "P%x", r"C:\s") + site("T", 2, "P%x", r"C:\t")
                                       + site("U", 3, "Q%y", r"C:\u"), gm),
                     {"s/bin/A64.dll": "managed_x64.dll", "t/bin/B86.dll": "managed_x86.dll", "V/m.dll": "module_x86.dll",
                      "u/default.htm": b"<p>U</p>"})
    fixes = {x.summary: x for f in scan(img).findings for x in f.fixes}
    kinds = {"Run application pool 'Q%y'", "Move T/ to a new", "Load global module 'Vendor's Auth'"}
    assert {k for k in kinds for s in fixes if s.startswith(k)} == kinds, list(fixes)
    for fix in fixes.values():
        assert not _repeated(fix.commands) and not _repeated(fix.powershell), (fix.summary, fix.commands, fix.powershell)
    [move] = [x for s, x in fixes.items() if s.startswith("Move T/")]
    assert len(move.commands) == 1 and move.commands[0].startswith("rem Not written"), move.commands
    [gm_fix] = [x for s, x in fixes.items() if s.startswith("Load global module")]
    assert len(gm_fix.commands) == 2 and "holds \"'\"" in gm_fix.commands[0], gm_fix.commands  # NOTE: then the start


def test_a_split_whose_pool_name_no_filter_can_quote_says_so_once_in_powershell(tmp_path: Path) -> None:
    """Pool "P'x\\"" (both quotes: no XPath literal holds it) serves S/ (an x64-only assembly) and T/ (an x86-only
    one); the split copies its two environment variables, each an Add-WebConfigurationProperty whose filter names
    the new pool: the one PowerShell line saying it cannot be written stands once, not once per variable."""
    pools = ('<add name="P&apos;x&quot;" managedRuntimeVersion="v4.0"><environmentVariables><add name="A" value="1" />'
             '<add name="B" value="2" /></environmentVariables></add>')
    img = make_image(tmp_path, apphost(pools, site("S", 1, "P'x&quot;", r"C:\s") + site("T", 2, "P'x&quot;", r"C:\t")),
                     {"s/bin/A64.dll": "managed_x64.dll", "t/bin/B86.dll": "managed_x86.dll"})
    [move] = {x.summary: x for f in scan(img).findings for x in f.fixes if x.summary.startswith("Move T/")}.values()
    not_written = [line for line in move.powershell if line.startswith("# Not written")]
    assert len(not_written) == 1 and "both ' and \"" in not_written[0], move.powershell
    assert any(line.startswith("Set-ItemProperty") and "-Name applicationPool" in line for line in move.powershell)
