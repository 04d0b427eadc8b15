"""The library API: ``scan(image, ScanOptions(...)) -> Report``, ``inspect_paths(paths) -> files``,
``collect(image, out, options)`` and ``with scan_collected(zip, options) as (report, logs)`` (docs/images.md).

A stable facade over the pipeline (:mod:`iisbitness.scan.pipeline`) and the PE walker
(:mod:`iisbitness.pe.walk`); docs/ and the benchmarks import from here.

NOTE: ``collect``, ``scan_collected``, ``Collection`` (:mod:`iisbitness.scan.collect`) and ``inspect_paths``,
``InspectedFile`` (:mod:`iisbitness.pe.walk`) are imported at their first use: a scan needs neither module
(issue 25: the start-up of ``iisbitness scan``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from iisbitness.report import Report
from iisbitness.scan.pipeline import ScanOptions, run_rules, scan

if TYPE_CHECKING:
    from iisbitness.pe.walk import InspectedFile, inspect_paths
    from iisbitness.scan.collect import Collection, collect, scan_collected

__all__ = ["Collection", "InspectedFile", "Report", "ScanOptions", "collect", "inspect_paths", "run_rules", "scan",
           "scan_collected"]

_LAZY = {"Collection": "iisbitness.scan.collect", "collect": "iisbitness.scan.collect",
         "scan_collected": "iisbitness.scan.collect", "InspectedFile": "iisbitness.pe.walk",
         "inspect_paths": "iisbitness.pe.walk"}
"""The names imported at their first use, and their modules."""


def __getattr__(name: str) -> Any:
    """``collect``, ``scan_collected``, ``Collection``, ``inspect_paths``, ``InspectedFile``, imported when first
    asked for (PEP 562). Raises AttributeError for any other name."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
