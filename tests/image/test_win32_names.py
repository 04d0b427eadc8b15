"""Configured paths as Windows opens them: a trailing period on the file name, an 8.3 short name.

- "CreateFile() removes trailing spaces and periods from file and directory names" (KB 115827); "File path formats on
  Windows systems" (learn.microsoft.com): "If the path doesn't end in a separator, all trailing periods and spaces are
  removed", and "If a segment ends in a single period, that period is removed". A module configured as ``C:\\Mods\\m.dll.`` loads ``C:\\Mods\\m.dll``: before, the scan looked for
  ``m.dll.``, and called it missing on the server (an error) beside the very file the worker loads.
- NTFS may give a long name an 8.3 short name (``PROGRA~1``; "Naming Files, Paths, and Namespaces"), which Windows
  opens and no folder listing shows: before, ``C:\\PROGRA~1\\Vendor\\m.dll`` was missing on the server (live) or an
  inferred absence; now not checked, with why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.api import ScanOptions
from iisbitness.arch import Arch
from iisbitness.image.paths import normalize
from iisbitness.image.server_image import ServerImage
from iisbitness.report import Report
from iisbitness.scan.pipeline import scan_image
from tests.conftest import apphost, fixture, make_image, site

POOL = '<add name="P64" managedRuntimeVersion="v4.0" />'


def _server(tmp_path: Path, image: str) -> Path:
    """C: whose pool P64 loads the x86 module ``image`` (on disk: C:\\Mods\\m.dll, C:\\Program Files\\Vendor\\m.dll)."""
    c = tmp_path / "C"
    make_image(c, apphost(POOL, site("Shop", 1, "P64", r"C:\shop"),
                          f'<globalModules><add name="Vendor" image="{image}" /></globalModules>'),
               {"shop/default.htm": "x", "Mods/m.dll": fixture("module_x86.dll"),
                "Program Files/Vendor/m.dll": fixture("module_x86.dll")})
    return c


def _rules(report: Report) -> list[tuple[str, str]]:
    return [(f.rule, f.severity.name) for f in report.findings]


@pytest.mark.parametrize(("given", "opened"), [
    (r"C:\Mods\m.dll.", r"C:\Mods\m.dll"),
    (r"C:\Mods\m.dll. .", r"C:\Mods\m.dll"),
    (r"C:\Mods\m.dll", r"C:\Mods\m.dll"),
    (r"C:\...", r"C:\..."),  # NOTE: nothing left of the name: kept
    (r"C:\Mods.\m.dll", r"C:\Mods\m.dll"),  # NOTE: "If a segment ends in a single period, that period is removed"
    (r"C:\Mods..\m.dll", r"C:\Mods..\m.dll"),
    ("\\\\fs\\share.\\a.\\m.dll.", "\\\\fs\\share.\\a\\m.dll"),  # NOTE: the share's own name is not a segment
    ("\\\\?\\C:\\Mods\\m.dll.", r"C:\Mods\m.dll."),  # NOTE: \\?\ turns Windows' parsing off
])
def test_normalize_trims_the_last_name_as_windows_does(given: str, opened: str) -> None:
    assert normalize(given) == opened


@pytest.mark.parametrize("live", [False, True])
@pytest.mark.parametrize("image", [r"C:\Mods\m.dll.", r"C:\Mods.\m.dll"])
def test_a_module_named_with_a_trailing_period_is_the_file_without_it(tmp_path: Path, live: bool, image: str) -> None:
    c = _server(tmp_path, image)
    img = ServerImage.machine({"C": c}) if live else ServerImage.offline(c)
    report = scan_image(img, ScanOptions(os_arch=Arch.X64), "img")
    assert _rules(report) == [("global-module-arch", "ERROR")], report.findings
    assert report.coverage[0].status.value == "checked"


@pytest.mark.parametrize("live", [False, True])
def test_a_short_name_is_not_checked_never_missing(tmp_path: Path, live: bool) -> None:
    c = _server(tmp_path, r"C:\PROGRA~1\Vendor\m.dll")
    img = ServerImage.machine({"C": c}) if live else ServerImage.offline(c)
    report = scan_image(img, ScanOptions(os_arch=Arch.X64), "img")
    [found] = report.findings
    assert (found.rule, found.severity.name, found.binary_not_checked) == ("binary-invalid", "WARNING", True), found
    assert "C:\\PROGRA~1 may be an 8.3 short name" in found.cause and "missing" not in found.cause, found.cause
    assert report.coverage[0].status.value == "partly-checked"
    # NOTE: a name with a tilde that is no short name (too long before it) stays as it was: absent where listed
    long = scan_image(ServerImage.machine({"C": _server(tmp_path / "2", r"C:\Vendor~Tools\m.dll")}),
                      ScanOptions(os_arch=Arch.X64), "img")
    assert "8.3 short name" not in " ".join(f.cause for f in long.findings)
