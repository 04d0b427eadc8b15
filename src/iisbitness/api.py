"""The library API: ``scan(...) -> Report``.

sources (image, config) -> model (Server) -> LoadPlan -> rules -> verified findings -> Report.
"""

from __future__ import annotations

import logging
import ntpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.findings import Finding, Rule
from iisbitness.fixes.verify import verify
from iisbitness.image.detect import detect_os_arch
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan import LoadPlan, PlanContext, build
from iisbitness.model import Problem, Server
from iisbitness.report import PoolSummary, Report, ServerSummary
from iisbitness.rules import RULES
from iisbitness.scan_iis6 import metabase_source, scan_iis6

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class ScanOptions:
    """Options of a scan.

    Attributes:
        os_arch: force the OS architecture (else detected from the image).
        drives: extra drive letters, ``{"D": Path(...)}``.
        config: an explicit applicationHost.config to read instead of the image's.
        env: environment variables the server sets (``--env NAME=VALUE``).
        rules: the rules to run (default: all).
        progress: called with short status lines during long scans.
    """

    os_arch: Arch | None = None
    drives: dict[str, Path] = field(default_factory=dict)
    config: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    rules: tuple[Rule, ...] = RULES
    progress: Progress | None = None


def run_rules(plan: LoadPlan, rules: tuple[Rule, ...], problems: list[Problem] | None = None) -> list[Finding]:
    """Run ``rules`` on ``plan``; a rule that crashes is reported in ``problems`` and the rest go on."""
    out: list[Finding] = []
    for r in rules:
        try:
            out.extend(r.check(plan))
        except Exception as e:  # noqa: BLE001 - one broken rule must not hide the others
            log.exception("rule %s failed", r.id)
            if problems is not None:
                problems.append(Problem("(iisbitness)", None, f"rule {r.id} failed: {type(e).__name__}: {e}"))
    return sorted(out, key=lambda f: f.sort_key)


def open_image(image: Path | None, options: ScanOptions) -> ServerImage:
    """The server image at ``image``, or the live system when ``image`` is None."""
    if image is None:
        return ServerImage.live_system()
    return ServerImage.offline(image, options.drives)


def scan(image: Path | None, options: ScanOptions | None = None) -> Report:
    """Scan a server image (or the live server when ``image`` is None, on Windows).

    Raises:
        ServerImageError: no configuration found. ConfigError: applicationHost.config (or the IIS 6
            MetaBase.xml) unusable.
    """
    options = options or ScanOptions()
    img = open_image(image, options)
    if options.os_arch is not None:
        os_arch, os_from = options.os_arch, "--os-arch"
    else:
        os_arch, os_from = detect_os_arch(img)
    metabase = metabase_source(img, options.config)  # IIS 6 (issue 4): no applicationHost.config, or --config names one
    if metabase is not None:
        return scan_iis6(img, metabase, os_arch, os_from, options, str(image) if image is not None else "live")
    server = read_server(img, os_arch, os_from, options.config, options.progress)
    return analyse(server, img, options, str(image) if image is not None else "live")


def analyse(server: Server, img: ServerImage, options: ScanOptions, image_label: str) -> Report:
    """Plan, run the rules, verify fixes and build the report for an already-read server."""
    ctx = PlanContext(img, dict(options.env))
    if options.progress:
        options.progress("reading binaries")
    plan = build(server, ctx)
    problems: list[Problem] = list(server.problems) + list(plan.problems)
    findings = run_rules(plan, options.rules, problems)
    if options.progress:
        options.progress("verifying fixes")
    findings = verify(findings, server, ctx, lambda s, c: run_rules(build(s, c), options.rules))
    return Report(
        server=ServerSummary(server.kind.value, image_label, server.config_file, server.os_arch, server.os_arch_from,
                             plan.config_only),
        pools=tuple(_pool_summary(server, p.name, plan) for p in server.pools),
        findings=tuple(findings),
        problems=tuple(dict.fromkeys(problems)),
        rules=tuple(r.id for r in options.rules),
    )


def _pool_summary(server: Server, name: str, plan: LoadPlan) -> PoolSummary:
    pool = server.pool(name)
    assert pool is not None
    arch = pool.worker_arch(server.os_arch)
    folder = "SysWOW64" if arch is Arch.X86 and server.os_arch.is_64bit else "System32"
    return PoolSummary(pool.name, arch, pool.enable_32bit_app_on_win64, pool.enable_32bit_from,
                       pool.managed_runtime_version, pool.pipeline_mode.value,
                       tuple(a.label for a in server.applications_in(pool)),
                       ntpath.join("%windir%", folder, "inetsrv", "w3wp.exe"), pool.name in plan.idle_pools)
