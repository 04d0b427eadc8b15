"""``iisbitness explain`` on large inputs: CPU seconds of matching and ranking (``build_report``) and of the JSON
document, per input shape and size.

Inputs, all built from real texts (nothing generated):

* ``paste``: the real error texts of ``tests/explain/pasted_cases.toml`` (those without event XML) one after
  another, repeated up to the size: a long repetitive paste (a log with the same failure many times);
* ``paste-wrapped``: the same hard-wrapped at 60 columns (a mail client or forum);
* ``events``: the exported event XML of ``shared/corpus/events`` (Azure App Service ``eventlog.xml`` files)
  pasted as text, repeated up to the size (Event Viewer's or wevtutil's XML of a whole log);
* ``evtx``: ``--event-log`` on every ``.evtx`` of ``shared/corpus/evtx`` (real logs, as they are: the size given
  is ignored).

Run from the repository root, the source tree to measure first on the path::

    PYTHONPATH=src:. python benchmarks/bench_explain.py [--sizes 1.3,5] [--rounds 3] [--shapes paste,events]

``--corpus DIR`` (default ``$IISBITNESS_CORPUS`` or ``../shared/corpus``). Each figure is the least CPU time
(``time.process_time``) of ``--rounds`` runs in this process; the first round of each shape also parses the
knowledge base's patterns (cached afterwards). To compare with another tree, run the same command with its
``src`` on the path.
"""

from __future__ import annotations

import argparse
import os
import time
import tomllib
from collections.abc import Callable
from functools import partial
from pathlib import Path

from iisbitness.explain.events import EventLogRead, read_events
from iisbitness.explain.kb import load_kb
from iisbitness.explain.report import build_report
from iisbitness.formats import explain_json

REPO = Path(__file__).resolve().parent.parent


def _repeat(blob: str, size: int) -> str:
    return (blob * (size // len(blob) + 1))[:size]


def _pastes() -> str:
    cases = tomllib.loads((REPO / "tests" / "explain" / "pasted_cases.toml").read_text("utf-8"))["case"]
    return "\n\n".join(c["text"] for c in cases if "</Event>" not in c["text"])


def _wrap(text: str, width: int = 60) -> str:
    out = []
    for line in text.split("\n"):
        while len(line) > width:
            cut = line.rfind(" ", 0, width)
            cut = cut if cut > 0 else width
            out.append(line[:cut])
            line = line[cut:].lstrip(" ")
        out.append(line)
    return "\n".join(out)


def _forget() -> None:
    """Drop the prepared texts a tree with ``explain.spans`` caches, so each round starts cold."""
    try:
        from iisbitness.explain import spans
    except ImportError:  # NOTE: a tree from before spans.py
        return
    spans.forget()


def _cpu(run: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        _forget()
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1.3,5", help="sizes in MB (10^6 characters), comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shapes", default="paste,paste-wrapped,events,evtx")
    parser.add_argument("--corpus",
                        default=os.environ.get("IISBITNESS_CORPUS", str(REPO.parent / "shared" / "corpus")))
    opts = parser.parse_args()
    kb = load_kb()
    corpus = Path(opts.corpus)
    sizes = [int(float(s) * 1_000_000) for s in opts.sizes.split(",")]
    shapes = opts.shapes.split(",")
    print(f"{'input':<16} {'characters':>11} {'events':>7} {'report CPU':>11} {'JSON CPU':>9} {'explanations':>12}")
    for shape in shapes:
        if shape == "evtx":
            logs: list[EventLogRead] = [read_events(p, kb) for p in sorted((corpus / "evtx").glob("*.evtx"))]
            report = build_report([], logs, kb)
            seconds = _cpu(partial(build_report, [], logs, kb), opts.rounds)
            rendered = _cpu(partial(explain_json.render, report), opts.rounds)
            total = sum(p.stat().st_size for p in (corpus / "evtx").glob("*.evtx"))
            print(f"{'evtx':<16} {total:>11,} {sum(len(g.events) for g in logs):>7,} {seconds:>10.2f}s "
                  f"{rendered:>8.2f}s {len(report.explanations):>12}")
            continue
        if shape in ("paste", "paste-wrapped"):
            blob = _pastes() if shape == "paste" else _wrap(_pastes())
        else:
            blob = "\n".join(p.read_text("utf-8") for p in sorted((corpus / "events").glob("*.xml")))
        for size in ([len(blob)] if shape == "events" else []) + sizes:
            text = _repeat(blob, size)
            report = build_report([("stdin", text)], [], kb)
            seconds = _cpu(partial(build_report, [("stdin", text)], [], kb), opts.rounds)
            rendered = _cpu(partial(explain_json.render, report), opts.rounds)
            events = report.inputs[0].events_read or 0
            print(f"{shape:<16} {len(text):>11,} {events:>7,} {seconds:>10.2f}s {rendered:>8.2f}s "
                  f"{len(report.explanations):>12}")


if __name__ == "__main__":
    main()
