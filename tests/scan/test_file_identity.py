"""``--cache``'s file identity against the audit's case (audit9, cache): a DLL overwritten in place keeping its size and
write time (robocopy ``/COPY:DAT`` of a same-size build). POSIX ``st_ctime`` is the change time; Windows'
``os.stat`` gives the creation time there, which an in-place overwrite keeps, so the identity takes the file system's
change time on Windows (``image.windows.change_time_ns``). This machine runs the POSIX branch; the Windows branch
runs here only as "None elsewhere" and is checked on Windows by tools/windows-live-test.ps1 (and by this test, where
the suite runs on Windows)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from iisbitness.image.windows import change_time_ns
from iisbitness.pe.facts import FileIdentity
from tests.conftest import fixture


def test_in_place_overwrite_keeping_size_and_write_time_is_a_new_identity(tmp_path: Path) -> None:
    f = tmp_path / "vendor.dll"
    shutil.copy(fixture("module_x86.dll"), f)
    before, st = FileIdentity.of(f), os.stat(f)
    with f.open("r+b") as out:
        data = out.read()
        out.seek(0)
        out.write(data[::-1])
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = FileIdentity.of(f)
    assert before is not None and after is not None
    assert (before.size, before.mtime_ns, before.inode, before.device) == (after.size, after.mtime_ns, after.inode,
                                                                           after.device)
    assert before != after
    if sys.platform == "win32":
        assert after.ctime_ns == change_time_ns(f)
    else:
        assert change_time_ns(f) is None and after.ctime_ns == os.stat(f).st_ctime_ns
