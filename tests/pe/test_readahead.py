"""Reading binaries ahead of the parser (issue 25): the parser takes each file open with the bytes it needs already
read (the same bytes, the same results, no second read), the window stays bounded, warm files stop it, files that
cannot be read are left to the parser, Ctrl-C does not hang on it, and a scan's report is the same without it."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from test_metadata_dnfile import FIXTURES, REAL
from test_property import mutated

from iisbitness.api import ScanOptions, scan
from iisbitness.formats import scan_json
from iisbitness.pe import prefetch, readahead, source
from iisbitness.pe.classify import read_image_and_references
from iisbitness.pe.readahead import ReadAhead
from iisbitness.pe.source import HEAD_BYTES, Source
from tests.conftest import fixture

linux = pytest.mark.skipif(not sys.platform.startswith("linux") or not hasattr(os, "RWF_NOWAIT"),
                           reason="page cache eviction and RWF_NOWAIT are Linux's")

_LARGE = [p for p in REAL if p.stat().st_size > readahead.FIRST_READ][:40]
"""Real assemblies larger than the first read (their metadata and ReadyToRun header read as ranges of their own)."""


def _evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _copies(tmp_path: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        p = tmp_path / f"lib{i}.dll"
        shutil.copy(fixture("managed_x86.dll" if i % 2 else "nativelib_x64.dll"), p)
        out.append(p)
    return out


def _read_ahead(ahead: ReadAhead, path: Path, seconds: float = 5.0) -> bool:
    """Wait until a thread has read ``path`` (the parser takes only what is read: it never waits)."""
    return _wait_for(lambda: (e := ahead._entries.get(str(path))) is not None and e.done(), seconds)


def _wait_for(test: Callable[[], bool], seconds: float = 30.0) -> bool:
    """Whether ``test`` holds within ``seconds`` (polled every 10 ms; returns as soon as it holds). The default is long:
    on a loaded machine the helper waits for a core (5 s failed there with several test suites running at once)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if test():
            return True
        time.sleep(0.01)
    return False


class _CountReads:
    """Counts the positioned reads of open files: the parser's (``Source``'s), and with ``threads`` the read-ahead's."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, threads: bool = False) -> None:
        self.calls = 0
        real = source._pread

        def counted(fd: int, size: int, offset: int) -> bytes:
            self.calls += 1
            return real(fd, size, offset)

        monkeypatch.setattr(source, "_pread", counted)
        if threads:
            monkeypatch.setattr(readahead, "_pread", counted)


def _through_read_ahead(path: Path) -> tuple[object, ...]:
    """``read_image_and_references`` of ``path`` through what a read-ahead thread read of it."""
    opened, _, _ = ReadAhead(0)._read(str(path), probe=False)
    assert opened is not None
    return read_image_and_references(path, opened)


@pytest.mark.parametrize("first_read", [readahead.FIRST_READ, 1024], ids=["whole", "ranges"])
@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_the_parser_reads_the_same_through_the_bytes_read_ahead(path: Path, first_read: int,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fixture: whole in the first read, and (a first read of 1 KB) through the ranges its headers point to;
    the parser reads nothing of the file again."""
    monkeypatch.setattr(readahead, "FIRST_READ", first_read)
    expected = read_image_and_references(path)
    reads = _CountReads(monkeypatch)
    assert _through_read_ahead(path) == expected
    assert reads.calls == 0


@pytest.mark.skipif(not _LARGE, reason="no real assemblies larger than 64 KB here (apt-get install mono-runtime)")
def test_large_real_assemblies_need_no_read_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Headers, COR20 header, metadata and ReadyToRun header all come from the ranges read ahead: the parser reads
    nothing again (at most the file's size, asked of the OS, is not a read)."""
    expected = {p: read_image_and_references(p) for p in _LARGE}
    reads = _CountReads(monkeypatch)
    for p in _LARGE:
        opened, _, _ = ReadAhead(0)._read(str(p), probe=False)
        assert opened is not None
        before = reads.calls
        assert read_image_and_references(p, opened) == expected[p]
        assert reads.calls == before, f"{p.name}: read again"


def test_small_files_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    path = fixture("managed_x86.dll")
    expected = read_image_and_references(path)
    reads = _CountReads(monkeypatch, threads=True)
    opened, held, _ = ReadAhead(0)._read(str(path), probe=False)
    assert reads.calls == 1 and held == path.stat().st_size
    assert read_image_and_references(path, opened) == expected
    assert reads.calls == 1, "the parser read the file again"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=mutated())
def test_mutated_files_read_ahead_give_the_same_results(tmp_path: Path, data: bytes) -> None:
    """Damaged headers and metadata: the same image, references and reasons as the parser reading the file."""
    path = tmp_path / "mutated.dll"
    path.write_bytes(data)
    saved = readahead.FIRST_READ
    try:
        for first_read in (saved, 512):
            readahead.FIRST_READ = first_read
            assert _through_read_ahead(path) == read_image_and_references(path)
    finally:
        readahead.FIRST_READ = saved


def test_prefetched_source_serves_ranges_and_falls_back_to_the_file(tmp_path: Path) -> None:
    data = bytes(range(256)) * 64  # 16 KB
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        src = Source.prefetched(fd, ((0, data[:6000]), (9000, data[9000:9100])))
        assert src.head == data[:HEAD_BYTES]
        assert src.read_at(5000, 900) == data[5000:5900]
        assert src.read_span(9000, 100) is src._spans[1][1], "a range asked for whole is not copied"
        assert src.read_at(8990, 20) == data[8990:9010]  # NOTE: across a range's edge: from the file
        assert src.read_span(16000, 1000) == data[16000:]
        assert src.size == len(data)
        with pytest.raises(source.InvalidPe, match="truncated"):
            src.read_at(16380, 10)
    finally:
        os.close(fd)


def test_a_file_shorter_than_the_first_read_needs_no_size_from_the_os(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"MZ" + b"\0" * 998)
    opened, _, _ = ReadAhead(0)._read(str(path), probe=False)
    assert opened is not None
    os.close(opened[0])  # NOTE: nothing may read the file now
    src = opened[1]
    assert src.size == 1000 and src.read_span(900, 500) == b"\0" * 100


def test_without_pread_and_rwf_nowait_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has neither ``os.pread`` nor ``RWF_NOWAIT``: seek and read on the thread's own descriptor."""
    monkeypatch.delattr(os, "pread", raising=False)
    monkeypatch.delattr(os, "preadv", raising=False)
    monkeypatch.setattr(readahead, "_NOWAIT", None)
    monkeypatch.setattr(readahead, "FIRST_READ", 1024)
    for path in FIXTURES:
        assert _through_read_ahead(path) == read_image_and_references(path)
    fd = os.open(FIXTURES[0], os.O_RDONLY)
    try:
        data = FIXTURES[0].read_bytes()
        assert readahead._first(fd, True) == (data[:1024], len(data) < 1024, None)
    finally:
        os.close(fd)


def test_the_parser_takes_files_in_order_and_the_window_is_bounded(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readahead, "MAX_AHEAD_FILES", 4)
    monkeypatch.setattr(readahead, "_NOWAIT", None)  # NOTE: no warm stop: these files are in the page cache
    files = _copies(tmp_path, 12)
    ahead = ReadAhead(3)
    try:
        ahead.files_ahead(files)
        assert _wait_for(lambda: all(e.done() for e in ahead._entries.values()) and len(ahead._entries) == 4)
        time.sleep(0.05)
        assert len(ahead._entries) == 4, "no more than MAX_AHEAD_FILES open at once"
        for p in files:
            assert _read_ahead(ahead, p)
            got = ahead.take(p)
            assert got is not None
            assert read_image_and_references(p, got) == read_image_and_references(p)
        assert (ahead.files, ahead.taken, ahead.failures) == (12, 12, [])
    finally:
        ahead.close()


def test_files_the_parser_passes_by_do_not_stop_the_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files never asked for (read another way) fill the window; once the parser is far past them they are closed and
    the threads go on."""
    monkeypatch.setattr(readahead, "MAX_AHEAD_FILES", 2)
    monkeypatch.setattr(readahead, "_NOWAIT", None)
    files = _copies(tmp_path, 10)
    ahead = ReadAhead(2)
    try:
        ahead.files_ahead(files)
        assert _wait_for(lambda: len(ahead._entries) == 2 and all(e.done() for e in ahead._entries.values()))
        served = 0
        for p in files[2:]:
            _read_ahead(ahead, p, 0.3)
            served += (got := ahead.take(p)) is not None
            if got is not None:
                os.close(got[0])
        assert served == 6 and not ahead.failures, "files 4 to 9 read ahead (0 and 1 closed when 3 was taken)"
    finally:
        ahead.close()


def test_close_closes_what_was_not_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("counts open descriptors in /proc")
    monkeypatch.setattr(readahead, "_NOWAIT", None)
    files = _copies(tmp_path, 6)
    before = len(os.listdir("/proc/self/fd"))
    ahead = ReadAhead(2)
    ahead.files_ahead(files)
    assert _wait_for(lambda: len(ahead._entries) == 6 and all(e.done() for e in ahead._entries.values()))
    assert len(os.listdir("/proc/self/fd")) >= before + 6
    ahead.close()
    assert ahead.take(files[0]) is None
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_file_that_cannot_be_read_is_left_to_the_parser(tmp_path: Path) -> None:
    missing = tmp_path / "absent.dll"
    ahead = ReadAhead(2)
    try:
        ahead.files_ahead([missing, tmp_path])
        assert _read_ahead(ahead, missing) and _read_ahead(ahead, tmp_path)
        assert ahead.take(missing) is None and ahead.take(tmp_path) is None
        assert not ahead.failures
    finally:
        ahead.close()
    from iisbitness.errors import ImageReadError
    from iisbitness.pe.facts import BinaryFacts

    facts = BinaryFacts(read_ahead=ReadAhead(2))
    facts.ahead(tmp_path, ["absent.dll"])
    with pytest.raises(ImageReadError, match="absent.dll: cannot read"):
        facts.image(missing)
    facts.close()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.dll"
    os.mkfifo(fifo)
    ahead = ReadAhead(1)
    try:
        ahead.files_ahead([fifo])
        assert _read_ahead(ahead, fifo), "the thread is not blocked"
        assert ahead.take(fifo) is None
    finally:
        ahead.close()


def test_a_defect_in_a_thread_is_kept_and_the_parser_reads_the_file(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fd: int, first: bytes, spans: object) -> list[tuple[int, int]]:
        raise TypeError("a defect")

    monkeypatch.setattr(readahead, "ranges_past", broken)
    monkeypatch.setattr(readahead, "FIRST_READ", 1024)
    path = tmp_path / "a.dll"
    shutil.copy(fixture("managed_x86.dll"), path)
    ahead = ReadAhead(1)
    try:
        ahead.files_ahead([path])
        assert _wait_for(lambda: bool(ahead.failures))
        assert ahead.take(path) is None
        assert ahead.failures == [f"{path}: TypeError: a defect"]
    finally:
        ahead.close()


def test_the_parser_never_waits_for_a_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A thread stuck in its read (a disk or share that does not answer): the parser reads the file itself at once
    (so Ctrl-C is never held up by a thread), and the thread closes its copy when its read returns."""
    release = threading.Event()
    reading = threading.Event()
    real_first = readahead._first

    def hang(fd: int, probe: bool) -> tuple[bytes, bool, bool | None]:
        reading.set()
        release.wait(10)
        return real_first(fd, probe)

    monkeypatch.setattr(readahead, "_first", hang)
    path = _copies(tmp_path, 1)[0]
    fds = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else None
    ahead = ReadAhead(1)
    try:
        ahead.files_ahead([path])
        assert reading.wait(5)
        start = time.monotonic()
        assert ahead.take(path) is None and ahead.missed == 1
        assert time.monotonic() - start < 0.5
        release.set()
        if fds is not None:
            assert _wait_for(lambda: len(os.listdir("/proc/self/fd")) == fds), "the thread closed its copy"
    finally:
        release.set()
        ahead.close()


@linux
def test_files_read_ahead_cold_are_served_without_a_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _copies(tmp_path, 6)
    os.sync()
    for f in files:
        _evict(f)
    ahead = ReadAhead(2)
    try:
        ahead.files_ahead(files)
        reads = _CountReads(monkeypatch)
        for f in files:
            assert _read_ahead(ahead, f)
            opened = ahead.take(f)
            assert opened is not None
            assert read_image_and_references(f, opened) == read_image_and_references(f)
        assert reads.calls == 6, "one read each, for the comparison: none through what was read ahead"
        assert not ahead.stopped
    finally:
        ahead.close()


@linux
def test_a_file_cached_in_part_is_read_as_far_as_cached_and_counts_as_warm(tmp_path: Path) -> None:
    """A warm scan's large file: its head and metadata cached, not the rest of the first read. Reading that rest
    would be disk reads the parser does not need; the head being cached is what makes the file warm."""
    path = tmp_path / "big.dll"
    path.write_bytes(fixture("managed_x86.dll").read_bytes().ljust(readahead.FIRST_READ * 2, b"\0"))
    os.sync()
    _evict(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)  # NOTE: no read-ahead by the kernel: 16 KB cached, no more
        os.pread(fd, 4 * HEAD_BYTES, 0)
        data, whole, warm = readahead._first(fd, True)
        if len(data) == readahead.FIRST_READ:
            pytest.skip("this file system keeps evicted pages")
        assert (len(data), whole, warm) == (4 * HEAD_BYTES, False, True)
        _evict(path)
        assert readahead._first(fd, True)[1:] == (False, False)
    finally:
        os.close(fd)


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
        assert ahead.files == 4, "nothing more is given to the threads once stopped"
        assert ahead.take(files[3]) is None and not ahead._entries
    finally:
        ahead.close()


def test_a_scan_gives_the_same_report_with_and_without_reading_ahead(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.scan.test_cache import _image

    image = _image(tmp_path)
    monkeypatch.setattr(prefetch, "PROCESS", False)  # NOTE: the threads (Windows'); the helper process: test_prefetch
    monkeypatch.setattr(readahead, "FAST_READ", 0.0)  # NOTE: as on slow storage: the threads start
    monkeypatch.setattr(readahead, "_NOWAIT", None)  # NOTE: never stops: every binary through the read ahead
    taken: list[int] = []
    close, files_ahead = ReadAhead.close, ReadAhead.files_ahead

    def ahead_of_the_parser(self: ReadAhead, paths: Iterable[str | os.PathLike[str]]) -> None:
        files_ahead(self, paths)  # NOTE: then the threads win the race: the parser takes what they read
        assert _wait_for(lambda: not self._queued and all(e.done() for e in self._entries.values()))

    def counted(self: ReadAhead) -> None:
        taken.append(self.taken)
        close(self)

    monkeypatch.setattr(ReadAhead, "close", counted)
    monkeypatch.setattr(ReadAhead, "files_ahead", ahead_of_the_parser)
    with_it = scan_json.render(scan(image, ScanOptions()))
    assert taken and taken[0] > 0
    monkeypatch.setattr(readahead, "THREADS", 0)
    assert scan_json.render(scan(image, ScanOptions())) == with_it


@pytest.mark.parametrize(("latency", "cores", "worth"), [
    (60e-6, 2, False),  # NOTE: this machine's SSD, two cores: the threads cost the parser more than they save
    (60e-6, 8, False),
    (60e-6, 1, True),  # NOTE: one core: they pay (measured)
    (5e-3, 2, True),  # NOTE: a disk, a SAN, a share
    (readahead.FAST_READ, 2, True),
    (None, 2, True),  # NOTE: nothing could be timed: as before
])
def test_threads_read_ahead_where_they_pay(latency: float | None, cores: int, worth: bool) -> None:
    assert readahead.worth_threads(latency, cores) is worth


def _slow_storage(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Every positioned read takes at least ``seconds`` (a share or a SAN), the parser's and the threads'."""
    real = source._pread

    def slow(fd: int, size: int, offset: int) -> bytes:
        time.sleep(seconds)
        return real(fd, size, offset)

    monkeypatch.setattr(source, "_pread", slow)
    monkeypatch.setattr(readahead, "_pread", slow)


def test_first_reads_are_timed_on_the_files_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _copies(tmp_path, 3)
    assert readahead.first_read_latency([str(tmp_path / "missing.dll"), str(tmp_path)]) is None
    _slow_storage(monkeypatch, 2 * readahead.FAST_READ)
    latency = readahead.first_read_latency([str(f) for f in files])
    assert latency is not None and latency >= 2 * readahead.FAST_READ


@pytest.mark.parametrize(("cores", "slow", "threads"), [(2, False, False), (1, False, True), (2, True, True)],
                         ids=["fast storage, two cores: off", "one core: on", "slow storage: on"])
def test_the_threads_start_only_where_they_pay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int,
                                              slow: bool, threads: bool) -> None:
    files = _copies(tmp_path, 6)
    monkeypatch.setattr(readahead, "usable_cores", lambda: cores)
    if slow:
        _slow_storage(monkeypatch, 2 * readahead.FAST_READ)
    else:
        monkeypatch.setattr(readahead, "first_read_latency", lambda paths: 60e-6)
    ahead = ReadAhead(2, judge=True)
    try:
        ahead.files_ahead(files)
        assert ahead.stopped is not threads and ahead._running is threads
        if threads:
            assert _read_ahead(ahead, files[-1]), "the threads read what is given"
            assert ahead.take(files[-1]) is not None
    finally:
        ahead.close()


def test_the_threads_are_judged_at_the_first_files_not_an_empty_batch(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A first bin folder with nothing to read ahead (empty, only links) gave an empty batch: no latency, so the
    threads started on fast storage with two cores, where they cost; now the judgement waits for files."""
    files = _copies(tmp_path, 6)
    monkeypatch.setattr(readahead, "usable_cores", lambda: 2)
    monkeypatch.setattr(readahead, "first_read_latency", lambda paths: 60e-6 if paths else None)
    ahead = ReadAhead(2, judge=True)
    try:
        ahead.files_ahead([])
        assert not ahead.stopped and not ahead._running
        ahead.files_ahead(files)
        assert ahead.stopped and not ahead._running
    finally:
        ahead.close()


def test_usable_cores_are_those_this_process_may_run_on() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert readahead.usable_cores() == expected
