"""A real configuration put into the demo image (a hand copy whose SysWOW64/inetsrv lacks most of Windows' own IIS
modules, and whose Default Web Site has serverAutoStart="false"): the partial-copy warning is not said to 'fail
when someone starts it', and a non-stock module absent from that same folder says the copy may be partial there
too instead of resting on "a copy of that folder" alone (issue 22 point 3, docs/images.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iisbitness.api import scan
from iisbitness.report import Report
from tests.conftest import CORPUS, DEMO

CONFIG = CORPUS / "iis-config" / "c1982__IIS-SharedGitConfig__applicationHost.config"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    if not CONFIG.is_file():
        pytest.skip("no shared corpus")
    image = tmp_path_factory.mktemp("mix") / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    shutil.copy(CONFIG, image / "Windows/System32/inetsrv/config/applicationHost.config")
    return scan(image)


def test_the_start_note_says_applies_not_fails(report: Report) -> None:
    """The start note is added to every finding of a pool that does not start by itself, could-not-check warnings
    included: it says the finding applies once someone starts the pool, not that something 'fails' then."""
    noted = [f for f in report.findings if "does not start by itself" in f.cause]
    assert noted
    assert all("applies once someone starts it" in f.cause and "fails when someone starts it" not in f.cause
               for f in noted)


def test_a_non_stock_module_absent_from_a_partial_folder_says_the_copy_may_be_partial(report: Report) -> None:
    rewrite = [f for f in report.findings if f.rule == "binary-missing" and "rewrite.dll" in (f.binary or "")]
    assert rewrite  # NOTE: one per 32-bit pool's worker
    assert all("authanon.dll" in f.cause and "may be partial" in f.cause for f in rewrite)


def test_the_partial_copy_warning_names_no_single_pool(report: Report) -> None:
    """The folder is read by every 32-bit worker (four pools here): the warning is about the copy of the folder,
    so it names the process kind, not whichever pool's load came first (it said 'in DefaultAppPool')."""
    [partial] = [f for f in report.findings if f.rule == "binary-missing" and "may be partial" in (f.binary or "")]
    assert partial.pool is None and partial.site is None and partial.application is None
    assert partial.process == "w3wp.exe" and partial.process_arch is not None and partial.process_arch.value == "x86"


def test_a_flip_that_meets_a_partial_copy_says_so_not_that_the_folder_is_absent(tmp_path: Path) -> None:
    """A 64-bit pool whose bin holds an x86-only assembly: the flip to 32-bit meets SysWOW64\\inetsrv, which the image
    holds with a binary but without compstat.dll, compdyn.dll and gzip.dll (Windows' own: a partial copy, most likely).
    The flip's note says the copy may be partial and names them, decided from the load's Absence; it said "Not
    checked, as the image does not hold its folder", though the image holds it (fixes/verify._not_checked)."""
    from tests.conftest import apphost, make_image, site
    from tests.scan.test_compression_scheme import BROTLI, BROTLI_X86, MODULES, SCHEMES
    image = make_image(tmp_path, apphost('<add name="P64" managedRuntimeVersion="v4.0" />', site("B", 1, "P64", "C:\\b"),
                                         MODULES + SCHEMES),
                       {BROTLI: "module_x64.dll", BROTLI_X86: "module_x86.dll",
                        "Windows/System32/inetsrv/compstat.dll": "module_x64.dll",
                        "Windows/System32/inetsrv/compdyn.dll": "module_x64.dll",
                        "Windows/System32/inetsrv/gzip.dll": "module_x64.dll",
                        "Windows/SysWOW64/inetsrv/cachuri.dll": "module_x86.dll",
                        "b/bin/x86only.dll": "managed_x86.dll"})
    [found] = [f for f in scan(image).findings if f.rule == "managed-assembly-arch"]
    [flip] = [x for x in found.fixes if x.label == "run the pool as 32-bit"]
    assert flip.verified is False and flip.note is not None  # NOTE: its worker would load files nobody checked
    assert ("The image's copy of Windows/SysWOW64/inetsrv may be partial: compdyn.dll, compstat.dll, gzip.dll not "
            "checked.") in flip.note
    assert "does not hold its folder" not in flip.note
