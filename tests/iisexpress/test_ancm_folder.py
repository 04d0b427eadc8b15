"""The ASP.NET Core Module in IIS Express's folders, on a machine the scan was not given (no ``--drive C=``): Microsoft's
installer puts its x64 build in ``Program Files\\IIS Express`` and its Win32 build in ``Program Files (x86)\\IIS Express``
(dotnet/aspnetcore ancm_iis_expressv2.wxs, ancm_iis_express.wxs; iis-express-facts.md F1.1, F1.6), so the folder tells
its build as for Windows' own modules, and a project's bitness switch is verified over it. On Windows on Arm the 64-bit
folder holds a forwarder and two builds (F1.7): not there. A vendor's module in IIS Express's folder stays a guess,
and the switch's note says what to pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.arch import Arch
from iisbitness.image.stock import is_windows_own
from tests.conftest import fixes_of
from tests.iisexpress.solution import CORE, core_solution, scan_json

V2 = "C:\\Program Files{}\\IIS Express\\Asp.Net Core Module\\V2\\aspnetcorev2.dll"
V1 = "C:\\Program Files{}\\IIS Express\\aspnetcore.dll"


@pytest.mark.parametrize(("os_arch", "own64", "own32"), [(Arch.X64, True, True), (Arch.ARM64, False, True),
                                                         (Arch.X86, False, False)])
def test_ancm_in_iis_express_folders_is_microsofts_per_folder_build(os_arch: Arch, own64: bool, own32: bool) -> None:
    for path in (V1, V2):
        assert is_windows_own(path.format(""), os_arch) is own64, (path, os_arch)
        assert is_windows_own(path.format(" (x86)"), os_arch) is own32, (path, os_arch)
    assert not is_windows_own("C:\\Program Files\\IIS Express\\Contoso\\aspnetcorev2.dll", os_arch)
    assert not is_windows_own("C:\\Program Files\\IIS Express\\HttpPlatformHandler.dll", os_arch)


def _switch(sol: Path) -> dict[str, object]:
    """The "use64Bit": true fix of the 500.32 finding of a project with "use64Bit": false and an x64 publish."""
    _, doc = scan_json(sol, "--fail-on", "never")
    [f] = [f for f in doc["findings"] if f["rule"] == "aspnetcore-inprocess-arch"]
    [switch] = [x for x in fixes_of(doc, f) if '"use64Bit": true' in x["summary"]]
    return switch


def test_the_switch_over_microsofts_ancm_is_verified(tmp_path: Path) -> None:
    switch = _switch(core_solution(tmp_path / "sol", use64=False, arch="x64"))
    assert switch["verified"] is True, switch["note"]
    assert "aspnetcorev2.dll" not in str(switch["note"])


def test_a_vendor_module_in_iis_express_folder_keeps_it_unverified_and_says_what_to_pass(tmp_path: Path) -> None:
    sol = core_solution(tmp_path / "sol", use64=False, arch="x64")
    cfg = sol / ".vs" / CORE / "config" / "applicationhost.config"
    text = cfg.read_text(encoding="utf-8")
    at = text.index("<globalModules>\n") + len("<globalModules>\n")
    cfg.write_text(text[:at] + '      <add name="ContosoModule" image="%IIS_BIN%\\Contoso\\contoso.dll" />\n' + text[at:],
                   encoding="utf-8")
    switch = _switch(sol)
    note = str(switch["note"])
    assert switch["verified"] is False
    assert "C:\\Program Files\\IIS Express\\Contoso\\contoso.dll" in note and "aspnetcorev2.dll" not in note
    assert "--drive C=/path/to/copy (the developer machine's drive" in note
