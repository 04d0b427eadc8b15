"""``fix --apply`` over several files writes all of them or none (issue 26): a failure while the files are
renamed puts back the ones already replaced, a full disk names the file and leaves no backup behind, the
message says exactly what was written, and a symbolic link is never replaced by a file."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.errors import FixError
from iisbitness.fixes.write import WriteRefused
from iisbitness.scan.fix import apply_fix, plan_fix
from tests.conftest import apphost, make_image, site

APPHOST = "Windows/System32/inetsrv/config/applicationHost.config"
WEB = ('<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <system.webServer>\n    <isapiFilters>\n'
       '      <filter name="F" path="C:\\F\\f.dll"/>\n    </isapiFilters>\n  </system.webServer>\n</configuration>\n')
MODULES = ('<globalModules><add name="M32" image="C:\\M\\m.dll" />'
           '<add name="M64" image="C:\\M\\m64.dll" preCondition="bitness64" /></globalModules>')


def _image(root: Path) -> Path:
    """A 64-bit pool with a 32-bit global module (fixed in applicationHost.config) and a site whose web.config
    names a 32-bit ISAPI filter (fixed in that web.config): one plan, two files. A 64-bit-only module keeps the
    pool 64-bit (running it as 32-bit would drop M64: a side effect the plan does not take first)."""
    return make_image(root, apphost('<add name="P64" managedRuntimeVersion="v4.0" />', site("S", 1, "P64", r"C:\s"),
                                    webserver=MODULES),
                      {"F/f.dll": "filter_x86.dll", "M/m.dll": "module_x86.dll", "M/m64.dll": "module_x64.dll",
                       "s/web.config": WEB})


def _configs(img: Path) -> dict[str, bytes]:
    return {rel: (img / rel).read_bytes() for rel in (APPHOST, "s/web.config")}


def _strays(img: Path) -> list[str]:
    return sorted(p.name for p in img.rglob("*") if ".iisbitness-" in p.name)


def test_plan_changes_two_files(tmp_path: Path) -> None:
    plan = plan_fix(_image(tmp_path / "img"))
    assert [c.shown for c in plan.changes] == [APPHOST, "s/web.config"]


def test_a_file_changed_while_the_first_is_replaced_puts_the_first_back(tmp_path: Path) -> None:
    img = _image(tmp_path / "img")
    before = _configs(img)
    plan = plan_fix(img)

    def someone_edits_web_config(label: str) -> None:
        if label == f"replaced {APPHOST}":
            (img / "s" / "web.config").write_bytes(WEB.replace("F", "G").encode())

    with pytest.raises(WriteRefused) as raised:
        apply_fix(plan, stamp="20260101T000000Z", step=someone_edits_web_config)
    message = str(raised.value)
    assert message.startswith("s/web.config: changed since it was read")
    assert "nothing written" in message and f"({APPHOST} was already replaced and put back as it was)" in message
    assert raised.value.written == ()
    assert (img / APPHOST).read_bytes() == before[APPHOST]
    assert (img / "s" / "web.config").read_bytes() == WEB.replace("F", "G").encode()
    assert _strays(img) == []


def test_a_file_that_cannot_be_put_back_is_named_with_its_backup(tmp_path: Path) -> None:
    """Renaming the backup back fails when the folder is gone; the message names the file and where its original is."""
    img = _image(tmp_path / "img")
    plan = plan_fix(img)
    config = img / APPHOST

    def break_both(label: str) -> None:
        if label == f"folder synced for {APPHOST}":
            # the backup can no longer be renamed back (its folder moved), and web.config changes meanwhile
            config.parent.rename(config.parent.with_name("moved"))
            (img / "s" / "web.config").write_bytes(b"<configuration/>")

    with pytest.raises(WriteRefused) as raised:
        apply_fix(plan, stamp="20260101T000000Z", step=break_both)
    assert raised.value.written == (APPHOST,)
    assert f"{APPHOST} keeps the new content: it could not be put back" in str(raised.value)
    assert "its original is in applicationHost.config.iisbitness-20260101T000000Z.bak" in str(raised.value)
    moved = config.parent.with_name("moved")
    assert (moved / "applicationHost.config.iisbitness-20260101T000000Z.bak").is_file()


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB tmpfs (needs root and a kernel that lets this process mount); skipped elsewhere."""
    point = tmp_path / f"tmpfs-{uuid.uuid4().hex[:8]}"
    point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(point)],
                             capture_output=True, check=False) if shutil.which("mount") else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (not root, or not permitted)")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _fill_leaving(folder: Path, free_pages: int) -> None:
    """Fill the file system of ``folder`` with 4 KB files, then free exactly ``free_pages`` of them."""
    fill = folder / "fill"
    fill.mkdir()
    n = 0
    while True:
        path = fill / str(n)
        try:
            with open(path, "wb") as f:
                f.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC
            path.unlink()
            break
        n += 1
    for i in range(free_pages):
        (fill / str(n - 1 - i)).unlink()


@pytest.mark.parametrize(("free_pages", "failing"), [
    (0, f"{APPHOST}: cannot write its backup"),
    (1, "s/web.config: cannot write its backup"),
    (2, f"{APPHOST}: cannot write the new content"),
    (3, "s/web.config: cannot write the new content"),
])
def test_a_full_disk_names_the_file_writes_nothing_and_leaves_no_backup(small_tmpfs: Path, free_pages: int,
                                                                        failing: str) -> None:
    img = _image(small_tmpfs / "img")
    before = _configs(img)
    assert all(len(b) < 4096 for b in before.values())  # one page each on tmpfs
    _fill_leaving(small_tmpfs, free_pages)
    res = CliRunner().invoke(main, ["fix", str(img), "--apply"])
    assert res.exit_code == 3, res.output
    assert f"iisbitness: fix refused: {failing} (No space left on device); nothing written" in res.output
    assert "Not applied: nothing written" in res.output and "Dry run" not in res.output
    assert _configs(img) == before
    assert _strays(img) == []


def test_with_room_enough_both_files_are_written(small_tmpfs: Path) -> None:
    img = _image(small_tmpfs / "img")
    before = _configs(img)
    _fill_leaving(small_tmpfs, 4)
    res = CliRunner().invoke(main, ["fix", str(img), "--apply"])
    assert res.exit_code == 0, res.output
    after = _configs(img)
    assert all(after[k] != before[k] for k in before)
    assert len(_strays(img)) == 2  # the two backups


def test_a_symbolic_link_is_never_replaced_by_a_file(tmp_path: Path) -> None:
    """applicationHost.config links to a file inside the image: it is read, but --apply refuses to replace it."""
    img = _image(tmp_path / "img")
    real = img / "shared" / "applicationHost.config"
    real.parent.mkdir()
    os.replace(img / APPHOST, real)
    (img / APPHOST).symlink_to(os.path.relpath(real, (img / APPHOST).parent))
    before = real.read_bytes()
    with pytest.raises(FixError, match=f"{APPHOST}: is a symbolic link; fix --apply never replaces a link"):
        apply_fix(plan_fix(img))
    assert (img / APPHOST).is_symlink() and real.read_bytes() == before
    assert (img / "s" / "web.config").read_bytes() == WEB.encode()
    assert _strays(img) == []


def test_each_file_written_takes_the_originals_acl_and_without_it_nothing_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """audit10 A7: on Windows a file renamed over applicationHost.config keeps the DACL the new file was created with
    (its folder's inheritable entries), so an explicit, narrower ACL on the original (or on a shared configuration's
    copy) was dropped, and the backup beside it was as open. Every temporary file (backup and new content) is given
    the original's DACL before the rename (image/windows.copy_file_dacl, the one Windows module: a no-op here, so a
    stand-in records its calls); when Windows refuses, nothing is written."""
    from iisbitness.image import windows

    img = _image(tmp_path / "img")
    calls: list[tuple[Path, Path]] = []
    monkeypatch.setattr(windows, "copy_file_dacl", lambda source, target: calls.append((source, target)))
    apply_fix(plan_fix(img), stamp="20260101T000000Z")
    assert [(s.relative_to(img).as_posix(), t.parent == s.parent, t.name.startswith(f".{s.name}.iisbitness-"))
            for s, t in calls] == [(APPHOST, True, True), ("s/web.config", True, True)] * 2  # backups, then new files

    img = _image(tmp_path / "img2")
    before = _configs(img)

    def refused(source: Path, target: Path) -> None:
        raise PermissionError(errno.EACCES, "Access is denied")
    monkeypatch.setattr(windows, "copy_file_dacl", refused)
    with pytest.raises(WriteRefused) as raised:
        apply_fix(plan_fix(img), stamp="20260101T000000Z")
    assert str(raised.value).startswith(f"{APPHOST}: cannot write its backup (its access control list could not be "
                                        "given to a new file beside it (Access is denied)); nothing written"), raised.value
    assert _configs(img) == before and _strays(img) == []


def test_a_refused_acl_closes_the_temporary_file_before_removing_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary file's descriptor was left open when its DACL was refused (the file object that closes it was
    not made yet): a descriptor leaked per refusal here, and on Windows, which does not delete a file its process
    holds open, the temporary file stayed in the configuration folder and the message said "being used by another
    process" instead of the refusal. Same stand-in as above for the one Windows call."""
    from iisbitness.image import windows

    img = _image(tmp_path / "img")

    def refused(source: Path, target: Path) -> None:
        raise PermissionError(errno.EACCES, "Access is denied")
    monkeypatch.setattr(windows, "copy_file_dacl", refused)
    plan = plan_fix(img)
    fds = len(os.listdir("/proc/self/fd"))
    with pytest.raises(WriteRefused):
        apply_fix(plan, stamp="20260101T000000Z")
    assert len(os.listdir("/proc/self/fd")) == fds
    assert _strays(img) == []
