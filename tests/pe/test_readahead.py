"""Reading binaries ahead of the parser (issue 25): the bytes reach the page cache, warm files stop it,
hostile files do not block it, and a scan's report is the same with it as without."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.formats import scan_json
from iisbitness.pe import readahead
from iisbitness.pe.readahead import ReadAhead
from tests.conftest import fixture

linux = pytest.mark.skipif(not sys.platform.startswith("linux") or not hasattr(os, "RWF_NOWAIT"),
                           reason="page cache eviction and RWF_NOWAIT are Linux's")


def _evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _cached(path: Path) -> bool:
    """The first page of ``path`` (its headers) is in the page cache (``mincore`` of a mapping never touched: the
    probe reads nothing, unlike a read that may not wait, which starts the kernel's own read-ahead)."""
    import ctypes
    import mmap

    libc = ctypes.CDLL(None, use_errno=True)
    size = path.stat().st_size
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_COPY) as mm:
        pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
        vec = (ctypes.c_ubyte * pages)()
        addr = ctypes.addressof(ctypes.c_char.from_buffer(mm))
        if libc.mincore(ctypes.c_void_p(addr), ctypes.c_size_t(size), vec) != 0:
            pytest.skip(f"mincore: errno {ctypes.get_errno()}")
        resident = bool(vec[0] & 1)
        del addr
        return resident


def _copies(tmp_path: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        p = tmp_path / f"lib{i}.dll"
        shutil.copy(fixture("managed_x86.dll" if i % 2 else "nativelib_x64.dll"), p)
        out.append(p)
    os.sync()
    return out


def _wait_for(test: Callable[[], bool], seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if test():
            return True
        time.sleep(0.01)
    return False


@linux
def test_files_read_ahead_are_in_the_page_cache(tmp_path: Path) -> None:
    files = _copies(tmp_path, 6)
    for f in files:
        _evict(f)
    if any(_cached(f) for f in files):
        pytest.skip("this file system keeps evicted pages (no cold reads to test)")
    ahead = ReadAhead(2)
    try:
        ahead.files_ahead(files)
        assert _wait_for(lambda: all(_cached(f) for f in files))
    finally:
        ahead.close()


@linux
def test_warm_files_stop_the_read_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readahead, "WARM_STREAK", 3)
    files = _copies(tmp_path, 4)
    for f in files:
        f.read_bytes()
    ahead = ReadAhead(1)
    try:
        ahead.files_ahead(files)
        assert _wait_for(lambda: ahead.stopped)
        ahead.files_ahead(files)
        assert ahead.files == 4, "nothing more is given to the pool once stopped"
    finally:
        ahead.close()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_or_a_missing_file_does_not_block_or_raise(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.dll"
    os.mkfifo(fifo)
    ahead = ReadAhead(2)
    try:
        ahead.files_ahead([fifo, tmp_path / "absent.dll", tmp_path])
        ahead._pool.shutdown(wait=True)  # type: ignore[union-attr]
    finally:
        ahead.close()


def test_a_scan_gives_the_same_report_with_and_without_reading_ahead(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.scan.test_cache import _image

    image = _image(tmp_path)
    with_it = scan_json.render(scan(image, ScanOptions()))
    monkeypatch.setattr(readahead, "THREADS", 0)
    assert scan_json.render(scan(image, ScanOptions())) == with_it
