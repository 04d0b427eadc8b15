"""Read binaries ahead of the parser on a few threads, so that their disk reads overlap (issue 25).

A scan parses one binary at a time, and on a server scanned cold (its files not in the page cache; content on a
SAN or a file share) each file's reads wait for the disk in turn. :class:`ReadAhead` is given the files the
scan is about to parse, in the order it will parse them, and reads on a small thread pool the byte ranges the
parser needs (the first :data:`~iisbitness.pe.source.HEAD_BYTES`, and a .NET image's CLR metadata region): the
operating system keeps them in its page cache, where the parser, still one file at a time and in order, finds
them. Nothing read ahead is kept in Python; results are never shared between threads. (Measured, not used:
asking the kernel for each small file whole, ``POSIX_FADV_WILLNEED``: more bytes, and a slower cold scan
than reading the two ranges; benchmarks/README.md.)

When the files turn out to be in the page cache already (Linux: a read that may not wait for the disk,
``RWF_NOWAIT``, succeeds for :data:`WARM_STREAK` files in a row), reading ahead only costs the parser time: it
stops. A file that cannot be opened or parsed is left to the parser, which
reports it.
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from iisbitness.pe.clr import has_clr_header, read_cor20
from iisbitness.pe.headers import parse_headers
from iisbitness.pe.source import HEAD_BYTES, InvalidPe, Source, open_binary

THREADS = 8
"""Reads in flight at once: what a disk queue, a SAN or a file share needs to be busy (issue 25: eight threads
read the same bytes 1.6x faster than one on a cold image)."""

WARM_STREAK = 200
"""After this many warm files in a row, reading ahead stops for the rest of the scan."""

MAX_AHEAD_BYTES = 64 << 20
"""Metadata regions larger than this are left to the parser (a read ahead must not hold much memory)."""


class ReadAhead:
    """Reads files ahead on :data:`THREADS` threads; :meth:`close` when the scan ends.

    Args:
        threads: the pool's size (default :data:`THREADS`); 0 turns reading ahead off.
    """

    def __init__(self, threads: int | None = None) -> None:
        threads = THREADS if threads is None else threads
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._warm = 0
        self.stopped = threads <= 0
        """True once reading ahead is off (no threads, the files were warm, or closed)."""
        self.files = 0
        """Files given to the pool."""

    def files_ahead(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Read ``paths`` ahead, in this order (the order the parser will ask for them)."""
        if self.stopped:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="iisbitness-read-ahead")
        for p in paths:
            self._pool.submit(self._read, p)
            self.files += 1

    def close(self) -> None:
        """Stop: drop what was not read yet (never waits for the disk)."""
        self.stopped = True
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _read(self, path: str | os.PathLike[str]) -> None:
        if self.stopped:
            return
        try:
            _, fd = open_binary(path)
        except Exception:  # noqa: BLE001 - the parser opens it again and reports why it cannot
            return
        try:
            warm = _cached(fd)
            if not warm:
                src = Source.from_fd(fd)
                h = parse_headers(src)
                if has_clr_header(h):
                    rva, size = read_cor20(src, h).metadata
                    if 0 < size <= MAX_AHEAD_BYTES:
                        src.read_span(h.rva_to_offset(rva), size)
        except (OSError, InvalidPe, struct.error, ValueError):
            warm = False
        finally:
            os.close(fd)
        with self._lock:
            self._warm = self._warm + 1 if warm else 0
            if self._warm >= WARM_STREAK:
                self.stopped = True


_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None


def _cached(fd: int) -> bool:
    """True when the file's head is in the page cache: a read that must not wait for the disk succeeds
    (Linux ``preadv(RWF_NOWAIT)``, 4.14+: EAGAIN when it would wait). Elsewhere: never known, False."""
    if _NOWAIT is None:
        return False
    try:
        return os.preadv(fd, [bytearray(HEAD_BYTES)], 0, _NOWAIT) > 0
    except OSError:  # NOTE: BlockingIOError (not cached) or a file system without RWF_NOWAIT
        return False
