"""The collectors run for every worker process, listed explicitly, in order (capa's ``FILE_HANDLERS`` style).

Each collector turns one part of the configuration into what one worker process loads, and returns
loads, skipped loads (with the reason) and problems; none writes to the planning context.
"""

from __future__ import annotations

from iisbitness.loadplan.collectors.aspnetcore import collect_aspnetcore
from iisbitness.loadplan.collectors.bin import collect_bin
from iisbitness.loadplan.collectors.com import collect_com
from iisbitness.loadplan.collectors.extensions import collect_isapi_extensions
from iisbitness.loadplan.collectors.filters import collect_isapi_filters
from iisbitness.loadplan.collectors.gac import collect_gac
from iisbitness.loadplan.collectors.modules import collect_global_modules
from iisbitness.loadplan.context import Collector

COLLECTORS: tuple[Collector, ...] = (
    collect_global_modules,
    collect_isapi_filters,
    collect_isapi_extensions,
    collect_bin,
    collect_gac,
    collect_aspnetcore,
    collect_com,
)
"""Every collector run for each worker process, in order."""
