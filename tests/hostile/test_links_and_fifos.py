"""Links and special files where configuration and binaries should be (issue 26): a web.config or an
applicationHost.config that links out of an offline image is named and not read; bin entries that are FIFOs,
links out of the image, links to /dev/zero or to nothing are listed as not read, with why, by scan and check-app."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from hostile_helpers import APPHOST_REL, PE_BIN, apphost, healthy, make_image, run

from iisbitness.errors import FixError
from iisbitness.image.server_image import ServerImage
from iisbitness.scan.fix import apply_fix, plan_fix

# a web.config that, if read, gives a finding: a 32-bit ISAPI filter in the 64-bit pool of site Main
FILTER_WEB_CONFIG = ('<?xml version="1.0"?>\n<configuration><system.webServer><isapiFilters>'
                     '<filter name="OutsideFilter" path="C:\\filters\\f.dll"/></isapiFilters></system.webServer>'
                     '</configuration>\n')


def _json(*args: str | os.PathLike[str]) -> dict:  # type: ignore[type-arg]
    r = run(*args, "--format", "json")
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.output)  # type: ignore[no-any-return]


def _image_with_filter(tmp_path: Path) -> Path:
    """The base image, a 32-bit ISAPI filter for a web.config to name, and a 64-bit-only module that keeps the pool
    64-bit (so that the filter's fix is its preCondition, in the web.config); isapiFilters unlocked, as a web.config
    may set it only then (a stock IIS locks it)."""
    module = '<add name="M64" image="C:\\filters\\m64.dll" preCondition="bitness64" />'
    unlock = '<location path="" overrideMode="Allow"><system.webServer><isapiFilters /></system.webServer></location>'
    image = make_image(tmp_path / "img", apphost(extra_modules=module, extra=unlock))
    (image / "filters").mkdir()
    shutil.copy(PE_BIN / "filter_x86.dll", image / "filters" / "f.dll")
    shutil.copy(PE_BIN / "module_x64.dll", image / "filters" / "m64.dll")
    return image


def test_a_web_config_linking_out_of_the_image_is_named_and_not_read(tmp_path: Path) -> None:
    image = _image_with_filter(tmp_path)
    outside = tmp_path / "outside.config"
    outside.write_text(FILTER_WEB_CONFIG)
    (image / "inetpub/main/web.config").symlink_to(outside)
    report = _json("scan", image)
    assert healthy(report)
    assert not any("OutsideFilter" in json.dumps(f) for f in report["findings"])
    (problem,) = [p for p in report["problems"] if p["file"] == "inetpub/main/web.config"]
    assert problem["message"].startswith(f"resolves outside the server image (a link to {outside})")
    assert "not analysed" in problem["message"]


def test_a_web_config_linking_inside_the_image_is_read_but_never_replaced(tmp_path: Path) -> None:
    image = _image_with_filter(tmp_path)
    real = image / "shared-config" / "web.config"
    real.parent.mkdir()
    real.write_text(FILTER_WEB_CONFIG)
    link = image / "inetpub/main/web.config"
    link.symlink_to("../../shared-config/web.config")
    report = _json("scan", image)
    assert any(f["rule"] == "isapi-filter-arch" for f in report["findings"])  # a link inside the image is followed
    plan = plan_fix(image, rules=["isapi-filter-arch"])
    assert [c.shown for c in plan.changes] == ["inetpub/main/web.config"]
    try:
        apply_fix(plan)
    except FixError as e:
        assert "inetpub/main/web.config: is a symbolic link" in str(e)
    else:
        raise AssertionError("a link was replaced")
    assert link.is_symlink() and real.read_text() == FILTER_WEB_CONFIG


def test_an_applicationhost_config_linking_out_says_so(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    cfg = image / APPHOST_REL
    outside = tmp_path / "outside.config"
    shutil.move(cfg, outside)
    cfg.symlink_to(outside)
    r = run("scan", image)
    assert r.exit_code == 2
    assert "applicationHost.config resolves outside the server image" in r.output
    assert f"a link to {outside}" in r.output and "no Windows/System32" not in r.output


def test_a_registry_hive_linking_out_is_named_as_not_followed(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    outside = tmp_path / "SOFTWARE"
    outside.write_bytes(b"regf")
    (image / "Windows" / "System32" / "config").mkdir(parents=True, exist_ok=True)
    (image / "Windows" / "System32" / "config" / "SOFTWARE").symlink_to(outside)
    registry, why = ServerImage.offline(image).open_registry()
    assert registry is None and why is not None
    assert f"Windows/System32/config/SOFTWARE resolves outside the server image (a link to {outside})" in why
    assert "no registry hive" not in why


def _hostile_bin(tmp_path: Path, bin_folder: Path) -> dict[str, str]:
    """Special entries in a bin folder, each with the words its reason must hold."""
    outside = tmp_path / "outside_x86.dll"
    shutil.copy(PE_BIN / "managed_x86.dll", outside)
    os.mkfifo(bin_folder / "Pipe.dll")
    (bin_folder / "Zero.dll").symlink_to("/dev/zero")
    (bin_folder / "Out.dll").symlink_to(outside)
    (bin_folder / "Gone.dll").symlink_to(bin_folder / "nothing.dll")
    (bin_folder / "Loop.dll").symlink_to(bin_folder / "Loop.dll")
    return {"Pipe.dll": "a FIFO (named pipe), not a file: not read",
            "Zero.dll": "a symbolic link to /dev/zero (a character device), not a file: not read",
            "Out.dll": f"resolves outside the server image (a link to {outside}); not followed",
            "Gone.dll": "a symbolic link to nothing (dangling, or a loop): not read",
            "Loop.dll": "a symbolic link to nothing (dangling, or a loop): not read"}


def _not_read(report: dict, folder: str) -> dict[str, str]:  # type: ignore[type-arg]
    out = {}
    for f in report["findings"]:
        if f["rule"] == "binary-invalid" and f["binary"] and f["binary"].startswith(folder):
            out[f["binary"].replace("/", "\\").rsplit("\\", 1)[-1]] = f["cause"]
    return out


def test_bin_entries_that_are_not_files_are_listed_as_not_read_by_scan(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    bin_folder = image / "inetpub/main/bin"
    expected = _hostile_bin(tmp_path, bin_folder)
    inside = image / "lib" / "Inside.dll"
    inside.parent.mkdir()
    shutil.copy(PE_BIN / "managed_x86.dll", inside)
    (bin_folder / "Inside.dll").symlink_to("../../../lib/Inside.dll")
    report = _json("scan", image)
    assert healthy(report)
    listed = _not_read(report, "C:\\inetpub\\main\\bin")
    assert set(listed) == set(expected), listed
    for name, why in expected.items():
        assert why in listed[name], (name, listed[name])
    # a link that stays inside the image is read like a file
    assert any(f["rule"] == "managed-assembly-arch" and (f["binary"] or "").endswith("Inside.dll")
               for f in report["findings"])


def test_bin_entries_that_are_not_files_are_listed_as_not_read_by_check_app(tmp_path: Path) -> None:
    publish = tmp_path / "build" / "publish"
    (publish / "bin").mkdir(parents=True)
    shutil.copy(PE_BIN / "managed_anycpu.dll", publish / "bin" / "App.dll")
    expected = _hostile_bin(tmp_path, publish / "bin")
    report = _json("check-app", publish, "--pool-arch", "x64")
    listed = _not_read(report, f"{publish.resolve().as_posix()}/bin")  # NOTE: check-app names the build's own path
    assert set(listed) == set(expected), listed
    for name, why in expected.items():
        assert why in listed[name], (name, listed[name])


def test_a_web_config_that_is_a_fifo_is_named_as_not_read(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    os.mkfifo(image / "inetpub/main/web.config")
    report = _json("scan", image)
    assert healthy(report)
    (problem,) = [p for p in report["problems"] if p["file"] == "inetpub/main/web.config"]
    assert problem["message"].startswith("not a regular file") and "not analysed" in problem["message"]


def test_an_iis6_metabase_linking_out_says_so(tmp_path: Path) -> None:
    image = tmp_path / "img"
    inetsrv = image / "Windows/System32/inetsrv"
    inetsrv.mkdir(parents=True)
    outside = tmp_path / "MetaBase.xml"
    outside.write_text('<?xml version="1.0"?><configuration xmlns="urn:microsoft-catalog:XML_Metabase_V64_0"/>')
    (inetsrv / "MetaBase.xml").symlink_to(outside)
    r = run("scan", image)
    assert r.exit_code == 2
    assert "MetaBase.xml resolves outside the server image" in r.output and str(outside) in r.output


def test_a_web_config_below_a_folder_link_inside_the_image_is_read_one_outside_or_looping_is_not(
        tmp_path: Path) -> None:
    """IIS reads the web.config of a folder below a junction or folder link; the walk followed no folder link at
    all (SECURITY.md: a link that stays inside the image is followed, as IIS would). A folder link out of the
    image is not walked, and one back up the tree is not walked twice."""
    image = _image_with_filter(tmp_path)
    shared = image / "shared" / "reports"
    shared.mkdir(parents=True)
    (shared / "web.config").write_text("<configuration><system.webServer")  # not XML: a problem naming it
    (image / "inetpub/main/reports").symlink_to(shared)
    outside = tmp_path / "outside-folder"
    outside.mkdir()
    (outside / "web.config").write_text("<configuration><system.webServer")
    (image / "inetpub/main/out").symlink_to(outside)
    (image / "inetpub/main/up").symlink_to(image / "inetpub")
    report = _json("scan", image)
    files = [p["file"] for p in report["problems"]]
    assert "inetpub/main/reports/web.config" in files, files
    assert not any("out/web.config" in f for f in files), files
