"""Seconds to read the largest real .evtx of the corpus: old python-evtx path vs the ``evtx`` package.

Usage: ``PYTHONPATH=src python benchmarks/bench_evtx.py [--corpus ../shared/corpus/evtx] [--rounds 5]``

Picks the largest .evtx in the corpus (ties: the one with more records), prints its size and record
count, then times, best of ``--rounds`` (the python-evtx path once: it is slow):

* ``evtx library only``: iterating ``PyEvtxParser(...).records()``, the floor;
* ``python-evtx path``: what the reader did before issue 11 (python-evtx records -> XML -> lxml ->
  the same event extraction), when python-evtx is still importable;
* ``read_events``: the reader now, in-process (header/chunk checks, parse, extraction);
* ``explain --event-log FILE``: the whole command as a process, interpreter start-up included, once
  with bytecode cached in a temporary ``PYTHONPYCACHEPREFIX`` (as after ``pip install``) and once with
  ``PYTHONDONTWRITEBYTECODE=1`` (every module compiled on each run); with ``python -c pass`` and
  ``import iisbitness.cli`` alone for scale.

Target (issue 11): the command under 1 s for a 2 MB .evtx.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from evtx import PyEvtxParser
from floors import best
from lxml import etree

from iisbitness.explain.events import _PARSER, _event, read_events
from iisbitness.explain.kb import KnowledgeBase, load_kb

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "evtx"
CLI = "from iisbitness.cli import main; main(prog_name='iisbitness')"



def library_only(path: Path) -> int:
    return sum(1 for _ in PyEvtxParser(str(path), indent=False).records())


def python_evtx_path(path: Path, kb: KnowledgeBase) -> int:
    """The pre-issue-11 reader's work: every chunk (include_inactive), record.xml(), lxml, extraction."""
    from Evtx.Evtx import Evtx  # type: ignore[import-not-found, import-untyped, unused-ignore]

    count = 0
    with Evtx(str(path)) as log:
        for chunk in log.get_file_header().chunks(include_inactive=True):
            if not chunk.check_magic():
                break
            for record in chunk.records():
                try:
                    _event(etree.fromstring(record.xml().encode("utf-8"), _PARSER), kb)
                    count += 1
                except Exception:  # noqa: BLE001, S112 - as the old reader: a bad record is skipped
                    continue
    return count


def process(args: list[str], env: dict[str, str], rounds: int) -> float:
    """Best wall time of running ``python args`` from the repository root."""
    def run() -> None:
        subprocess.run([sys.executable, *args], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    run()  # NOTE: warm the page cache and, with a pycache prefix, the bytecode
    return best(run, rounds)


def largest(corpus: Path, kb: KnowledgeBase) -> tuple[Path, int]:
    """The largest .evtx (ties: more records) and its record count."""
    sized = sorted(corpus.glob("*.evtx"), key=lambda p: p.stat().st_size, reverse=True)
    if not sized:
        sys.exit(f"no .evtx files in {corpus}")
    top = [p for p in sized if p.stat().st_size == sized[0].stat().st_size]
    counted = [(len(read_events(p, kb).events), p) for p in top]
    count, path = max(counted, key=lambda c: (c[0], c[1].name))
    return path, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args()
    kb = load_kb()
    path, count = largest(opts.corpus, kb)
    print(f"file: {path.name}\n      {path.stat().st_size:,} bytes, {count:,} records read by read_events")
    rows: list[tuple[str, float | None]] = [("evtx library only", best(lambda: library_only(path), opts.rounds))]
    try:
        rows.append(("python-evtx path (old), 1 round", best(lambda: python_evtx_path(path, kb), 1)))
    except ImportError:
        rows.append(("python-evtx path (old): python-evtx not importable", None))
    rows.append(("read_events (new), in-process", best(lambda: read_events(path, kb), opts.rounds)))
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    with tempfile.TemporaryDirectory() as cache:
        cached = {**env, "PYTHONPYCACHEPREFIX": cache}
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        compiled = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
        command = ["-c", CLI, "explain", "--event-log", str(path)]
        rows += [
            ("process: python -c pass", process(["-c", "pass"], cached, opts.rounds)),
            ("process: import iisbitness.cli (bytecode cached)", process(["-c", "import iisbitness.cli"], cached,
                                                                         opts.rounds)),
            ("process: explain --event-log (bytecode cached)", process(command, cached, opts.rounds)),
            ("process: explain --event-log (no bytecode cache)", process(command, compiled, opts.rounds)),
        ]
    for name, seconds in rows:
        print(f"{name:55s} {'-' if seconds is None else f'{seconds:8.3f} s'}")


if __name__ == "__main__":
    main()
