"""bin-reference-assembly: a reference assembly in an application's ``bin``, which no process can run.

A reference assembly (``System.Runtime.CompilerServices.ReferenceAssemblyAttribute``: a compiler's ``obj\\ref``
output, a NuGet package's ``ref\\`` folder, the ``Reference Assemblies`` folder) holds metadata only. The CLR refuses to
load one for execution in any process, whatever its header's architecture: BadImageFormatException, "Cannot load a
reference assembly for execution" (COR_E_LOADING_REFERENCE_ASSEMBLY, 0x80131058) ("BadImageFormatException Class",
learn.microsoft.com: "You are trying to load a reference assembly in a context other than the reflection-only
context ... You can load the implementation assembly rather than the reference assembly"; facts I9, whose "skip
them" does not hold for a ``bin``). ASP.NET loads every ``bin`` assembly at start (``<add assembly="*"/>``) and
ignores only COR_E_ASSEMBLYEXPECTED (0x80131018) there: any other failure stops the application (the facts sheet's
correction C2, not its C2 on preConditions; referencesource System.Web/Configuration/CompilationSection.cs
``LoadAssemblyHelper``). So it is an error, of the build that was deployed, not of bitness: no pool architecture
helps, and the fix is to deploy the implementation assembly (publish the project, ``dotnet publish`` or Visual
Studio's Publish, rather than copying ``obj\\ref`` or a package's ``ref\\`` folder). One finding per
application's ``bin`` file (each application is an AppDomain of its own that loads its ``bin``, facts D5); not for
IIS Manager's copy of the load.
"""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.loadplan.plan import BinFile, LoadKind, LoadPlan

DEPLOY_FIX = Fix(
    "Deploy the implementation assembly in its place: publish the project (dotnet publish, or Visual Studio's Publish) "
    "and copy its output folder, never a compiler's obj\\ref output or a NuGet package's ref\\ folder.",
    "deploy the implementation assembly",
    note=("A reference assembly holds metadata only; the package's lib\\ folder (or the project's bin\\<Configuration> "
          "output) holds the one that runs. No configuration change helps: nothing to verify."))
"""The advice every finding of this rule gives (nothing the model holds changes: ``verified`` None)."""


@rule("bin-reference-assembly", Severity.ERROR, "A reference assembly in bin: the CLR refuses to run it")
def bin_reference_assembly(plan: LoadPlan) -> Iterator[Finding]:
    """The application fails at start with BadImageFormatException 0x80131058, whatever its process's architecture."""
    seen: set[tuple[str, ...]] = set()
    for load in plan.loads:
        if load.kind is not LoadKind.BIN_ASSEMBLY or not isinstance(load.entry, BinFile) or not load.entry.reference:
            continue
        key = (load.site or "", load.application or "", load.name.lower())
        if key in seen:
            continue
        seen.add(key)
        stem = load.name.rsplit(".", 1)[0]
        yield Finding.for_load(
            load, bin_reference_assembly.id, bin_reference_assembly.severity,
            f"{load.site}{load.application} fails at start with System.BadImageFormatException: \"Could not load file "
            f"or assembly '{stem}' or one of its dependencies. Cannot load a reference assembly for execution.\" "
            "(HRESULT 0x80131058), whatever the architecture of the process that runs it.",
            f"bin\\{load.name} is a reference assembly (ReferenceAssemblyAttribute): metadata only, which the CLR "
            "refuses to load for execution in any process, whatever its header's architecture. ASP.NET loads every "
            "bin assembly at start, and a failure other than 0x80131018 stops the application. Not a bitness "
            "problem: the implementation assembly was not deployed.",
            (DEPLOY_FIX,))
