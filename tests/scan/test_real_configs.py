"""Real configuration files the shared corpus does not have (tests/fixtures/config/real, each with its repository,
path and commit in SOURCES.tsv, kept as found): each scans to its pinned answer, as an image's applicationHost.config
or as a site's web.config in a 64-bit and a 32-bit pool of either pipeline mode, and a fix scan offers for one of them
is one ``fix`` can write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.api import scan
from iisbitness.cli import main
from iisbitness.errors import ConfigError
from tests.conftest import REPO, apphost, make_image, site

REAL = REPO / "tests" / "fixtures" / "config" / "real"
SOURCES = [line.split("\t") for line in (REAL / "SOURCES.tsv").read_text("utf-8").splitlines()[1:]]
APPHOSTS = sorted(p for p in REAL.glob("apphost--*"))
WEBS = sorted(p for p in REAL.glob("web--*"))

FRAGMENT = "a fragment"
APPHOST_REFUSED: dict[str, tuple[str, int]] = {
    "apphost--Mattza__SL2__applicationHost.config": ("an XML Document Transform", 4),
    "apphost--srdYkambara__monzennakacho_220302__applicationHost.config": (FRAGMENT, 6),
    "apphost--nglovers__nglovers.github.io__applicationHost.config": (FRAGMENT, 1),
    "apphost--Muath4__Squares__ApplicationHost.config": (FRAGMENT, 1),
    "apphost--pinesandneedles__fwx-domain__ApplicationHost.config": (FRAGMENT, 1),
}
"""Named applicationHost.config but not one: exit 2, the message says what the file is, at file:line."""

CEPIIS_POOLS = ("CamstarAppServer", "DefaultAppPool", "Labels", "Modeling", "Query", "Shopfloor")
APPHOST_PINNED: dict[str, set[tuple[str, str | None]]] = {
    # NOTE: the vendor module's folder is the root application's physicalPath, absent from a config-only image: its
    # architecture is unknown in every 64-bit worker that loads it (every pool with an application)
    "apphost--Gowthamdccpl__AWS-Deployment__applicationHost.config": {("binary-missing", p) for p in CEPIIS_POOLS},
    "apphost--holymosh__computer_graphics_labs__applicationHost.config": set(),
    "apphost--karthickvkumar__docker-react__applicationHost.config": {("pool-undefined", "DefaultAppPool")},
}
"""Real applicationHost.config files: the findings (rule, pool) of a config-only x64 image."""

POOLS = {
    "P64": '<add name="P64" managedRuntimeVersion="v4.0" />',
    "P32": '<add name="P32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />',
    "C64": '<add name="C64" managedRuntimeVersion="v4.0" managedPipelineMode="Classic" />',
    "C32": '<add name="C32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" managedPipelineMode="Classic" />',
}
NOT_WELL_FORMED = {"web--0GiS0__socketio-chatroom-on-azure__web.config": 1}
"""web.config files IIS cannot parse (white space before the XML declaration): a problem at that line, left out."""

IN_PROCESS = {"web--00005591__API_Release__web.config"}
"""ASP.NET Core in process through "dotnet", the published app not in the image: a note that the worker's dotnet (of
its bitness) is not there, and the app's folder reported as not read (its runtimeconfig.json names the runtime)."""

CLASSIC64_LOADS = {
    "web--tasox__Apophis__Templates__ASPX__shellcode_runner_template.aspx":
        "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\aspnet_isapi.dll",
}
"""The one native binary a web.config makes a worker load, in a 64-bit Classic v4.0 pool only (its handler's
preCondition classicMode,runtimeVersionv4.0,bitness64); the CGI handlers run their program out of process (facts D7)."""


def test_every_file_is_listed_once_in_sources() -> None:
    named = [row[0] for row in SOURCES]
    assert len(named) == len(set(named))
    assert set(named) == {p.name for p in REAL.iterdir() if p.name != "SOURCES.tsv"}
    assert all(len(row) == 6 and len(row[3]) == 40 and row[1].count("/") == 1 for row in SOURCES)
    assert set(APPHOST_REFUSED) | set(APPHOST_PINNED) == {p.name for p in APPHOSTS}


@pytest.mark.parametrize("config", APPHOSTS, ids=lambda p: p.name[9:60])
def test_real_apphost_scans_to_its_answer(config: Path, tmp_path: Path) -> None:
    try:
        got = {(f.rule, f.pool) for f in scan(make_image(tmp_path, config)).findings}
    except ConfigError as e:  # NOTE: the CLI's exit 2, naming file and line
        kind, line = APPHOST_REFUSED[config.name]
        assert (e.message.startswith(f"this file is {kind}"), e.line) == (True, line)
    else:
        assert config.name not in APPHOST_REFUSED and got == APPHOST_PINNED[config.name]


@pytest.mark.parametrize("pool", sorted(POOLS))
@pytest.mark.parametrize("web", WEBS, ids=lambda p: p.name[5:60])
def test_real_web_config_in_each_pool(web: Path, pool: str, tmp_path: Path) -> None:
    img = make_image(tmp_path, apphost(POOLS[pool], site("S", 1, pool, r"C:\inetpub\s")), {"inetpub/s/web.config": web})
    res = CliRunner().invoke(main, ["scan", str(img), "--loads", "--format", "json", "-q"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    loads = [e["windows_path"] for e in doc["loads"] if e["verdict"] not in ("skipped", "unknown")]
    assert loads == ([CLASSIC64_LOADS[web.name]] if pool == "C64" and web.name in CLASSIC64_LOADS else [])
    report = scan(img)
    assert [(f.rule, f.severity.label) for f in report.findings] == (
        [("aspnetcore-runtime-missing", "note")] if web.name in IN_PROCESS else [])
    problems = [(p.file, p.line) for p in report.problems]
    if web.name in IN_PROCESS:
        assert problems == [("inetpub/s", None)] and "runtimeconfig.json" in report.problems[0].message
    else:
        assert problems == ([("inetpub/s/web.config", NOT_WELL_FORMED[web.name])] if web.name in NOT_WELL_FORMED else [])


WWWROOT = {"inetpub/wwwroot/index.html": "<p>hi</p>"}
"""The site's folder (``C:\\inetpub\\wwwroot``) in the image: the new worker's application was read."""


def _undefined_pool_fix(img: Path) -> tuple[int, str, str]:
    """``fix IMAGE --apply`` of the image's one pool-undefined finding: exit code, output, the file written."""
    res = CliRunner().invoke(main, ["fix", str(img), "--apply"])
    written = (img / "Windows/System32/inetsrv/config/applicationHost.config").read_bytes().decode("utf-8")
    return res.exit_code, res.output, written


def test_fix_declares_a_pool_where_the_file_has_no_application_pools(tmp_path: Path) -> None:
    """docker-react's applicationHost.config has <sites> only: the root application runs in DefaultAppPool, which it
    does not define (pool-undefined). scan offers "define the pool" as verified; fix refused it (exit 3, "no
    <applicationPools><add> to add pool beside"). It writes a new <applicationPools> in <system.applicationHost>.

    The pool defined is a new worker, which runs the site: verified only where the scan read the site's folder (as
    for a split's new pool); without it, "not verified", saying which folder to give."""
    bare = make_image(tmp_path / "bare", REAL / "apphost--karthickvkumar__docker-react__applicationHost.config")
    [unread] = scan(bare).findings
    assert [x.verified for x in unread.fixes] == [False, False]
    assert all("Not verified: Default Web Site/ (folder C:\\inetpub\\wwwroot is not in the image) was not checked"
               in (x.note or "") for x in unread.fixes)
    img = make_image(tmp_path, REAL / "apphost--karthickvkumar__docker-react__applicationHost.config", WWWROOT)
    code, out, after = _undefined_pool_fix(img)
    assert code == 0, out
    assert ("    </sites>\n    <applicationPools>\n"
            '      <add name="DefaultAppPool" enable32BitAppOnWin64="false" />\n'
            "    </applicationPools>\n  </system.applicationHost>\n") in after
    assert "after line 12: new <applicationPools>" in out and "every targeted finding is gone" in out
    assert scan(img).findings == ()


def test_fix_declares_a_pool_beside_application_pool_defaults(tmp_path: Path) -> None:
    """The same where <applicationPools> holds only <applicationPoolDefaults> (holymosh's minimal server without its
    one <add>, CRLF line ends): the pool is added after the defaults, in the file's line ends."""
    text = (REAL / "apphost--holymosh__computer_graphics_labs__applicationHost.config").read_text("utf-8")
    text = text.replace('      <add name="DefaultAppPool" />\n', "").replace("\n", "\r\n")
    img = make_image(tmp_path, text.encode("utf-8"), WWWROOT)
    assert [(f.rule, f.pool) for f in scan(img).findings] == [("pool-undefined", "DefaultAppPool")]
    code, out, after = _undefined_pool_fix(img)
    assert code == 0, out
    assert ("      </applicationPoolDefaults>\r\n"
            '     <add name="DefaultAppPool" enable32BitAppOnWin64="false" />\r\n   </applicationPools>') in after
    assert scan(img).findings == ()


def test_utf8_file_declared_utf16_is_named_so(tmp_path: Path) -> None:
    """A real configuration written out as UTF-8 under an XML declaration that says UTF-16 (what .NET's or
    PowerShell's XML string gives when saved as UTF-8): exit 2 at line 1 saying so, not libxml2's "Blank needed here";
    as a web.config the same words in a problem that leaves it unread (not one IIS is known to refuse). The same text
    with a UTF-8 byte order mark parses (the mark wins)."""
    text = (REAL / "apphost--karthickvkumar__docker-react__applicationHost.config").read_text("utf-8")
    declared = '<?xml version="1.0" encoding="utf-16"?>\n' + text
    res = CliRunner().invoke(main, ["scan", str(make_image(tmp_path / "a", declared.encode("utf-8")))])
    assert res.exit_code == 2
    assert res.output.startswith("iisbitness: error: Windows/System32/inetsrv/config/applicationHost.config:1: ")
    assert 'declaration says encoding="utf-16", but the file is not UTF-16' in res.output
    assert scan(make_image(tmp_path / "b", b"\xef\xbb\xbf" + declared.encode("utf-8"))).findings
    web = (REAL / "web--tasox__Apophis__Templates__ASPX__shellcode_runner_template.aspx").read_bytes()
    img = make_image(tmp_path / "c", apphost(POOLS["C64"], site("S", 1, "C64", r"C:\inetpub\s")),
                     {"inetpub/s/web.config": web.replace(b'encoding="UTF-8"', b'encoding="UTF-16"', 1)})
    [problem] = scan(img).problems
    assert (problem.file, problem.line) == ("inetpub/s/web.config", 1) and "not UTF-16" in problem.message
    # NOTE: unread, not "IIS refuses": what IIS's own reader makes of the declaration is not known
    assert problem.unread and not problem.refused and "500.19" not in problem.message

