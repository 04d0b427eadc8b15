"""The library API: ``scan(image, ScanOptions(...)) -> Report``, ``inspect_paths(paths) -> files``,
``collect(image, out, options)`` and ``with scan_collected(zip, options) as (report, logs)`` (docs/images.md).

A stable facade over the pipeline (:mod:`iisbitness.scan.pipeline`) and the PE walker
(:mod:`iisbitness.pe.walk`); docs/ and the benchmarks import from here.
"""

from __future__ import annotations

from iisbitness.pe.walk import InspectedFile, inspect_paths
from iisbitness.report import Report
from iisbitness.scan.collect import Collection, collect, scan_collected
from iisbitness.scan.pipeline import ScanOptions, run_rules, scan

__all__ = ["Collection", "InspectedFile", "Report", "ScanOptions", "collect", "inspect_paths", "run_rules", "scan",
           "scan_collected"]
