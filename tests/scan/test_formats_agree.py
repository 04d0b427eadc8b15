"""Every format says the same about what was not checked and what a fix also changes (outputs15): text, JSON, HTML,
SARIF and ``fix``'s text and JSON, on the demo, the IIS 6 demo, a copy of the demo with applications the scan cannot
read (a site on an unmapped drive, one on a UNC share, a web.config that is a FIFO), a configuration-only copy and
the web farm node of test_shared_config (real inputs: the shipped demo images, the shared corpus's redirection.config
and applicationHost.config)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO, REPO, corpus_dir
from tests.fix.test_shared_config_farm import _farm
from tests.iisexpress.solution import classic_solution, run
from tests.scan.test_observe import EVENTS
from tests.scan.test_sarif import _validate

APPHOST = "Windows/System32/inetsrv/config/applicationHost.config"
SCHEMAS = REPO / "src/iisbitness/formats/schema"


def _out(*args: str) -> str:
    r = CliRunner().invoke(main, [*args, "--quiet"], env={"COLUMNS": "300"})
    assert r.exit_code in (0, 1), r.output
    return r.stdout


def _flat(text: str) -> str:
    return " ".join(text.split())


def _partial(tmp_path: Path) -> Path:
    """The demo with Php/ on a drive the image does not map, Orders/ on a UNC share and Storefront's web.config a
    FIFO (a file that cannot be read): two applications not checked, one partly."""
    image = tmp_path / "partial"
    shutil.copytree(DEMO / "contoso-iis10", image)
    config = image / APPHOST
    text = config.read_text(encoding="utf-8")
    for old, new in (("C:\\inetpub\\php", "D:\\sites\\php"), ("C:\\inetpub\\orders", "\\\\fs01\\sites\\orders")):
        assert text.count(f'physicalPath="{old}"') == 1
        text = text.replace(f'physicalPath="{old}"', f'physicalPath="{new}"')
    config.write_text(text, encoding="utf-8")
    (image / "inetpub/storefront/web.config").unlink()
    os.mkfifo(image / "inetpub/storefront/web.config")
    return image


def _html_closing(page: str) -> list[str]:
    return [_flat(html.unescape(m)).split(" Rules reported:")[0]
            for m in re.findall(r'<p class="closing">(.*?)</p>', page, re.DOTALL)]


def _text_closing(text: str) -> list[str]:
    """The closing line of each report of a text output (the paragraph before the next report or the end)."""
    out = []
    for report in re.split(r"\n(?=iisbitness scan )", text.strip()):
        out.append(_flat(report.strip().rsplit("\n\n", 1)[-1]))
    return out


def test_the_html_closing_line_counts_as_the_text_does(tmp_path: Path) -> None:
    """Before: the HTML's closing line said no word of coverage ('2 of 9 applications not checked, 1 partly checked'
    only in text), named no process outside the pools (IIS 6: 'in 0 of 2 pools', text 'in dllhost.exe,
    inetinfo.exe') and said '1 verified fixes'."""
    for args in (["demo"], ["scan", str(_partial(tmp_path))]):
        text = _text_closing(_out(*args))
        page = _html_closing(_out(*args, "--format", "html"))
        assert page == text, (page, text)
    assert "; 2 of 9 applications not checked, 1 partly checked; 5 verified fixes." in page[0]
    demo = _html_closing(_out("demo", "--format", "html"))
    assert " in dllhost.exe, inetinfo.exe; all 2 applications checked; 1 verified fix." in demo[1]


def _fix_lines(sarif: dict[str, Any], run: int = 0) -> dict[int, str]:
    """Each numbered fix's line in the results' ``properties.fixes`` (``[N] summary mark; also: ...``)."""
    lines: dict[int, str] = {}
    for r in sarif["runs"][run]["results"]:
        for line in r["properties"].get("fixes", []):
            if m := re.match(r"\[(\d+)\] ", line):
                lines.setdefault(int(m.group(1)), line)
    return lines


def test_a_fix_not_verified_says_so_in_every_format(tmp_path: Path) -> None:
    """The pool flips of applications the scan could not read are not verified: text '(not verified)', JSON
    ``verified: false``; before, HTML and SARIF showed them as they show advice, with no mark at all."""
    image = str(_partial(tmp_path))
    doc = json.loads(_out("scan", image, "--format", "json"))
    unverified = [x for x in doc["fixes"] if x["verified"] is False]
    assert len(unverified) == 3
    text = _flat(_out("scan", image, "--verbose"))
    page = _flat(html.unescape(_out("scan", image, "--format", "html")))
    sarif = json.loads(_out("scan", image, "--format", "sarif"))
    _validate(sarif)
    lines = _fix_lines(sarif)
    for x in unverified:
        n, summary = x["number"], x["summary"]
        assert f"[{n}] {summary} (not verified)" in text
        assert re.search(rf'\[{n}\]</span> {re.escape(summary)} <span class="unverified">not verified</span>', page)
        assert lines[n].startswith(f"[{n}] {summary} (not verified); also: ")
    verified = next(x for x in doc["fixes"] if x["verified"] is True and not x["side_effects"][0]["security"])
    assert _fix_lines(sarif)[verified["number"]].startswith(f"[{verified['number']}] {verified['summary']} (verified)")


def test_an_iis6_switch_that_breaks_a_filter_says_which_in_html_and_sarif() -> None:
    """IIS 6 demo [2] (worker process isolation mode) would break rewrite64.dll: before, only the text said so on
    the fix's line ('not verified; it would break rewrite64.dll'); the HTML put it in the note at the end of the
    fix (and made it a step of 'What to do first'), SARIF nowhere."""
    text = _flat(_out("demo"))
    assert "[2] worker process isolation mode (not verified; it would break rewrite64.dll)" in text
    page = html.unescape(_out("demo", "--format", "html"))
    assert ('<span class="unverified">not verified</span> <span class="removes">it would break rewrite64.dll</span>'
            in page)
    sarif = json.loads(_out("demo", "--format", "sarif"))
    line = _fix_lines(sarif, 1)[2]
    assert line.startswith("[2] Switch IIS to worker process isolation mode (IIs5IsolationModeEnabled 0) "
                           "(not verified; it would break rewrite64.dll); also: ")


def test_a_fix_that_takes_a_security_module_out_warns_in_sarif() -> None:
    """Demo [8] (preCondition="bitness32" on FabrikamVendorAuth): text '(verified, but all 7 pools then run without
    FabrikamVendorAuth)' and a warn line, HTML the same and an alert; before, SARIF said '(verified)' and nothing of
    the security module, in its fix objects (what a dashboard offers to apply) as in its lines."""
    sarif = json.loads(_out("scan", str(DEMO / "contoso-iis10"), "--format", "sarif", "--select", "global-module-arch"))
    _validate(sarif)
    warning = "FabrikamVendorAuth looks like a security module: sites in 7 pools then run without it."
    line = _fix_lines(sarif)[8]
    assert "(verified, but CatalogPool, DefaultAppPool, IntranetPool, OrdersAsp, PhpPool, StorefrontCore, " \
           "WebConnection64 then run without FabrikamVendorAuth); also: " in line
    assert line.endswith(f"; warning: {warning}")
    objects = [x for r in sarif["runs"][0]["results"] for x in r.get("fixes", []) if x["properties"]["number"] == 8]
    assert objects
    for x in objects:
        assert x["description"]["text"].endswith(f"then run without FabrikamVendorAuth) Warning: {warning}")
        assert x["properties"]["securityWarning"] == warning and x["properties"]["verified"] is True


def test_fix_json_has_the_side_effects_and_warning_the_text_prints() -> None:
    """fix's text lists 'Side effects (these fixes together ...)' and 'WARNING: FabrikamVendorAuth looks like a
    security module'; before, fix --format json had neither."""
    image = str(DEMO / "contoso-iis10")
    text = _flat(_out("fix", image, "--fix", "8"))
    doc = json.loads(_out("fix", image, "--fix", "8", "--format", "json"))
    jsonschema.validate(doc, json.loads((SCHEMAS / "fix-1.json").read_text(encoding="utf-8")))
    scan_schema = json.loads((SCHEMAS / "scan-2.json").read_text(encoding="utf-8"))
    for e in doc["side_effects"]:  # NOTE: each as scan/2 writes a fix's side effect
        jsonschema.validate(e, {"$defs": scan_schema["$defs"], "$ref": "#/$defs/side_effect"})
    assert {(e["pool"], e["name"], e["kind"], e["security"]) for e in doc["side_effects"]} == {
        (p, "FabrikamVendorAuth", "unloaded", True) for p in ("CatalogPool", "DefaultAppPool", "IntranetPool",
                                                             "OrdersAsp", "PhpPool", "StorefrontCore", "WebConnection64")}
    assert f"WARNING: {doc['security_warning']}" in text
    flip = json.loads(_out("fix", image, "--fix", "2", "--format", "json"))
    assert "security_warning" not in flip and [e["kind"] for e in flip["side_effects"]] == ["arch"]


def test_a_shared_configuration_is_said_in_html_and_sarif(tmp_path: Path) -> None:
    """audit10 A5 left it to text and JSON: a fix of this report changes the file every farm node runs."""
    image, share = _farm(tmp_path)
    words = "This is the shared configuration that redirection.config names (\\\\webfarm-cfg\\IISConfig): every " \
            "server of the web farm that uses it runs it, and a fix changes it for each of them"
    assert words in _flat(_out("scan", str(image), *share))
    assert words in _flat(html.unescape(_out("scan", str(image), *share, "--format", "html")))
    sarif = json.loads(_out("scan", str(image), *share, "--format", "sarif"))
    _validate(sarif)
    run = sarif["runs"][0]
    assert run["properties"]["server"]["sharedConfig"] == "\\\\webfarm-cfg\\IISConfig"
    [note] = [n for n in run["invocations"][0]["toolExecutionNotifications"]
              if n.get("descriptor", {}).get("id") == "config/shared-configuration"]
    assert note["level"] == "warning" and note["message"]["text"].startswith(words)
    assert any(r.get("fixes") for r in run["results"])  # NOTE: the fixes a dashboard would apply to the share


def test_a_server_without_shared_configuration_adds_no_key_or_notification() -> None:
    sarif = json.loads(_out("demo", "--format", "sarif"))
    for log in sarif["runs"]:
        assert "sharedConfig" not in log["properties"]["server"]
        assert not log["invocations"][0]["toolExecutionNotifications"]


def test_inferred_architectures_are_a_sarif_notification(tmp_path: Path) -> None:
    """The text's note under the configuration line (a configuration-only copy; a vendor module inferred from its
    folder): before, SARIF said it nowhere but in each result's evidence."""
    image = tmp_path / "only"
    (image / APPHOST).parent.mkdir(parents=True)
    shutil.copy(DEMO / "contoso-iis10" / APPHOST, image / APPHOST)
    (image / "Windows/SysWOW64").mkdir()
    assert "The image holds configuration files only" in _flat(_out("scan", str(image)))
    sarif = json.loads(_out("scan", str(image), "--format", "sarif"))
    _validate(sarif)
    [note] = [n for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
              if n.get("descriptor", {}).get("id") == "coverage/inferred"]
    assert note["level"] == "warning" and "inferred from their folders" in note["message"]["text"]


def test_an_assumed_worker_and_an_inferred_binary_are_labelled_in_json_and_sarif(tmp_path: Path) -> None:
    """IIS Express: the assembly's headers were read, iisexpress.exe's bitness is Visual Studio's default (text
    '[x64, read; iisexpress.exe x86 assumed]', HTML 'read from its headers; iisexpress.exe x86 assumed'); before, JSON
    and SARIF said evidence 'inferred' alone, as of a file not read. A configuration-only copy: SARIF's related
    location said '(not in the image)' without the architecture the text gives as '[x86, inferred]'."""
    sol = classic_solution(tmp_path / "sol", use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    doc = json.loads(run(sol, "--format", "json").stdout)
    jsonschema.validate(doc, json.loads((SCHEMAS / "scan-2.json").read_text(encoding="utf-8")))
    [f] = [x for x in doc["findings"] if x["binary"] and x["binary"].endswith("Vendor.Imaging.dll")]
    assert f["evidence"] == "inferred" and f["resolved"] and f["process_arch_assumed"] is True
    sarif = json.loads(run(sol, "--format", "sarif").stdout)
    _validate(sarif)
    [r] = [x for x in sarif["runs"][0]["results"] if x["properties"].get("processArchAssumed")]
    assert r["ruleId"] == f["rule"] and r["properties"]["evidence"] == "inferred"
    demo = json.loads(_out("demo", "--format", "json"))
    assert not any("process_arch_assumed" in x for d in demo for x in d["findings"])  # NOTE: additive: absent elsewhere

    image = tmp_path / "only"
    (image / APPHOST).parent.mkdir(parents=True)
    shutil.copy(DEMO / "contoso-iis10" / APPHOST, image / APPHOST)
    (image / "Windows/SysWOW64").mkdir()
    assert "vendorauth.dll [x86, inferred]" in _out("scan", str(image))
    sarif = json.loads(_out("scan", str(image), "--format", "sarif"))
    [r] = [x for x in sarif["runs"][0]["results"] if x["ruleId"] == "global-module-arch"][:1]
    assert r["relatedLocations"][0]["message"]["text"] == (
        "C:\\Program Files (x86)\\Fabrikam\\VendorAuth\\vendorauth.dll (x86, inferred from its folder: not in the image)")


def test_sarif_says_why_a_fix_is_not_verified(tmp_path: Path) -> None:
    """JSON's and HTML's note ('Not verified: Php/ (physicalPath D:\\sites\\php: drive D: is not mapped) was not
    checked, ...'); before, SARIF carried no note at all."""
    sarif = json.loads(_out("scan", str(_partial(tmp_path)), "--format", "sarif"))
    line = _fix_lines(sarif)[4]
    assert line.endswith("; not verified: Php/ (physicalPath D:\\sites\\php: drive D: is not mapped) was not checked, "
                         "so what it loads at that architecture is unknown; the coverage says what to give the scan")


def test_sarif_carries_the_event_log_as_text_and_json_do(tmp_path: Path) -> None:
    """scan --event-log: text and HTML list each event with what it confirms and explain's confidence, JSON keeps
    them in observations; before, the SARIF log said nothing of the event log (test_observe's real-format events)."""
    log = tmp_path / "eventlog.xml"
    log.write_text(EVENTS)
    image = str(DEMO / "contoso-iis10")
    doc = json.loads(_out("scan", image, "--event-log", str(log), "--format", "json"))
    sarif = json.loads(_out("scan", image, "--event-log", str(log), "--format", "sarif"))
    _validate(sarif)
    run_props = sarif["runs"][0]["properties"]
    assert run_props["eventsRead"] == doc["events_read"] == 2
    text = _flat(_out("scan", image, "--event-log", str(log)))
    for e in run_props["events"]:
        assert f"{e['provider']} {e['eventId']}: {e['tag']}" in text
    assert any(e["tag"].startswith("no finding explains it (bitness, ") for e in run_props["events"])
    results = sarif["runs"][0]["results"]
    for o in doc["observations"]:
        if o["finding"] is None:
            continue
        [seen] = results[o["finding"]]["properties"]["observations"]
        assert (seen["eventId"], seen["scope"], seen["confidence"], seen["lead"]) == (
            o["event_id"], o["scope"], o["confidence"], o["lead"])
    plain = json.loads(_out("scan", image, "--format", "sarif"))["runs"][0]
    assert "eventsRead" not in plain["properties"] and not any("observations" in r["properties"]
                                                                 for r in plain["results"])


def test_a_note_is_counted_in_the_html_as_in_the_text() -> None:
    """A real configuration with a note-severity finding (NCIOCPL's pubslocator): the text's closing line counts '1
    note'; before, the HTML's summary cards and closing line counted errors and warnings only."""
    config = corpus_dir("iis-config") / "NCIOCPL__pubslocator__applicationHost.config"
    doc = json.loads(_out("scan", "--config", str(config), "--format", "json"))
    assert doc["summary"]["note"] == 1
    assert "(3 errors, 0 warnings, 1 note)" in _text_closing(_out("scan", "--config", str(config)))[0]
    page = _out("scan", "--config", str(config), "--format", "html")
    assert '<dt>Notes</dt><dd data-count="note">1</dd>' in page
    assert "(3 errors, 0 warnings, 1 note)" in _html_closing(page)[0]


def test_sarif_says_which_iisexpress_exe_runs_each_project_and_whether_assumed(tmp_path: Path) -> None:
    """The text's projects block ('iisexpress.exe x86 (assumed)') and JSON's iisexpress[]; before, a SARIF log of an
    IIS Express scan did not say which bitness was assumed."""
    sol = classic_solution(tmp_path / "sol", use64="")
    doc = json.loads(run(sol, "--format", "json").stdout)
    sarif = json.loads(run(sol, "--format", "sarif").stdout)
    _validate(sarif)
    projects = sarif["runs"][0]["properties"]["projects"]
    assert [(x["project"], x["arch"], x["decidedBy"], x["assumed"], x["reason"]) for x in projects] == [
        (x["project"], x["arch"], x["decided_by"], x["assumed"], x["reason"]) for x in doc["iisexpress"]]
    assert projects[0]["assumed"] is True and "iisexpress.exe x86 (assumed)" in _flat(run(sol).stdout)
