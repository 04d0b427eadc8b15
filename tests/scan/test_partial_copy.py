"""A real configuration put into the demo image (a hand copy whose SysWOW64/inetsrv lacks most of Windows' own IIS
modules, and whose Default Web Site has serverAutoStart="false"): the partial-copy warning is not said to 'fail
when someone starts it', and a non-stock module absent from that same folder says the copy may be partial there
too instead of resting on "a copy of that folder" alone (issue 22 point 3, docs/images.md)."""

from __future__ import annotations

import shutil

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


def test_the_partial_copy_warning_is_not_said_to_fail_on_start(report: Report) -> None:
    [partial] = [f for f in report.findings if f.rule == "binary-missing" and "may be partial" in (f.binary or "")]
    assert "fails when someone starts it" not in partial.cause
    assert "does not start by itself" in partial.cause  # NOTE: still said: a fact about the pool


def test_a_non_stock_module_absent_from_a_partial_folder_says_the_copy_may_be_partial(report: Report) -> None:
    rewrite = [f for f in report.findings if f.rule == "binary-missing" and "rewrite.dll" in (f.binary or "")]
    assert rewrite  # NOTE: one per 32-bit pool's worker
    assert all("authanon.dll" in f.cause and "may be partial" in f.cause for f in rewrite)
