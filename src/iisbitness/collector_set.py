"""The collectors run for every worker process, listed explicitly, in order.

A separate module so that collector modules can import :mod:`iisbitness.collectors` helpers
without a cycle, and the full list stays readable in one place.
"""

from __future__ import annotations

from iisbitness.collectors import (
    collect_bin,
    collect_global_modules,
    collect_isapi_extensions,
    collect_isapi_filters,
)
from iisbitness.collectors_aspnetcore import collect_aspnetcore
from iisbitness.collectors_com import collect_com
from iisbitness.collectors_native import collect_native_layouts
from iisbitness.loadplan import Collector

COLLECTORS: tuple[Collector, ...] = (
    collect_global_modules,
    collect_isapi_filters,
    collect_isapi_extensions,
    collect_bin,
    collect_aspnetcore,
    collect_com,
    collect_native_layouts,
)
"""Every collector run for each worker process, in order."""
