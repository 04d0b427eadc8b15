"""The three seed situations of issue 5, each from its own text."""

from __future__ import annotations

from iisbitness.explain.kb import KnowledgeBase
from iisbitness.explain.report import build_report

SEED_IIS_MANAGER = (
    "There was an error while performing this operation.\n\nDetails:\n\n"
    "This method cannot be called during the application's pre-start initialization phase."
)

SEED_REGIIS = """\
Start installing ASP.NET (2.0.50727).
Failed while restarting W3SVC. Error code: 0x8007041d
System error 193 has occurred.
The service did not respond to the start or control request in a timely fashion.

Event Type:	Error
Event Source:	W3SVC-WP
Event ID:	2274
Description:
ISAPI Filter 'C:\\WINDOWS\\Microsoft.NET\\Framework\\v2.0.50727\\aspnet_filter.dll' could not be loaded due to \
a configuration problem. The current configuration only supports loading images built for a AMD64 processor \
architecture. The data field contains the error number.
"""

SEED_WIN32 = "%1 is not a valid Win32 application."


def test_seed_iis_manager(kb: KnowledgeBase) -> None:
    report = build_report([("arg", SEED_IIS_MANAGER)], [], kb)
    assert report.explanations[0].entry.id == "iis-manager-preinit"
    assert report.causes[0].rule == "iis-manager-32bit-assembly"
    assert any("mmc.exe /32 iis.msc" in s.command for s in report.next_steps)


def test_seed_iis6_wow64(kb: KnowledgeBase) -> None:
    report = build_report([("aspnet_regiis.log", SEED_REGIIS)], [], kb)
    ids = {x.entry.id for x in report.explanations}
    assert {"service-timeout", "w3svc-start-193", "event-2274", "only-supports-arch"} <= ids
    assert report.causes[0].rule == "iis6-isolation-wow64"
    binaries = {s.binary for x in report.explanations for s in x.signals if s.entry_id == "event-2274"}
    assert "C:\\WINDOWS\\Microsoft.NET\\Framework\\v2.0.50727\\aspnet_filter.dll" in binaries
    arch = next(s for x in report.explanations for s in x.signals if s.entry_id == "only-supports-arch")
    assert arch.detail == "worker process architecture: AMD64"


def test_seed_not_valid_win32(kb: KnowledgeBase) -> None:
    report = build_report([("arg", SEED_WIN32)], [], kb)
    assert [x.entry.id for x in report.explanations] == ["bad-exe-format"]
    assert report.causes[0].rule == "isapi-extension-arch"
    assert report.next_steps[0].command == "iisbitness scan"
