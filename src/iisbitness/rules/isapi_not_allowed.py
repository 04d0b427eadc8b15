"""isapi-not-allowed: a handler's ISAPI extension that the restriction list refuses: HTTP 404.2, never loaded.

IIS 7+: the ISAPI and CGI Restrictions list (``system.webServer/security/isapiCgiRestriction``)
refuses an extension it sets ``allowed="false"`` or does not list while ``notListedIsapisAllowed`` is
false. IIS 6: ``WebSvcExtRestrictionList`` prohibits it. Either way the request gets HTTP 404.2 and
LoadLibrary is never called (KB 943891; "HTTP 404.2 - Not Found", iis-docs "isapiCgiRestriction").

A note, not an error: nothing fails to load. Where the DLL would not fit the worker either, the
note says so: allowing it would turn the 404.2 into a 500 ("%1 is not a valid Win32 application").
"""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import sort_arches
from iisbitness.findings import Finding, Severity, rule
from iisbitness.loadplan.plan import Evidence, LoadPlan, Skipped, SkipReason


def _bitness_note(s: Skipped) -> str:
    b = s.binary
    if b is None:
        return ""
    arches = b.arches
    if arches is None:
        return " Whether it would load once allowed is not known (its file is not in the image)." if b.missing else ""
    what = b.image.describe() if b.image is not None else f"built for {', '.join(a.value for a in sort_arches(arches))}"
    if s.process.arch in arches:
        return f" Once allowed, it loads: it is {what}."
    return (f" Allowing it is not enough: it is {what} and {s.process.describe()} cannot load it, so requests would "
            "then get HTTP 500 \"%1 is not a valid Win32 application\" (0x800700C1): the other build of the DLL is "
            "the one to allow.")


_404_2 = ("HTTP 404.2 (\"The page you are requesting cannot be served because of the ISAPI and CGI Restriction list "
          "settings on the Web server\")")


def _symptom(s: Skipped) -> str:
    """404.2 for the requests mapped to the handler; with preCondition tokens IIS does not document
    (:attr:`Skipped.undocumented_tokens`), only if IIS maps requests to it at all: preConditions are evaluated when
    requests are mapped (facts C7), before the restriction list, and what IIS does with a handler's token it does
    not know is not documented (W3SVC-WP event 2296 is documented for modules only)."""
    odd = s.undocumented_tokens
    if not odd:
        return f"Requests mapped to '{s.name}' get {_404_2}; the DLL is never loaded."
    return (f"If IIS maps requests to '{s.name}' at all, they get {_404_2}, and the DLL is never loaded; its "
            f"preCondition holds token{'s' if len(odd) != 1 else ''} {', '.join(odd)}, which IIS does not document, "
            "and what IIS does with a handler whose preCondition it does not know is not documented either.")


@rule("isapi-not-allowed", Severity.NOTE, "A mapped ISAPI extension is refused by the restriction list (HTTP 404.2)")
def isapi_not_allowed(plan: LoadPlan) -> Iterator[Finding]:
    """One note per (process, DLL) the restriction list refuses."""
    seen: set[tuple[str, ...]] = set()
    for s in plan.skipped:
        if s.why is not SkipReason.RESTRICTED:
            continue
        b = s.binary
        path = (b.windows_path or b.configured) if b is not None else s.name
        key = (*s.process.key, path.lower())  # NOTE: IIS Express: one iisexpress.exe per project, not per pool
        if key in seen:
            continue
        seen.add(key)
        arches = b.arches if b is not None else None
        yield Finding(
            rule=isapi_not_allowed.id, severity=isapi_not_allowed.severity,
            evidence=b.evidence if b is not None else Evidence.UNKNOWN,
            pool=s.process.pool.name if s.process.pool else None, site=None, application=None,
            process=s.process.name, process_arch=s.process.arch,
            binary=b.configured if b is not None else None, resolved=b.resolved if b is not None else None,
            binary_arch=tuple(sort_arches(arches)) if arches is not None else (), config=s.source,
            symptom=_symptom(s),
            cause=f"{s.process.describe()}: '{path}': {s.reason}." + _bitness_note(s), process_site=s.process.site,
        )
