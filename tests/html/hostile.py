"""A report whose every name is markup, for escaping tests (no scan: formats read only a Report)."""

from __future__ import annotations

from iisbitness.arch import Arch
from iisbitness.findings import Finding, Fix, RejectedFix, RuleId, Severity
from iisbitness.loadplan.plan import Evidence
from iisbitness.model.source import ConfigSource, Problem
from iisbitness.report import PoolSummary, Report, ServerSummary

EVIL = "<script>alert('x')</script>"
"""Where a name is shown, this must appear as text."""


def hostile_report() -> Report:
    """A pool, site, binary, fix and problem named with :data:`EVIL`."""
    pool = f"Pool{EVIL}"
    finding = Finding(
        rule=RuleId("global-module-arch"), severity=Severity.ERROR, evidence=Evidence.READ,
        pool=pool, site=f"Site{EVIL}", application="/", process="w3wp.exe", process_arch=Arch.X64,
        binary=f"C:\\x\\{EVIL}.dll", resolved=f"x/{EVIL}.dll", binary_arch=(Arch.X86,),
        config=ConfigSource(f"web{EVIL}.config", 3), symptom=f"HTTP 503 in pool '{pool}' {EVIL}",
        cause=f"because {EVIL}", fixes=(Fix(summary=f"fix {EVIL}", label=f"label {EVIL}", commands=(f"appcmd {EVIL}",),
                                            powershell=(f"Set-Item {EVIL}",), verified=True, note=EVIL),),
        rejected_fixes=(RejectedFix(EVIL, EVIL),),
    )
    return Report(
        server=ServerSummary(kind="iis7+", image=f"/img/{EVIL}", config_file=f"apphost{EVIL}.config",
                             os_arch=Arch.X64, os_arch_from=EVIL, config_only=False),
        pools=(PoolSummary(name=pool, worker_arch=Arch.X64, enable_32bit_app_on_win64=False,
                           enable_32bit_from="pool", managed_runtime_version=EVIL, pipeline_mode="Integrated",
                           applications=(f"Site{EVIL}/",), process="w3wp.exe", idle=False),),
        findings=(finding,), problems=(Problem(f"bad{EVIL}.config", 1, EVIL),), rules=("global-module-arch",),
    )
