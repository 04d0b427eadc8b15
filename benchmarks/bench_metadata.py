"""The .NET metadata reader: dnfile (the old path) vs iisbitness's own reader vs the I/O floor.

Usage: ``PYTHONPATH=src:benchmarks:tests/pe python benchmarks/bench_metadata.py [--rounds 3] [--dnfile-files 40]``

Inputs: every real .NET assembly found on this machine (benchmarks/README.md), and by name the
largest: System.Private.CoreLib.dll, System.Private.Xml.dll (npm runtime) and Mono's mscorlib.dll.
Times, in the same run with a warm page cache:

- floor: open, read the first 4 KB, read the CLR metadata region, close;
- ours: ``read_assembly_info`` over every assembly (best of ``--rounds``);
- dnfile: the old product code (tests/pe/dnfile_reference.py) over the big ones and a sample of
  ``--dnfile-files`` others (it takes seconds per large assembly), scaled per file.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import floors
import inputs
from dnfile_reference import dnfile_info

from iisbitness.pe.metadata import read_assembly_info

BIG = ("System.Private.CoreLib.dll", "System.Private.Xml.dll", "mscorlib.dll")


def timed(fn: Callable[[], object], rounds: int) -> float:
    """Best wall time of ``rounds`` calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def ours(paths: Sequence[Path]) -> None:
    for p in paths:
        read_assembly_info(p)


def theirs(paths: Sequence[Path]) -> None:
    for p in paths:
        dnfile_info(str(p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dnfile-files", type=int, default=40)
    args = parser.parse_args()
    assemblies = inputs.managed(inputs.real_pe_files(wine=False))
    if not assemblies:
        raise SystemExit("no real assemblies found: see benchmarks/README.md")
    spans = floors.metadata_spans(assemblies)
    floors.floor_metadata(spans)  # warm the page cache
    mb = sum(os.path.getsize(p) for p in assemblies) / 1e6
    print(f"{len(assemblies)} real assemblies, {mb:.0f} MB, {sum(s for _, _, s in spans) / 1e6:.0f} MB of metadata")
    print("  per assembly, largest first:")
    by_name = {p.name: p for p in sorted(assemblies, key=os.path.getsize)}  # the largest of a name wins
    for name in BIG:
        p = by_name.get(name)
        if p is None:
            continue
        span = [s for s in spans if s[0] == p]
        t_floor = timed(lambda span=span: floors.floor_metadata(span), args.rounds)
        t_ours = timed(lambda p=p: read_assembly_info(p), args.rounds)
        t_dn = timed(lambda p=p: dnfile_info(str(p)), 1)
        print(f"  {name:28} {os.path.getsize(p) / 1e6:5.1f} MB: floor {t_floor * 1e3:7.2f} ms, "
              f"ours {t_ours * 1e3:7.2f} ms ({t_ours / t_floor:4.1f}x floor), dnfile {t_dn:6.2f} s "
              f"({t_dn / t_ours:,.0f}x ours)")
    t_floor = timed(lambda: floors.floor_metadata(spans), args.rounds)
    t_ours = timed(lambda: ours(assemblies), args.rounds)
    sample = random.Random(3).sample(assemblies, min(args.dnfile_files, len(assemblies)))
    t_dn = timed(lambda: theirs(sample), 1) / len(sample) * len(assemblies)
    print(f"  all {len(assemblies)}: floor {t_floor:.3f} s, ours {t_ours:.3f} s ({t_ours / t_floor:.1f}x floor), "
          f"dnfile ~{t_dn:.0f} s (from {len(sample)} sampled; {t_dn / t_ours:,.0f}x ours)")


if __name__ == "__main__":
    main()
