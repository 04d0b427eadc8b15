"""``--iisexpress-arch arm64``: an ARM64 ``iisexpress.exe`` runs on Windows on Arm only (facts F1.7), so with the OS
only assumed the scan takes it as arm64 and says why; an OS given as another is exit 2 naming both (audit9 H3: before,
an arm64 process on the assumed x64 OS, and every IIS Express module inferred x64 from its own folder an error)."""

from __future__ import annotations

from pathlib import Path

from tests.iisexpress.solution import classic_solution, run, scan_json


def test_arm64_iisexpress_takes_the_os_as_arm64_when_it_was_only_assumed(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path / "sol", "")
    _, doc = scan_json(sol, "--iisexpress-arch", "arm64", "--fail-on", "never")
    server = doc["server"]
    assert isinstance(server, dict)
    assert server["os_arch"] == "arm64"
    assert "--iisexpress-arch arm64" in server["os_arch_from"]
    findings = doc["findings"]
    assert isinstance(findings, list)
    # NOTE: IIS Express's own modules are no longer errors inferred x64 from the folder of the arm64 process itself
    assert not [f for f in findings if f["severity"] == "error" and f["binary"].startswith("%IIS_BIN%")]


def test_arm64_iisexpress_on_an_os_given_as_x64_is_exit_2_naming_both(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path / "sol", "")
    res = run(sol, "--iisexpress-arch", "arm64", "--os-arch", "x64")
    assert res.exit_code == 2
    assert "--iisexpress-arch arm64" in res.output and "x64 (--os-arch)" in res.output
