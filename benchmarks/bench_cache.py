"""``scan --cache``: a second scan of an unchanged server against the first (target: at least 10x faster).

Usage: ``PYTHONPATH=src:benchmarks python benchmarks/bench_cache.py [--size 10000]``

Builds the same generated image as bench_scan.py (real assemblies, hard-linked), then times, in this
process, a scan without cache, a first scan with a new cache file (it writes every fact and the report), a
second scan with the same cache (the stored report: nothing read or planned), and checks that the three
reports are the same; then touches one binary and scans again (the per-file facts serve all but that one).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import inputs
from bench_scan import build

from iisbitness.api import ScanOptions, scan
from iisbitness.formats import scan_json


def _timed(image: Path, cache: Path | None) -> tuple[float, str, int]:
    read: list[Path] = []
    t = time.perf_counter()
    report = scan(image, ScanOptions(cache=cache, on_read=read.append))
    return time.perf_counter() - t, scan_json.render(report), len(read)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--per-site", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "image"
        build(image, inputs.deployable(inputs.real_pe_files()), args.size, args.per_site)
        cache = Path(tmp) / "scan.sqlite"
        _timed(image, None)  # NOTE: warm the page cache
        plain, a, _ = _timed(image, None)
        first, b, n_first = _timed(image, cache)
        second, c, n_second = _timed(image, cache)
        assert a == b == c, "a cached scan must give the same report"
        changed = next(image.rglob("*.dll"))
        os.utime(changed)  # NOTE: its identity changes: the stored report is stale, one file is read again
        third, _, n_third = _timed(image, cache)
        print(f"scan --cache, {args.size:,} binaries (warm page cache):")
        print(f"  no cache      {plain:6.2f} s")
        print(f"  first scan    {first:6.2f} s  ({n_first:,} facts read and stored; cache {cache.stat().st_size >> 20} MB)")
        print(f"  second scan   {second:6.2f} s  ({n_second:,} facts read)  = {first / second:.1f}x faster than the first")
        print(f"  one file touched  {third:6.2f} s  ({n_third:,} facts read: the stored report is stale, "
              "the per-file facts serve the rest)")


if __name__ == "__main__":
    main()
