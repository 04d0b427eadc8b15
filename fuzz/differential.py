"""Differential check of what the fuzzer grew: our reader against pefile and dnfile, file by file.

Runs ``tools/crosscheck_real.py``'s comparison (machine, PE32/PE32+, IMAGE_FILE_DLL, imports and delay imports,
the CHPE marker, the COR20 Flags (ILONLY, 32BITREQUIRED, 32BITPREFERRED) and metadata version, AssemblyRef
names and versions, ImplMap modules, the Assembly row's name, version and processor architecture,
TargetFrameworkAttribute, ReferenceAssemblyAttribute) on every file of the folders given, and adds ReadyToRun the
other way round: a ManagedNativeHeader that points at the "RTR" signature (0x00525452, the READYTORUN_HEADER) must be
read as ReadyToRun by us. A file pefile rejects and we accept (or the reverse), or one dnfile fails on while we read
its metadata, is listed too; "slow" and "unknown target" are left out (fuzzed bytes are neither real nor timed).

Usage::

    PYTHONPATH=src python3 fuzz/differential.py [--json out.json] DIR_OR_FILE...

Each file gets 20 s (SIGALRM); a reference that takes longer is reported as such. Exit 1 when a disagreement is
left. Results: fuzz/README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import struct
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from crosscheck_real import compare  # type: ignore[import-not-found]

from iisbitness.pe.classify import read_image
from iisbitness.pe.types import ImageKind

_IGNORED = ("slow: ", "unknown: ")
_RTR = 0x00525452


def _rtr_by_pefile(path: Path) -> bool | None:
    """Whether pefile finds the "RTR" signature where the COR20 header's ManagedNativeHeader points (None: no COR20)."""
    import pefile  # type: ignore[import-untyped]

    try:
        pe = pefile.PE(str(path), fast_load=True)
        dirs = pe.OPTIONAL_HEADER.DATA_DIRECTORY
        if len(dirs) <= 14 or not dirs[14].VirtualAddress or not dirs[14].Size:
            return None
        cor = pe.get_data(dirs[14].VirtualAddress, 72)
        rva, size = struct.unpack_from("<II", cor, 64)
        if not rva or not size:
            return False
        signature: int = struct.unpack("<I", pe.get_data(rva, 4))[0]
        return signature == _RTR
    except Exception:  # noqa: BLE001  NOTE: pefile raises PEFormatError, struct.error, ... on fuzzed bytes
        return None


def _timeout(signum: int, frame: Any) -> None:
    raise TimeoutError("over 20 s")


def check(path: Path) -> tuple[dict[str, Any], list[str]]:
    """(summary, disagreements) for one file."""
    summary, found = compare(path, None)
    found = [f for f in found if not f.startswith(_IGNORED)]
    rtr = _rtr_by_pefile(path)
    image = read_image(path)
    if rtr and image.is_managed and image.kind is not ImageKind.READY_TO_RUN:
        found.append(f"pefile finds the RTR signature at ManagedNativeHeader, we say {image.kind.value}")
    return summary, found


def _class(disagreement: str) -> str:
    """A disagreement without its numbers and names: what kinds of disagreement there are."""
    return re.sub(r"0x[0-9a-f]+|\d+|'[^']*'|\([^)]*\)|\[[^]]*\]", "#", disagreement)[:110]


def main(argv: list[str] | None = None) -> int:
    """Compare every file given (folders: their files), print the counts and each disagreement."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", type=Path, nargs="+")
    ap.add_argument("--json", type=Path, help="write every file's summary and disagreements here")
    args = ap.parse_args(argv)
    files = sorted({f for p in args.paths for f in (sorted(p.iterdir()) if p.is_dir() else [p]) if f.is_file()})
    signal.signal(signal.SIGALRM, _timeout)
    kinds: Counter[str] = Counter()
    rows = []
    for path in files:
        signal.alarm(20)
        try:
            summary, found = check(path)
        except Exception as e:  # noqa: BLE001  NOTE: a crash of our reader or of a reference is a finding too
            summary, found = {}, [f"crash: {type(e).__name__}: {e}"]
        finally:
            signal.alarm(0)
        kinds[str(summary.get("kind"))] += 1
        rows.append({"path": str(path), **summary, "disagreements": found})
        if found:
            print(f"{path}:", *found, sep="\n    ", flush=True)
    classes = Counter(_class(d) for r in rows for d in r["disagreements"])
    print(f"\n{len(files)} files; by kind {dict(kinds)}; with a disagreement: {sum(bool(r['disagreements']) for r in rows)}")
    print("disagreements by class:", *(f"  {n:5d}  {c}" for c, n in classes.most_common()), sep="\n")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 1 if any(r["disagreements"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
