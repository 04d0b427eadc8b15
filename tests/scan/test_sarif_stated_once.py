"""SARIF states a fix offered by many results once (issue 25): a global module's preCondition fix, offered by a finding
in every pool, names every pool in its side effect and its commands; stated in every result, the log grew with the
square of the pools. Each result keeps the fix in its own ``fixes[]`` (what SARIF viewers show and apply) and points
to the full statement in ``runs[].properties.fixes`` with a ``sarif:`` URI (SARIF 2.1.0 §3.10.3, a JSON pointer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.cli import main
from iisbitness.formats import scan_sarif
from iisbitness.scan.baseline import apply_baseline
from tests.conftest import DEMO, apphost, make_image, site
from tests.scan.test_sarif import _validate, multitool_errors

POOLS = 12


def _image(root: Path) -> Path:
    """``POOLS`` 64-bit pools, a site each (its folder there: each pool's flip is verified), and an x86 global module every worker loads (a finding per pool, one
    preCondition fix for them all)."""
    adds = "\n".join(f'            <add name="P{i}" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="false" />'
                     for i in range(POOLS))
    sites = "".join(site(f"S{i}", i + 1, f"P{i}", f"C:\\sites\\s{i}") for i in range(POOLS))
    gm = '<globalModules><add name="M" image="C:\\V\\m.dll" /></globalModules>'
    files: dict[str, str | Path | bytes] = {"V/m.dll": "module_x86.dll"}
    files |= {f"sites/s{i}/index.html": "<p>site</p>\n" for i in range(POOLS)}
    return make_image(root, apphost(adds, sites, gm), files)


def _pointed(doc: dict[str, Any], uri: str) -> Any:
    """What a ``sarif:`` URI's JSON pointer (RFC 6901) names in ``doc``."""
    assert uri.startswith("sarif:/")
    node: Any = doc
    for part in uri.removeprefix("sarif:/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_a_fix_many_results_share_is_stated_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = scan(_image(tmp_path), ScanOptions(text_fixes=True))
    whole = json.loads(scan_sarif.render(report))  # NOTE: 12 pools: under the threshold, every result states it
    assert "fixes" not in whole["runs"][0]["properties"] and "fixesStatedOnce" not in whole["runs"][0]["properties"]
    monkeypatch.setattr(scan_sarif, "STATED_ONCE", 200, raising=False)
    doc = json.loads(scan_sarif.render(report))
    _validate(doc)
    run = doc["runs"][0]
    [stated] = run["properties"]["fixes"]
    assert run["properties"]["fixesStatedOnce"] is True  # NOTE: the log says it states fixes once (R4)
    assert "preCondition" in stated["summary"] and stated["verified"] is True
    assert all(f"P{i}" in stated["sideEffects"][0] for i in range(POOLS))
    assert any(all(f'"P{i}"' in c for i in range(POOLS)) for c in stated["cmd"])
    results = [r for r in run["results"] if r["ruleId"] == "global-module-arch"]
    assert len(results) == POOLS
    full = {r["partialFingerprints"][scan_sarif.FINGERPRINT]: r for r in whole["runs"][0]["results"]}
    for res in results:
        before = full[res["partialFingerprints"][scan_sarif.FINGERPRINT]]
        [fix] = [x for x in res["fixes"] if x["properties"]["number"] == stated["number"]]
        [was] = [x for x in before["fixes"] if x["properties"]["number"] == stated["number"]]
        # NOTE: what a viewer shows and applies is the result's own, unchanged
        assert fix["artifactChanges"] == was["artifactChanges"] and fix["description"] == was["description"]
        assert _pointed(doc, fix["properties"]["statedIn"]) == stated
        named = ", ".join(sorted((f"P{i}" for i in range(POOLS)), key=str.lower)[:8])
        assert fix["properties"]["sideEffects"] == [f"global module M no longer loads in {named} and {POOLS - 8} more pools"]
        [group] = [g for g in res["properties"]["fixCommands"] if g["number"] == stated["number"]]
        assert group == {"number": stated["number"], "summary": stated["summary"], "statedIn": fix["properties"]["statedIn"]}
        # NOTE: the flat list says where the fix's lines are, in a line cmd.exe runs as a comment, never silently
        assert not set(res["properties"]["commands"]) & set(stated["cmd"])
        assert f"rem [{stated['number']}] is stated once for the run: its commands are in {fix['properties']['statedIn']}" \
            in res["properties"]["commands"]
        assert [c for c in res["properties"]["commands"] if not c.startswith("rem ")] == [
            c for g in res["properties"]["fixCommands"] for c in g.get("cmd", [])]
        # NOTE: the pool's own fix (its flip), offered by this result alone, is stated in it in full, as before
        others = [x for x in res["fixes"] if x["properties"]["number"] != stated["number"]]
        assert others and others == [x for x in before["fixes"] if x["properties"]["number"] != stated["number"]]
        assert [g for g in res["properties"]["fixCommands"] if g["number"] != stated["number"]] == [
            g for g in before["properties"]["fixCommands"] if g["number"] != stated["number"]]


def test_the_log_is_written_a_result_at_a_time(tmp_path: Path) -> None:
    """``scan --format sarif`` writes the log in pieces, a result each (issue 25: the whole log of 1,000 pools held
    at once peaked at 1.1 GB): their text is the whole log's, to stdout and to ``-o FILE`` alike."""
    report = scan(DEMO / "contoso-iis10", ScanOptions(text_fixes=True))
    pieces: list[str] = []
    scan_sarif.write_many([report, report], pieces.append)
    text = "".join(pieces)
    doc = json.loads(text)
    _validate(doc)
    assert text == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert [len(r["results"]) for r in doc["runs"]] == [len(report.findings)] * 2
    assert len(pieces) > 2 * len(report.findings)  # NOTE: a piece a result at least, never the whole log
    assert text == scan_sarif.render_many([report, report])
    out = tmp_path / "log.sarif"
    to_file = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--format", "sarif", "-o", str(out)])
    to_stdout = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--format", "sarif"])
    assert to_file.exit_code == to_stdout.exit_code and to_stdout.output
    assert out.read_text(encoding="utf-8") == to_stdout.output


def test_fixes_of_results_a_baseline_accepted_are_stated_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``--baseline`` (docs/ci.md's pipeline) the accepted findings are suppressed results, whose fixes have no
    number: they are stated once all the same, or the log grows with the square of the pools again (R15: 200 pools
    1.3 MB without a baseline, 3.5 MB with one)."""
    report = scan(_image(tmp_path), ScanOptions(text_fixes=True))
    accepted = apply_baseline(report, frozenset(f.key for f in report.findings))
    assert not accepted.findings and len(accepted.suppressed) == len(report.findings)
    monkeypatch.setattr(scan_sarif, "STATED_ONCE", 200, raising=False)
    doc = json.loads(scan_sarif.render(accepted))
    _validate(doc)
    run = doc["runs"][0]
    [stated] = run["properties"]["fixes"]
    assert stated["number"] is None and "preCondition" in stated["summary"] and run["properties"]["fixesStatedOnce"]
    results = [r for r in run["results"] if r["ruleId"] == "global-module-arch"]
    assert len(results) == POOLS and all(r["suppressions"] for r in results)
    for res in results:
        [fix] = [x for x in res["fixes"] if "statedIn" in x["properties"]]
        assert _pointed(doc, fix["properties"]["statedIn"]) == stated
        [group] = [g for g in res["properties"]["fixCommands"] if "statedIn" in g]
        assert group == {"number": None, "summary": stated["summary"], "statedIn": fix["properties"]["statedIn"]}
        assert f"rem a fix is stated once for the run: its commands are in {group['statedIn']}" \
            in res["properties"]["commands"]


def test_the_multitool_validates_a_log_that_states_fixes_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Microsoft's SARIF Multitool (when installed: skipped as ``test_sarif_multitool_validate`` is) on a log that
    states fixes once, for results and for results a baseline accepted: no error; the advice SARIF2005 only (no
    ``informationUri`` without ``--rule-docs-url``)."""
    report = scan(_image(tmp_path), ScanOptions(text_fixes=True))
    monkeypatch.setattr(scan_sarif, "STATED_ONCE", 200, raising=False)
    accepted = apply_baseline(report, frozenset(f.key for f in report.findings[: POOLS // 2]))
    text = scan_sarif.render_many([report, accepted])
    doc = json.loads(text)
    assert all(run["properties"]["fixesStatedOnce"] for run in doc["runs"])
    assert any(r.get("suppressions") and "statedIn" in json.dumps(r) for r in doc["runs"][1]["results"])
    multitool_errors(tmp_path, text, {"SARIF2005"}, "stated-once")
