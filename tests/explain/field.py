"""Issue 23's measure on field texts: the texts of ``field_cases.toml`` (quoted from public threads, each labelled
by how its thread settled the cause).

Figures (:func:`measure`):
    bitness_first      bitness texts whose expected rule is the leading explanation (rank 1)
    non_bitness_led    non-bitness texts whose leading explanation is a bitness cause (lower is better)
    expected_first     non-bitness texts with a ``first`` whose leading explanation is that entry
    false_high         non-bitness texts given a high bitness cause anywhere in the report

Run ``PYTHONPATH=src python tests/explain/field.py`` to print them with every miss; the code only uses
``build_report`` and ``ExplainReport.leading``, so the same file measures an older tree (docs/explain.md quotes
both).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from iisbitness.explain.codes import Confidence
from iisbitness.explain.kb import load_kb
from iisbitness.explain.report import ExplainReport, OtherCause, RankedCause, build_report

HERE = Path(__file__).parent


@dataclass(frozen=True)
class FieldCase:
    """One labelled field text and the report explain gives it."""

    name: str
    bitness: bool
    report: ExplainReport
    rule: str | None
    first: str | None
    origin: str

    @property
    def lead(self) -> str | None:
        """The leading explanation: a rule id, ``not:<entry id>``, or None when nothing was recognised."""
        lead = self.report.leading
        if isinstance(lead, RankedCause):
            return str(lead.rule)
        return f"not:{lead.entry_id}" if isinstance(lead, OtherCause) else None

    @property
    def right(self) -> bool:
        """The report leads the way the thread settled it."""
        if self.bitness:
            return self.lead == self.rule
        return not isinstance(self.report.leading, RankedCause) and (
            self.first is None or self.lead == f"not:{self.first}")


def cases() -> list[FieldCase]:
    """Every field text with its report."""
    kb = load_kb()
    data = tomllib.loads((HERE / "field_cases.toml").read_text("utf-8"))
    return [FieldCase(c["name"], kind == "bitness", build_report([("field", c["text"])], [], kb), c.get("rule"),
                      c.get("first"), c["origin"])
            for kind in ("bitness", "not_bitness") for c in data[kind]]


def measure(found: list[FieldCase]) -> dict[str, tuple[int, int]]:
    """Each figure as (numerator, denominator)."""
    bit = [c for c in found if c.bitness]
    non = [c for c in found if not c.bitness]
    labelled = [c for c in non if c.first]
    return {
        "bitness_first": (sum(c.lead == c.rule for c in bit), len(bit)),
        "non_bitness_led": (sum(isinstance(c.report.leading, RankedCause) for c in non), len(non)),
        "expected_first": (sum(c.lead == f"not:{c.first}" for c in labelled), len(labelled)),
        "false_high": (sum(any(r.confidence is Confidence.HIGH for r in c.report.causes) for c in non), len(non)),
    }


def main() -> None:
    """Print the figures and every miss."""
    found = cases()
    for name, (num, den) in measure(found).items():
        print(f"{name:16} {num:3}/{den}")
    for c in found:
        if not c.right:
            want = c.rule if c.bitness else f"not bitness ({c.first or 'any'})"
            print(f"MISS {c.name}: lead={c.lead} expected={want}")


if __name__ == "__main__":
    main()
