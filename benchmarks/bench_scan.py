"""``iisbitness.api.scan`` of a generated server image full of real assemblies, against the I/O floor.

Usage: ``PYTHONPATH=src:benchmarks python benchmarks/bench_scan.py [--sizes 1000,10000] [--per-site 100]
[--huge] [--profile] [--cold [--rounds 3] [--links] [--image DIR]]``

For each size N, builds in a temporary folder a server image whose applicationHost.config has
N / ``--per-site`` sites, each one application in its own pool (every third pool 32-bit), each
site's ``bin/`` holding ``--per-site`` hard links to real .NET assemblies found on this machine
(benchmarks/README.md), taken round-robin from a different start per site so bins differ. Then, in
a child process per size (so the peak memory is that scan's own):

- the floor: read the first 4 KB and the CLR metadata region of every binary (same run, warm cache);
- ``scan(Path(image), ScanOptions())``, wall time and peak RSS (``ru_maxrss``), and the
  tracemalloc peak of the Python heap in a second scan.

``--huge`` adds N = 100,000. ``--profile`` runs pyinstrument over the largest scan and prints the
top of the call tree.

``--cold``: cold (page cache evicted) and warm scans beside their floors (:func:`cold`), on an image whose every
binary is a file of its own (a copy: its own inode, disk blocks and page-cache pages, as on a server), about 2.2 GB
for 10,000; ``--links`` on the older image of hard links to one private copy of each assembly (686 files: a cold
read of one link brings in all its links, so "cold" is nearly warm; benchmarks/README.md, tenth and eleventh
rounds). ``--image DIR`` builds the image in DIR and keeps it, or scans the one built there before (same size and
kind), instead of a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import floors
import inputs

APPHOST = """<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost>
    <applicationPools>
{pools}
    </applicationPools>
    <sites>
{sites}
    </sites>
  </system.applicationHost>
</configuration>
"""
POOL = '      <add name="Pool{i}" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="{e32}" />'
SITE = """      <site name="Site{i}" id="{id}">
        <application path="/" applicationPool="Pool{i}">
          <virtualDirectory path="/" physicalPath="C:\\inetpub\\site{i}" />
        </application>
        <bindings><binding protocol="http" bindingInformation="*:{port}:" /></bindings>
      </site>"""


def build(root: Path, sources: list[Path], total: int, per_site: int, copies: bool = False) -> list[Path]:
    """Write the image under ``root``; returns the binaries placed in it: hard links to ``sources``, or with
    ``copies`` a copy each (:func:`inputs.populate_flat`)."""
    nsites = max(1, total // per_site)
    conf = root / "Windows/System32/inetsrv/config"
    conf.mkdir(parents=True)
    (root / "Windows/SysWOW64").mkdir(parents=True)
    pools = "\n".join(POOL.format(i=i, e32="true" if i % 3 == 0 else "false") for i in range(nsites))
    sites = "\n".join(SITE.format(i=i, id=i + 1, port=8000 + i) for i in range(nsites))
    (conf / "applicationHost.config").write_text(APPHOST.format(pools=pools, sites=sites))
    placed = []
    for i in range(nsites):
        bin_dir = root / f"inetpub/site{i}/bin"
        bin_dir.mkdir(parents=True)
        start = (i * 37) % len(sources)
        picked = [sources[(start + k) % len(sources)] for k in range(per_site)]
        placed += inputs.populate_flat(bin_dir, picked, copies=copies)
    return placed


def one(size: int, per_site: int, profile: bool) -> dict[str, float]:
    """Build, measure the floor and the scan in this process (the child)."""
    from iisbitness.api import ScanOptions, scan

    sources = inputs.deployable(inputs.real_pe_files())
    with tempfile.TemporaryDirectory(prefix="iisbitness-bench-scan-") as tmp:
        image = Path(tmp)
        binaries = build(image, sources, size, per_site)
        spans = floors.metadata_spans(binaries)
        floors.floor_metadata(spans)  # warm the page cache
        t0 = time.perf_counter()
        floors.floor_metadata(spans)
        t_floor = time.perf_counter() - t0
        count, metadata_mb = len(binaries), sum(s for _, _, s in spans) / 1e6
        del binaries, spans  # NOTE: the peak RSS is the scan's, not this list of 100,000 paths (issue 25)
        t0 = time.perf_counter()
        report = scan(image, ScanOptions())
        t_scan = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tracemalloc.start()
        scan(image, ScanOptions())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if profile:
            from pyinstrument import Profiler

            prof = Profiler(interval=0.001)
            prof.start()
            scan(image, ScanOptions())
            prof.stop()
            print(prof.output_text(unicode=False, color=False), file=sys.stderr)
    return {"binaries": count, "floor_s": t_floor, "scan_s": t_scan, "rss_mb": rss,
            "py_peak_mb": peak / 1e6, "findings": len(report.findings), "metadata_mb": metadata_mb}


def private(sources: list[Path], folder: Path) -> list[Path]:
    """Copies of ``sources`` under ``folder`` (each in a folder of its own, its name kept), written out to the disk.

    NOTE: the real assemblies are shared with other benchmarks and tests running on the machine; their reads brought
    evicted files back into the page cache in the middle of a cold run (1,339 of 3,000 within a second, 2026-12-06
    17:10): the cold runs read files of their own."""
    out = []
    for i, src in enumerate(sources):
        dst = folder / str(i) / src.name
        dst.parent.mkdir(parents=True)
        shutil.copyfile(src, dst)
        out.append(dst)
    os.sync()  # NOTE: dirty pages are not evicted
    return out


def image_at(folder: Path, size: int, per_site: int, links: bool) -> list[Path]:
    """The binaries of the image in ``folder``/image, built there first when it is not (``links``: hard links to
    :func:`private` copies under ``folder``/copies; else a copy of a real assembly each), written out to the disk.
    Raises ValueError when an image is there that was built with other settings, or not by this function."""
    image, mark = folder / "image", folder / "image.json"
    want = {"size": size, "per_site": per_site, "links": links}
    if mark.exists() and json.loads(mark.read_text()) != want:
        raise ValueError(f"{folder}: an image of {mark.read_text()}, not {want}")
    if not mark.exists():
        if image.exists():
            raise ValueError(f"{image}: there already, and not built by bench_scan.image_at (remove it, or use another "
                             "folder)")
        image.mkdir(parents=True)
        sources = inputs.deployable(inputs.real_pe_files())
        if links:
            build(image, private(sources, folder / "copies"), size, per_site)
        else:
            build(image, sources, size, per_site, copies=True)
            os.sync()  # NOTE: dirty pages are not evicted
        mark.write_text(json.dumps(want))
    sites = sorted((image / "inetpub").iterdir(), key=lambda site: int(site.name.removeprefix("site")))
    return [p for site in sites for p in sorted((site / "bin").iterdir())]  # NOTE: the scan's order


def cold(size: int, per_site: int, rounds: int, links: bool = False, keep: Path | None = None) -> dict[str, float]:
    """Cold and warm, each beside its floors, in this process (the child): medians of ``rounds``.

    Cold: every binary evicted from the page cache (``posix_fadvise(DONTNEED)``, floors.evict) before each
    measurement; the image's binaries are copies of the real assemblies, a file each, that no other process reads
    (``links``: hard links to one such copy of each, :func:`private`), built in ``keep``/image and kept when given
    (:func:`image_at`). Floors: one thread, and eight threads, reading each file's first 4 KB and CLR metadata.
    The scan runs with reading ahead (the default: a helper process where the platform allows), on threads
    (``prefetch.PROCESS = False``, where the default is not already that) and without it (``readahead.THREADS = 0``).
    Each time also as CPU seconds of the process (every thread: the read-ahead's too), which a shared machine
    disturbs less, of the thread that parses (what reading ahead must not cost), and of the helper process.
    """
    import statistics

    from iisbitness.api import ScanOptions, scan
    from iisbitness.pe import readahead

    try:
        from iisbitness.pe import prefetch
    except ImportError:  # NOTE: a tree from before the helper process (benchmarks/README.md, fourth round)
        prefetch = None

    out: dict[str, list[float]] = {}

    def timed(name: str, run: Callable[[], object], evict: list[Path] | None) -> None:
        if evict is not None:
            floors.evict(evict)
        h0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0, c0, p0 = time.perf_counter(), time.process_time(), time.thread_time()
        run()
        out.setdefault(name, []).append(time.perf_counter() - t0)
        out.setdefault(f"{name} CPU", []).append(time.process_time() - c0)
        out.setdefault(f"{name} parser CPU", []).append(time.thread_time() - p0)
        h1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # NOTE: the helper, reaped when the scan ends
        out.setdefault(f"{name} helper CPU", []).append(h1.ru_utime + h1.ru_stime - h0.ru_utime - h0.ru_stime)

    with contextlib.ExitStack() as stack:
        folder = keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="iisbitness-bench-scan-")))
        binaries = image_at(folder, size, per_site, links)
        image = folder / "image"
        spans = floors.metadata_spans(binaries)
        threads = readahead.THREADS
        for _ in range(rounds):
            for mode, ev in (("cold", binaries), ("warm", None)):
                if ev is None:
                    floors.floor_metadata(spans)
                timed(f"{mode} floor 1", lambda: floors.floor_metadata(spans), ev)
                timed(f"{mode} floor 8", lambda: floors.floor_metadata_threads(spans, 8), ev)
                readahead.THREADS = 0
                timed(f"{mode} scan, no read-ahead", lambda: scan(image, ScanOptions()), ev)
                readahead.THREADS = threads
                if prefetch is not None and prefetch.PROCESS and prefetch.CAN_FORK:
                    prefetch.PROCESS = False
                    timed(f"{mode} scan, threads", lambda: scan(image, ScanOptions()), ev)
                    prefetch.PROCESS = True
                timed(f"{mode} scan", lambda: scan(image, ScanOptions()), ev)
    return {"binaries": len(binaries), **{k: statistics.median(v) for k, v in out.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--per-site", type=int, default=100)
    parser.add_argument("--huge", action="store_true", help="also 100,000 binaries")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cold", action="store_true", help="cold and warm scans beside their floors (Linux)")
    parser.add_argument("--rounds", type=int, default=3, help="--cold: medians of this many runs")
    parser.add_argument("--links", action="store_true",
                        help="--cold: an image of hard links to 686 files, not a file per binary")
    parser.add_argument("--image", type=Path, help="--cold: build the image in this folder and keep it, or reuse it")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.cold:
        print(json.dumps(cold(args.child, args.per_site, args.rounds, args.links, args.image)))
        return
    if args.child:
        print(json.dumps(one(args.child, args.per_site, args.profile)))
        return
    if args.cold:
        print(f"cold (page cache evicted) and warm scans beside their floors, medians of {args.rounds}, "
              f"{'hard links to 686 files' if args.links else 'a file per binary'} (bench_scan.py)")
        for n in [int(s) for s in args.sizes.split(",")]:
            cmd = [sys.executable, __file__, "--child", str(n), "--per-site", str(args.per_site), "--cold",
                   "--rounds", str(args.rounds)] + (["--links"] if args.links else [])
            if args.image is not None:
                cmd += ["--image", str(args.image / str(n))]
            r = json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout.splitlines()[-1])
            print(f"  {r.pop('binaries'):,} binaries:")
            for mode in ("cold", "warm"):
                f1, f8 = r[f"{mode} floor 1"], r[f"{mode} floor 8"]
                print(f"    {mode}: floor 1 thread {f1:.3f} s, 8 threads {f8:.3f} s; scan {r[f'{mode} scan']:.2f} s "
                      f"({r[f'{mode} scan'] / f8:.1f}x the 8-thread floor, {r[f'{mode} scan'] / f1:.1f}x the 1-thread; "
                      f"CPU {r[f'{mode} scan CPU']:.2f} s, parser thread {r[f'{mode} scan parser CPU']:.2f} s), without "
                      f"read-ahead {r[f'{mode} scan, no read-ahead']:.2f} s (CPU {r[f'{mode} scan, no read-ahead CPU']:.2f} s)"
                      + (f"; helper process CPU {r[f'{mode} scan helper CPU']:.2f} s; on threads {r[f'{mode} scan, threads']:.2f} s "
                         f"(CPU {r[f'{mode} scan, threads CPU']:.2f} s, parser thread "
                         f"{r[f'{mode} scan, threads parser CPU']:.2f} s)" if f"{mode} scan, threads" in r else ""))
        return
    sizes = [int(s) for s in args.sizes.split(",")] + ([100_000] if args.huge else [])
    print(f"scan of a generated image, {args.per_site} real assemblies a site (bench_scan.py)")
    for n in sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--per-site", str(args.per_site)]
        if args.profile and n == max(sizes):
            cmd.append("--profile")
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"  {r['binaries']:>7,} binaries ({r['metadata_mb']:.0f} MB metadata): floor {r['floor_s']:.3f} s, "
              f"scan {r['scan_s']:.2f} s = {r['scan_s'] / r['floor_s']:.1f}x floor, "
              f"{r['binaries'] / r['scan_s']:,.0f} binaries/s; peak RSS {r['rss_mb']:.0f} MB, "
              f"Python heap peak {r['py_peak_mb']:.0f} MB; {r['findings']:.0f} findings")


if __name__ == "__main__":
    main()
