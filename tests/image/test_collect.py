"""``iisbitness collect``: the scan of the copy is the scan of the server (demo images, a fixture machine with
drives C: and D:, a UNC share and a junction, a real configuration from the shared corpus); the manifest says what
is in it; hostile zips exit 2 and write nothing."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.formats import scan_json
from iisbitness.image.server_image import ServerImage
from iisbitness.model.source import Problem
from iisbitness.report import Report
from iisbitness.scan.collect import collect, collect_image, scan_collected
from iisbitness.scan.pipeline import scan_image
from tests.conftest import CORPUS, DEMO, fixture, rewrite_manifest
from tests.image.test_live_roots import machine


def doc(report: Report) -> dict[str, object]:
    """The JSON document without the image label (the folder, or the zip)."""
    out = json.loads(scan_json.render(report))
    out["server"].pop("image")
    return out


def rescanned(zip_path: Path, options: ScanOptions | None = None) -> Report:
    with scan_collected(zip_path, options or ScanOptions()) as (report, _):
        return report


@pytest.mark.parametrize("name", ["contoso-iis10", "w2003-iis6"])
def test_scan_of_the_collected_demo_is_the_scan_of_the_demo(name: str, tmp_path: Path) -> None:
    done = collect(DEMO / name, tmp_path / "server.zip", ScanOptions())
    assert done.files > 0 and done.left_out == []
    assert doc(rescanned(tmp_path / "server.zip")) == doc(scan(DEMO / name))


def test_collect_and_scan_zip_on_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "server.zip"
    r = CliRunner().invoke(main, ["collect", str(DEMO / "contoso-iis10"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "wrote" in r.stderr and out.is_file() and not (tmp_path / "server.zip.part").exists()
    a = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--format", "json"])
    b = CliRunner().invoke(main, ["scan", str(out), "--format", "json"])
    assert a.exit_code == b.exit_code == 1
    assert a.stdout.replace(str(DEMO / "contoso-iis10"), "X") == b.stdout.replace(str(out), "X")


def test_manifest_names_every_file_with_its_hash_and_the_registry_answers(tmp_path: Path) -> None:
    collect(DEMO / "contoso-iis10", tmp_path / "s.zip", ScanOptions())
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for name, entry in manifest["files"].items():
            data = zf.read(name)
            assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        names = set(zf.namelist())
    assert manifest["format"] == "iisbitness/collect/1" and manifest["tool"].startswith("iisbitness ")
    assert manifest["os_arch"] == "x64" and manifest["drives"] == {"C": "C"} and manifest["created"]
    assert "C/Windows/System32/inetsrv/config/applicationHost.config" in names
    assert not any(n.endswith("config/SOFTWARE") for n in names)  # the hive's answers, not the hive
    assert manifest["registry"]["progids"]["contoso.mailer"].startswith("{")
    assert "inetsrv" in manifest["folders"]["C/Windows/System32"]["folders"]


def test_the_collected_machine_keeps_its_drives_share_and_junction(tmp_path: Path) -> None:
    c, d, unc = machine(tmp_path / "m")
    img = ServerImage.machine({"C": c, "D": d}, shares=unc)
    options = ScanOptions(os_arch=Arch.X64)
    before = scan_image(ServerImage.machine({"C": c, "D": d}, shares=unc), options, "live")
    done = collect_image(img, "live", tmp_path / "m.zip", options)
    with zipfile.ZipFile(tmp_path / "m.zip") as zf:
        names = set(zf.namelist())
    assert {"D/Vendor/v.dll", "UNC/fileserver/sites/app/bin/Farm.dll", "C/inetpub/linked/bin/Linked.dll"} <= names
    assert done.left_out == []
    assert doc(rescanned(tmp_path / "m.zip", options)) == doc(before)


def test_a_real_configuration_in_the_demo_image_collects_and_says_the_copy_may_be_partial(tmp_path: Path) -> None:
    config = CORPUS / "iis-config" / "RedHatSE__windowcontainertest__config__applicationHost.config"
    if not config.is_file():
        pytest.skip("no shared corpus")
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    shutil.copy(config, image / "Windows/System32/inetsrv/config/applicationHost.config")
    report = scan(image)
    missing = [f for f in report.findings if f.rule == "binary-missing"]
    assert len(missing) == 1 and missing[0].severity.name == "WARNING"
    assert "authanon.dll" in (missing[0].binary or "") and "may be partial" in missing[0].cause
    collect(image, tmp_path / "s.zip", ScanOptions())
    # NOTE: the modules the copy lacks leave the pool's applications partly checked; a zip made from an image folder
    # takes no folder copied into it, so its remedy is a new zip (coverage._not_checked), else the same document
    zipped, direct = doc(rescanned(tmp_path / "s.zip")), doc(report)
    apps: list[list[dict[str, str]]] = [d["coverage"]["applications"] for d in (zipped, direct)]  # type: ignore[index]
    remedies = [(a.pop("remedy"), b.pop("remedy")) for a, b in zip(*apps, strict=True)]
    assert zipped == direct
    copy = "copy C:\\Windows\\System32\\inetsrv into the image as Windows/System32/inetsrv"
    assert (f"a new zip: {copy}, then iisbitness collect again", copy) in remedies


def test_a_file_over_the_size_cap_is_left_out_and_named(tmp_path: Path) -> None:
    done = collect(DEMO / "contoso-iis10", tmp_path / "s.zip", ScanOptions(), max_file_bytes=4000)
    assert any("applicationHost.config" in p and "size cap" in why for p, why in done.left_out)
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        assert any("applicationHost.config" in x["path"] for x in json.loads(zf.read("manifest.json"))["left_out"])


def write_members(zf: zipfile.ZipFile, members: dict[str, bytes], link: str | None = None) -> None:
    """``members`` into ``zf``, and ``link`` as a symbolic-link member to /etc/passwd."""
    for name, data in members.items():
        zf.writestr(name, data)
    if link is not None:
        info = zipfile.ZipInfo(link)
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")


def _zip(path: Path, members: dict[str, bytes], manifest: dict[str, object] | None = None,
         link: str | None = None, tamper: bool = False) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        write_members(zf, members, link)
        files = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for n, d in members.items()}
        if tamper:
            for entry in files.values():
                entry["sha256"] = hashlib.sha256(b"something else").hexdigest()
        if link is not None:
            files[link] = {"sha256": hashlib.sha256(b"/etc/passwd").hexdigest(), "size": 11}
        zf.writestr("manifest.json", json.dumps(manifest or {
            "format": "iisbitness/collect/1", "files": files, "folders": {}, "drives": {"C": "C"},
            "os_arch": "x64", "os_arch_from": "test"}))
    return path


DLL = fixture("module_x86.dll").read_bytes()


def _hostile(tmp_path: Path, kind: str) -> Path:
    z = tmp_path / f"{kind}.zip"
    if kind == "traversal":
        return _zip(z, {"C/../../evil.txt": b"x"})
    if kind == "absolute":
        return _zip(z, {"/tmp/evil.txt": b"x"})
    if kind == "drive":
        return _zip(z, {"C:/evil.txt": b"x"})
    if kind == "backslash":
        return _zip(z, {"C\\..\\evil.txt": b"x"})
    if kind == "link":
        return _zip(z, {}, link="C/Windows/evil")
    if kind == "bomb":
        return _zip(z, {"C/bomb.bin": b"\0" * (64 << 20)})
    if kind == "truncated":
        _zip(z, {"C/a.dll": DLL * 20})
        z.write_bytes(z.read_bytes()[: z.stat().st_size // 2])
        return z
    if kind == "tampered":
        return _zip(z, {"C/a.dll": DLL}, tamper=True)
    if kind == "case-clash":
        return _zip(z, {"C/a.dll": b"x", "C/A.DLL": b"y"})
    if kind == "unlisted":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("C/a.dll", b"x")
            zf.writestr("manifest.json", json.dumps({"format": "iisbitness/collect/1", "files": {}, "folders": {}}))
        return _write(z, buf.getvalue())
    if kind == "bad-config":
        return _zip(z, {"C/Windows/System32/inetsrv/config/applicationHost.config": b"<configuration><system.appl"})
    if kind == "long-name":
        return _zip(z, {}, manifest={"format": "iisbitness/collect/1", "files": {}, "folders": {"C/" + "a" * 300: {}}})
    if kind in ("drives", "left-out"):
        key = kind.replace("-", "_")
        return _zip(z, {}, manifest={"format": "iisbitness/collect/1", "files": {}, "folders": {}, key: 5})
    raise AssertionError(kind)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


HOSTILE = ["traversal", "absolute", "drive", "backslash", "link", "bomb", "truncated", "tampered", "case-clash",
           "unlisted", "long-name", "drives", "left-out", "bad-config"]


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_zip_exits_2_and_writes_nothing(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    z = _hostile(tmp_path, kind)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.chdir(scratch)
    before = sorted(os.listdir(tmp_path))
    r = CliRunner().invoke(main, ["scan", str(z)])
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"iisbitness: error: {z}") and "Traceback" not in r.output
    assert os.listdir(scratch) == [] and sorted(os.listdir(tmp_path)) == before
    assert not (tmp_path.parent / "evil.txt").exists()


def test_a_collected_zip_without_a_configuration_is_named_in_the_error(tmp_path: Path) -> None:
    z = _zip(tmp_path / "empty.zip", {"C/readme.txt": b"x"})
    r = CliRunner().invoke(main, ["scan", str(z)])
    # NOTE: its manifest records no folder listing: not even C:\ was looked at, so nothing is "absent" from it
    assert r.exit_code == 2 and r.stderr.startswith(f"iisbitness: error: {z}: Windows/System32/inetsrv/config/"
                                                    "applicationHost.config folder C:\\ was never listed"), r.stderr
    assert "iisbitness-collected-" not in r.stderr


EVENTS = Path(__file__).resolve().parent.parent / "fixtures" / "events" / "wevtutil-iis10.xml"


def test_collect_keeps_the_event_logs_and_scan_zip_reads_them(tmp_path: Path) -> None:
    out = tmp_path / "s.zip"
    r = CliRunner().invoke(main, ["collect", str(DEMO / "contoso-iis10"), "-o", str(out), "--event-log", str(EVENTS)])
    assert r.exit_code == 0, r.output
    with zipfile.ZipFile(out) as zf:
        assert zf.read(f"eventlogs/{EVENTS.name}") == EVENTS.read_bytes()
    a = CliRunner().invoke(main, ["scan", str(DEMO / "contoso-iis10"), "--format", "json", "--event-log", str(EVENTS)])
    b = CliRunner().invoke(main, ["scan", str(out), "--format", "json"])
    assert json.loads(a.stdout)["findings"] == json.loads(b.stdout)["findings"]


def test_live_event_log_names_are_exported_with_wevtutil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in wevtutil on the PATH (the real one is Windows only): ``epl NAME FILE /ow:true``."""
    from iisbitness.errors import ServerImageError
    from iisbitness.image.windows import export_event_log

    tool = tmp_path / "bin" / "wevtutil"
    tool.parent.mkdir()
    tool.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\n[ "$2" = System ] && {{ echo "Access is denied." >&2; '
                    f'exit 5; }}\ncp {EVENTS} "$3"\n')
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tool.parent}{os.pathsep}/usr/bin{os.pathsep}/bin")
    dest = export_event_log("Application", tmp_path / "Application.evtx")
    assert dest.read_bytes() == EVENTS.read_bytes()
    assert (tmp_path / "args").read_text().split() == ["epl", "Application", str(dest), "/ow:true"]
    with pytest.raises(ServerImageError, match="System: wevtutil epl failed: Access is denied"):
        export_event_log("System", tmp_path / "System.evtx")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(ServerImageError, match="only Windows has"):
        export_event_log("Application", tmp_path / "x.evtx")


def test_on_windows_wevtutil_is_system32s_never_one_in_the_current_folder(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows the PATH search looks in the current folder first: a planted wevtutil.exe there (or on the PATH)
    must not run with the collecting administrator's rights; %SystemRoot%\\System32\\wevtutil.exe does."""
    from iisbitness.image.windows import export_event_log

    def tool(where: Path, who: str) -> None:
        where.mkdir(parents=True, exist_ok=True)
        (where / "wevtutil.exe").write_text(f'#!/bin/sh\necho {who} > {tmp_path}/ran\ncp {EVENTS} "$3"\n')
        (where / "wevtutil.exe").chmod(0o755)

    tool(tmp_path / "Windows" / "System32", "system32")
    tool(tmp_path / "downloads", "planted")
    monkeypatch.chdir(tmp_path / "downloads")
    monkeypatch.setenv("PATH", f"{tmp_path / 'downloads'}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("PATHEXT", ".exe")
    monkeypatch.setenv("SystemRoot", str(tmp_path / "Windows"))
    monkeypatch.setattr("sys.platform", "win32")
    export_event_log("Application", tmp_path / "Application.evtx")
    assert (tmp_path / "ran").read_text().strip() == "system32"


def test_a_32_bit_python_reads_system32_through_sysnative_and_collect_records_it_as_system32(tmp_path: Path) -> None:
    """WOW64: the scan of a 32-bit Python reads Windows\\Sysnative (the real System32); the copy names it System32."""
    from tests.conftest import apphost, make_image, site

    c = tmp_path / "C"
    make_image(c, apphost('<add name="P64" />', site("S", 1, "P64", r"C:\s"),
                          '<globalModules><add name="V" image="%windir%\\System32\\inetsrv\\v.dll" /></globalModules>'),
               {"Windows/System32/inetsrv/v.dll": "module_x86.dll", "s/index.htm": "hi"})
    real = c / "Windows" / "Sysnative"  # stands for the real System32 that a WOW64 process reaches this way
    shutil.copytree(c / "Windows" / "System32", real)
    shutil.copy(fixture("module_x64.dll"), real / "inetsrv" / "v.dll")
    img = ServerImage.machine({"C": c}, sysnative=True)
    before = scan_image(ServerImage.machine({"C": c}, sysnative=True), ScanOptions(os_arch=Arch.X64), "live")
    assert not [f for f in before.findings if f.rule == "global-module-arch"]  # the x64 build, read via Sysnative
    collect_image(img, "live", tmp_path / "w.zip", ScanOptions(os_arch=Arch.X64))
    with zipfile.ZipFile(tmp_path / "w.zip") as zf:
        assert zf.read("C/Windows/System32/inetsrv/v.dll") == fixture("module_x64.dll").read_bytes()
        assert not [n for n in zf.namelist() if "Sysnative" in n]
    assert doc(rescanned(tmp_path / "w.zip", ScanOptions(os_arch=Arch.X64))) == doc(before)


def test_collect_of_a_folder_that_is_no_server_exits_2_and_leaves_no_zip(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    out = tmp_path / "s.zip"
    r = CliRunner().invoke(main, ["collect", str(tmp_path / "empty"), "-o", str(out)])
    assert r.exit_code == 2 and "applicationHost.config" in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["empty"]


def test_the_env_of_the_collecting_scan_is_kept(tmp_path: Path) -> None:
    """``--env`` decides where %VAR% paths resolve: the scan of the zip uses the collecting scan's."""
    from tests.conftest import apphost, make_image, site

    gm = '<globalModules><add name="V" image="%VENDOR%\\v.dll" /></globalModules>'
    img = make_image(tmp_path / "img", apphost('<add name="P64" />', site("S", 1, "P64", r"C:\s"), gm),
                     {"Vendor/v.dll": "module_x86.dll", "s/index.htm": "hi"})
    options = ScanOptions(env={"VENDOR": "C:\\Vendor"})
    before = scan(img, options)
    assert [f.rule for f in before.findings] == ["global-module-arch"]
    collect(img, tmp_path / "s.zip", options)
    assert doc(rescanned(tmp_path / "s.zip")) == doc(before)


@pytest.mark.parametrize("hive", [True, False])
def test_com_registrations_are_recorded_both_views_and_a_missing_hive_stays_a_problem(tmp_path: Path,
                                                                                     hive: bool) -> None:
    from tests.com.test_com_inproc import _image

    img = tmp_path / "img"
    _image(img, 'managedRuntimeVersion=""', "Contoso.PdfStamp")
    if not hive:
        (img / "Windows/System32/config/SOFTWARE").unlink()
    before = scan(img)
    assert [f.rule for f in before.findings] == (["com-inproc-arch"] if hive else [])
    collect(img, tmp_path / "s.zip", ScanOptions())
    assert doc(rescanned(tmp_path / "s.zip")) == doc(before)


def test_collect_leaves_the_server_as_it_was_and_writes_only_the_zip(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.hostile.hostile_helpers import fingerprint

    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    before = fingerprint(image)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    r = CliRunner().invoke(main, ["collect", str(image), "-o", str(tmp_path / "out" / "s.zip")])
    assert r.exit_code == 2 and "cannot write" in r.stderr  # no such folder: nothing half written
    (tmp_path / "out").mkdir()
    r = CliRunner().invoke(main, ["collect", str(image), "-o", str(tmp_path / "out" / "s.zip")])
    assert r.exit_code == 0, r.output
    assert fingerprint(image) == before and os.listdir(work) == [] and os.listdir(tmp_path / "out") == ["s.zip"]


def test_a_manifest_with_damaged_registry_answers_is_named(tmp_path: Path) -> None:
    z = _zip(tmp_path / "r.zip", {"C/a.txt": b"x"}, manifest=None)
    with zipfile.ZipFile(z) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest["registry"] = {"progids": [], "servers": {}}
    z2 = _zip(tmp_path / "r2.zip", {}, manifest={**manifest, "files": {}})
    r = CliRunner().invoke(main, ["scan", str(z2)])
    assert r.exit_code == 2 and f"{z2}: not a collected server zip: manifest.json: registry answers" in r.stderr


def test_scan_of_a_zip_with_drive_exits_2_instead_of_ignoring_it(tmp_path: Path) -> None:
    """The zip holds the drives the collecting scan read: a --drive given to `scan server.zip` would be silently
    unused (its folder never read), so it is refused with exit 2, naming what to do instead."""
    out = tmp_path / "server.zip"
    collect(DEMO / "contoso-iis10", out, ScanOptions())
    (tmp_path / "d").mkdir()
    r = CliRunner().invoke(main, ["scan", str(out), "--drive", f"D={tmp_path / 'd'}"])
    assert r.exit_code == 2, r.output
    assert "--drive" in r.stderr and "collect" in r.stderr and str(out) in r.stderr


def _stored_text(cache: Path) -> str:
    with contextlib.closing(sqlite3.connect(cache)) as db:
        rows = [*db.execute("SELECT path, payload FROM facts"), *db.execute("SELECT * FROM reports")]
    return json.dumps(rows)


def test_scan_of_an_unchanged_zip_with_cache_is_answered_from_it(tmp_path: Path) -> None:
    """Each scan lays the zip out in a new temporary folder: the cache is keyed by the zip's manifest (the sha256
    of every file), so the second scan of the same zip reads nothing and gives the same report, and no temporary
    folder is stored."""
    out, cache = tmp_path / "server.zip", tmp_path / "scan.sqlite"
    collect(DEMO / "contoso-iis10", out, ScanOptions())
    reads: list[Path] = []
    first = rescanned(out, ScanOptions(cache=cache, on_read=reads.append))
    assert reads and doc(first) == doc(rescanned(out))
    reads.clear()
    assert doc(rescanned(out, ScanOptions(cache=cache, on_read=reads.append))) == doc(first)
    assert reads == []
    assert "iisbitness-collected-" not in _stored_text(cache)
    r = CliRunner().invoke(main, ["scan", str(out), "--cache", str(cache), "--format", "json"])
    assert r.exit_code == 1, r.output
    assert r.stdout == CliRunner().invoke(main, ["scan", str(out), "--format", "json"]).stdout


def test_a_report_naming_the_temporary_folder_is_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a scan of the laid out copy ever name its temporary folder, that report is not stored: served later,
    it would name a folder that is gone. (The scan is made to name it: no reader does today.)"""
    def naming_the_folder(img: ServerImage, *args: Any, **kwargs: Any) -> Report:
        report = scan_image(img, *args, **kwargs)
        return replace(report, problems=(*report.problems, Problem(str(img.drives["C"] / "x.dll"), None, "test")))

    monkeypatch.setattr("iisbitness.scan.collect.scan_image", naming_the_folder)
    out, cache = tmp_path / "server.zip", tmp_path / "scan.sqlite"
    collect(DEMO / "contoso-iis10", out, ScanOptions())
    first = rescanned(out, ScanOptions(cache=cache))
    assert "iisbitness-collected-" in first.problems[-1].file  # what the uncached scan would say too
    assert "iisbitness-collected-" not in _stored_text(cache)
    again = rescanned(out, ScanOptions(cache=cache))  # scanned again: its own folder, never the first one's
    assert again.problems[-1].file != first.problems[-1].file


def test_a_changed_zip_misses_and_reads_only_the_changed_binary(tmp_path: Path) -> None:
    """A zip collected again after one DLL changed: not the stored report; the other binaries' facts are found by
    their sha256 and name in the zip, the changed one is read, and the report is the one an uncached scan gives
    (facts served carry the new temporary folder, never the old)."""
    image, out, cache = tmp_path / "image", tmp_path / "server.zip", tmp_path / "scan.sqlite"
    shutil.copytree(DEMO / "contoso-iis10", image)
    collect(image, out, ScanOptions())
    rescanned(out, ScanOptions(cache=cache))
    mailer = image / "Program Files" / "Contoso" / "Mailer" / "mailer.dll"
    shutil.copyfile(image / "Program Files (x86)" / "Contoso" / "Mailer" / "mailer.dll", mailer)
    collect(image, out, ScanOptions())
    reads: list[Path] = []
    again = rescanned(out, ScanOptions(cache=cache, on_read=reads.append))
    assert doc(again) == doc(rescanned(out)) == doc(scan(image))
    assert {p.name for p in reads} == {"mailer.dll"} and all("x86" not in str(p) for p in reads)
    assert "iisbitness-collected-" not in _stored_text(cache)


@pytest.mark.parametrize("key", ["UNC", "eventlogs", "CD", "É", "1", ""])
def test_a_drive_map_naming_no_drive_letter_exits_2_naming_the_zip(key: str, tmp_path: Path) -> None:
    """The manifest's drive map holds drive letters (shares are the UNC/ root): a zip whose map names anything
    else is refused, even where its files would scan."""
    good = tmp_path / "good.zip"
    collect(DEMO / "contoso-iis10", good, ScanOptions())
    out = rewrite_manifest(good, tmp_path / "bad.zip", lambda manifest: manifest["drives"].__setitem__(key, key))
    r = CliRunner().invoke(main, ["scan", str(out)])
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"iisbitness: error: {out}: not a collected server zip: manifest.json: the drive map")
    assert repr(key) in r.stderr and "Traceback" not in r.output


def test_a_member_under_a_letter_of_another_script_is_refused(tmp_path: Path) -> None:
    z = _zip(tmp_path / "e.zip", {"É/x.txt": b"x"})
    r = CliRunner().invoke(main, ["scan", str(z)])
    assert r.exit_code == 2 and f"{z}: not a collected server zip: member 'É/x.txt'" in r.stderr


def test_collect_says_when_the_recorded_scan_did_not_check_an_application(tmp_path: Path) -> None:
    """A zip cannot take --drive later (scan refuses it), so collect itself says, on stderr, which applications
    it did not check and what to give it: here Php/ on a D: drive the collecting scan had no folder for."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    config = image / "Windows/System32/inetsrv/config/applicationHost.config"
    text = config.read_text(encoding="utf-8")
    assert 'physicalPath="C:\\inetpub\\php"' in text
    config.write_text(text.replace('physicalPath="C:\\inetpub\\php"', 'physicalPath="D:\\sites\\php"'), encoding="utf-8")
    r = CliRunner().invoke(main, ["collect", str(image), "-o", str(tmp_path / "s.zip")])
    assert r.exit_code == 0, r.output
    assert "1 of 9 applications not checked" in r.stderr
    assert "Php/: " in r.stderr and "drive D: is not mapped" in r.stderr and "--drive D=" in r.stderr
    r = CliRunner().invoke(main, ["collect", str(DEMO / "contoso-iis10"), "-o", str(tmp_path / "t.zip")])
    assert r.exit_code == 0 and "not checked" not in r.stderr, r.stderr
