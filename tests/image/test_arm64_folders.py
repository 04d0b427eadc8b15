"""Folder inference on ARM64 Windows (audit9 H7): each well-known folder decides a missing binary's architecture only
where the sources say what it holds there. ``Microsoft.NET\\Framework64`` does not on ARM64 (.NET Framework 4.8.1 runs
natively on Arm64 and no Microsoft document says which builds Framework64 holds there): an arm64 process's
Framework64 modules were errors "[x64, inferred]" of files nobody read; they are now not checked, and said why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.image.paths import infer_from_location, undecided
from tests.conftest import apphost, make_image, site
from tests.iisexpress.solution import classic_solution, scan_json

W = "C:\\Windows\\"
NET64 = W + "Microsoft.NET\\Framework64\\v4.0.30319\\webengine4.dll"


@pytest.mark.parametrize(("path", "arches"), [
    (W + "System32\\inetsrv\\static.dll", {Arch.X64, Arch.ARM64}),  # NOTE: Arm64X (facts A7)
    (W + "SysWOW64\\inetsrv\\static.dll", {Arch.X86}),
    (W + "Microsoft.NET\\Framework\\v4.0.30319\\webengine4.dll", {Arch.X86}),
    (W + "Microsoft.NET\\FrameworkArm64\\v4.0.30319\\webengine4.dll", {Arch.ARM64}),
    (NET64, None),
    ("C:\\Program Files (x86)\\Vendor\\m.dll", {Arch.X86}),
    ("C:\\Program Files\\Vendor\\m.dll", None),  # NOTE: x64 and arm64 programs both (facts A7)
    ("C:\\Program Files\\IIS\\Asp.Net Core Module\\V2\\aspnetcorev2.dll", None),  # NOTE: mixed builds (facts A8)
    ("C:\\Program Files\\IIS Express\\static.dll", None),
    (W + "SysArm32\\m.dll", None),  # NOTE: 32-bit Arm: no IIS process is
])
def test_each_folder_on_arm64(path: str, arches: set[Arch] | None) -> None:
    got = infer_from_location(path, Arch.ARM64)
    assert (set(got.arches) if got is not None else None) == arches


def test_framework64_is_x64_on_x64_windows_and_undecided_only_on_arm64() -> None:
    got = infer_from_location(NET64, Arch.X64)
    assert got is not None and got.arches == {Arch.X64}
    assert undecided(NET64, Arch.X64) is None
    why = undecided(NET64, Arch.ARM64)
    assert why is not None and "Framework64" in why and "4.8.1" in why
    assert undecided(W + "Microsoft.NET\\FrameworkArm64\\v4.0.30319\\webengine4.dll", Arch.ARM64) is None


def test_arm64_iisexpress_framework64_modules_are_not_checked_not_x64_errors(tmp_path: Path) -> None:
    """The audit's case: ``scan SOLUTION --iisexpress-arch arm64 --os-arch arm64`` said "ERROR global-module-arch
    ...\\Framework64\\v4.0.30319\\webengine4.dll [x64, inferred]" (and isapi-filter-arch for aspnet_filter.dll)."""
    sol = classic_solution(tmp_path / "sol", "")
    _, doc = scan_json(sol, "--iisexpress-arch", "arm64", "--os-arch", "arm64", "--fail-on", "never")
    findings = doc["findings"]
    assert isinstance(findings, list)
    net64 = [f for f in findings if "\\Framework64\\" in f["binary"]]
    assert net64 and {(f["rule"], f["severity"], f["evidence"]) for f in net64} == {
        ("binary-missing", "warning", "unknown")}
    assert all("no Microsoft document says which builds Microsoft.NET\\Framework64 holds" in f["cause"] for f in net64)


def test_native_arm64_pool_framework64_module_in_a_configuration_only_image(tmp_path: Path) -> None:
    """IIS on ARM64: a native ARM64 pool (enableEmulationOnWinArm64="false", facts A6) whose image lacks the
    Framework64 module: not checked (a warning, and the load map says why), not an x64 error."""
    pools = ('            <add name="Arm" managedRuntimeVersion="v4.0" enableEmulationOnWinArm64="false" />')
    modules = ('        <globalModules>\n            <add name="ManagedEngineV4.0_64bit" '
               'image="%windir%\\Microsoft.NET\\Framework64\\v4.0.30319\\webengine4.dll" '
               'preCondition="integratedMode,runtimeVersionv4.0,bitness64" />\n        </globalModules>')
    text = apphost(pools, site("S", 1, "Arm", "C:\\inetpub\\s"), webserver=modules)
    report = scan(make_image(tmp_path, text), ScanOptions(os_arch=Arch.ARM64, load_map=True))
    assert [p.worker_arch for p in report.pools] == [Arch.ARM64]
    assert [(f.rule, f.severity.label) for f in report.findings if "webengine4" in (f.binary or "")] == [
        ("binary-missing", "warning")]
    [entry] = [e for e in report.loads or () if e.name == "ManagedEngineV4.0_64bit"]
    assert entry.verdict.value == "unknown" and "Framework64" in entry.reason
    assert json.dumps(entry.reason).count("no Microsoft document") == 1
