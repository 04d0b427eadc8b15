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
