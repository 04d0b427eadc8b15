"""A split pool (``add apppool`` + move) copies every attribute and child element of the old pool but its name and
bitness (issue 20 §2): appcmd, PowerShell and ``fix --apply`` forms, on real corpus pool settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.findings import EffectKind
from iisbitness.fixes.commands import move_to_new_pool
from iisbitness.formats import scan_json, scan_text
from iisbitness.image.server_image import ServerImage
from iisbitness.model.edits import MoveToNewPool
from iisbitness.model.iis7 import ENCRYPTED, NOT_SHOWN, AppPool, PipelineMode, PoolElement
from iisbitness.model.source import ConfigSource
from iisbitness.report import Report
from iisbitness.scan.fix import apply_fix, plan_fix
from tests.conftest import CORPUS, apphost, make_image, site
from tests.fix.test_paste import cmd_argv

HEALTH = CORPUS / "iis-config-2" / "applicationhost--shubham23nov__Web-Service-Health-Check__applicationHost.config"
EIC = CORPUS / "iis-config-2" / "applicationhost--dalawton__eic-inventory__applicationHost.config"
SENTINEL = "Program Files/SentinelOne/Sentinel Agent 24.2.3.471/"


def _corpus(path: Path) -> Path:
    if not path.is_file():
        pytest.skip("no shared corpus")
    return path


def test_split_commands_copy_every_setting_of_a_corpus_pool(tmp_path: Path) -> None:
    """SAPImmediatePaymentsAppPool as a real server stores it: 32-bit, SpecificUser NBS-DEVWKS79\\SVC_BTS with an
    encrypted password, processModel timeouts, recycling, failure and cpu settings."""
    img = make_image(tmp_path, _corpus(HEALTH))
    server = read_server(ServerImage.offline(img), Arch.X64, "test")
    pool = server.pool("SAPImmediatePaymentsAppPool")
    assert pool is not None
    fix = move_to_new_pool((("SAPImmediatePayments", "/"),), "SAP (x64)", Arch.X64, pool.name,
                           pool.managed_runtime_version, pool.pipeline_mode.value, Arch.X64, like=pool)
    cmd = "\n".join(fix.commands)
    assert 'add apppool /name:"SAP (x64)"' in cmd and "/enable32BitAppOnWin64:false" in cmd
    for part in ('/queueLength:"2000"', '/autoStart:"true"', '/processModel.identityType:"SpecificUser"',
                 '/processModel.userName:"NBS-DEVWKS79\\SVC_BTS"', '/processModel.idleTimeout:"00:00:00"',
                 '/processModel.pingResponseTime:"00:01:30"', '/recycling.periodicRestart.time:"00:00:00"',
                 '/failure.rapidFailProtection:"false"', '/cpu.action:"NoAction"', '/cpu.resetInterval:"00:05:00"'):
        assert part in cmd, part
    assert "enable32BitAppOnWin64:true" not in cmd and "[enc:" not in cmd
    # NOTE: the password never passes through a command line (cmd.exe cannot hand appcmd any password intact)
    assert ('powershell -NoProfile -Command "Import-Module WebAdministration; Set-ItemProperty '
            "'IIS:\\AppPools\\SAP (x64)' -Name processModel.password -Value (Get-ItemProperty "
            "'IIS:\\AppPools\\SAPImmediatePaymentsAppPool' -Name processModel).password\"") in fix.commands
    ps = "\n".join(fix.powershell)
    assert "Set-ItemProperty 'IIS:\\AppPools\\SAP (x64)' -Name processModel.userName -Value 'NBS-DEVWKS79\\SVC_BTS'" in ps
    assert ("Set-ItemProperty 'IIS:\\AppPools\\SAP (x64)' -Name processModel.password -Value "
            "(Get-ItemProperty 'IIS:\\AppPools\\SAPImmediatePaymentsAppPool' -Name processModel).password") in ps
    assert "-Name failure.rapidFailProtection -Value 'false'" in ps and "[enc:" not in ps
    assert ("processModel.password", ENCRYPTED) in pool.settings


def _eic_image(tmp_path: Path) -> Path:
    """The corpus server whose DefaultAppPool (64-bit, SpecificUser dlawton@eiclabs.com with a CNG-encrypted password)
    serves bti-eic-sql2/ (given an x86-only assembly) and test/ (an x64-only one), with both SentinelOne filters."""
    return make_image(tmp_path, _corpus(EIC), {
        "inetpub/wwwroot/bin/Old86.dll": "managed_x86.dll", "inetpub/bin/New64.dll": "managed_x64.dll",
        SENTINEL + "SentinelWSFilter64.dll": "filter_x64.dll", SENTINEL + "SentinelWSFilter32.dll": "filter_x86.dll"})


def test_split_apply_copies_the_pool_element_as_stored(tmp_path: Path) -> None:
    img = _eic_image(tmp_path)
    report = scan(img)
    n, f = next((i, f) for i, f in enumerate(report.findings, 1) if f.rule == "pool-arch-conflict")
    new_pool = next(e for e in f.fixes[0].side_effects if e.kind is EffectKind.NEW_POOL)
    assert new_pool.like == "DefaultAppPool" and new_pool.applications == ("bti-eic-sql2/",)
    assert ("processModel.userName", "dlawton@eiclabs.com") in new_pool.settings
    assert ("processModel.password", ENCRYPTED) in new_pool.settings and ("autoStart", "true") in new_pool.settings
    cfg = img / "Windows/System32/inetsrv/config/applicationHost.config"
    stored = etree.parse(str(cfg)).getroot().find(".//applicationPools/add[@name='DefaultAppPool']")
    assert stored is not None
    password = stored[0].get("password")
    plan = plan_fix(img, numbers=[n])
    apply_fix(plan, stamp="20260101T000000Z")
    root = etree.parse(str(cfg)).getroot()
    old, new = (root.find(f".//applicationPools/add[@name='{name}']") for name in ("DefaultAppPool", "DefaultAppPool (x86)"))
    assert old is not None and new is not None
    assert new.get("enable32BitAppOnWin64") == "true" and old.get("enable32BitAppOnWin64") is None
    assert {k: v for k, v in new.attrib.items() if k not in ("name", "enable32BitAppOnWin64")} == \
        {k: v for k, v in old.attrib.items() if k != "name"}
    assert [etree.tostring(c) for c in new] == [etree.tostring(c) for c in old]
    assert new[0].get("identityType") == "SpecificUser" and new[0].get("password") == password
    assert password is not None and password.startswith("[enc:IISWASOnlyCngProvider:")
    after = scan(img)
    assert not [x for x in after.findings if x.rule in ("pool-arch-conflict", "managed-assembly-arch")]
    pool = next(p for p in after.pools if p.name == "DefaultAppPool (x86)")
    assert pool.worker_arch is Arch.X86 and pool.applications == ("bti-eic-sql2/",)


def test_split_copies_environment_variables_and_names_a_clear(tmp_path: Path) -> None:
    """IIS 10 pool environment variables (a collection) are added item by item; a <clear /> is not repeated by the
    commands (the note says so) but fix --apply copies it."""
    pools = ('<add name="P" managedRuntimeVersion="v4.0"><environmentVariables><add name="TENANT" value="contoso" />'
             '</environmentVariables><recycling><periodicRestart><schedule><clear /><add value="03:00:00" />'
             '</schedule></periodicRestart></recycling></add>')
    img = make_image(tmp_path, apphost(pools, site("S", 1, "P", r"C:\s") + site("T", 2, "P", r"C:\t")),
                     {"s/bin/A64.dll": "managed_x64.dll", "t/bin/B86.dll": "managed_x86.dll"})
    f = next(f for f in scan(img).findings if f.rule == "pool-arch-conflict")
    fix = f.fixes[0]
    assert ("%windir%\\system32\\inetsrv\\appcmd.exe set config -section:system.applicationHost/applicationPools "
            "/+\"[name='P (x86)'].environmentVariables.[name='TENANT',value='contoso']\" /commit:apphost") in fix.commands
    assert ("Add-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter "
            "'system.applicationHost/applicationPools/add[@name=''P (x86)'']/recycling/periodicRestart/schedule' "
            "-Name '.' -Value @{value='03:00:00'}") in fix.powershell
    assert fix.note is not None and "<clear> in recycling.periodicRestart.schedule" in fix.note
    plan = plan_fix(img, numbers=[next(i for i, x in enumerate(scan(img).findings, 1) if x.rule == f.rule)])
    text = plan.changes[0].after.decode()
    assert text.count("<environmentVariables><add name=\"TENANT\" value=\"contoso\" />") == 2
    assert text.count("<clear />") == 2


def test_move_without_stored_settings_keeps_the_short_form() -> None:
    """Without the old pool's elements the short form: the same line as the copy's first one (the pipeline mode
    quoted as every setting is; it was the one bare value, built by hand beside the one appcmd builder)."""
    fx = move_to_new_pool((("S", "/a"),), "P (x86)", Arch.X86, "P", "v4.0", "Integrated", Arch.X64)
    line = ('%windir%\\system32\\inetsrv\\appcmd.exe add apppool /name:"P (x86)" /managedRuntimeVersion:"v4.0" '
            '/managedPipelineMode:"Integrated" /enable32BitAppOnWin64:true')
    assert fx.commands[0] == line
    assert cmd_argv(line)[5] == "/managedPipelineMode:Integrated"  # NOTE: appcmd gets the argument it got unquoted
    like = AppPool("P", False, "pool", True, "v4.0", PipelineMode.INTEGRATED, ConfigSource("applicationHost.config"),
                   elements=(PoolElement((), (("name", "P"), ("managedRuntimeVersion", "v4.0"))),))
    copied = move_to_new_pool((("S", "/a"),), "P (x86)", Arch.X86, "P", "v4.0", "Integrated", Arch.X64, like=like)
    assert copied.commands[0] == line and copied.powershell[:5] == fx.powershell[:5]


def test_every_secret_of_a_pool_is_copied_by_reading_it_and_never_printed(tmp_path: Path) -> None:
    """The split's commands copy a secret by reading it from the old pool (never through a command line), but the
    check was written twice and kept one secret: with processModel's password in clear text (set by hand) and a
    second value stored encrypted, the password was dropped without a word (the new SpecificUser pool had none),
    and the side effects printed it as a setting. Now one check (``model.iis7.secret_shown``) finds each secret:
    each is copied the same way in both shells, and none is printed anywhere (text, JSON, commands, note)."""
    pools = ('<add name="P" managedRuntimeVersion="v4.0"><processModel identityType="SpecificUser" '
             'userName="CONTOSO\\svc_web" password="Pa55w0rd!" /><failure rapidFailProtection="false" '
             'autoShutdownParams="[enc:AesProvider:QUJDREVG:enc]" /></add>')
    img = make_image(tmp_path, apphost(pools, site("S", 1, "P", r"C:\s") + site("T", 2, "P", r"C:\t")),
                     {"s/bin/A64.dll": "managed_x64.dll", "t/bin/B86.dll": "managed_x86.dll"})
    report = scan(img)
    fix = next(f for f in report.findings if f.rule == "pool-arch-conflict").fixes[0]
    for path, owner, attr in (("processModel.password", "processModel", "password"),
                              ("failure.autoShutdownParams", "failure", "autoShutdownParams")):
        copy = (f"Set-ItemProperty 'IIS:\\AppPools\\P (x86)' -Name {path} -Value "
                f"(Get-ItemProperty 'IIS:\\AppPools\\P' -Name {owner}).{attr}")
        assert copy in fix.powershell, path
        assert f'powershell -NoProfile -Command "Import-Module WebAdministration; {copy}"' in fix.commands, path
    assert fix.note is not None and "never print" in fix.note
    printed = [*fix.commands, *fix.powershell, fix.note, scan_text.render(report, width=200),
               scan_text.render(report, options=scan_text.TextOptions(verbose=True, width=200)),
               scan_json.render(report)]
    assert not [p for p in printed if "Pa55w0rd" in p or "QUJDREVG" in p]
    effects = [e for f in report.findings for x in f.fixes for e in x.side_effects if e.settings]
    assert effects and all({("processModel.password", NOT_SHOWN), ("failure.autoShutdownParams", ENCRYPTED)}
                           <= set(e.settings) for e in effects), effects



def test_the_note_names_each_secret_once_as_copied_or_as_not_repeated(tmp_path: Path) -> None:
    """A pool with an encrypted processModel password and an environment variable stored encrypted: the commands read
    the password from the old pool and leave the variable's ``<add>`` to ``fix --apply``. The note walked the pool's
    secrets again and said the commands read both, then that they did not repeat the variable: now each secret is
    named once, as the commands treat it."""
    pools = ('<add name="P" managedRuntimeVersion="v4.0"><processModel identityType="SpecificUser" '
             'userName="CONTOSO\\svc_web" password="[enc:IISWASOnlyCngProvider:QUJDREVG:enc]" /><environmentVariables>'
             '<add name="DB_PASSWORD" value="[enc:IISWASOnlyCngProvider:R0hJSktM:enc]" />'
             '<add name="TENANT" value="contoso" /></environmentVariables></add>')
    img = make_image(tmp_path, apphost(pools, site("S", 1, "P", r"C:\s") + site("T", 2, "P", r"C:\t")),
                     {"s/bin/A64.dll": "managed_x64.dll", "t/bin/B86.dll": "managed_x86.dll"})
    fix = next(f for f in scan(img).findings if f.rule == "pool-arch-conflict").fixes[0]
    assert fix.note is not None
    assert "Its password: the commands read it from 'P'" in fix.note and "environmentVariables.add" not in fix.note
    assert "Not repeated by the commands: <add> in environmentVariables (it holds a secret)" in fix.note
    assert not [c for c in fix.commands if "DB_PASSWORD" in c or "R0hJSktM" in c]
    assert [c for c in fix.commands if "TENANT" in c]
    # NOTE: the two lists share one sentence on fix --apply (it was said after each: "copies ... as stored" twice)
    assert fix.note.count("as stored") == 1 and fix.note.endswith("fix --apply copies each as stored."), fix.note


def test_a_pool_password_never_reaches_a_diff_or_sarif(tmp_path: Path) -> None:
    """The split writes the old pool's processModel (its clear-text password too) into the new pool's element: the
    file must have it, a report must not. ``fix``'s diff (text and JSON) printed the line as written, and SARIF's
    ``artifactChanges`` carried it twice; now the diff shows "(not shown)" and SARIF gives no text edit for such a
    fix (its commands copy the password by reading it). The file ``fix --apply`` writes keeps the password."""
    import json

    from click.testing import CliRunner

    from iisbitness.cli import main

    pools = ('<add name="P" managedRuntimeVersion="v4.0"><processModel identityType="SpecificUser" '
             'userName="CONTOSO\\svc_web" password="Pa55w0rd!" /></add>')
    img = make_image(tmp_path / "img", apphost(pools, site("S", 1, "P", r"C:\s") + site("T", 2, "P", r"C:\t")),
                     {"s/bin/A64.dll": "managed_x64.dll", "t/bin/B86.dll": "managed_x86.dll"})
    runner = CliRunner()
    doc = json.loads(runner.invoke(main, ["scan", str(img), "--format", "json"]).stdout)
    [number] = [x["number"] for x in doc["fixes"] if "new 32-bit pool" in x["label"]]
    sarif = runner.invoke(main, ["scan", str(img), "--format", "sarif"]).stdout
    text = runner.invoke(main, ["fix", str(img), "--fix", str(number)]).stdout
    fix_json = runner.invoke(main, ["fix", str(img), "--fix", str(number), "--format", "json"]).stdout
    assert 'identityType="SpecificUser"' in text and '+' in text  # NOTE: the diff is there, the new pool's line in it
    for printed in (sarif, text, fix_json):
        assert "Pa55w0rd" not in printed
    assert 'password="(not shown)"' in text
    applied = runner.invoke(main, ["fix", str(img), "--fix", str(number), "--apply"])
    assert applied.exit_code == 0, applied.output
    config = (img / "Windows/System32/inetsrv/config/applicationHost.config").read_text("utf-8")
    assert config.count('password="Pa55w0rd!"') == 2  # NOTE: the old pool's and the new pool's


def _two_splits(tmp_path: Path) -> Path:
    """Pool (x64) serving Web/, Web/a and Web/b; /a and /b each hold another x86-only assembly in their bin: two
    causes, each with a split of its application to a new 32-bit pool."""
    apps = "\n".join(f'                <application path="/{a}" applicationPool="Pool"><virtualDirectory path="/" '
                     f'physicalPath="C:\\sites\\{a}" /></application>' for a in ("a", "b"))
    return make_image(tmp_path, apphost('<add name="Pool" managedRuntimeVersion="v4.0" />',
                                        site("Web", 1, "Pool", "C:\\sites\\root", apps)),
                      {"sites/root/index.htm": "<p>x</p>", "sites/a/bin/Legacy.dll": "managed_x86.dll",
                       "sites/b/bin/Old.dll": "managed_x86.dll"})


def test_two_splits_of_one_pool_create_pools_of_their_own_names(tmp_path: Path) -> None:
    """Pasting both split fixes of one scan used to fail on the second ``appcmd add apppool`` (both 'Pool (x86)',
    user audit 2026-12-06): the second is 'Pool (x86) 2', in cmd.exe and PowerShell alike, and its application moves
    there; applied together, both applications run in 32-bit pools and nothing is left."""
    from click.testing import CliRunner

    from iisbitness.cli import main

    img = _two_splits(tmp_path)
    report = scan(img)
    splits = {f.application: x for f in report.findings for x in f.fixes if x.label == "a new 32-bit pool for the app"}
    assert sorted(splits) == ["/a", "/b"]
    for app, pool in (("/a", "Pool (x86)"), ("/b", "Pool (x86) 2")):
        fix = splits[app]
        assert [c for c in fix.commands if " add apppool " in c] == [
            (f'%windir%\\system32\\inetsrv\\appcmd.exe add apppool /name:"{pool}" /managedRuntimeVersion:"v4.0" '
             '/managedPipelineMode:"Integrated" /enable32BitAppOnWin64:true')]
        assert f'set app "Web{app}" /applicationPool:"{pool}"' in fix.commands[-1]
        assert f"New-WebAppPool -Name '{pool}'" in fix.powershell
        assert fix.powershell[-1] == f"Set-ItemProperty 'IIS:\\Sites\\Web\\{app[1:]}' -Name applicationPool -Value '{pool}'"
    text = scan_text.render(report)
    numbers = [line.split("]")[0].strip(" [") for line in text.splitlines() if " add apppool " in line]
    res = CliRunner().invoke(main, ["fix", str(img), "--apply", *(a for n in numbers for a in ("--fix", n))])
    assert res.exit_code == 0, res.output
    after = scan(img)
    assert {p.name: p.worker_arch for p in after.pools} == {"Pool": Arch.X64, "Pool (x86)": Arch.X86,
                                                            "Pool (x86) 2": Arch.X86}
    assert not [f for f in after.findings if f.rule == "managed-assembly-arch"]


def test_a_split_passes_over_a_pool_name_the_server_has(tmp_path: Path) -> None:
    """One split applied, then a new scan: the other application's split was named 'Pool (x86)' again, the pool that
    exists, and was refused with a false reason (re-analysis took the existing pool for the new one: "it would break
    ... Old.dll", the file it moves). It is 'Pool (x86) 2', verified, and applied it leaves nothing (review
    2026-12-06)."""
    from click.testing import CliRunner

    from iisbitness.cli import main

    def split_numbers() -> list[str]:
        text = scan_text.render(scan(img))
        assert "not offered" not in text
        return [line.split("]")[0].strip(" [") for line in text.splitlines() if " add apppool " in line]

    img = _two_splits(tmp_path)
    first = split_numbers()[0]
    assert CliRunner().invoke(main, ["fix", str(img), "--apply", "--fix", first]).exit_code == 0
    report = scan(img)
    [split] = [x for f in report.findings if f.application == "/b" for x in f.fixes
               if x.label == "a new 32-bit pool for the app"]
    assert 'add apppool /name:"Pool (x86) 2"' in split.commands[0] and split.verified, split
    [second] = split_numbers()
    assert CliRunner().invoke(main, ["fix", str(img), "--apply", "--fix", second]).exit_code == 0
    assert not [f for f in scan(img).findings if f.rule == "managed-assembly-arch"]


def _new_pools(report: Report) -> dict[str, set[tuple[str, frozenset[tuple[str, str]]]]]:
    """Per new pool name any fix of ``report`` creates, the distinct moves named so: (rule, applications moved)."""
    out: dict[str, set[tuple[str, frozenset[tuple[str, str]]]]] = {}
    for f in report.findings:
        for x in f.fixes:
            for e in x.edits:
                if isinstance(e, MoveToNewPool):
                    out.setdefault(e.new_pool, set()).add((f.rule, frozenset(e.apps)))
    return out


def test_a_conflict_split_and_the_splits_of_its_apps_name_their_pools_apart(tmp_path: Path) -> None:
    """Pool P serves S/ and T/, each with an x86-only assembly of its own in its bin, and U/ with an x64-only one:
    pool-arch-conflict moves S/ and T/ together, managed-assembly-arch splits each alone. The conflict's move was
    named 'P (x86)' like S/'s split (both 'appcmd add apppool /name:"P (x86)"'; applied both, T/ joined S/'s pool):
    one numbering per scan gives each move its own name, S/ and T/ alone first, then both."""
    img = make_image(tmp_path, apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                       site("S", 1, "P", r"C:\s") + site("T", 2, "P", r"C:\t") + site("U", 3, "P", r"C:\u")),
                     {"s/bin/A86.dll": "managed_x86.dll", "t/bin/B86.dll": "managed_x86.dll",
                      "u/bin/C64.dll": "managed_x64.dll"})
    report = scan(img)
    assert _new_pools(report) == {
        "P (x86)": {("managed-assembly-arch", frozenset({("S", "/")}))},
        "P (x86) 2": {("managed-assembly-arch", frozenset({("T", "/")}))},
        "P (x86) 3": {("pool-arch-conflict", frozenset({("S", "/"), ("T", "/")}))}}
    conflict = next(x for f in report.findings if f.rule == "pool-arch-conflict" for x in f.fixes)
    assert conflict.commands[0].startswith('%windir%\\system32\\inetsrv\\appcmd.exe add apppool /name:"P (x86) 3"')
    assert conflict.verified is True


def test_a_runtime_move_and_a_split_of_one_pool_name_their_pools_apart(tmp_path: Path) -> None:
    """Pool Core64 serves S1/, a framework-dependent in-process ASP.NET Core app whose runtime is installed for x86
    only, and S2/, with an x86-only assembly in its bin: aspnetcore-runtime-missing moves S1/ to a new 32-bit pool,
    managed-assembly-arch splits S2/ to one. Both were named 'Core64 (x86)'."""
    from tests.aspnetcore.image import make_image as core_image
    from tests.aspnetcore.image import put, run
    from tests.aspnetcore.test_aspnetcore_inprocess import _dotnet, _fdd_app

    core_image(tmp_path, [("Core64", 'managedRuntimeVersion="v4.0"', "shop"), ("Core64", "", "old")])
    _fdd_app(tmp_path, "shop", "8.0.0")
    _dotnet(tmp_path, "Program Files (x86)", "x86", "8.0.4")
    put(tmp_path, "managed_x86.dll", "inetpub/old/bin/Old.dll")
    report = run(tmp_path)
    assert {f.rule for f in report.findings} >= {"aspnetcore-runtime-missing", "managed-assembly-arch"}
    assert _new_pools(report) == {
        "Core64 (x86)": {("managed-assembly-arch", frozenset({("S2", "/")}))},
        "Core64 (x86) 2": {("aspnetcore-runtime-missing", frozenset({("S1", "/")}))}}
