"""The report: the one document every output format reads (capa's ResultDocument idea).

Formats never see the model or the load plan; they read a :class:`Report`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from iisbitness.arch import Arch
from iisbitness.findings import Finding, Severity
from iisbitness.model.source import Problem

SCAN_SCHEMA = "iisbitness/scan/1"


@dataclass(frozen=True, slots=True)
class ServerSummary:
    """What was scanned.

    Attributes:
        kind: ``iis7+`` or ``iis6``. image: the image folder (or ``live``). config_file: the
        main configuration file read. os_arch / os_arch_from: the OS architecture and how it was
        decided. config_only: the image holds none of the configured binaries.
    """

    kind: str
    image: str
    config_file: str
    os_arch: Arch
    os_arch_from: str
    config_only: bool


@dataclass(frozen=True, slots=True)
class PoolSummary:
    """An application pool's worker as analysed.

    Attributes:
        name, worker_arch, enable_32bit_app_on_win64, enable_32bit_from, managed_runtime_version,
        pipeline_mode, applications (``Site/app`` labels), process (the w3wp.exe path), idle
        (hosts no application: its worker never starts).
    """

    name: str
    worker_arch: Arch
    enable_32bit_app_on_win64: bool
    enable_32bit_from: str
    managed_runtime_version: str
    pipeline_mode: str
    applications: tuple[str, ...]
    process: str
    idle: bool


@dataclass(frozen=True, slots=True)
class Observation:
    """An event-log entry joined to the report (``scan --event-log``).

    Attributes:
        time, provider, event_id, message: from the event. finding_index: index into
        ``Report.findings`` of the finding it confirms, or None when no finding explains it.
    """

    time: str
    provider: str
    event_id: int
    message: str
    finding_index: int | None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a scan found, in a stable order.

    ``suppressed`` holds findings a baseline accepted (``scan --baseline``); they count for
    nothing (exit code, summary) and only SARIF shows them, as suppressed results.
    """

    server: ServerSummary
    pools: tuple[PoolSummary, ...]
    findings: tuple[Finding, ...]
    problems: tuple[Problem, ...]
    rules: tuple[str, ...]
    observations: tuple[Observation, ...] = ()
    schema: str = SCAN_SCHEMA
    suppressed: tuple[Finding, ...] = ()

    def counts(self) -> dict[str, int]:
        """Findings per severity label (``error``, ``warning``, ``note``), all three present."""
        c = Counter(f.severity.label for f in self.findings)
        return {s.label: c.get(s.label, 0) for s in sorted(Severity, reverse=True)}

    def worst(self) -> Severity | None:
        """The highest severity among findings, or None."""
        return max((f.severity for f in self.findings), default=None)
