"""Where a cold scan's two processes spend their time: the helper's answers taken against the files the parser reads
itself, when the helper starts and when the parser takes its first file, and the parser's CPU in taking answers.

Usage: ``PYTHONPATH=src:benchmarks python benchmarks/bench_flow.py [--image DIR] [--runs 3]``

Builds (once, under ``--work``, default /tmp/iisbitness-bench-flow) the image ``bench_scan.py`` scans (10,000 real
assemblies, links to private copies no other process reads), or scans ``--image`` (its binaries are evicted from the
page cache before each run: ``posix_fadvise(DONTNEED)``, which changes no file). Per run, a cold ``api.scan`` in this
process with :class:`iisbitness.pe.prefetch.Prefetch` instrumented (its methods wrapped, nothing else changed):

- wall seconds, the parser thread's CPU seconds, the helper process's (``RUSAGE_CHILDREN``: it is reaped at the
  scan's end), the load average (other processes on the machine take the cores the two need);
- files taken (``Prefetch.take``) and answered by the helper; the seconds from the scan's start at which the helper
  was started (and the files given by then) and at which the parser took its first file;
- the parser's CPU seconds in ``take`` (answered and not) and in ``_receive`` (reading and decoding the helper's
  frames; counted within ``take``; and ``_decode`` where it is called without a read) and the number of their calls;
- per tenth of the parser's takes (in time), the files taken and answered: where the helper falls behind.

Benchmarks/README.md, issue 25, eighth round, has what it showed.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_scan
import floors
import inputs

from iisbitness.api import ScanOptions, scan
from iisbitness.pe import prefetch


def _image(work: Path) -> Path:
    image = work / "image"
    if not image.is_dir():
        image.mkdir(parents=True)
        sources = inputs.managed(inputs.real_pe_files())
        bench_scan.build(image, bench_scan.private(sources, work / "copies"), 10_000, 100)
    return image


class _Log:
    """What the wrapped Prefetch methods saw in one run."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.takes: list[tuple[float, bool, float]] = []  # NOTE: (seconds from start, answered, CPU seconds)
        self.receives: list[float] = []
        self.start: tuple[float, int] | None = None


def _instrument(log: list[_Log]) -> None:
    take, receive, start = prefetch.Prefetch.take, prefetch.Prefetch._receive, prefetch.Prefetch._start
    decode = getattr(prefetch.Prefetch, "_decode", None)  # NOTE: flowcpu2: frames decoded without reading the pipe
    inside = [False]

    def timed_take(self: prefetch.Prefetch, path: Any) -> Any:
        t, c = time.perf_counter(), time.thread_time()
        got = take(self, path)
        log[-1].takes.append((t - log[-1].t0, got is not None, time.thread_time() - c))
        return got

    def timed_receive(self: prefetch.Prefetch, *args: Any) -> None:
        c = time.thread_time()
        inside[0] = True
        try:
            receive(self, *args)
        finally:
            inside[0] = False
        log[-1].receives.append(time.thread_time() - c)

    def timed_decode(self: prefetch.Prefetch, *args: Any) -> None:
        if inside[0] or decode is None:
            return decode(self, *args) if decode is not None else None
        c = time.thread_time()
        decode(self, *args)
        log[-1].receives.append(time.thread_time() - c)
        return None

    def timed_start(self: prefetch.Prefetch) -> None:
        log[-1].start = (time.perf_counter() - log[-1].t0, self.files)
        start(self)

    patches: dict[str, Callable[..., Any]] = {"take": timed_take, "_receive": timed_receive, "_start": timed_start}
    if decode is not None:
        patches["_decode"] = timed_decode
    for name, fn in patches.items():
        setattr(prefetch.Prefetch, name, fn)


def _report(log: _Log, wall: float, parser: float, helper: float) -> None:
    takes = log.takes
    answered = [t for t in takes if t[1]]
    first = takes[0][0] if takes else 0.0
    start = f"{log.start[0]:.3f} s ({log.start[1]:,} files given)" if log.start else "not started"
    print(f"  wall {wall:.2f} s, parser CPU {parser:.3f} s, helper CPU {helper:.3f} s, load {os.getloadavg()[0]:.1f}")
    print(f"    taken {len(takes):,}, answered {len(answered):,}; helper started at {start}, first take at {first:.3f} s")
    print(f"    take CPU {sum(t[2] for t in takes):.3f} s (answered {sum(t[2] for t in answered):.3f} s), "
          f"receive CPU {sum(log.receives):.3f} s in {len(log.receives):,} calls")
    if takes:
        span = max(takes[-1][0] - first, 1e-9)
        tenths = [[0, 0] for _ in range(10)]
        for t, got, _ in takes:
            tenth = tenths[min(9, int(10 * (t - first) / span))]
            tenth[0] += 1
            tenth[1] += got
        print("    per tenth of the takes' time (taken/answered): " + " ".join(f"{a}/{b}" for a, b in tenths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, help="a server image to scan (default: the generated one)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/iisbitness-bench-flow"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    image = args.image or _image(args.work)
    binaries = [p for p in floors.walk(image) if p.suffix.lower() in {".dll", ".exe"}]
    log: list[_Log] = []
    _instrument(log)
    print(f"cold scans of {image} ({len(binaries):,} binaries), bench_flow.py")
    for _ in range(args.runs):
        floors.evict(binaries)
        h0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        log.append(_Log())
        c0 = time.thread_time()
        scan(image, ScanOptions())
        wall, cpu = time.perf_counter() - log[-1].t0, time.thread_time() - c0
        h1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        _report(log[-1], wall, cpu, h1.ru_utime + h1.ru_stime - h0.ru_utime - h0.ru_stime)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
