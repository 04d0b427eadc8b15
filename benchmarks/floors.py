"""I/O floors the benchmarks compare against: the least reading any reader of these files must do.

- :func:`floor_4k`: open, read the first 4 KB, close: every header reader needs at least this.
- :func:`floor_metadata`: the same plus, for a .NET image, one read of its CLR metadata region
  (what any metadata reader must read: the tables and heaps live there). Offsets are found
  beforehand by :func:`metadata_spans`, untimed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from iisbitness.pe.clr import has_clr_header, read_cor20
from iisbitness.pe.headers import parse_headers
from iisbitness.pe.source import InvalidPe, Source

Span = tuple[Path, int, int]
"""(file, metadata offset, metadata size); size 0 for a file without .NET metadata."""


def metadata_spans(paths: Sequence[Path]) -> list[Span]:
    """Where each file's CLR metadata lies (found with iisbitness's header reader, not timed)."""
    spans = []
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            src = Source.from_fd(fd)
            h = parse_headers(src)
            if has_clr_header(h):
                rva, size = read_cor20(src, h).metadata
                spans.append((p, h.rva_to_offset(rva), size))
            else:
                spans.append((p, 0, 0))
        except InvalidPe:
            spans.append((p, 0, 0))
        finally:
            os.close(fd)
    return spans


def floor_4k(paths: Sequence[Path]) -> int:
    """Read the first 4 KB of every file; returns the bytes read."""
    total = 0
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            total += len(os.read(fd, 4096))
        finally:
            os.close(fd)
    return total


def floor_metadata(spans: Sequence[Span]) -> int:
    """Read the first 4 KB of every file and the metadata region of each .NET one; returns bytes read."""
    total = 0
    for p, offset, size in spans:
        fd = os.open(p, os.O_RDONLY)
        try:
            total += len(os.read(fd, 4096))
            if size:
                total += len(os.pread(fd, size, offset))
        finally:
            os.close(fd)
    return total


def walk(top: Path) -> list[Path]:
    """Every file under ``top`` (what a directory walk costs, for floors that include listing)."""
    out = []
    stack = [str(top)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.is_dir():
                    stack.append(e.path)
                elif e.is_file():
                    out.append(Path(e.path))
    return out


def best(fn: Callable[[], object], rounds: int) -> float:
    """Fastest wall time of ``rounds`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def floor_metadata_threads(spans: Sequence[Span], threads: int = 8) -> int:
    """:func:`floor_metadata` with ``threads`` reads in flight (a thread pool, files in order)."""
    from concurrent.futures import ThreadPoolExecutor

    chunks = [spans[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(floor_metadata, chunks))


def evict(paths: Sequence[Path]) -> None:
    """Drop ``paths`` from the page cache (Linux ``posix_fadvise(POSIX_FADV_DONTNEED)``; no root needed): the
    next read of each comes from the disk, as on a server scanned for the first time."""
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
