"""Read binaries ahead of the parser on a few threads, so that their disk reads overlap (issue 25).

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
be read, as without reading ahead; so is a file the parser asks for before a thread started on it. A Source is
handed from the thread that read it to the parser once, under a lock, and never shared.

When the files turn out to be in the page cache already (Linux: a read that may not wait for the disk,
``RWF_NOWAIT``, succeeds for :data:`WARM_STREAK` files in a row), reading ahead only costs the parser time: it
stops. Elsewhere (Windows: no ``preadv``) it reads ahead to the end of the scan.
"""

from __future__ import annotations

import os
import struct
import threading
from collections import deque
from collections.abc import Iterable

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
from iisbitness.pe.source import _OPEN_FLAGS, MAX_READ, InvalidPe, Source, _pread

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
"""Bytes read ahead and not yet taken: a file whose ranges do not fit gets only its first read (the parser reads
the rest)."""

PROBE_EVERY = 8
"""While the files are cold, one in this many is asked whether it is in the page cache; once one is, every file."""

_MERGE_GAP = 4096
"""Ranges of a file closer than this are read as one (one system call, one disk request)."""

_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None


class _Entry:
    """A file a thread started on: ``opened`` once ``done`` (None when the parser must read it itself)."""

    __slots__ = ("done", "nbytes", "opened", "seq")

    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.done = False
        self.nbytes = FIRST_READ
        self.opened: tuple[int, Source] | None = None


class ReadAhead:
    """Reads files ahead on :data:`THREADS` threads for :meth:`take`; :meth:`close` when the scan ends.

    Args:
        threads: the number of threads (default :data:`THREADS`); 0 turns reading ahead off.
    """

    def __init__(self, threads: int | None = None) -> None:
        threads = THREADS if threads is None else threads
        self._threads = threads
        self._started = False
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        """Threads wait here for a file to read and room in the window."""
        self._ready = threading.Condition(self._lock)
        """The parser waits here for a file being read."""
        self._queue: deque[tuple[int, str]] = deque()
        self._queued: dict[str, int] = {}
        """Files given and not started, by path: their place in the order (a queue entry whose path is no longer
        here, or at another place, was taken by the parser first)."""
        self._entries: dict[str, _Entry] = {}
        self._held = 0
        self._seq = 0
        self._warm = 0
        self.stopped = threads <= 0
        """True once reading ahead is off (no threads, the files were warm, or closed)."""
        self.files = 0
        """Files given to the threads."""
        self.taken = 0
        """Files the parser took read ahead."""
        self.waited = 0
        """Of those, files the parser had to wait for."""
        self.failures: list[str] = []
        """Unexpected errors in the threads (a defect, not a file that cannot be read: that one is left to the
        parser, which reports it); the file is then read by the parser as without reading ahead."""

    def files_ahead(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Read ``paths`` ahead, in this order (the order the parser will ask for them)."""
        if self.stopped:
            return
        with self._lock:
            for p in paths:
                key = os.fspath(p)
                if key in self._queued or key in self._entries:
                    continue
                self._queued[key] = self._seq
                self._queue.append((self._seq, key))
                self._seq += 1
                self.files += 1
            self._space.notify_all()
        if not self._started:
            self._started = True
            for i in range(self._threads):
                threading.Thread(target=self._work, name=f"iisbitness-read-ahead-{i}", daemon=True).start()

    def take(self, path: str | os.PathLike[str]) -> tuple[int, Source] | None:
        """``(fd, Source)`` of ``path`` read ahead, now the caller's (it closes ``fd``), waiting for a thread that
        is reading it; None when the caller must open it itself (never given, not started yet, unreadable here,
        or reading ahead has stopped)."""
        if self.stopped:
            return None
        key = os.fspath(path)
        with self._lock:
            seq = self._queued.pop(key, None)
            if seq is not None:
                self._forget_before(seq)
                return None  # NOTE: not started: reading it now is quicker than waiting for a thread to
            entry = self._entries.get(key)
            if entry is None:
                return None
            if not entry.done:
                self.waited += 1
                while not entry.done and not self.stopped:
                    self._ready.wait(0.1)  # NOTE: a timeout, so Ctrl-C is seen on every platform
                if self.stopped:
                    return None  # NOTE: the thread closes it
            del self._entries[key]
            self._held -= entry.nbytes
            self._forget_before(entry.seq)
            self._space.notify()
            if entry.opened is not None:
                self.taken += 1
            return entry.opened

    def close(self) -> None:
        """Stop: close what was read ahead and not taken, drop what was not read yet (never waits for the disk:
        a thread in the middle of a read closes its file when the read returns)."""
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        """Stop, holding the lock."""
        self.stopped = True
        for entry in self._entries.values():
            if entry.done and entry.opened is not None:
                os.close(entry.opened[0])
        self._entries.clear()
        self._queue.clear()
        self._queued.clear()
        self._held = 0
        self._space.notify_all()
        self._ready.notify_all()

    def _forget_before(self, seq: int) -> None:
        """With the window full, close the files read ahead that the parser passed by long ago (it read them another
        way, or never will), so the threads go on."""
        if len(self._entries) < MAX_AHEAD_FILES:
            return
        for key, entry in list(self._entries.items()):
            if entry.done and entry.seq < seq - MAX_AHEAD_FILES:
                del self._entries[key]
                self._held -= entry.nbytes
                if entry.opened is not None:
                    os.close(entry.opened[0])
                self._space.notify()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self.stopped and not (self._queue and len(self._entries) < MAX_AHEAD_FILES
                                                and self._held + FIRST_READ <= MAX_AHEAD_BYTES):
                    self._space.wait()
                if self.stopped:
                    return
                seq, key = self._queue.popleft()
                if self._queued.get(key) != seq:
                    continue  # NOTE: the parser took it first
                del self._queued[key]
                entry = self._entries[key] = _Entry(seq)
                self._held += FIRST_READ
                # NOTE: after a cold file, only every PROBE_EVERY-th is asked whether it is in the page cache (a read
                # that may not wait fails, and then the file is read: one more system call)
                probe = _NOWAIT is not None and (self._warm > 0 or seq % PROBE_EVERY == 0)
            warm: bool | None = None
            try:
                opened, nbytes, warm = self._read(key, probe)
            except Exception as e:  # noqa: BLE001 - kept in failures; the parser reads the file itself
                opened, nbytes = None, FIRST_READ
                self.failures.append(f"{key}: {type(e).__name__}: {e}")
            with self._lock:
                entry.done = True
                if self.stopped or self._entries.get(key) is not entry:
                    if opened is not None:
                        os.close(opened[0])
                    continue
                entry.opened = opened
                self._held += nbytes - entry.nbytes
                entry.nbytes = nbytes
                self._ready.notify_all()
                if warm is not None:
                    self._warm = self._warm + 1 if warm else 0
                    if self._warm >= WARM_STREAK:
                        self._stop()

    def _read(self, path: str, probe: bool) -> tuple[tuple[int, Source] | None, int, bool | None]:
        """``((fd, Source), bytes held, whether the first read found the file in the page cache or None: unknown)``;
        ``(None, ...)`` when the file cannot be opened or read (the parser opens it and says why)."""
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except (OSError, ValueError):
            return None, FIRST_READ, None
        try:
            first, warm = _first(fd, probe)
            spans = [(0, first)]
            size = len(first) if len(first) < FIRST_READ else None
            if size is None:
                ranges = _ranges(fd, first, spans)
                want = sum(n for _, n in ranges)
                with self._lock:
                    fits = self._held + want <= MAX_AHEAD_BYTES
                    if fits:
                        self._held += want
                if fits:
                    for offset, n in ranges:
                        data = _pread(fd, n, offset)
                        spans.append((offset, data))
                        if len(data) < n:
                            size = offset + len(data)
                    with self._lock:
                        self._held -= want
            nbytes = sum(len(d) for _, d in spans)
            return (fd, Source.prefetched(fd, tuple(spans), size)), nbytes, warm
        except OSError:
            os.close(fd)
            return None, FIRST_READ, None
        except BaseException:
            os.close(fd)
            raise


def _first(fd: int, probe: bool) -> tuple[bytes, bool | None]:
    """The first :data:`FIRST_READ` bytes of ``fd`` (fewer at its end) and whether they were all in the page cache
    (Linux ``preadv(RWF_NOWAIT)``, 4.14+: EAGAIN when the read would wait for the disk, a short count when part of
    it would), None when not asked (``probe``) or not known."""
    if not probe or _NOWAIT is None:
        return _pread(fd, FIRST_READ, 0), None
    buf = bytearray(FIRST_READ)
    try:
        n = os.preadv(fd, [buf], 0, _NOWAIT)
    except BlockingIOError:
        return _pread(fd, FIRST_READ, 0), False
    except OSError:  # NOTE: a file system without RWF_NOWAIT (EOPNOTSUPP); a real error comes again below
        return _pread(fd, FIRST_READ, 0), None
    if n == FIRST_READ:
        return bytes(buf), True
    rest = _pread(fd, FIRST_READ - n, n)  # NOTE: b"" at the end of the file: it was all cached
    return bytes(buf[:n]) + rest, not rest


def _ranges(fd: int, first: bytes, spans: list[tuple[int, bytes]]) -> list[tuple[int, int]]:
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
