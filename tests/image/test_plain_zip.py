"""A zip of a server image folder (a customer's copy of C:\\ zipped as it is, no manifest.json): `scan X.zip` lays
it out as safely as a collected zip and gives the report of the folder itself; hostile or unusable ones exit 2,
naming the zip, and write nothing.

Real inputs: the shared corpus's coso-configuration applicationHost.config (a site on D:), the committed PE
fixtures in bin folders."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import CORPUS, DEMO, corpus_dir, fixture, make_image
from tests.image.test_collect import write_members

COSO = "coso-configuration__supernova__applicationHost.config"
"""A real configuration: site Supernova on D:\\resources\\web (/cdn on D:\\resources\\ftp), /api on D:\\resources\\web\\api,
one 32-bit pool."""


def _copy(root: Path) -> Path:
    """The customer's copy: C (configuration), D (the site: x64 assemblies for a 32-bit pool, an empty folder)."""
    make_image(root / "C", corpus_dir("iis-config") / COSO)
    cfg = root / "C" / "Windows" / "System32" / "inetsrv" / "config" / "applicationHost.config"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('managedRuntimeVersion=""', 'managedRuntimeVersion="v4.0"'),
                   encoding="utf-8")
    for rel in ("resources/web/bin/Web.dll", "resources/web/api/bin/Api.dll"):
        (root / "D" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(fixture("managed_x64.dll"), root / "D" / rel)
    (root / "D" / "resources" / "ftp").mkdir(parents=True)
    return root


def _zip(folder: Path, out: Path, prefix: str = "", backslash: bool = False) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            name = prefix + p.relative_to(folder).as_posix()
            if backslash:
                name = name.replace("/", "\\")
            if p.is_dir():
                zf.writestr(name + ("\\" if backslash else "/"), b"")
            else:
                zf.writestr(name, p.read_bytes())
    return out


def _json(*args: str) -> tuple[int, dict[str, object]]:
    r = CliRunner().invoke(main, ["scan", *args, "--format", "json", "--quiet"])
    return r.exit_code, json.loads(r.stdout)


def _same(doc: dict[str, object]) -> dict[str, object]:
    server = dict(doc["server"])  # type: ignore[call-overload]
    server.pop("image")
    return {**doc, "server": server}


@pytest.mark.parametrize("layout", ["named-folder", "backslash-names"])
def test_a_zipped_copy_with_its_drives_gives_the_report_of_the_folders(tmp_path: Path, layout: str) -> None:
    """Before: exit 2, "not a collected server zip: member 'srv/' is not a plain relative path under a drive, UNC
    or eventlogs", and nothing said of unzipping. Now the zip's C folder is the image and its D folder drive D:."""
    copy = _copy(tmp_path / "srv")
    z = _zip(copy, tmp_path / "srv.zip", prefix="srv/", backslash=layout == "backslash-names")
    code, doc = _json(str(z))
    want_code, want = _json(str(copy / "C"), "--drive", f"D={copy / 'D'}")
    assert (code, _same(doc)) == (want_code, _same(want))
    assert code == 1 and doc["server"]["image"] == str(z)  # type: ignore[index]
    assert {f["rule"] for f in doc["findings"]} == {"managed-assembly-arch"}  # type: ignore[attr-defined]
    assert doc["coverage"]["complete"] is True  # type: ignore[index]  # NOTE: the empty D:\resources\ftp is laid out


def test_a_zip_of_the_image_folder_alone_is_its_configuration_only_scan(tmp_path: Path) -> None:
    copy = _copy(tmp_path / "srv")
    z = _zip(copy / "C", tmp_path / "c.zip")
    code, doc = _json(str(z))
    want_code, want = _json(str(copy / "C"))
    assert (code, _same(doc)) == (want_code, _same(want))
    assert doc["coverage"]["not_checked"] == 2  # type: ignore[index]
    code, doc = _json(str(z), "--drive", f"D={copy / 'D'}")  # NOTE: --drive applies to a plain zip
    assert code == 1 and doc["coverage"]["complete"] is True  # type: ignore[index]


def _plain(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        write_members(zf, members, link)
    return path


CONFIG = "Windows/System32/inetsrv/config/applicationHost.config"
GOOD = ((CORPUS / "iis-config" / COSO) if (CORPUS / "iis-config" / COSO).is_file()
        else DEMO / "contoso-iis10" / CONFIG).read_bytes()
"""A real applicationHost.config: the corpus's, or (a checkout without shared/ beside it) the demo's."""
HOSTILE = {
    "traversal": ({CONFIG: GOOD, "../../evil.txt": b"x"}, None, "is not a plain relative path"),
    "absolute": ({CONFIG: GOOD, "/tmp/evil.txt": b"x"}, None, "is not a plain relative path"),
    "link": ({CONFIG: GOOD}, "Windows/evil", "is a symbolic link"),
    "bomb": ({CONFIG: GOOD, "bomb.bin": b"\0" * (64 << 20)}, None, "a zip bomb"),
    "case-clash": ({CONFIG: GOOD, "a.dll": b"x", "A.DLL": b"y"}, None, "names differ only in case"),
    "no-config": ({"inetpub/wwwroot/web.config": b"<configuration />"}, None,
                  ("no manifest.json (it is not one iisbitness collect made) and no "
                   "Windows/System32/inetsrv/config/applicationHost.config")),
    "two-images": ({f"a/{CONFIG}": GOOD, f"b/{CONFIG}": GOOD}, None, "more than one server image ('a/', 'b/')"),
    "bad-config": ({CONFIG: b"<configuration><system.appl"}, None, f"{CONFIG}:1: not well-formed XML"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_or_unusable_plain_zip_exits_2_naming_it_and_writes_nothing(
        kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    members, link, said = HOSTILE[kind]
    z = _plain(tmp_path / f"{kind}.zip", members, link)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.chdir(scratch)
    r = CliRunner().invoke(main, ["scan", str(z), "--quiet"])
    assert r.exit_code == 2 and r.stderr.startswith(f"iisbitness: error: {z}"), r.output
    assert said in r.stderr and "iisbitness-zipped-image-" not in r.stderr and "Traceback" not in r.output, r.stderr
    assert os.listdir(scratch) == [] and not (tmp_path.parent / "evil.txt").exists()


def test_a_non_ascii_folder_zipped_without_the_utf8_flag_is_read_as_utf8(tmp_path: Path) -> None:
    """Info-ZIP's zip in a C locale (a copy re-zipped on Linux) writes a name's UTF-8 bytes without the UTF-8 flag;
    zipfile decodes such a name as code page 437 ('caf├⌐'), so the site's folder was "not in the image" and its
    finding lost. The zip is made by zipfile with a same-length ASCII stand-in for the name, whose bytes are then
    replaced in the archive (names are outside the CRC), as Info-ZIP writes them."""
    from tests.conftest import apphost, site
    pool = '<add name="P32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />'
    copy = make_image(tmp_path / "srv", apphost(pool, site("Cafe", 1, "P32", "C:\\inetpub\\café")),
                      {"inetpub/café/bin/App.dll": "managed_x64.dll"})
    out = tmp_path / "copy.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for p in sorted(copy.rglob("*")):
            name = "C/" + p.relative_to(copy).as_posix().replace("café", "cafe_")
            zf.writestr(name + ("/" if p.is_dir() else ""), b"" if p.is_dir() else p.read_bytes())
    raw = out.read_bytes()
    assert raw.count(b"cafe_") == 6  # NOTE: two folders and the DLL, each in its local header and the directory
    out.write_bytes(raw.replace(b"cafe_", "café".encode()))
    assert all(not i.flag_bits & 0x800 for i in zipfile.ZipFile(out).infolist())
    code, doc = _json(str(out))
    want_code, want = _json(str(copy))
    assert (code, _same(doc)) == (want_code, _same(want))
    assert [f["rule"] for f in doc["findings"]] == ["managed-assembly-arch"]  # type: ignore[attr-defined]
