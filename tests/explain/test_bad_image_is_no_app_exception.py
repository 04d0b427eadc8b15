"""``explain`` never calls a BadImageFormatException "not a bitness problem": the app-exception reading (an exception
in the application itself) is for other exceptions; pasted ANCM stdout logs and ASP.NET health events whose
exception is the bitness one get the bitness readings only (audit9 H4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from iisbitness.cli import main

ANCM_STDOUT = """2024-03-11 14:02:17.123 +00:00 [INF] Starting
Unhandled exception. System.BadImageFormatException: Could not load file or assembly 'C:\\inetpub\\MyApi\\MyApi.dll'. \
An attempt was made to load a program with an incorrect format.
File name: 'C:\\inetpub\\MyApi\\MyApi.dll'
"""

ASPNET_3008 = """Event code: 3008
Event message: A configuration error has occurred.
Process information:
    Process ID: 4242
    Process name: w3wp.exe
Exception information:
    Exception type: ConfigurationErrorsException
    Exception message: Could not load file or assembly 'Interop.Acme' or one of its dependencies. An attempt was \
made to load a program with an incorrect format. (C:\\inetpub\\wwwroot\\web.config line 42)
"""


def _doc(text: str) -> dict[str, Any]:
    res = CliRunner().invoke(main, ["explain", "--format", "json"], input=text.encode("utf-8"))
    assert res.exit_code == 0, res.output
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


@pytest.mark.parametrize(("text", "lead"), [(ANCM_STDOUT, "aspnetcore-inprocess-arch"),
                                            (ASPNET_3008, "managed-assembly-arch"),
                                            (ANCM_STDOUT.replace("\n", "\r\n"), "aspnetcore-inprocess-arch")])
def test_a_bad_image_exception_is_not_read_as_the_apps_own_failure(text: str, lead: str) -> None:
    """The stdout log's "Unhandled exception." is .NET (Core)'s own line, so an ASP.NET Core app (explain7): the
    app of the other architecture leads there, the ASP.NET bin assembly in the ASP.NET health event."""
    doc = _doc(text)
    assert "app-exception" not in [e["id"] for e in doc["explanations"]]
    assert doc["causes"][0]["rule"] == lead


@pytest.mark.parametrize("text", [("Unhandled exception. System.NullReferenceException: Object reference not set to an "
                                   "instance of an object.\n   at MyApi.Program.Main(String[] args)\n"),
                                  ASPNET_3008.replace("Could not load file or assembly 'Interop.Acme' or one of its "
                                                      "dependencies. An attempt was made to load a program with an "
                                                      "incorrect format.", "The connection string 'Db' is missing.")])
def test_another_exception_still_is(text: str) -> None:
    assert "app-exception" in [e["id"] for e in _doc(text)["explanations"]]
