"""The library API: ``scan(image, ScanOptions(...)) -> Report``, ``inspect_paths(paths) -> files``.

A stable facade over the pipeline (:mod:`iisbitness.scan.pipeline`) and the PE walker
(:mod:`iisbitness.pe.walk`); docs/ and the benchmarks import from here.
"""

from __future__ import annotations

from iisbitness.pe.walk import InspectedFile, inspect_paths
from iisbitness.report import Report
from iisbitness.scan.pipeline import ScanOptions, run_rules, scan

__all__ = ["InspectedFile", "Report", "ScanOptions", "inspect_paths", "run_rules", "scan"]
