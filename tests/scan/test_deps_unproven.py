"""A dependency search through a folder whose listing proves nothing: not checked, never clean, never a mismatch.

The loader looks for an imported DLL beside the binary, then in the worker's view of System32 (SysWOW64 for a 32-bit
worker on 64-bit Windows: facts D1, "Dynamic-Link Library Search Order" and "File System Redirector",
learn.microsoft.com). A collected zip holds what its scan read: scanned with another ``--os-arch`` than collect's, the
32-bit worker looks in the other folder, whose files the zip holds only by name (seen listed, laid out empty) or not
at all (a folder never listed). Before, such a dependency was "not a valid PE" (a false error naming an empty
placeholder), or was taken as absent (the chain clean, the application "checked").

The image: pool P32 (enable32BitAppOnWin64) loads C:\\Mods\\m.dll (x86, imports chain_dep.dll); System32 holds the x86
chain_dep.dll, SysWOW64 the x64 one. On x64 Windows the 32-bit worker reaches SysWOW64's: a mismatch.
"""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import ScanOptions
from iisbitness.arch import Arch
from iisbitness.image.server_image import ServerImage
from iisbitness.report import Report
from iisbitness.scan.collect import collect_image, scan_collected
from iisbitness.scan.pipeline import scan_image
from tests.conftest import apphost, fixture, make_image, rewrite_manifest, site

POOL = '<add name="P32" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />'
MODULE = '<globalModules><add name="Vendor" image="C:\\Mods\\m.dll" /></globalModules>'
CHAIN = "m.dll -> chain_dep.dll (x64)"


def _server(tmp_path: Path, wow64: bool = True) -> Path:
    c = tmp_path / "C"
    files: dict[str, str | Path | bytes] = {"shop/default.htm": "x", "Mods/m.dll": fixture("chain_top_x86.dll"),
                                            "Windows/System32/chain_dep.dll": fixture("chain_dep_x86.dll")}
    if wow64:
        files["Windows/SysWOW64/chain_dep.dll"] = fixture("chain_dep_x64.dll")
    make_image(c, apphost(POOL, site("Shop", 1, "P32", r"C:\shop"), MODULE), files, wow64=wow64)
    return c


def _mismatch(report: Report) -> list[str]:
    return [f.cause for f in report.findings if f.binary == "C:\\Mods\\m.dll"]


def _not_checked(report: Report, why: str) -> None:
    """The module's dependency is not checked, with ``why``: no finding on it, the application partly checked."""
    assert not _mismatch(report), _mismatch(report)
    [shop] = report.coverage
    assert shop.status.value == "partly-checked", shop
    [reason] = shop.reasons
    assert reason.startswith("'C:\\Mods\\m.dll' (global-module 'Vendor'), which its worker loads, was read, but its "
                             "dependency chain_dep.dll (import, needed by m.dll) was not checked: "), reason
    assert why in reason, reason


def test_the_live_server_finds_the_chain(tmp_path: Path) -> None:
    report = scan_image(ServerImage.machine({"C": _server(tmp_path)}), ScanOptions(os_arch=Arch.X64), "live")
    [cause] = _mismatch(report)
    assert CHAIN in cause


def test_a_zip_collected_on_x86_scanned_as_x64_does_not_check_syswow64(tmp_path: Path) -> None:
    """Collected with --os-arch x86: the worker looked in System32 (clean). As x64, it looks in SysWOW64, whose
    chain_dep.dll the zip holds only by name. Before: "m.dll -> chain_dep.dll (not a valid PE)", an error."""
    zipped = tmp_path / "x86.zip"
    collect_image(ServerImage.machine({"C": _server(tmp_path)}), "live", zipped, ScanOptions(os_arch=Arch.X86))
    with scan_collected(zipped, ScanOptions()) as (same, _):
        assert not _mismatch(same) and same.coverage[0].status.value == "checked"
    with scan_collected(zipped, ScanOptions(os_arch=Arch.X64)) as (other, _):
        _not_checked(other, "C:\\Windows\\SysWOW64\\chain_dep.dll is only a name in the zip")
        assert "(iisbitness collect again" in other.coverage[0].reasons[0]


def test_a_zip_collected_on_x64_scanned_as_x86_does_not_check_system32(tmp_path: Path) -> None:
    """The other way: collected as x64 (the chain found through SysWOW64), scanned as x86 Windows, where the worker
    looks in System32, whose chain_dep.dll the collecting scan never read."""
    zipped = tmp_path / "x64.zip"
    collect_image(ServerImage.machine({"C": _server(tmp_path)}), "live", zipped, ScanOptions(os_arch=Arch.X64))
    with scan_collected(zipped, ScanOptions()) as (same, _):
        [cause] = _mismatch(same)
        assert CHAIN in cause
    with scan_collected(zipped, ScanOptions(os_arch=Arch.X86)) as (other, _):
        _not_checked(other, "C:\\Windows\\System32\\chain_dep.dll is only a name in the zip")


def test_a_search_folder_the_recorder_never_listed_is_not_checked(tmp_path: Path) -> None:
    """A zip whose recorder never listed SysWOW64 (its parent's listing names it: laid out empty). Before: the
    dependency was found nowhere, the chain clean and the application checked."""
    zipped = tmp_path / "x86.zip"
    collect_image(ServerImage.machine({"C": _server(tmp_path)}), "live", zipped, ScanOptions(os_arch=Arch.X86))
    cut = rewrite_manifest(zipped, tmp_path / "cut.zip", lambda manifest: manifest["folders"].pop("C/Windows/SysWOW64"))
    with scan_collected(cut, ScanOptions(os_arch=Arch.X64)) as (other, _):
        _not_checked(other, "folder C:\\Windows\\SysWOW64 was never listed by the scan that collected the zip")


def test_an_offline_image_without_the_workers_system32_view_is_not_checked(tmp_path: Path) -> None:
    """A copy without SysWOW64, scanned as x64: the 32-bit worker would look there next. Before: clean, checked. As
    x86 Windows (System32, which the copy holds): checked, nothing wrong."""
    c = _server(tmp_path, wow64=False)
    _not_checked(scan_image(ServerImage.offline(c), ScanOptions(os_arch=Arch.X64), "img"),
                 "not beside it, and the worker then looks in C:\\Windows\\SysWOW64, which the image does not hold")
    x86 = scan_image(ServerImage.offline(c), ScanOptions(os_arch=Arch.X86), "img")
    assert not _mismatch(x86) and x86.coverage[0].status.value == "checked"
