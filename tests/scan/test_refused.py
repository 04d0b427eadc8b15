"""Configuration IIS itself refuses is reported as such (``Problem.refused``), never under a clean report.

A real IIS 8.5 applicationHost.config of the corpus (c1982/IIS-SharedGitConfig) and a real web.config, copied into
temporary images and changed in one place each: a pool name with a character IIS's ``applicationPoolName``
validator refuses, an ``<application>`` without ``path``, a web.config setting ``globalModules``
(``allowDefinition="AppHostOnly"``). Each must name the file and line, say what IIS does with it, keep the report
from reading clean (the text's closing line, ``--fail-on-incomplete``; a web.config's leaves its application partly
checked: what it configures was not analysed), and reach text, JSON (``problems[].refused``, schema-valid), SARIF
(an ``error`` notification, ``config/refused-by-iis``) and HTML.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from lxml import etree

from iisbitness.cli import main
from iisbitness.config.apphost import refused_pool_name
from tests.conftest import DEMO, REPO, apphost, corpus_dir, make_image, site
from tests.scan.test_sarif import _validate as validate_sarif

SCAN_SCHEMA = json.loads((REPO / "src/iisbitness/formats/schema/scan-2.json").read_text())
APPHOST = "Windows/System32/inetsrv/config/applicationHost.config"


def _image(tmp_path: Path, edit: tuple[str, str] | None, files: dict[str, str] | None = None) -> tuple[Path, str]:
    """A configuration-only image of the corpus server with ``edit`` (old, new: old must occur) applied, and
    ``files`` (image-relative path -> text)."""
    text = (corpus_dir("iis-config") / "c1982__IIS-SharedGitConfig__applicationHost.config").read_text("utf-8-sig")
    if edit is not None:
        assert edit[0] in text
        text = text.replace(*edit)
    image = tmp_path / "img"
    (image / APPHOST).parent.mkdir(parents=True)
    (image / APPHOST).write_text(text, encoding="utf-8")
    (image / "Windows/SysWOW64").mkdir(parents=True)
    for rel, content in (files or {}).items():
        (image / rel).parent.mkdir(parents=True, exist_ok=True)
        (image / rel).write_text(content, encoding="utf-8")
    return image, text


def _line(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _scan(image: Path, fmt: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["scan", str(image), "--format", fmt])
    return r.exit_code, r.stdout


def _refused(image: Path) -> list[dict[str, Any]]:
    """The refused problems of the image's JSON report (schema-valid), after checking that the report does not read
    clean: the closing line of the text says so, and --fail-on-incomplete fails on it."""
    code, out = _scan(image, "json")
    assert code in (0, 1), out
    doc = json.loads(out)
    jsonschema.validate(doc, SCAN_SCHEMA)
    refused = [p for p in doc["problems"] if p.get("refused")]
    text = " ".join(_scan(image, "text")[1].split())  # NOTE: the closing line may wrap
    n = len(refused)
    assert f"; IIS refuses {n} part{'s' if n != 1 else ''} of this configuration (see IIS refuses)" in text, text
    r = CliRunner().invoke(main, ["scan", str(image), "--fail-on", "never", "--fail-on-incomplete"])
    assert r.exit_code == 1, r.output
    return refused


def _sarif_refused(image: Path) -> list[dict[str, Any]]:
    code, out = _scan(image, "sarif")
    assert code in (0, 1), out
    log = json.loads(out)
    validate_sarif(log)
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    return [n for n in notes if n.get("descriptor", {}).get("id") == "config/refused-by-iis"]


def test_a_pool_name_iis_refuses(tmp_path: Path) -> None:
    """``ikinci.com`` renamed ``ikinci:com`` (the pool and the application that names it): IIS_schema.xml's
    applicationPoolName validator refuses ':' and IIS fails reading the section; before, the scan said nothing."""
    image, text = _image(tmp_path, ('"ikinci.com"', '"ikinci:com"'))
    refused = _refused(image)
    assert [(p["file"], p["line"]) for p in refused] == [
        (APPHOST, _line(text, '<add name="ikinci:com"')), (APPHOST, _line(text, 'applicationPool="ikinci:com"'))]
    assert "'ikinci:com' holds ':', which IIS refuses in a pool name" in refused[0]["message"]
    assert "system.applicationHost/applicationPools" in refused[0]["message"]
    assert "system.applicationHost/sites" in refused[1]["message"]
    [note, _] = _sarif_refused(image)
    assert note["level"] == "error" and note["locations"][0]["physicalLocation"]["region"]["startLine"] == refused[0][
        "line"]
    out = _scan(image, "text")[1]
    assert "IIS refuses (2):" in out and f"applicationHost.config:{refused[0]['line']}: application pool name" in out
    html = _scan(image, "html")[1]
    assert "<h3>IIS refuses (2)</h3>" in html and "Could not read" not in html


def test_a_default_pool_name_iis_refuses(tmp_path: Path) -> None:
    """``<applicationDefaults applicationPool>`` has the same validator as an application's own attribute."""
    image, text = _image(tmp_path, ('<applicationDefaults applicationPool="DefaultAppPool" />',
                                    '<applicationDefaults applicationPool="Default,AppPool" />'))
    [problem] = _refused(image)
    assert problem["line"] == _line(text, '<applicationDefaults applicationPool="Default,AppPool"')
    assert problem["message"].startswith("the applicationDefaults of <sites>: applicationPool 'Default,AppPool' "
                                         "holds ',', which IIS refuses in a pool name"), problem


def test_a_pool_without_a_name(tmp_path: Path) -> None:
    """``name`` is required="true" in the schema: a pool ``<add>`` without it is refused as well."""
    image, text = _image(tmp_path, ('<add name=".NET v4.5" managedRuntimeVersion="v4.0" />',
                                    '<add managedRuntimeVersion="v4.0" />'))
    [problem] = _refused(image)
    assert problem["line"] == _line(text, '<add managedRuntimeVersion="v4.0" />')
    assert problem["message"].startswith("an application pool's name is missing, which IIS requires: IIS fails "
                                         "reading the system.applicationHost/applicationPools section"), problem


def test_a_pool_defined_twice(tmp_path: Path) -> None:
    """A second ``<add>`` of one pool: IIS refuses the file (0x800700B7, KB 942055). The scan said so under
    "Could not read", as if it were its own difficulty, and its report read clean otherwise."""
    pool = '<add name="DefaultAppPool" />'
    image, text = _image(tmp_path, (pool, f'{pool}\n            <add name="defaultapppool" enable32BitAppOnWin64="true" />'))
    [problem] = _refused(image)
    assert problem["line"] == _line(text, '<add name="defaultapppool"') and "0x800700B7" in problem["message"]


def test_an_application_without_path(tmp_path: Path) -> None:
    """An ``<application>`` without ``path`` was taken for the site's root; IIS requires the attribute and fails
    reading the sites section. It is left out, and every other application is at most partly checked."""
    old = '<application path="/" applicationPool="deneme.com">'
    image, text = _image(tmp_path, (old, '<application applicationPool="deneme.com">'))
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == (APPHOST, _line(text, '<application applicationPool="deneme.com">'))
    assert "<application> of site 'deneme.com' has no path, which IIS requires" in problem["message"]
    doc = json.loads(_scan(image, "json")[1])
    apps = [a["application"] for a in doc["coverage"]["applications"]]
    assert "deneme.com/" not in apps and apps, apps
    assert len(_sarif_refused(image)) == 1


@pytest.mark.parametrize("where", ["top", "location"])
def test_a_web_config_setting_global_modules(tmp_path: Path, where: str) -> None:
    """A real web.config (i-e-b/RawIsapi) given a ``<globalModules>`` section, at its own level or in a
    ``<location>``: IIS allows the section only in applicationHost.config and answers HTTP 500.19; the scan never
    read the module from there and said nothing."""
    web = (corpus_dir("iis-config") / "i-e-b__RawIsapi__web.config").read_text("utf-8")
    module = ('<globalModules>\n            <add name="Shim" image="C:\\shim\\shim.dll" />\n'
              '        </globalModules>')
    if where == "top":
        web = web.replace("<system.webServer>", f"<system.webServer>\n        {module}")
    else:
        web = web.replace("</configuration>", f'<location path="api">\n<system.webServer>\n{module}\n'
                                               "</system.webServer>\n</location>\n</configuration>")
    image, _ = _image(tmp_path, None, {"vhosts/ikinci.com/http/web.config": web})
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == ("vhosts/ikinci.com/http/web.config", _line(web, "<globalModules>"))
    assert "HTTP 500.19" in problem["message"] and "system.webServer/globalModules" in problem["message"]
    assert "allowDefinition=\"AppHostOnly\", declared so at " + APPHOST in problem["message"], problem["message"]
    doc = json.loads(_scan(image, "json")[1])
    [app] = [a for a in doc["coverage"]["applications"] if a["application"] == "ikinci.com/"]
    # NOTE: IIS refuses the file for every URL it is read for, whatever <location> holds the section: the site's root
    # application answers every request with 500.19, so nothing of it was analysed
    assert app["status"] == "not-checked" and any("globalModules" in r for r in app["reasons"]), app
    assert app["reasons"][0].startswith("IIS answers every request of it with HTTP 500.19 (it refuses "
                                        "vhosts/ikinci.com/http/web.config:"), app
    assert not any("shim" in f["binary"].lower() for f in doc["findings"])  # NOTE: IIS never loads it from here


def test_a_web_config_setting_sections_below_security_is_refused_for_each_in_file_order(tmp_path: Path) -> None:
    """The AppHostOnly check walks a web.config's sections as the lock reader walks applicationHost.config's
    (locks.section_elements): ``security/isapiCgiRestriction`` two levels down, each problem in file order (before:
    every direct section first, ``<globalModules>`` before the ``<security>`` above it)."""
    web = (corpus_dir("iis-config") / "i-e-b__RawIsapi__web.config").read_text("utf-8")
    web = web.replace("<system.webServer>", '<system.webServer>\n<security>\n<isapiCgiRestriction>\n'
                      '<add path="C:\\shim\\shim.dll" allowed="true" />\n</isapiCgiRestriction>\n</security>\n'
                      '<globalModules>\n<add name="Shim" image="C:\\shim\\shim.dll" />\n</globalModules>', 1)
    image, _ = _image(tmp_path, None, {"vhosts/ikinci.com/http/web.config": web})
    problems = _refused(image)
    assert [p["line"] for p in problems] == [_line(web, "<isapiCgiRestriction>"), _line(web, "<globalModules>")]
    assert "system.webServer/security/isapiCgiRestriction" in problems[0]["message"]

def test_a_server_read_whole_with_a_pool_name_iis_refuses_is_not_clean(tmp_path: Path) -> None:
    """Every folder in the image and no finding: the report read clean ("all 1 application checked", HTML's ✔)
    over a pool IIS cannot read. Now the closing line and the HTML say that IIS refuses it."""
    image = make_image(tmp_path / "img", apphost('<add name="Shop &amp; Co" />',
                                                  site("Shop", 1, "Shop &amp; Co", "C:\\inetpub\\shop")),
                       {"inetpub/shop/default.htm": "<p>shop</p>"})
    assert [p["line"] for p in _refused(image)] == [5, 9]  # the pool, the application naming it
    html = _scan(image, "html")[1]
    assert "✔ Nothing to do" not in html and "✔ No bitness problems found" not in html
    assert "No bitness problem found in what was checked; IIS refuses 2 parts" in html
    assert "No fix to make in what was checked; IIS refuses 2 parts of this configuration" in html
    card = html[html.index('<article class="worker" data-pool="Shop &amp; Co">'):]
    card = card[:card.index("</article>")]
    assert "✔ no findings" not in card and "▲ no findings in what was read: IIS refuses this pool" in card
    assert card.count('<p class="wrefused">IIS refuses <code>') == 2  # the pool, the application naming it
    assert "application pool name &#39;Shop &amp; Co&#39; holds &#39;&amp;&#39;, which IIS refuses" in card


def test_a_web_config_setting_a_locked_section(tmp_path: Path) -> None:
    """The contoso demo with its ``<location path="">`` made ``overrideMode="Deny"``: the web.config files that set
    handlers get HTTP 500.19 (0x80070021) for every request of their applications (KB 942055). Their entries were
    never analysed, yet the applications read as checked; then each was refused and its application partly checked,
    while its other loads were still analysed as if IIS ran them (a finding and a fix for wconnect's bin\\wc.dll,
    ASP.NET Core's for Storefront/). Now such an application is not checked, first reason the 500.19, and no finding
    names a load of it."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    cfg = image / APPHOST
    cfg.write_text(cfg.read_text("utf-8").replace('<location path="" overrideMode="Allow">',
                                                  '<location path="" overrideMode="Deny">'), "utf-8")
    refused = {p["file"]: p for p in _refused(image)}
    assert "inetpub/legacy/web.config" in refused and "0x80070021" in refused["inetpub/legacy/web.config"]["message"]
    doc = json.loads(_scan(image, "json")[1])
    failing = {a["application"]: a for a in doc["coverage"]["applications"] if a["status"] == "not-checked"}
    assert sorted(failing) == ["Default Web Site/wconnect", "Legacy/", "Php/", "Storefront/"], doc["coverage"]
    for app in failing.values():
        assert app["reasons"][0].startswith("IIS answers every request of it with HTTP 500.19 (it refuses inetpub/"), app
        assert "none of its loads happens, so none was analysed" in app["reasons"][0], app
    named = [(f["rule"], f["binary"]) for f in doc["findings"]
             if f["site"] is not None and f"{f['site']}{f['application'] or '/'}" in failing]
    assert named == [], named
    assert not any("wc.dll" in (f["binary"] or "") or "storefront" in (f["binary"] or "").lower()
                   for f in doc["findings"]), doc["findings"]


_WINDOWS_AUTH = '<security>\n<authentication>\n<windowsAuthentication enabled="true" />\n</authentication>\n</security>'


@pytest.mark.parametrize("unlocked", [False, True])
def test_a_section_locked_in_a_section_group_below_security(tmp_path: Path, unlocked: bool) -> None:
    """``windowsAuthentication`` is declared three levels down (sectionGroup security, sectionGroup authentication)
    with ``overrideModeDefault="Deny"`` in the real IIS 8.5 applicationHost.config: a web.config setting it gets HTTP
    500.19 (0x80070021, the locking walkthrough's own example, iis-docs "How to Use Locking in IIS 7.0
    Configuration"). The lock was looked up as "security/authentication", which nothing declares, so the file was
    analysed as if IIS ran it. A ``<location path="ikinci.com" overrideMode="Allow">`` holding the section unlocks it
    there (read through the same declared groups): no refusal then."""
    web = (corpus_dir("iis-config") / "i-e-b__RawIsapi__web.config").read_text("utf-8")
    web = web.replace("<system.webServer>", f"<system.webServer>\n{_WINDOWS_AUTH}", 1)
    unlock = (f'<location path="ikinci.com" overrideMode="Allow">\n<system.webServer>\n{_WINDOWS_AUTH}\n'
              "</system.webServer>\n</location>\n</configuration>")
    image, _ = _image(tmp_path, ("</configuration>", unlock) if unlocked else None,
                      {"vhosts/ikinci.com/http/web.config": web})
    doc = json.loads(_scan(image, "json")[1])
    refused = [p for p in doc["problems"] if p.get("refused")]
    [app] = [a for a in doc["coverage"]["applications"] if a["application"] == "ikinci.com/"]
    if unlocked:
        assert refused == [] and app["status"] != "not-checked", (refused, app)
        return
    [problem] = _refused(image)
    assert (problem["file"], problem["line"]) == ("vhosts/ikinci.com/http/web.config", _line(web, "<windowsAuthentication"))
    assert problem["message"].startswith("HTTP 500.19 (0x80070021) for every request at or below vhosts/ikinci.com/http: this "
                                         "web.config sets system.webServer/security/authentication/windowsAuthentication"
                                         ", which is locked there (overrideModeDefault=\"Deny\" at " + APPHOST), problem
    assert app["status"] == "not-checked", app


def test_every_pool_name_of_the_corpus_is_one_iis_takes() -> None:
    """The validator refuses no pool name (``applicationPools/add/@name``, ``application/@applicationPool``) of the
    real configurations in the corpus, which IIS ran."""
    names: list[str] = []
    for d in ("iis-config", "iis-config-2"):
        for f in sorted(corpus_dir(d).glob("*")):
            if "applicationhost" not in f.name.lower() or not f.name.endswith(".config"):
                continue
            try:
                root = etree.parse(str(f), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
            except etree.XMLSyntaxError:
                continue
            names += [str(v) for v in root.xpath("//applicationPools/add/@name | //application/@applicationPool")]
    assert len(names) > 100
    assert [n for n in names if refused_pool_name(n) is not None] == []
    assert refused_pool_name("a/b") and refused_pool_name("x[1]") and refused_pool_name(None)
    assert refused_pool_name(None, required=False) is None
