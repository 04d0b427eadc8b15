"""A global module's preCondition fix sets the ``system.webServer/modules`` entries that exist, and only those: each at
the path that declares it (appcmd ``set config "Site/app"``, PowerShell ``-Location``), its own preCondition kept and
the bitness added (comma-separated, iis-docs ``system.webServer/modules/add``). Where ``<modules>`` does not list the
module (IIS's own UriCacheModule, a vendor's SharePoint module), the fix had a second line that fails when pasted
(appcmd: "Cannot find requested collection element"). The commands, the model edit and ``fix --apply`` change the
same entries: the commands' meaning made on the model equals the edit's, and a second read of the written file shows
the same (round 12 audit, modules2)."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.config.apphost import read_server
from iisbitness.findings import Fix
from iisbitness.fixes.commands import modules_listing
from iisbitness.formats.causes import view
from iisbitness.image.server_image import ServerImage
from iisbitness.model.edits import SetGlobalModulePrecondition, apply
from iisbitness.model.iis7 import Server
from iisbitness.scan.fix import apply_fix, plan_fix
from tests.conftest import DEMO, corpus_dir, make_image

MLBAKERAK = "mlbakerak__WinIRISBuild__applicationHost.config"
"""InterSystems' CSP gateway: global module CSPms (no preCondition), listed in the top-level ``<modules>`` too."""
NORDSTROM = "Nordstrom__epg-interview-sysadmin__iis__applicationHost.config"
"""IIS Advanced Logging: AdvancedLoggingModule in ``<globalModules>`` and in ``<location path="">``'s ``<modules>``;
IIS's own TokenCacheModule in ``<globalModules>`` only, as on every server in the corpus."""

CSPMS = "Inetpub/CSPGateway/CSPms.dll"
CACHTOKN = {f"Windows/{d}/inetsrv/cachtokn.dll": "module_x86.dll" for d in ("System32", "SysWOW64")}
"""An x86 build where the configuration names TokenCacheModule (both views): 64-bit workers cannot load it."""
ADVLOG = "Program Files/IIS/Advanced Logging/AdvancedLoggingModule.dll"

_APPCMD = re.compile(r"""appcmd\.exe set config (?:"(?P<path>[^"]+)" )?-section:system\.webServer/(?P<section>\w+) """
                     r""""/\[name='(?P<name>[^']+)'\]\.preCondition:(?P<value>[^"]+)" /commit:apphost$""")
_PS = re.compile(r"""^Set-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST'(?: -Location '(?P<path>[^']+)')? """
                 r"""-Filter 'system\.webServer/(?P<section>\w+)/add\[@name=''(?P<name>[^']+)''\]' """
                 r"""-Name preCondition -Value '(?P<value>[^']+)'$""")


def _image(root: Path, corpus: str, files: dict[str, str | Path | bytes], edit: tuple[str, str] | None = None) -> Path:
    """A real server's configuration (a copy: the corpus is never edited), ``edit`` (old, new) made to its text, with
    ``files`` laid out."""
    src = corpus_dir("iis-config") / corpus
    text = src.read_bytes()
    if edit is not None:
        assert edit[0].encode() in text, edit[0]
        text = text.replace(edit[0].encode(), edit[1].encode(), 1)
    return make_image(root, text, files)


def _restrict(img: Path, module: str) -> Fix:
    fixes = [x for f in scan(img).findings for x in f.fixes
             if x.edits and isinstance(x.edits[0], SetGlobalModulePrecondition) and x.edits[0].name == module]
    assert fixes, f"no preCondition fix for {module}"
    return fixes[0]


def _server(img: Path) -> Server:
    return read_server(ServerImage.offline(img), Arch.X64, "test")


def _pasted(server: Server, lines: list[tuple[str | None, str, str, str]]) -> Server:
    """``server`` with the commands' meaning made: each ``(path, section, name, value)`` sets the preCondition of the
    item ``name`` that the collection holds at ``path`` (applicationHost.config level ``""``), as appcmd does, or fails
    as appcmd does when there is none ("Cannot find requested collection element")."""
    for path, section, name, value in lines:
        if section == "globalModules":
            module = server.global_module(name)
            assert module is not None and not path, f"globalModules has no {name!r}: the pasted line fails"
            server = replace(server, global_modules=tuple(replace(m, precondition=value) if m is module else m
                                                          for m in server.global_modules))
            continue
        assert section == "modules", section
        found = [e for e in server.module_entries if e.name.lower() == name.lower() and not e.web_config
                 and e.location.lower() == (path or "").lower()]
        assert len(found) == 1, f"<modules> has no {name!r} at {path or 'server level'}: the pasted line fails"
        server = replace(server, module_entries=tuple(replace(e, precondition=value) if e is found[0] else e
                                                      for e in server.module_entries))
    return server


def _lines(fix: Fix) -> tuple[list[tuple[str | None, str, str, str]], list[tuple[str | None, str, str, str]]]:
    """The set-preCondition lines of both shells, ``(path, section, name, value)`` each (start lines left out)."""
    cmd = [(m["path"], m["section"], m["name"], m["value"]) for c in fix.commands if (m := _APPCMD.search(c))]
    ps = [(m["path"], m["section"], m["name"], m["value"]) for c in fix.powershell if (m := _PS.match(c))]
    assert len(cmd) == len([c for c in fix.commands if "set config" in c]), fix.commands
    assert len(ps) == len([c for c in fix.powershell if c.startswith("Set-WebConfigurationProperty")]), fix.powershell
    return cmd, ps


def _same_entries(img: Path, fix: Fix) -> tuple[list[tuple[str | None, str, str, str]], Server]:
    """Check that both shells' lines, the model edit and ``fix --apply`` change the same entries; return the lines and
    the server as written."""
    server = _server(img)
    cmd, ps = _lines(fix)
    assert cmd == ps
    [edit] = fix.edits
    assert isinstance(edit, SetGlobalModulePrecondition)
    edited = apply(server, edit)
    pasted = _pasted(server, cmd)
    assert pasted.global_modules == edited.global_modules and pasted.module_entries == edited.module_entries
    return cmd, edited


def _apply(img: Path, fix: Fix) -> Server:
    """``fix --apply`` of the plan holding ``fix`` (by its summary), then the server read again."""
    plan = plan_fix(img, fixes=(1,), numbering=lambda report: [
        n.fix for n in view(report).fixes if n.fix.summary == fix.summary])
    assert plan.chosen and plan.chosen[0].fix.edits == fix.edits
    apply_fix(plan, stamp="20260101T000000Z")
    return _server(img)


def _effective(server: Server, name: str) -> tuple[str, list[tuple[str, str]]]:
    module = server.global_module(name)
    assert module is not None
    return module.precondition, [(e.location, e.precondition) for e in server.module_entries
                                 if e.name.lower() == name.lower()]


def test_a_module_modules_does_not_list_gets_no_modules_line(tmp_path: Path) -> None:
    """TokenCacheModule is in <globalModules> only: one line per shell (it had a second, for <modules>, that fails
    when pasted), the note says so, and fix --apply writes the globalModules entry alone."""
    img = _image(tmp_path, NORDSTROM, CACHTOKN)
    fix = _restrict(img, "TokenCacheModule")
    cmd, edited = _same_entries(img, fix)
    assert [s for _, s, _, _ in cmd] == ["globalModules"]
    assert not any("system.webServer/modules" in c for c in (*fix.commands, *fix.powershell))
    assert "<modules> lists no entry named 'TokenCacheModule'" in (fix.note or "")
    assert "applies only if" not in (fix.note or "")
    after = _apply(img, fix)
    assert _effective(after, "TokenCacheModule") == _effective(edited, "TokenCacheModule") == ("bitness32", [])


def test_a_module_listed_in_the_top_level_modules_gets_its_line(tmp_path: Path) -> None:
    img = _image(tmp_path, MLBAKERAK, {CSPMS: "module_x86.dll"})
    fix = _restrict(img, "CSPms")
    cmd, edited = _same_entries(img, fix)
    assert cmd == [(None, "globalModules", "CSPms", "bitness32"), (None, "modules", "CSPms", "bitness32")]
    assert "Its <modules> entry (server level) gets bitness32 too." in (fix.note or "")
    after = _apply(img, fix)
    assert _effective(after, "CSPms") == _effective(edited, "CSPms") == ("bitness32", [("", "bitness32")])


def test_a_module_listed_under_location_path_empty_gets_the_server_level_line(tmp_path: Path) -> None:
    """``<location path="">`` is applicationHost.config's own level (facts B4, B5): no path in the command."""
    img = _image(tmp_path, NORDSTROM, {ADVLOG: "module_x86.dll"})
    fix = _restrict(img, "AdvancedLoggingModule")
    cmd, edited = _same_entries(img, fix)
    assert cmd == [(None, "globalModules", "AdvancedLoggingModule", "bitness32"),
                   (None, "modules", "AdvancedLoggingModule", "bitness32")]
    after = _apply(img, fix)
    assert _effective(after, "AdvancedLoggingModule") == _effective(edited, "AdvancedLoggingModule")


def test_an_entry_only_a_site_location_declares_is_set_there_keeping_its_own_precondition(tmp_path: Path) -> None:
    """CSPms's <modules> entry moved into ``<location path="Default Web Site">`` with a preCondition of its own: the
    commands select that path (appcmd ``set config "Default Web Site"``, PowerShell ``-Location``); the server-level
    line would fail. Its preCondition is kept and the bitness added; the note says both."""
    top = '<add name="CSPms" />'
    img = _image(tmp_path, MLBAKERAK, {CSPMS: "module_x86.dll"}, (
        top, ""))
    cfg = img / "Windows/System32/inetsrv/config/applicationHost.config"
    text = cfg.read_text("utf-8")
    at = text.rindex("</configuration>")
    cfg.write_text(text[:at] + '<location path="Default Web Site">\n<system.webServer>\n<modules>\n'
                   '<add name="CSPms" preCondition="integratedMode" />\n</modules>\n</system.webServer>\n</location>\n'
                   + text[at:], "utf-8")
    fix = _restrict(img, "CSPms")
    cmd, edited = _same_entries(img, fix)
    assert cmd == [(None, "globalModules", "CSPms", "bitness32"),
                   ("Default Web Site", "modules", "CSPms", "integratedMode,bitness32")]
    assert ('appcmd.exe set config "Default Web Site" -section:system.webServer/modules '
            "\"/[name='CSPms'].preCondition:integratedMode,bitness32\" /commit:apphost") in fix.commands[1]
    note = fix.note or ""
    assert '(<location path="Default Web Site">)' in note and "selecting the path that declares it" in note
    assert '"integratedMode" becomes "integratedMode,bitness32"' in note
    after = _apply(img, fix)
    assert _effective(after, "CSPms") == _effective(edited, "CSPms") == (
        "bitness32", [("Default Web Site", "integratedMode,bitness32")])


@pytest.mark.parametrize("drop", ['<remove name="CSPms" />', "<clear />"])
def test_an_entry_its_own_level_takes_out_again_is_not_set(tmp_path: Path, drop: str) -> None:
    """An ``<add>`` that a ``<remove>`` or ``<clear/>`` of its own level takes out is not in that collection: appcmd
    finds nothing there, so no line names it, and fix --apply leaves it as written."""
    top = '<add name="CSPms" />'
    img = _image(tmp_path, MLBAKERAK, {CSPMS: "module_x86.dll"}, (top, top + drop))
    fix = _restrict(img, "CSPms")
    cmd, _ = _same_entries(img, fix)
    assert [s for _, s, _, _ in cmd] == ["globalModules"]
    text = (img / "Windows/System32/inetsrv/config/applicationHost.config").read_text("utf-8")
    _apply(img, fix)
    after = (img / "Windows/System32/inetsrv/config/applicationHost.config").read_text("utf-8")
    assert after.count('preCondition="bitness32"') == text.count('preCondition="bitness32"') + 1
    assert top in after


def test_the_fix_plan_names_who_loses_the_module_on_the_line_approved(tmp_path: Path) -> None:
    """``fix``'s ``[N]`` line, the one the administrator approves, says which pools then run without the module (it
    was said only under "Side effects", for all the fixes together)."""
    img = _image(tmp_path, MLBAKERAK, {CSPMS: "module_x86.dll"})
    runner = CliRunner(env={"COLUMNS": "300"})
    doc = json.loads(runner.invoke(main, ["scan", str(img), "--format", "json"]).stdout)
    [n] = [i for i, x in enumerate(doc["fixes"], 1) if x["label"] == 'preCondition="bitness32"']
    res = runner.invoke(main, ["fix", str(img), "--fix", str(n)])
    [first] = [line for line in res.stdout.splitlines() if line.startswith(f"  [{n}] ")]
    assert "Load global module 'CSPms'" in first, res.stdout
    assert 'preCondition="bitness32" (but DefaultAppPool then runs without CSPms: HTTP 500.21 on 9 handler mappings)' \
        in first


def test_the_demo_module_listed_in_both_keeps_both_lines(tmp_path: Path) -> None:
    """The demo's FabrikamVendorAuth: in <globalModules> and in <location path="">'s <modules>: both lines, the
    same entries as the edit and fix --apply."""
    img = tmp_path / "demo"
    shutil.copytree(DEMO / "contoso-iis10", img)
    fix = _restrict(img, "FabrikamVendorAuth")
    cmd, edited = _same_entries(img, fix)
    assert [(p, s) for p, s, _, _ in cmd] == [(None, "globalModules"), (None, "modules")]
    after = _apply(img, fix)
    assert _effective(after, "FabrikamVendorAuth") == _effective(edited, "FabrikamVendorAuth")


def test_a_site_location_that_removes_the_module_leaves_the_server_level_entry_the_one_to_set(tmp_path: Path) -> None:
    """A real IIS Express configuration whose ``<location path="BankTech_API_V1">`` removes WebMatrixSupportModule:
    the module's one ``<modules>`` entry is the server-level ``<add>`` (a ``<remove>`` is no entry to set); the site's
    own level holds none (appcmd ``set config "BankTech_API_V1"`` would find none there)."""
    img = make_image(tmp_path, corpus_dir("iis-config") / "Waldovdb__WFS-Banktech-API-Latest__applicationhost.config")
    entries = [e for e in _server(img).module_entries if e.name == "WebMatrixSupportModule"]
    assert [(e.location, e.precondition, e.web_config) for e in entries] == [("", "", False)]


def _web_config_entry(img: Path, precondition: str = "") -> None:
    """The demo's Default Web Site/ web.config listing FabrikamVendorAuth again (``<remove>`` then ``<add>``: a second
    ``<add>`` of an inherited name is a duplicate IIS refuses), with ``precondition`` when given."""
    web = img / "inetpub/wwwroot/web.config"
    own = f' preCondition="{precondition}"' if precondition else ""
    web.write_text(web.read_text("utf-8").replace(
        "  </system.web>\n", '  </system.web>\n  <system.webServer>\n    <modules>\n      <remove name="FabrikamVendorAuth" />\n'
        f'      <add name="FabrikamVendorAuth"{own} />\n'
        "    </modules>\n  </system.webServer>\n"), "utf-8")


def test_entries_the_fix_leaves_are_named_in_its_note(tmp_path: Path) -> None:
    """The demo with a site's web.config listing FabrikamVendorAuth again, with the fix's bitness: neither a line nor
    fix --apply sets it (fix writes applicationHost.config), and the note names it with its file and line. An entry
    that already names a bitness (the demo's ImageResizer_32) is left as it is, said so."""
    img = tmp_path / "demo"
    shutil.copytree(DEMO / "contoso-iis10", img)
    _web_config_entry(img, "bitness32")
    fix = _restrict(img, "FabrikamVendorAuth")
    assert fix.verified is True, fix.note
    cmd, edited = _same_entries(img, fix)
    assert [(p, s) for p, s, _, _ in cmd] == [(None, "globalModules"), (None, "modules")]
    assert "Left as it is: the entry at inetpub/wwwroot/web.config:9 (a web.config), which fix does not write." \
        in (fix.note or "")
    after = _apply(img, fix)
    assert [(e.web_config, e.precondition) for e in after.module_entries if e.name == "FabrikamVendorAuth"] == [
        (False, "bitness32"), (True, "bitness32")]
    assert _effective(after, "FabrikamVendorAuth") == _effective(edited, "FabrikamVendorAuth")
    listing = modules_listing(_server(img), "ImageResizer_32", "bitness32")
    assert listing.targets == ()
    assert listing.words.startswith('Left as it is: the entry at server level (') and listing.words.endswith(
        'whose preCondition "bitness32" already names it.')


@pytest.mark.parametrize("own", ["", "integratedMode", "bitness64"])
def test_a_web_config_entry_without_the_bitness_leaves_the_fix_not_verified(tmp_path: Path, own: str) -> None:
    """Review 2026-12-07: a web.config's ``<modules>`` entry of FabrikamVendorAuth that does not name bitness32 (none,
    another token, the other bitness) is left as it is (fix writes applicationHost.config) and still applies in the
    64-bit workers that no longer load the module; what IIS does there is documented nowhere we found, yet the fix
    stayed "verified" and ``fix --fix 8`` took it. It is now not verified, its note saying why and what to do, and
    ``fix --fix`` refuses it (exit 2) without writing."""
    img = tmp_path / "demo"
    shutil.copytree(DEMO / "contoso-iis10", img)
    _web_config_entry(img, own)
    fix = _restrict(img, "FabrikamVendorAuth")
    assert fix.verified is False, fix.note
    said = " ".join((fix.note or "").split())
    assert ("Not verified: the <modules> entry naming 'FabrikamVendorAuth' at inetpub/wwwroot/web.config:9"
            + (f' (preCondition "{own}")' if own else "") + " (a web.config) does not name bitness32 and still "
            "applies in workers of the other bitness, which no longer load the module; what IIS does there is not "
            'documented: give it preCondition="bitness32" too (or remove it), then scan again.') in said, said
    n = next(x.number for x in view(scan(img)).fixes if x.fix.summary == fix.summary)
    before = (img / "Windows/System32/inetsrv/config/applicationHost.config").read_bytes()
    r = CliRunner().invoke(main, ["fix", str(img), "--fix", str(n), "--apply"])
    assert r.exit_code == 2 and "not a verified configuration change" in r.output, r.output
    # NOTE: and why (review13: the refusal named no reason, though the fix carries it)
    assert f"not a verified configuration change ({fix.unverified_because}); make it by hand" in " ".join(
        r.output.split()), r.output
    assert (img / "Windows/System32/inetsrv/config/applicationHost.config").read_bytes() == before
