"""What the scan saw absent on the server, and what it never looked at (``ServerImage.locate``, image/server_image.py).

"Missing on the server" (``Absence.missing_on_server``) is said only where the scan read the place the file would be:
- the live server, or a zip collected on it: a drive letter the server does not have holds nothing (the worker fails
  with error 126), where an offline image's unmapped drive stays not checked (``--drive``);
- a share the live scan could not reach, or a folder it could not list, is not checked: never missing;
- a zip: only the folders its recorder listed are evidence; a scan of the zip with other ``--env`` values than the
  collecting scan resolves paths into folders the recorder never listed (laid out empty, or not at all): not checked,
  with a new ``collect`` as the remedy.
Live here is the root map over a folder tree standing for the machine (``ServerImage.machine``), as in
test_live_roots.py.
"""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import ScanOptions
from iisbitness.arch import Arch
from iisbitness.findings import Finding
from iisbitness.image.server_image import ServerImage
from iisbitness.report import Report
from iisbitness.scan.collect import collect_image, scan_collected
from iisbitness.scan.pipeline import scan_image
from tests.conftest import apphost, fixture, make_image, site

POOL = '<add name="P64" managedRuntimeVersion="v4.0" />'


def _server(tmp_path: Path, module: str, files: dict[str, str | Path | bytes] | None = None) -> Path:
    """A live C: whose configuration loads the global module ``module`` in pool P64's worker."""
    c = tmp_path / "C"
    globals_ = f'<globalModules><add name="Vendor" image="{module}" /></globalModules>'
    make_image(c, apphost(POOL, site("Shop", 1, "P64", r"C:\shop"), globals_),
               {"shop/default.htm": "x", **(files or {})})
    return c


def _about(report: Report, binary: str) -> Finding:
    [found] = [f for f in report.findings if f.binary == binary]
    return found


def _not_checked(found: Finding, why: str) -> None:
    """A could-not-check warning saying ``why``: never binary-missing's "missing on the server"."""
    assert (found.rule, found.severity.name, found.binary_not_checked) == ("binary-invalid", "WARNING", True), found
    assert why in found.cause and "missing on the server" not in found.cause, found.cause


def test_live_a_module_on_a_drive_the_server_lacks_is_missing_on_the_server(tmp_path: Path) -> None:
    report = scan_image(ServerImage.machine({"C": _server(tmp_path, r"E:\Vendor\m.dll")}),
                        ScanOptions(os_arch=Arch.X64), "live")
    found = _about(report, "E:\\Vendor\\m.dll")
    assert (found.rule, found.severity.name, found.binary_not_checked) == ("binary-missing", "ERROR", False), found
    assert "error 126" in found.symptom
    assert "drive E: is not a drive of this server, so it is missing on the server" in found.cause
    assert "--drive" not in found.cause


def test_offline_a_drive_the_image_does_not_map_stays_not_checked_with_the_drive_to_give(tmp_path: Path) -> None:
    """An image folder may lack a drive the server has: no evidence of absence."""
    report = scan_image(ServerImage.offline(_server(tmp_path, r"E:\Vendor\m.dll")), ScanOptions(os_arch=Arch.X64),
                        "img")
    _not_checked(_about(report, "E:\\Vendor\\m.dll"), "drive E: is not mapped (use --drive E=/path/to/copy)")


def test_live_a_module_on_a_share_the_scan_cannot_reach_is_not_checked(tmp_path: Path) -> None:
    """Live, a share is read where it is (``//fs/mods/`` here does not exist: no such server, or the scan's account
    cannot reach it): the share's folder could not be listed, which says nothing of the file. Before, its empty
    listing made the module "missing on the server", an error 126 for every pool."""
    report = scan_image(ServerImage.machine({"C": _server(tmp_path, r"\\fs\mods\m.dll")}),
                        ScanOptions(os_arch=Arch.X64), "live")
    found = _about(report, "\\\\fs\\mods\\m.dll")
    _not_checked(found, "share \\\\fs\\mods could not be read from this server (it does not exist, or the scan's "
                        "account cannot reach it")
    [shop] = report.coverage
    assert shop.status.value == "partly-checked" and "m.dll" in shop.reasons[0]


def test_live_a_module_absent_from_a_share_the_scan_read_is_missing_on_the_server(tmp_path: Path) -> None:
    """The share was listed (it holds another module): the file is missing there."""
    unc = tmp_path / "UNC"
    (unc / "fs" / "mods").mkdir(parents=True)
    (unc / "fs" / "mods" / "other.dll").write_bytes(fixture("module_x64.dll").read_bytes())
    report = scan_image(ServerImage.machine({"C": _server(tmp_path, r"\\fs\mods\m.dll")}, shares=unc),
                        ScanOptions(os_arch=Arch.X64), "live")
    found = _about(report, "\\\\fs\\mods\\m.dll")
    assert (found.rule, found.severity.name) == ("binary-missing", "ERROR") and "missing on the server" in found.cause
    gone = scan_image(ServerImage.machine({"C": _server(tmp_path / "2", r"\\fs\other\m.dll")}, shares=unc),
                      ScanOptions(os_arch=Arch.X64), "live")  # NOTE: the stand-in has no such share: not reached
    _not_checked(_about(gone, "\\\\fs\\other\\m.dll"), "share \\\\fs\\other could not be read from this server")


def test_a_zip_scanned_with_another_env_does_not_call_unlisted_folders_missing(tmp_path: Path) -> None:
    """``collect`` on the server read %VENDOR_HOME% as C:\\Vendor; the scan of its zip is given --env VENDOR_HOME=
    C:\\Other\\Vendor. C:\\Other is on the server (C:\\'s listing names it) but the recorder never listed it: the zip
    lays it out empty, and the module was "missing on the server". Now not checked, with a new collect to run; the
    folders the recorder listed still decide (C:\\Vendor lacks n.dll: missing on the server)."""
    c = _server(tmp_path, r"%VENDOR_HOME%\m.dll", {"Vendor/m.dll": "module_x64.dll", "Other/Vendor/m.dll":
                                                   "module_x64.dll"})
    zipped = tmp_path / "web01.zip"
    collect_image(ServerImage.machine({"C": c}), "live", zipped,
                  ScanOptions(os_arch=Arch.X64, env={"VENDOR_HOME": "C:\\Vendor"}))
    with scan_collected(zipped, ScanOptions()) as (same, _):
        assert not [f for f in same.findings if "m.dll" in (f.binary or "")], same.findings
    with scan_collected(zipped, ScanOptions(env={"VENDOR_HOME": "C:\\Other\\Vendor"})) as (other, _):
        found = _about(other, "%VENDOR_HOME%\\m.dll")
        _not_checked(found, "folder C:\\Other was never listed by the scan that collected the zip")
        assert "iisbitness collect again, with the --env and --os-arch values given to this scan" in found.cause
        [shop] = other.coverage
        assert shop.status.value == "partly-checked"
        assert shop.remedy == "iisbitness collect again, with the --env and --os-arch values given to this scan"
    (c / "Vendor" / "m.dll").rename(c / "Vendor" / "n.dll")  # NOTE: C:\Vendor listed, without m.dll
    collect_image(ServerImage.machine({"C": c}), "live", zipped,
                  ScanOptions(os_arch=Arch.X64, env={"VENDOR_HOME": "C:\\Vendor"}))
    with scan_collected(zipped, ScanOptions()) as (lacking, _):
        found = _about(lacking, "%VENDOR_HOME%\\m.dll")
        assert (found.rule, found.severity.name) == ("binary-missing", "ERROR")
        assert "missing on the server" in found.cause


def test_a_zip_does_not_read_a_file_its_collecting_scan_only_saw_listed(tmp_path: Path) -> None:
    """C:\\Vendor holds m.dll (read by collect, %MOD% named it) and x.dll (only listed: a zero-byte placeholder in the
    copy). The zip scanned with --env MOD=C:\\Vendor\\x.dll read the placeholder: "not a Windows binary ... replace it
    with the vendor's original", an error about a file the zip does not hold. Now not checked, with a new collect."""
    c = _server(tmp_path, "%MOD%", {"Vendor/m.dll": "module_x64.dll", "Vendor/x.dll": "module_x86.dll"})
    zipped = tmp_path / "web01.zip"
    collect_image(ServerImage.machine({"C": c}), "live", zipped,
                  ScanOptions(os_arch=Arch.X64, env={"MOD": "C:\\Vendor\\m.dll"}))
    with scan_collected(zipped, ScanOptions(env={"MOD": "C:\\Vendor\\x.dll"})) as (report, _):
        found = _about(report, "%MOD%")
        _not_checked(found, "Vendor/x.dll is only a name in the zip: the scan that collected it saw it listed but did "
                            "not copy it")
        [shop] = report.coverage
        assert shop.status.value == "partly-checked"


def test_a_zip_does_not_call_missing_what_is_on_a_share_the_collecting_scan_never_read(tmp_path: Path) -> None:
    """The collecting scan read one share (its files are in the zip's UNC/ folder), and could not reach another: the
    zip's scan has no listing of it, so the module on it is not checked, as live."""
    unc = tmp_path / "UNC"
    (unc / "fs" / "mods").mkdir(parents=True)
    (unc / "fs" / "mods" / "m.dll").write_bytes(fixture("module_x64.dll").read_bytes())
    c = tmp_path / "C"
    globals_ = ('<globalModules><add name="Read" image="\\\\fs\\mods\\m.dll" />'
                '<add name="Unread" image="\\\\fs\\gone\\u.dll" /></globalModules>')
    make_image(c, apphost(POOL, site("Shop", 1, "P64", r"C:\shop"), globals_), {"shop/default.htm": "x"})
    zipped = tmp_path / "web01.zip"
    collect_image(ServerImage.machine({"C": c}, shares=unc), "live", zipped, ScanOptions(os_arch=Arch.X64))
    with scan_collected(zipped, ScanOptions()) as (report, _):
        assert not [f for f in report.findings if f.binary == "\\\\fs\\mods\\m.dll"]
        _not_checked(_about(report, "\\\\fs\\gone\\u.dll"),
                     "share \\\\fs\\gone could not be read from the server when it was collected")


def test_a_module_on_a_network_drive_of_the_scans_session_is_not_checked_live_or_in_its_zip(tmp_path: Path) -> None:
    """Z: is a network drive mapped for the account running the scan (``GetDriveTypeW``: DRIVE_REMOTE, the live map's
    ``network_drives``). The worker, in a logon session of its own, does not see it ("Services and Redirected
    Drives"): reading the DLL there and calling it loadable said what the scan sees, not what the worker reaches.
    Not checked, naming why and the UNC path to configure; the zip collected there says the same."""
    c, z = tmp_path / "C", tmp_path / "Z"
    make_image(c, apphost(POOL, site("Shop", 1, "P64", r"C:\shop"),
                          '<globalModules><add name="Vendor" image="Z:\\Vendor\\m.dll" /></globalModules>'),
               {"shop/default.htm": "x"})
    (z / "Vendor").mkdir(parents=True)
    (z / "Vendor" / "m.dll").write_bytes(fixture("module_x86.dll").read_bytes())  # NOTE: a mismatch, if it were read
    live = ServerImage.machine({"C": c, "Z": z}, network_drives=frozenset({"Z"}))
    report = scan_image(live, ScanOptions(os_arch=Arch.X64), "live")
    why = "drive Z: is a network drive mapped in the logon session of the scan"
    _not_checked(_about(report, "Z:\\Vendor\\m.dll"), why)
    assert "Services and Redirected Drives" in _about(report, "Z:\\Vendor\\m.dll").cause
    assert not [f for f in report.findings if f.rule == "global-module-arch"]
    zipped = tmp_path / "web01.zip"
    collect_image(ServerImage.machine({"C": c, "Z": z}, network_drives=frozenset({"Z"})), "live", zipped,
                  ScanOptions(os_arch=Arch.X64))
    with scan_collected(zipped, ScanOptions()) as (collected, _):
        _not_checked(_about(collected, "Z:\\Vendor\\m.dll"), why)
    local = scan_image(ServerImage.machine({"C": c, "Z": z}), ScanOptions(os_arch=Arch.X64), "live")
    assert [f.rule for f in local.findings if f.binary == "Z:\\Vendor\\m.dll"] == ["global-module-arch"]


def test_the_load_map_names_the_drive_the_server_lacks(tmp_path: Path) -> None:
    report = scan_image(ServerImage.machine({"C": _server(tmp_path, r"E:\Vendor\m.dll")}),
                        ScanOptions(os_arch=Arch.X64, load_map=True), "live")
    assert report.loads is not None
    rows = [(e.verdict.value, e.reason) for e in report.loads if e.configured == "E:\\Vendor\\m.dll"]
    why = "drive E: is not a drive of this server, which the scan read itself: missing on the server"
    assert rows == [("missing", why)], rows
