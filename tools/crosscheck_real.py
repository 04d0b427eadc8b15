"""Cross-check the PE/CLR reader on real Windows binaries that nobody on the project built.

Maintainer tool, never part of the test suite: it downloads (PyPI wheels with ``pip download``, npm packages with
``npm pack``) into a cache folder, unpacks their .dll/.pyd/.exe/.node/.efi files, adds what Debian packages leave on
this machine (Mono's assemblies, Wine's PE DLLs, NSIS's stubs and plug-ins, signed EFI loaders, ClamAV's test
files), and compares for every file our reader against pefile and dnfile and against what the package says it is:

- ``read_image_and_assembly`` (``inspect``) and ``read_image_and_references`` (``scan``): the same PeImage, the
  same AssemblyRefs and P/Invoke modules;
- COFF Machine, PE32/PE32+, IMAGE_FILE_DLL, the COR20 Flags and metadata version string, the hybrid (CHPE) marker,
  the ReadyToRun header, import and delay-import DLL names: against pefile and dnfile;
- AssemblyRef names and versions and the ImplMap modules, the Assembly row's name, version and processor
  architecture, TargetFrameworkAttribute and ReferenceAssemblyAttribute against dnfile (the tests' reader,
  tests/pe/dnfile_reference.py, for the attributes);
- the architecture the package's platform tag or folder names (``win_arm64``, ``win32-ia32``, ``x64/``) promise
  must be among the ones we say the file loads in; a file we call "unknown" is listed;
- the time our reader takes per file (best of three, CPU), files over 5 ms listed.

Usage::

    pip install pefile dnfile                     # the test dependencies
    PYTHONPATH=src python3 tools/crosscheck_real.py [--cache ~/.cache/iisbitness-realbin] [--no-fetch] [--json out.json]

It prints counts by machine and kind and every disagreement; exit 1 when there is one.

Results (2026-12-07; the full account in docs/pe-realbin.md): 5,159 files (823 from 115 wheels, 220 from
dotnetcore2, 150 from 41 npm packages, 265 + 264 from the SARIF multitool's Windows and Linux .NET bundles, 3,437
from Debian packages): 0x14C AnyCPU 3,021, x64 1,402 (252 Windows ReadyToRun), ARM64 325, x86 302, Linux
ReadyToRun 89, EFI 13, ARM64X 6, ARM64EC 1; no disagreement left in the reader (six explained in :data:`EXPLAINED`);
our read 0.072 ms median, 0.914 ms at most. What it found: ARM64X/ARM64EC files were taken as loadable by x64 workers
of x64 Windows, and a module loadable nowhere made two rules fail (both fixed).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from inputs import CACHE as BENCH_CACHE
from inputs import extract_bundle

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "pe"))
from dnfile_reference import _assembly_attributes  # NOTE: the tests' dnfile reader of TargetFramework and

# ReferenceAssemblyAttribute (tests/pe/dnfile_reference.py)
from iisbitness.arch import Arch
from iisbitness.pe.classify import read_image_and_assembly, read_image_and_references
from iisbitness.pe.imports import read_imports
from iisbitness.pe.metadata import PROCESSOR_ARCHITECTURES
from iisbitness.pe.types import ImageKind, PeImage, PlatformTarget

CACHE = Path(os.environ.get("IISBITNESS_REALBIN_CACHE", Path.home() / ".cache" / "iisbitness-realbin"))

WHEELS = (
    "numpy", "pillow", "cryptography", "pywin32", "lxml", "psutil", "cffi", "pydantic-core", "regex", "markupsafe",
    "pyyaml", "charset-normalizer", "pyinstaller", "debugpy", "uv", "pywinpty", "pyodbc", "pycryptodome", "ruff",
    "zstandard", "orjson", "greenlet", "onnxruntime", "pythonnet", "clr-loader", "winrt-runtime", "pyzmq",
    "kiwisolver", "msgpack", "websockets", "aiohttp", "yarl", "frozenlist", "multidict", "bcrypt", "rpds-py",
    "jiter", "tokenizers", "pynacl", "pymssql", "scipy", "dotnetcore2",
)
"""PyPI projects fetched for each of :data:`PLATFORMS` (those that publish no wheel for one are skipped)."""
PLATFORMS = ("win32", "win_amd64", "win_arm64")

NPM = (
    "@esbuild/win32-x64", "@esbuild/win32-arm64", "@esbuild/win32-ia32",
    "@swc/core-win32-x64-msvc", "@swc/core-win32-arm64-msvc", "@swc/core-win32-ia32-msvc",
    "@img/sharp-win32-x64", "@img/sharp-win32-ia32", "@img/sharp-win32-arm64",
    "@rollup/rollup-win32-x64-msvc", "@rollup/rollup-win32-arm64-msvc", "@rollup/rollup-win32-ia32-msvc",
    "lightningcss-win32-x64-msvc", "lightningcss-win32-arm64-msvc",
    "@parcel/watcher-win32-x64", "@parcel/watcher-win32-arm64", "@parcel/watcher-win32-ia32",
    "@tailwindcss/oxide-win32-x64-msvc", "@tailwindcss/oxide-win32-arm64-msvc",
    "edge-js", "7zip-bin", "electron-winstaller", "node-windows", "node-api-dotnet", "@serialport/bindings-cpp",
    "sodium-native", "bufferutil", "utf-8-validate", "classic-level", "usb",
    "@node-rs/argon2-win32-x64-msvc", "@node-rs/argon2-win32-arm64-msvc", "@node-rs/argon2-win32-ia32-msvc",
    "@sentry/cli-win32-x64", "@sentry/cli-win32-arm64", "@sentry/cli-win32-i686", "rcedit", "app-builder-bin",
    "@msgpackr-extract/msgpackr-extract-win32-x64", "@vscode/vsce-sign-win32-x64", "@vscode/vsce-sign-win32-arm64",
    "@microsoft/sarif-multitool-win32",
)
"""npm packages that ship Windows binaries (native addons' prebuilds, Go/Rust/MSVC executables, .NET tools)."""

SYSTEM = (
    Path("/usr/lib/mono"),                                  # mono-complete: IL-only, reference assemblies
    Path("/usr/lib/x86_64-linux-gnu/wine"),                 # libwine: x64 and x86 PE DLLs (MinGW)
    Path("/usr/share/nsis"),                                # nsis: x86 stubs and plug-ins
    Path("/usr/lib/shim"), Path("/usr/lib/grub/x86_64-efi-signed"), Path("/usr/lib/systemd/boot/efi"),
    Path("/usr/lib/ipxe"),                                  # EFI images, Authenticode-signed ones
    Path("/usr/share/clamav-testfiles"),                    # clamav-testfiles: small odd PEs
    BENCH_CACHE / "sarif-multitool" / "bundle",             # benchmarks/inputs.py: the Linux .NET runtime
)
"""Folders Debian packages install Windows binaries into (``apt-get install mono-complete libwine nsis shim-signed
grub-efi-amd64-signed systemd-boot-efi ipxe clamav-testfiles``), and the Linux .NET runtime the benchmarks unpack
(``benchmarks/inputs.py``'s ``npm_runtime()`` fetches it); absent ones are skipped."""

_SUFFIXES = {".dll", ".exe", ".pyd", ".node", ".efi", ".sys", ".signed", ".ocx", ".cpl", ".drv", ".mui", ".winmd"}
_TAG_ARCH = {"win32": Arch.X86, "win_amd64": Arch.X64, "win_arm64": Arch.ARM64}
_HINTS = (
    (re.compile(r"(^|[-_./])(arm64ec)($|[-_./])"), None),
    (re.compile(r"(^|[-_./])(arm64|aarch64|64bit-arm)($|[-_./])"), Arch.ARM64),
    (re.compile(r"(^|[-_./])(x64|amd64|x86_64|win-x64|64bit)($|[-_./])"), Arch.X64),
    (re.compile(r"(^|[-_./])(ia32|x86|i686|i386|win32-ia32|32bit)($|[-_./])"), Arch.X86),
)
"""Folder or package names that promise an architecture, most specific first (``win32`` alone promises none:
npm's platform name for every Windows build)."""

SLOW_MS = 5.0

EXPLAINED = (
    (re.compile(r"edge-js-[^/]*/package/lib/native/win32/arm64/(concrt|msvcp|vccorlib|vcruntime)140\.dll$"),
     "edge-js ships the x86 Visual C++ runtime in its arm64 folder (pefile: Machine 0x14C too): the package's mistake"),
    (re.compile(r"sarif-multitool[^/]*/(package/)?arm64/vcruntime140_1\.dll$"),
     ("the ARM64 Visual C++ runtime's vcruntime140_1.dll is ARM64EC (pefile: Machine 0x8664 with a CHPE pointer): "
     "only x64 code needs it, so it serves Windows on Arm's x64 processes")),
    (re.compile(r"clamav-testfiles/clam-upack\.exe$"),
     ("Upack-packed: the import table runs past its section's raw data, where the loader sees zeros and pefile stops; "
     "our reader reads the file's next bytes and finds a second name (left as is: a packer trick)")),
)
"""Disagreements whose cause was found and is not our reader's (or was left on purpose): printed, not counted."""
_DIRECTORY_FEATURES = ((4, "Authenticode"), (9, "TLS"), (10, "load config"), (13, "delay imports"),
                       (14, ".NET"), (5, "relocations"), (0, "exports"))
"""Data directories whose presence the summary counts (what the real files exercised)."""
_EFI = (10, 11, 12, 13)
"""EFI subsystems: an EFI image is loadable by no Windows process on purpose (its target shows as unknown)."""


def fetch(cache: Path) -> None:
    """Download the wheels and npm packages into ``cache`` and unpack their binaries into ``cache/x``."""
    wheels, npm, out = cache / "wheels", cache / "npm", cache / "x"
    for plat in PLATFORMS:
        (wheels / plat).mkdir(parents=True, exist_ok=True)
        for project in WHEELS:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:", "--platform",
                            plat, "--python-version", "3.12", "--no-deps", project, "-d", str(wheels / plat)],
                           check=False, capture_output=True, timeout=600)
    npm.mkdir(parents=True, exist_ok=True)
    for package in NPM if shutil.which("npm") else ():  # NOTE: without npm, the wheels and Debian's files alone
        subprocess.run(["npm", "pack", "--silent", package], cwd=npm, check=False, capture_output=True, timeout=600)
    for wheel in wheels.rglob("*.whl"):
        with zipfile.ZipFile(wheel) as z:
            for member in z.namelist():
                if Path(member).suffix.lower() in _SUFFIXES:
                    z.extract(member, out / "wheel" / wheel.parent.name / wheel.stem)
    for tgz in npm.glob("*.tgz"):
        with tarfile.open(tgz) as t:
            members = [m for m in t.getmembers() if m.isfile() and Path(m.name).suffix.lower() in _SUFFIXES]
            t.extractall(out / "npm" / tgz.stem, members=members, filter="data")
    for exe in (out / "npm").glob("microsoft-sarif-multitool-*/package/Sarif.Multitool.exe"):
        # NOTE: a .NET single-file bundle: Windows ReadyToRun assemblies and the runtime's own MSVC-built DLLs
        extract_bundle(exe, out / "bundle" / exe.parent.parent.name)


def expected_arch(path: Path, root: Path) -> Arch | None:
    """The architecture the file's name, folders or package promise, innermost first; None when nothing does."""
    parts = path.relative_to(root).parts
    for part in reversed((*parts[:-1], path.stem)):
        low = part.lower()
        tag = next((t for t in _TAG_ARCH if low.endswith("-" + t)), None)  # a wheel's folder: NAME-...-win_amd64
        if tag is not None:
            return _TAG_ARCH[tag]
        for pattern, arch in _HINTS:
            if pattern.search(low):
                return arch
    return None


def files(cache: Path, system: tuple[Path, ...] = SYSTEM) -> Iterator[tuple[str, Path, Arch | None]]:
    """(source, path, promised architecture) of every PE-looking file of the cache and the ``system`` folders."""
    seen: set[tuple[int, int]] = set()
    roots = [(f"{p.name}", p) for p in sorted((cache / "x").glob("*")) if p.is_dir()]
    roots += [(f"debian:{p.name}", p) for p in system if p.is_dir()]
    for source, root in roots:
        for p in sorted(root.rglob("*")):
            if not p.is_file() or p.is_symlink():
                continue
            st = p.stat()
            if (st.st_dev, st.st_ino) in seen or st.st_size < 64:
                continue
            with open(p, "rb") as f:
                if f.read(2) != b"MZ":
                    continue
            seen.add((st.st_dev, st.st_ino))
            yield source, p, expected_arch(p, root)


def ours(path: Path) -> dict[str, Any]:
    """What our reader says of ``path``, both ways it is read, with its best-of-three CPU time."""
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        image, info, _ = read_image_and_assembly(path)
        imports = read_imports(path)
        best = min(best, time.process_time() - t0)
    scan_image, refs, _ = read_image_and_references(path)
    return {"image": image, "info": info, "imports": imports, "scan_image": scan_image, "refs": refs,
            "ms": best * 1000}


def _same_image(a: PeImage, b: PeImage) -> bool:
    fields = [f for f in PeImage.__dataclass_fields__ if f != "path"]
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def reference(path: Path) -> dict[str, Any]:
    """What pefile and dnfile say of ``path`` (their errors as text)."""
    import dnfile
    import pefile  # type: ignore[import-untyped]

    out: dict[str, Any] = {}
    try:
        pe = pefile.PE(str(path), fast_load=True)
    except pefile.PEFormatError as e:
        return {"error": f"pefile: {e}"}
    out["machine"] = pe.FILE_HEADER.Machine
    out["pe32_plus"] = pe.OPTIONAL_HEADER.Magic == 0x20B
    out["is_dll"] = pe.is_dll()
    out["subsystem"] = pe.OPTIONAL_HEADER.Subsystem
    pe.parse_data_directories(directories=[1, 10, 13])
    out["imports"] = tuple(_text(i.dll) for i in getattr(pe, "DIRECTORY_ENTRY_IMPORT", []))
    out["delay"] = tuple(_text(i.dll) for i in getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", []))
    load_config = getattr(pe, "DIRECTORY_ENTRY_LOAD_CONFIG", None)
    out["chpe"] = bool(getattr(load_config.struct, "CHPEMetadataPointer", 0)) if load_config is not None else False
    dirs = pe.OPTIONAL_HEADER.DATA_DIRECTORY
    out["clr"] = len(dirs) > 14 and dirs[14].VirtualAddress != 0 and dirs[14].Size != 0
    present = {i for i, d in enumerate(dirs) if d.VirtualAddress and d.Size}
    out["features"] = sorted(
        [name for i, name in _DIRECTORY_FEATURES if i in present]
        + (["overlay"] if pe.get_overlay_data_start_offset() is not None else [])
        + (["CFG"] if load_config is not None and getattr(load_config.struct, "GuardFlags", 0) & 0x100 else []))
    if not out["clr"]:
        return out
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            # NOTE: lazily, and ImplMap's module by its index: dnfile resolves every row's references otherwise,
            # minutes for a mscorlib
            dn: Any = dnfile.dnPE(str(path), clr_lazy_load=True)  # type: ignore[no-untyped-call]
        net = dn.net
        out["cor_flags"] = net.struct.Flags if net is not None else None
        out["native_header"] = ((net.struct.ManagedNativeHeaderRva, net.struct.ManagedNativeHeaderSize)
                                if net is not None else (0, 0))
        md = net.metadata if net is not None else None
        out["version"] = md.struct.Version.rstrip(b"\0").decode("ascii", "replace") if md is not None else None
        tables = net.mdtables if net is not None else None
        if tables is not None:
            out["refs"] = sorted((str(r.Name), f"{r.MajorVersion}.{r.MinorVersion}.{r.BuildNumber}.{r.RevisionNumber}")
                                 for r in (tables.AssemblyRef or ()))
            if tables.Assembly:
                row = tables.Assembly[0]
                out["assembly"] = (str(row.Name), (f"{row.MajorVersion}.{row.MinorVersion}.{row.BuildNumber}."
                                   f"{row.RevisionNumber}"), int(row.struct.Flags) & 0x70)
                out["attributes"] = _assembly_attributes(_AssemblyAttributesOnly(tables))
            modules = tables.ModuleRef or ()
            out["pinvoke"] = sorted({str(modules[m.struct.ImportScope_Index - 1].Name) for m in (tables.ImplMap or ())
                                     if 0 < m.struct.ImportScope_Index <= len(modules)})
    except Exception as e:  # noqa: BLE001  NOTE: dnfile raises many types on odd metadata
        out["dnfile_error"] = f"{type(e).__name__}: {e}"
    finally:
        logging.disable(logging.NOTSET)
    return out


class _AssemblyAttributesOnly:
    """dnfile's tables with only the CustomAttribute rows whose Parent is the Assembly row (HasCustomAttribute tag 14,
    ECMA-335 II.24.2.6): the tests' reader resolves every row it is given, minutes for a mscorlib."""

    def __init__(self, tables: Any) -> None:
        self._tables = tables
        self.CustomAttribute = [ca for ca in (tables.CustomAttribute or ()) if ca.struct.Parent_CodedIndex & 0x1F == 14]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tables, name)


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("ascii", "replace")


def compare(path: Path, promised: Arch | None) -> tuple[dict[str, Any], list[str]]:
    """(summary, disagreements) for one file."""
    o, r = ours(path), reference(path)
    image: PeImage = o["image"]
    found: list[str] = []
    summary = {"machine": image.machine, "kind": image.kind.value, "target": image.platform_target.value,
               "hybrid": image.hybrid.value if image.hybrid else None, "ms": round(o["ms"], 3),
               "loads": sorted(a.value for a in image.loadable_by), "features": r.get("features", [])}
    if o["info"] is not None and o["info"].is_reference_assembly:
        summary["features"].append("reference assembly")
    if not _same_image(image, o["scan_image"]):
        found.append(f"scan read differs from inspect read: {o['scan_image']} vs {image}")
    if o["ms"] > SLOW_MS:
        found.append(f"slow: {o['ms']:.1f} ms")
    if "error" in r:
        if image.is_pe:
            found.append(f"{r['error']} but we read {image.describe()}")
        return summary, found
    if not image.is_pe:
        found.append(f"pefile reads it, we say: {image.reason}")
        return summary, found
    for name, value in (("machine", image.machine), ("pe32_plus", image.pe32_plus), ("is_dll", image.is_dll)):
        if value != r[name]:
            found.append(f"{name}: ours {value!r}, pefile {r[name]!r}")
    imports = o["imports"]
    if (imports.dlls, imports.delay_dlls) != (r["imports"], r["delay"]):
        found.append(f"imports: ours {imports.dlls} + delay {imports.delay_dlls}, pefile {r['imports']} + "
                     f"delay {r['delay']}")
    if (image.hybrid is not None) != r["chpe"]:
        found.append(f"hybrid: ours {image.hybrid}, pefile CHPEMetadataPointer {'set' if r['chpe'] else 'clear'}")
    if image.is_managed != r["clr"]:
        found.append(f"managed: ours {image.is_managed}, pefile CLR directory {r['clr']}")
    if r["clr"] and "dnfile_error" in r:
        found.append(f"dnfile failed: {r['dnfile_error']}")  # NOTE: a comparison not made is a finding too
    elif r["clr"]:
        found += _managed_diffs(image, o, r)
    if image.platform_target is PlatformTarget.UNKNOWN and image.subsystem not in _EFI:
        found.append(f"unknown: {image.describe()} {image.notes}")
    if promised is not None and promised not in image.loadable_by:
        found.append(f"package promises {promised.value}, we say {image.describe()}")
    return summary, found


def _managed_diffs(image: PeImage, o: dict[str, Any], r: dict[str, Any]) -> list[str]:
    found = []
    if image.cor_flags != r["cor_flags"]:
        found.append(f"cor flags: ours {image.cor_flags}, dnfile {r['cor_flags']}")
    if image.clr_version != (r["version"] or None):
        found.append(f"metadata version: ours {image.clr_version!r}, dnfile {r['version']!r}")
    r2r = image.kind is ImageKind.READY_TO_RUN
    if r2r and r["native_header"] == (0, 0):
        found.append("ReadyToRun by us, no ManagedNativeHeader")
    if "refs" in r:
        info = o["info"]
        if info is None or info.reason:
            found.append(f"metadata: ours failed ({info.reason if info else 'none'}), dnfile reads it")
        else:
            mine = sorted((a.name, a.version) for a in info.assembly_refs)
            if mine != r["refs"]:
                found.append(f"AssemblyRefs: ours {mine}, dnfile {r['refs']}")
            if sorted(info.pinvoke_modules) != r["pinvoke"]:
                found.append(f"P/Invoke modules: ours {sorted(info.pinvoke_modules)}, dnfile {r['pinvoke']}")
            if "assembly" in r:
                name, version, pa = r["assembly"]
                mine_asm = (info.name, info.version, info.target_framework, info.is_reference_assembly)
                theirs = (name, version, *r["attributes"])
                if mine_asm != theirs:
                    found.append(f"assembly, TargetFramework, reference: ours {mine_asm}, dnfile {theirs}")
                if info.processor_architecture != PROCESSOR_ARCHITECTURES.get(pa, f"{pa:#x}"):
                    found.append(f"processor architecture: ours {info.processor_architecture}, dnfile {pa:#x}")
            refs = o["refs"]
            if refs is None or sorted((a.name, a.version) for a in refs.assembly_refs) != mine:
                found.append("scan's AssemblyRefs differ from inspect's")
    return found


def main(argv: list[str] | None = None) -> int:
    """Fetch (unless ``--no-fetch``), compare every file, print the counts and disagreements."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--no-fetch", action="store_true")
    ap.add_argument("--json", type=Path, help="write every file's summary and disagreements here")
    ap.add_argument("--system", type=Path, nargs="*", default=SYSTEM,
                    help="folders of Debian-installed binaries to add (default: the usual ones; none: no folder)")
    args = ap.parse_args(argv)
    if not args.no_fetch:
        fetch(args.cache)
    by_source: Counter[str] = Counter()
    by_arch: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    by_feature: Counter[str] = Counter()
    rows = []
    disagreements = explained = 0
    times = []
    for source, path, promised in files(args.cache, tuple(args.system)):
        try:
            summary, found = compare(path, promised)
        except Exception as e:  # noqa: BLE001  NOTE: a crash of our reader or of a reference is a finding too
            summary, found = {}, [f"crash: {type(e).__name__}: {e}"]
        by_source[source.split(":")[0] if source.startswith("debian") else source] += 1
        by_arch[f"{summary.get('machine') or 0:#x} {summary.get('target')}"
                + (f" ({summary['hybrid']})" if summary.get("hybrid") else "")] += 1
        by_kind[str(summary.get("kind"))] += 1
        by_feature.update(summary.get("features", ()))
        times.append(summary.get("ms", 0.0))
        rows.append({"path": str(path), "source": source, "promised": promised.value if promised else None,
                     **summary, "disagreements": found})
        why = next((text for pattern, text in EXPLAINED if pattern.search(path.as_posix())), None)
        if found and why is not None:
            explained += 1
            print(f"{path}: explained: {why}", *found, sep="\n    ", flush=True)
        elif found:
            disagreements += 1
            print(f"{path}:", *found, sep="\n    ", flush=True)
    times.sort()
    print(f"\n{len(rows)} files; sources {dict(by_source)}")
    print("by machine and target:", *(f"  {k}: {v}" for k, v in by_arch.most_common()), sep="\n")
    print("by kind:", dict(by_kind))
    print("files with:", dict(by_feature.most_common()))
    if times:
        print(f"our read per file (CPU, best of 3): median {times[len(times) // 2]:.3f} ms, "
              f"p99 {times[int(len(times) * 0.99)]:.3f} ms, max {times[-1]:.3f} ms")
    print(f"files with a disagreement: {disagreements} (and {explained} explained: see EXPLAINED)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
