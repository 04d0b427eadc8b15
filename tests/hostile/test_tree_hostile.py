"""A hostile file tree (issue 7): links that loop or escape, unreadable folders, odd names, huge
folders, long paths. Each is handled and reported; nothing hangs; nothing outside the image is read."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from hostile_helpers import PE_BIN, apphost, healthy, make_image, run

from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.context import MAX_BIN_FILES


def _scan(image: Path, limit: float = 20) -> dict:  # type: ignore[type-arg]
    t0 = time.monotonic()
    r = run("scan", image, "--format", "json")
    assert time.monotonic() - t0 < limit
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.output)  # type: ignore[no-any-return]


def _outside(tmp_path: Path) -> Path:
    """A folder next to the image, holding a 64-bit module and a web.config that must never be read."""
    out = tmp_path / "outside"
    (out / "bin").mkdir(parents=True)
    shutil.copy(PE_BIN / "module_x64.dll", out / "evil.dll")
    shutil.copy(PE_BIN / "managed_x86.dll", out / "bin" / "Outside.dll")
    (out / "web.config").write_text("<configuration><system.webServer><handlers><add name='OutsideHandler' path='*' "
                                    "verb='*' modules='IsapiModule' scriptProcessor='C:\\x.dll'/></handlers>"
                                    "</system.webServer></configuration>")
    return out


# -- links -------------------------------------------------------------------------------------------

def test_symlink_loops(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    site = image / "inetpub/main"
    (site / "loop").symlink_to(site, target_is_directory=True)      # a junction back to its parent
    (site / "a").symlink_to(site / "b")                              # a <-> b
    (site / "b").symlink_to(site / "a")
    (site / "self").symlink_to(site / "self")
    (site / "bin" / "Loop.dll").symlink_to(site / "bin" / "Loop.dll")
    (site / "bin" / "binloop").symlink_to(site / "bin", target_is_directory=True)
    mods = ('<add name="LoopMod" image="C:\\inetpub\\main\\self\\x.dll" />'
            '<add name="LoopMod2" image="C:\\inetpub\\main\\loop\\loop\\loop\\bin\\Loop.dll" />')
    (image / "Windows/System32/inetsrv/config/applicationHost.config").write_text(apphost(extra_modules=mods))
    report = _scan(image)
    assert healthy(report)
    text = json.dumps(report)
    assert "LoopMod" in text


def test_absolute_symlink_to_etc_not_followed(tmp_path: Path) -> None:
    out = _outside(tmp_path)
    image = make_image(tmp_path / "img")
    (image / "etc").symlink_to("/etc", target_is_directory=True)
    (image / "inetpub/evil").symlink_to(out, target_is_directory=True)
    (image / "Windows/System32/inetsrv/evil.dll").symlink_to(out / "evil.dll")
    sites = ('<site name="Evil" id="5"><application path="/" applicationPool="Pool32">'
             '<virtualDirectory path="/" physicalPath="C:\\inetpub\\evil" /></application></site>')
    mods = ('<add name="EvilMod" image="%windir%\\System32\\inetsrv\\evil.dll" />'
            '<add name="Passwd" image="C:\\etc\\passwd" />')
    (image / "Windows/System32/inetsrv/config/applicationHost.config").write_text(apphost(sites, mods))
    report = _scan(image)
    assert healthy(report)
    text = json.dumps(report)
    assert "OutsideHandler" not in text and "Outside.dll" not in text
    outside_msgs = [p for p in report["problems"] if "outside the server image" in p["message"]]
    assert outside_msgs and outside_msgs[0]["line"], report["problems"]
    found = [f for f in report["findings"] if "EvilMod" in json.dumps(f) or "Passwd" in json.dumps(f)]
    for f in found:
        assert "outside the server image" in json.dumps(f)
    # the library refuses the same paths
    img = ServerImage.offline(image)
    for p in ("C:\\etc\\passwd", "C:\\inetpub\\evil\\web.config", "C:\\Windows\\System32\\inetsrv\\evil.dll"):
        assert img.locate(p).host_path is None and "outside" in (img.locate(p).problem or "")


@pytest.mark.parametrize("path", [
    "..\\..\\..\\..\\etc\\passwd",
    "C:\\..\\..\\..\\etc\\passwd",
    "C:\\inetpub\\..\\..\\..\\..\\etc\\passwd",
    "C:/../../etc/passwd",
    "\\\\?\\C:\\..\\..\\etc\\passwd",
    "\\\\?\\UNC\\host\\share\\x.dll",
    "\\\\.\\C:\\etc\\passwd",
    "C:\\etc\\passwd\0.dll",
    "C:\\" + "x" * 300 + "\\a.dll",
])
def test_escaping_paths_never_leave_the_image(tmp_path: Path, path: str) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0")
    image = make_image(tmp_path / "img")
    img = ServerImage.offline(image)
    got = img.locate(path)
    if got.host_path is not None:
        assert image.resolve() in got.host_path.resolve().parents
    mods = f'<add name="Climb" image="{path.replace(chr(0), "&#0;") if False else path.replace(chr(0), "")}" />'
    site = ('<site name="Climb" id="6"><application path="/" applicationPool="Pool32">'
            f'<virtualDirectory path="/" physicalPath="{path.replace(chr(0), "")}" /></application></site>')
    (image / "Windows/System32/inetsrv/config/applicationHost.config").write_text(apphost(site, mods))
    report = _scan(image)
    assert healthy(report)
    assert "root:x" not in json.dumps(report)


# -- unreadable, odd names, huge, long -------------------------------------------------------------------

def _can_deny_reads(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0)
    try:
        os.listdir(probe)
    except PermissionError:
        return True
    finally:
        probe.chmod(0o700)
    return False


def test_unreadable_folders_and_files(tmp_path: Path) -> None:
    if not _can_deny_reads(tmp_path):
        pytest.skip("running as root (or with CAP_DAC_READ_SEARCH): chmod 000 does not deny reads here")
    image = make_image(tmp_path / "img")
    locked = image / "inetpub/main/locked"
    locked.mkdir()
    (locked / "web.config").write_text("<configuration/>")
    locked.chmod(0)
    (image / "inetpub/main/bin/Secret.dll").write_bytes((PE_BIN / "managed_x86.dll").read_bytes())
    (image / "inetpub/main/bin/Secret.dll").chmod(0)
    try:
        report = _scan(image)
    finally:
        locked.chmod(0o700)
    assert healthy(report)
    assert any("cannot" in p["message"] for p in report["problems"]), report["problems"]


def test_unreadable_via_vanishing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root-proof stand-in for chmod 000: os.scandir and os.open fail with EACCES for one folder/file."""
    image = make_image(tmp_path / "img")
    locked = image / "inetpub/main/locked"
    locked.mkdir()
    (image / "inetpub/main/bin/Secret.dll").write_bytes((PE_BIN / "managed_x86.dll").read_bytes())
    real_scandir, real_open, real_listdir = os.scandir, os.open, os.listdir

    def deny(path: object) -> bool:
        p = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
        return p.endswith(("locked", "Secret.dll"))

    def scandir(path: object = ".") -> object:
        if deny(path):
            raise PermissionError(13, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real_scandir(path)  # type: ignore[arg-type]

    def listdir(path: object = ".") -> list[str]:
        if deny(path):
            raise PermissionError(13, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real_listdir(path)  # type: ignore[arg-type]

    def open_(path: object, *a: object, **k: object) -> int:
        if deny(path):
            raise PermissionError(13, "Permission denied", os.fspath(path))  # type: ignore[arg-type]
        return real_open(path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "listdir", listdir)
    monkeypatch.setattr(os, "open", open_)
    report = _scan(image)
    assert healthy(report)
    msgs = json.dumps(report)
    assert "Permission denied" in msgs


def test_odd_and_invalid_utf8_names(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    site = os.fsencode(image / "inetpub/main")
    for raw in (b"bad\xff\xfename", b"caf\xc3\xa9", b"tab\tnew\nline", b"   ", b"-rf", b"..dots..", b"\xe2\x80\xae.dll",
                b"ends-with-space ", b"CON", b"a:b", b"q?*<>|\""):
        os.mkdir(os.path.join(site, raw))
        with open(os.path.join(site, raw, b"web.config"), "wb") as f:
            f.write(b"<configuration/>")
        with open(os.path.join(site, b"bin", raw + b".dll"), "wb") as f:
            f.write((PE_BIN / "managed_x86.dll").read_bytes())
    report = _scan(image)
    assert healthy(report)
    assert "bad\udcff\udcfename.dll" in json.dumps(report["findings"], ensure_ascii=False)  # byte for byte
    r = run("scan", image)
    assert r.exit_code == 1 and "bad\\xff\\xfename.dll" in r.output, r.output
    r = run("inspect", "--format", "json", image / "inetpub/main/bin")
    assert r.exit_code in (0, 1), r.output
    r = run("inspect", image / "inetpub/main/bin")
    assert r.exit_code in (0, 1), r.output


@pytest.mark.slow
def test_bin_with_100000_files(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    bin_ = os.fsencode(image / "inetpub/main/bin")
    for i in range(100_000):
        os.close(os.open(os.path.join(bin_, b"f%06d.dll" % i), os.O_CREAT | os.O_WRONLY, 0o644))
    t0 = time.monotonic()
    report = _scan(image, limit=120)
    elapsed = time.monotonic() - t0
    assert healthy(report)
    caps = [p for p in report["problems"] if f"more than {MAX_BIN_FILES}" in p["message"]]
    assert caps and caps[0]["file"] == "inetpub/main/bin", report["problems"]
    assert elapsed < 120


def test_many_nested_folders_cap_webconfig_search(tmp_path: Path) -> None:
    from iisbitness.config.apphost import MAX_WEBCONFIG_DIRS

    image = make_image(tmp_path / "img")
    site = image / "inetpub/main"
    for i in range(MAX_WEBCONFIG_DIRS + 50):
        (site / f"d{i // 100}" / f"e{i}").mkdir(parents=True, exist_ok=True)
    report = _scan(image)
    assert healthy(report)
    assert any(f"more than {MAX_WEBCONFIG_DIRS} folders" in p["message"] for p in report["problems"])


def test_paths_longer_than_260(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    deep = image / "inetpub" / "main"
    parts = ["segment-" + "x" * 50 + f"-{i}" for i in range(8)]  # > 260 characters below the site
    long_dir = deep.joinpath(*parts)
    long_dir.mkdir(parents=True)
    (long_dir / "web.config").write_text("<configuration><system.webServer/></configuration>")
    shutil.copy(PE_BIN / "module_x64.dll", long_dir / "deep.dll")
    win = "C:\\inetpub\\main\\" + "\\".join(parts) + "\\deep.dll"
    assert len(win) > 260
    mods = f'<add name="DeepMod" image="{win}" /><add name="TooLong" image="C:\\{"y" * 5000}.dll" />'
    (image / "Windows/System32/inetsrv/config/applicationHost.config").write_text(apphost(extra_modules=mods))
    report = _scan(image)
    assert healthy(report)
    img = ServerImage.offline(image)
    assert img.locate(win).found  # a > 260-character path is found like any other
    assert not img.locate(f"C:\\{'y' * 5000}.dll").found  # a name past NAME_MAX is simply absent


def test_image_root_is_a_symlink_loop(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    r = run("scan", loop)
    assert r.exit_code == 2


def test_config_file_is_a_folder_or_link_out(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    cfg = image / "Windows/System32/inetsrv/config/applicationHost.config"
    cfg.unlink()
    cfg.mkdir()
    r = run("scan", image)
    assert r.exit_code == 2 and "applicationHost.config" in r.output
    cfg.rmdir()
    secret = tmp_path / "outside.config"
    secret.write_text(apphost())
    cfg.symlink_to(secret)
    r = run("scan", image)
    assert r.exit_code == 2, r.output


def test_inspect_walks_no_loop_and_no_escape(tmp_path: Path) -> None:
    """inspect's folder walk meets a link loop and a link to a folder outside: it ends, reads neither twice."""
    out = _outside(tmp_path)
    tree = tmp_path / "tree"
    (tree / "a").mkdir(parents=True)
    shutil.copy(PE_BIN / "module_x86.dll", tree / "a" / "m.dll")
    (tree / "a" / "up").symlink_to(tree, target_is_directory=True)
    (tree / "a" / "self").symlink_to(tree / "a" / "self")
    (tree / "out").symlink_to(out, target_is_directory=True)
    t0 = time.monotonic()
    r = run("inspect", "--format", "json", tree)
    assert time.monotonic() - t0 < 10
    assert r.exit_code in (0, 2), r.output
    assert r.output.count("m.dll") == 1, r.output
