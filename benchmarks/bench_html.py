"""The HTML report of a shared-hosting server in headless Chromium: file size, render time, load time (issue 25).

Usage: ``PYTHONPATH=src:benchmarks:tests/pe python benchmarks/bench_html.py [--sizes 1000,10000] [--keep DIR]
[--rounds 3] [--shape global|bin] [--plain-rows N]``

For each size N, builds the server of ``bench_pools.py`` (N 64-bit pools, two applications each; ``--shape global``:
four x86 global modules every pool loads, N x 4 findings; ``--shape bin``: every application's bin holds its own
AnyCPU assembly, the x86 (32BITREQ) assembly it references and an x86 native DLL it P/Invokes, N x 10 findings,
each its own cause, and 7 fixes a pool), scans it once with the load map as ``scan --format html`` does (the report is pickled into ``--keep`` so that
a later run, say after a change to the HTML, renders the same report without scanning again), renders
``scan_html.render`` and opens the page in headless Chromium the way ``tests/html/test_browser.py`` does (the
DevTools protocol over a pipe, ``tests/html/cdp.py``) at 1366x768. Load time: from ``Page.navigate`` to the load
event, then to the first frame drawn after it (two ``requestAnimationFrame``s: layout and paint of the whole
page done), and where the first fix's commands end (on the first screen when at most 768 pixels down). Median of ``--rounds``, each in a fresh tab of one browser; the page's console errors are printed.
Then opens the first list built on demand (``details.members``: causes alike, else ``details.run``: fixes of one
kind) and times it to the first frame drawn after (the script builds its first rows; plain rows are laid out). Then
loads the page with scripts off (``Emulation.setScriptExecutionDisabled``, a mail preview or a locked-down browser),
to the first frame. ``--plain-rows N`` renders with ``scan_html.PLAIN_ROWS = N`` (tables of at most N rows as plain
HTML rows, longer ones as patterns and values; 0: every table as patterns): to choose the threshold.
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from bench_pools import build

REPO = Path(__file__).resolve().parent.parent


def _cdp() -> ModuleType:
    """tests/html/cdp.py (the tests' DevTools client), without putting the repository on the path."""
    spec = importlib.util.spec_from_file_location("cdp", REPO / "tests/html/cdp.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report_for(size: int, keep: Path, shape: str = "global") -> object:
    """The scan of the N-pool server, from ``keep`` when an earlier run pickled it."""
    from iisbitness.api import ScanOptions, scan

    cached = keep / (f"pools-{size}-loads.pickle" if shape == "global" else f"pools-{shape}-{size}-loads.pickle")
    if cached.exists():
        return pickle.loads(cached.read_bytes())
    with tempfile.TemporaryDirectory(prefix="iisbitness-bench-html-") as tmp:
        build(Path(tmp), size, 4 if shape == "global" else 0, 2, shape)
        report = scan(Path(tmp), ScanOptions(load_map=True))  # NOTE: as `scan --format html` does
    cached.write_bytes(pickle.dumps(report))
    return report


FRAME = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(1))))"
FIRST = ("document.querySelector('.steps > li.fix .cmd').getBoundingClientRect().bottom")
"""Where the first fix's commands end (CSS pixels from the top): on the first 1366x768 screen when <= 768."""
OPEN = """(async () => {
  const d = document.querySelector('details.members') || document.querySelector('details.run');
  if (!d) { return null; }
  const t0 = performance.now();
  d.open = true;
  await new Promise(r => setTimeout(r, 0));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [d.className, performance.now() - t0, d.querySelectorAll('tbody.built tr, tbody.plain tr').length,
          d.querySelector('.rows-plain') ? 'plain' : 'built'];
})()"""
"""Open the first list on demand: which, milliseconds to the frame drawn after, rows shown, plain or built."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "iisbitness-bench-html")
    parser.add_argument("--shape", choices=("global", "bin"), default="global",
                        help="global: four x86 global modules every pool loads; bin: each application's bin holds its "
                             "own x86 assembly and native DLL (a cause per application, bench_pools.py)")
    parser.add_argument("--plain-rows", type=int, default=None,
                        help="render with this scan_html.PLAIN_ROWS (0: every table as patterns and values)")
    args = parser.parse_args()
    from iisbitness.formats import scan_html

    if args.plain_rows is not None:
        scan_html.PLAIN_ROWS = args.plain_rows
    tables = f"plain rows up to {scan_html.PLAIN_ROWS}"

    cdp = _cdp()
    chromium = cdp.find_chromium()
    if chromium is None:
        sys.exit("chromium not found (apt-get install chromium)")
    args.keep.mkdir(parents=True, exist_ok=True)
    what = ("4 mismatched global modules" if args.shape == "global" else
            "2 applications, each with its own x86 assembly and native DLL in bin")
    print(f"HTML report of N pools x {what} in headless Chromium at 1366x768 (bench_html.py; {tables})")
    for size in (int(s) for s in args.sizes.split(",")):
        report = report_for(size, args.keep, args.shape)
        t0, c0 = time.perf_counter(), time.process_time()
        page = scan_html.render([report])  # type: ignore[list-item]
        t_render, c_render = time.perf_counter() - t0, time.process_time() - c0
        path = args.keep / (f"pools-{size}.html" if args.shape == "global" else f"pools-{args.shape}-{size}.html")
        path.write_text(page, encoding="utf-8")
        loads, frames, errors = [], [], []
        with cdp.Browser(chromium, timeout=300) as browser:
            for _ in range(args.rounds):
                browser.open("about:blank")
                t0 = time.perf_counter()
                browser.open(path.as_uri(), width=1366, height=768)
                loads.append(time.perf_counter() - t0)
                browser.evaluate(FRAME)
                frames.append(time.perf_counter() - t0)
                errors = browser.errors()
            nodes = browser.evaluate("document.getElementsByTagName('*').length")
            first = browser.evaluate(FIRST)
            opened = browser.evaluate(OPEN)
            errors = browser.errors()
            browser.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=True)
            bare = []
            for _ in range(args.rounds):
                browser.open("about:blank")
                t0 = time.perf_counter()
                browser.open(path.as_uri(), width=1366, height=768)
                bare.append(time.perf_counter() - t0)
            browser.call("Emulation.setScriptExecutionDisabled", {"value": False}, session=True)
        print(f"  {size:>6,} pools: {path.stat().st_size / 1e6:6.2f} MB, render {t_render:5.2f} s (CPU {c_render:.2f} s), "
              f"load {statistics.median(loads):6.2f} s, first frame {statistics.median(frames):6.2f} s "
              f"(rounds: {', '.join(f'{x:.2f}' for x in frames)}), {nodes:,} elements, first commands end at {first:.0f} px"
              + (f"; opening {opened[0]}: {opened[1] / 1000:.2f} s to the next frame, {opened[2]} rows {opened[3]}"
                 if opened else "")
              + f"; scripts off: load {statistics.median(bare):.2f} s"
              + (f"; errors: {errors}" if errors else ""), flush=True)


if __name__ == "__main__":
    main()
