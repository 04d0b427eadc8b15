"""The helper process that also parses the files it brings in (issue 25, fifth round): its answers are the facts the
parser would read (real fixtures and assemblies), it answers nothing for a file it may not or cannot read, on one
core it only brings files in, a helper that dies or answers garbage changes nothing but speed, files found warm stop
its bringing in and not its parse, and it is ended through a pidfd where Linux has one (never a process that took
its pid)."""

from __future__ import annotations

import marshal
import mmap
import os
import select
import shutil
import signal
from collections.abc import Iterable
from pathlib import Path

import pytest
from pe_fixtures import make_ready_to_run
from test_metadata_dnfile import FIXTURES, REAL
from test_prefetch import _reaped, posix
from test_readahead import _copies, _wait_for

from iisbitness.api import ScanOptions, scan
from iisbitness.errors import ImageReadError
from iisbitness.formats import scan_json
from iisbitness.pe import classify, prefetch, readahead
from iisbitness.pe.classify import read_image_and_references
from iisbitness.pe.deps import dependency_names
from iisbitness.pe.facts import BinaryFacts
from iisbitness.pe.prefetch import Prefetch
from iisbitness.pe.readahead import Parsed
from iisbitness.pe.source import Source
from iisbitness.pe.types import ImageKind
from tests.conftest import fixture

_REAL = REAL[:: max(1, len(REAL) // 300)]
"""About 300 real assemblies, spread over all found (the whole set takes the helper seconds)."""


@pytest.fixture
def parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper starts at the first file, whether or not the files are in the page cache, parses on this machine
    whatever its cores, and parses from the first file on (no lead)."""
    monkeypatch.setattr(prefetch, "START_FILES", 1)
    monkeypatch.setattr(prefetch, "_warm", lambda paths: False)
    monkeypatch.setattr(readahead, "usable_cores", lambda: 2)
    monkeypatch.setattr(prefetch, "LEAD", 0)


def _plain(path: Path) -> bool:
    """Whether the parser reads ``path`` straight through (the files the helper answers for)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return classify.plain_read(Source.from_fd(fd)) is not None
    except (OSError, ValueError):
        return False
    finally:
        os.close(fd)


def _answerable(path: Path) -> bool:
    """Whether the helper answers for ``path``: every file the parser reads without an error, plain or not (a
    ReadyToRun or native image, a file that is no PE)."""
    try:
        return read_image_and_references(path)[2] is None
    except ImageReadError:
        return False


def _take_all(ahead: Prefetch, files: list[Path]) -> int:
    """Take ``files`` in order, each plain one once its answer came, and check each answer against the parser's own
    read of the file (its headers, and its dependency names as the parser finds them from its references, or for a
    mixed-mode image the references); the number answered."""
    answered = 0
    for i, path in enumerate(files):
        if _answerable(path):
            seq = ahead._given[str(path)]
            assert _wait_for(lambda s=seq: ahead._receive() or s in ahead._answers, 10), f"{path}: no answer"
        got = ahead.take(path)
        if got is None:
            assert not _answerable(path), f"{path}: readable, and not answered"
            continue
        assert isinstance(got, Parsed)
        image, references, error = read_image_and_references(path)
        assert error is None
        assert got.image == image, f"file {i}, {path}"
        assert got.image.path == str(path)
        if got.dependencies is None:  # NOTE: no .NET image, mixed-mode (its imports count too), or metadata unread
            assert got.references == references, f"file {i}, {path}"
            assert references is None or image.kind is ImageKind.MIXED or references.reason is not None, path
        else:  # NOTE: what the dependency search would find from the parser's own read
            assert got.references is None, f"file {i}, {path}"
            assert got.dependencies == dependency_names(path, image, BinaryFacts()), f"file {i}, {path}"
        answered += 1
    return answered


@posix
def test_the_helper_answers_what_the_parser_would_read(parsing: None) -> None:
    """Every fixture and demo binary and a few hundred real assemblies, given in one list (twice the helper's
    window, so it waits for the parser): each answer is the PeImage and references the parser reads of that file."""
    files = [p for p in FIXTURES + _REAL if p.is_file()]
    assert sum(map(_plain, files)) > 20
    ahead = Prefetch()
    try:
        ahead.files_ahead(files)
        # NOTE: at once, as the parser does (while the helper starts): it numbers the files as given all the same
        early_answered = sum(ahead.take(p) is not None for p in files[:3])
        assert ahead.pid and ahead.parses
        answered = _take_all(ahead, files[3:])
    finally:
        ahead.close()
    assert answered + early_answered == ahead.answered and answered == sum(map(_answerable, files[3:]))
    assert answered > sum(map(_plain, files[3:])), "files not plain answered too"
    assert _reaped(ahead.pid)


_R2R_MACHINES = (0x8664, 0xAA64, 0x14C, 0x8664 ^ 0x7B79, 0xAA64 ^ 0x4644)
"""ReadyToRun Machines: Windows x64, ARM64 and x86, Linux x64, macOS ARM64 (the architecture XOR an OS value, facts I9,
dotnet/runtime crossgen2 ``MachineOSOverride``)."""


@posix
def test_the_helper_answers_ready_to_run_native_and_hybrid_files_as_the_parser_reads_them(tmp_path: Path,
                                                                                             parsing: None) -> None:
    """Review r10 #5: the helper's answers for files the parser does not read straight through (ReadyToRun, native,
    ARM64X/ARM64EC, no PE) were compared with the parser's read only where ~/.cache or /usr/lib/mono held such
    files, never on CI. Generated ReadyToRun images (pe_fixtures.make_ready_to_run, five Machines) and the committed
    native and hybrid fixtures, in tmp_path: each answered, each answer the parser's own read."""
    files = []
    for machine in _R2R_MACHINES:
        files.append(tmp_path / f"r2r_{machine:04x}.dll")
        files[-1].write_bytes(make_ready_to_run(machine))
    for name in ("hybrid_arm64x_marker.dll", "hybrid_arm64ec_marker.dll", "module_x86.dll", "module_arm64.dll",
                 "mixed_x86_marker.dll", "not_pe.txt"):
        shutil.copy(fixture(name), tmp_path / name)
        files.append(tmp_path / name)
    assert not any(map(_plain, files[:len(_R2R_MACHINES)])) and sum(map(_plain, files)) <= 1  # NOTE: mixed_x86 may be
    kinds = {read_image_and_references(p)[0].kind for p in files}
    assert {ImageKind.READY_TO_RUN, ImageKind.NATIVE, ImageKind.NOT_PE} <= kinds, kinds
    ahead = Prefetch()
    try:
        ahead.files_ahead(files)
        assert ahead.parses
        answered = _take_all(ahead, files)
    finally:
        ahead.close()
    assert answered == len(files) == sum(map(_answerable, files))


@posix
def test_the_helper_reads_only_regular_files_and_no_link(tmp_path: Path) -> None:
    """A link may lead out of the image, a FIFO would block: the helper reads neither (the parser resolves and
    refuses them itself), a regular file it does."""
    outside = tmp_path / "outside.dll"
    shutil.copy(fixture("managed_x86.dll"), outside)
    (tmp_path / "link.dll").symlink_to(outside)
    os.mkfifo(tmp_path / "fifo.dll")
    assert prefetch._read(os.fsencode(tmp_path / "link.dll")) is None
    assert prefetch._read(os.fsencode(tmp_path / "fifo.dll")) is None
    assert prefetch._read(os.fsencode(outside)) is not None


@posix
def test_on_one_core_the_helper_only_brings_files_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     parsing: None) -> None:
    """Its parse would take the parser's own core (``taskset -c 0``): no answers, as before."""
    monkeypatch.setattr(readahead, "usable_cores", lambda: 1)
    files = _copies(tmp_path, 10)
    ahead = Prefetch()
    try:
        ahead.files_ahead(files)
        assert ahead.pid and not ahead.parses and ahead._rfd < 0
        assert all(ahead.take(f) is None for f in files)
    finally:
        ahead.close()


@posix
def test_a_helper_that_dies_changes_nothing_but_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      parsing: None) -> None:
    """The helper killed after its first answer: the parser reads the rest itself; the report is the one read
    without any helper."""
    from iisbitness.scan import pipeline
    from tests.scan.test_cache import _image

    image = _image(tmp_path)
    threads = readahead.THREADS
    monkeypatch.setattr(readahead, "THREADS", 0)
    alone = scan_json.render(scan(image, ScanOptions()))
    monkeypatch.setattr(readahead, "THREADS", threads)
    made: list[Prefetch] = []

    class Dies(Prefetch):
        def take(self, path: str | os.PathLike[str]) -> Parsed | None:
            if self.pid and not self.answered:
                _wait_for(lambda: self._receive() or bool(self._answers) or self._rfd < 0)
            got = super().take(path)
            if got is not None and self.answered == 1:
                os.kill(self.pid, signal.SIGKILL)
            return got

    monkeypatch.setattr(pipeline, "read_ahead", lambda: made.append(Dies()) or made[-1])
    assert scan_json.render(scan(image, ScanOptions())) == alone
    assert made[0].answered >= 1 and made[0].stopped and _reaped(made[0].pid)


@posix
def test_answers_that_cannot_be_read_are_dropped(tmp_path: Path, parsing: None) -> None:
    """A frame that is not what the helper sends (a defect): the parser reads every file itself from then on."""
    files = _copies(tmp_path, 4)
    ahead = Prefetch()
    try:
        ahead.files_ahead(files)
        assert ahead._rfd >= 0
        rfd, wfd = os.pipe()
        os.write(wfd, prefetch._FRAME.pack(5, 0, 0, 1) + b"\xffjunk")
        ahead._rfd = rfd  # NOTE: the helper's own pipe is closed with it, by close
        ahead._receive()
        assert ahead._rfd < 0 and not ahead._answers
        assert ahead.stopped and _reaped(ahead.pid)  # NOTE: ended: left running, it would wait on a full pipe
        assert all(ahead.take(f) is None for f in files)
        os.close(rfd)
        os.close(wfd)
    finally:
        ahead.close()


@posix
@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="no pidfd here (Linux 5.3+)")
def test_the_helper_is_ended_through_its_pidfd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               parsing: None) -> None:
    """A host that reaps children itself (here: the test) reaped the helper, and its pid may be another process's
    by now: ending the scan signals nothing by pid."""
    ahead = Prefetch()
    try:
        ahead.files_ahead(_copies(tmp_path, 2))
        assert ahead.pid
        os.kill(ahead.pid, signal.SIGKILL)
        os.waitpid(ahead.pid, 0)  # NOTE: the host's reaper
        killed: list[int] = []
        monkeypatch.setattr(os, "kill", lambda pid, sig: killed.append(pid))
        monkeypatch.setattr(os, "waitpid", lambda pid, options: killed.append(pid) or (0, 0))
    finally:
        ahead.close()
    assert killed == []


@posix
def test_without_pidfd_the_helper_is_ended_by_its_pid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      parsing: None) -> None:
    monkeypatch.delattr(os, "pidfd_open", raising=False)
    ahead = Prefetch()
    try:
        ahead.files_ahead(_copies(tmp_path, 2))
        assert ahead.pid
    finally:
        ahead.close()
    assert _reaped(ahead.pid)


def _records(answers: int, count: int) -> list[tuple[int, int, tuple[int, ...]]]:
    """The first ``count`` answers the helper sends on the pipe ``answers`` (fewer when none come for 10 s)."""
    records = []
    data = b""
    while len(records) < count and select.select([answers], [], [], 10)[0]:
        data += os.read(answers, 1 << 16)
        while len(data) >= prefetch._FRAME.size:
            n = prefetch._FRAME.unpack_from(data)[0]
            if len(data) < prefetch._FRAME.size + n:
                break
            records += marshal.loads(data[prefetch._FRAME.size : prefetch._FRAME.size + n])[3]
            data = data[prefetch._FRAME.size + n :]
    return records


class _Warm(prefetch._Reader):
    """Every file found in the page cache."""

    def bring(self, seq: int, path: bytes) -> bool:
        return False


@posix
def test_files_found_warm_stop_the_bringing_in_not_the_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper's loop (in a thread here) with every file in the page cache: it answers for each all the same, and
    does not say it ended."""
    import mmap
    import threading

    monkeypatch.setattr(prefetch, "LEAD", 0)
    files = [p for p in FIXTURES if p.is_file() and _plain(p)][:10]
    rfd, wfd = os.pipe()
    answers, answered = os.pipe()
    shared = mmap.mmap(-1, prefetch._WARM + 1)
    helper = threading.Thread(target=prefetch._bring_in, args=(rfd, shared, os.getppid(), _Warm(),
                                                               prefetch._Parser(answered)), daemon=True)
    helper.start()
    try:
        os.write(wfd, b"".join(os.fsencode(p) + b"\0" for p in files))
        records = _records(answers, len(files))
    finally:
        os.close(wfd)
        helper.join(10)
        for fd in (rfd, answers, answered):
            os.close(fd)
    assert not helper.is_alive()
    assert not shared[prefetch._WARM], "not ended: it still parses"
    assert [r[0] for r in records] == list(range(len(files)))


@posix
def test_a_file_changed_since_the_helper_read_it_is_read_by_the_parser(tmp_path: Path, parsing: None) -> None:
    """Files replaced by another build, written to in place, deleted, or made a link between the helper's read and
    the parser's turn (a deploy during the scan): no answer, the parser reads each as it is then."""
    files = []
    for i in range(8):
        files.append(tmp_path / f"lib{i}.dll")
        shutil.copy(fixture("managed_x86.dll"), files[-1])
    for i in range(2):  # NOTE: native files: answered through general_read, not the plain read (review r10 #5)
        files.append(tmp_path / f"native{i}.dll")
        shutil.copy(fixture("module_x86.dll"), files[-1])
    ahead = Prefetch()
    try:
        ahead.files_ahead(files)
        for path in files:
            seq = ahead._given[str(path)]
            assert _wait_for(lambda s=seq: ahead._receive() or s in ahead._answers, 10), f"{path}: no answer"
        new = tmp_path / "new.dll"
        shutil.copy(fixture("managed_x64.dll"), new)
        os.replace(new, files[1])
        with open(files[2], "r+b") as f:  # NOTE: the same inode and size, another time stamp
            f.write(f.read(2))
        os.utime(files[2], ns=(1, 1))
        files[3].unlink()
        files[4].unlink()
        files[4].symlink_to(fixture("managed_x64.dll"))
        shutil.copy(fixture("module_x64.dll"), new)
        os.replace(new, files[8])
        got = [ahead.take(p) for p in files]
    finally:
        ahead.close()
    assert [g is not None for g in got] == [True, False, False, False, False, True, True, True, False, True], got
    assert read_image_and_references(files[1])[0].machine != got[0].image.machine  # type: ignore[union-attr]


@posix
def test_no_descriptor_for_the_helper_leaves_nothing_open(tmp_path: Path, parsing: None) -> None:
    """Out of file descriptors when the helper would start (its second pipe fails): no reading ahead, no error,
    nothing left open."""
    import resource

    files = _copies(tmp_path, 2)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("no /proc/self/fd here")
    used = _open_fds()
    limit = next(n for n in range(soft) if sum(1 for fd in range(n) if fd not in used) == 3)
    ahead = Prefetch()
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        ahead.files_ahead(files)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert ahead.stopped and not ahead.pid
    assert _open_fds() <= used


def _open_fds() -> set[int]:
    """The descriptors open now (not the one listing them)."""
    out = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.fstat(int(name))
        except OSError:
            continue
        out.add(int(name))
    return out


@posix
def test_the_helper_parses_as_far_ahead_as_it_is_given(tmp_path: Path, parsing: None) -> None:
    """Sixth round: the helper's parse is not held to the window it brings in for the parser (the fifth round's
    was: the parser caught up with it, and the two raced for the same files): given every file at once, it answers
    the last before the parser has taken one; then, taken in order, the answers are the parser's own reads."""
    files = _copies(tmp_path, 3 * prefetch.WINDOW_FILES)  # NOTE: every other one a plain assembly, the last too
    ahead = Prefetch()
    try:
        ahead.files_ahead(files)
        last = len(files) - 1
        assert _wait_for(lambda: ahead._receive() or last in ahead._answers, 10), "the last file not answered before the parser took one"
        assert ahead._progress == 0
        answered = _take_all(ahead, files)
    finally:
        ahead.close()
    assert answered == ahead.answered == sum(map(_answerable, files))
    assert _reaped(ahead.pid)


@posix
def test_the_helper_opens_each_file_it_parses_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The files it parses beyond its window for the parser are opened once, to ask for their first reads and to
    parse them (the fifth round's helper opened each twice, and parsed none beyond the window)."""
    import mmap
    import threading

    monkeypatch.setattr(prefetch, "LEAD", 0)
    monkeypatch.setattr(prefetch, "WINDOW_FILES", 4)
    monkeypatch.setattr(prefetch, "OPENED", 3)
    files = [os.fsencode(p) for p in FIXTURES if p.is_file() and _plain(p)][:20]
    assert len(files) == 20
    opened: list[bytes] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *args: opened.append(path) or real_open(path, *args))
    rfd, wfd = os.pipe()
    answers, answered = os.pipe()
    shared = mmap.mmap(-1, prefetch._WARM + 1)
    parser = prefetch._Parser(answered)
    helper = threading.Thread(target=prefetch._bring_in, args=(rfd, shared, os.getppid(), prefetch._Reader(), parser),
                              daemon=True)
    try:
        os.write(wfd, b"".join(p + b"\0" for p in files))
        os.close(wfd)
        helper.start()
        assert len(_records(answers, len(files))) == len(files)
        prefetch._PROGRESS.pack_into(shared, 0, len(files))  # NOTE: the parser is done: the helper ends
        helper.join(10)
        assert not helper.is_alive()
    finally:
        for fd in (rfd, answers, answered):
            os.close(fd)
    assert not parser.opened
    assert all(opened.count(p) == 1 for p in files[4:]), [opened.count(p) for p in files]
    assert all(opened.count(p) == 2 for p in files[:4]), "brought in for the parser, then parsed"


@posix
def test_a_helper_held_up_changes_nothing_but_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  parsing: None) -> None:
    """The helper stopped (SIGSTOP: a loaded machine) while the parser reads the first half of the files itself,
    then let go: it skips what the parser passed and answers the rest; the report is the one read without it."""
    from iisbitness.scan import pipeline
    from tests.conftest import apphost, make_image, site

    plain = [p for p in FIXTURES + _REAL if p.is_file() and _plain(p)][:60]
    pools = '<add name="P64" managedRuntimeVersion="v4.0" /><add name="P32" enable32BitAppOnWin64="true" />'
    sites = site("A", 1, "P64", "C:\\sites\\a") + site("B", 2, "P32", "C:\\sites\\b")
    files: dict[str, str | Path | bytes] = {f"sites/{f}/bin/lib{i}.dll": p for f in "ab" for i, p in enumerate(plain)}
    image = make_image(tmp_path / "img", apphost(pools, sites), files)
    monkeypatch.setattr(readahead, "THREADS", 0)
    alone = scan_json.render(scan(image, ScanOptions()))
    monkeypatch.undo()
    monkeypatch.setattr(prefetch, "START_FILES", 1)
    monkeypatch.setattr(prefetch, "_warm", lambda paths: False)
    monkeypatch.setattr(readahead, "usable_cores", lambda: 2)
    made: list[Prefetch] = []
    taken: list[bool] = []

    class HeldUp(Prefetch):
        def files_ahead(self, paths: Iterable[str | os.PathLike[str]]) -> None:
            started = self.pid
            super().files_ahead(paths)
            if self.pid and not started:
                os.kill(self.pid, signal.SIGSTOP)  # NOTE: it may have answered a few files already

        def take(self, path: str | os.PathLike[str]) -> Parsed | None:
            if len(taken) == self.files // 2:
                os.kill(self.pid, signal.SIGCONT)
                _wait_for(lambda: self._receive() or self.files - 1 in self._answers or self._rfd < 0)
            got = super().take(path)
            taken.append(got is not None)
            return got

    monkeypatch.setattr(pipeline, "read_ahead", lambda: made.append(HeldUp()) or made[-1])
    assert scan_json.render(scan(image, ScanOptions())) == alone
    ahead = made[0]
    assert ahead.files == 2 * len(plain) and len(taken) >= ahead.files
    assert sum(taken[: ahead.files // 2]) < ahead.files // 4 and taken[ahead.files - 1], taken
    assert _reaped(ahead.pid)


@posix
def test_an_answer_that_comes_in_its_files_own_take_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper's answer to a file, written just before the parser reaches that file (no take read the pipe since),
    is taken, not dropped (main dropped it: the file was passed by then); a file the helper skipped is read by the
    parser; answers to copies of one assembly (one shape, built once) each name their own file. The helper's
    ``_Parser`` runs in this process, writing to a pipe the parser side reads (no helper process started)."""
    monkeypatch.setattr(prefetch, "LEAD", 0)
    files = _copies(tmp_path, 7)
    ahead = Prefetch()
    ahead.files_ahead(files)  # NOTE: fewer than START_FILES: no helper process
    assert not ahead.pid
    ahead._out.clear()  # NOTE: the paths kept for a helper to start: none will
    rfd, wfd = os.pipe()
    os.set_blocking(rfd, False)
    shared = mmap.mmap(-1, prefetch._SHARED_BYTES)
    ahead._rfd, ahead._shared = rfd, shared
    helper = prefetch._Parser(wfd, shared)
    helper.push(0, [os.fsencode(f) for f in files])
    try:
        assert helper.parse_one(0)  # NOTE: file 0, answered at once (close behind: each answer its own frame)
        assert _taken(ahead, files[0])
        assert ahead.take(files[1]) is None  # NOTE: never answered (the helper went on from file 2)
        for seq in range(2, len(files)):
            assert helper.parse_one(2)
        for path in files[2:]:
            assert _taken(ahead, path)
        assert ahead.answered == len(files) - 1
    finally:
        ahead.close()
        os.close(rfd)
        os.close(wfd)


def _taken(ahead: Prefetch, path: Path) -> bool:
    """Whether ``ahead.take(path)`` gives the parser's own facts of ``path`` (its headers, and its dependency names
    or references)."""
    got = ahead.take(path)
    if got is None:
        return False
    image, references, error = read_image_and_references(path)
    assert error is None and got.image == image and got.image.path == str(path)
    if got.dependencies is None:
        assert got.references == references
    else:
        assert got.dependencies == dependency_names(path, image, BinaryFacts())
    return True
