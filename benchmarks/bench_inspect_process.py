"""``iisbitness inspect DIR`` as a process, two source trees in turn, and ``inspect`` of a cold folder (issue 25).

Usage::

    PYTHONPATH=src:benchmarks python benchmarks/bench_inspect_process.py DIR [--vs OTHER_SRC] [--rounds 10]
    PYTHONPATH=src:benchmarks python benchmarks/bench_inspect_process.py DIR --phases [--vs OTHER_SRC] [--rounds 5]
    PYTHONPATH=src:benchmarks python benchmarks/bench_inspect_process.py DIR --cold COPIES [--rounds 3]

``DIR`` is the folder ``bench_inspect.py --keep DIR`` builds (8,000 hard links to real PE files, 100 a folder).

Process mode: ``python -m iisbitness inspect DIR > /dev/null`` (text; ``--json``: ``--format json``) with this
interpreter (not a launcher script or shim) and this tree's ``src``, then with ``--vs``'s, in turn, ``--rounds`` each
after one warm-up each; medians of wall and CPU seconds (the children's user + system time, which a shared machine
disturbs less than wall time), the ratio of each pair, and the load average before and after. ``--chrt`` runs each
under ``chrt -f 1`` (real-time priority: the machine's other processes wait; needs the right to).

Phases: the CPU seconds of each part of ``inspect`` (imports, walk, read, text, JSON) in one fresh interpreter per
tree and round, trees in turn; medians.

Cold mode: ``COPIES`` gets a private copy of every distinct file of ``DIR`` in the same layout (built once, kept; a
hard link's read would bring in its twins, and other processes read the shared originals), then, ``--rounds`` times,
each after evicting every copy from the page cache (``posix_fadvise(DONTNEED)``, :func:`floors.evict`): the cold floors
(one thread and eight reading each file's first 4 KB and CLR metadata), ``inspect_paths`` as ``inspect`` runs it
(since inspectcold: with :class:`iisbitness.pe.prefetch.Prefetch`, the scan's helper process, bringing a cold
folder's files into the page cache ahead, not parsing), ``inspect_paths(read_ahead=False)`` (no helper: as before),
and ``inspect_paths(read_ahead=False)`` while :class:`iisbitness.pe.readahead.ReadAhead` (threads) is given the
walk's files in order and told of each file as it is read; then the same warm. ``--rounds`` each, in turn.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import floors

HERE = Path(__file__).resolve().parent.parent


def _run(src: Path, folder: Path, fmt: list[str], chrt: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``inspect`` process."""
    cmd = [*(["chrt", "-f", "1"] if chrt else []), sys.executable, "-m", "iisbitness", "inspect", str(folder), *fmt]
    env = dict(os.environ, PYTHONPATH=str(src))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def processes(folder: Path, trees: list[Path], rounds: int, fmt: list[str], chrt: bool) -> None:
    load = os.getloadavg()
    for src in trees:
        _run(src, folder, fmt, chrt)  # NOTE: warm-up: page cache, and the interpreter's own files
    times: dict[Path, list[tuple[float, float]]] = {src: [] for src in trees}
    for _ in range(rounds):
        for src in trees:
            times[src].append(_run(src, folder, fmt, chrt))
    print(f"inspect {folder} {' '.join(fmt)} as a process, {rounds} rounds in turn; load average before "
          f"{load[0]:.2f} {load[1]:.2f}, after {os.getloadavg()[0]:.2f}")
    for src in trees:
        walls, cpus = zip(*times[src], strict=True)
        print(f"  {src!s:40} wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}), "
              f"CPU median {statistics.median(cpus):.3f} s (min {min(cpus):.3f})")
    if len(trees) == 2:
        a, b = times[trees[0]], times[trees[1]]
        print(f"  ratio first/second, median of pairs: wall {statistics.median(x[0] / y[0] for x, y in zip(a, b)):.3f}, "
              f"CPU {statistics.median(x[1] / y[1] for x, y in zip(a, b)):.3f}")


_PHASES = r"""
import sys, time
clock = time.process_time
t0 = clock()
import iisbitness.cli
t1 = clock()
from iisbitness.formats import inspect_json, inspect_text
from iisbitness.pe.walk import inspect_paths, iter_candidate_files
t2 = clock()
list(iter_candidate_files([sys.argv[1]]))
t3 = clock()
files = inspect_paths([sys.argv[1]])
t4 = clock()
inspect_text.plain(files)
t5 = clock()
inspect_json.render(files)
t6 = clock()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3 - (t3 - t2), t5 - t4, t6 - t5)
"""
_PHASE_NAMES = ("import cli", "import inspect's modules", "walk", "read (inspect_paths - walk)", "text", "JSON")


def phases(folder: Path, trees: list[Path], rounds: int) -> None:
    """CPU seconds of each part of ``inspect``, one fresh interpreter per tree and round, in turn: medians."""
    got: dict[Path, list[list[float]]] = {src: [] for src in trees}
    load = os.getloadavg()
    for _ in range(rounds):
        for src in trees:
            out = subprocess.run([sys.executable, "-c", _PHASES, str(folder)], env=dict(os.environ, PYTHONPATH=str(src)),
                                 capture_output=True, text=True, check=True).stdout
            got[src].append([float(x) for x in out.split()])
    print(f"inspect {folder} in one process, CPU s, medians of {rounds}; load average before {load[0]:.2f}, after "
          f"{os.getloadavg()[0]:.2f}")
    for i, name in enumerate(_PHASE_NAMES):
        print(f"  {name:30}" + "".join(f"  {statistics.median(r[i] for r in got[src]):7.3f}" for src in trees))


def copies(folder: Path, out: Path) -> list[Path]:
    """A private copy of each file under ``folder`` in ``out`` (same relative paths), written out to the disk."""
    files = sorted(floors.walk(folder))
    if not out.exists():
        for p in files:
            dst = out / p.relative_to(folder)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dst)
        os.sync()  # NOTE: dirty pages are not evicted
    return sorted(floors.walk(out))


def cold(folder: Path, out: Path, rounds: int) -> None:
    from iisbitness.pe import classify, readahead
    from iisbitness.pe.metadata import assembly_info_from_source
    from iisbitness.pe.walk import inspect_file, inspect_paths, iter_candidate_files

    files = copies(folder, out)
    spans = floors.metadata_spans(files)

    def ahead(make: Callable[[], object]) -> None:
        reader = make()
        try:
            items = list(iter_candidate_files([out]))
            reader.files_ahead([str(p) for p, _ in items])  # type: ignore[attr-defined]
            for path, _ in items:
                got = reader.take(str(path))  # type: ignore[attr-defined]
                if isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], int):
                    # NOTE: threads: the file open, its ranges read; read through them as inspect_file reads
                    classify._through(path, got, lambda src, name: classify._image_and(
                        src, name, assembly_info_from_source))
                else:
                    inspect_file(path)
        finally:
            reader.close()  # type: ignore[attr-defined]

    runs: list[tuple[str, Callable[[], object]]] = [
        ("floor, 1 thread", lambda: floors.floor_metadata(spans)),
        ("floor, 8 threads", lambda: floors.floor_metadata_threads(spans, 8)),
        ("inspect_paths (helper process)", lambda: inspect_paths([out])),
        ("inspect_paths(read_ahead=False)", lambda: inspect_paths([out], read_ahead=False)),
        ("inspect_paths(read_ahead=False) + threads", lambda: ahead(lambda: readahead.ReadAhead())),
    ]
    load = os.getloadavg()
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for mode in ("cold", "warm"):
            for name, run in runs:
                if mode == "cold":
                    floors.evict(files)
                start = time.perf_counter()
                run()
                times.setdefault(f"{mode}: {name}", []).append(time.perf_counter() - start)
    print(f"inspect of {len(files)} private copies in {out}, medians of {rounds}; load average before "
          f"{load[0]:.2f} {load[1]:.2f}, after {os.getloadavg()[0]:.2f}")
    for name, ts in times.items():
        print(f"  {name:45} {statistics.median(ts):7.3f} s  (min {min(ts):.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--vs", type=Path, metavar="OTHER_SRC", help="a second tree's src, run in turn with this one")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="--format json")
    parser.add_argument("--chrt", action="store_true", help="run each process under chrt -f 1")
    parser.add_argument("--cold", type=Path, metavar="COPIES", help="cold mode: private copies kept in COPIES")
    parser.add_argument("--phases", action="store_true", help="CPU of each part of inspect in one process, per tree")
    args = parser.parse_args()
    if args.cold is not None:
        cold(args.folder, args.cold, args.rounds)
        return
    trees = [HERE / "src", *([args.vs] if args.vs else [])]
    if args.phases:
        phases(args.folder, trees, args.rounds)
        return
    processes(args.folder, trees, args.rounds, ["--format", "json"] if args.json else [], args.chrt)


if __name__ == "__main__":
    main()
