"""The rules, listed explicitly. Each is a pure function of a :class:`iisbitness.loadplan.LoadPlan`
with a permanent kebab-case id and a ``.md`` page beside it (``docs/rules/<id>.md``)."""

from __future__ import annotations

from iisbitness.findings import Rule
from iisbitness.rules.aspnetcore_inprocess_arch import aspnetcore_inprocess_arch
from iisbitness.rules.aspnetcore_multiple_inprocess import aspnetcore_multiple_inprocess
from iisbitness.rules.aspnetcore_runtime_missing import aspnetcore_runtime_missing
from iisbitness.rules.bin_reference_assembly import bin_reference_assembly
from iisbitness.rules.binary_invalid import binary_invalid
from iisbitness.rules.binary_missing import binary_missing
from iisbitness.rules.com_inproc_arch import com_inproc_arch
from iisbitness.rules.compression_scheme_arch import compression_scheme_arch
from iisbitness.rules.gac_assembly_arch import gac_assembly_arch
from iisbitness.rules.global_module_arch import global_module_arch
from iisbitness.rules.handler_module_skipped import handler_module_skipped
from iisbitness.rules.iis6_extension_arch import iis6_extension_arch
from iisbitness.rules.iis6_filter_arch import iis6_filter_arch
from iisbitness.rules.iis6_isolation_wow64 import iis6_isolation_wow64
from iisbitness.rules.iis6_os_version import iis6_os_version
from iisbitness.rules.iis_manager_32bit_assembly import iis_manager_32bit_assembly
from iisbitness.rules.isapi_extension_arch import isapi_extension_arch
from iisbitness.rules.isapi_filter_arch import isapi_filter_arch
from iisbitness.rules.isapi_not_allowed import isapi_not_allowed
from iisbitness.rules.managed_assembly_arch import managed_assembly_arch
from iisbitness.rules.native_library_arch import native_library_arch
from iisbitness.rules.pool_arch_conflict import pool_arch_conflict
from iisbitness.rules.pool_undefined import pool_undefined

RULES: tuple[Rule, ...] = (
    global_module_arch,
    isapi_filter_arch,
    isapi_extension_arch,
    managed_assembly_arch,
    bin_reference_assembly,
    gac_assembly_arch,
    iis_manager_32bit_assembly,
    pool_arch_conflict,
    pool_undefined,
    binary_missing,
    binary_invalid,
    iis6_isolation_wow64,
    iis6_filter_arch,
    iis6_extension_arch,
    iis6_os_version,
    aspnetcore_inprocess_arch,
    aspnetcore_multiple_inprocess,
    aspnetcore_runtime_missing,
    native_library_arch,
    com_inproc_arch,
    isapi_not_allowed,
    compression_scheme_arch,
    handler_module_skipped,
)
"""Every rule, in report order."""
