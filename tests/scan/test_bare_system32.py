"""A hand copy of ``System32\\inetsrv`` (docs/images.md's robocopy lines) holds ``Windows/System32`` with sub-folders
only, none of System32's own DLLs. A vendor module's import that is not beside it is looked for there next by the
loader (facts D1, "Dynamic-Link Library Search Order"): the copy cannot say whether the server has it, so the
dependency is not checked and the application partly checked, naming the file to copy. It was a clean chain and
"checked", as if the folder had been searched. A System32 holding DLLs keeps its meaning (searched), and an assembly
reference is never looked for in System32 (the CLR binds from the GAC and the application's folders).

Real inputs: the compiler-built chain_top_x64.dll (imports chain_dep.dll) and ManagedApp.dll (references
managed_x86), laid out in temporary images."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.report import CoverageStatus, Report
from tests.conftest import apphost, make_image, site

MODULE = """        <globalModules>
            <add name="VendorTop" image="%ProgramFiles%\\Vendor\\top.dll" preCondition="bitness64" />
        </globalModules>
"""


def _scan(root: Path, files: dict[str, str | Path | bytes]) -> Report:
    make_image(root, apphost('            <add name="P64" managedRuntimeVersion="v4.0" />',
                             site("Shop", 1, "P64", "C:\\inetpub\\shop"), MODULE),
               {"Program Files/Vendor/top.dll": "chain_top_x64.dll", "inetpub/shop/default.htm": "<html/>", **files})
    return scan(root, ScanOptions(os_arch=Arch.X64))


def test_a_dependency_a_system32_copied_without_its_dlls_may_hold_is_not_checked(tmp_path: Path) -> None:
    report = _scan(tmp_path, {})
    [c] = report.coverage
    assert c.status is CoverageStatus.PARTLY, c
    [why] = c.reasons
    assert "its dependency chain_dep.dll (import, needed by top.dll) was not checked" in why
    assert "C:\\Windows\\System32, which the image holds without its own DLLs" in why
    assert c.remedy == "copy C:\\Windows\\System32\\chain_dep.dll into the image as Windows/System32/chain_dep.dll"


def test_a_system32_holding_dlls_is_searched_and_an_assembly_reference_never_looks_there(tmp_path: Path) -> None:
    report = _scan(tmp_path, {"Windows/System32/version.dll": "nativelib_x64.dll",
                              "inetpub/shop/bin/ManagedApp.dll": "ManagedApp.dll"})
    [c] = report.coverage
    assert c.status is CoverageStatus.CHECKED, c


def test_an_assembly_reference_is_not_said_to_be_looked_for_in_system32(tmp_path: Path) -> None:
    report = _scan(tmp_path, {"Windows/System32/version.dll": "nativelib_x64.dll"})
    assert [c.status for c in report.coverage] == [CoverageStatus.CHECKED]
    bare = _scan(tmp_path / "bare", {"Program Files/Vendor/chain_dep.dll": "chain_dep_x64.dll",
                                     "inetpub/shop/bin/ManagedApp.dll": "ManagedApp.dll"})
    [c] = bare.coverage
    assert c.status is CoverageStatus.CHECKED, c
