"""Read binaries ahead of the parser on a few threads, so that their disk reads overlap (issue 25), where the helper
process of :mod:`iisbitness.pe.prefetch` cannot run (Windows, macOS), and only where the threads pay
(:func:`worth_threads`: one core, or storage slower than :data:`FAST_READ`).

A scan parses one binary at a time, and on a server scanned cold (its files not in the page cache; content on a
SAN or a file share) each file's reads wait for the disk in turn. :class:`ReadAhead` is given the files the
scan is about to parse, in the order it will parse them; its threads open each and read the bytes the parser
needs, and nothing else: the first :data:`FIRST_READ` bytes (the whole of most assemblies), and beyond them,
for a larger file, the ranges its headers point to (a .NET image's COR20 header, CLR metadata and ReadyToRun
header; a native image's load config). The parser then :meth:`~ReadAhead.take`\\ s the open file with a
:class:`~iisbitness.pe.source.Source` over those bytes (:meth:`Source.prefetched
<iisbitness.pe.source.Source.prefetched>`) instead of opening and reading it again; anything else it asks for is
read from the open file. So the threads do I/O and hold the GIL only between their system calls, and no byte
is read twice.

What is read ahead and not yet taken is bounded: :data:`MAX_AHEAD_FILES` open files and :data:`MAX_AHEAD_BYTES`.
A file that cannot be opened or read ahead is left to the parser, which opens it itself and reports why it cannot
be read, as without reading ahead; so is a file the parser asks for before a thread has read it (the parser never
waits for a thread). A Source is handed from the thread that read it to the parser once (whoever first takes the
file's token decides, atomically) and never shared. Defects in a thread are kept in :attr:`ReadAhead.failures`
(for tests and benchmarks: no report shows them, since the parser then reads that file itself, so the scan's answers
do not depend on them).

When the files turn out to be in the page cache already (Linux: a read that may not wait for the disk,
``RWF_NOWAIT``, succeeds for :data:`WARM_STREAK` files in a row), reading ahead only costs the parser time: it
stops. Elsewhere (Windows: no ``preadv``) it reads ahead to the end of the scan.
"""

from __future__ import annotations

import os
import queue
import statistics
import struct
import threading
import time
from collections.abc import Iterable
from typing import NamedTuple, Protocol

from iisbitness.pe.clr import COR20_SIZE, has_clr_header
from iisbitness.pe.headers import (
    DIR_CLR,
    DIR_LOAD_CONFIG,
    MACHINE_AMD64,
    MACHINE_ARM64,
    MACHINE_I386,
    parse_headers,
)
from iisbitness.pe.hybrid import CHPE_POINTER_OFFSET_32, CHPE_POINTER_OFFSET_64
from iisbitness.pe.metadata import AssemblyReferences
from iisbitness.pe.source import _OPEN_FLAGS, HEAD_BYTES, MAX_READ, InvalidPe, Source, _pread
from iisbitness.pe.types import PeImage

THREADS = 8
"""Reads in flight at once: what a disk queue, a SAN or a file share needs to be busy (issue 25: eight threads
read the same bytes 1.6x faster than one on a cold image)."""

WARM_STREAK = 200
"""After this many warm files in a row, reading ahead stops for the rest of the scan."""

FIRST_READ = MAX_READ
"""Bytes read from the start of each file in one read: the headers, and the whole of four assemblies in five
(benchmarks/README.md, issue 25, third round), so that most files need no other read and no look at their
headers here."""

MAX_AHEAD_FILES = 4 * THREADS
"""Files open at once, read ahead or being read, not yet taken by the parser."""

MAX_AHEAD_BYTES = 16 << 20
"""Bytes read ahead and not yet taken, besides the first reads (at most :data:`MAX_AHEAD_FILES` times
:data:`FIRST_READ`, 2 MB, more): a file whose ranges do not fit gets only its first read (the parser reads the
rest)."""

PROBE_EVERY = 8
"""While the files are cold, one in this many is asked whether it is in the page cache; once one is, every file."""

FAST_READ = 0.001
"""Seconds: a file whose head is opened and read faster than this is on fast local storage (an SSD: 60 us here) or
in the page cache; slower is a disk, a SAN or a file share, where reads in flight matter most."""

PROBE_FILES = 4
"""Files whose first read is timed (the median) to tell fast storage from slow before threads start."""

_MERGE_GAP = 4096
"""Ranges of a file closer than this are read as one (one system call, one disk request)."""

_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None


class Parsed(NamedTuple):
    """A file's facts as :func:`iisbitness.pe.classify.read_image_and_references` gives them (with no error), read
    ahead of the parser by the helper process of :mod:`iisbitness.pe.prefetch`: its headers, and either its
    references or, when they are all its dependencies, its dependency names as
    :func:`iisbitness.pe.deps.dependency_names` gives them (:func:`~iisbitness.pe.deps.assembly_dependencies`: the
    references are read for nothing else, so no object per file is made of them)."""

    image: PeImage
    references: AssemblyReferences | None
    dependencies: tuple[tuple[str, str], ...] | None = None


class Ahead(Protocol):
    """What a scan's :class:`~iisbitness.pe.facts.BinaryFacts` asks of a read-ahead: :class:`ReadAhead` (threads) or
    :class:`~iisbitness.pe.prefetch.Prefetch` (a helper process)."""

    stopped: bool
    """True once it is off: no more files need be given."""

    parses: bool
    """Whether it also parses the files (on another core): then the earlier it is given them, the more it answers."""

    def files_ahead(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """The parser will read ``paths`` next, in this order."""

    def take(self, path: str | os.PathLike[str]) -> tuple[int, Source] | Parsed | None:
        """The parser reads ``path`` now: ``(fd, Source)`` over what was read of it, its facts (:class:`Parsed`), or
        None (it reads it itself)."""

    def close(self) -> None:
        """The scan is over."""


class _Entry:
    """A file a thread started on. ``opened`` and ``nbytes`` are set by the thread, then it takes ``token``; whoever
    takes the token first (the thread when done, or the parser, or :meth:`ReadAhead.close`, giving the file up)
    decides: a thread that finds it gone closes its file, one that took it has handed ``opened`` over."""

    __slots__ = ("nbytes", "opened", "seq", "token")

    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.nbytes = 0
        self.opened: tuple[int, Source] | None = None
        self.token = [True]
        """NOTE: ``list.pop`` is atomic: the one decision between two threads that needs no lock."""

    def done(self) -> bool:
        """Whether the thread is done (or the file was given up)."""
        return not self.token


def _claim(entry: _Entry) -> bool:
    """Take ``entry``'s token: True for the first caller."""
    try:
        entry.token.pop()
    except IndexError:
        return False
    return True


class ReadAhead:
    """Reads files ahead on :data:`THREADS` threads for :meth:`take`; :meth:`close` when the scan ends.

    NOTE: the parser never takes a lock here, never waits and never blocks on a thread: it hands over and takes files
    with single dictionary, list and :class:`queue.SimpleQueue` operations (atomic in CPython; ``SimpleQueue.put``
    never blocks), so a thread that holds a lock while it waits for the GIL or a CPU never stops it; and it wakes one
    thread per file taken, not all of them (measured: a lock shared with the threads, and an event waking all eight,
    cost the parser 0.1 to 1 s a scan of 10,000 files on a loaded machine; benchmarks/README.md, issue 25, third
    round). A thread starts a file only with a token from ``_room`` (:data:`MAX_AHEAD_FILES` of them), which the
    parser gives back when it takes or gives up the file.

    Args:
        threads: the number of threads (default :data:`THREADS`); 0 turns reading ahead off.
        judge: before the threads start, time the first reads of the first :data:`PROBE_FILES` files and leave
            reading ahead off when they do not pay (:func:`worth_threads`).
    """

    def __init__(self, threads: int | None = None, judge: bool = False) -> None:
        threads = THREADS if threads is None else threads
        self._threads = threads
        self._judge = judge
        self.latency: float | None = None
        """Median seconds of the first reads timed (``judge``), None when none was."""
        self._running = False
        self._todo: queue.SimpleQueue[tuple[int, str] | None] = queue.SimpleQueue()
        """Files given, in order (None: stop)."""
        self._room: queue.SimpleQueue[bool] = queue.SimpleQueue()
        """Tokens: a thread takes one to start a file (False: stop)."""
        self._queued: dict[str, int] = {}
        """Files given and not started, by path: their place in the order. Whoever pops a path from here (a thread
        starting on it, or the parser asking for it first) has it."""
        self._entries: dict[str, _Entry] = {}
        """Files started, by path. Whoever pops an entry from here (the parser, or :meth:`close`) decides its fate
        with its token."""
        self._seq = 0
        self._lock = threading.Lock()
        """The threads' own (never the parser's), for ``_reading``."""
        self._reading = 0
        """Bytes of ranges past the first read being read (the threads')."""
        self._handed = 0
        """Bytes read and handed over, ever (the threads')."""
        self._returned = 0
        """Of those, bytes the parser took or gave up, ever (the parser's)."""
        self._warm = 0
        self.stopped = threads <= 0
        self.parses = False  # NOTE: threads read; the parser parses (one GIL)
        """True once reading ahead is off (no threads, the files were warm, or closed)."""
        self.files = 0
        """Files given to the threads."""
        self.taken = 0
        """Files the parser took read ahead."""
        self.missed = 0
        """Files given that the parser asked for before a thread had read them (it read them itself)."""
        self.failures: list[str] = []
        """Unexpected errors in the threads (a defect, not a file that cannot be read: that one is left to the
        parser, which reports it); the file is then read by the parser as without reading ahead."""

    def files_ahead(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Read ``paths`` ahead, in this order (the order the parser will ask for them)."""
        if self.stopped:
            return
        if self._judge:
            given = [os.fspath(p) for p in paths]
            if not given:
                return  # NOTE: judged at the first files given, not at an empty batch (no latency: threads on)
            self._judge = False
            paths = given
            self.latency = first_read_latency(given[:PROBE_FILES])
            if not worth_threads(self.latency, usable_cores()):
                self.stopped = True
                return
        if not self._running:
            self._running = True
            for _ in range(MAX_AHEAD_FILES):
                self._room.put(True)
            for i in range(self._threads):
                threading.Thread(target=self._work, name=f"iisbitness-read-ahead-{i}", daemon=True).start()
        for p in paths:
            key = os.fspath(p)
            if key in self._queued or key in self._entries:
                continue
            self._queued[key] = self._seq
            self._todo.put((self._seq, key))
            self._seq += 1
            self.files += 1

    def take(self, path: str | os.PathLike[str]) -> tuple[int, Source] | None:
        """``(fd, Source)`` of ``path`` read ahead, now the caller's (it closes ``fd``); None when the caller must open
        and read it itself: never given, not read yet, unreadable here, or reading ahead has stopped. Never waits.

        NOTE: a file a thread is still reading is read by the parser too rather than waited for: a thread blocked on
        the disk makes the parser's read wait for the same pages just as long, and a thread whose read is done but
        that waits for the GIL or a CPU (a loaded machine) would make it wait longer than reading from the page
        cache; the thread closes its copy."""
        if self.stopped:
            if self._entries:
                self.close()  # NOTE: stopped by a thread (the files are warm): close what it left
            return None
        key = os.fspath(path)
        seq = self._queued.pop(key, None)
        if seq is not None:
            self.missed += 1
            self._forget_before(seq)
            return None  # NOTE: no thread started on it, and none will
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self._forget_before(entry.seq)
        if _claim(entry):
            self.missed += 1
            return None  # NOTE: the thread closes it when its read returns, and gives its token back
        self._give_back(entry)
        self.taken += entry.opened is not None
        return entry.opened

    def close(self) -> None:
        """Stop: close what was read ahead and not taken, drop what was not read yet (never waits for the disk:
        a thread in the middle of a read closes its file when the read returns)."""
        self.stopped = True
        self._queued.clear()
        while not self._todo.empty():  # NOTE: the paths not started, let go of now
            try:
                self._todo.get_nowait()
            except queue.Empty:
                break
        for key in list(self._entries):
            entry = self._entries.pop(key, None)
            if entry is not None and not _claim(entry) and entry.opened is not None:
                os.close(entry.opened[0])
        for _ in range(self._threads if self._running else 0):
            self._todo.put(None)
            self._room.put(False)

    def _give_back(self, entry: _Entry) -> None:
        """``entry``, handed over by its thread, is out of the window: its token back to the threads."""
        self._returned += entry.nbytes
        self._room.put(True)

    def _forget_before(self, seq: int) -> None:
        """With the window full, close the files read ahead that the parser passed by long ago (it read them another
        way, or never will), so the threads go on."""
        if len(self._entries) < MAX_AHEAD_FILES:
            return
        for key, entry in list(self._entries.items()):  # NOTE: list() of a dict's items: one atomic copy
            if entry.seq < seq - MAX_AHEAD_FILES and entry.done() and self._entries.pop(key, None) is entry:
                self._give_back(entry)
                if entry.opened is not None:
                    os.close(entry.opened[0])

    def _next(self) -> tuple[str, _Entry] | None:
        """The next file to read, started (in ``_entries``), or None once stopped. Waits for room, then for a file."""
        if not self._room.get() or self.stopped:
            return None
        while (item := self._todo.get()) is not None and not self.stopped:
            seq, key = item
            entry = self._entries[key] = _Entry(seq)  # NOTE: before the pop below: the parser finds one of them
            if self._queued.pop(key, None) == seq:
                return key, entry
            if self._entries.get(key) is entry:
                del self._entries[key]  # NOTE: the parser asked for it first (and read it)
        return None

    def _work(self) -> None:
        while (started := self._next()) is not None:
            key, entry = started
            # NOTE: after a cold file, only every PROBE_EVERY-th is asked whether it is in the page cache (a read
            # that may not wait fails, and then the file is read: one more system call)
            probe = _NOWAIT is not None and (self._warm > 0 or entry.seq % PROBE_EVERY == 0)
            warm: bool | None = None
            try:
                opened, nbytes, warm = self._read(key, probe)
            except Exception as e:  # noqa: BLE001 - kept in failures; the parser reads the file itself
                opened, nbytes = None, 0
                self.failures.append(f"{key}: {type(e).__name__}: {e}")
            entry.opened, entry.nbytes = opened, nbytes
            with self._lock:
                self._handed += nbytes
            if not _claim(entry):  # NOTE: the parser read it itself, or close()
                with self._lock:
                    self._handed -= nbytes
                if opened is not None:
                    os.close(opened[0])
                self._room.put(True)
                continue
            if warm is not None:
                # NOTE: unlocked: two threads may count one file too few; the streak is a heuristic
                self._warm = self._warm + 1 if warm else 0
                if self._warm >= WARM_STREAK:
                    self.stopped = True  # NOTE: the parser closes what is left (take)
            if self.stopped and self._entries.pop(key, None) is entry and opened is not None:
                os.close(opened[0])

    def _reserve(self, nbytes: int) -> bool:
        """Count ``nbytes`` more as being read when :data:`MAX_AHEAD_BYTES` has room for them."""
        with self._lock:
            if self._reading + self._handed - self._returned + nbytes > MAX_AHEAD_BYTES:
                return False
            self._reading += nbytes
            return True

    def _read(self, path: str, probe: bool) -> tuple[tuple[int, Source] | None, int, bool | None]:
        """``((fd, Source), bytes held, whether the first read found the file in the page cache or None: unknown)``;
        ``(None, 0, None)`` when the file cannot be opened or read (the parser opens it and says why)."""
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except (OSError, ValueError):
            return None, 0, None
        try:
            first, whole, warm = _first(fd, probe)
            spans = [(0, first)]
            size = len(first) if whole else None
            if size is None:
                ranges = ranges_past(fd, first, spans)
                want = sum(n for _, n in ranges)
                if want and self._reserve(want):
                    try:
                        for offset, n in ranges:
                            data = _pread(fd, n, offset)
                            spans.append((offset, data))
                            if len(data) < n:
                                size = offset + len(data)
                    finally:
                        with self._lock:
                            self._reading -= want
            nbytes = sum(len(d) for _, d in spans)
            return (fd, Source.prefetched(fd, tuple(spans), size)), nbytes, warm
        except OSError:
            os.close(fd)
            return None, 0, None
        except BaseException:
            os.close(fd)
            raise


def usable_cores() -> int:
    """The CPUs this process may run on (``sched_getaffinity``: a ``taskset`` or a container's cpuset counts), or
    all of them where that is not known (Windows, macOS)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worth_threads(latency: float | None, cores: int) -> bool:
    """Whether threads reading ahead pay, given the median first-read ``latency`` of the first files (seconds, None:
    unknown) and the ``cores`` usable: on one core, and on storage slower than :data:`FAST_READ` (a disk, a SAN, a
    share), yes; on fast storage with two cores or more, no. Measured (benchmarks/README.md, issue 25, third and
    fourth rounds; an SSD, 60 us a cold file): on two cores the threads' system calls and their GIL hand-overs with
    the parsing thread (CPython's convoy effect) cost it more than the reads they overlap (1.66 s against 1.18 s a
    cold scan of 10,000 assemblies); on one core they pay (1.24 s against 1.51 s)."""
    return cores < 2 or latency is None or latency >= FAST_READ


def first_read_latency(paths: list[str]) -> float | None:
    """The median seconds to open each of ``paths`` and read its first :data:`~iisbitness.pe.source.HEAD_BYTES`
    (what the parser does first with each: its pages are then cached for it); None when none can be read."""
    times = []
    for path in paths:
        start = time.perf_counter()
        try:
            fd = os.open(path, _OPEN_FLAGS | getattr(os, "O_NOFOLLOW", 0))
        except (OSError, ValueError):
            continue
        try:
            _pread(fd, HEAD_BYTES, 0)
            times.append(time.perf_counter() - start)
        except OSError:
            pass
        finally:
            os.close(fd)
    return statistics.median(times) if times else None


def _first(fd: int, probe: bool) -> tuple[bytes, bool, bool | None]:
    """``(data, whole, warm)``: up to the first :data:`FIRST_READ` bytes of ``fd``, whether they are the whole file,
    and whether its head was in the page cache (Linux ``preadv(RWF_NOWAIT)``, 4.14+: EAGAIN when the read would
    wait for the disk, a short count when part of it would), None when not asked (``probe``) or not known.

    NOTE: warm means the first :data:`HEAD_BYTES` were cached, as a parser reading the file would find them; when
    only part of the first read is cached, that part is all that is read here (in a warm scan the pages past it, of a
    file larger than the parser needs, may not be cached, and reading them would only cost disk reads)."""
    if not probe or _NOWAIT is None:
        data = _pread(fd, FIRST_READ, 0)
        return data, len(data) < FIRST_READ, None
    buf = bytearray(FIRST_READ)
    try:
        n = os.preadv(fd, [buf], 0, _NOWAIT)
    except BlockingIOError:
        data = _pread(fd, FIRST_READ, 0)
        return data, len(data) < FIRST_READ, False
    except OSError:  # NOTE: a file system without RWF_NOWAIT (EOPNOTSUPP); a real error comes again below
        data = _pread(fd, FIRST_READ, 0)
        return data, len(data) < FIRST_READ, None
    if n >= HEAD_BYTES:
        return bytes(buf[:n]), False, True  # NOTE: the end of the file, or of what is cached: not known which
    rest = _pread(fd, FIRST_READ - n, n)  # NOTE: b"" at the end of the file: it was all cached
    data = bytes(buf[:n]) + rest
    return data, len(data) < FIRST_READ, not rest


def ranges_past(fd: int, first: bytes, spans: list[tuple[int, bytes]]) -> list[tuple[int, int]]:
    """The ``(offset, size)`` ranges past ``first`` that the parser will read of this image (merged when close),
    found from its headers as the parser finds them; none when the headers are not all in ``first`` or are not
    valid (the parser reads what it needs, and reports). A COR20 header past ``first`` is read here and added
    to ``spans``."""
    src = Source.prefetched(fd, ((0, first),))
    try:
        h = parse_headers(src)
        wanted: list[tuple[int, int]] = []
        if has_clr_header(h):
            cor_at = h.rva_to_offset(h.directories[DIR_CLR][0])
            if cor_at + COR20_SIZE > len(first):
                cor = _pread(fd, COR20_SIZE, cor_at)
                spans.append((cor_at, cor))
            else:
                cor = first[cor_at : cor_at + COR20_SIZE]
            _, _, _, md_rva, md_size, _ = struct.unpack_from("<IHHIII", cor, 0)
            mnh_rva, mnh_size = struct.unpack_from("<II", cor, 64)
            if md_rva and md_size:
                wanted.append((h.rva_to_offset(md_rva), min(md_size, MAX_AHEAD_BYTES)))
            if mnh_rva and mnh_size >= 16:
                wanted.append((h.rva_to_offset(mnh_rva), 16))
        elif h.machine in (MACHINE_AMD64, MACHINE_ARM64, MACHINE_I386):
            rva, size = h.directory(DIR_LOAD_CONFIG)
            if rva and size:
                wanted.append((h.rva_to_offset(rva), (CHPE_POINTER_OFFSET_64 + 8) if h.pe32_plus
                               else (CHPE_POINTER_OFFSET_32 + 4)))
    except (InvalidPe, struct.error, IndexError):
        return []
    merged: list[tuple[int, int]] = []
    for offset, n in sorted(r for r in wanted if r[0] + r[1] > len(first)):
        if merged and offset <= merged[-1][0] + merged[-1][1] + _MERGE_GAP:
            start = merged[-1][0]
            merged[-1] = (start, max(merged[-1][1], offset + n - start))
        else:
            merged.append((offset, n))
    return merged
