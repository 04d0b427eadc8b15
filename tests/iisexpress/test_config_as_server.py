"""An IIS Express configuration given alone (``scan --config FILE``) is read as a server's: what was not read is to be
given as IIS Express needs it (the solution folder), never as a server image or ``--env`` (audit7 F7)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import CORPUS

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
