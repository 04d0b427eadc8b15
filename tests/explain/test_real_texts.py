"""``iisbitness explain`` on real texts it was not written against (tests/fixtures/explain/real, one file a text,
SOURCES.tsv naming the public page each is quoted from): each must get the reading its thread settled.

Each row: file stem -> (lead, bitness, reason), as tests/explain/pasted_cases.toml spells them: ``lead`` the leading
explanation (a scan rule id, ``not:<entry id>`` for a not-bitness explanation, ``none`` when nothing is recognised,
None where the thread did not settle the cause and only the confidence is held), ``bitness`` the best confidence of
any bitness cause. A row in KNOWN_MISSES is what the tool reads today though the thread says otherwise: an xfail
(strict) that names what it would take, so a fix flips it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.explain.test_pasted_cases import SCHEMA, _verdict

REAL = Path(__file__).parent.parent / "fixtures" / "explain" / "real"

EXPECTED: dict[str, tuple[str | None, str, str]] = {
    # --------------------------------------------------------------- bitness settled by the thread
    "rakkimk-w3svc-1039-c1000780": ("iis6-filter-arch", "high", "IIS 6 W3SVC 1039 with data c1 00 07 80: a 64-bit filter in 32-bit workers"),
    "jrwren-anycpu-x86-test": ("managed-assembly-arch", "high", "an x86 library loaded by an AnyCPU (64-bit) host"),
    "elmah-98-sqlite-64bit": ("managed-assembly-arch", "high", "32-bit System.Data.SQLite in a 64-bit pool"),
    "orchard-252-sqlite-yellow-screen": ("managed-assembly-arch", "high", "32-bit System.Data.SQLite under 64-bit IIS"),
    "nservicekit-ormlite-5-fusion-8007000b": ("managed-assembly-arch", "high", "fixed by enabling 32-bit applications"),
    "efcore-6825-wcf-sqlite-8007000b": ("managed-assembly-arch", "high", "fixed by platform target x86 (SQLite)"),
    "mojoportal-208-sqlite3-8007000b": ("managed-assembly-arch", "high", "32-bit sqlite3.dll on 64-bit: ship x64 or enable 32-bit"),
    "mimekit-47-sqlite-x64-x86": ("native-library-arch", "high", "sqlite P/Invoke of the other bitness (works as x86)"),
    "efcore-3720-sqlite3-pinvoke": ("native-library-arch", "high", "sqlite3_open_v2 P/Invoke: native sqlite3.dll of the other bitness"),
    "nettiers-375-oracleclient-64bit": ("native-library-arch", "high", "32-bit Oracle client in a 64-bit process (its own message says so)"),
    "difs-1-ace-oledb": ("com-inproc-arch", "medium", "ACE OLE DB provider of the other bitness (maintainer)"),
    "linqtoexcel-169-ace-oledb": ("com-inproc-arch", "medium", "answer: target x64 or install the 32-bit ACE engine"),
    "sqlserverwebadmin-1-sqldmo-classnotreg": ("com-inproc-arch", "medium", "SQL-DMO, 32-bit only, on x64: class not registered"),
    "iisnode-154-32bit-pool-500": ("global-module-arch", "medium", "64-bit iisnode module fails once the pool is 32-bit"),
    # --------------------------------------------------------------- another cause settled by the thread
    "iisintegration-606-ancm-1000-dotnet2": ("not:file-not-found", "medium", "processPath 'dotnet2' does not exist: error 2"),
    "iisintegration-1261-ancm-formatlist": ("not:event-ancm-1000", "medium", "Get-WinEvent | Format-List; an invalid ASPNETCORE_PORT stops the process"),
    "kb-q163166-isapi-module-not-found": ("binary-missing", "medium", "KB: a DLL the ISAPI DLL imports is not installed (126, suggestive)"),
    "iisnode-214-500-19-rewrite": ("not:invalid-config-data", "low", "500.19 0x8007000d: URL Rewrite not installed"),
    "kudu-2178-500-19-0x8007000d": ("not:invalid-config-data", "low", "500.19 0x8007000d in the default web.config"),
    "aspnetcore-39123-500-19-hosting-bundle": ("not:invalid-config-data", "low", "0x8007000d: the hosting bundle's module"),
    "miniblog-124-500-19-no-code": ("not:http-500-19", "medium", "install URL Rewrite"),
    "passcore-42-section-locked": ("not:config-locked", "none", "a section locked at a parent level"),
    "aspnetcore-docs-9897-500-21-no-bundle": ("not:http-500-21-bad-module", "medium", "hosting bundle not installed"),
    "dotnet-foundation-160-500-30": ("not:http-500-30", "medium", "a bad deployment: the app failed at start"),
    "aspnetcore-19266-500-31-appsettings": ("not:http-500-31", "medium", "a wrong appsettings.json setting"),
    "azure-speed-test-101-500-31": ("not:http-500-31", "medium", "the runtime not enabled on the App Service"),
    "aspnetcore-grid-311-500-31": ("not:http-500-31", "medium", "the runtime missing on the host"),
    "codemaze-11-500-35": ("aspnetcore-multiple-inprocess", "medium", "two in-process apps in one pool (500.35 says so)"),
    "piranha-861-500-35": ("aspnetcore-multiple-inprocess", "medium", "two in-process apps in one pool on a shared host"),
    "win-acme-1663-classnotreg-no-iis": ("not:iis-admin-class-not-registered", "low", "IIS's config classes absent (Apache host)"),
    "aspnetcore-7235-w3wp-av-ntdll": ("not:worker-crash-in-module", "none", "an access violation inside a loaded module"),
    "iisintegration-908-w3wp-c0000409-inprocess": ("not:worker-crash-in-module", "none", "a defect fixed by a PR, not a load failure"),
    "iis-compression-15-iiszlib-av": ("not:worker-crash-in-module", "medium", "an invalid compression level crashes iiszlib.dll"),
    "glpi-626-fastcgi-apcu-av": ("none", "none", "php_apcu.dll crashes php-cgi: nothing about bitness"),
    "phpmailer-2559-fastcgi-c0000409": ("none", "none", "php-cgi exits with 0xc0000409"),
    "organizr-279-fastcgi-ff": ("none", "none", "php-cgi exits with 0xff"),
    "django-windows-tools-8-fastcgi-1": ("none", "none", "the FastCGI process exits (a setup error)"),
    "php-beast-12-fastcgi-timeout": ("none", "none", "FastCGI activity timeout (258)"),
    "aspnetcore-68573-was-5076-recycle": ("none", "none", "a scheduled recycle"),
    "eventcleaner-4-zh-193-win2003": ("iis6-os-version", "medium", "193 on win2003, an EXE built for Vista+: none HIGH"),
    "wkhtmltopdf-3174-193-win2003": ("iis6-os-version", "medium", "193 on windows2003, an msvc2013 build: none HIGH"),
    "geoip2block-11-iismanager-version": ("not:assembly-file-not-found", "medium", "the .NET Compilation assembly version, not the file's bitness"),
    "benperk-iismanager-connect-800700b7": ("not:duplicate-config", "none", "IIS Manager's connect dialog: a copied schema file, 0x800700B7"),
    "tooling-715-shared-config-access-denied": ("not:access-denied", "none", "IIS shared configuration: access denied"),
    "dashboard-1-registry-global-denied": ("none", "none", "access to a registry key denied"),
    "iisintegration-287-hosting-0x80070643": ("none", "none", "an MSI failure under shared configuration"),
    # --------------------------------------------------------------- the thread did not settle it
    "dotnet-runtime-99581-was-5011-xml": (None, "medium", "WAS 5011 after a SharePoint CU: generic, medium at most"),
    "dotnet-core-1907-preload-no-managed-code": (None, "none", "a pre-load of runtime 'No Managed Code' (cross-posted, not settled)"),
    "iisnode-414-module-missing-deps": (None, "medium", "503 with the pool stopping: generic, medium at most"),
    "dreamscene2-58-zh-dllnotfound": (None, "medium", "0x8007007E in Chinese: suggestive, medium at most"),
    "acmesharp-24-x86-powershell-classnotreg": (None, "low", "IIS config classes from an x86 PowerShell: install or 64-bit host"),
    "powershellwix-4-32bit-ahadmin": (None, "low", "IIS config classes from a 32-bit custom action server"),
}

KNOWN_MISSES: dict[str, str] = {
    "rhetos-222-oracle-dataaccess-truncated": "a 32-bit Oracle.DataAccess.dll, but the paste is cut to the "
                                              "assembly's name, misspelt 'Oracle .DataAccess'",
}
"""What today's reading gets wrong, with what it would take (see the module doc)."""

MISSED_AS: dict[str, tuple[str | None, str]] = {
    "rhetos-222-oracle-dataaccess-truncated": ("managed-assembly-arch", "low"),
}
"""The reading the thread settled for each known miss (none: not about bitness)."""


def _sources() -> dict[str, str]:
    with (REAL / "SOURCES.tsv").open(encoding="utf-8", newline="") as f:
        return {row["file"]: row["source"] for row in csv.DictReader(f, delimiter="\t")}


def _explain(text: bytes, fmt: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["explain", "--format", fmt], input=text)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout


def test_every_text_has_a_source_and_a_row() -> None:
    files = {p.name for p in REAL.glob("*.txt")}
    sources = _sources()
    assert len(files) >= 40 and set(sources) == files
    assert all(url.startswith(("http://", "https://")) for url in sources.values())
    assert {f"{stem}.txt" for stem in (*EXPECTED, *KNOWN_MISSES)} == files
    assert not set(EXPECTED) & set(KNOWN_MISSES) and set(MISSED_AS) == set(KNOWN_MISSES)


def _check(stem: str, lead: str | None, bitness: str) -> None:
    raw = (REAL / f"{stem}.txt").read_bytes()
    code, out = _explain(raw, "json")
    doc: dict[str, Any] = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    got_lead, best = _verdict(doc)
    assert (got_lead if lead is not None else None, best) == (lead, bitness)
    assert code == (1 if got_lead == "none" else 0)
    text_code, text = _explain(raw, "text")
    assert text_code == code and text.strip()


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_real_text_gets_its_reading(stem: str) -> None:
    lead, bitness, _reason = EXPECTED[stem]
    _check(stem, lead, bitness)


@pytest.mark.parametrize("stem", [pytest.param(stem, marks=pytest.mark.xfail(strict=True, reason=why))
                                  for stem, why in sorted(KNOWN_MISSES.items())])
def test_known_miss_gets_the_threads_reading(stem: str) -> None:
    lead, bitness = MISSED_AS[stem]
    _check(stem, lead, bitness)
