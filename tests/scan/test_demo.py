"""The example server shipped in the package: every scenario of issue 2, pinned."""

from __future__ import annotations

import json

import jsonschema
from click.testing import CliRunner

from iisbitness.api import scan
from iisbitness.cli import main
from tests.conftest import DEMO, REPO

SCHEMA = json.loads((REPO / "src/iisbitness/formats/schema/scan-2.json").read_text())


def _key(f):  # type: ignore[no-untyped-def]
    return (f.rule, f.pool, f"{f.site}{f.application}" if f.site else None, (f.binary or "").rsplit("\\", 1)[-1])


def test_demo_iis10_findings() -> None:
    report = scan(DEMO / "contoso-iis10")
    got = {_key(f) for f in report.findings}
    expected = {
        ("global-module-arch", "DefaultAppPool", None, "vendorauth.dll"),
        ("global-module-arch", "WebConnection64", None, "vendorauth.dll"),
        ("global-module-arch", "IntranetPool", None, "vendorauth.dll"),
        ("global-module-arch", "PhpPool", None, "vendorauth.dll"),
        ("managed-assembly-arch", "DefaultAppPool", "Default Web Site/", "LegacyReports.dll"),
        ("isapi-extension-arch", "WebConnection64", "Default Web Site/wconnect", "wc.dll"),
        ("managed-assembly-arch", "IntranetPool", "Intranet/timesheets", "Timesheets.Legacy.dll"),
        ("pool-arch-conflict", "IntranetPool", None, ""),
        ("iis-manager-32bit-assembly", None, "Default Web Site/", "LegacyReports.dll"),
        ("iis-manager-32bit-assembly", None, "Intranet/timesheets", "Timesheets.Legacy.dll"),
    }
    assert expected <= got
    # wc.dll under the 32-bit pool, the bitness32/64 pair, ANCM per bitness, FastCGI: no finding.
    assert not any(k[1] == "LegacyPool32" for k in got)
    assert not any(k[3] in ("resizer.dll", "aspnetcorev2.dll", "php-cgi.exe", "cachuri.dll", "asp.dll") for k in got)


def test_demo_cli_text_json_and_exit_codes() -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["demo", "--no-color"])
    assert res.exit_code == 0, res.output
    assert "16 findings from 10 causes" in res.output and "global-module-arch" in res.output
    res = runner.invoke(main, ["demo", "--format", "json"])
    docs = json.loads(res.output)
    for doc in docs if isinstance(docs, list) else [docs]:
        jsonschema.validate(doc, SCHEMA)
    res = runner.invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--format", "json"])
    assert res.exit_code == 1
    jsonschema.validate(json.loads(res.output), SCHEMA)
    assert runner.invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--fail-on", "never"]).exit_code == 0


def test_demo_json_numbers_resolve_and_match_the_text() -> None:
    """The ``fixes`` and ``causes`` tables: fix N is ``fixes[N-1]``, each finding's ``fix_numbers`` name fixes of
    the table, causes partition the findings, and the counts are those of the text's header line."""
    docs = json.loads(CliRunner().invoke(main, ["demo", "--format", "json"]).output)
    doc = docs[0]
    assert [x["number"] for x in doc["fixes"]] == list(range(1, len(doc["fixes"]) + 1))
    assert [c["number"] for c in doc["causes"]] == list(range(1, len(doc["causes"]) + 1))
    assert len(doc["findings"]) == 16 and len(doc["causes"]) == 10  # NOTE: "16 findings from 10 causes"
    assert sorted(n for c in doc["causes"] for n in c["findings"]) == [f["number"] for f in doc["findings"]]
    used = set()
    for f in doc["findings"]:
        assert f["number"] in doc["causes"][f["cause_number"] - 1]["findings"]
        assert f["fix_numbers"] and all(1 <= n <= len(doc["fixes"]) for n in f["fix_numbers"])
        used.update(f["fix_numbers"])
    assert used == {x["number"] for x in doc["fixes"]}  # NOTE: the table holds only fixes some finding offers
    vendor = [c for c in doc["causes"] if len(c["pools"]) == 7]
    assert len(vendor) == 1 and len(vendor[0]["findings"]) == 7  # NOTE: FabrikamVendorAuth, once per pool
