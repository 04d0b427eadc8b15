"""Coverage (issue 20 point 1): never a clean report over parts that were not read, in every format; and
pools that never start (point 5): one pool-undefined finding, no bitness findings in a worker that never exists."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.cli import main
from iisbitness.formats import scan_html, scan_json, scan_sarif, scan_text
from iisbitness.report import CoverageStatus
from tests.conftest import DEMO, REPO, apphost, corpus_dir, make_image, site
from tests.iis6.test_iis6 import image as iis6_image
from tests.iis6.test_iis6 import metabase
from tests.scan.test_sarif import _validate

SCAN_SCHEMA = json.loads((REPO / "src/iisbitness/formats/schema/scan-2.json").read_text())
LOADS_SCHEMA = json.loads((REPO / "src/iisbitness/formats/schema/loads-1.json").read_text())


def _run(*args: object) -> tuple[int, str]:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code in (0, 1), r.output
    return r.exit_code, r.output


def _demo_without_wwwroot(tmp_path: Path) -> Path:
    img = tmp_path / "demo"
    shutil.copytree(DEMO / "contoso-iis10", img)
    shutil.rmtree(img / "inetpub" / "wwwroot")
    return img


def test_demo_without_wwwroot_says_the_application_was_not_checked_in_every_format(tmp_path: Path) -> None:
    """The LegacyReports.dll error is gone with its folder: the report says Default Web Site/ was not checked, why,
    and what to copy (text block and closing line, load map entry, JSON, SARIF, HTML)."""
    img = _demo_without_wwwroot(tmp_path)
    report = scan(img, ScanOptions(load_map=True))
    assert not [f for f in report.findings if "LegacyReports" in (f.binary or "")]
    [gap, below] = report.unchecked()
    assert (gap.application, gap.status, gap.pool) == ("Default Web Site/", CoverageStatus.NOT_CHECKED, "DefaultAppPool")
    assert gap.reasons == ("folder C:\\inetpub\\wwwroot is not in the image",)
    assert gap.remedy == "copy C:\\inetpub\\wwwroot into the image as inetpub/wwwroot"
    # NOTE: the site root's web.config reaches its child application /wconnect (facts B3): not read, so partly
    assert (below.application, below.status, below.remedy) == ("Default Web Site/wconnect", CoverageStatus.PARTLY,
                                                               gap.remedy)
    assert len(report.coverage) == 9
    assert report.coverage_words() == "1 of 9 applications not checked, 1 partly checked"
    assert report.coverage_counts() == {CoverageStatus.CHECKED: 7, CoverageStatus.PARTLY: 1,
                                        CoverageStatus.NOT_CHECKED: 1}  # the one count JSON and the words read

    text = scan_text.render(report, width=200)
    top = text.index("Coverage: 1 of 9 applications not checked, 1 partly checked")
    assert top < text.index("ERROR ")  # near the top, before the first cause
    assert text.rstrip().splitlines()[-1].endswith("in 7 of 9 pools, inetmgr.exe; 1 of 9 applications not checked, "
                                                   "1 partly checked; 6 verified fixes.")
    # NOTE: the DefaultAppPool flip runs Default Web Site/ at x86, whose folder nobody read: not verified
    [flip] = [x for f in report.findings for x in f.fixes if x.summary.startswith("Run application pool 'DefaultAppPool'")][:1]
    assert flip.verified is False and flip.note is not None
    assert ("Not verified: Default Web Site/ (folder C:\\inetpub\\wwwroot is not in the image) was not checked, so what "
            "it loads at that architecture is unknown" in flip.note), flip.note

    [entry, partly] = [e for e in report.loads or () if e.kind == "application"]
    assert partly.application == "/wconnect" and partly.reason.startswith("partly checked: the web.config files of ")
    assert (entry.pool, entry.verdict.value, entry.site, entry.application) == (
        "DefaultAppPool", "unknown", "Default Web Site", "/")
    assert entry.reason.startswith("not checked: folder C:\\inetpub\\wwwroot is not in the image; give: copy")
    loads = _run("scan", img, "--loads", "--format", "json")[1]
    jsonschema.validate(json.loads(loads), LOADS_SCHEMA)

    doc = json.loads(scan_json.render(report))
    jsonschema.validate(doc, SCAN_SCHEMA)
    assert doc["schema"] == "iisbitness/scan/2"
    assert {k: doc["coverage"][k] for k in ("complete", "checked", "partly_checked", "not_checked")} == {
        "complete": False, "checked": 7, "partly_checked": 1, "not_checked": 1}

    sarif = json.loads(scan_sarif.render(report))
    _validate(sarif)
    [inv] = sarif["runs"][0]["invocations"]
    [note] = [n for n in inv["toolExecutionNotifications"] if n.get("descriptor", {}).get("id") == "coverage/not-checked"]
    assert inv["executionSuccessful"] is True and note["level"] == "error"
    assert note["message"]["text"].startswith("Default Web Site/ was not checked: folder C:\\inetpub\\wwwroot")

    html = scan_html.render([report])
    assert "Not checked</h3>" in html and 'gap-tag">not checked' in html


def test_fail_on_incomplete_exits_1_for_an_application_not_checked(tmp_path: Path) -> None:
    img = _demo_without_wwwroot(tmp_path)
    assert _run("scan", img, "--fail-on", "never")[0] == 0
    assert _run("scan", img, "--fail-on", "never", "--fail-on-incomplete")[0] == 1
    assert _run("scan", DEMO / "contoso-iis10", "--fail-on", "never", "--fail-on-incomplete")[0] == 0


def test_demo_coverage_is_one_short_line() -> None:
    """The demo's applications are all in the image: the closing line says so, and no Coverage block is shown."""
    text = scan_text.render(scan(DEMO / "contoso-iis10"), width=200)
    assert "Coverage:" not in text and "; all 9 applications checked; 8 verified fixes." in text


def test_unmapped_drive_never_gives_a_clean_html_banner(tmp_path: Path) -> None:
    """The only application is on D:, which is not mapped: no finding, but the HTML says what was not checked
    instead of "No bitness problems found", and the remedy is --drive D=...; with --drive it is checked."""
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                               site("S", 1, "P", r"D:\sites\shop")))
    report = scan(img)
    assert not report.findings
    [gap] = report.unchecked()
    assert gap.reasons == ("physicalPath D:\\sites\\shop: drive D: is not mapped",) and gap.remedy == "--drive D=/path/to/copy"
    html = scan_html.render([report])
    assert "No bitness problems found" not in html
    assert "No problems found in what was checked; 1 of 1 application not checked" in html
    assert "no findings in what was read: 1 application not (fully) checked" in html
    assert "✔ no findings" not in html  # NOTE: the pool's card said so over its one application, not read
    d = tmp_path / "d"
    (d / "sites" / "shop").mkdir(parents=True)
    checked = scan(img, ScanOptions(drives={"D": d}))
    html = scan_html.render([checked])
    assert not checked.unchecked() and "No bitness problems found" in html and "✔ no findings" in html
    assert "not (fully) checked" not in html


def test_unc_share_and_unreadable_web_config(tmp_path: Path) -> None:
    """A UNC physicalPath is not checked (unless --share maps it); a root web.config that is not XML leaves its
    application not checked (IIS answers each of its requests with 500.19, so none of its loads was analysed), the
    parse error among the reasons; a virtual directory's absent folder leaves it partly checked."""
    vdir = '<virtualDirectory path="/docs" physicalPath="C:\\docs" />'
    sites = (site("Unc", 1, "P", r"\\fileserver\share\site")
             + site("Broken", 2, "P", r"C:\broken")
             + site("Vdir", 3, "P", r"C:\vdir").replace('</application>', vdir + '</application>', 1))
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />', sites),
                     {"broken/web.config": "<configuration><system.webServer>", "vdir/index.htm": "<p>x</p>"})
    by_app = {c.application: c for c in scan(img).coverage}
    assert by_app["Unc/"].status is CoverageStatus.NOT_CHECKED and "UNC share" in by_app["Unc/"].reasons[0]
    # NOTE: a folder copy has no place for a share: --share maps a copy of it, else the server or its zip
    assert by_app["Unc/"].remedy == ("--share //fileserver/share=/path/to/copy (a folder holding a copy of the "
                                     "share, with site in it), or scan on the server itself, or run iisbitness collect "
                                     "there (the zip holds the share's files) and scan the zip")
    broken = by_app["Broken/"]
    assert broken.status is CoverageStatus.NOT_CHECKED and broken.reasons[0].startswith(
        "IIS answers every request of it with HTTP 500.19 (it refuses broken/web.config")
    assert broken.reasons[1].startswith("broken/web.config") and "left out" in broken.reasons[1]
    vd = by_app["Vdir/"]
    assert vd.status is CoverageStatus.PARTLY
    assert vd.reasons == ("virtual directory /docs: folder C:\\docs is not in the image",)


def test_configuration_only_copy_of_a_real_65_pool_server_is_not_called_clean(tmp_path: Path) -> None:
    """A real 65-pool applicationHost.config without the application folders: no application's bin or web.config
    was read, so every one is not checked, the closing line says so, and --fail-on-incomplete fails."""
    src = corpus_dir("iis-config-2") / "applicationhost--shubham23nov__Web-Service-Health-Check__applicationHost.config"
    img = make_image(tmp_path / "img", src, wow64=False)
    report = scan(img)
    assert len(report.pools) == 65 and len(report.coverage) == 66
    assert all(c.status is CoverageStatus.NOT_CHECKED for c in report.coverage)
    closing = scan_text.render(report, width=300).rstrip().splitlines()[-1]
    assert closing == "0 findings from 0 causes (0 errors, 0 warnings); 66 of 66 applications not checked; 0 verified fixes."
    assert _run("scan", img, "-q")[0] == 0
    assert _run("scan", img, "-q", "--fail-on-incomplete")[0] == 1


def test_undefined_pool_on_iis6_is_one_finding_with_advice(tmp_path: Path) -> None:
    """IIS 6 (worker process isolation): an AppPoolId with no IIsApplicationPool key gets no worker; one finding,
    advice only (adsutil paths differ per server), and the pool table says no worker is defined."""
    body = """<IIsWebVirtualDir\tLocation ="/LM/W3SVC/1/ROOT/shop"
\t\tAppIsolated="2"
\t\tAppPoolId="Missing"
\t\tAppRoot="/LM/W3SVC/1/ROOT/shop"
\t\tPath="c:\\inetpub\\shop"
\t>
</IIsWebVirtualDir>"""
    report = scan(iis6_image(tmp_path, metabase('IIs5IsolationModeEnabled="FALSE"', body=body), {}))
    [f] = [f for f in report.findings if f.rule == "pool-undefined"]
    assert f.pool == "Missing" and f.application == "/shop" and not f.fixes[0].commands
    assert [p.defined for p in report.pools if p.name == "Missing"] == [False]
    assert "none (undefined)" in scan_text.render(report, width=200)
    assert "no worker starts" in scan_html.render([report])


def test_fix_apply_defines_the_undefined_pool_and_the_second_scan_is_clean(tmp_path: Path) -> None:
    """The pool-undefined fix written by fix --apply: an <add> for the pool at the architecture that loads the
    server's x86 global module; the second scan finds nothing (the new worker loads it)."""
    gm = '<globalModules><add name="M" image="C:\\V\\m.dll" /></globalModules>'
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                               site("S", 1, "Ghost", r"C:\s"), gm),
                     {"V/m.dll": "module_x86.dll", "s/index.htm": "<p>x</p>"})
    r = CliRunner().invoke(main, ["fix", str(img), "--apply"])
    assert r.exit_code == 0, r.output
    written = (img / "Windows/System32/inetsrv/config/applicationHost.config").read_text()
    assert '<add name="Ghost" enable32BitAppOnWin64="true" />' in written
    after = scan(img)
    assert not after.findings and [p.defined for p in after.pools if p.name == "Ghost"] == [True]


def test_iis6_in_iis5_isolation_mode_puts_an_unchecked_application_under_inetinfo(tmp_path: Path) -> None:
    """The IIS 6 demo runs IIS 5 isolation mode (no worker processes): an application whose folder is absent is a
    load-map entry of inetinfo.exe, not of a w3wp.exe that does not exist."""
    img = tmp_path / "w2003"
    shutil.copytree(DEMO / "w2003-iis6", img)
    shutil.rmtree(img / "inetpub" / "wconnect")
    report = scan(img, ScanOptions(load_map=True))
    assert [c.application for c in report.unchecked()] == ["Default Web Site/wconnect"]
    [entry] = [e for e in report.loads or () if e.kind == "application"]
    assert (entry.process, entry.name) == ("inetinfo.exe", "Default Web Site/wconnect")


def test_unread_paths_are_quoted_as_windows_writes_them(tmp_path: Path) -> None:
    """A physicalPath on an unmapped drive or with an unknown %VAR% is named with single backslashes in the
    problem and the coverage reason (a Python repr doubled them: 'E:\\\\pubsprod\\\\root' in every format, seen
    on the NCIOCPL corpus configuration), so it pastes into Explorer or robocopy."""
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                               site("S", 1, "P", r"E:\pubs\root") + site("T", 2, "P", r"%NOPE%\t")))
    report = scan(img)
    texts = [p.message for p in report.problems] + [r for a in report.unchecked() for r in a.reasons]
    assert any("'E:\\pubs\\root'" in t for t in texts), texts
    assert any("'%NOPE%\\t'" in t for t in texts), texts
    assert not [t for t in texts if "\\\\" in t], texts


def test_a_server_level_gac_module_not_checked_leaves_its_applications_partly_checked(tmp_path: Path) -> None:
    """A managed module registered by strong name in applicationHost.config, in an image without GAC folders:
    every application whose worker loads it was only partly checked (the closing line said 'all 2 applications
    checked' over it); an application in a No Managed Code pool, which loads no managed module, stays checked."""
    ws = ('<modules><add name="Sso" type="Contoso.Sso.SsoModule, Contoso.Sso, Version=1.0.0.0, Culture=neutral, '
          'PublicKeyToken=0123456789abcdef" /></modules>')
    pools = ('<add name="P" managedRuntimeVersion="v4.0" />'
             '<add name="N" managedRuntimeVersion="" />')
    img = make_image(tmp_path / "img", apphost(pools, site("S", 1, "P", r"C:\inetpub\s") + site("T", 2, "N", r"C:\inetpub\t"),
                                               webserver=ws),
                     {"inetpub/s/default.htm": b"x", "inetpub/t/default.htm": b"x"})
    report = scan(img)
    status = {c.application: c for c in report.coverage}
    assert status["S/"].status is CoverageStatus.PARTLY, status["S/"]
    assert any("Contoso.Sso" in r and "no GAC folder" in r for r in status["S/"].reasons)
    assert "Windows\\Microsoft.NET\\assembly" in status["S/"].remedy  # NOTE: what to give a new scan
    assert status["T/"].status is CoverageStatus.CHECKED, status["T/"]
    assert "1 of 2 applications partly checked" in scan_text.render(report, width=200)


def _demo_with_config_source(tmp_path: Path) -> Path:
    """The demo server with the wconnect web.config's <handlers> and applicationHost.config's <globalModules> each
    kept in a file of their own (configSource=, as IIS reads it: the file's root is the section element)."""
    img = tmp_path / "demo"
    shutil.copytree(DEMO / "contoso-iis10", img)
    web = img / "inetpub" / "wconnect" / "web.config"
    text = web.read_text(encoding="utf-8")
    start, end = text.index("<handlers>"), text.index("</handlers>") + len("</handlers>")
    (web.parent / "Handlers.config").write_text('<?xml version="1.0" encoding="utf-8"?>\n' + text[start:end] + "\n",
                                                encoding="utf-8")
    web.write_text(text[:start] + '<handlers configSource="handlers.config" />' + text[end:], encoding="utf-8")
    host = img / "Windows" / "System32" / "inetsrv" / "config" / "applicationHost.config"
    text = host.read_text(encoding="utf-8")
    start, end = text.index("<globalModules>"), text.index("</globalModules>") + len("</globalModules>")
    (host.parent / "globalModules.config").write_text(text[start:end] + "\n", encoding="utf-8")
    host.write_text(text[:start] + '<globalModules configSource="globalModules.config" />' + text[end:],
                    encoding="utf-8")
    return img


def test_sections_kept_in_a_config_source_file_are_read_from_it(tmp_path: Path) -> None:
    """<handlers configSource="handlers.config" /> in a web.config and <globalModules configSource=...> in
    applicationHost.config: IIS reads the section from that file, so does the scan (the wc.dll and vendorauth.dll
    errors were silently gone and the report said all 9 applications checked), naming the file and its line."""
    report = scan(_demo_with_config_source(tmp_path))
    wc = [f for f in report.findings if f.rule == "isapi-extension-arch"]
    assert [(f.config.file, f.config.line) for f in wc if f.config] == [("inetpub/wconnect/Handlers.config", 3)]
    vendor = [f for f in report.findings if f.rule == "global-module-arch"]
    assert vendor and {(f.config.file, f.config.line) for f in vendor} == {
        ("Windows/System32/inetsrv/config/globalModules.config", 12)}
    assert not report.unchecked()


def test_fix_apply_edits_a_global_module_where_its_config_source_file_keeps_it(tmp_path: Path) -> None:
    """The preCondition fix of a global module kept in globalModules.config edits that file (it was refused:
    'no global module' in applicationHost.config), and its <modules> entry in applicationHost.config."""
    img = _demo_with_config_source(tmp_path)
    # NOTE: it takes the security module out of pools, so fix takes it only by number (the demo's [8])
    r = CliRunner().invoke(main, ["fix", str(img), "--apply", "--fix", "8"])
    assert r.exit_code == 0, r.output
    config = img / "Windows" / "System32" / "inetsrv" / "config"
    assert 'vendorauth.dll" preCondition="bitness32"' in (config / "globalModules.config").read_text(encoding="utf-8")
    assert '<add name="FabrikamVendorAuth" preCondition="bitness32" />' in (
        config / "applicationHost.config").read_text(encoding="utf-8")


def test_a_config_source_file_that_cannot_be_read_leaves_its_application_partly_checked(tmp_path: Path) -> None:
    """A configSource file absent from the image (or climbing out of the folder, which IIS refuses): what the
    section holds was not read; the application is partly checked, the reason naming the file and line."""
    img = _demo_with_config_source(tmp_path)
    (img / "inetpub" / "wconnect" / "Handlers.config").unlink()
    report = scan(img)
    assert not [f for f in report.findings if f.rule == "isapi-extension-arch"]
    [gap] = report.unchecked()
    assert (gap.application, gap.status) == ("Default Web Site/wconnect", CoverageStatus.PARTLY)
    assert gap.reasons[0].startswith("inetpub/wconnect/web.config: <handlers configSource=\"handlers.config\">"), gap


def test_url_rewrite_rules_kept_in_a_file_of_their_own_are_not_a_gap(tmp_path: Path) -> None:
    """<rewrite><rules configSource="Rewrite.config" /> (URL Rewrite's common layout) names no binary: a copy without
    that file leaves nothing about loads unread, so the application stays checked (no problem, no partial)."""
    img = tmp_path / "demo"
    shutil.copytree(DEMO / "contoso-iis10", img)
    web = img / "inetpub" / "wwwroot" / "web.config"
    web.write_text(web.read_text(encoding="utf-8").replace(
        "</configuration>", '<system.webServer><rewrite><rules configSource="Rewrite.config" /></rewrite>'
        "</system.webServer></configuration>"), encoding="utf-8")
    report = scan(img)
    assert not report.unchecked() and not [p for p in report.problems if "configSource" in p.message]


def _demo_with_sites_kept_apart(tmp_path: Path) -> Path:
    """The IIS 10 demo with its ``<sites>`` moved into sites.config (``configSource``), which the scan does not read."""
    img = tmp_path / "demo"
    shutil.copytree(DEMO / "contoso-iis10", img)
    host = img / "Windows" / "System32" / "inetsrv" / "config" / "applicationHost.config"
    text = host.read_text(encoding="utf-8")
    start, end = text.index("<sites>"), text.index("</sites>") + len("</sites>")
    (host.parent / "sites.config").write_text(text[start:end], encoding="utf-8")
    host.write_text(text[:start] + '<sites configSource="sites.config" />' + text[end:], encoding="utf-8")
    return img


def test_sites_kept_in_a_config_source_file_are_said_not_read(tmp_path: Path) -> None:
    """<sites configSource="sites.config" /> in applicationHost.config: the scan does not read that file, and said
    nothing (0 findings over no site at all); now a problem names the section, its line and what was not checked."""
    img = _demo_with_sites_kept_apart(tmp_path)
    report = scan(img)
    [gap] = [p for p in report.problems if "configSource" in p.message]
    assert gap.unread and gap.file == "Windows/System32/inetsrv/config/applicationHost.config" and gap.line
    assert gap.message.startswith('<sites configSource="sites.config">: the sites and their applications kept in '
                                  "sites.config are not read"), gap
    [entry] = report.unchecked()  # NOTE: no application at all: the file's own entry, so coverage is not complete
    assert (entry.application, entry.status) == (gap.file, CoverageStatus.NOT_CHECKED), entry


def test_a_config_source_file_of_application_host_config_missing_leaves_every_application_partly_checked(
        tmp_path: Path) -> None:
    """<globalModules configSource="globalModules.config" /> with no such file: every worker's global modules were
    not read, so no application is fully checked (the report said "all 9 applications checked")."""
    img = _demo_with_config_source(tmp_path)
    (img / "Windows" / "System32" / "inetsrv" / "config" / "globalModules.config").unlink()
    report = scan(img)
    assert not [f for f in report.findings if f.rule == "global-module-arch"]
    gaps = report.unchecked()
    assert len(gaps) == len(report.coverage) == 9 and {g.status for g in gaps} == {CoverageStatus.PARTLY}
    assert all(any(r.startswith("Windows/System32/inetsrv/config/applicationHost.config: <globalModules "
                                'configSource="globalModules.config">: the file is not in the image')
                   for r in g.reasons) for g in gaps), gaps


def test_a_section_read_from_a_config_source_file_of_application_host_config_says_iis_may_not(tmp_path: Path) -> None:
    """IIS may not honour configSource in applicationHost.config (dotnet/aspnetcore#4151): the section is read and
    the report says so, once, at the section's line; a web.config's configSource gets no such note."""
    report = scan(_demo_with_config_source(tmp_path))
    notes = [p for p in report.problems if "may not honour configSource" in p.message]
    assert [(p.file, p.unread) for p in notes] == [("Windows/System32/inetsrv/config/applicationHost.config", False)]
    assert notes[0].message.startswith('<globalModules configSource="globalModules.config">: read from '
                                       "Windows/System32/inetsrv/config/globalModules.config;"), notes


def test_a_scan_that_could_not_list_one_application_exits_2_in_every_format(tmp_path: Path) -> None:
    """<sites> kept in a file not read: not one application was checked, yet plain scan exited 0 ("1 of 1
    application not checked"), so a pipeline gating on the exit code passed a server nobody checked. Now every
    format (and --loads, fix) writes its report, which says what was not read, and exits 2 whatever --fail-on,
    naming the file and line on stderr, as for other unreadable input; SARIF says the run did not succeed."""
    img = _demo_with_sites_kept_apart(tmp_path)
    report = scan(img)
    assert report.checked_nothing()
    where = "Windows/System32/inetsrv/config/applicationHost.config:40: <sites configSource=\"sites.config\">"
    assert report.unread_inputs()[0].startswith(where), report.unread_inputs()
    for args in (["--format", "text"], ["--format", "json"], ["--format", "sarif"], ["--format", "html"],
                 ["--loads"], ["--loads", "--format", "json"], ["--fail-on", "never"], ["--fail-on-incomplete"]):
        res = CliRunner().invoke(main, ["scan", str(img), "--quiet", *args])
        assert res.exit_code == 2, (args, res.output)
        assert res.stdout and res.stderr.startswith(f"iisbitness: error: {where}"), (args, res.stderr)
        assert f"iisbitness: error: nothing was checked in {img}: no application could be listed" in res.stderr
    assert json.loads(scan_json.render(report))["coverage"]["complete"] is False
    [inv] = json.loads(scan_sarif.render(report))["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False
    assert scan_text.render(report, width=200).rstrip().splitlines()[-1] == (
        "0 findings from 0 causes (0 errors, 0 warnings); nothing checked: no application could be listed "
        "(1 input not read); 0 verified fixes.")
    narrow = scan_text.render(report, width=80).splitlines()  # NOTE: the Coverage heading wraps like other prose
    at = narrow.index("  finding about what was not read means nothing:") - 1
    assert narrow[at].startswith("Coverage: nothing") and max(len(line) for line in narrow[at:]) <= 80, narrow
    html = scan_html.render([report])
    assert "No problems found in what was checked" not in html and "Nothing was checked" in html
    for args in ([], ["--apply"]):  # NOTE: "No verified fix to make" over nothing read is no all-clear either
        res = CliRunner().invoke(main, ["fix", str(img), *args])
        assert res.exit_code == 2 and "nothing was checked in" in res.stderr, res.output
    publish = tmp_path / "publish"
    publish.mkdir()
    (publish / "web.config").write_text('<?xml version="1.0"?>\n<configuration />\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["check-app", str(publish), "--server", str(img), "--site", "Default Web Site/"])
    assert res.exit_code == 2 and 'configSource="sites.config">: the sites kept in sites.config are not read' in \
        res.stderr, res.output


def test_applications_listed_but_not_read_are_a_partial_scan_not_exit_2(tmp_path: Path) -> None:
    """A configuration-only image (the gate docs/ci.md shows) lists its applications and checks the server's own
    configuration against each pool: a partial scan, exit 0 or 1 as before, never 2; --fail-on-incomplete gates it.
    The unmapped drive's single application is the same: "1 of 1 application not checked" is a listed one."""
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                               site("S", 1, "P", r"D:\sites\shop")))
    report = scan(img)
    assert report.coverage_words() == "1 of 1 application not checked" and not report.checked_nothing()
    assert _run("scan", img)[0] == 0 and _run("scan", img, "--fail-on-incomplete")[0] == 1
    src = corpus_dir("iis-config-2") / "applicationhost--shubham23nov__Web-Service-Health-Check__applicationHost.config"
    corpus = scan(make_image(tmp_path / "corpus", src, wow64=False))
    assert not corpus.checked_nothing() and corpus.coverage_words() == "66 of 66 applications not checked"


def test_fix_text_says_what_was_not_checked(tmp_path: Path) -> None:
    """``fix``'s plan said only "No verified fix to make" over a server nobody checked (stdout; stderr said why),
    and nothing of an application left out: its text now carries scan's coverage words when coverage is not whole."""
    nothing = CliRunner().invoke(main, ["fix", str(_demo_with_sites_kept_apart(tmp_path / "a"))])
    assert "Coverage: nothing checked: no application could be listed" in nothing.stdout, nothing.stdout
    partial = CliRunner().invoke(main, ["fix", str(_demo_without_wwwroot(tmp_path / "b")), "--fix", "1"])
    assert "Coverage: 1 of 9 applications not checked" in partial.stdout, partial.stdout
    whole = CliRunner().invoke(main, ["fix", str(DEMO / "contoso-iis10"), "--fix", "1"])
    assert "Coverage" not in whole.stdout


FIX_SCHEMA = json.loads((REPO / "src/iisbitness/formats/schema/fix-1.json").read_text())


def test_fix_json_carries_the_scan_s_coverage(tmp_path: Path) -> None:
    """``fix --format json`` had no coverage: a fix list over a server of which an application (or everything) was
    not read read as complete. Its ``coverage`` is now scan's, the same object with the same words, in every case
    (whole, partial, nothing listed), and the exit code stays 2 when nothing was checked, as for scan."""
    cases = ((DEMO / "contoso-iis10", ["--fix", "1"], True, 0), (_demo_without_wwwroot(tmp_path / "b"), ["--fix", "1"], False, 0),
             (_demo_with_sites_kept_apart(tmp_path / "a"), [], False, 2))
    for img, extra, complete, code in cases:
        fixed = CliRunner().invoke(main, ["fix", str(img), "--format", "json", *extra])
        scanned = CliRunner().invoke(main, ["scan", str(img), "--format", "json", "--quiet"])
        doc = json.loads(fixed.stdout)
        jsonschema.validate(doc, FIX_SCHEMA)
        assert doc["coverage"] == json.loads(scanned.stdout)["coverage"] and doc["coverage"]["complete"] is complete
        assert fixed.exit_code == code, (img, fixed.stderr)
    assert doc["coverage"]["not_checked"] == 1 and scanned.exit_code == 2
    [gap] = doc["coverage"]["applications"]
    assert gap["status"] == "not-checked" and gap["application"].endswith("applicationHost.config")
    # NOTE: one contract for both documents: the fix schema's coverage is the scan schema's
    assert FIX_SCHEMA["properties"]["coverage"] == SCAN_SCHEMA["properties"]["coverage"]


_PARENT_HANDLER = """<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.webServer>
    <handlers>
      <add name="Reports" path="*.rpt" verb="*" modules="IsapiModule" scriptProcessor="C:\\isapi\\rpt.dll" />
    </handlers>
  </system.webServer>
</configuration>
"""


def _nested_on_d(tmp_path: Path) -> Path:
    """Site S: its root application on D: (not mapped unless --drive), a child application /child on C: in pool
    P (x64), whose bin holds an AnyCPU assembly; C:\\isapi\\rpt.dll an x86 ISAPI extension the ISAPI and CGI
    restrictions allow."""
    child = ('<application path="/child" applicationPool="P">'
             '<virtualDirectory path="/" physicalPath="C:\\sites\\child" /></application>')
    restrict = ('<security><isapiCgiRestriction notListedIsapisAllowed="true" notListedCgisAllowed="true" />'
                '</security>')
    return make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                                site("S", 1, "P", r"D:\sites\s", child), restrict,
                                                '<modules><add name="IsapiModule" /></modules>'),
                      {"sites/child/bin/App.dll": "managed_anycpu.dll", "isapi/rpt.dll": "isapi_ext_x86.dll"})


def test_a_child_application_under_an_unread_parent_folder_is_partly_checked(tmp_path: Path) -> None:
    """Configuration follows URLs into child applications (facts B3): the web.config of a site root on a drive that
    is not mapped reaches its child application on C:, which was called "checked" (and check-app's JSON
    ``complete``) over it. With --drive the parent's handler shows in the child: what was not read mattered."""
    img = _nested_on_d(tmp_path)
    report = scan(img)
    by_app = {c.application: c for c in report.coverage}
    assert by_app["S/"].status is CoverageStatus.NOT_CHECKED
    child = by_app["S/child"]
    assert child.status is CoverageStatus.PARTLY, child
    assert child.reasons == (
        "the web.config files of S/ reach it and were not read (physicalPath D:\\sites\\s: drive D: is not mapped)",)
    assert child.remedy == "--drive D=/path/to/copy"
    assert not report.findings
    d = tmp_path / "d"
    (d / "sites" / "s").mkdir(parents=True)
    (d / "sites" / "s" / "web.config").write_text(_PARENT_HANDLER, encoding="utf-8")
    mapped = scan(img, ScanOptions(drives={"D": d}))
    assert not mapped.unchecked()
    assert {(f.rule, f.application) for f in mapped.findings if f.rule == "isapi-extension-arch"} == {
        ("isapi-extension-arch", "/"), ("isapi-extension-arch", "/child")}
    publish = tmp_path / "publish"
    (publish / "bin").mkdir(parents=True)
    shutil.copy(REPO / "tests/fixtures/pe/bin/managed_anycpu.dll", publish / "bin" / "App.dll")
    res = CliRunner().invoke(main, ["check-app", str(publish), "--server", str(img), "--site", "S/child",
                                    "--format", "json", "--fail-on-incomplete"])
    assert res.exit_code == 1, res.output
    cov = json.loads(res.stdout)["coverage"]
    assert (cov["complete"], cov["partly_checked"]) == (False, 1), cov


def test_a_web_config_iis_refuses_above_a_child_application_leaves_it_not_checked(tmp_path: Path) -> None:
    """A web.config that is not well-formed in the parent application's folder ``sub`` is read for every URL below
    /sub, the child application /sub/child's too (HTTP 500.19 there as well): that child is not checked (none of its
    loads happens, so none was analysed), the file named; the parent, whose other URLs run, partly checked; /other,
    whose URL is not below /sub, stays checked."""
    apps = ('<application path="/sub/child" applicationPool="P">'
            '<virtualDirectory path="/" physicalPath="C:\\sites\\child" /></application>'
            '<application path="/other" applicationPool="P">'
            '<virtualDirectory path="/" physicalPath="C:\\sites\\other" /></application>')
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                               site("S", 1, "P", r"C:\sites\s", apps)),
                     {"sites/s/sub/web.config": "<configuration><system.webServer>", "sites/s/index.htm": "x",
                      "sites/child/index.htm": "x", "sites/other/index.htm": "x"})
    by_app = {c.application: c for c in scan(img).coverage}
    assert by_app["S/"].status is CoverageStatus.PARTLY
    child = by_app["S/sub/child"]
    assert child.status is CoverageStatus.NOT_CHECKED and child.reasons[0].startswith(
        "IIS answers every request of it with HTTP 500.19 (it refuses sites/s/sub/web.config:"), child
    assert child.reasons[1].startswith("sites/s/sub/web.config:"), child
    assert by_app["S/other"].status is CoverageStatus.CHECKED


def test_what_a_parent_application_alone_did_not_read_stays_its_own(tmp_path: Path) -> None:
    """An in-process ASP.NET Core site root whose runtimeconfig.json is not in the image (its web.config wraps its
    settings in ``inheritInChildApplications="false"``, as the publish template does) is partly checked; its child
    application, which neither that runtime nor those files concern, stays checked."""
    web = ('<?xml version="1.0"?>\n<configuration><location path="." inheritInChildApplications="false">'
           '<system.webServer><handlers><add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" '
           'resourceType="Unspecified" /></handlers><aspNetCore processPath="dotnet" arguments=".\\\\Shop.dll" '
           'hostingModel="inprocess" /></system.webServer></location></configuration>\n')
    child = ('<application path="/child" applicationPool="P">'
             '<virtualDirectory path="/" physicalPath="C:\\sites\\child" /></application>')
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="" />',
                                               site("S", 1, "P", r"C:\sites\s", child)),
                     {"sites/s/web.config": web, "sites/child/index.htm": "x"})
    by_app = {c.application: c for c in scan(img).coverage}
    assert by_app["S/"].status is CoverageStatus.PARTLY and "runtimeconfig.json" in by_app["S/"].reasons[0]
    assert by_app["S/child"].status is CoverageStatus.CHECKED, by_app["S/child"]


def test_a_child_application_below_an_unread_virtual_directory_of_its_parent_is_partly_checked(tmp_path: Path) -> None:
    """The site root's virtual directory /docs points at a folder the image lacks; the application /docs/app (its own
    folder read) lies below that URL, so web.config files there reach it: partly checked, the virtual directory
    named; /other is not below it and stays checked."""
    vdir = '<virtualDirectory path="/docs" physicalPath="C:\\docs" />'
    apps = ('<application path="/docs/app" applicationPool="P">'
            '<virtualDirectory path="/" physicalPath="C:\\sites\\app" /></application>'
            '<application path="/other" applicationPool="P">'
            '<virtualDirectory path="/" physicalPath="C:\\sites\\other" /></application>')
    sites = site("S", 1, "P", r"C:\sites\s", apps).replace("</application>", vdir + "</application>", 1)
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />', sites),
                     {"sites/s/index.htm": "x", "sites/app/index.htm": "x", "sites/other/index.htm": "x"})
    by_app = {c.application: c for c in scan(img).coverage}
    assert by_app["S/docs/app"].status is CoverageStatus.PARTLY
    [why] = by_app["S/docs/app"].reasons
    assert why == ("the web.config files of S/, virtual directory /docs reach it and were not read (folder C:\\docs "
                   "is not in the image)")
    assert by_app["S/docs/app"].remedy == "copy C:\\docs into the image as docs"
    assert by_app["S/other"].status is CoverageStatus.CHECKED


def test_closing_line_does_not_name_w3wp_as_a_process_outside_the_pools(tmp_path: Path) -> None:
    """The demo with a partial inetsrv copy (isapi.dll absent from System32\\inetsrv, static.dll from SysWOW64's):
    binary-missing's grouped warnings are about every worker of an architecture ("in w3wp.exe x64"), with no pool. The
    closing line listed "w3wp.exe" beside inetmgr.exe as a process outside the pools (user audit 2026-12-07)."""
    img = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", img)
    (img / "Windows/System32/inetsrv/isapi.dll").unlink()
    (img / "Windows/SysWOW64/inetsrv/static.dll").unlink()
    r = CliRunner().invoke(main, ["scan", str(img), "--no-color", "--quiet"])
    closing = " ".join(r.stdout.split()).rsplit("Fixes (", 1)[-1]
    assert "in 7 of 9 pools, inetmgr.exe; 9 of 9 applications partly checked" in closing
    assert "w3wp.exe;" not in closing
