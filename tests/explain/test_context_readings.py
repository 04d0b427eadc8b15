"""Contexts that change which process failed and so which scan rule a text points at (explain6; audit9 H8, H10):

- an ASP.NET Core Module page or log (HTTP 500.30 "ASP.NET Core app failed to start") whose start-up exception is a
  BadImageFormatException is the in-process app of the other architecture (aspnetcore-inprocess-arch), not an ASP.NET
  bin or GAC assembly, which an ASP.NET Core app does not have (managed-assembly-arch at most medium there);
- an IIS Manager dialog ("There was an error while performing this operation", "Add Managed Module") quoting a
  BadImageFormatException is IIS Manager's own load of a bin assembly (KB 3194551: inetmgr.exe lists every bin
  assembly's types): iis-manager-32bit-assembly first, the worker's rules at most medium (the site may run fine);
- IIS 6's W3SVC 1039/1009 and W3SVC-WP 2214/2220/2268 list iis6-os-version (an image built for Windows 6.0 that
  Windows 5.2 refuses with the same 193) where the input shows Windows XP / Server 2003, at medium.

The texts are the audit's (/tmp/a9/ex: e530.txt, inetmgr2.txt) and the shapes of IIS 6's Event Viewer copies.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.explain.codes import Confidence
from iisbitness.explain.kb import Specificity, cause_cap, load_kb, ruled_out
from iisbitness.explain.match import cues_in

BAD_IMAGE = ("Could not load file or assembly 'C:\\inetpub\\MyApi\\MyApi.dll'. An attempt was made to load a program "
             "with an incorrect format.")

ANCM_500_30 = f"""HTTP Error 500.30 - ASP.NET Core app failed to start
2024-03-11 14:02:17.123 +00:00 [INF] Starting
Unhandled exception. System.BadImageFormatException: {BAD_IMAGE}
File name: 'C:\\inetpub\\MyApi\\MyApi.dll'
"""

IIS_MANAGER = """---------------------------
Add Managed Module
---------------------------
There was an error while performing this operation.

Details:

Could not load file or assembly 'Acme.Security' or one of its dependencies. An attempt was made to load a program with an incorrect format.
---------------------------
OK
---------------------------
"""

YSOD = """Server Error in '/' Application.
Could not load file or assembly 'Acme.Security' or one of its dependencies. An attempt was made to load a program with an incorrect format.
Exception Details: System.BadImageFormatException: Could not load file or assembly 'Acme.Security' or one of its dependencies. An attempt was made to load a program with an incorrect format.
"""


def _doc(text: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["explain", "--format", "json"], input=text)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _causes(text: str) -> list[tuple[str, str]]:
    return [(c["rule"], c["confidence"]) for c in _doc(text)["causes"]]


@pytest.mark.parametrize("text", ["HTTP Error 500.30 - ASP.NET Core app failed to start",
                                  "HTTP Error 500.32 - ANCM Failed to Load dll", "HTTP Error 500.37"])
def test_the_asp_net_core_module_pages_show_its_context(text: str) -> None:
    assert "ancm" in cues_in(text, load_kb())


def test_500_30_with_a_bad_image_leads_with_the_in_process_app() -> None:
    causes = _causes(ANCM_500_30)
    assert causes[0] == ("aspnetcore-inprocess-arch", "high")
    assert dict(causes)["managed-assembly-arch"] == "medium"


def test_a_bad_image_without_asp_net_core_still_leads_with_the_bin_assembly() -> None:
    assert _causes(YSOD)[0] == ("managed-assembly-arch", "high")


def test_an_iis_manager_dialog_leads_with_iis_manager_and_doubts_the_worker() -> None:
    doc = _doc(IIS_MANAGER)
    causes = [(c["rule"], c["confidence"]) for c in doc["causes"]]
    assert causes[0] == ("iis-manager-32bit-assembly", "high")
    assert all(confidence == "medium" for _, confidence in causes[1:]) and len(causes) > 1
    whys = [c["why"] for x in doc["explanations"] for c in x["causes"] if c["rule"] == "iis-manager-32bit-assembly"]
    assert whys and "the worker may be fine" in whys[0]


def test_iis_manager_is_no_cause_of_a_worker_s_bad_image() -> None:
    assert "iis-manager-32bit-assembly" not in dict(_causes(YSOD))


IIS6_EVENTS = {
    "w3svc-1039": "Event Type: Error\nEvent Source: W3SVC\nEvent ID: 1039\nDescription:\nA process serving "
                  "application pool 'DefaultAppPool' reported a failure. The data field contains the error number.",
    "w3svc-1009": "Event Type: Error\nEvent Source: W3SVC\nEvent ID: 1009\nDescription:\nA process serving "
                  "application pool 'DefaultAppPool' terminated unexpectedly. The process id was '4242'. The process "
                  "exit code was '0xffffffff'.",
    "w3svc-wp-2268": "Event Source: W3SVC-WP\nEvent ID: 2268\nDescription:\nCould not load all ISAPI filters for "
                     "site/service. Therefore startup aborted.",
    "w3svc-wp-2214": "Event Source: W3SVC-WP\nEvent ID: 2214\nDescription:\nThe HTTP Filter DLL "
                     "C:\\Filters\\f.dll failed to load. The data is the error. (Windows Server 2003)",
    "w3svc-wp-2220": "Event Source: W3SVC-WP\nEvent ID: 2220\nDescription:\nThe HTTP server was unable to load the "
                     "ISAPI Application 'C:\\ext\\e.dll'. The data is the error. (IIS 6.0)",
}


@pytest.mark.parametrize("name", sorted(IIS6_EVENTS))
def test_iis6_w3svc_events_list_the_newer_windows_at_medium(name: str) -> None:
    causes = dict(_causes(IIS6_EVENTS[name]))
    assert causes["iis6-os-version"] == "medium"


def test_an_iis7_filter_event_does_not() -> None:
    text = ("Log Name: Application\nSource: Microsoft-Windows-IIS-W3SVC-WP\nEvent ID: 2268\nDescription:\n"
            "Could not load all ISAPI filters for site 'Default Web Site'.  Therefore site startup aborted.")
    assert "iis6-os-version" not in dict(_causes(text))


def test_data_193_leaves_the_newer_windows_medium() -> None:
    """An event's data 193 makes the rules that are no image (a missing file) LOW, not the newer Windows: Windows 5.2
    refuses an image built for 6.0 with that same 193."""
    assert cause_cap("iis6-os-version", Specificity.SPECIFIC, by_code=True) is Confidence.MEDIUM
    assert cause_cap("binary-missing", Specificity.SPECIFIC, by_code=True) is Confidence.LOW


@pytest.mark.parametrize(("text", "first"), [(ANCM_500_30, "aspnetcore-inprocess-arch"),
                                             (IIS_MANAGER, "iis-manager-32bit-assembly"),
                                             (YSOD, "managed-assembly-arch")])
def test_the_bad_image_panel_lists_its_causes_as_the_ranking_reads_them(text: str, first: str) -> None:
    """The BadImageFormatException's own list of causes (text panel, JSON ``explanations[].causes``) is in the order
    the input's contexts give, as the ranked causes are: it listed ``managed-assembly-arch`` first under a 500.30."""
    bad = next(x for x in _doc(text)["explanations"] if x["id"] == "bad-format")
    assert bad["causes"][0]["rule"] == first
    result = CliRunner().invoke(main, ["explain"], input=text)
    assert f"1. {first}:" in " ".join(result.stdout.split())


# --------------------------------------------------------------- explain7: the rest of the contexts
YSOD_FULL = """Server Error in '/' Application.
Could not load file or assembly 'Oracle.DataAccess' or one of its dependencies. An attempt was made to load a program with an incorrect format.
Description: An unhandled exception occurred during the execution of the current web request. Please review the stack trace for more information about the error and where it originated in the code.

Exception Details: System.BadImageFormatException: Could not load file or assembly 'Oracle.DataAccess' or one of its dependencies. An attempt was made to load a program with an incorrect format.

Version Information: Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4465.0
"""


@pytest.mark.parametrize("text", [
    "Server Error in '/MyApp' Application.", "Version Information: Microsoft .NET Framework Version:4.0.30319",
    "ASP.NET Version:4.8.4465.0", r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\root",
    "An unhandled exception occurred during the execution of the current web request.",
    "Exception Details: System.BadImageFormatException: Could not load file or assembly 'x'",
    "Event code: 3008 \nEvent message: A configuration error has occurred. \n",
])
def test_the_asp_net_error_page_shows_its_context(text: str) -> None:
    assert "aspnet" in cues_in(text, load_kb())


@pytest.mark.parametrize("text", [ANCM_500_30, "HTTP Error 500.32 - ANCM Failed to Load dll",
                                  "exception details: system.badimageformatexception: ..."])
def test_asp_net_core_pages_do_not(text: str) -> None:
    assert "aspnet" not in cues_in(text, load_kb())


ASPNET_3008 = """Event code: 3008
Event message: A configuration error has occurred.
Process information:
    Process name: w3wp.exe
Exception information:
    Exception type: ConfigurationErrorsException
    Exception message: Could not load file or assembly 'Interop.Acme' or one of its dependencies. An attempt was made to load a program with an incorrect format. (C:\\inetpub\\wwwroot\\web.config line 42)
"""


@pytest.mark.parametrize("text", [YSOD_FULL, YSOD, ASPNET_3008])
def test_an_asp_net_error_page_doubts_the_asp_net_core_app(text: str) -> None:
    """The YSOD is System.Web's page, and health monitoring's event its event, on .NET Framework: the in-process
    ASP.NET Core app is at most medium there, and no longer second at HIGH (real: elmah-98, orchard-252)."""
    causes = _causes(text)
    assert causes[0] == ("managed-assembly-arch", "high")
    assert dict(causes)["aspnetcore-inprocess-arch"] == "medium"


W3SVC_1009_IIS6 = ("Event Type: Error\nEvent Source: W3SVC\nEvent ID: 1009\nDescription:\nA process serving application "
                   "pool 'DefaultAppPool' terminated unexpectedly. The process id was '4242'. The process exit code was "
                   "'0xffffffff'.\n")


def test_a_pasted_iis6_1009_leads_with_iis6_and_rules_out_the_iis7_rules() -> None:
    """W3SVC 1009 shares WAS 5009's wording, whose first cause is a global module: IIS 6 has none (IIS 7.0 brought
    globalModules), nor ASP.NET Core; those rules are LOW in an IIS 6 input."""
    causes = _causes(W3SVC_1009_IIS6)
    assert causes[0][0] == "iis6-filter-arch"
    assert dict(causes)["global-module-arch"] == "low" and dict(causes)["aspnetcore-inprocess-arch"] == "low"


def test_iis6_and_iis7_in_one_input_rule_out_neither() -> None:
    """Mixed evidence (Windows Server 2003 named beside an IIS 7+ global module's event): neither generation's rules
    are ruled out."""
    kb = load_kb()
    text = "After moving from Windows Server 2003, the Module DLL C:\\m\\x.dll failed to load. The data is the error."
    cues = cues_in(text, kb)
    assert {"iis6", "iis7"} <= cues
    assert not ruled_out(cues, kb.contexts) & {"global-module-arch", "iis6-filter-arch", "aspnetcore-inprocess-arch"}
    assert "global-module-arch" in ruled_out(cues - {"iis7"}, kb.contexts)


def test_a_500_30_whose_start_up_exception_is_a_bad_image_drops_the_usual_reading() -> None:
    """The app's start-up exception is the BadImageFormatException: "usually not bitness" no longer ranks there."""
    doc = _doc(ANCM_500_30)
    assert not doc["not_bitness"]
    assert doc["causes"][0]["rule"] == "aspnetcore-inprocess-arch"


def test_a_500_30_alone_keeps_it() -> None:
    doc = _doc("HTTP Error 500.30 - ASP.NET Core app failed to start")
    assert [o["id"] for o in doc["not_bitness"]] == ["http-500-30"] and doc["not_bitness"][0]["rank"] == 1


ANCM_STDOUT_ALONE = ANCM_500_30.split("\n", 1)[1]


def test_the_stdout_log_alone_is_an_asp_net_core_app() -> None:
    """"Unhandled exception. System.X" is .NET (Core)'s own line (X47): the app of the other architecture leads, the
    ASP.NET bin assembly at most medium."""
    causes = _causes(ANCM_STDOUT_ALONE)
    assert causes[0] == ("aspnetcore-inprocess-arch", "high")
    assert dict(causes)["managed-assembly-arch"] == "medium"


@pytest.mark.parametrize("text", [
    "Unhandled Exception: System.BadImageFormatException: Could not load file or assembly 'x'",  # .NET Framework
    "log.Error(\"unhandled exception. system.badimageformatexception\")",
])
def test_net_framework_s_unhandled_exception_line_is_no_asp_net_core_cue(text: str) -> None:
    assert "ancm" not in cues_in(text, load_kb())


# --------------------------------------------------------------- explain8: IIS Manager's connect dialog
CONNECT = "There was an error when trying to connect. Do you want to retype your credentials and try again?"
CONNECT_DENIED = (f"{CONNECT}\n\nDetails:\n\nFilename: \\\\?\\C:\\Windows\\system32\\inetsrv\\config\\redirection.config\n"
                  "Error: Cannot read configuration file due to insufficient permissions\n")


def test_iis_manager_s_connect_dialog_is_read_as_its_configuration_not_read() -> None:
    """The dialog was not recognised at all: it is IIS Manager failing to read the configuration (shared configuration
    credentials, X52), no worker's load."""
    doc = _doc(CONNECT)
    assert [o["id"] for o in doc["not_bitness"]] == ["iis-manager-connect"] and doc["causes"] == []
    assert "redirection.config" in doc["not_bitness"][0]["read_next"][0]["command"]
    assert "iis-manager" in cues_in(CONNECT, load_kb())


def test_its_access_denied_is_not_a_pool_identity_s() -> None:
    """Its "Cannot read configuration file due to insufficient permissions" is IIS Manager's (or redirection.config's
    user's), not the pool identity the access-denied reading names: the dialog's reading replaces that one."""
    doc = _doc(CONNECT_DENIED)
    assert [o["id"] for o in doc["not_bitness"]] == ["iis-manager-connect"]
    assert "pool identity" not in json.dumps(doc["not_bitness"])


def test_the_connect_dialog_s_other_details_keep_their_reading() -> None:
    malformed = f"{CONNECT}\nDetails:\nFilename: \\\\?\\C:\\Windows\\system32\\inetsrv\\config\\applicationHost.config\n" \
                "Line number: 120\nError: Configuration file is not well-formed XML\n"
    ids = [o["id"] for o in _doc(malformed)["not_bitness"]]
    assert set(ids) == {"invalid-config-data", "iis-manager-connect"}
