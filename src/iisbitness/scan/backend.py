"""One interface for both IIS generations (pip-audit's ``DependencySource`` shape).

A :class:`Backend` holds one server model as read from its configuration and knows how to plan
it, which rules apply to it, how to make a fix's edits on a copy, how to treat a fix that breaks
something else, and how to summarise it for the report. :mod:`iisbitness.scan.pipeline` runs the
same steps for either and never asks which it was given.

- :class:`Iis7Backend`: applicationHost.config + web.config (IIS 7 and later). Every rule runs;
  the ``iis6-*`` rules find nothing on an IIS 7+ plan.
- :class:`~iisbitness.scan.iisexpress.IisExpressBackend` (its own module): IIS Express under Visual
  Studio, one ``iisexpress.exe`` per project.
- :class:`Iis6Backend`: MetaBase.xml (IIS 6). Only rules that understand an IIS 6 plan run: the
  ``iis6-*`` rules and the generic ones (``binary-missing``, ``binary-invalid``, ``managed-assembly-arch`` for the
  ``bin`` of ASP.NET applications, with IIS 6 fixes); the IIS 7+ rules' fixes (appcmd, preConditions, per-pool
  bitness) do not exist on IIS 6.
"""

from __future__ import annotations

import ntpath
from dataclasses import dataclass
from typing import Protocol

from iisbitness.arch import Arch
from iisbitness.findings import Rule
from iisbitness.fixes.plan import FileChange, Read, plan_changes
from iisbitness.fixes.verify import Breakage
from iisbitness.loadplan.build import build
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.iis6 import build_iis6
from iisbitness.loadplan.plan import LoadPlan
from iisbitness.model.edits import Edit, apply_all, apply_all_iis6
from iisbitness.model.iis6 import Iis6Server
from iisbitness.model.iis7 import GlobalModule, Server
from iisbitness.model.source import Problem
from iisbitness.report import PoolSummary, ProjectSummary, ServerSummary

GENERIC_RULES = frozenset({"binary-missing", "binary-invalid", "isapi-not-allowed", "pool-undefined",
                           "managed-assembly-arch"})
"""Rules that read only loads (or the projected pools) and apply to IIS 6 plans as they are (``managed-assembly-arch``
with IIS 6's own fixes for an IIS 6 plan: an ASP.NET application's ``bin``)."""


class Backend(Protocol):
    """A server model of one IIS generation, and what the pipeline needs of it."""

    @property
    def breakage(self) -> Breakage:
        """How verification treats a fix that clears its finding but breaks something else."""
        ...

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What could not be read from the configuration (file and line)."""
        ...

    @property
    def os_assumed(self) -> bool:
        """True when the server's OS architecture is only assumed (a :class:`PlanContext`'s ``os_assumed``)."""
        ...

    def applies(self, rule: Rule) -> bool:
        """True when ``rule`` is run on this generation's plans."""
        ...

    def plan(self, ctx: PlanContext, pools: frozenset[str] | None = None) -> LoadPlan:
        """The load plan of the model; with ``pools`` (lower-case names) it may hold only those pools' loads,
        skipped loads and outlooks (fix verification re-analyses just the pools a fix touches)."""
        ...

    def edited(self, edits: tuple[Edit, ...]) -> Backend:
        """The same backend over a copy of the model with ``edits`` made (nothing is written)."""
        ...

    def changes(self, edits: tuple[Edit, ...], read: Read) -> list[FileChange]:
        """The configuration file changes that make ``edits`` (nothing is written).

        Raises:
            FixError: an element is not where the model read it, or a result would not parse.
        """
        ...

    def server_summary(self, image_label: str, plan: LoadPlan) -> ServerSummary:
        """The report's server block."""
        ...

    def pool_summaries(self, plan: LoadPlan) -> tuple[PoolSummary, ...]:
        """The report's pool table, in configuration order."""
        ...

    def project_summaries(self) -> tuple[ProjectSummary, ...]:
        """IIS Express: the Visual Studio projects and their iisexpress.exe; empty for servers."""
        ...


def iisexpress_modules(server: Server) -> list[GlobalModule]:
    """The global modules of ``server`` under ``%IIS_BIN%`` when they are most of its modules: its configuration is IIS
    Express's, read as a server's (only iisexpress.exe sets %IIS_BIN%, facts A10; most of the modules, not one line
    pasted into a server's file, as in a corpus configuration); else ``[]``."""
    express = [m for m in server.global_modules if m.image.strip().lower().startswith("%iis_bin%")]
    return express if len(express) * 2 > len(server.global_modules) else []


def _w3wp(arch: Arch, os_arch: Arch) -> str:
    folder = "SysWOW64" if arch is Arch.X86 and os_arch.is_64bit else "System32"
    return ntpath.join("%windir%", folder, "inetsrv", "w3wp.exe")


@dataclass(frozen=True, slots=True)
class Iis7Backend:
    """IIS 7+: one worker per application pool, each at its own architecture (facts A4-A7)."""

    server: Server

    @property
    def breakage(self) -> Breakage:
        """Reject: a per-pool or per-application fix is always there instead."""
        return Breakage.REJECT

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Problems met reading applicationHost.config and the web.config files."""
        return self.server.problems

    @property
    def os_assumed(self) -> bool:
        """:attr:`Server.os_arch_assumed <iisbitness.model.iis7.Server.os_arch_assumed>`."""
        return self.server.os_arch_assumed

    def applies(self, rule: Rule) -> bool:
        """Every rule."""
        return True

    def plan(self, ctx: PlanContext, pools: frozenset[str] | None = None) -> LoadPlan:
        """:func:`iisbitness.loadplan.build.build` of the server (of ``pools`` only, when given)."""
        return build(self.server, ctx, pools=pools)

    def edited(self, edits: tuple[Edit, ...]) -> Iis7Backend:
        """A copy with the IIS 7+ edits made."""
        return Iis7Backend(apply_all(self.server, edits))

    def project_summaries(self) -> tuple[ProjectSummary, ...]:
        """None: a server has no Visual Studio projects."""
        return ()

    def changes(self, edits: tuple[Edit, ...], read: Read) -> list[FileChange]:
        """applicationHost.config and web.config changes (:func:`iisbitness.fixes.plan.plan_changes`)."""
        return plan_changes(self.server, edits, read)

    def server_summary(self, image_label: str, plan: LoadPlan) -> ServerSummary:
        """The server block: kind ``iis7+``."""
        s = self.server
        return ServerSummary(s.kind.value, image_label, s.config_file, s.os_arch, s.os_arch_from, plan.config_only,
                             iisexpress_config=bool(iisexpress_modules(s)),
                             inferred=() if plan.config_only else plan.inferred_paths(),
                             shared_config=s.shared_config)

    def pool_summaries(self, plan: LoadPlan) -> tuple[PoolSummary, ...]:
        """One row per application pool."""
        s = self.server
        idle = frozenset(plan.idle_pools)  # NOTE: a set: a pool row looked up in a tuple of every idle pool was quadratic
        return tuple(
            PoolSummary(p.name, p.worker_arch(s.os_arch), p.enable_32bit_app_on_win64, p.enable_32bit_from,
                        p.managed_runtime_version, p.pipeline_mode.value,
                        tuple(a.label for a in s.applications_in(p)), _w3wp(p.worker_arch(s.os_arch), s.os_arch),
                        p.name in idle, p.declared, s.manual_start(p) if p.declared else None)
            for p in s.pools)


@dataclass(frozen=True, slots=True)
class Iis6Backend:
    """IIS 6: one server-wide worker bitness, or IIS 5 isolation mode with inetinfo.exe (facts G4, G5)."""

    server: Iis6Server

    @property
    def breakage(self) -> Breakage:
        """Offer unverified: the switch is all or nothing, there is no narrower fix to offer instead."""
        return Breakage.OFFER_UNVERIFIED

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Problems met reading MetaBase.xml."""
        return self.server.problems

    @property
    def os_assumed(self) -> bool:
        """:attr:`Iis6Server.os_arch_assumed <iisbitness.model.iis6.Iis6Server.os_arch_assumed>`."""
        return self.server.os_arch_assumed

    def applies(self, rule: Rule) -> bool:
        """The ``iis6-*`` rules and the generic ones."""
        return rule.id.startswith("iis6-") or rule.id in GENERIC_RULES

    def plan(self, ctx: PlanContext, pools: frozenset[str] | None = None) -> LoadPlan:
        """:func:`iisbitness.loadplan.iis6.build_iis6` of the server (every pool: ``pools`` is only a hint)."""
        return build_iis6(self.server, ctx)

    def edited(self, edits: tuple[Edit, ...]) -> Iis6Backend:
        """A copy with the IIS 6 edits made."""
        return Iis6Backend(apply_all_iis6(self.server, edits))

    def project_summaries(self) -> tuple[ProjectSummary, ...]:
        """None: a server has no Visual Studio projects."""
        return ()

    def changes(self, edits: tuple[Edit, ...], read: Read) -> list[FileChange]:
        """MetaBase.xml changes (:func:`iisbitness.fixes.plan.plan_changes`)."""
        return plan_changes(self.server, edits, read)

    def server_summary(self, image_label: str, plan: LoadPlan) -> ServerSummary:
        """The server block: kind ``iis6``."""
        s = self.server
        return ServerSummary("iis6", image_label, s.config_file, s.os_arch, s.os_arch_from, plan.config_only,
                             inferred=() if plan.config_only else plan.inferred_paths())

    def pool_summaries(self, plan: LoadPlan) -> tuple[PoolSummary, ...]:
        """One row per application pool; in IIS 5 isolation mode no pool has a worker."""
        s = self.server
        process = ("(IIS 5 isolation mode: no worker; inetinfo.exe)" if s.iis5_mode
                   else _w3wp(s.worker_arch, s.os_arch))
        idle = frozenset(plan.idle_pools)
        return tuple(
            PoolSummary(p.name, s.worker_arch, p.enable_32bit_app_on_win64, p.enable_32bit_from,
                        p.managed_runtime_version, p.pipeline_mode.value,
                        tuple(a.label for a in plan.server.applications_in(p)), process, p.name in idle,
                        p.declared or s.iis5_mode)
            for p in plan.server.pools)
