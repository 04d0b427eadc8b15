"""An IIS Express configuration given alone (``scan --config FILE``) is read as a server's: what was not read is to be
given as IIS Express needs it (the solution folder), never as a server image or ``--env`` (audit7 F7)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import CORPUS, REPO
from tests.iisexpress.solution import classic_solution, scan_json, second_project

SCHEMA = json.loads((REPO / "src" / "iisbitness" / "formats" / "schema" / "scan-2.json").read_text(encoding="utf-8"))

WCF = CORPUS / "iis-config-2" / "iisexpress--MarkKharitonov__wcf-to-corewcf__applicationhost.config"
"""A real IIS Express configuration: WebSite1 under %IIS_SITES_HOME%, two ASP.NET Core sites whose handler runs
%LAUNCHER_PATH% from C:\\work\\wcf-to-corewcf\\publish-*."""


def _scan(*args: str) -> str:
    if not WCF.is_file():
        pytest.skip("no shared corpus")
    res = CliRunner().invoke(main, ["scan", "--config", str(WCF), "-q", *args])
    assert res.exit_code in (0, 1, 2), res.output
    return res.output


def test_iis_express_config_alone_gives_the_solution_folder_not_a_server_image() -> None:
    report = json.loads(_scan("--format", "json"))
    coverage = {c["application"]: c for c in report["coverage"]["applications"]}
    gives = {a: c["remedy"] for a, c in coverage.items()}
    assert set(gives) == {"WebSite1/", "CoreWCF.SampleService/", "api/"}
    for remedy in gives.values():
        assert "iisbitness scan SOLUTION_FOLDER --config FILE" in remedy
        assert "server image" not in remedy and "--env" not in remedy
    assert "IIS Express's: iisexpress.exe sets it" in " ".join(coverage["WebSite1/"]["reasons"])
    why = [f["cause"] for f in report["findings"] if f["rule"] == "binary-invalid"]
    assert len(why) == 2
    assert all("%LAUNCHER_PATH% is IIS Express's: Visual Studio sets it" in w and "--env" not in w for w in why)


def test_iis_express_config_alone_says_so_above_its_pools() -> None:
    text = _scan()
    head = text.split("POOL ")[0]
    assert "This is an IIS Express configuration read as a server's" in " ".join(head.split())


def test_iis_express_pool_rows_say_their_enable32bit_is_derived_from_the_project(tmp_path: Path) -> None:
    """IIS Express ignores a pool's enable32BitAppOnWin64: the JSON row of a project's iisexpress.exe carries the key
    (for stability) with the value the project's bitness gives, and says so (``enable32BitAppOnWin64_derived``), with
    the project's site; a server's rows are as before."""
    sol = classic_solution(tmp_path / "sol", use64="true")
    second_project(sol, "KeyVaultDemo", use64="false")
    _, doc = scan_json(sol)
    jsonschema.validate(doc, SCHEMA)
    rows = {r["process_site"]: r for r in doc["pools"]}  # type: ignore[attr-defined]
    assert set(rows) == {"SampleKVApp", "KeyVaultDemo"}, rows
    assert all(r["enable32BitAppOnWin64_derived"] is True for r in rows.values())
    assert rows["SampleKVApp"]["enable32BitAppOnWin64"] is False and rows["SampleKVApp"]["worker_arch"] == "x64"
    assert rows["KeyVaultDemo"]["enable32BitAppOnWin64"] is True and rows["KeyVaultDemo"]["worker_arch"] == "x86"
    res = CliRunner().invoke(main, ["scan", str(REPO / "src" / "iisbitness" / "demo" / "contoso-iis10"),
                                    "--format", "json", "-q"])
    server = json.loads(res.output)
    jsonschema.validate(server, SCHEMA)
    assert not [r for r in server["pools"] if "enable32BitAppOnWin64_derived" in r or "process_site" in r]


def test_iis_express_config_alone_says_so_in_json_and_html(tmp_path: Path) -> None:
    doc = json.loads(_scan("--format", "json"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["server"]["kind"] == "iis7+" and doc["server"]["iisexpress_config"] is True
    html = tmp_path / "r.html"
    _scan("--format", "html", "-o", str(html))
    assert "an IIS Express configuration read as a server's" in html.read_text(encoding="utf-8")
    res = CliRunner().invoke(main, ["scan", str(REPO / "src" / "iisbitness" / "demo" / "contoso-iis10"),
                                    "--format", "json", "-q"])
    assert "iisexpress_config" not in json.loads(res.output)["server"]


def _express_image(root: Path) -> Path:
    """An image holding the IIS Express configuration as its applicationHost.config."""
    if not WCF.is_file():
        pytest.skip("no shared corpus")
    config = root / "Windows" / "System32" / "inetsrv" / "config"
    config.mkdir(parents=True)
    (config / "applicationHost.config").write_bytes(WCF.read_bytes())
    return root


def test_fix_on_an_iis_express_config_gives_the_solution_folder_as_scan_does(tmp_path: Path) -> None:
    """``fix`` reports the scan's coverage: it said ``--env IIS_SITES_HOME=VALUE`` where scan says to scan the
    solution folder (review13: the IIS Express override was in scan_image only)."""
    image = _express_image(tmp_path / "img")
    scanned = json.loads(CliRunner().invoke(main, ["scan", str(image), "--format", "json", "-q"]).output)
    res = CliRunner().invoke(main, ["fix", str(image), "--format", "json"])
    fixed = json.loads(res.stdout)
    gives = {c["application"]: c["remedy"] for c in fixed["coverage"]["applications"]}
    assert gives == {c["application"]: c["remedy"] for c in scanned["coverage"]["applications"]}
    assert gives and all("iisbitness scan SOLUTION_FOLDER --config FILE" in g and "--env" not in g
                         for g in gives.values())


def test_check_app_on_a_server_of_an_iis_express_config_says_to_run_check_app_again(tmp_path: Path) -> None:
    """check-app --server whose build IIS refuses: 'run the same check-app command again', not 'scan again' (the IIS
    Express override replaced check-app's Given.BUILD_ON_SERVER: review13)."""
    image = _express_image(tmp_path / "img")
    build = tmp_path / "pub"
    build.mkdir()
    (build / "web.config").write_text(
        '<?xml version="1.0"?>\n<configuration>\n  <system.webServer>\n    <handlers>\n'
        '      <add name="A" path="*.a" verb="*" type="X.A, X" />\n'
        '      <add name="A" path="*.b" verb="*" type="X.B, X" />\n'
        '    </handlers>\n  </system.webServer>\n</configuration>\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["check-app", str(build), "--server", str(image), "--site", "WebSite1/",
                                    "--format", "json"])
    doc = json.loads(res.stdout)
    [app] = [c for c in doc["coverage"]["applications"] if c["application"] == "WebSite1/"]
    said = " ".join(app["reasons"])
    assert "HTTP 500.19" in said and "run the same check-app command again" in said and "scan again" not in said
