"""A shared-hosting server's words: what one finding says must not grow with the number of pools (a vendor DLL that
every 32-bit pool looks for in SysWOW64 is one finding per pool; each naming every pool is N² text)."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import ScanOptions, scan
from tests.conftest import apphost, make_image, site

POOLS = 30


def _image(tmp_path: Path, missing_in_folder: bool) -> Path:
    """``POOLS`` 32-bit pools, each with a site, all loading the vendor module ``%windir%\\System32\\inetsrv\\vendor.dll``
    that the image holds in System32 only: a 32-bit worker looks for it in SysWOW64. ``missing_in_folder``: SysWOW64
    holds other binaries (missing on the server: an error), else the image lacks the folder (not checked: a warning)."""
    pools = "\n".join(f'<add name="Pool{i:02d}" enable32BitAppOnWin64="true" />' for i in range(POOLS))
    sites = "\n".join(site(f"Site{i}", i + 1, f"Pool{i:02d}", rf"C:\sites\s{i}") for i in range(POOLS))
    modules = '<globalModules><add name="Vendor" image="%windir%\\System32\\inetsrv\\vendor.dll" /></globalModules>'
    files: dict[str, str | Path | bytes] = {"Windows/System32/inetsrv/vendor.dll": "module_x64.dll"}
    files.update({f"sites/s{i}/default.htm": "hello" for i in range(POOLS)})
    if missing_in_folder:
        files["Windows/SysWOW64/inetsrv/other.dll"] = "module_x86.dll"
    return make_image(tmp_path / "img", apphost(pools, sites, modules), files)


def _missing(tmp_path: Path, missing_in_folder: bool) -> list[str]:
    """The cause of each pool's binary-missing finding, after checking that it names its own worker and seven others
    and counts the rest."""
    report = scan(_image(tmp_path, missing_in_folder), ScanOptions())
    found = [(f.pool or "", f.cause) for f in report.findings if f.rule == "binary-missing"]
    assert len(found) == POOLS
    for pool, cause in found:
        loaded_by = cause.split("Loaded by: ", 1)[1]
        assert f"w3wp.exe of pool '{pool}'" in loaded_by and loaded_by.count("w3wp.exe of pool") == 8
        assert f"and {POOLS - 8} more processes, each with a finding of its own (--loads lists every one)." in loaded_by
    return [cause for _, cause in found]


def test_each_pools_finding_names_its_own_worker_and_counts_the_others(tmp_path: Path) -> None:
    causes = _missing(tmp_path, missing_in_folder=False)
    assert max(len(c) for c in causes) < 2000, "one finding's words do not grow with the pools"


def test_missing_on_the_server_counts_the_others_too(tmp_path: Path) -> None:
    assert all("it is taken as missing on the server" in c for c in _missing(tmp_path, missing_in_folder=True))
