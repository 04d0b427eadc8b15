"""Bring the next binaries into the page cache from a helper process, a bounded window ahead of the parser (issue 25).

A scan of a cold server (its files not in the page cache; content on a SAN or a file share) waits for the disk at
each binary it parses. :mod:`iisbitness.pe.readahead`'s threads read ahead, but in CPython every one of their
reads hands the GIL back and forth with the parsing thread: on fast local storage and two cores that costs the
parser more than the disk does (benchmarks/README.md, issue 25, fourth round). :class:`Prefetch` instead forks a
helper process (POSIX, with ``posix_fadvise``) that holds no GIL the parser needs: it is given the files the scan
will parse, in that order, through a pipe, and asks the kernel to read, with ``posix_fadvise(POSIX_FADV_WILLNEED)``
(which starts the reads and does not wait for them: many in flight), the bytes the parser will read of each: the
first :data:`~iisbitness.pe.readahead.FIRST_READ` bytes, and for a larger file the ranges its headers point to
(:func:`iisbitness.pe.readahead.ranges_past`: COR20 header, CLR metadata up to
:data:`~iisbitness.pe.readahead.MAX_AHEAD_BYTES`, ReadyToRun header; a native image's load config), which it finds
by reading that file's head into a scratch buffer. The parser then reads each file itself, as it would warm: the
helper hands it nothing, so the report is the same with it or without it.

Bounded: the helper stays at most :data:`WINDOW_FILES` files and :data:`~iisbitness.pe.readahead.MAX_AHEAD_BYTES`
of ranges ahead of the parser (whose progress it reads from a shared page), holds at most
:data:`~iisbitness.pe.readahead.THREADS` large files open, skips what the parser has passed, and stops when the
files turn out to be in the page cache already (:data:`~iisbitness.pe.readahead.WARM_STREAK` in a row); it does not
start for a scan of fewer than :data:`START_FILES` files, nor when the first are in the page cache (a rescan). It opens
only the paths it is given (files of the image's ``bin`` folders), read-only, not following a last symbolic link,
regular files only; it never maps, loads or runs one. The parser never waits for it: it writes paths to a pipe that
does not block (what does not fit waits in memory) and its progress to the shared page. It ends with the scan
(:meth:`Prefetch.close`, also on an exception or Ctrl-C, and when the object is collected), and by itself when the
parent goes away (end of file on the pipe, or a new parent); it ignores Ctrl-C, which the parent handles.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import mmap
import os
import signal
import stat
import struct
import time
import weakref
from collections import deque
from collections.abc import Iterable

from iisbitness.pe import readahead
from iisbitness.pe.readahead import (
    FIRST_READ,
    MAX_AHEAD_BYTES,
    PROBE_EVERY,
    ReadAhead,
    ranges_past,
)
from iisbitness.pe.source import HEAD_BYTES

PROCESS = True
"""Read ahead from a helper process where the platform allows (:data:`CAN_FORK`); False: on threads."""

CAN_FORK = hasattr(os, "fork") and hasattr(os, "posix_fadvise") and hasattr(os, "preadv")
"""Whether this platform has what the helper needs (Linux, the BSDs; not Windows or macOS)."""

WINDOW_FILES = 128
"""Files the helper may be ahead of the parser: reads in flight at once on slow storage (a share, a SAN)."""

START_FILES = 64
"""The helper starts once the scan has given this many files: a smaller scan has little to overlap (a fork, and a
process, for nothing)."""

WARM_SAMPLE = 8
"""Files among the first :data:`START_FILES` whose heads are looked up in the page cache before the helper starts:
when all are there (a rescan), it does not start."""

_CHUNK = 1 << 20
"""Bytes asked for per ``posix_fadvise`` call. NOTE: Linux reads at most the larger of a device's read-ahead window
(``read_ahead_kb``, 128 KB by default) and its largest request (``max_sectors_kb``, 512 KB to 4 MB on most disks)
per call (``force_page_cache_ra``; 8 MB measured here), and each call is a request of its own: 128 KB calls made
16% more requests than 8 MB calls on this machine (benchmarks/README.md, issue 25, fourth round). A device with a
smaller limit gets the start of each MB; the parser reads the rest of what it needs itself."""

_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None)
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _NO_FOLLOW
"""NOTE: O_NONBLOCK: a FIFO does not block the open; O_NOFOLLOW: a last component that is a symbolic link is not
followed (it may lead out of the image; the parser resolves such a file itself)."""

_PROGRESS = struct.Struct("<q")
"""The shared page: at 0 the parser's progress (the order number of the next file it has not reached), written only
by the parser; at :data:`_WARM` a byte written only by the helper: 1 when it stopped because the files are warm.
NOTE: no lock: a torn read of the progress only moves the helper's window for a moment."""

_WARM = 8

_POLL = 0.0005
"""Seconds the helper first sleeps while it is a whole window ahead of the parser, doubled each time up to
:data:`_POLL_MAX`."""

_POLL_MAX = 0.05


class Prefetch:
    """The helper process's parser side: :meth:`files_ahead` gives it files in the order the parser will read
    them, :meth:`take` tells it the parser reached one, :meth:`close` ends it. Same calls as
    :class:`~iisbitness.pe.readahead.ReadAhead`; :meth:`take` always answers None (the parser reads the file)."""

    def __init__(self) -> None:
        self.stopped = False
        """True once reading ahead is off (the first files were in the page cache, the helper found the files warm or
        could not start, or closed)."""
        self.files = 0
        """Files given to the helper."""
        self.started = False
        """Whether enough files were given to start the helper (:data:`START_FILES`); :attr:`pid` says whether it
        was."""
        self.pid = 0
        """The helper's process id (0: never started)."""
        self._given: dict[str, int] = {}
        """Files given and not reached by the parser: their order numbers."""
        self._progress = 0
        self._out = bytearray()
        """Paths (NUL-terminated) not yet written to the pipe: it was full."""
        self._wfd = -1
        self._shared: mmap.mmap | None = None
        self._end: weakref.finalize[[int, int], Prefetch] | None = None

    def files_ahead(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Bring ``paths`` in, in this order (the order the parser will read them)."""
        if self.stopped:
            return
        given, out, seq = self._given, self._out, self.files
        for p in paths:
            key = os.fspath(p)
            if key in given or "\0" in key:
                continue
            given[key] = seq
            seq += 1
            out += os.fsencode(key)
            out += b"\0"
        self.files = seq
        if not self.started:
            if seq < START_FILES:
                return
            self.started = True
            if _warm(list(given)[:START_FILES:max(1, START_FILES // WARM_SAMPLE)]):
                self.close()  # NOTE: a rescan: nothing to bring in (and no fork, whose copy-on-write costs)
                return
            self._start()
            if self.stopped:
                return
        self._send()

    def take(self, path: str | os.PathLike[str]) -> None:
        """The parser is about to read ``path``: the helper need not bring it, or anything given before it, in.
        Always None: the parser reads the file itself (through the page cache)."""
        seq = self._given.pop(os.fspath(path), None)
        if seq is None or seq < self._progress or self._shared is None:
            return
        self._progress = seq + 1
        shared = self._shared
        _PROGRESS.pack_into(shared, 0, seq + 1)
        if self._out and seq % 16 == 0:
            self._send()
        if shared[_WARM]:
            self.close()  # NOTE: the helper found the files warm and ended

    def close(self) -> None:
        """Stop: end the helper (killed and reaped: it holds nothing but open files to read)."""
        self.stopped = True
        self._given.clear()
        self._out.clear()
        if self._end is not None:
            self._end()
        self._shared = None

    def _start(self) -> None:
        rfd, wfd = os.pipe()
        with contextlib.suppress(AttributeError, OSError):
            import fcntl

            fcntl.fcntl(wfd, fcntl.F_SETPIPE_SZ, 1 << 20)  # NOTE: Linux; room for ~15,000 paths
        os.set_blocking(wfd, False)
        try:
            shared = mmap.mmap(-1, _WARM + 1)  # NOTE: anonymous and MAP_SHARED: the same page in both processes
        except OSError:
            os.close(rfd)
            os.close(wfd)
            self.stopped = True
            return
        parent = os.getpid()
        # NOTE: SIGINT blocked from before the fork until the child runs in its try (it never unblocks it): a Ctrl-C
        # reaches the whole process group, and must not raise KeyboardInterrupt in a copy of the caller's stack
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
            if pid == 0:
                _child(rfd, wfd, shared, parent)  # NOTE: never returns
            # NOTE: before SIGINT is unblocked: a Ctrl-C pending since the fork raises when the mask is restored, and
            # the helper must be tracked by then (else never killed, and the pipe it waits on never closed)
            os.close(rfd)
            self.pid, self._wfd, self._shared = pid, wfd, shared
            self._end = weakref.finalize(self, _end, pid, wfd)
        except OSError:
            os.close(rfd)
            os.close(wfd)
            self.stopped = True
            return
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def _send(self) -> None:
        """Write what the pipe takes of the paths not sent; never blocks."""
        out = self._out
        while out:
            try:
                n = os.write(self._wfd, out[: 1 << 16])
            except BlockingIOError:
                return
            except OSError:  # NOTE: the helper is gone (EPIPE)
                self.close()
                return
            del out[:n]


def _end(pid: int, wfd: int) -> None:
    """End the helper ``pid`` and close the pipe's end ``wfd``."""
    with contextlib.suppress(OSError):
        os.close(wfd)
    if pid <= 0:
        return  # NOTE: never a process group
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)  # NOTE: a killed process is reaped at once (a read in flight finishes first)


def _head_cached(fd: int, size: int, buffer: bytearray) -> bool:
    """Whether the first :data:`~iisbitness.pe.source.HEAD_BYTES` of ``fd`` (``size`` bytes long) are in the page
    cache: a read that may not wait for the disk (Linux ``preadv(RWF_NOWAIT)``, 4.14+) gets them all. False where
    that cannot be told (no ``RWF_NOWAIT``, or not on this file system)."""
    if _NOWAIT is None:
        return False
    try:
        return os.preadv(fd, [buffer], 0, _NOWAIT) >= min(size, HEAD_BYTES)
    except OSError:  # NOTE: BlockingIOError: not cached; EOPNOTSUPP: not known
        return False


def _warm(paths: list[str]) -> bool:
    """Whether ``paths`` (at least one opened) all have their heads in the page cache."""
    buffer, seen = bytearray(HEAD_BYTES), 0
    for path in paths:
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except (OSError, ValueError):
            continue
        try:
            if not _head_cached(fd, os.fstat(fd).st_size, buffer):
                return False
            seen += 1
        except OSError:
            return False
        finally:
            os.close(fd)
    return seen > 0


def read_ahead(threads: int | None = None) -> ReadAhead | Prefetch:
    """The read-ahead a scan of a cold server uses: a helper process (:class:`Prefetch`) where the platform allows
    and :data:`PROCESS`, threads (:class:`~iisbitness.pe.readahead.ReadAhead`) elsewhere (Windows) where they pay
    (:func:`~iisbitness.pe.readahead.worth_threads`, judged at the first files); none (a stopped ReadAhead) when
    ``threads`` (default :data:`iisbitness.pe.readahead.THREADS`) is 0."""
    threads = readahead.THREADS if threads is None else threads
    if threads > 0 and PROCESS and CAN_FORK:
        return Prefetch()
    return ReadAhead(threads, judge=True)


def _child(rfd: int, wfd: int, shared: mmap.mmap, parent: int) -> None:
    """The helper, in the forked process: runs :func:`_bring_in`, then ends the process, whatever happens (a copy
    of the caller's stack must never go on running)."""
    try:
        gc.disable()  # NOTE: a collection would write to every object's page, copying the parent's memory
        os.close(wfd)
        with contextlib.suppress(OSError):  # NOTE: none of the parent's files (its output, pipes, sockets) held here
            os.closerange(0, rfd)
            os.closerange(rfd + 1, max(os.sysconf("SC_OPEN_MAX"), 1 << 16))
        _bring_in(rfd, shared, parent)
    except BaseException:  # noqa: BLE001, S110 - nothing to tell: the parser reads every file itself anyway
        pass
    finally:
        os._exit(0)


def _bring_in(rfd: int, shared: mmap.mmap, parent: int, reader: _Reader | None = None) -> None:
    """The helper's loop: read NUL-terminated paths from ``rfd`` until its end, and bring each in (``reader``),
    at most a window ahead of the parser's progress in ``shared``; returns when the parent is gone or the files are
    warm (then says so in ``shared``)."""
    reader = reader or _Reader()
    buffer, pos, seq = b"", 0, -1
    while True:
        end = buffer.find(b"\0", pos)
        if end < 0:
            reader.finish_all()
            chunk = os.read(rfd, 1 << 16)
            if not chunk:
                return
            buffer, pos = buffer[pos:] + chunk, 0
            continue
        path, pos, seq = buffer[pos:end], end + 1, seq + 1
        progress = reader.passed(shared)
        pause = _POLL
        while seq >= progress + WINDOW_FILES or reader.held > MAX_AHEAD_BYTES:
            if not reader.finish_one():
                time.sleep(pause)
                pause = min(2 * pause, _POLL_MAX)  # NOTE: a parser busy elsewhere (verifying fixes) is not polled hard
                if os.getppid() != parent:
                    return
            progress = reader.passed(shared)
        if seq < progress:
            continue
        if not reader.bring(seq, path):
            shared[_WARM] = 1
            return


class _Reader:
    """What the helper brings in and holds: the files whose heads are being read (their ranges next), and the
    bytes asked for per order number, until the parser passes them."""

    def __init__(self) -> None:
        self.large: deque[tuple[int, int]] = deque()
        """``(order, fd)`` of files larger than the first read: their ranges are found once their head is in."""
        self.ahead: list[tuple[int, int]] = []
        """A heap of ``(order, bytes)`` asked for and not yet passed by the parser."""
        self.held = 0
        """Bytes of ranges asked for past the first reads and not yet passed by the parser."""
        self.progress = 0
        self.warm = 0
        self.head = bytearray(HEAD_BYTES)
        self.first = bytearray(FIRST_READ)

    def passed(self, shared: mmap.mmap) -> int:
        """The parser's progress; forgets what it passed."""
        progress: int = _PROGRESS.unpack_from(shared, 0)[0]
        self.progress = progress
        ahead = self.ahead
        while ahead and ahead[0][0] < progress:
            self.held -= heapq.heappop(ahead)[1]
        return progress

    def bring(self, seq: int, path: bytes) -> bool:
        """Ask for the file's first read (and, for a large one, later its ranges); False when the files are warm."""
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except (OSError, ValueError):
            return True  # NOTE: the parser opens it and says why it cannot
        keep = False
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
                return True
            os.posix_fadvise(fd, 0, min(st.st_size, FIRST_READ), os.POSIX_FADV_WILLNEED)
            # NOTE: looked up after the reads are asked for: a read that may not wait, of a page not cached, starts
            # a read of its own (Linux's read-ahead), one more disk request where requests are what storage limits
            if _NOWAIT is not None and (self.warm > 0 or seq % PROBE_EVERY == 0):
                cached = _head_cached(fd, st.st_size, self.head)
                self.warm = self.warm + 1 if cached else 0
                if self.warm >= readahead.WARM_STREAK:
                    return False
                if cached:
                    return True
            if st.st_size > FIRST_READ:
                self.large.append((seq, fd))
                keep = True
                if len(self.large) > readahead.THREADS:
                    self.finish_one()
        except OSError:
            pass
        finally:
            if not keep:
                os.close(fd)
        return True

    def finish_one(self) -> bool:
        """Ask for the ranges of the oldest large file (reading its head: waits for the disk); False when none."""
        if not self.large:
            return False
        seq, fd = self.large.popleft()
        try:
            if seq >= self.progress:
                n = os.preadv(fd, [self.first], 0)
                asked = 0
                for offset, size in ranges_past(fd, bytes(self.first[:n]), []):
                    size = min(size, MAX_AHEAD_BYTES - self.held - asked)
                    for at in range(offset, offset + max(size, 0), _CHUNK):
                        os.posix_fadvise(fd, at, min(_CHUNK, offset + size - at), os.POSIX_FADV_WILLNEED)
                    asked += max(size, 0)
                if asked:
                    self.held += asked
                    heapq.heappush(self.ahead, (seq, asked))
        except OSError:
            pass
        finally:
            os.close(fd)
        return True

    def finish_all(self) -> None:
        while self.finish_one():
            pass
