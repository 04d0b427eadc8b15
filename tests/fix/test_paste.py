"""Every command a fix offers pastes as it is into cmd.exe and into PowerShell (issue 24).

Both shells are modelled here on the rules that matter for a pasted line: cmd.exe expands ``%VAR%`` and treats
``& | < > ^ ( )`` outside double quotes as operators; a program's C runtime splits its command line at spaces
outside double quotes ("Parsing C++ command-line arguments"). PowerShell expands ``$env:NAME`` inside double
quotes only, never ``%VAR%``; a single-quoted string is literal with ``''`` for ``'`` (about_Quoting_Rules),
and ``&`` runs a quoted program path (about_Operators). The model decodes each line to the argument vector
the program receives; a line it cannot decode, or one that decodes differently in the two shells, fails.

Walked: every fix of the demo images (IIS 10, IIS 6), of the same IIS 10 image with pools, sites and modules
renamed to hold spaces, apostrophes and ``$``, and of a Visual Studio solution run by IIS Express; the ASP.NET 1.1
IIS 6 commands by hand.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.findings import Fix
from iisbitness.fixes.commands import aspnetcore_out_of_process, flip_pool, global_module_precondition, native
from iisbitness.fixes.commands_iis6 import reregister_aspnet, worker_isolation
from iisbitness.report import Report
from tests.conftest import DEMO, apphost, fixture, make_image, site
from tests.iisexpress.solution import classic_solution

ENV = {"windir": r"C:\Windows", "systemdrive": "C:", "programfiles": r"C:\Program Files",
       "programfiles(x86)": r"C:\Program Files (x86)"}
NOT_WRITTEN = ("rem Not written: ", "# Not written: ")


class ShellError(AssertionError):
    """The line would not paste: what the shell would do instead."""


def cmd_argv(line: str) -> list[str]:
    """What a program gets from ``line`` pasted at a cmd.exe prompt."""
    def env(m: re.Match[str]) -> str:
        if m[1].lower() not in ENV:
            raise ShellError(f"cmd.exe expands %{m[1]}% in {line!r}")
        return ENV[m[1].lower()]
    expanded = re.sub(r"%([^%\s]+)%", env, line)
    if "%" in expanded:
        raise ShellError(f"a lone % in {line!r}")
    argv, cur, quoted, any_ = [], "", False, False
    for ch in expanded:
        if ch == '"':
            quoted, any_ = not quoted, True
        elif ch in " \t" and not quoted:
            if cur or any_:
                argv.append(cur)
            cur, any_ = "", False
        elif ch in "&|<>^()" and not quoted:
            raise ShellError(f"cmd.exe operator {ch!r} outside quotes in {line!r}")
        else:
            cur += ch
    if quoted:
        raise ShellError(f"unbalanced quote in {line!r}")
    if cur or any_:
        argv.append(cur)
    return argv


def cmd_lines(line: str) -> list[list[str]]:
    """``line`` as the commands it runs: a ``for %p in (...) do X`` runs X once per item (``for``, cmd.exe's
    command reference); ``powershell -NoProfile -Command "SCRIPT"`` runs SCRIPT, which must read as PowerShell."""
    m = re.fullmatch(r"for %p in \((.*?)\) do (.*)", line)
    if not m:
        argv = cmd_argv(line)
        if argv[:3] == ["powershell", "-NoProfile", "-Command"]:
            assert len(argv) == 4, f"the script is not one argument: {line!r}"
            ps_tokens(argv[3])
        return [argv]
    items = re.findall(r'"[^"]*"|\S+', m[1])
    return [cmd_argv(m[2].replace("%p", item)) for item in items]


_PS_TOKEN = re.compile(r"""\s*(?:'((?:[^'\u2018\u2019\u201a\u201b]|['\u2018\u2019\u201a\u201b]{2})*)'|"([^"`]*)"|"""
                       r"""(@\{|\)\.[A-Za-z]\w*|[|{},&;=()])|([^\s'"|{},&;=()]+))""")
"""A single-quoted string, a double-quoted one, an operator (a hashtable's ``@{ ; = }``, a ``( ... ).member``
expression, a pipeline, the call operator), a bare word."""
_PS_SPECIAL = set("$`'\"();@<>#{}[]")
_PS_VARS = {"$true", "$false", "$_"}


def ps_tokens(line: str) -> list[tuple[str, str]]:
    """``line`` as PowerShell tokens ``(kind, value)``: ``str`` (quotes decoded, ``$env:`` expanded), ``op``,
    ``bare``, ``var``."""
    out, pos = [], 0
    while pos < len(line):
        m = _PS_TOKEN.match(line, pos)
        if not m or m.end() == pos:
            raise ShellError(f"PowerShell cannot read {line[pos:]!r} in {line!r}")
        pos = m.end()
        if m[1] is not None:
            out.append(("str", re.sub("(['\u2018\u2019\u201a\u201b])['\u2018\u2019\u201a\u201b]", r"\1", m[1])))
        elif m[2] is not None:
            def env(v: re.Match[str]) -> str:
                name = (v[1] or v[2]).lower()
                if name not in ENV:
                    raise ShellError(f"$env:{name} in {line!r}")
                return ENV[name]
            text = re.sub(r"\$\{env:([^}]+)\}|\$env:(\w+)", env, m[2])
            if "$" in text:
                raise ShellError(f"PowerShell expands a $ in {m[2]!r}")
            out.append(("str", text))
        elif m[3] is not None:
            out.append(("op", m[3]))
        elif m[4] in _PS_VARS:
            out.append(("var", m[4]))
        else:
            word = m[4]
            if set(word) & _PS_SPECIAL or "%" in word:
                raise ShellError(f"PowerShell reads the bare word {word!r} differently")
            if word.startswith("-") and "." in word:
                raise ShellError(f"Windows PowerShell splits {word!r} at the dot")
            out.append(("bare", word))
    return out


def ps_argv(line: str) -> list[str] | None:
    """The argument vector a program run by ``line`` gets; None for a cmdlet line (WebAdministration)."""
    toks = ps_tokens(line)
    if toks[0] == ("op", "&"):
        toks = toks[1:]
        assert toks[0][0] == "str", line
    elif not (toks[0][0] == "bare" and re.fullmatch(r"[a-z][a-z0-9.]*", toks[0][1])):
        return None  # NOTE: a cmdlet (Verb-Noun) or a pipeline
    if any(k in ("op", "var") for k, _ in toks):
        raise ShellError(f"not a plain program line: {line!r}")
    return [v for _, v in toks]


def check_fix(fix: Fix) -> None:
    """Both shells' lines decode; where both run programs, to the same arguments."""
    assert bool(fix.commands) == bool(fix.powershell), f"{fix.summary}: one shell has no commands"
    for line in (*fix.commands, *fix.powershell):
        assert not re.search(r"<[^<>]*(path|build|pool|name)[^<>]*>", line), f"a blank to fill in {line!r}"
    ps = [p for p in fix.powershell if not p.startswith(NOT_WRITTEN)]
    for p in ps:
        assert not re.search(r"%\w+%", p), f"%VAR% in a PowerShell line: {p!r}"
        ps_argv(p)
    for c in fix.commands:
        if not c.startswith(NOT_WRITTEN):
            cmd_lines(c)
    native_ps = [a for p in fix.powershell if (a := ps_argv(p) if not p.startswith(NOT_WRITTEN) else None)]
    if native_ps and len(native_ps) == len(fix.powershell) == len(fix.commands):
        for c, p in zip(fix.commands, fix.powershell, strict=True):
            if not c.startswith(NOT_WRITTEN) and not p.startswith(NOT_WRITTEN):
                assert cmd_lines(c) == [ps_argv(p)], (c, p)


WEIRD = {"DefaultAppPool": "Default App$Pool's", "IntranetPool": "Intra net $(calc) Pool", "OrdersAsp": "O'Brien`s $x",
         "Storefront": "Store front's $env:windir", "FabrikamVendorAuth": "Fabrikam $Vendor Auth",
         "WebConnection64": "Web \u2019Connection\u2019 64"}


def _renamed(tmp: Path) -> Path:
    img = tmp / "weird"
    shutil.copytree(DEMO / "contoso-iis10", img)
    cfg = img / "Windows" / "System32" / "inetsrv" / "config" / "applicationHost.config"
    text = cfg.read_text(encoding="utf-8")
    for old, new in WEIRD.items():
        text = re.sub(rf'(name|applicationPool|location path)="{old}(?=["/])', lambda m, n=new: f'{m[1]}="{n}', text)
    cfg.write_text(text, encoding="utf-8")
    return img


def _fixes(reports: list[Report]) -> Iterator[Fix]:
    for r in reports:
        for f in r.findings:
            yield from f.fixes


def _iisexpress(tmp: Path) -> Report:
    """A Visual Studio solution whose IIS Express loads a global module of the other bitness (IIS Express's own
    appcmd.exe, against the solution's applicationhost.config)."""
    sol = classic_solution(tmp / "sol", use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    machine = tmp / "c"
    (machine / "Program Files (x86)" / "IIS Express").mkdir(parents=True)
    shutil.copyfile(fixture("module_x64.dll"), machine / "Program Files (x86)" / "IIS Express" / "cachuri.dll")
    return scan(sol, ScanOptions(drives={"C": machine}))


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> list[Report]:
    tmp = tmp_path_factory.mktemp("paste")
    return [scan(DEMO / "contoso-iis10"), scan(DEMO / "w2003-iis6"), scan(_renamed(tmp)), _iisexpress(tmp)]


def test_every_fix_of_the_demo_and_a_renamed_demo_pastes_in_both_shells(walked: list[Report]) -> None:
    fixes = list(_fixes(walked))
    assert len(fixes) > 60
    assert any("IIS Express\\appcmd.exe" in p for fix in _fixes(walked[3:]) for p in fix.powershell)
    for fix in fixes:
        check_fix(fix)


def test_the_renamed_names_reach_the_programs_intact(walked: list[Report]) -> None:
    """Names with spaces, apostrophes, ``$`` and ``$(...)`` arrive as they are (or the line says it is not
    written): PowerShell never expands them, cmd.exe never splits them."""
    weird = walked[2]
    assert {p.name for p in weird.pools} >= {WEIRD["DefaultAppPool"], WEIRD["IntranetPool"], WEIRD["OrdersAsp"]}
    ps_strings = {v for fix in _fixes([weird]) for p in fix.powershell if not p.startswith(NOT_WRITTEN)
                  for k, v in ps_tokens(p) if k == "str"}
    cmd_args = {a for fix in _fixes([weird]) for c in fix.commands if not c.startswith(NOT_WRITTEN)
                for argv in cmd_lines(c) for a in argv}
    for pool in (WEIRD["DefaultAppPool"], WEIRD["OrdersAsp"]):
        assert f"IIS:\\AppPools\\{pool}" in ps_strings
        assert pool in cmd_args
    assert any("Store front's $env:windir/" in v for v in ps_strings | cmd_args)
    # the module's name holds no quote: both shells get the appcmd selector
    assert "/[name='Fabrikam $Vendor Auth'].preCondition:bitness32" in cmd_args


def test_out_of_process_and_iis6_commands_in_powershell_form() -> None:
    fix = aspnetcore_out_of_process("Default Web Site/shop")
    assert fix.powershell == (("& \"$env:windir\\system32\\inetsrv\\appcmd.exe\" set config 'Default Web Site/shop' "
                               "'-section:system.webServer/aspNetCore' /hostingModel:outofprocess"),)
    check_fix(fix)
    for fix in (worker_isolation(), reregister_aspnet(Arch.X64, "v2.0.50727"), reregister_aspnet(Arch.X86, "v1.1.4322")):
        check_fix(fix)
        assert not any("%" in p for p in fix.powershell)
    assert reregister_aspnet(Arch.X86, "v1.1.4322").powershell[1] == (
        'cscript "$env:windir\\system32\\iisext.vbs" /EnFile '
        '"$env:windir\\Microsoft.NET\\Framework\\v1.1.4322\\aspnet_isapi.dll"')


def test_the_models_catch_what_would_not_paste() -> None:
    """The checks fail on the lines issue 24 reported."""
    with pytest.raises(AssertionError):
        check_fix(Fix(summary="s", label="l", commands=(r'%windir%\System32\regsvr32.exe "<path to the 64-bit build>"',),
                      powershell=(r'%windir%\System32\regsvr32.exe "<path to the 64-bit build>"',)))
    with pytest.raises(AssertionError):
        check_fix(Fix(summary="s", label="l", commands=("x",), powershell=(r"%windir%\system32\inetsrv\appcmd.exe x",)))
    with pytest.raises(ShellError):
        ps_argv("Start-WebAppPool -Name \"Bob's $pool\"")
    with pytest.raises(ShellError):
        cmd_argv('appcmd set apppool "a" & calc')
    with pytest.raises(AssertionError):  # NOTE: PowerShell would take the quotes out of a bare word
        check_fix(Fix(summary="s", label="l", commands=("corflags \"a b.dll\"",), powershell=("corflags a' 'b.dll",)))
    cmd, ps = native("corflags", "x")
    assert cmd_lines(cmd) == [ps_argv(ps)]


ODD_POOLS = ("Bob's $x pool", "100% pool", 'Say "hi" pool', "Both ' and \" pool")
"""Pool names a split copies into cmd.exe, PowerShell and IIS configuration filters: an apostrophe and ``$``, a
``%``, a double quote, both quotes."""


def _split_fixes(tmp: Path) -> dict[str, Fix]:
    """Per odd pool, the split fix of a pool serving a 64-bit and a 32-bit application, copying a setting with a
    space, a user name with ``$``, an encrypted password and an environment variable with ``$`` and ``%``."""
    pools, sites, files = "", "", {}
    for n, name in enumerate(ODD_POOLS):
        attr = escape(name, {'"': "&quot;"})
        pools += (f'<add name="{attr}" managedRuntimeVersion="v4.0" startMode="AlwaysRunning">'
                  '<processModel identityType="SpecificUser" userName="svc $u" password="[enc:AesProvider:abc:enc]" />'
                  '<environmentVariables><add name="TENANT ID" value="$contoso 50%" /></environmentVariables></add>')
        sites += site(f"A{n}", 2 * n + 1, attr, rf"C:\a{n}") + site(f"B{n}", 2 * n + 2, attr, rf"C:\b{n}")
        files |= {f"a{n}/bin/A64.dll": "managed_x64.dll", f"b{n}/bin/B86.dll": "managed_x86.dll"}
    report = scan(make_image(tmp, apphost(pools, sites), files))
    out = {}
    for f in report.findings:
        for fix in f.fixes:
            for name in ODD_POOLS:
                if fix.summary.endswith(f"pool '{name} (x86)'") or fix.summary.endswith(f"pool '{name} (x64)'"):
                    out[name] = fix
    assert set(out) == set(ODD_POOLS)
    return out


def _after(tokens: list[tuple[str, str]], parameter: str) -> str:
    return tokens[tokens.index(("bare", parameter)) + 1][1]


def test_a_split_of_pools_with_odd_names_pastes_and_its_filters_find_the_new_pool(tmp_path: Path) -> None:
    """Every line of the split decodes in its shell; each IIS configuration filter PowerShell receives is an XPath
    that selects the new pool (a name with an apostrophe gets a double-quoted literal; with both quotes the line
    says it is not written); the names reach appcmd and the cmdlets intact or the line says why not."""
    for name, fix in _split_fixes(tmp_path).items():
        check_fix(fix)
        new = fix.summary.rsplit(" pool '", 1)[1][:-1]
        doc = etree.Element("configuration")
        pool = etree.SubElement(etree.SubElement(etree.SubElement(doc, "system.applicationHost"), "applicationPools"),
                                "add", name=new)
        variables = etree.SubElement(pool, "environmentVariables")
        filters = [_after(ps_tokens(p), "-Filter") for p in fix.powershell
                   if not p.startswith(NOT_WRITTEN) and ("bare", "-Filter") in ps_tokens(p)]
        if "'" in name and '"' in name:
            assert filters == [] and any(p.startswith(NOT_WRITTEN) for p in fix.powershell)
        else:
            assert filters and all(doc.xpath(f) == [variables] for f in filters), filters
        strings = {v for p in fix.powershell if not p.startswith(NOT_WRITTEN) for k, v in ps_tokens(p) if k == "str"}
        assert {f"IIS:\\AppPools\\{new}", f"IIS:\\AppPools\\{name}", "svc $u"} <= strings
        assert ("$contoso 50%" in strings) == bool(filters)
        args = [a for c in fix.commands if not c.startswith(NOT_WRITTEN) for argv in cmd_lines(c) for a in argv]
        if not {"%", '"'} & set(name):
            assert f"/name:{new}" in args and not [a for a in args if a.startswith("/processModel.password:")]
            # NOTE: the password is read from the old pool and set on the new one inside PowerShell, in both forms
            [script] = [argv[3] for c in fix.commands if c.startswith("powershell ") for argv in cmd_lines(c)]
            assert script.removeprefix("Import-Module WebAdministration; ") in fix.powershell
            assert {("str", f"IIS:\\AppPools\\{new}"), ("str", f"IIS:\\AppPools\\{name}")} <= set(ps_tokens(script))
        else:
            assert not any(new in a for a in args)


HOSTILE_NAMES = ('Say "hi" pool', "100% pool", "caret^pool", "R&D pool", "two  spaces pool", "O'Brien's pool",
                 "(x86) pipe|pool")
"""Pool names with each character cmd.exe or PowerShell treats specially: quotes, ``%``, ``^``, ``&``, spaces,
apostrophes, parentheses and ``|``."""

HOSTILE_PASSWORDS = ('pa"ss', '"', "50% off", "a^b&c", "two words", "O'Brien", "ends\\", ";first", "$(calc)")
"""Passwords a pool may store: a ``"`` would end appcmd's quoted argument, a trailing ``\\`` escape its closing quote,
``%`` expand, ``^``/``&`` act outside quotes, a leading ``;`` be ``for /f``'s end-of-line comment."""

APPCMD_PATH = r"C:\Windows\system32\inetsrv\appcmd.exe"


def test_pool_flip_and_start_lines_carry_hostile_names_intact() -> None:
    """pool_arch_commands and start_pool_commands build their lines with the same quoting as every other fix
    (:func:`native`, single-quoted PowerShell): each name reaches appcmd and the cmdlets as it is, or (``"``, ``%``)
    the cmd.exe line says it is not written; on ARM64, the pool an application names but no one defined too."""
    for name in HOSTILE_NAMES:
        for fix in (flip_pool(name, Arch.X86, Arch.X64, pool_stopped=True),
                    flip_pool(name, Arch.X64, Arch.ARM64, declared=False), flip_pool(name, Arch.X86, Arch.X64)):
            check_fix(fix)
            item = ("str", f"IIS:\\AppPools\\{name}")
            assert all(item in ps_tokens(p) for p in fix.powershell if p.startswith("Set-ItemProperty")), fix.powershell
            if {'"', "%"} & set(name):
                assert all(c.startswith("rem Not written: ") for c in fix.commands), fix.commands
                continue
            argvs = [argv for c in fix.commands for argv in cmd_lines(c)]
            assert all(argv[0] == APPCMD_PATH for argv in argvs)
            assert {a for argv in argvs for a in argv[3:4]} <= {name, f"/name:{name}", f"/apppool.name:{name}"}, argvs
        stopped = flip_pool(name, Arch.X86, Arch.X64, pool_stopped=True)
        assert ps_tokens(stopped.powershell[-1]) == [("bare", "Start-WebAppPool"), ("bare", "-Name"), ("str", name)]
        if not {'"', "%"} & set(name):
            assert cmd_lines(stopped.commands[-1]) == [[APPCMD_PATH, "start", "apppool", f"/apppool.name:{name}"]]


def test_a_split_never_passes_a_password_through_a_command_line(tmp_path: Path) -> None:
    """A pool's password, encrypted or stored in clear text, with any character: the split's commands (both
    shells) read it from the old pool inside PowerShell and never print it. The cmd.exe form used to pass it to
    appcmd through ``for /f ... /processModel.password:"%p"``, where a ``"`` in it ended the argument (appcmd set
    another password without a word), and printed a clear-text one into the report."""
    pools, sites, files = "", "", {}
    stored = [*HOSTILE_PASSWORDS, "[enc:AesProvider:abc:enc]"]
    for n, password in enumerate(stored):
        pools += (f'<add name="P{n}" managedRuntimeVersion="v4.0"><processModel identityType="SpecificUser" '
                  f'userName="svc" password="{escape(password, {chr(34): "&quot;"})}" /></add>')
        sites += site(f"A{n}", 2 * n + 1, f"P{n}", rf"C:\a{n}") + site(f"B{n}", 2 * n + 2, f"P{n}", rf"C:\b{n}")
        files |= {f"a{n}/bin/A64.dll": "managed_x64.dll", f"b{n}/bin/B86.dll": "managed_x86.dll"}
    report = scan(make_image(tmp_path, apphost(pools, sites), files))
    splits = {f.pool: x for f in report.findings if f.rule == "pool-arch-conflict" for x in f.fixes}
    assert set(splits) == {f"P{n}" for n in range(len(stored))}
    for n, password in enumerate(stored):
        fix = splits[f"P{n}"]
        check_fix(fix)
        lines = (*fix.commands, *fix.powershell)
        assert not [line for line in lines if "/processModel.password:" in line], lines  # NOTE: no appcmd argument
        assert len(password) < 3 or not [line for line in lines if password in line], (password, lines)
        assert not [c for c in fix.commands if "for /f" in c or "%p" in c], fix.commands
        new = fix.summary.rsplit(" pool '", 1)[1][:-1]
        copy = (f"Set-ItemProperty 'IIS:\\AppPools\\{new}' -Name processModel.password -Value "
                f"(Get-ItemProperty 'IIS:\\AppPools\\P{n}' -Name processModel).password")
        assert copy in fix.powershell
        assert f'powershell -NoProfile -Command "Import-Module WebAdministration; {copy}"' in fix.commands
        assert "never print it" in (fix.note or "")


def test_starting_several_hostile_pools_starts_each_by_its_name() -> None:
    """A global module's preCondition fix starts every pool rapid-fail protection stopped: one cmd.exe ``for`` line
    over the quoted names, one PowerShell pipeline; each name arrives whole (``&``, ``^``, spaces, apostrophes,
    parentheses), and a ``"`` or ``%`` in any of them makes the cmd.exe line say it is not written."""
    plain = tuple(n for n in HOSTILE_NAMES if not {'"', "%"} & set(n))
    fix = global_module_precondition("Vendor Auth", "bitness32", plain)
    check_fix(fix)
    assert cmd_lines(fix.commands[-1]) == [[APPCMD_PATH, "start", "apppool", f"/apppool.name:{n}"] for n in plain]
    assert [v for k, v in ps_tokens(fix.powershell[-1]) if k == "str"] == list(plain)
    assert global_module_precondition("Vendor Auth", "bitness32", HOSTILE_NAMES).commands[-1].startswith(
        "rem Not written: ")


def test_a_site_name_with_brackets_is_set_by_literal_path(tmp_path: Path) -> None:
    """A site name may hold ``[`` ``]`` (IIS forbids only ``/ \\ . ?`` in one: IAppHostPropertySchema::ValidationType,
    siteName), but Set-ItemProperty's -Path is a wildcard pattern ("Intranet [HR]" matches "Intranet H" and
    "Intranet R", never itself); the split then names the application by -LiteralPath (Set-ItemProperty,
    Microsoft.PowerShell.Management: "used exactly as it's typed"). Names without wildcard characters keep -Path."""
    img = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", img)
    cfg = img / "Windows" / "System32" / "inetsrv" / "config" / "applicationHost.config"
    text = cfg.read_text(encoding="utf-8")
    assert '<site name="Intranet" id="3">' in text
    cfg.write_text(text.replace('<site name="Intranet" id="3">', '<site name="Intranet [HR]" id="3">'), encoding="utf-8")
    lines = [p for f in _fixes([scan(img)]) for p in f.powershell]
    sites = [ps_tokens(p) for p in lines if "IIS:\\Sites\\" in p]
    assert sites and all(("bare", "-LiteralPath") in t for t in sites), sites
    assert all(t[t.index(("bare", "-LiteralPath")) + 1][1].startswith("IIS:\\Sites\\Intranet [HR]") for t in sites)
    pools = [ps_tokens(p) for p in lines if "IIS:\\AppPools\\" in p]
    assert pools and not any(("bare", "-LiteralPath") in t for t in pools)
