"""A shared-hosting server: thousands of pools, each with four mismatched x86 global modules (issue 25).

Usage: ``PYTHONPATH=src:benchmarks:tests/pe python benchmarks/bench_pools.py [--sizes 1000,2000,5000,10000]
[--shape global|bin] [--modules 4] [--apps 2] [--profile] [--dump DIR] [--html] [--format sarif] [--fix]``

For each size N, builds in a temporary folder a server image whose applicationHost.config has N
64-bit application pools (``enable32BitAppOnWin64="false"``), N sites each with ``--apps``
applications in its own pool, and ``--modules`` global native modules without a bitness
preCondition whose images are real 32-bit (x86) DLLs: the compiled test fixture
``tests/fixtures/pe/bin/module_x86.dll``, hard-linked. Every pool loads every module, so the scan
finds N x modules ``global-module-arch`` mismatches, each with fixes to verify.

``--shape bin`` (a cause per pool): no global module (unless ``--modules`` says so); instead every
application's ``bin`` holds its own copies, hard-linked, of three compiled test fixtures: the AnyCPU
``ManagedApp.dll``, the x86-only (32BITREQ) assembly ``managed_x86.dll`` it references and, as
``nativelib.dll``, the native x86 DLL it P/Invokes (``nativelib_x86.dll``). In a 64-bit pool both
fail to load, so the scan finds per application a ``managed-assembly-arch`` and a
``native-library-arch`` mismatch, each its own cause: the shared-hosting server where every site
ships its own 32-bit build, thousands of causes, each fixed by its own pool flip.

Then, in a child process per size (so the peak memory is that scan's own), times
``scan(Path(image), ScanOptions())`` (wall and CPU time: on a shared machine compare the CPU time), the text and JSON renderings (and ``--html``), and reads the
peak RSS. ``--dump DIR`` writes ``pools-N.json`` and ``pools-N.txt`` there (to check that a change
leaves the reports byte for byte the same). ``--profile`` prints a pyinstrument call tree of the
largest size's scan on stderr. ``--format sarif`` scans as ``scan --format sarif`` does (each verified fix's
configuration change as text edits, ``ScanOptions.text_fixes``) and times the SARIF rendering too, written a result
at a time as ``scan`` writes it (``scan_sarif.write_many``; ``--dump`` writes ``pools-N.sarif``, else nowhere).

``--fix`` times ``fix``'s dry run instead (:func:`iisbitness.scan.fix.plan_fix`: the scan, the choice of fixes verified
together, the file changes planned; nothing is written), wall and CPU time (of this process, and apart that of the
helper process that parses binaries ahead, :mod:`iisbitness.pe.prefetch`), and its text rendering; ``--dump`` writes
``fix-SHAPE-N.txt`` and ``fix-SHAPE-N.json`` (``fix --format json``), to compare two trees byte for byte;
``--profile`` profiles the dry run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench_scan import APPHOST

PE_BIN = Path(__file__).resolve().parent.parent / "tests/fixtures/pe/bin"
FIXTURE = PE_BIN / "module_x86.dll"
BIN_FILES = {"ManagedApp.dll": "ManagedApp.dll", "managed_x86.dll": "managed_x86.dll",
             "nativelib.dll": "nativelib_x86.dll"}
"""``--shape bin``: each application's ``bin``, name in the image -> fixture."""

GLOBAL_MODULES = """  <system.webServer>
    <globalModules>
{modules}
    </globalModules>
  </system.webServer>
"""
POOL = '      <add name="Pool{i}" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="false" />'
MODULE = '      <add name="VendorModule{k}" image="C:\\Vendor\\module{k}_x86.dll" />'
APP = """        <application path="{path}" applicationPool="Pool{i}">
          <virtualDirectory path="/" physicalPath="C:\\inetpub\\site{i}{folder}" />
        </application>"""
SITE = """      <site name="Site{i}" id="{id}">
{apps}
        <bindings><binding protocol="http" bindingInformation="*:{port}:" /></bindings>
      </site>"""


def build(root: Path, pools: int, modules: int, apps: int, shape: str = "global") -> None:
    """Write the image under ``root`` (``shape``: ``global`` or ``bin``, see the module's docstring)."""
    conf = root / "Windows/System32/inetsrv/config"
    conf.mkdir(parents=True)
    (root / "Windows/SysWOW64").mkdir(parents=True)
    vendor = root / "Vendor"
    vendor.mkdir()
    for k in range(modules):
        os.link(FIXTURE, vendor / f"module{k}_x86.dll")
    sites = []
    for i in range(pools):
        app_xml = []
        for a in range(apps):
            path, folder = ("/", "") if a == 0 else (f"/app{a}", f"\\app{a}")
            app_xml.append(APP.format(path=path, i=i, folder=folder))
            folder_path = root / f"inetpub/site{i}" / (f"app{a}" if a else "")
            folder_path.mkdir(parents=True, exist_ok=True)
            if shape == "bin":
                (folder_path / "bin").mkdir()
                for name, fixture in BIN_FILES.items():
                    os.link(PE_BIN / fixture, folder_path / "bin" / name)
        sites.append(SITE.format(i=i, id=i + 1, port=8000 + i % 50000, apps="\n".join(app_xml)))
    text = APPHOST.format(pools="\n".join(POOL.format(i=i) for i in range(pools)), sites="\n".join(sites))
    webserver = GLOBAL_MODULES.format(modules="\n".join(MODULE.format(k=k) for k in range(modules)))
    (conf / "applicationHost.config").write_text(text.replace("</configuration>", webserver + "</configuration>"))


@contextlib.contextmanager
def _profiled(on: bool) -> Iterator[None]:
    """A pyinstrument call tree of the block, on stderr, when ``on``."""
    if not on:
        yield
        return
    from pyinstrument import Profiler

    prof = Profiler(interval=0.002)
    prof.start()
    try:
        yield
    finally:
        prof.stop()
        print(prof.output_text(unicode=False, color=False), file=sys.stderr)


def one(size: int, modules: int, apps: int, profile: bool, dump: Path | None, html: bool,
        with_json: bool, shape: str = "global", sarif: bool = False) -> dict[str, float]:
    """Build, scan and render in this process (the child)."""
    from iisbitness.api import ScanOptions, scan
    from iisbitness.formats import scan_html, scan_json, scan_sarif, scan_text

    with tempfile.TemporaryDirectory(prefix="iisbitness-bench-pools-") as tmp:
        image = Path(tmp)
        build(image, size, modules, apps, shape)
        with _profiled(profile):
            t0, c0 = time.perf_counter(), time.process_time()
            report = scan(image, ScanOptions(text_fixes=sarif))
            t_scan, c_scan = time.perf_counter() - t0, time.process_time() - c0
            rss_scan = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        text = scan_text.render(report)
        t_text = time.perf_counter() - t0
        t_json, js = 0.0, ""
        if with_json:
            t0 = time.perf_counter()
            js = scan_json.render(report)
            t_json = time.perf_counter() - t0
        t_html = html_mb = 0.0
        if html:
            t0 = time.perf_counter()
            page = scan_html.render([report])
            t_html = time.perf_counter() - t0
            html_mb = len(page.encode()) / 1e6
        t_sarif = sarif_mb = 0.0
        if sarif:
            # NOTE: as scan --format sarif writes it, a result at a time (scan_sarif.write_many), to the dump or nowhere
            t0 = time.perf_counter()
            target = dump / f"pools-{shape}-{size}.sarif" if dump is not None else Path(os.devnull)
            written = 0
            with open(target, "w", encoding="utf-8") as f:
                def write(piece: str) -> None:
                    nonlocal written
                    written += len(piece.encode())
                    f.write(piece.replace(str(image), "IMAGE") if dump is not None else piece)
                scan_sarif.write_many([report], write)
            t_sarif = time.perf_counter() - t0
            sarif_mb = written / 1e6
        if dump is not None:
            # NOTE: the image lives in a random temporary folder: name it the same in every run
            if with_json:
                (dump / f"pools-{shape}-{size}.json").write_text(js.replace(str(image), "IMAGE"))
            (dump / f"pools-{shape}-{size}.txt").write_text(text.replace(str(image), "IMAGE"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"pools": size, "scan_s": t_scan, "scan_cpu_s": c_scan, "text_s": t_text, "json_s": t_json, "html_s": t_html,
            "html_mb": html_mb, "sarif_s": t_sarif, "sarif_mb": sarif_mb, "rss_mb": rss, "rss_scan_mb": rss_scan, "findings": len(report.findings)}


def _helpers_cpu() -> float:
    """CPU time of the child processes waited for (the prefetch helper that parses binaries ahead of the scan)."""
    t = os.times()
    return t.children_user + t.children_system


def one_fix(size: int, modules: int, apps: int, profile: bool, dump: Path | None, shape: str) -> dict[str, float]:
    """Build, plan the fix (dry run) and render it in this process (the child)."""
    from iisbitness.api import ScanOptions
    from iisbitness.formats import fix_json, fix_text
    from iisbitness.scan.fix import plan_fix

    with tempfile.TemporaryDirectory(prefix="iisbitness-bench-pools-") as tmp:
        image = Path(tmp)
        build(image, size, modules, apps, shape)
        with _profiled(profile):
            t0, c0, h0 = time.perf_counter(), time.process_time(), _helpers_cpu()
            plan = plan_fix(image, ScanOptions())
            t_fix, c_fix, h_fix = time.perf_counter() - t0, time.process_time() - c0, _helpers_cpu() - h0
        t0 = time.perf_counter()
        text = fix_text.render(plan, applied=False)
        t_text = time.perf_counter() - t0
        if dump is not None:
            (dump / f"fix-{shape}-{size}.txt").write_text(text.replace(str(image), "IMAGE"))
            (dump / f"fix-{shape}-{size}.json").write_text(fix_json.render(plan, False).replace(str(image), "IMAGE"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"pools": size, "fix_s": t_fix, "fix_cpu_s": c_fix, "helpers_cpu_s": h_fix, "text_s": t_text, "rss_mb": rss,
            "findings": len(plan.report.findings), "chosen": len(plan.chosen), "left": len(plan.left)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,5000,10000")
    parser.add_argument("--shape", choices=("global", "bin"), default="global",
                        help="global: every pool loads the same x86 global modules (a few causes); bin: every "
                             "application's bin holds its own x86 assembly and native DLL (a cause per pool)")
    parser.add_argument("--modules", type=int, help="x86 global modules (default 4 for --shape global, 0 for bin)")
    parser.add_argument("--apps", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--html", action="store_true")
    parser.add_argument("--format", choices=("text", "sarif"), default="text",
                        help="sarif: scan with text fixes (as scan --format sarif) and time the SARIF rendering")
    parser.add_argument("--json-up-to", type=int, default=10000,
                        help="render JSON only up to this many pools (linear since scan/2's fix table: about "
                             "9 KB a pool)")
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--fix", action="store_true", help="time fix's dry run (plan_fix) instead of the scan")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.modules is None:
        args.modules = 4 if args.shape == "global" else 0
    if args.child and args.fix:
        print(json.dumps(one_fix(args.child, args.modules, args.apps, args.profile, args.dump, args.shape)))
        return
    if args.child:
        print(json.dumps(one(args.child, args.modules, args.apps, args.profile, args.dump, args.html,
                             args.child <= args.json_up_to, args.shape, args.format == "sarif")))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    bins = ", an x86 assembly and a native x86 DLL in each application's bin" if args.shape == "bin" else ""
    print(f"{'fix (dry run)' if args.fix else 'scan'} of N pools, {args.modules} mismatched x86 global modules{bins}, {args.apps} applications a pool "
          "(bench_pools.py)")
    for n in sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--shape", args.shape, "--modules", str(args.modules),
               "--apps", str(args.apps), "--json-up-to", str(args.json_up_to)]
        if args.profile and n == max(sizes):
            cmd.append("--profile")
        if args.html:
            cmd.append("--html")
        cmd += ["--format", args.format] + (["--fix"] if args.fix else [])
        if args.dump is not None:
            args.dump.mkdir(parents=True, exist_ok=True)
            cmd += ["--dump", str(args.dump)]
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        if args.fix:
            print(f"  {r['pools']:>6,} pools: fix {r['fix_s']:7.2f} s (CPU {r['fix_cpu_s']:.2f} s = "
                  f"{r['fix_cpu_s'] / n * 1000:.2f} ms a pool; its helper processes {r['helpers_cpu_s']:.2f} s), text {r['text_s']:.2f} s; peak RSS {r['rss_mb']:.0f} MB; "
                  f"{r['findings']:,.0f} findings, {r['chosen']:,.0f} fixes chosen, {r['left']:,.0f} left", flush=True)
            continue
        html = f", html {r['html_s']:.2f} s ({r['html_mb']:.1f} MB)" if args.html else ""
        if args.format == "sarif":
            html += f", sarif {r['sarif_s']:.2f} s ({r['sarif_mb']:.1f} MB)"
        print(f"  {r['pools']:>6,} pools: scan {r['scan_s']:7.2f} s ({r['scan_s'] / n * 1000:.2f} ms a pool; CPU "
              f"{r['scan_cpu_s']:.2f} s = {r['scan_cpu_s'] / n * 1000:.2f} ms a pool), "
              f"text {r['text_s']:.2f} s, json {r['json_s']:.2f} s{html}; peak RSS after the scan "
              f"{r['rss_scan_mb']:.0f} MB, after rendering {r['rss_mb']:.0f} MB; "
              f"{r['findings']:,.0f} findings", flush=True)


if __name__ == "__main__":
    main()
