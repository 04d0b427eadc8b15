"""Error 193 on Windows XP / Server 2003 (the ``nt5`` context): an image built for Windows 6.0 or later fails there with
the same "not a valid Win32 application" as one of the other architecture (docs/explain.md, X45), so the 193 entry
lists ``iis6-os-version`` there and its architecture causes need an architecture named to be HIGH."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.explain.kb import load_kb
from iisbitness.explain.match import cues_in

MESSAGE = "%1 is not a valid Win32 application."


def _causes(text: str) -> dict[str, str]:
    result = CliRunner().invoke(main, ["explain", "--format", "json"], input=text)
    doc: dict[str, Any] = json.loads(result.stdout)
    return {c["rule"]: c["confidence"] for c in doc["causes"]}


@pytest.mark.parametrize("text", ["在win2003上提示不是有效的win32应用程序", "installed on a windows2003 server", "W2K3 SP2",
                                  "Windows XP SP3", "Windows Server 2003 R2", "IIS 6.0 on the box"])
def test_windows_5_names_and_iis6_show_the_context(text: str) -> None:
    assert "nt5" in cues_in(text, load_kb())


@pytest.mark.parametrize("text", ["Windows Server 2008", "Windows 10", "XPath query", "error 2003 in module"])
def test_other_windows_and_look_alikes_do_not(text: str) -> None:
    assert "nt5" not in cues_in(text, load_kb())


def test_193_alone_is_read_as_before() -> None:
    causes = _causes(MESSAGE)
    assert "iis6-os-version" not in causes and causes["isapi-extension-arch"] == "high"


def test_193_on_2003_lists_the_newer_windows_and_no_architecture_high() -> None:
    """"Windows Server 2003" is an IIS 6 cue too: the IIS 6 rules first, then the newer Windows, all medium; the rules
    of what IIS 6 does not have (global modules, IIS 7+'s isapiFilters and handlers, ASP.NET Core) low (explain7)."""
    causes = _causes(f"On Windows Server 2003: {MESSAGE}")
    assert list(causes)[:4] == ["iis6-extension-arch", "iis6-filter-arch", "iis6-isolation-wow64", "iis6-os-version"]
    iis7 = {"isapi-extension-arch", "global-module-arch", "isapi-filter-arch", "aspnetcore-inprocess-arch"}
    assert {r for r, c in causes.items() if c == "low"} == iis7
    assert {c for r, c in causes.items() if r not in iis7} == {"medium"}


def test_193_on_xp_leads_with_the_newer_windows() -> None:
    causes = _causes(f"Windows XP SP3: {MESSAGE}")
    assert next(iter(causes)) == "iis6-os-version"
    assert {c for r, c in causes.items() if c != "low"} == {"medium"}  # the IIS 7+ rules LOW (explain8, below)


def test_193_on_2003_naming_an_architecture_keeps_the_architecture_high() -> None:
    causes = _causes(f"64-bit Windows Server 2003, a 32-bit ISAPI filter: {MESSAGE}")
    assert causes["iis6-os-version"] == "medium" and causes["iis6-filter-arch"] == "high"


# ------------------------------------------------------------------ explain8: one reading of IIS 6's 193, whatever its form
W3SVC_1039 = ("Event Type: Error\nEvent Source: W3SVC\nEvent ID: 1039\nDescription:\nA process serving application pool "
              "'DefaultAppPool' reported a failure. The process id was '4156'. The data field contains the error number.\n")


@pytest.mark.parametrize("error", ["Data:\n0000: c1 00 00 00", f"Error: {MESSAGE}", "Data:\n0000: c1 00 07 80"])
def test_an_iis6_filter_event_reads_its_193_alike_in_data_or_in_words(error: str) -> None:
    """KB 895976 reads a W3SVC 1039 / 2268 with error 193 as a filter of the other bitness: the event names a DLL the
    worker loads, where Windows 5.2's refusal of an image built for a newer Windows is UNCONFIRMED (X45, X50). The
    193 pasted as its message ("%1 is not a valid Win32 application") read MEDIUM where its data bytes read HIGH."""
    causes = _causes(W3SVC_1039 + error)
    assert next(iter(causes.items())) == ("iis6-filter-arch", "high")
    assert causes["iis6-os-version"] == "medium" and causes["binary-missing"] == "low"


def test_the_same_193_without_the_event_stays_medium_on_2003() -> None:
    """Without an IIS event the 193 may be an EXE (wkhtmltopdf #3174, EventCleaner #4: both EXEs built for Windows
    6.0), which Windows 5.x refuses with this same text (X45): no architecture cause is HIGH there."""
    causes = _causes(f"Windows Server 2003 R2\n{MESSAGE}")
    assert "high" not in causes.values() and causes["iis6-os-version"] == "medium"


@pytest.mark.parametrize("text", [f"Windows XP SP3: {MESSAGE}", "XP SP2 box, System error 193", f"W2K3: {MESSAGE}"])
def test_windows_5_alone_makes_the_iis7_rules_low(text: str) -> None:
    """Windows 5.x runs IIS 5.1 or 6.0, never IIS 7+ (IIS 6.0 SDK; IIS 7.0 came with Vista / Server 2008; X51): a text
    naming only XP or 2003 kept global modules, IIS 7+'s filters and handlers and ASP.NET Core at medium."""
    causes = _causes(text)
    iis7 = ("global-module-arch", "isapi-filter-arch", "isapi-extension-arch", "aspnetcore-inprocess-arch")
    assert {causes[r] for r in iis7} == {"low"} and causes["iis6-os-version"] == "medium"


def test_windows_5_beside_iis7_evidence_rules_out_neither() -> None:
    causes = _causes(f"Windows XP SP3, applicationHost.config: {MESSAGE}")
    assert causes["global-module-arch"] == "medium" and causes["iis6-os-version"] == "medium"


def test_a_browser_s_windows_nt_5_is_the_client_s() -> None:
    assert "nt5" not in cues_in("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)", load_kb())
