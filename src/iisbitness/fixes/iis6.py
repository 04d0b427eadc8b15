"""IIS 6 fixes: metabase edits, their adsutil.vbs / aspnet_regiis commands, and their verification.

On IIS 6 the worker bitness is server-wide (facts G4): switching it is all or nothing. So a
switch is verified like every fix (edit a copy of the model, re-plan, re-run the rules), but
where it would break something else it is still offered, with ``verified=False`` and the full
list of what it breaks in its note: there is no per-pool alternative to offer instead.

Commands (facts G6, G7; KB 895976, "Running 32-bit Applications on 64-bit Windows"):
``cscript %SystemDrive%\\Inetpub\\AdminScripts\\adsutil.vbs SET W3SVC/AppPools/Enable32bitAppOnWin64 1``
then ``%windir%\\Microsoft.NET\\Framework\\v2.0.50727\\aspnet_regiis.exe -i``; the reverse with
``0`` and the Framework64 copy. UNCONFIRMED: the AdminScripts folder (the default install
location is used) and that ``-enable`` marks the ASP.NET Web Service Extension Allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from iisbitness.arch import Arch
from iisbitness.findings import Finding, Fix, RejectedFix, Severity
from iisbitness.model_iis6 import Iis6App, Iis6Filter, Iis6Server, ScriptMap, WebSvcExt

if TYPE_CHECKING:
    from iisbitness.fixes.edits import Edit

ADSUTIL = "cscript %SystemDrive%\\Inetpub\\AdminScripts\\adsutil.vbs"
_ASPNET = re.compile(r"(\\Microsoft\.NET\\)(Framework(?:64)?)(\\(v[\d.]+)\\aspnet_(?:isapi|filter)\.dll)$", re.IGNORECASE)
_FOLDER = {Arch.X86: "Framework", Arch.X64: "Framework64"}


def aspnet_version(path: str) -> tuple[Arch, str] | None:
    """``(arch of the Framework folder, version folder)`` when ``path`` is ASP.NET's
    ``aspnet_isapi.dll``/``aspnet_filter.dll`` under ``Microsoft.NET\\Framework[64]``; else None."""
    m = _ASPNET.search(path.strip().strip('"'))
    if m is None:
        return None
    return (Arch.X64 if m.group(2).lower() == "framework64" else Arch.X86), m.group(4)


def regiis(arch: Arch, version: str) -> str:
    """The ``aspnet_regiis.exe -i -enable`` command of ``version`` from the ``arch`` Framework folder."""
    return f"%windir%\\Microsoft.NET\\{_FOLDER[arch]}\\{version}\\aspnet_regiis.exe -i -enable"


@dataclass(frozen=True, slots=True)
class SetWow64:
    """Set ``W3SVC/AppPools/Enable32bitAppOnWin64`` (every worker 32-bit when True)."""

    enabled: bool


@dataclass(frozen=True, slots=True)
class SetIsolation5:
    """Set ``W3SVC/IIs5IsolationModeEnabled``."""

    enabled: bool


@dataclass(frozen=True, slots=True)
class RegisterAspNet:
    """What ``aspnet_regiis -i -enable`` from the ``arch`` Framework folder leaves behind: every
    ASP.NET filter and script map points into that folder, and its aspnet_isapi.dll is allowed."""

    arch: Arch


Iis6Edit = SetWow64 | SetIsolation5 | RegisterAspNet


def _edits(*edits: Iis6Edit) -> tuple[Edit, ...]:
    """IIS 6 edits in a :class:`Fix`. NOTE: ``Fix.edits`` is typed with the IIS 7 edit union
    (fixes/edits.py, not ours to change); IIS 6 fixes are only ever applied by :func:`apply_all`
    here, never by the IIS 7 verifier, so the cast is safe."""
    return cast("tuple[Edit, ...]", edits)


def _to_folder(path: str, arch: Arch) -> str:
    m = _ASPNET.search(path)
    if m is None:
        return path
    return path[: m.start(2)] + _FOLDER[arch] + path[m.end(2):]


def apply(server: Iis6Server, edit: Iis6Edit) -> Iis6Server:
    """``server`` with ``edit`` made (a copy; nothing is written)."""
    if isinstance(edit, SetWow64):
        return replace(server, enable_32bit=edit.enabled, enable_32bit_from="/LM/W3SVC/AppPools")
    if isinstance(edit, SetIsolation5):
        return replace(server, isolation5=edit.enabled)

    def filt(f: Iis6Filter) -> Iis6Filter:
        return replace(f, path=_to_folder(f.path, edit.arch))

    def sm(s: ScriptMap) -> ScriptMap:
        return replace(s, processor=_to_folder(s.processor, edit.arch))

    def app(a: Iis6App) -> Iis6App:
        return replace(a, script_maps=tuple(sm(s) for s in a.script_maps))

    apps = tuple(app(a) for a in server.apps)
    allowed = {s.processor.lower() for a in apps for s in a.script_maps if aspnet_version(s.processor)}
    restrictions = server.restrictions
    if restrictions:
        kept = tuple(r for r in restrictions if r.path.lower() not in allowed)
        restrictions = kept + tuple(WebSvcExt(True, p, "ASP.NET", "ASP.NET") for p in sorted(allowed))
    return replace(server, global_filters=tuple(filt(f) for f in server.global_filters),
                   site_filters=tuple(filt(f) for f in server.site_filters), apps=apps, restrictions=restrictions)


def apply_all(server: Iis6Server, edits: Sequence[object]) -> Iis6Server:
    """``server`` with every IIS 6 edit made, in order (other edit types are ignored)."""
    for e in edits:
        if isinstance(e, SetWow64 | SetIsolation5 | RegisterAspNet):
            server = apply(server, e)
    return server


def aspnet_versions(server: Iis6Server) -> tuple[str, ...]:
    """ASP.NET versions registered (filters and script maps), e.g. ``("v2.0.50727",)``."""
    paths = [f.path for f in server.global_filters + server.site_filters]
    paths += [s.processor for a in server.apps for s in a.script_maps]
    found = {v[1] for p in paths if (v := aspnet_version(p)) is not None}
    return tuple(sorted(found)) or ("v2.0.50727",)


def switch_workers(server: Iis6Server, arch: Arch) -> Fix:
    """Fix: every w3wp.exe at ``arch`` (32-bit: Enable32bitAppOnWin64 1, else 0), plus ASP.NET
    re-registered from the matching Framework folder."""
    to32 = arch is Arch.X86
    versions = [v for v in aspnet_versions(server) if to32 or not v.lower().startswith("v1.")]
    cmds = [f"{ADSUTIL} SET W3SVC/AppPools/Enable32bitAppOnWin64 {1 if to32 else 0}"]
    cmds += [regiis(arch, v) for v in versions]
    cmds.append("iisreset")
    return Fix(
        summary=f"Run every IIS 6 worker process as {'32-bit (x86, WOW64)' if to32 else '64-bit'}: "
                f"Enable32bitAppOnWin64 {1 if to32 else 0} and ASP.NET from {_FOLDER[arch]}",
        commands=tuple(cmds),
        edits=_edits(SetWow64(to32), RegisterAspNet(arch)),
        note="IIS 6 runs all workers at one bitness: this affects every site and application pool. aspnet_regiis -i "
             "-enable re-registers ASP.NET's filter and script maps from that folder and allows its Web Service "
             "Extension (check in IIS Manager > Web Service Extensions)."
             + ("" if to32 else " ASP.NET 1.1 has no 64-bit build; applications on it must move to 2.0 first."),
    )


def worker_isolation() -> Fix:
    """Fix: leave IIS 5 isolation mode (filters and applications then run in w3wp.exe)."""
    return Fix(
        summary="Switch IIS to worker process isolation mode (IIs5IsolationModeEnabled 0)",
        commands=(f"{ADSUTIL} SET W3SVC/IIs5IsolationModeEnabled 0", "net stop http /y", "net start w3svc"),
        edits=_edits(SetIsolation5(False)),
        note="Applications that rely on IIS 5 mode (in-process state shared with inetinfo.exe, ISAPI filters that "
             "read raw data) must be tested first. 'net stop http /y' stops every service that uses HTTP.sys.",
    )


def reregister_aspnet(arch: Arch, version: str) -> Fix:
    """Fix: run ``aspnet_regiis -i`` from the Framework folder that matches the worker."""
    return Fix(
        summary=f"Register ASP.NET {version} from {_FOLDER[arch]} (the {arch.bits}-bit build) to match the "
                f"{arch.bits}-bit processes that load it",
        commands=(regiis(arch, version), "iisreset"),
        edits=_edits(RegisterAspNet(arch)),
        note="aspnet_regiis run from the other Framework folder registered the wrong build. On IIS 6 x64 each "
             "aspnet_regiis.exe works only in its own mode (facts G6).",
    )


RunRules6 = Callable[[Iis6Server], list[Finding]]


def _describe(f: Finding) -> str:
    where = f.site or f.pool or "server"
    return f"{f.rule} {f.binary or ''} ({f.process or ''} {f.process_arch.value if f.process_arch else ''}, {where})"


def verify(findings: Sequence[Finding], server: Iis6Server, run_rules: RunRules6) -> list[Finding]:
    """Return ``findings`` with each fix verified (see the module docstring for IIS 6's all-or-nothing switch).

    A fix whose edits leave the finding in place is moved to ``rejected_fixes``; one that clears it
    without any new warning or error is ``verified=True``; one that clears it but breaks other
    loads stays with ``verified=False`` and a note listing every one of them.
    """
    baseline = {f.key for f in findings}
    cache: dict[tuple[object, ...], list[Finding]] = {}
    out: list[Finding] = []
    for finding in findings:
        kept: list[Fix] = []
        rejected = list(finding.rejected_fixes)
        for fix in finding.fixes:
            if not fix.edits:
                kept.append(fix)
                continue
            if fix.edits not in cache:
                cache[fix.edits] = run_rules(apply_all(server, fix.edits))
            after = cache[fix.edits]
            if finding.key in {a.key for a in after}:
                rejected.append(RejectedFix(fix.summary, "re-analysis with this change still shows the problem"))
                continue
            new = [a for a in after if a.key not in baseline and a.severity >= Severity.WARNING]
            if not new:
                kept.append(replace(fix, verified=True))
                continue
            broken = "; ".join(dict.fromkeys(_describe(a) for a in new))
            note = (fix.note + " " if fix.note else "") + f"Re-analysis: this would also break: {broken}."
            kept.append(replace(fix, verified=False, note=note))
        out.append(replace(finding, fixes=tuple(kept), rejected_fixes=tuple(rejected)))
    return out
