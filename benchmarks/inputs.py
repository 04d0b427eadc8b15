"""Real-size benchmark inputs, fetched or found at run time (nothing here is committed).

Two sources, see benchmarks/README.md:

- Mono's framework assemblies under ``/usr/lib/mono`` (Debian: ``apt-get install -y mono-runtime
  libmono-system-xml4.0-cil libmono-system-web4.0-cil libmono-system-data4.0-cil``);
- the npm package ``@microsoft/sarif-multitool-linux``: a .NET single-file bundle holding a whole
  self-contained .NET runtime (System.Private.CoreLib.dll, System.Private.Xml.dll, ...) plus
  Windows native DLLs (msdia140.dll, msvcp140.dll for x86/amd64/arm64). ``npm pack`` fetches it;
  :func:`extract_bundle` cuts the assemblies out of the bundle (format: dotnet/runtime
  ``src/installer/managed/Microsoft.NET.HostModel/Bundle/``: a 32-byte signature preceded by the
  manifest offset; manifest = version, file count, id, then per file offset, size, compressed
  size, type, path).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tarfile
import zlib
from pathlib import Path

CACHE = Path(os.environ.get("IISBITNESS_BENCH_CACHE", Path.home() / ".cache" / "iisbitness-bench"))
NPM_PACKAGE = "@microsoft/sarif-multitool-linux@5.7.0"
MONO = Path("/usr/lib/mono")
WINE = Path("/usr/lib/x86_64-linux-gnu/wine")
"""Debian ``wine64``: about 700 real x64 PE DLLs and EXEs (built by MinGW) under x86_64-windows/."""
_BUNDLE_SIGNATURE = bytes.fromhex("8b1202b96a612038727b930214d7a03213f5b9e6efae3318ee3b2dce24b36aae")


def _read_string(data: bytes, at: int) -> tuple[str, int]:
    """A .NET BinaryWriter string: 7-bit-encoded length, then UTF-8."""
    length = shift = 0
    while True:
        b = data[at]
        at += 1
        length |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    return data[at : at + length].decode("utf-8"), at + length


def extract_bundle(bundle: Path, out: Path) -> list[Path]:
    """Write the files of a .NET single-file bundle (v2+) into ``out``; returns the .dll/.exe ones."""
    data = bundle.read_bytes()
    sig = data.rfind(_BUNDLE_SIGNATURE)
    if sig < 8:
        raise ValueError(f"{bundle}: not a .NET single-file bundle")
    (at,) = struct.unpack_from("<q", data, sig - 8)
    major, _minor, count = struct.unpack_from("<IIi", data, at)
    _, at = _read_string(data, at + 12)  # bundle id
    if major >= 2:
        at += 8 * 4 + 8  # deps.json and runtimeconfig.json (offset, size), flags
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for _ in range(count):
        offset, size = struct.unpack_from("<qq", data, at)
        compressed = struct.unpack_from("<q", data, at + 16)[0] if major >= 6 else 0
        at += 24 if major >= 6 else 16
        at += 1  # file type
        rel, at = _read_string(data, at)
        raw = data[offset : offset + (compressed or size)]
        if compressed:
            raw = zlib.decompress(raw, -15)
        dst = out / rel.replace("\\", "/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(raw)
        if dst.suffix.lower() in (".dll", ".exe"):
            written.append(dst)
    return written


def npm_runtime() -> Path | None:
    """Folder of the sarif-multitool package, its bundle extracted into ``bundle/``; None if npm fails."""
    root = CACHE / "sarif-multitool"
    done = root / "bundle" / ".done"
    if done.exists():
        return root
    if shutil.which("npm") is None:
        return None
    root.mkdir(parents=True, exist_ok=True)
    try:
        name = subprocess.run(["npm", "pack", "--silent", NPM_PACKAGE], cwd=root, check=True,
                              capture_output=True, text=True).stdout.strip().splitlines()[-1]
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(root / name) as tar:
        tar.extractall(root, filter="data")
    extract_bundle(root / "package" / "Sarif.Multitool", root / "bundle")
    done.touch()
    return root


def is_pe(path: Path) -> bool:
    """Starts with MZ (checked on the first two bytes only)."""
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"MZ"
    except OSError:
        return False


def real_pe_files(*, mono: bool = True, npm: bool = True, wine: bool = True) -> list[Path]:
    """Every real PE file found (each inode once): Mono's, Wine's and the npm package's."""
    files: list[Path] = []
    seen: set[tuple[int, int]] = set()
    roots = []
    if mono and MONO.is_dir():
        roots.append(MONO)
    if wine and WINE.is_dir():
        roots.append(WINE)
    if npm and (pkg := npm_runtime()) is not None:
        roots.append(pkg / "package")
        roots.append(pkg / "bundle")
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.suffix.lower() not in (".dll", ".exe") or not p.is_file() or p.is_symlink():
                continue
            st = p.stat()
            if (st.st_dev, st.st_ino) in seen or st.st_size < 64 or not is_pe(p):
                continue
            seen.add((st.st_dev, st.st_ino))
            files.append(p)
    return files


def populate(folder: Path, sources: list[Path], count: int, per_dir: int = 100) -> list[Path]:
    """``count`` files in ``folder``/dNNNN/ (``per_dir`` a folder), hard links (copies across file
    systems) of ``sources`` taken round-robin, each under a unique name."""
    out = []
    for i in range(count):
        src = sources[i % len(sources)]
        sub = folder / f"d{i // per_dir:04d}"
        if i % per_dir == 0:
            sub.mkdir(parents=True, exist_ok=True)
        dst = sub / f"{i:06d}_{src.name}"
        _link(src, dst)
        out.append(dst)
    return out


def populate_flat(folder: Path, sources: list[Path], *, copies: bool = False) -> list[Path]:
    """Hard links (copies across file systems) of ``sources`` in ``folder``, keeping their names
    (a bin folder holds each assembly name once: later duplicates are skipped); with ``copies``, copies: each file
    its own inode, so its own disk blocks and page-cache pages (a cold read of one does not bring in another)."""
    out = []
    for src in sources:
        dst = folder / src.name
        if dst.exists():
            continue
        if copies:
            shutil.copyfile(src, dst)
        else:
            _link(src, dst)
        out.append(dst)
    return out


def _link(src: Path, dst: Path) -> None:
    """A hard link of ``src`` at ``dst``; a copy where the two are on different file systems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def managed(files: list[Path]) -> list[Path]:
    """The files with a CLR header (read through iisbitness's own header reader)."""
    from iisbitness.pe.classify import read_image

    return [p for p in files if read_image(p).is_managed]


def deployable(files: list[Path]) -> list[Path]:
    """The .NET assemblies among ``files`` that an application's ``bin`` holds: managed (:func:`managed`) and not
    reference assemblies (``ReferenceAssemblyAttribute``: Mono's ``*-api`` folders, a NuGet package's ``ref/``). A bin
    holding a reference assembly fails at run time and is an error of its own (``bin-reference-assembly``): an image of
    thousands of them measures that rule's findings, not a server's scan."""
    from iisbitness.errors import ImageReadError
    from iisbitness.pe.metadata import read_assembly_info

    out = []
    for p in managed(files):
        try:
            if not read_assembly_info(p).is_reference_assembly:
                out.append(p)
        except ImageReadError:
            out.append(p)
    return out

