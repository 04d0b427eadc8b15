"""Files per second: iisbitness ``read_image`` vs pefile full parse vs reading each file's first 4 KB.

Usage: ``python benchmarks/bench_classify.py [--files 3000] [--rounds 3]``

Builds a temporary folder of copies of the PE fixtures (tests/fixtures/pe/bin, corrupt ones
included), warms the page cache, then times each reader over the same files and prints the best
of ``--rounds``. Targets (issue 3): within 2x of the 4 KB floor, at least 10x faster than pefile.
pefile is timed on a slice of the files (it is slow), and its rate scaled from that.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pefile  # type: ignore[import-untyped]

from iisbitness.pe.classify import read_image

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pe" / "bin"


def build(folder: Path, count: int) -> list[Path]:
    """``count`` copies of the fixtures, round-robin, in ``folder``."""
    sources = sorted(p for p in FIXTURES.iterdir() if p.stat().st_size >= 64)
    paths = []
    for i in range(count):
        src = sources[i % len(sources)]
        dst = folder / f"{i:05d}_{src.name}"
        shutil.copyfile(src, dst)
        paths.append(dst)
    return paths


def floor_4k(paths: Sequence[Path]) -> None:
    for p in paths:
        with open(p, "rb") as f:
            f.read(4096)


def floor_4k_os(paths: Sequence[Path]) -> None:
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.read(fd, 4096)
        finally:
            os.close(fd)


def ours(paths: Sequence[Path]) -> None:
    for p in paths:
        read_image(p)


def with_pefile(paths: Sequence[Path]) -> None:
    for p in paths:
        try:
            pefile.PE(str(p)).close()
        except pefile.PEFormatError:
            pass


def rate(fn: Callable[[Sequence[Path]], None], paths: Sequence[Path], rounds: int) -> float:
    """Best files/second over ``rounds`` runs."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn(paths)
        best = min(best, time.perf_counter() - start)
    return len(paths) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pefile-files", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="iisbitness-bench-") as tmp:
        paths = build(Path(tmp), args.files)
        floor_4k(paths)  # warm the page cache
        results = {
            "read first 4 KB (open().read)": rate(floor_4k, paths, args.rounds),
            "read first 4 KB (os.open/os.read)": rate(floor_4k_os, paths, args.rounds),
            "iisbitness read_image": rate(ours, paths, args.rounds),
            "pefile.PE full parse": rate(with_pefile, paths[: args.pefile_files], args.rounds),
        }
    print(f"{args.files} files ({len(list(FIXTURES.iterdir()))} fixtures copied round-robin), best of {args.rounds}")
    for name, r in results.items():
        print(f"  {name:36} {r:12,.0f} files/s")
    floor = results["read first 4 KB (open().read)"]
    mine = results["iisbitness read_image"]
    print(f"  read_image / 4 KB floor: {floor / mine:.2f}x slower (target <= 2x)")
    print(f"  read_image / pefile:     {mine / results['pefile.PE full parse']:.1f}x faster (target >= 10x)")


if __name__ == "__main__":
    main()
