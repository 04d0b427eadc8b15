"""An F5 build of an ASP.NET Core project (framework-dependent, in process) needs the developer machine's .NET runtime
(``%ProgramFiles%\\dotnet`` of the iisexpress.exe's architecture). Without that machine (no ``--drive C=``) the scan
read nothing of it: no finding may assert HTTP 500.31 or offer to install a runtime; coverage says the app was partly
checked and what to pass, and a bitness switch that would need the other architecture's runtime is not verified
(audit9 H2). Given the machine, a missing runtime is still a finding."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import fixes_of, fixture
from tests.iisexpress.solution import CORE, debug_build, scan_json


def _rules(doc: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in doc["findings"]]


def test_without_the_machine_the_runtime_is_a_coverage_gap_not_a_finding(tmp_path: Path) -> None:
    sol = debug_build(tmp_path / "sol", use64=True)
    code, doc = scan_json(sol)
    assert "aspnetcore-runtime-missing" not in _rules(doc) and code == 0
    [app] = doc["coverage"]["applications"]
    assert app["status"] == "partly-checked" and doc["coverage"]["complete"] is False
    [why] = app["reasons"]
    assert "C:\\Program Files\\dotnet" in why and "Microsoft.AspNetCore.App 8.0.0" in why and "500.31" not in why
    assert app["remedy"].startswith("--drive C=")
    # NOTE: --fail-on-incomplete fails on it, as on any part not read
    res = CliRunner().invoke(main, ["scan", str(sol), "--quiet", "--fail-on-incomplete"])
    assert res.exit_code == 1 and "partly checked" in res.output and "500.31" not in res.output


def test_the_switch_to_the_other_iisexpress_needs_its_runtime_and_says_what_to_pass(tmp_path: Path) -> None:
    _, doc = scan_json(debug_build(tmp_path / "sol", use64=True, app_dll="managed_x86.dll"), "--fail-on", "never")
    [f] = [f for f in doc["findings"] if f["rule"] == "aspnetcore-inprocess-arch"]
    [switch] = [x for x in fixes_of(doc, f) if '"use64Bit": false' in x["summary"]]
    assert switch["verified"] is False
    assert "C:\\Program Files (x86)\\dotnet" in switch["note"]
    assert "--drive C=" in switch["note"]


def _machine(tmp_path: Path, dotnet: str | None) -> Path:
    """A developer machine's C: drive: both IIS Express folders, and ``dotnet`` (an x64 install) or none at all."""
    machine = tmp_path / "c"
    for folder in ("Program Files", "Program Files (x86)"):
        (machine / folder / "IIS Express").mkdir(parents=True)
    (machine / "Windows" / "SysWOW64").mkdir(parents=True)
    if dotnet is not None:
        root = machine / "Program Files" / "dotnet"
        for sub in (f"host/fxr/{dotnet}", f"shared/Microsoft.NETCore.App/{dotnet}",
                    f"shared/Microsoft.AspNetCore.App/{dotnet}"):
            (root / sub).mkdir(parents=True)
        shutil.copyfile(fixture("hostfxr_x64.dll"), root / "host" / "fxr" / dotnet / "hostfxr.dll")
    return machine


def test_a_machine_given_without_the_runtime_keeps_the_finding(tmp_path: Path) -> None:
    sol = debug_build(tmp_path / "sol", use64=True)
    _, doc = scan_json(sol, "--drive", f"C={_machine(tmp_path, None)}")
    [f] = [f for f in doc["findings"] if f["rule"] == "aspnetcore-runtime-missing"]
    assert f["severity"] == "note" and "500.31" in f["symptom"] and "if the machine has no" in f["symptom"]
    assert "--drive C=" not in str(doc["coverage"])


def test_a_machine_given_with_the_runtime_is_checked(tmp_path: Path) -> None:
    sol = debug_build(tmp_path / "sol", use64=True)
    code, doc = scan_json(sol, "--drive", f"C={_machine(tmp_path, '8.0.1')}")
    assert code == 0 and _rules(doc) == [] and doc["coverage"]["complete"] is True, doc["coverage"]
    assert doc["iisexpress"][0]["site"] == CORE


def test_the_load_map_and_the_html_say_the_runtime_was_not_read(tmp_path: Path) -> None:
    sol = debug_build(tmp_path / "sol", use64=True)
    loads = " ".join(CliRunner().invoke(main, ["scan", str(sol), "--quiet", "--loads"]).output.split())
    assert "the .NET install C:\\Program Files\\dotnet was not read: drive C: is not mapped" in loads
    page = tmp_path / "r.html"
    CliRunner().invoke(main, ["scan", str(sol), "--quiet", "--format", "html", "-o", str(page)])
    text = page.read_text(encoding="utf-8")
    assert "the .NET runtime it needs" in text and "was not read, so no finding" not in text


def test_a_machine_given_with_the_other_runtime_only_is_an_error_in_a_developer_s_words(tmp_path: Path) -> None:
    sol = debug_build(tmp_path / "sol", use64=False)
    _, doc = scan_json(sol, "--drive", f"C={_machine(tmp_path, '8.0.1')}", "--fail-on", "never")
    [f] = [f for f in doc["findings"] if f["rule"] == "aspnetcore-runtime-missing"]
    assert f["severity"] == "error" and "C:\\Program Files (x86)\\dotnet" in f["cause"]
    assert "not on the developer machine's drive read" in f["cause"] and "image" not in f["cause"]
