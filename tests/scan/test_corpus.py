"""scan over every real configuration file of ../shared/corpus/iis-config and iis-config-2 (as a
config-only image, and with ``--config``): no crash, the pinned findings, or exit 2 naming file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.config.apphost import read_server
from iisbitness.errors import ConfigError
from iisbitness.image.paths import infer_from_location
from iisbitness.image.server_image import ServerImage
from tests.conftest import CORPUS, apphost, make_image, site

CONFIGS = sorted((CORPUS / "iis-config").glob("*")) if (CORPUS / "iis-config").is_dir() else []
APPHOSTS = [p for p in CONFIGS if "applicationhost" in p.name.lower() and p.suffix.lower() in (".config", ".xdt")]
NOT_XML = {"PrestaShopCorp__skrill__applicationhost.config"}
NOT_APPHOST: dict[str, tuple[str, int]] = {
    # named applicationHost.* but another kind of file: exit 2 naming what it is (issue 12), not an empty server
    "Chocobog__askSalty__applicationHost.config": ("an XML Document Transform", 0),
    "DataDog__datadog-aas-extension__windows__content__applicationHost.xdt": ("an XML Document Transform", 0),
    "KuduApps__CGIPerlApp__site__applicationHost.xdt": ("an XML Document Transform", 0),
    "Sitefinity__AppGatewayHostRewriteModule__applicationHost.xdt": ("an XML Document Transform", 3),
    "projectkudu__phpmyadmin__applicationHost.xdt": ("an XML Document Transform", 0),
    "amundead__lab__applicationHost.config": ("a web.config (or a piece of one", 3),
}
"""File -> (what the message calls it, line; 0 = any line)."""


@pytest.mark.parametrize("config", APPHOSTS, ids=lambda p: p.name[:60])
def test_every_corpus_apphost_scans(config: Path, tmp_path: Path) -> None:
    img = make_image(tmp_path, config, wow64=False)
    if config.name in NOT_XML:
        with pytest.raises(ConfigError) as e:
            scan(img)
        assert e.value.line == 63 and "applicationHost.config" in str(e.value)
        return
    if config.name in NOT_APPHOST:
        kind, line = NOT_APPHOST[config.name]
        with pytest.raises(ConfigError) as e:
            scan(img)
        assert e.value.message.startswith("this file is " + kind) and "not an applicationHost.config" in e.value.message
        assert e.value.line is not None and (line == 0 or e.value.line == line)
        return
    report = scan(img)
    assert report.server.os_arch is Arch.X64  # a config-only image: x64 assumed
    # A config-only image gives a short report: no more than a handful of missing third-party binaries.
    assert sum(f.rule == "binary-missing" for f in report.findings) <= 5


def _pinned(name: str, tmp_path: Path) -> set[tuple[str, str | None, str | None]]:
    src = CORPUS / "iis-config" / name
    if not src.is_file():
        pytest.skip("no shared corpus")
    report = scan(make_image(tmp_path, src, wow64=False))
    return {(f.rule, f.pool, f.binary) for f in report.findings}


def test_pinned_iisnode_without_precondition(tmp_path: Path) -> None:
    assert _pinned("abbrave5__music-library__applicationHost.config", tmp_path) == {
        ("binary-missing", "DefaultAppPool", "%programfiles%\\iisnode\\iisnode.dll")}


def test_pinned_intersystems_module(tmp_path: Path) -> None:
    assert _pinned("mlbakerak__WinIRISBuild__applicationHost.config", tmp_path) == {
        ("binary-missing", "DefaultAppPool", "C:\\Inetpub\\CSPGateway\\CSPms.dll")}


def test_pinned_sharepoint_apppoolname_precondition(tmp_path: Path) -> None:
    """owssvr.dll has preCondition appPoolName=...; only the named pools load it, and the one named pool that has
    applications here, 'pubssp.lmbps.com', is not defined in applicationPools (nor are two more the SharePoint
    sites name): WAS starts no worker for them, so each is one pool-undefined finding and owssvr.dll, which only
    that pool's worker would load, is no binary-missing finding in a worker that never exists (issue 20 point 5).
    The same server's isapiCgiRestriction sets allowed="false" for the v4.0 aspnet_isapi.dll, so its Classic
    v4.0 pool answers .aspx requests with HTTP 404.2 (a note: nothing fails to load; issue 12)."""
    assert _pinned("NCIOCPL__pubslocator__applicationHost.config", tmp_path) == {
        ("pool-undefined", "pubssp.lmbps.com", None), ("pool-undefined", "SecurityTokenServiceApplicationPool", None),
        ("pool-undefined", "GuamTest", None),
        ("isapi-not-allowed", "ASP.NET v4.0 Classic",
         "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\aspnet_isapi.dll")}


def test_pinned_all_pools_32bit_from_defaults(tmp_path: Path) -> None:
    src = CORPUS / "iis-config" / "c1982__IIS-SharedGitConfig__applicationHost.config"
    if not src.is_file():
        pytest.skip("no shared corpus")
    report = scan(make_image(tmp_path, src, wow64=False))
    # NOTE: URL Rewrite's rewrite.dll, reached in SysWOW64 by the 32-bit workers of a configuration-only image, is not
    # one of Windows' own modules: not checked (a warning per pool), never inferred x86 from the folder
    assert {(f.rule, f.severity.name, f.binary) for f in report.findings} == {
        ("binary-missing", "WARNING", "%SystemRoot%\\system32\\inetsrv\\rewrite.dll")}
    assert {p.worker_arch for p in report.pools} == {Arch.X86}
    default = next(p for p in report.pools if p.name == "DefaultAppPool")
    assert default.enable_32bit_from == "applicationPoolDefaults"  # <add name="DefaultAppPool"> has no value of its own


def test_pinned_advanced_logging_inferred_x64(tmp_path: Path) -> None:
    """%ProgramFiles%\\IIS\\Advanced Logging in a 64-bit pool: Microsoft's x64 build, inferred."""
    assert _pinned("Nordstrom__epg-interview-sysadmin__iis__applicationHost.config", tmp_path) == set()


def test_pinned_iis_express_modules_inferred(tmp_path: Path) -> None:
    """%IIS_BIN% modules resolve into IIS Express's own folder: no wall of missing files."""
    assert _pinned("adriano-costa__php-7-2-14_dev__applicationhost.config", tmp_path) == set()


def test_pinned_32bit_pool_with_ancm_programfiles(tmp_path: Path) -> None:
    """ANCM V2 via %ProgramFiles% in a 32-bit pool resolves to Program Files (x86): fits."""
    assert _pinned("coso-configuration__supernova__applicationHost.config", tmp_path) == set()


# -- ../shared/corpus/iis-config-2 (issue 12, part 5) -------------------------------------------------------

CORPUS2 = CORPUS / "iis-config-2"
FILES2 = sorted(p for p in CORPUS2.glob("*") if p.name != "SOURCES.tsv") if CORPUS2.is_dir() else []
ADMIN = "an administration.config"
WEB = "a web.config (or a piece of one"
REDIR = "a redirection.config"

NOT_APPHOST2: dict[str, tuple[str, int]] = {
    "administration--LinhNhut2000__supermarket__administration.config": (ADMIN, 38),
    "administration--Scopetta197__xhr__administration.config": (ADMIN, 38),
    "administration--c1982__IIS-SharedGitConfig__administration.config": (ADMIN, 38),
    "administration--dalawton__eic-inventory__administration.config": (ADMIN, 38),
    "administration--jexuswebserver__JexusManager__Tests__administration.config": (ADMIN, 39),
    "administration--mattgillard__iis-reverse-proxy__administration.config": (ADMIN, 38),
    "other--Sitefinity__FrontDoorHostRewriteModule__applicationHost.xdt": ("an XML Document Transform", 3),
    "other--gustavoesteves__docs-in-general__applicationHost.config": ("a fragment", 1),  # a bare <site>
    "redirection--c1982__IIS-SharedGitConfig__redirection.config": (REDIR, 13),
    "redirection--jexuswebserver__JexusManager__Tests.IIS__redirection.config": (REDIR, 14),
    "webconfig--00007252__DSCC_CW1_7252_API__publish__web.config": (WEB, 3),
    "webconfig--Daksh-khandelwal-1495__TecdiaPrintAutomation__bin__Release__net8.0__win-x86__publish__web.config": (WEB, 3),
    "webconfig--Ganesh2506__OCRPython__Visual Studio 2013__Projects__SampleKVApp__SampleKVApp__Web.config": (WEB, 42),
    "webconfig--MattCarlson22__Assignment6_CSE445__TextToPdfTryIt__Views__web.config": (WEB, 28),
    "webconfig--RickStrahl__West-Wind-Message-Board__web__web.config": (WEB, 55),
    "webconfig--Trannie47__TestSommee__bin__Release__net6.0__publish__web.config": (WEB, 3),
    "webconfig--Trannie47__TestSommee__bin__Release__net6.0__win-x64__publish__web.config": (WEB, 3),
    "webconfig--Trannie47__TestSommee__bin__Release__net6.0__win-x86__publish__publish__web.config": (WEB, 3),
    "webconfig--Trannie47__TestSommee__bin__Release__net6.0__win-x86__publish__web.config": (WEB, 3),
    "webconfig--Trannie47__TestSommee__web.config": (WEB, 3),
    "webconfig--fazliddinangiboev684-bit__boss_telefon__web.config": (WEB, 3),
    "webconfig--lanman78__dockerIIS_1C__web.config": (WEB, 3),
    "webconfig--mattgillard__iis-reverse-proxy__web.config": (WEB, 3),
    "webconfig--pinesandneedles__fwx-domain__web.config": (WEB, 16),
    "webconfig--yokawasa__azure-webapps-logging-original-clientip__web.config": (WEB, 2),
}
"""Not applicationHost.config: exit 2, the message says what the file is, at file:line."""

TRUNCATED2 = {"other--jexuswebserver__JexusManager__Tests__original2_missing_closing.config": 1134}
"""Malformed XML: exit 2 at file:line (the last line is <configuration> instead of </configuration>)."""

Pinned = set[tuple[str, str | None, str | None]]
LAUNCHER = "%LAUNCHER_PATH% is set by Visual Studio at launch, so the path cannot be resolved: a warning, not an error"
PINNED2: dict[str, tuple[Pinned, str]] = {
    "applicationhost--KranzA__windows-powershell-scripts__IIS__applicationHost.config": (set(), "stock, 64-bit pools"),
    "applicationhost--LinhNhut2000__supermarket__applicationHost.config": (
        set(), "stock; the non-ASCII D:\\ physicalPath is reported as a problem (drive not mapped), not a crash"),
    "applicationhost--SignalR__SignalR__build__applicationHost.config": (set(), "stock IIS 8, 64-bit pools"),
    "applicationhost--dalawton__eic-inventory__applicationHost.config": (
        {("binary-missing", "DefaultAppPool",
          "C:\\Program Files\\SentinelOne\\Sentinel Agent 24.2.3.471\\SentinelWSFilter64.dll"),
         ("isapi-not-allowed", "DefaultAppPool", "%windir%\\system32\\inetsrv\\asp.dll")},
        ("winx86_64 preCondition tokens give no false error; the bitness64 filter under a literal C:\\Program Files is "
        "absent and 'Program Files' proves no architecture: binary-missing, not inferred x64; the bitness32 twin "
        "loads in no pool (all 64-bit); isapiCgiRestriction sets asp.dll allowed=\"false\": .asp gets 404.2 (a note)")),
    "applicationhost--dorik84__Web-Server-IIS__applicationHost.config": (set(), "x86 php-cgi.exe runs out of process"),
    "applicationhost--jaimeparramilic__PROYECTO1-INGRESOS__applicationHost.config": (
        set(), "v2.0/v4.0 bitness pairs; E:\\ physicalPath reported as a problem"),
    "applicationhost--shubham23nov__Web-Service-Health-Check__applicationHost.config": (
        set(), ("the 151 AboMapperCustom handlers map Framework\\v2.0.50727\\aspnet_isapi.dll (x86) without bitness, "
               "but every application with them is in a 32-bit pool (enable32BitAppOnWin64=true)")),
    "applicationhost--truonghx147__Test__applicationHost.config": (
        set(), "pool 'Test site' named 'Test Site' by the application: pool names match case-insensitively"),
    "applicationhost--v-junish__etc__applicationHost.config": (set(), "minimal stock"),
    "iisexpress--AkluKun__calculadora-4operacoes__IISExpress__config__applicationhost.config": (
        set(), "IIS Express: %IIS_BIN% modules inferred from IIS Express's own folder; ANCM pairs"),
    "iisexpress--Ganesh2506__OCRPython__IISExpress__config__applicationhost.config": (
        set(), "managedRuntimeLoader=\"v4.0\" on applicationPoolDefaults is not managedRuntimeVersion"),
    "iisexpress--Lincoln-hub__MIlestone-CST391__IISExpress__config__applicationhost.config": (set(), "UTF-8 BOM"),
    "iisexpress--MarkKharitonov__wcf-to-corewcf__applicationhost.config": (
        {("binary-invalid", "CoreWCF.SampleService AppPool", "C:\\work\\wcf-to-corewcf\\publish-wcf\\%LAUNCHER_PATH%"),
         ("binary-invalid", "api AppPool", "C:\\work\\wcf-to-corewcf\\publish-api\\%LAUNCHER_PATH%")}, LAUNCHER),
    "iisexpress--OptimiumHealth__MinimalGRPC__applicationhost.config": (
        {("binary-invalid", "MinimalGRPC AppPool", "C:\\Solutions\\OHI\\MinimalGRPC\\MinimalGRPC\\%LAUNCHER_PATH%")},
        LAUNCHER),
    "iisexpress--aokiji366__DSO34BT__IISExpress__config__applicationhost.config": (
        set(), "managedRuntimeLoader quirk in applicationPoolDefaults"),
    "iisexpress--aspnet__AspNetCoreModule__samples__SampleServer__applicationhost.config": (
        {("binary-invalid", "Clr4IntegratedAppPool", "%ANCM_PATH%\\aspnetcore.dll")},
        "%ANCM_PATH% is a CI variable: unresolvable, a warning (pass --env ANCM_PATH=...)"),
    "iisexpress--camilocantor-cyber__control-gastos__IISExpress__config__applicationhost.config": (
        set(), "Clr2 ManagedEngine pair"),
    "other--MattCarlson22__Assignment6_CSE445__applicationHost.config": (
        set(), "hand-written partial: pools and sites only, nothing loads a native binary"),
    "other--newrelic__newrelic-dotnet-agent__tests__Agent__IntegrationTests__HostedWebCore__applicationHost.config": (
        set(), "Hostable Web Core: only the v4.0 ManagedEngine pair"),
}
"""applicationHost.config files: the findings expected on a config-only x64 image, and why."""


def test_every_corpus2_file_is_pinned() -> None:
    if not FILES2:
        pytest.skip("no shared corpus")
    assert {p.name for p in FILES2} == set(NOT_APPHOST2) | set(TRUNCATED2) | set(PINNED2)


@pytest.mark.parametrize("config", FILES2, ids=lambda p: p.name[:70])
def test_every_corpus2_file_as_config_option(config: Path, tmp_path: Path) -> None:
    """``scan EMPTY --config FILE``: no crash; exit 0/1 with the pinned findings, or 2 naming file and line."""
    empty = tmp_path / "empty"
    (empty / "Windows" / "SysWOW64").mkdir(parents=True)
    res = CliRunner().invoke(main, ["scan", str(empty), "--config", str(config), "--format", "json", "-q"])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    if config.name in NOT_APPHOST2 or config.name in TRUNCATED2:
        kind, line = NOT_APPHOST2.get(config.name) or ("not well-formed XML", TRUNCATED2[config.name])
        assert res.exit_code == 2, res.output
        assert f"iisbitness: error: {config}:{line}: " in res.output
        assert kind in res.output
        return
    expected, reason = PINNED2[config.name]
    doc = json.loads(res.output)
    got = {(f["rule"], f["pool"], f["binary"]) for f in doc["findings"]}
    assert got == expected, reason
    assert not any(f["severity"] == "error" for f in doc["findings"]), reason
    assert res.exit_code == 0
    for f in doc["findings"]:  # every finding names the file and line of its configuration entry
        assert f["config"]["file"] == str(config) and f["config"]["line"] > 0
    for p in doc["problems"]:
        assert p["file"] == str(config) and p["line"] > 0, p


@pytest.mark.parametrize("config", [p for p in FILES2 if p.name in PINNED2 or p.name in NOT_APPHOST2],
                         ids=lambda p: p.name[:70])
def test_every_corpus2_file_as_image_apphost(config: Path, tmp_path: Path) -> None:
    """The same file as the image's own applicationHost.config gives the same answer."""
    img = make_image(tmp_path, config)
    if config.name in NOT_APPHOST2:
        kind, line = NOT_APPHOST2[config.name]
        with pytest.raises(ConfigError) as e:
            scan(img)
        assert e.value.message.startswith("this file is " + kind) and e.value.line == line
        assert e.value.path.endswith("applicationHost.config")
        return
    report = scan(img)
    assert {(f.rule, f.pool, f.binary) for f in report.findings} == PINNED2[config.name][0]


def _corpus2(name: str) -> Path:
    p = CORPUS2 / name
    if not p.is_file():
        pytest.skip("no shared corpus")
    return p


def test_sentinelone_32bit_filter_under_program_files_is_not_inferred(tmp_path: Path) -> None:
    """With the pools made 32-bit, the bitness32 filter C:\\Program Files\\...\\SentinelWSFilter32.dll loads; a
    literal path is not redirected, and 'Program Files' without '(x86)' is no proof of x64: the file is absent,
    so binary-missing (unknown), not isapi-filter-arch (an error from a folder name)."""
    text = _corpus2("applicationhost--dalawton__eic-inventory__applicationHost.config").read_text(encoding="utf-8")
    text = text.replace("<applicationPoolDefaults ", '<applicationPoolDefaults enable32BitAppOnWin64="true" ', 1)
    report = scan(make_image(tmp_path, text))
    assert {p.worker_arch for p in report.pools} == {Arch.X86}
    got = {(f.rule, f.binary) for f in report.findings if f.rule != "isapi-not-allowed"}
    assert got == {("binary-missing", "C:\\Program Files\\SentinelOne\\Sentinel Agent 24.2.3.471\\SentinelWSFilter32.dll")}
    assert infer_from_location("C:\\Program Files\\SentinelOne\\x.dll", Arch.X64) is None


def _site_image(tmp_path: Path, web_config: Path, pool: str) -> Path:
    return make_image(tmp_path, apphost(pool, site("S", 1, pool.split('"')[1], r"C:\inetpub\s")),
                      {"inetpub/s/web.config": web_config})


def test_1c_wsisapi_under_program_files_is_unknown_not_x64(tmp_path: Path) -> None:
    """web.config scanned as what it is: 1C's wsisapi.dll from C:\\Program Files\\1cv8 (no preCondition) in a
    32-bit pool is absent from the image: binary-missing, not a mismatch inferred from 'Program Files'."""
    web = _corpus2("webconfig--fazliddinangiboev684-bit__boss_telefon__web.config")
    report = scan(_site_image(tmp_path, web, '<add name="P32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />'))
    assert [(f.rule, f.binary) for f in report.findings] == [
        ("binary-missing", "C:\\Program Files\\1cv8\\8.3.16.1063\\bin\\wsisapi.dll")]
    assert report.findings[0].config is not None and report.findings[0].config.line == 5


def test_url_rewrite_preconditions_are_not_bitness(tmp_path: Path) -> None:
    """<rewrite><outboundRules> preCondition="ResponseIsHtml1" is URL Rewrite's, not an IIS module preCondition."""
    web = _corpus2("webconfig--mattgillard__iis-reverse-proxy__web.config")
    report = scan(_site_image(tmp_path, web, '<add name="P64" managedRuntimeVersion="v4.0" />'))
    assert report.findings == ()
    assert not any("ResponseIsHtml" in p.message or "preCondition" in p.message for p in report.problems)


def test_two_system_webserver_elements_each_with_handlers_are_refused(tmp_path: Path) -> None:
    """Views/web.config with two <system.webServer>, each holding <handlers> (the second's a Framework64
    aspnet_isapi.dll mapping): one section written twice in one file, which IIS refuses ("Config section
    'system.webServer/handlers' already defined. Sections must only appear once per config file", 0x800700B7): the
    file is left out, said at the second <handlers> (line 45), not read as both merged (the scan did until dupsection).
    Laid out as in its repository: the partial applicationHost.config of the same repository maps
    /texttopdf to ...\\TextToPdfTryIt, whose Views folder holds the web.config."""
    host = _corpus2("other--MattCarlson22__Assignment6_CSE445__applicationHost.config")
    views = _corpus2("webconfig--MattCarlson22__Assignment6_CSE445__TextToPdfTryIt__Views__web.config")
    img = make_image(tmp_path, host, {
        "Users/xplos/Desktop/School/CSE445/Assignment6/TextToPdfTryIt/Views/web.config": views})
    server = read_server(ServerImage.offline(img, {}), Arch.X64, "test")
    app = next(a for s in server.sites for a in s.applications if a.path == "/texttopdf")
    assert not [h for e in app.effects for h in e.handlers if h.source.file.endswith("Views/web.config")]
    [problem] = [p for p in server.problems if p.refused]
    assert problem.file.endswith("Views/web.config") and problem.line == 45, problem
    assert "Config section 'system.webServer/handlers' already defined" in problem.message, problem.message
    assert scan(img).findings == ()


def test_iis_express_managed_runtime_loader_is_not_the_runtime_version(tmp_path: Path) -> None:
    """IIS Express 8's stock applicationPoolDefaults has managedRuntimeLoader="v4.0": not managedRuntimeVersion."""
    config = _corpus2("iisexpress--Ganesh2506__OCRPython__IISExpress__config__applicationhost.config")
    report = scan(make_image(tmp_path, config))
    runtimes = {p.name: (p.managed_runtime_version, p.pipeline_mode) for p in report.pools}
    assert runtimes["Clr4ClassicAppPool"] == ("v4.0", "Classic")
    assert runtimes["Clr2IntegratedAppPool"] == ("v2.0", "Integrated")
    assert runtimes["UnmanagedClassicAppPool"][0] == ""
    assert report.findings == ()


def test_multi_line_handler_is_reported_at_its_first_line(tmp_path: Path) -> None:
    """pinesandneedles' web.config writes <add name="ASPClassic" over lines 41-46; libxml2 numbers an element
    by the line its start tag ends on, which would point the user at 'resourceType="File" />'."""
    web = _corpus2("webconfig--pinesandneedles__fwx-domain__web.config")
    lines = web.read_text(encoding="utf-8-sig").splitlines()
    assert lines[40].strip().startswith('<add name="ASPClassic"') and lines[45].strip().endswith("/>")
    img = _site_image(tmp_path, web, '<add name="P64" managedRuntimeVersion="v4.0" />')
    res = CliRunner().invoke(main, ["scan", str(img), "--loads", "--format", "json", "-q"])
    [asp] = [e for e in json.loads(res.output)["loads"] if e["name"] == "ASPClassic"]
    assert asp["config"] == {"file": "inetpub/s/web.config", "line": 41}
