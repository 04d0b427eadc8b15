"""The live scan's root map, run on Linux over a folder tree standing for a machine: drives C: and D:, a UNC share
and a junction (a symbolic link here) from C:\\inetpub to D:\\inetpub. Offline, the same tree keeps its protections."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from iisbitness.api import ScanOptions
from iisbitness.arch import Arch
from iisbitness.image.server_image import ServerImage
from iisbitness.report import Report
from iisbitness.scan.pipeline import scan_image
from tests.conftest import apphost, fixture, make_image, site

POOL64 = '<add name="P64" managedRuntimeVersion="v4.0" />'
GLOBAL = '<globalModules><add name="Vendor" image="D:\\Vendor\\v.dll" /></globalModules>'
APPS = """<application path="/farm" applicationPool="P64">
                    <virtualDirectory path="/" physicalPath="\\\\FileServer\\Sites\\App" />
                </application>"""


def machine(tmp_path: Path) -> tuple[Path, Path, Path]:
    """``(C, D, shares)``: a production server with its sites on D:, one application on a file server and
    C:\\inetpub a link to D:\\inetpub."""
    c, d, unc = tmp_path / "C", tmp_path / "D", tmp_path / "UNC"
    make_image(c, apphost(POOL64, site("Shop", 1, "P64", r"D:\inetpub\shop", APPS)
                          + site("Linked", 2, "P64", r"C:\inetpub\linked"), GLOBAL))
    for folder in (d / "inetpub/shop/bin", d / "inetpub/linked/bin", d / "Vendor", unc / "fileserver/sites/app/bin"):
        folder.mkdir(parents=True)
    for dest, name in ((d / "inetpub/shop/bin/Shop.dll", "managed_x86.dll"),
                       (d / "inetpub/linked/bin/Linked.dll", "managed_x86.dll"),
                       (d / "Vendor/v.dll", "module_x86.dll"),
                       (unc / "fileserver/sites/app/bin/Farm.dll", "managed_x86.dll")):
        dest.write_bytes(fixture(name).read_bytes())
    os.symlink(d / "inetpub", c / "inetpub", target_is_directory=True)
    return c, d, unc


def found(report: Report) -> set[tuple[str, str]]:
    return {(f.rule, f.binary or "") for f in report.findings}


def test_live_root_map_reads_every_drive_the_share_and_links(tmp_path: Path) -> None:
    c, d, unc = machine(tmp_path)
    img = ServerImage.machine({"C": c, "D": d}, shares=unc)
    for path, shown in ((r"D:\inetpub\shop\bin\Shop.dll", "D:/inetpub/shop/bin/Shop.dll"),
                        (r"\\FILESERVER\sites\app\bin\farm.dll", "//fileserver/sites/app/bin/Farm.dll"),
                        (r"C:\inetpub\linked\bin\Linked.dll", "inetpub/linked/bin/Linked.dll")):
        hit = img.locate(path)
        assert hit.problem is None and hit.shown == shown, path
    report = scan_image(img, ScanOptions(os_arch=Arch.X64), "live")
    assert {"global-module-arch", "managed-assembly-arch"} <= {rule for rule, _ in found(report)}
    binaries = " ".join(b for _, b in found(report))
    for name in ("v.dll", "Shop.dll", "Farm.dll", "Linked.dll"):
        assert name in binaries
    assert not [p for p in report.problems if "not mapped" in p.message or "UNC" in p.message
                or "outside" in p.message]


def test_offline_the_same_tree_refuses_the_share_and_the_link(tmp_path: Path) -> None:
    c, d, _ = machine(tmp_path)
    img = ServerImage.offline(c, {"D": d})
    assert img.locate(r"\\fileserver\sites\app\bin\Farm.dll").problem == (
        "UNC share: not part of the server image (use --share //fileserver/sites=/path/to/copy)")
    linked = img.locate(r"C:\inetpub\linked\bin\Linked.dll")
    assert linked.host_path is None and "outside the server image" in (linked.problem or "")
    assert img.locate(r"D:\inetpub\shop\bin\Shop.dll").found


def test_live_a_link_loop_is_reported_not_followed(tmp_path: Path) -> None:
    c = tmp_path / "C"
    (c / "loop").mkdir(parents=True)
    os.symlink(c / "loop" / "b", c / "loop" / "a")
    os.symlink(c / "loop" / "a", c / "loop" / "b")
    hit = ServerImage.machine({"C": c}).locate(r"C:\loop\a")
    assert hit.host_path is None and "loop" in (hit.problem or "")


def test_live_system_maps_the_running_systems_drives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCESSOR_ARCHITEW6432", "AMD64")
    img = ServerImage.live_system()
    assert img.live and img.follow_links and img.sysnative and img.drives


def test_one_listing_per_folder_for_the_whole_scan(tmp_path: Path) -> None:
    """The image, the dependency search and the bin collector share one listing of each folder (issue 21.4): a bin
    folder was listed three times (locate, bin_files, the dependency search), now once. (The web.config and page
    walks of config/apphost.py and collectors/com.py still list application folders themselves.)"""
    import sys

    c, d, unc = machine(tmp_path)
    listed: list[str] = []

    def hook(event: str, args: tuple[object, ...]) -> None:
        if event == "os.scandir" and args and str(args[0]).startswith(str(tmp_path)):
            listed.append(str(args[0]))

    sys.addaudithook(hook)
    scan_image(ServerImage.machine({"C": c, "D": d}, shares=unc), ScanOptions(os_arch=Arch.X64), "live")
    door = [f for f in listed if f.endswith(("bin", "Vendor", "System32", "SysWOW64"))]
    assert len(door) >= 5 and len(door) == len(set(door)), door


def test_display_and_host_of_are_inverse_for_drives_shares_and_sysnative(tmp_path: Path) -> None:
    """``fix`` writes the file a shown name stands for: live WOW64 shows Windows/System32 but must write through
    Windows/Sysnative (a 32-bit process's System32 is SysWOW64)."""
    c, d, unc = machine(tmp_path)
    (c / "Windows" / "Sysnative").mkdir()
    img = ServerImage.machine({"C": c, "D": d}, shares=unc, sysnative=True)
    for host in (c / "Windows/Sysnative/inetsrv/config/applicationHost.config", d / "inetpub/shop/web.config",
                 unc / "fileserver/sites/app/web.config", c / "inetpub/x.txt"):
        shown = img.display(host)
        assert "Sysnative" not in shown and img.host_of(shown) == host, shown
    assert img.display(c / "Windows/Sysnative/x.dll") == "Windows/System32/x.dll"


def test_live_registry_reads_each_view_with_its_own_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    """Live, both views come from winreg (image/windows.py): the 64-bit view with KEY_WOW64_64KEY even from a
    32-bit Python, the 32-bit one with KEY_WOW64_32KEY (facts E3). Here the registry is a table standing for
    winreg's answers."""
    from iisbitness.image import registry
    from iisbitness.image.registry import LiveRegistry, RegistryView

    clsid = "{6F1C9A3E-2B7D-4E10-9C55-3A8E5D2B1F01}"
    table = {(f"Classes\\CLSID\\{clsid}\\InprocServer32", False): r"C:\Program Files (x86)\Contoso\x.dll",
             ("Classes\\Contoso.X\\CLSID", True): clsid}
    monkeypatch.setattr(registry, "registry_default", lambda key, native: table.get((key, native)))
    live = LiveRegistry()
    assert live.progid_clsid("Contoso.X") == clsid
    assert live.server(clsid, RegistryView.NATIVE) is None
    wow = live.server(clsid, RegistryView.WOW64)
    assert wow is not None and wow.inproc == table[(f"Classes\\CLSID\\{clsid}\\InprocServer32", False)]
    assert wow.key == f"HKLM\\SOFTWARE\\WOW6432Node\\Classes\\CLSID\\{clsid}"


def test_live_every_application_on_d_and_the_share_is_checked_and_an_unreadable_share_says_what_to_do(
        tmp_path: Path) -> None:
    c, d, unc = machine(tmp_path)
    report = scan_image(ServerImage.machine({"C": c, "D": d}, shares=unc), ScanOptions(os_arch=Arch.X64), "live")
    assert {cov.application: cov.status.value for cov in report.coverage} == {
        "Shop/": "checked", "Shop/farm": "checked", "Linked/": "checked"}
    shutil.rmtree(unc / "fileserver")  # the account running the scan cannot reach it
    report = scan_image(ServerImage.machine({"C": c, "D": d}, shares=unc), ScanOptions(os_arch=Arch.X64), "live")
    [farm] = [cov for cov in report.coverage if cov.application == "Shop/farm"]
    assert farm.status.value == "not-checked" and "can read the share" in farm.remedy


@pytest.mark.parametrize(("machine", "arch"), [(0xAA64, Arch.ARM64), (0x8664, Arch.X64), (0x014C, Arch.X86)])
def test_the_native_machine_decides_over_the_environment(monkeypatch: pytest.MonkeyPatch, machine: int,
                                                         arch: Arch) -> None:
    """An x64 Python emulated on ARM64 Windows sees PROCESSOR_ARCHITECTURE=AMD64; IsWow64Process2's native
    machine (IMAGE_FILE_MACHINE_*) is what the live scan takes."""
    from iisbitness.image.windows import native_arch

    monkeypatch.setenv("PROCESSOR_ARCHITECTURE", "AMD64")
    monkeypatch.delenv("PROCESSOR_ARCHITEW6432", raising=False)
    found, source = native_arch(machine)
    assert found is arch
    assert "IsWow64Process2" in source


def test_without_the_native_machine_the_environment_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    from iisbitness.image.windows import native_arch

    monkeypatch.setenv("PROCESSOR_ARCHITECTURE", "x86")
    monkeypatch.setenv("PROCESSOR_ARCHITEW6432", "ARM64")
    assert native_arch()[0] is Arch.ARM64  # not Windows here: no IsWow64Process2, WOW64's variable
    assert native_arch(0x01C4)[0] is Arch.ARM64  # ARMNT is no native machine IIS runs on: the environment


def _absent_modules(tmp_path: Path) -> Path:
    """A live C: whose configuration names a vendor module under %ProgramFiles% that is in neither Program Files
    folder, and Windows' own authanon.dll, absent from a populated inetsrv (its role service removed, its entry left)."""
    c = tmp_path / "C"
    gm = ('<globalModules><add name="Vendor" image="%ProgramFiles%\\Vendor\\m.dll" />'
          '<add name="AnonymousAuthenticationModule" image="%windir%\\System32\\inetsrv\\authanon.dll" />'
          '</globalModules>')
    pools = '<add name="P32" enable32BitAppOnWin64="true" />\n<add name="P64" />'
    make_image(c, apphost(pools, site("A", 1, "P32", "C:\\sites\\a") + site("B", 2, "P64", "C:\\sites\\b"), gm),
               {"sites/a/x.htm": "x", "sites/b/x.htm": "x", "Windows/System32/inetsrv/cachuri.dll": "module_x64.dll",
                "Windows/SysWOW64/inetsrv/cachuri.dll": "module_x86.dll"})
    return c


def _missing_on_server(report: Report) -> None:
    """Each absent file is missing on the server in each worker that looks for it: an error with error 126, never
    "ok [x86, inferred]" from Program Files (x86), never the partial-copy warning for authanon.dll."""
    got = {(f.rule, f.severity.name, f.pool, f.binary) for f in report.findings}
    assert got == {("binary-missing", "ERROR", pool, binary) for pool in ("P32", "P64")
                   for binary in ("%ProgramFiles%\\Vendor\\m.dll", "%windir%\\System32\\inetsrv\\authanon.dll")}
    assert all("error 126" in f.symptom and "missing on the server" in f.cause and not f.arch_inferred
               for f in report.findings)


def test_live_a_file_absent_where_the_process_looks_is_missing_on_the_server(tmp_path: Path) -> None:
    """Live, every folder of the server is there (PlanContext.absence, Absence.on_server): a file absent where the
    worker looks is missing on the server whatever its folder holds. Before, Program Files (x86)\\Vendor (absent)
    decided x86 and the 32-bit worker was taken to load a file that does not exist; authanon.dll was a partial copy."""
    report = scan_image(ServerImage.machine({"C": _absent_modules(tmp_path)}), ScanOptions(os_arch=Arch.X64), "live")
    _missing_on_server(report)


def test_a_zip_collected_on_the_server_decides_missing_as_live(tmp_path: Path) -> None:
    from iisbitness.scan.collect import collect_image, scan_collected
    img = ServerImage.machine({"C": _absent_modules(tmp_path)})
    collect_image(img, "live", tmp_path / "m.zip", ScanOptions(os_arch=Arch.X64))
    with scan_collected(tmp_path / "m.zip", ScanOptions()) as (report, _logs):
        _missing_on_server(report)
