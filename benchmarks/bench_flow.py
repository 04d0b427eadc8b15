"""Where a cold scan's two processes spend their time: the helper's answers taken against the files the parser reads
itself, when the helper starts and when the parser takes its first file, and the parser's CPU in taking answers.

Usage: ``PYTHONPATH=src:benchmarks python benchmarks/bench_flow.py [--image DIR] [--runs 3] [--set NAME=V1,V2]
[--helper] [--links]``

Builds (once, under ``--work``, default /tmp/iisbitness-bench-flow) the image ``bench_scan.py --cold`` scans (10,000
real assemblies, each a copy of its own that no other process reads; ``--links``: hard links to one copy of each of
686), or scans ``--image`` (its binaries are evicted from the
page cache before each run: ``posix_fadvise(DONTNEED)``, which changes no file). Per run, a cold ``api.scan`` in this
process with :class:`iisbitness.pe.prefetch.Prefetch` instrumented (its methods wrapped, nothing else changed):

- wall seconds, the parser thread's CPU seconds, the helper process's (``RUSAGE_CHILDREN``: it is reaped at the
  scan's end), the load average (other processes on the machine take the cores the two need);
- files taken (``Prefetch.take``) and answered by the helper; the seconds from the scan's start at which the helper
  was started (and the files given by then) and at which the parser took its first file;
- the parser's CPU seconds in ``take`` (answered and not) and in ``_receive`` (reading and decoding the helper's
  frames; counted within ``take``; and ``_decode`` where it is called without a read) and the number of their calls;
- per tenth of the parser's takes (in time), the files taken and answered: where the helper falls behind;
- the parser's CPU seconds before its first take, between its first and last (of them in its own reads,
  ``read_image_and_references`` of the files not answered, with their wall seconds: waits for the disk) and after;
- the minor page faults of the parser's process and of the helper (the fork's copy-on-write, tenth round): the
  first run is the nearest to a CLI scan's (a later run's heap was grown by the runs before it, and every page of it
  the parser writes after the fork is copied).

``--set NAME=V1,V2`` sets an integer of :mod:`iisbitness.pe.prefetch` (``OPENED``, ``WINDOW_FILES``, ``_NEAR``,
...) to each value in turn, run by run (alternated, so that a change of the machine's load falls on both).
``--helper`` instead runs the helper's loop alone, cold, in this process (its answers to /dev/null, the parser's
progress kept just behind it) and gives its CPU per file parsed: the model's helper cost, steadier than the race.

Benchmarks/README.md, issue 25, eighth to tenth rounds, has what it showed.
"""

from __future__ import annotations

import argparse
import mmap
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_scan
import floors

from iisbitness.api import ScanOptions, scan
from iisbitness.pe import facts, prefetch


def _image(work: Path, links: bool) -> Path:
    bench_scan.image_at(work, 10_000, 100, links)
    return work / "image"


class _Log:
    """What the wrapped Prefetch methods saw in one run."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.takes: list[tuple[float, bool, float]] = []  # NOTE: (seconds from start, answered, CPU seconds)
        self.receives: list[float] = []
        self.start: tuple[float, int] | None = None
        self.c0 = time.thread_time()
        self.own: list[float] = []  # NOTE: the parser's CPU seconds in its own reads (read_image_and_references)
        self.own_wall = 0.0
        self.cpu_first = 0.0  # NOTE: the parser's CPU seconds at its first take and after its last
        self.cpu_last = 0.0


def _instrument(log: list[_Log]) -> None:
    take, receive, start = prefetch.Prefetch.take, prefetch.Prefetch._receive, prefetch.Prefetch._start
    decode = getattr(prefetch.Prefetch, "_decode", None)  # NOTE: flowcpu2: frames decoded without reading the pipe
    inside = [False]
    own = getattr(facts, "read_image_and_references")  # noqa: B009 - the name pe/facts.py calls

    def timed_take(self: prefetch.Prefetch, path: Any) -> Any:
        t, c = time.perf_counter(), time.thread_time()
        if not log[-1].takes:
            log[-1].cpu_first = c - log[-1].c0
        got = take(self, path)
        log[-1].cpu_last = time.thread_time() - log[-1].c0
        log[-1].takes.append((t - log[-1].t0, got is not None, time.thread_time() - c))
        return got

    def timed_own(path: Any, got: Any = None) -> Any:
        c, t = time.thread_time(), time.perf_counter()
        try:
            return own(path, got)
        finally:
            log[-1].own.append(time.thread_time() - c)
            log[-1].own_wall += time.perf_counter() - t

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
    setattr(facts, "read_image_and_references", timed_own)  # noqa: B010


def _report(log: _Log, wall: float, parser: float, helper: float, faults: tuple[int, int]) -> None:
    takes = log.takes
    answered = [t for t in takes if t[1]]
    first = takes[0][0] if takes else 0.0
    start = f"{log.start[0]:.3f} s ({log.start[1]:,} files given)" if log.start else "not started"
    print(f"  wall {wall:.2f} s, parser CPU {parser:.3f} s, helper CPU {helper:.3f} s, load {os.getloadavg()[0]:.1f}")
    print(f"    minor page faults: parser's process {faults[0]:,}, helper {faults[1]:,}")
    print(f"    taken {len(takes):,}, answered {len(answered):,}; helper started at {start}, first take at {first:.3f} s")
    print(f"    take CPU {sum(t[2] for t in takes):.3f} s (answered {sum(t[2] for t in answered):.3f} s), "
          f"receive CPU {sum(log.receives):.3f} s in {len(log.receives):,} calls")
    loop = log.cpu_last - log.cpu_first
    print(f"    wall from the first take to the last {takes[-1][0] - first if takes else 0.0:.3f} s")
    rest = loop - sum(t[2] for t in takes) - sum(log.own)
    print(f"    parser CPU before its first take {log.cpu_first:.3f} s, from it to its last take {loop:.3f} s "
          f"(own reads {sum(log.own):.3f} s in {len(log.own):,}, wall {log.own_wall:.3f} s; the rest {rest:.3f} s), "
          f"after {parser - log.cpu_last:.3f} s")
    if takes:
        span = max(takes[-1][0] - first, 1e-9)
        tenths = [[0, 0] for _ in range(10)]
        for t, got, _ in takes:
            tenth = tenths[min(9, int(10 * (t - first) / span))]
            tenth[0] += 1
            tenth[1] += got
        print("    per tenth of the takes' time (taken/answered): " + " ".join(f"{a}/{b}" for a, b in tenths))


def _helper_alone(binaries: list[Path]) -> tuple[float, float, int]:
    """The helper's loop (:func:`iisbitness.pe.prefetch._bring_in`, parsing) run in this process over ``binaries``
    (evicted first), its answers written to /dev/null, the parser's progress kept just behind the helper's parse
    (:data:`~iisbitness.pe.prefetch.LEAD` files: as when the two race, each answer sent at once). Returns the
    process's user and system CPU seconds (a thread of it writes the paths) and the files parsed."""
    floors.evict(binaries)
    shared = mmap.mmap(-1, prefetch._SHARED_BYTES)
    rfd, wfd = os.pipe()
    out = os.open(os.devnull, os.O_WRONLY)
    parser = prefetch._Parser(out)
    parsed = [0]
    parse_one = parser.parse_one

    def one(progress: int) -> bool:
        if parser.at < len(parser.todo):
            progress = max(progress, parser.todo[parser.at][0] - prefetch.LEAD)
            prefetch._PROGRESS.pack_into(shared, 0, progress)
        done = parse_one(progress)
        parsed[0] += done
        return done

    parser.parse_one = one  # type: ignore[method-assign]
    data = b"".join(os.fsencode(p) + b"\0" for p in binaries)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    writer = threading.Thread(target=_write_all, args=(wfd, data))
    writer.start()
    prefetch._bring_in(rfd, shared, os.getppid(), parser=parser)
    writer.join()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    os.close(rfd)
    os.close(out)
    return r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime, parsed[0]


def _write_all(fd: int, data: bytes) -> None:
    """Write ``data`` to ``fd``, then close it."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, help="a server image to scan (default: the generated one)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/iisbitness-bench-flow"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--links", action="store_true", help="the image of hard links (bench_scan.py --links)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=V1,V2",
                        help="an integer setting of iisbitness.pe.prefetch (e.g. OPENED=32,128), its values "
                             "taken in turn run by run")
    parser.add_argument("--helper", action="store_true",
                        help="run the helper's loop alone in this process, the parser's progress kept just behind it")
    args = parser.parse_args()
    settings = [(name, [int(v) for v in values.split(",")])
                for name, _, values in (s.partition("=") for s in args.set)]
    for name, _ in settings:
        if not isinstance(getattr(prefetch, name, None), int):
            parser.error(f"--set {name}: not an integer of iisbitness.pe.prefetch")
    image = args.image or _image(args.work, args.links)
    binaries = [p for p in floors.walk(image) if p.suffix.lower() in {".dll", ".exe"}]
    if args.helper:
        print(f"the helper's loop alone, cold, over {len(binaries):,} binaries, bench_flow.py")
        for run in range(args.runs):
            for name, values in settings:
                setattr(prefetch, name, values[run % len(values)])
            user, system, parsed = _helper_alone(binaries)
            print(f"  {' '.join(f'{n}={getattr(prefetch, n)}' for n, _ in settings)} parsed {parsed:,}: user "
                  f"{user:.3f} s, system {system:.3f} s, {1e6 * (user + system) / max(parsed, 1):.0f} us a file, "
                  f"load {os.getloadavg()[0]:.1f}")
        return
    log: list[_Log] = []
    _instrument(log)
    print(f"cold scans of {image} ({len(binaries):,} binaries), bench_flow.py")
    for run in range(args.runs):
        for name, values in settings:
            setattr(prefetch, name, values[run % len(values)])
            print(f"  {name}={getattr(prefetch, name)}")
        floors.evict(binaries)
        h0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        p0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        log.append(_Log())
        c0 = time.thread_time()
        scan(image, ScanOptions())
        wall, cpu = time.perf_counter() - log[-1].t0, time.thread_time() - c0
        h1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - p0, h1.ru_minflt - h0.ru_minflt)
        _report(log[-1], wall, cpu, h1.ru_utime + h1.ru_stime - h0.ru_utime - h0.ru_stime, faults)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
