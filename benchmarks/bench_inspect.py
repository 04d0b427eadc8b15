"""``inspect DIR`` (and ``--deps``) over a folder of real PE files, against the I/O floors.

Usage: ``PYTHONPATH=src:benchmarks python benchmarks/bench_inspect.py [--files 8000] [--rounds 3] [--keep DIR]``

Builds a temporary folder of ``--files`` hard links to the real PE files found on this machine
(benchmarks/README.md: Mono, Wine, the npm .NET runtime), 100 a folder, warms the page cache,
then times, best of ``--rounds``, in the same run:

- floor A: list the tree and read the first 4 KB of every file;
- floor B: floor A plus the CLR metadata region of every .NET file;
- ``inspect_paths(DIR, metadata=False)`` (headers only) against floor A; target <= 2x;
- ``inspect_paths(DIR)`` (what ``iisbitness inspect DIR`` runs: headers + .NET metadata) against B;
- ``inspect_paths(DIR, deps_arches=[])`` (``inspect --deps``) against B; target <= 3x.

``--keep DIR`` builds the folder in DIR and leaves it there (a DIR already holding files is used as it
is), to time ``iisbitness inspect DIR`` as a process afterwards, e.g. with ``/usr/bin/time -v``.
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import nullcontext
from pathlib import Path

import floors
import inputs
from floors import best

from iisbitness.pe.walk import inspect_paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the folder in DIR and keep it (DIR already holding files: use them)")
    args = parser.parse_args()
    sources = inputs.real_pe_files()
    if not sources:
        raise SystemExit("no real PE files found: see benchmarks/README.md")
    kept = args.keep is not None and args.keep.is_dir() and any(args.keep.iterdir())
    with nullcontext(str(args.keep)) if args.keep else tempfile.TemporaryDirectory(
            prefix="iisbitness-bench-inspect-") as tmp:
        top = Path(tmp)
        paths = (sorted(p for p in top.rglob("*") if p.is_file()) if kept
                 else inputs.populate(top, sources, args.files))
        if kept:
            args.files = len(paths)
        spans = floors.metadata_spans(paths)
        managed = sum(1 for _, _, size in spans if size)
        md_bytes = sum(size for _, _, size in spans)
        floors.floor_metadata(spans)  # warm the page cache
        t_4k = best(lambda: floors.floor_4k(floors.walk(top)), args.rounds)
        t_md = best(lambda: floors.floor_metadata(spans) + len(floors.walk(top)), args.rounds)
        t_hdr = best(lambda: inspect_paths([top], metadata=False), args.rounds)
        t_meta = best(lambda: inspect_paths([top]), args.rounds)
        t_deps = best(lambda: inspect_paths([top], deps_arches=[]), max(1, args.rounds - 1))
    print(f"{args.files} real PE files ({len(sources)} distinct; {managed} .NET, "
          f"{md_bytes / 1e6:.0f} MB of CLR metadata), best of {args.rounds}")
    rows = [
        ("floor A: walk + first 4 KB", t_4k, None),
        ("floor B: A + CLR metadata", t_md, None),
        ("inspect DIR, headers only", t_hdr, t_hdr / t_4k),
        ("inspect DIR (headers + metadata)", t_meta, t_meta / t_md),
        ("inspect --deps DIR", t_deps, t_deps / t_md),
    ]
    for name, t, ratio in rows:
        extra = "" if ratio is None else f"  {ratio:5.2f}x its floor"
        print(f"  {name:34} {t:8.3f} s {args.files / t:10,.0f} files/s{extra}")
    print(f"  targets: headers <= 2x floor A; --deps <= 3x floor B; A/B ratio {t_md / t_4k:.2f}")


if __name__ == "__main__":
    main()
