"""The helper process that brings binaries into the page cache ahead of the parser (issue 25, fourth round): chosen
where POSIX allows, brings in the first read and a large assembly's metadata, stays a bounded window ahead of the
parser and jumps to it on slow storage, opens only regular files without following a link, never makes the parser
wait, stops on warm files, ends with the scan (close, an exception, Ctrl-C, the parent gone), and leaves the report
as it is without it."""

from __future__ import annotations

import mmap
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from test_metadata_dnfile import REAL
from test_readahead import _copies, _evict, _wait_for

from iisbitness.api import ScanOptions, scan
from iisbitness.formats import scan_json
from iisbitness.pe import prefetch, readahead
from iisbitness.pe.clr import has_clr_header, read_cor20
from iisbitness.pe.headers import parse_headers
from iisbitness.pe.prefetch import Prefetch
from iisbitness.pe.readahead import ReadAhead
from iisbitness.pe.source import Source
from tests.conftest import fixture

posix = pytest.mark.skipif(not prefetch.CAN_FORK, reason="no fork and posix_fadvise here (Windows: the threads)")
linux = pytest.mark.skipif(not prefetch.CAN_FORK or not hasattr(os, "RWF_NOWAIT"),
                           reason="page cache eviction and RWF_NOWAIT are Linux's")

_LARGE = [p for p in REAL if p.stat().st_size > 4 * readahead.FIRST_READ][:3]


def _cached(path: Path, offset: int = 0, size: int = 4096) -> bool:
    """Whether the pages of ``size`` bytes at ``offset`` of ``path`` are in the page cache (``mincore`` of a mapping
    that is never touched; NOTE: not a read with RWF_NOWAIT, which starts the kernel's read-ahead of a missing page)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    page = mmap.PAGESIZE
    with path.open("rb") as f:
        length = os.fstat(f.fileno()).st_size
        mapped = mmap.mmap(f.fileno(), length, access=mmap.ACCESS_COPY)
    try:
        pages = (length + page - 1) // page
        vec = (ctypes.c_ubyte * pages)()
        base = ctypes.c_char.from_buffer(mapped)
        try:
            if libc.mincore(ctypes.c_void_p(ctypes.addressof(base)), ctypes.c_size_t(length), vec) != 0:
                raise OSError(ctypes.get_errno(), "mincore")
        finally:
            del base
        end = min(offset + size, length)
        return all(vec[i] & 1 for i in range(offset // page, (end + page - 1) // page))
    finally:
        mapped.close()


def _evicted(paths: list[Path]) -> list[Path]:
    os.sync()
    for p in paths:
        _evict(p)
    if any(_cached(p) for p in paths):
        pytest.skip("this file system keeps evicted pages")
    return paths


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (no longer there, or a zombie nobody reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def _reaped(pid: int) -> bool:
    """Whether ``pid``, our child, has ended and been reaped (by :meth:`Prefetch.close`)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper starts at the first file (not after :data:`prefetch.START_FILES`), whether or not the files are
    in the page cache (test_a_rescan_starts_no_helper)."""
    monkeypatch.setattr(prefetch, "START_FILES", 1)
    monkeypatch.setattr(prefetch, "_warm", lambda paths: False)


def test_a_scan_reads_ahead_from_a_helper_process_where_posix_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = prefetch.read_ahead()
    chosen.close()
    assert isinstance(chosen, Prefetch if prefetch.CAN_FORK else ReadAhead)
    monkeypatch.setattr(prefetch, "PROCESS", False)
    threads = prefetch.read_ahead()
    assert isinstance(threads, ReadAhead) and not threads.stopped
    threads.close()
    monkeypatch.setattr(prefetch, "PROCESS", True)
    monkeypatch.setattr(readahead, "THREADS", 0)
    assert prefetch.read_ahead().stopped, "THREADS = 0: no reading ahead at all"


@posix
def test_a_small_scan_starts_no_helper(tmp_path: Path) -> None:
    ahead = Prefetch()
    try:
        ahead.files_ahead(_copies(tmp_path, prefetch.START_FILES - 1))
        assert not ahead.started and ahead.pid == 0
    finally:
        ahead.close()


@linux
def test_the_helper_brings_the_files_in_before_the_parser_reads_them(tmp_path: Path, started: None) -> None:
    files = _evicted(_copies(tmp_path, 40))
    ahead = Prefetch()
    try:
        ahead.files_ahead(files)
        assert ahead.pid
        assert _wait_for(lambda: all(_cached(f, 0, f.stat().st_size) for f in files)), "each whole small file"
    finally:
        ahead.close()
    assert _reaped(ahead.pid)


def _judged_warm(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """The helper (forked with this process's module) writes into ``log`` the path of each file whose head it finds in
    the page cache (:func:`prefetch._head_cached`): it takes such a file as warm and asks for nothing more of it, by
    design (a large file's metadata then comes from the parser's own reads)."""
    real = prefetch._head_cached

    def recorded(fd: int, size: int, buffer: bytearray) -> bool:
        cached = real(fd, size, buffer)
        if cached:
            with open(log, "a", encoding="utf-8") as out:
                out.write(os.readlink(f"/proc/self/fd/{fd}") + "\n")
        return cached

    monkeypatch.setattr(prefetch, "_head_cached", recorded)


@linux
@pytest.mark.skipif(not _LARGE, reason="no real assemblies larger than 256 KB here (apt-get install mono-runtime)")
def test_a_large_assemblys_metadata_is_brought_in(tmp_path: Path, started: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each large assembly's metadata, past its first read, is brought into the page cache by the helper. The helper
    probes the first file's head after asking for it, and takes the file as warm when the head is already in (by
    design: no more read of a warm file); on a loaded machine its own read of the head was sometimes done by then
    (the first file, Azure.Core.dll, 1 run in 5 there), so its metadata was never asked for. Such an attempt (the
    helper recorded judging that very file warm: :func:`_judged_warm`) says nothing and is made again, up to
    :data:`_EVICT_ATTEMPTS` times, then the test is skipped; metadata not brought in for a file the helper took as
    cold fails at once."""
    copies = tmp_path / "copies"
    copies.mkdir()
    files, regions = [], []
    for p in _LARGE:
        files.append(Path(shutil.copy(p, copies / p.name)))
        fd = os.open(p, os.O_RDONLY)
        try:
            src = Source.from_fd(fd)
            h = parse_headers(src)
            assert has_clr_header(h)
            rva, size = read_cor20(src, h).metadata
            regions.append((h.rva_to_offset(rva), size))
        finally:
            os.close(fd)
    log = tmp_path / "judged-warm.txt"
    _judged_warm(monkeypatch, log)
    for _ in range(_EVICT_ATTEMPTS):
        log.unlink(missing_ok=True)
        files = _evicted(files)
        ahead = Prefetch()
        try:
            ahead.files_ahead(files)
            missing = [f for f, (offset, size) in zip(files, regions, strict=True)
                       if not _wait_for(lambda f=f, o=offset, n=size: _cached(f, o, n))]
        finally:
            ahead.close()
        if not missing:
            return
        warm = set(log.read_text("utf-8").splitlines()) if log.exists() else set()
        cold = [f.name for f in missing if str(f.resolve()) not in warm]
        assert not cold, f"{', '.join(cold)}: metadata not brought in, though the helper took the file as cold"
    pytest.skip("the helper found a file's head in the page cache each time before asking for its metadata")


class _Recorder(prefetch._Reader):
    """A reader that opens nothing: records what it is asked to bring and the parser's progress then; ``parser``
    moves the parser on at each file brought (the parser overtakes a slow read) and while the helper waits."""

    def __init__(self, shared: mmap.mmap, parser: Callable[[int], int]) -> None:
        super().__init__()
        self.shared, self.parser = shared, parser
        self.brought: list[tuple[int, bytes, int]] = []

    def bring(self, seq: int, path: bytes) -> bool:
        time.sleep(0.001)  # NOTE: slow storage: each file takes a while (the assertions do not depend on it)
        self.brought.append((seq, path, self.progress))
        prefetch._PROGRESS.pack_into(self.shared, 0, self.parser(seq))
        return True

    def finish_one(self) -> bool:
        if self.brought:  # NOTE: the helper waits for the parser (not at the start, with nothing read yet)
            prefetch._PROGRESS.pack_into(self.shared, 0, self.parser(-1))
        return False


def _run_helper(paths: list[bytes], parser: Callable[[int], int]) -> _Recorder:
    """:func:`prefetch._bring_in` in this process over a pipe holding ``paths``, with a :class:`_Recorder`."""
    rfd, wfd = os.pipe()
    os.write(wfd, b"".join(p + b"\0" for p in paths))
    os.close(wfd)
    shared = mmap.mmap(-1, prefetch._WARM + 1)
    reader = _Recorder(shared, parser)
    try:
        prefetch._bring_in(rfd, shared, os.getppid(), reader)
    finally:
        os.close(rfd)
    return reader


def test_the_helper_stays_a_window_ahead_of_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch, "WINDOW_FILES", 4)
    monkeypatch.setattr(prefetch, "_POLL", 0)
    where = [0]

    def parser(seq: int) -> int:
        if seq < 0:  # NOTE: the helper is waiting: the parser reads one more file
            where[0] += 1
        return where[0]

    paths = [f"f{i}".encode() for i in range(30)]
    reader = _run_helper(paths, parser)
    assert [s for s, _, _ in reader.brought] == list(range(30)), "every file, in order"
    assert all(p == f"f{s}".encode() for s, p, _ in reader.brought)
    assert all(s < progress + 4 for s, _, progress in reader.brought), "never more than the window ahead"
    assert max(s - progress for s, _, progress in reader.brought) == 3


def test_on_slow_storage_the_helper_jumps_to_where_the_parser_is() -> None:
    """Each file slow to bring in while the parser reads on (it never waits): the helper skips what the parser has
    passed rather than bringing in files nobody will read again."""
    reader = _run_helper([f"f{i}".encode() for i in range(40)], lambda seq: seq + 5 if seq >= 0 else 0)
    brought = [s for s, _, _ in reader.brought]
    assert brought == list(range(0, 40, 5)), "files 1 to 4 passed by the parser while file 0 was read: skipped"


@posix
def test_the_helper_opens_only_regular_files_and_no_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link may lead out of the image (the parser resolves such a file itself), a FIFO would block: neither is
    read; a regular file is."""
    advised: list[int] = []
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, offset, size, advice: advised.append(os.fstat(fd).st_ino))
    outside = tmp_path / "outside.dll"
    shutil.copy(fixture("managed_x86.dll"), outside)
    image = tmp_path / "bin"
    image.mkdir()
    (image / "link.dll").symlink_to(outside)
    os.mkfifo(image / "fifo.dll")
    plain = image / "plain.dll"
    shutil.copy(fixture("managed_x86.dll"), plain)
    reader = prefetch._Reader()
    for i, name in enumerate(("link.dll", "fifo.dll", "plain.dll")):
        assert reader.bring(i + 1, os.fsencode(image / name))
    assert advised == [plain.stat().st_ino]


@posix
def test_the_parser_never_waits_for_the_helper(tmp_path: Path, started: None) -> None:
    """The helper stopped (a disk or share that does not answer; SIGSTOP here) while the scan gives it more paths
    than its pipe holds: the parser goes on, what does not fit waits in memory, and the helper still ends."""
    ahead = Prefetch()
    paths = [str(tmp_path / f"{'x' * 200}{i}.dll") for i in range(20_000)]
    done = threading.Event()
    try:
        ahead.files_ahead(paths[:1])
        assert ahead.pid > 0
        os.kill(ahead.pid, signal.SIGSTOP)

        def parse() -> None:
            ahead.files_ahead(paths)
            for p in paths:
                ahead.take(p)
            done.set()

        threading.Thread(target=parse, daemon=True).start()
        assert done.wait(60), "the parser blocked on the helper"
        assert ahead._out, "the pipe is full: the rest waits in memory"
    finally:
        ahead.close()
    assert _reaped(ahead.pid)


_EVICT_ATTEMPTS = 5
"""How often :func:`_started_cold` evicts the file again when it was found back in the page cache."""


def _started_cold(files: list[Path], cold: Path) -> Prefetch:
    """A :class:`Prefetch` given ``files`` after ``cold`` (one of the files it samples) was evicted: its helper must
    start. Where it did not and ``cold`` is in the page cache again (``mincore``, which reads nothing), something
    brought it back before the helper sampled it (fresh-clone CI runs on this machine: 2 of 3): the attempt says
    nothing and is made again, up to :data:`_EVICT_ATTEMPTS` times, then the test is skipped. A helper that did not
    start for a file still cold fails at once."""
    for _ in range(_EVICT_ATTEMPTS):
        _evicted([cold])
        ahead = Prefetch()
        ahead.files_ahead(files)
        if ahead.pid:
            return ahead
        ahead.close()
        assert _cached(cold), f"{cold.name} is cold, yet no helper started"
    pytest.skip(f"{cold.name} was back in the page cache each time before the helper sampled it")


@linux
def test_a_rescan_starts_no_helper(tmp_path: Path) -> None:
    """The files sampled among the first given are all in the page cache: nothing to bring in, no fork (not even to
    parse them: fewer than :data:`prefetch.WARM_START_FILES` files are given before the parser's first read)."""
    files = _copies(tmp_path, prefetch.START_FILES)
    for f in files:
        f.read_bytes()
    ahead = Prefetch()
    try:
        ahead.files_ahead(files)
        assert ahead.started and ahead.pid == 0
        assert ahead.take(files[0]) is None
        assert ahead.stopped and ahead.pid == 0
    finally:
        ahead.close()
    ahead = _started_cold(files, files[8])  # NOTE: one of the files sampled (every eighth)
    ahead.close()


@linux
def test_files_found_warm_stop_the_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper that only brings files in (one core; a parsing one goes on parsing)."""
    monkeypatch.setattr(prefetch, "PARSE", False)
    monkeypatch.setattr(prefetch, "START_FILES", 1)
    monkeypatch.setattr(readahead, "WARM_STREAK", 3)
    files = _copies(tmp_path, 6)
    for f in files:
        f.read_bytes()
    ahead = _started_cold(files, files[0])  # NOTE: the file sampled before the start is cold; the rest are warm
    try:
        assert ahead.pid
        assert _wait_for(lambda: _gone(ahead.pid)), "the helper ended by itself"
        ahead.take(files[0])
        assert ahead.stopped, "the parser saw it and stopped giving files"
        assert _reaped(ahead.pid)
    finally:
        ahead.close()


@posix
def test_the_helper_ignores_ctrl_c_and_ends_with_close(tmp_path: Path, started: None) -> None:
    """Ctrl-C reaches the whole process group: the helper has SIGINT blocked (the parent's KeyboardInterrupt ends
    the scan, and with it the helper)."""
    ahead = Prefetch()
    try:
        ahead.files_ahead(_copies(tmp_path, 2))
        status = Path(f"/proc/{ahead.pid}/status")
        if status.exists():
            blocked = int(next(ln for ln in status.read_text().splitlines() if ln.startswith("SigBlk:")).split()[1], 16)
            assert blocked & (1 << (signal.SIGINT - 1))
        assert not _gone(ahead.pid)
    finally:
        ahead.close()
    assert _reaped(ahead.pid) and ahead.stopped


@posix
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_the_helper_ends_with_a_scan_that_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: None,
                                                error: type[BaseException]) -> None:
    from iisbitness.scan import pipeline
    from tests.scan.test_cache import _image

    made: list[Prefetch] = []

    def recorded() -> Prefetch:
        made.append(Prefetch())
        return made[-1]

    def fails(*_a: object, **_k: object) -> None:
        assert made and made[0].pid and not _gone(made[0].pid), "the helper runs while the scan does"
        raise error("interrupted")

    monkeypatch.setattr(pipeline, "read_ahead", recorded)
    monkeypatch.setattr(pipeline, "plan_coverage", fails)
    with pytest.raises(error):
        scan(_image(tmp_path), ScanOptions())
    assert made[0].stopped and _reaped(made[0].pid)


@posix
def test_the_helper_ends_when_the_parent_is_gone(tmp_path: Path) -> None:
    """A scan killed outright (no close): the helper sees the end of its pipe and ends too."""
    files = _copies(tmp_path, 2)
    code = ("import os, sys\nfrom iisbitness.pe import prefetch\nprefetch.START_FILES = 1\nprefetch._warm = lambda paths: False\n"
            "p = prefetch.Prefetch()\np.files_ahead(sys.argv[1:])\nprint(p.pid, flush=True)\nos._exit(0)\n")
    out = subprocess.run([sys.executable, "-c", code, *map(str, files)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=60)
    pid = int(out.stdout)
    assert pid and _wait_for(lambda: _gone(pid)), "the helper outlived the scan"


@posix
def test_a_scan_gives_the_same_report_with_and_without_the_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  started: None) -> None:
    from iisbitness.scan import pipeline
    from tests.scan.test_cache import _image

    image = _image(tmp_path)
    made: list[Prefetch] = []

    def recorded() -> Prefetch:
        made.append(Prefetch())
        return made[-1]

    monkeypatch.setattr(pipeline, "read_ahead", recorded)
    with_it = scan_json.render(scan(image, ScanOptions()))
    assert made and made[0].started and made[0].files and made[0].stopped
    monkeypatch.setattr(readahead, "THREADS", 0)
    monkeypatch.setattr(pipeline, "read_ahead", prefetch.read_ahead)
    assert scan_json.render(scan(image, ScanOptions())) == with_it


def test_a_link_in_a_bin_folder_is_not_read_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It may lead out of the image: only the parser resolves it (and refuses that); nothing reads it ahead, on
    threads or in the helper."""
    from iisbitness.scan import pipeline
    from tests.scan.test_cache import _image

    image = _image(tmp_path)
    outside = tmp_path / "outside.dll"
    shutil.copy(fixture("managed_x86.dll"), outside)
    bins = sorted(image.rglob("bin"))
    assert bins
    (bins[0] / "escape.dll").symlink_to(outside)
    given: list[str] = []

    class Recorded(ReadAhead):
        def files_ahead(self, paths: Iterable[str | os.PathLike[str]]) -> None:
            given.extend(map(os.fspath, paths))

    monkeypatch.setattr(pipeline, "read_ahead", lambda: Recorded(1))  # NOTE: no thread starts: files_ahead records
    scan(image, ScanOptions())
    assert given and not any(p.endswith("escape.dll") for p in given)


def test_no_file_is_read_ahead_through_a_folder_linked_out_of_the_image(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """bin\\runtimes linked to a folder outside the image: the parser refuses its files (they resolve outside), and
    read-ahead was still given them (only a link as the last part of a path was left out), so the helper opened
    and read files outside the image. Now a folder that escapes the image gives read-ahead nothing."""
    from iisbitness.api import scan
    from iisbitness.pe import facts
    from tests.conftest import apphost, make_image, site

    outside = tmp_path / "outside" / "win-x64" / "native"
    outside.mkdir(parents=True)
    (outside / "secret.dll").write_bytes(b"MZ" + bytes(200))
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />', site("S", 1, "P", r"C:\s")),
                     {"s/bin/A.dll": "managed_x86.dll"})
    (img / "s" / "bin" / "runtimes").symlink_to(tmp_path / "outside", target_is_directory=True)
    given: list[str] = []
    real = facts.BinaryFacts.ahead

    def ahead(self: facts.BinaryFacts, folder: Path, names: object) -> None:
        given.append(str(folder))
        real(self, folder, names)  # type: ignore[arg-type]

    monkeypatch.setattr(facts.BinaryFacts, "ahead", ahead)
    scan(img)
    assert any(g.endswith("bin") for g in given), given  # NOTE: the bin folder itself is read ahead
    assert not [g for g in given if "runtimes" in g], given
