"""The IIS Express backend: a Visual Studio solution on a developer machine (iis-express-facts.md).

Same pipeline, same rules as a server; what differs is who loads: one ``iisexpress.exe`` per project, at
the bitness the project (or Visual Studio) asks for, rather than a ``w3wp.exe`` per pool
(:mod:`iisbitness.loadplan.iisexpress`); and how to fix it: the project's ``Use64BitIISExpress``, the
launch profile's ``use64Bit`` (:mod:`iisbitness.fixes.iisexpress`), verified on a copy like any fix.

Rules that do not apply: the ``iis6-*`` ones; ``pool-arch-conflict`` (each project has its own process,
and the fix is a project setting, not a pool split); ``iis-manager-32bit-assembly`` (no IIS Manager).
"""

from __future__ import annotations

import ntpath
from dataclasses import dataclass

from iisbitness.arch import Arch
from iisbitness.errors import FixError
from iisbitness.findings import Rule
from iisbitness.fixes.plan import FileChange, Read, plan_changes
from iisbitness.fixes.verify import Breakage
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.iisexpress import IISEXPRESS, build_iisexpress
from iisbitness.loadplan.plan import LoadPlan
from iisbitness.model.edits import Edit, SetIisExpressArch, apply_all_iisexpress
from iisbitness.model.iisexpress import IisExpressProject, IisExpressWorkspace
from iisbitness.model.source import Problem
from iisbitness.report import PoolSummary, ProjectSummary, ServerSummary

KIND = "iisexpress"
NOT_APPLICABLE = frozenset({"pool-arch-conflict", "iis-manager-32bit-assembly", "pool-undefined"})
"""Rules that never apply to an IIS Express workspace: a pool's one bitness for its applications, IIS Manager's
console, and an undefined pool that WAS would leave without a worker (IIS Express has no WAS: F4.1)."""


def iisexpress_path(arch: Arch, os_arch: Arch) -> str:
    """The ``iisexpress.exe`` of ``arch`` (F1.1, F1.2): ``Program Files (x86)\\IIS Express`` for x86 on 64-bit
    Windows, else ``Program Files\\IIS Express`` (on ARM64 the machine type of that one is UNCONFIRMED, F1.7)."""
    folder = "C:\\Program Files (x86)" if arch is Arch.X86 and os_arch.is_64bit else "C:\\Program Files"
    return ntpath.join(folder, "IIS Express", IISEXPRESS)


@dataclass(frozen=True, slots=True)
class IisExpressBackend:
    """A solution's IIS Express configuration and its projects' ``iisexpress.exe`` bitness."""

    workspace: IisExpressWorkspace

    @property
    def breakage(self) -> Breakage:
        """Reject: a fix that breaks another load of the project is not offered (its finding stays)."""
        return Breakage.REJECT

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Problems reading applicationhost.config, web.config files, project files and launch settings."""
        return self.workspace.server.problems + self.workspace.problems

    @property
    def os_assumed(self) -> bool:
        """The workspace's server's :attr:`~iisbitness.model.iis7.Server.os_arch_assumed`."""
        return self.workspace.server.os_arch_assumed

    def applies(self, rule: Rule) -> bool:
        """Every rule but the IIS 6 ones and :data:`NOT_APPLICABLE`."""
        return not rule.id.startswith("iis6-") and rule.id not in NOT_APPLICABLE

    def plan(self, ctx: PlanContext, pools: frozenset[str] | None = None) -> LoadPlan:
        """:func:`iisbitness.loadplan.iisexpress.build_iisexpress` of the workspace (every project: ``pools`` is
        only a hint)."""
        return build_iisexpress(self.workspace, ctx)

    def edited(self, edits: tuple[Edit, ...]) -> IisExpressBackend:
        """A copy with the project bitness (and any applicationhost.config) edits made."""
        return IisExpressBackend(apply_all_iisexpress(self.workspace, edits))

    def changes(self, edits: tuple[Edit, ...], read: Read) -> list[FileChange]:
        """The solution's applicationhost.config changes; a project setting (``Use64BitIISExpress``,
        ``use64Bit``) is the developer's to change in Visual Studio, so ``fix`` does not write it.

        Raises:
            FixError: ``edits`` change a project's IIS Express bitness (named with its file and line).
        """
        for e in edits:
            if isinstance(e, SetIisExpressArch):
                raise FixError(f"{e.project}: the project's IIS Express bitness is set in the project, not in the IIS "
                               "configuration; change it as the fix says, then run the scan again")
        return plan_changes(self.workspace.server, edits, read)

    def server_summary(self, image_label: str, plan: LoadPlan) -> ServerSummary:
        """The server block: kind ``iisexpress``; the configuration and why it was chosen."""
        s = self.workspace.server
        return ServerSummary(KIND, image_label, f"{s.config_file} ({self.workspace.config_from})", s.os_arch,
                             s.os_arch_from, plan.config_only)

    def pool_summaries(self, plan: LoadPlan) -> tuple[PoolSummary, ...]:
        """One row per project's ``iisexpress.exe`` (pool as configured; its enable32BitAppOnWin64 has no effect, F4.1)."""
        s = self.workspace.server
        rows: list[PoolSummary] = []
        for p in self.workspace.projects:
            site = next((x for x in s.sites if x.name == p.site), None)
            root = next((a for a in site.applications if a.path == "/"), None) if site is not None else None
            pool = s.pool(root.pool) if root is not None else None
            if site is None or pool is None:
                continue
            rows.append(PoolSummary(pool.name, p.arch, p.arch is Arch.X86, f"project '{p.name}': {p.reason}",
                                    pool.managed_runtime_version, pool.pipeline_mode.value,
                                    tuple(a.label for a in site.applications), iisexpress_path(p.arch, s.os_arch), False,
                                    site=p.site))
        return tuple(rows)

    def project_summaries(self) -> tuple[ProjectSummary, ...]:
        """The report's IIS Express block: each project, its ``iisexpress.exe``, and how that was decided."""
        return tuple(_summary(p, self.workspace) for p in self.workspace.projects)


def _summary(p: IisExpressProject, ws: IisExpressWorkspace) -> ProjectSummary:
    s = ws.server
    site = next((x for x in s.sites if x.name == p.site), None)
    root = next((a for a in site.applications if a.path == "/"), None) if site is not None else None
    return ProjectSummary(p.name, p.project_file, p.kind.value, p.site, root.pool if root is not None else "",
                          p.arch, iisexpress_path(p.arch, s.os_arch), p.arch_from.value, p.arch_from.assumed,
                          p.reason, p.switch.value, str(p.switch_at), p.output_note)
