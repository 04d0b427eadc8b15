"""Scan an IIS 6 server: MetaBase.xml -> :class:`Iis6Server` -> IIS 6 load plan -> rules -> verified fixes -> Report.

Chosen by :func:`iisbitness.api.scan` when the image has no applicationHost.config but has
``Windows/System32/inetsrv/MetaBase.xml``, or when ``--config`` names a metabase (by content).
Only rules that understand an IIS 6 plan run: the ``iis6-*`` rules and the generic
``binary-missing`` / ``binary-invalid``; the IIS 7+ rules' fixes (appcmd, preConditions, per-pool
bitness) do not exist on IIS 6.
"""

from __future__ import annotations

import ntpath
from pathlib import Path
from typing import TYPE_CHECKING

from iisbitness.arch import Arch
from iisbitness.config.metabase import find_metabase, is_metabase, read_iis6
from iisbitness.findings import Finding, Rule
from iisbitness.fixes import iis6 as fixes6
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan import PlanContext
from iisbitness.loadplan_iis6 import Iis6LoadPlan, build_iis6
from iisbitness.model import Problem
from iisbitness.model_iis6 import Iis6Server
from iisbitness.report import PoolSummary, Report, ServerSummary

if TYPE_CHECKING:
    from iisbitness.api import ScanOptions

GENERIC_RULES = frozenset({"binary-missing", "binary-invalid"})
"""Rules that read only loads and apply to IIS 6 plans as they are."""


def applies_to_iis6(r: Rule) -> bool:
    """True for the rules run on an IIS 6 plan."""
    return r.id.startswith("iis6-") or r.id in GENERIC_RULES


def metabase_source(img: ServerImage, config: Path | None) -> tuple[Path, str] | None:
    """The metabase to read, or None for an IIS 7+ scan.

    ``--config`` decides by content; without it, an image with applicationHost.config stays IIS 7+
    and one with only MetaBase.xml is IIS 6.
    """
    if config is not None:
        return (config, str(config)) if is_metabase(config) else None
    from iisbitness.config.apphost import APPHOST

    found = img.locate(APPHOST)
    if found.host_path is not None and found.host_path.is_file():
        return None
    return find_metabase(img)


def _run(plan: Iis6LoadPlan, rules: tuple[Rule, ...], problems: list[Problem] | None) -> list[Finding]:
    from iisbitness.api import run_rules

    return run_rules(plan, rules, problems)


def scan_iis6(img: ServerImage, source: tuple[Path, str], os_arch: Arch, os_from: str, options: ScanOptions,
              image_label: str) -> Report:
    """Read, plan, check and verify an IIS 6 server.

    Raises:
        ConfigError: the metabase is unreadable or malformed (names file and line).
    """
    if options.progress:
        options.progress("reading MetaBase.xml")
    server = read_iis6(source[0], source[1], os_arch, os_from)
    rules = tuple(r for r in options.rules if applies_to_iis6(r))
    ctx = PlanContext(img, dict(options.env))
    plan = build_iis6(server, ctx)
    problems: list[Problem] = list(server.problems) + list(plan.problems)
    findings = _run(plan, rules, problems)
    if options.progress:
        options.progress("verifying fixes")
    findings = fixes6.verify(findings, server, lambda s: _run(build_iis6(s, ctx), rules, None))
    return Report(
        server=ServerSummary("iis6", image_label, server.config_file, server.os_arch, server.os_arch_from,
                             plan.config_only),
        pools=tuple(_pool_summary(server, plan, p.name) for p in plan.server.pools),
        findings=tuple(findings),
        problems=tuple(dict.fromkeys(problems)),
        rules=tuple(r.id for r in rules),
    )


def _pool_summary(server: Iis6Server, plan: Iis6LoadPlan, name: str) -> PoolSummary:
    pool = plan.server.pool(name)
    assert pool is not None
    arch = server.worker_arch
    folder = "SysWOW64" if arch is Arch.X86 and server.os_arch.is_64bit else "System32"
    process = ("(IIS 5 isolation mode: no worker; inetinfo.exe)" if server.iis5_mode
               else ntpath.join("%windir%", folder, "inetsrv", "w3wp.exe"))
    return PoolSummary(pool.name, arch, pool.enable_32bit_app_on_win64, pool.enable_32bit_from,
                       pool.managed_runtime_version, pool.pipeline_mode.value,
                       tuple(a.label for a in plan.server.applications_in(pool)), process, name in plan.idle_pools)
