"""scan --select / --ignore choose the rules that run; --write-baseline / --baseline accept findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO

IMAGE = str(DEMO / "contoso-iis10")


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    r = CliRunner().invoke(main, ["scan", IMAGE, "--format", "json", *args])
    return r.exit_code, json.loads(r.stdout)


def test_select_and_ignore() -> None:
    _, doc = _json("--select", "global-module-arch,pool-arch-conflict")
    assert doc["rules"] == ["global-module-arch", "pool-arch-conflict"]
    assert {f["rule"] for f in doc["findings"]} == {"global-module-arch", "pool-arch-conflict"}
    _, doc = _json("--ignore", "global-module-arch", "--ignore", "iis-manager-32bit-assembly")
    rules = {f["rule"] for f in doc["findings"]}
    assert "global-module-arch" not in rules and "iis-manager-32bit-assembly" not in rules and rules


def test_unknown_rule_is_an_input_error() -> None:
    r = CliRunner().invoke(main, ["scan", IMAGE, "--select", "no-such-rule"])
    assert r.exit_code == 2 and "unknown rule 'no-such-rule'" in r.output


def test_write_baseline_then_scan_with_it(tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    r = CliRunner().invoke(main, ["scan", IMAGE, "--write-baseline", str(base), "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["findings"] == []
    doc = json.loads(base.read_text())
    assert doc["schema"] == "iisbitness/baseline/1" and len(doc["accepted"]) == 16
    # accept all but the pool conflict: only it is reported, and the exit code says so
    doc["accepted"] = [e for e in doc["accepted"] if e["rule"] != "pool-arch-conflict"]
    base.write_text(json.dumps(doc))
    code, out = _json("--baseline", str(base))
    assert code == 1 and [f["rule"] for f in out["findings"]] == ["pool-arch-conflict"]
    sarif = CliRunner().invoke(main, ["scan", IMAGE, "--baseline", str(base), "--format", "sarif"])
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    assert sum("suppressions" in r for r in results) == 15 and len(results) == 16


def test_bad_baseline_is_an_input_error(tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    base.write_text('{"accepted": []}')
    r = CliRunner().invoke(main, ["scan", IMAGE, "--baseline", str(base)])
    assert r.exit_code == 2 and "not a baseline" in r.output


def test_baseline_says_how_many_it_accepted(tmp_path: Path) -> None:
    """Silence would read as 'nothing accepted' (issue 24): stderr and the text's closing line give the count."""
    base = tmp_path / "baseline.json"
    CliRunner().invoke(main, ["scan", IMAGE, "--write-baseline", str(base), "--fail-on", "never"])
    r = CliRunner().invoke(main, ["scan", IMAGE, "--baseline", str(base), "--no-color"])
    assert "the baseline accepted 16 findings (left out); 0 not in it" in r.stderr
    assert "16 more findings accepted by the baseline, not shown." in " ".join(r.stdout.split())
    doc = json.loads(base.read_text())
    doc["accepted"] = doc["accepted"][:1]
    base.write_text(json.dumps(doc))
    r = CliRunner().invoke(main, ["scan", IMAGE, "--baseline", str(base), "--no-color", "--fail-on", "never"])
    assert "the baseline accepted 1 finding (left out); 15 not in it" in r.stderr
    doc["accepted"] = []
    base.write_text(json.dumps(doc))
    r = CliRunner().invoke(main, ["scan", IMAGE, "--baseline", str(base), "--fail-on", "never"])
    assert "the baseline accepted 0 findings" in r.stderr


def test_a_selection_says_how_many_findings_it_left_out_in_text_and_html(tmp_path: Path) -> None:
    """--select binary-missing on the demo (16 findings, none of that rule) used to read as a clean server: text
    "0 findings ... all 9 applications checked", HTML "✔ Nothing to do: no bitness problem found." beside a server map
    of binaries that cannot load (user audit 2026-12-07). Both now say how many findings were left out, and of which
    rules; the HTML's closing line names the rules reported, not "that ran" (every rule runs, for verification)."""
    r = CliRunner().invoke(main, ["scan", IMAGE, "--select", "binary-missing", "--no-color", "--fail-on", "never"])
    text = " ".join(r.stdout.split())
    assert ("16 more findings of rules not selected (global-module-arch, native-library-arch, managed-assembly-arch, "
            "pool-arch-conflict and 4 more: --select/--ignore), not shown.") in text
    out = tmp_path / "r.html"
    CliRunner().invoke(main, ["scan", IMAGE, "--select", "binary-missing", "--format", "html", "-o", str(out)])
    html = out.read_text(encoding="utf-8")
    assert "✔ Nothing to do" not in html and "✔ No bitness problems found" not in html
    assert "✔ no findings<" not in html and "✔ no findings shown" in html
    assert "▲ No findings shown: 16 more findings of rules not selected" in html and "Rules reported: binary-missing." in html
    r = CliRunner().invoke(main, ["scan", IMAGE, "--ignore", "iis-manager-32bit-assembly", "--no-color"])
    assert ("2 more findings of rules not selected (iis-manager-32bit-assembly: --select/--ignore), not shown."
            in " ".join(r.stdout.split()))
    r = CliRunner().invoke(main, ["scan", IMAGE, "--no-color"])
    assert "not selected" not in r.stdout and "not shown" not in r.stdout


def test_a_selection_and_a_baseline_are_said_together(tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    CliRunner().invoke(main, ["scan", IMAGE, "--write-baseline", str(base), "--fail-on", "never"])
    r = CliRunner().invoke(main, ["scan", IMAGE, "--baseline", str(base), "--ignore", "pool-arch-conflict",
                                  "--no-color"])
    assert ("16 more findings not shown: 1 of rules not selected (pool-arch-conflict: --select/--ignore), 15 accepted "
            "by the baseline.") in " ".join(r.stdout.split())


def test_json_says_per_rule_how_many_findings_a_selection_left_out() -> None:
    """An additive field of scan/2, present only with a selection that left findings out (user audit 2026-12-07): a
    pipeline's "summary" of zeros under --select is no longer the only word. It validates against the schema."""
    import jsonschema

    _, doc = _json("--select", "binary-missing")
    assert doc["findings"] == [] and doc["unreported"] == {
        "aspnetcore-inprocess-arch": 1, "com-inproc-arch": 1, "global-module-arch": 7, "iis-manager-32bit-assembly": 2,
        "isapi-extension-arch": 1, "managed-assembly-arch": 2, "native-library-arch": 1, "pool-arch-conflict": 1}
    schema = json.loads((Path(__file__).resolve().parents[2] / "src/iisbitness/formats/schema/scan-2.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    _, doc = _json()
    assert "unreported" not in doc
