"""Precision and recall of explain's confidence calibration over labelled test sets (issue 15).

Sets: ``calibration_cases.toml`` (labelled bitness and non-bitness texts, each with its origin), the two IIS
event-log fixtures of ``tests/fixtures/events`` (bitness), and every real Azure App Service export in
``shared/corpus/events`` (non-bitness; skipped when the corpus is absent).

Figures (:func:`measure`):
    top1_recall      bitness cases whose expected rule ranks first among the causes
    high_precision   of all cases where explain calls a bitness cause HIGH, the share that are bitness cases
                     with that rule first
    high_recall      of the bitness cases with architecture-specific evidence, the share called HIGH on the
                     expected rule
    false_high       non-bitness cases (texts + corpus logs) given a HIGH bitness cause
    not_bitness_first  labelled non-bitness cases whose expected not-bitness explanation leads

Run ``PYTHONPATH=src python tests/explain/calibration.py`` to print them (docs/explain.md quotes the output).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from iisbitness.explain.codes import Confidence
from iisbitness.explain.events import EventLogRead, read_events
from iisbitness.explain.kb import KnowledgeBase, load_kb
from iisbitness.explain.report import ExplainReport, OtherCause, build_report

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "fixtures" / "events"
CORPUS_EVENTS = Path("/work/shared/corpus/events")
BITNESS_LOGS = {"wevtutil-iis10.xml": "global-module-arch", "eventviewer-iis6.xml": "iis6-filter-arch"}
"""Fixture logs and the rule that must rank first (both hold architecture-specific events). The IIS 6 log's
W3SVC 1009 makes it an IIS 6 server, where a filter of the other bitness is ``iis6-filter-arch`` (issue 23;
a worker that terminated rules out IIS 5.0 isolation mode, so not ``iis6-isolation-wow64``)."""


@dataclass(frozen=True)
class Case:
    """One labelled input."""

    name: str
    report: ExplainReport
    bitness: bool
    rule: str | None = None
    specific: bool = False
    first: str | None = None
    origin: str = ""

    @property
    def top(self) -> str | None:
        return self.report.causes[0].rule if self.report.causes else None

    @property
    def high(self) -> bool:
        return any(c.confidence is Confidence.HIGH for c in self.report.causes)


def _log_report(log: EventLogRead, kb: KnowledgeBase) -> ExplainReport:
    return build_report([], [log], kb)


def cases(kb: KnowledgeBase | None = None) -> list[Case]:
    """Every labelled case with its report."""
    kb = kb or load_kb()
    data = tomllib.loads((HERE / "calibration_cases.toml").read_text("utf-8"))
    out = [Case(f"bitness-{n}", build_report([("text", c["text"])], [], kb), True, c["rule"], c["specific"],
                origin=c["origin"]) for n, c in enumerate(data["bitness"])]
    out += [Case(f"not-bitness-{n}", build_report([("text", c["text"])], [], kb), False, first=c.get("first"),
                 origin=c["origin"]) for n, c in enumerate(data["not_bitness"])]
    out += [Case(name, _log_report(read_events(FIXTURES / name, kb), kb), True, rule, True, origin="fixture")
            for name, rule in BITNESS_LOGS.items()]
    if CORPUS_EVENTS.is_dir():
        out += [Case(p.name, _log_report(read_events(p, kb), kb), False, origin="corpus")
                for p in sorted(CORPUS_EVENTS.glob("*.xml"))]
    return out


def measure(all_cases: list[Case]) -> dict[str, tuple[int, int]]:
    """Each figure as (numerator, denominator)."""
    bit = [c for c in all_cases if c.bitness]
    specific = [c for c in bit if c.specific]
    called = [c for c in all_cases if c.high]
    right = [c for c in called if c.bitness and c.top == c.rule and c.report.causes[0].confidence is Confidence.HIGH]
    labelled = [c for c in all_cases if not c.bitness and c.first]
    led = [c for c in labelled if isinstance(c.report.leading, OtherCause)
           and c.report.leading.entry_id == c.first]
    non = [c for c in all_cases if not c.bitness]
    return {
        "top1_recall": (sum(c.top == c.rule for c in bit), len(bit)),
        "high_precision": (len(right), len(called)),
        "high_recall": (sum(c.top == c.rule and c.high for c in specific), len(specific)),
        "false_high": (sum(c.high for c in non), len(non)),
        "not_bitness_first": (len(led), len(labelled)),
    }


def main() -> None:
    """Print the figures and every miss."""
    found = cases()
    for name, (num, den) in measure(found).items():
        print(f"{name:18} {num:3}/{den:<3} {num / den:6.1%}" if den else f"{name:18} n/a")
    for c in found:
        wrong = (c.bitness and (c.top != c.rule or c.high != c.specific)) or (not c.bitness and c.high)
        if wrong:
            print(f"MISS {c.name}: top={c.top} high={c.high} expected={c.rule} ({c.origin})")


if __name__ == "__main__":
    main()
