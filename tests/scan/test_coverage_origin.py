"""Coverage said of the server itself where the image is the server (live) or a zip collected on it, and a new
``collect`` as the remedy of a zip made from an image folder: the offline words ("not in the image", "copy ... into
the image", ``--drive``, ``--share``) named an image that does not exist, or an option the zip's scan refuses."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from iisbitness.api import ScanOptions
from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.image.server_image import ServerImage
from iisbitness.report import Report
from iisbitness.scan.pipeline import scan_image
from tests.conftest import apphost, fixture, make_image, site

POOL = '<add name="P64" managedRuntimeVersion="v4.0" />'
SITES = (site("Gone", 1, "P64", r"C:\inetpub\gone") + site("OnE", 2, "P64", r"E:\sites\x")
         + site("Share", 3, "P64", r"\\fs\sites\x"))


def _coverage(report: Report) -> dict[str, tuple[tuple[str, ...], str]]:
    return {c.application: (c.reasons, c.remedy) for c in report.coverage}


def test_live_an_absent_folder_or_drive_is_absent_from_this_server(tmp_path: Path) -> None:
    c, unc = tmp_path / "C", tmp_path / "UNC"
    make_image(c, apphost(POOL, SITES))
    unc.mkdir()
    got = _coverage(scan_image(ServerImage.machine({"C": c}, shares=unc), ScanOptions(os_arch=Arch.X64), "live"))
    assert got["Gone/"] == (("folder C:\\inetpub\\gone does not exist on this server",), "")
    assert got["OnE/"] == (("folder E:\\sites\\x does not exist on this server",), "")  # NOTE: the server has no E:
    assert got["Share/"][0] == (("physicalPath \\\\fs\\sites\\x: share \\\\fs\\sites could not be read from this server (it "
                                 "does not exist, or the scan's account cannot reach it): not checked"),)
    assert got["Share/"][1].startswith("scan on the server with an account that can read the share")


def test_a_zip_collected_on_the_server_lacks_what_the_server_lacked(tmp_path: Path) -> None:
    """A zip whose manifest names the host it was collected on (``iisbitness collect`` on the server writes it) is
    the server's: image/archive.py maps it to ``collected == "server"``, and its gaps are the server's own. (The
    test set ``collected`` by hand before, so that mapping was never exercised.)"""
    img = make_image(tmp_path / "img", apphost(POOL, site("Gone", 1, "P64", r"C:\inetpub\gone")))
    zipped, on_server = tmp_path / "image.zip", tmp_path / "server.zip"
    assert CliRunner().invoke(main, ["collect", str(img), "-o", str(zipped)]).exit_code == 0
    with zipfile.ZipFile(zipped) as src, zipfile.ZipFile(on_server, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                assert manifest.get("host") is None  # NOTE: collected from an image folder: no host
                data = json.dumps({**manifest, "host": "WEB01"}, indent=1, sort_keys=True).encode()
            out.writestr(info, data)
    res = CliRunner().invoke(main, ["scan", str(on_server), "--format", "json"])
    [gone] = [a for a in json.loads(res.output)["coverage"]["applications"] if a["application"] == "Gone/"]
    assert gone["reasons"] == ["folder C:\\inetpub\\gone does not exist on the server when it was collected"]
    assert not gone["remedy"], gone


def test_a_zip_collected_from_an_image_folder_names_a_new_collect(tmp_path: Path) -> None:
    img = make_image(tmp_path / "img", apphost(POOL, SITES))
    zipped = tmp_path / "server.zip"
    assert CliRunner().invoke(main, ["collect", str(img), "-o", str(zipped)]).exit_code == 0
    got = _coverage(scan_image(ServerImage.offline(img, {}), ScanOptions(os_arch=Arch.X64), "img"))
    res = CliRunner().invoke(main, ["scan", str(zipped), "--format", "json"])
    remedies = {a["application"]: a["remedy"] for a in json.loads(res.output)["coverage"]["applications"]}
    assert remedies["Gone/"] == f"a new zip: {got['Gone/'][1]}, then iisbitness collect again"
    assert remedies["OnE/"] == ("a new zip (a scan of this one takes no --drive): iisbitness collect again with "
                                "--drive E=/path/to/copy")
    assert remedies["Share/"].startswith("a new zip (a scan of this one takes no --share): iisbitness collect again "
                                         "with --share //fs/sites=/path/to/copy")


def test_a_global_module_not_read_leaves_its_pools_applications_partly_checked(tmp_path: Path) -> None:
    """A global module on drive E:, which no --drive maps, is loaded by every worker: the applications of those pools
    were "checked" over it (a binary-invalid warning aside), and --fail-on-incomplete passed. Now each is partly
    checked, with the module, why and the --drive to give; an application not checked already keeps its own reason."""
    globals_ = '<globalModules><add name="EVendor" image="E:\\Vendor\\e.dll" /></globalModules>'
    img = make_image(tmp_path / "img", apphost(POOL, site("Shop", 1, "P64", r"C:\shop") + site("Gone", 2, "P64",
                                                                                             r"C:\gone"), globals_))
    (img / "shop").mkdir()
    got = {c.application: c for c in scan_image(ServerImage.offline(img, {}), ScanOptions(os_arch=Arch.X64),
                                                 "img").coverage}
    assert got["Shop/"].status.value == "partly-checked"
    why = ("'E:\\Vendor\\e.dll' (global-module 'EVendor'), which its worker loads, was not read: drive E: is not mapped "
           "(use --drive E=/path/to/copy)")
    assert got["Shop/"].reasons == (why,)
    assert got["Shop/"].remedy == "--drive E=/path/to/copy"
    assert got["Gone/"].reasons == ("folder C:\\gone is not in the image",)
    res = CliRunner().invoke(main, ["scan", str(img), "--fail-on", "never", "--fail-on-incomplete"])
    assert res.exit_code == 1, res.output
    e = tmp_path / "E"
    (e / "Vendor").mkdir(parents=True)
    (e / "Vendor" / "e.dll").write_bytes(fixture("module_x64.dll").read_bytes())
    mapped = scan_image(ServerImage.offline(img, {"E": e}), ScanOptions(os_arch=Arch.X64), "img")
    assert {c.application: c.status.value for c in mapped.coverage}["Shop/"] == "checked"


def test_a_global_module_behind_an_unknown_variable_gives_the_env_to_pass(tmp_path: Path) -> None:
    """Review r10 #8: a module at ``%MYVAR%\\m.dll`` (a variable the worker does not have) left its pool's applications
    partly checked with a reason that says --env, and no remedy: now ``--env MYVAR=VALUE``, and with it the module
    is read."""
    globals_ = '<globalModules><add name="Mine" image="%MYVAR%\\m.dll" /></globalModules>'
    img = make_image(tmp_path / "img", apphost(POOL, site("Shop", 1, "P64", r"C:\shop"), globals_),
                     {"Vendor/m.dll": "module_x64.dll"})
    (img / "shop").mkdir()
    got = {c.application: c for c in scan_image(ServerImage.offline(img, {}), ScanOptions(os_arch=Arch.X64),
                                                 "img").coverage}
    assert got["Shop/"].status.value == "partly-checked" and "--env" in got["Shop/"].reasons[0]
    assert got["Shop/"].remedy == "--env MYVAR=VALUE"
    given = scan_image(ServerImage.offline(img, {}), ScanOptions(os_arch=Arch.X64, env={"MYVAR": "C:\\Vendor"}), "img")
    assert {c.application: c.status.value for c in given.coverage}["Shop/"] == "checked"


def test_live_a_global_module_on_a_drive_the_server_lacks_is_missing_on_the_server(tmp_path: Path) -> None:
    """Live, every drive of the server is mapped: a binary on another drive letter said "drive E: is not mapped (use
    --drive E=/path/to/copy)", an option of offline scans; then a could-not-check binary-invalid warning, its pool's
    application partly checked. The server has no E:, so the worker cannot load the file (error 126): binary-missing's
    "missing on the server" error, naming the drive, the application checked."""
    c = tmp_path / "C"
    globals_ = '<globalModules><add name="EVendor" image="E:\\Vendor\\e.dll" /></globalModules>'
    make_image(c, apphost(POOL, site("Shop", 1, "P64", r"C:\shop"), globals_))
    (c / "shop").mkdir()
    (tmp_path / "UNC").mkdir()
    report = scan_image(ServerImage.machine({"C": c}, shares=tmp_path / "UNC"), ScanOptions(os_arch=Arch.X64), "live")
    [shop] = report.coverage
    assert shop.status.value == "checked" and shop.reasons == () and shop.remedy == "", shop
    [found] = [f for f in report.findings if f.binary == "E:\\Vendor\\e.dll"]
    assert (found.rule, found.severity.name, found.binary_not_checked) == ("binary-missing", "ERROR", False)
    assert "error 126" in found.symptom
    assert "drive E: is not a drive of this server, so it is missing on the server" in found.cause
    assert not [f for f in report.findings if "--drive" in f.cause]


def test_one_predicate_for_a_binary_the_scan_could_not_read(tmp_path: Path) -> None:
    """A finding about a binary the scan could not read and the coverage that counts it used two predicates (the
    finding's rule, severity and fixes; the load's problem and image): now both read BinaryRef.unreadable. A
    module on a drive not mapped is one (its pool's application partly checked); a file read that is not a PE is
    not (an error with its own cause, the application checked)."""
    globals_ = ('<globalModules><add name="EVendor" image="E:\\Vendor\\e.dll" />'
                '<add name="Broken" image="C:\\Vendor\\broken.dll" /></globalModules>')
    img = make_image(tmp_path / "img", apphost(POOL, site("Shop", 1, "P64", r"C:\shop"), globals_),
                     {"Vendor/broken.dll": "corrupt_mz_only.dll"})
    (img / "shop").mkdir()
    report = scan_image(ServerImage.offline(img, {}), ScanOptions(os_arch=Arch.X64), "img")
    by_binary = {f.binary: f for f in report.findings if f.rule == "binary-invalid"}
    assert by_binary["E:\\Vendor\\e.dll"].binary_not_checked
    assert not by_binary["C:\\Vendor\\broken.dll"].binary_not_checked
    [shop] = report.coverage
    assert shop.status.value == "partly-checked" and len(shop.reasons) == 1 and "e.dll" in shop.reasons[0]


def test_live_a_unc_path_not_read_gives_no_remedy_of_scanning_on_the_server(tmp_path: Path) -> None:
    """On the live server a UNC physicalPath that is no \\\\server\\share path said "scan on the server itself, or
    run iisbitness collect there" as its remedy: the scan was on the server. (coverage now decides by the kind of
    gap, not by rewriting its own sentences.)"""
    c, unc = tmp_path / "C", tmp_path / "UNC"
    make_image(c, apphost(POOL, site("Bad", 1, "P64", r"\\fs")))
    unc.mkdir()
    got = _coverage(scan_image(ServerImage.machine({"C": c}, shares=unc), ScanOptions(os_arch=Arch.X64), "live"))
    reasons, remedy = got["Bad/"]
    assert reasons and "not a \\\\server\\share path" in reasons[0] and remedy == "", got
    offline = _coverage(scan_image(ServerImage.offline(c, {}), ScanOptions(os_arch=Arch.X64), "img"))
    assert offline["Bad/"][1].startswith("scan on the server itself"), offline
