"""A hand copy that left out one WOW64 view of ``inetsrv`` (SysWOW64 not copied, or System32\\inetsrv copied with its
config folder only) while it holds the other view's builds of Windows' own IIS modules.

Windows installs its own IIS modules in both views (facts B12: "works in both bitnesses only because IIS ships two
copies"), so the other view's copy says the copy left the folder out, not that the server lacks this build: the
folder tells the build (inferred, as the load map says), as for any folder the image does not hold.
Before, each was a could-not-check warning "the product's installer may have put only that build on the server", with
a "verified" fix taking Windows' own module out of every worker of that bitness (preCondition="bitness32" on
FileCacheModule, HttpLoggingModule, ... in all 64-bit pools), which ``fix`` planned. A vendor module (URL Rewrite's
rewrite.dll) keeps the warning naming the other build: which builds its installer puts where is its own choice.

Real inputs: the corpus configuration c1982__IIS-SharedGitConfig (a server's, pools 32-bit by
applicationPoolDefaults, the stock globalModules plus rewrite.dll) as it is, and the compiler-built module fixtures."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.image.stock import is_windows_iis_binary
from iisbitness.report import Report
from tests.conftest import CORPUS, fixture

CONFIG = CORPUS / "iis-config" / "c1982__IIS-SharedGitConfig__applicationHost.config"
_INETSRV = re.compile(r'(?:image|dll)="%(?:windir|systemroot)%\\system32\\inetsrv\\([^"\\]+\.dll)"', re.IGNORECASE)


def _image(root: Path, views: dict[str, str], pools_64bit: bool = False) -> Path:
    """``root`` as C:, holding the corpus configuration and, per WOW64 view folder in ``views``, a build (the fixture
    named) of every ``inetsrv`` DLL the configuration names; ``pools_64bit`` turns its pools' default to 64-bit."""
    text = CONFIG.read_text(encoding="utf-8-sig")
    if pools_64bit:
        text = text.replace('enable32BitAppOnWin64="true"', 'enable32BitAppOnWin64="false"')
    config = root / "Windows/System32/inetsrv/config/applicationHost.config"
    config.parent.mkdir(parents=True)
    config.write_text(text, encoding="utf-8")
    for folder, build in views.items():
        for name in set(_INETSRV.findall(text)):
            dest = root / "Windows" / folder / "inetsrv" / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(fixture(build), dest)
    return root


def _missing(report: Report) -> list[str]:
    return [f.binary or "" for f in report.findings if f.rule == "binary-missing"]


def _precondition_fixes(report: Report) -> list[str]:
    """The preCondition fixes of findings about any binary but URL Rewrite's rewrite.dll (a vendor module)."""
    return [f"{f.binary}: {x.label}" for f in report.findings for x in f.fixes
            if "preCondition" in x.label and "rewrite.dll" not in (f.binary or "").lower()]


@pytest.fixture(autouse=True)
def _corpus() -> None:
    if not CONFIG.is_file():
        pytest.skip("no shared corpus")


def test_syswow64_not_copied_windows_modules_are_inferred_x86_not_taken_out_of_32bit_pools(tmp_path: Path) -> None:
    report = scan(_image(tmp_path, {"System32": "module_x64.dll"}), ScanOptions(os_arch=Arch.X64, load_map=True))
    missing = _missing(report)
    assert not [b for b in missing if "rewrite.dll" not in b.lower()], missing
    assert not _precondition_fixes(report)
    assert report.loads is not None
    authanon = [e for e in report.loads if e.name == "AnonymousAuthenticationModule" and e.process_arch is Arch.X86]
    assert authanon and all(e.verdict.value == "loads" and e.evidence == "inferred" for e in authanon)
    # NOTE: a vendor module keeps its could-not-check warning naming the other build
    rewrite = [f for f in report.findings if f.rule == "binary-missing" and "rewrite.dll" in (f.binary or "").lower()]
    assert rewrite and all("installer may have put only that build" in f.cause for f in rewrite)


def test_system32_inetsrv_holding_only_config_no_fix_takes_windows_modules_out_of_64bit_pools(tmp_path: Path) -> None:
    report = scan(_image(tmp_path, {"SysWOW64": "module_x86.dll"}, pools_64bit=True),
                  ScanOptions(os_arch=Arch.X64, load_map=True))
    stock = [b for b in _missing(report) if is_windows_iis_binary(b.lower().replace("%windir%", "c:\\windows"))]
    assert not stock
    assert not _precondition_fixes(report)
    assert report.loads is not None
    authanon = [e for e in report.loads if e.name == "AnonymousAuthenticationModule" and e.process_arch is Arch.X64]
    assert authanon and all(e.verdict.value == "loads" and e.evidence == "inferred" for e in authanon)
    # NOTE: the vendor module's warning does not say the image lacks System32\inetsrv, which it holds (its config
    # folder): it holds no binary there
    rewrite = [f for f in report.findings if f.rule == "binary-missing" and "rewrite.dll" in (f.binary or "").lower()]
    assert rewrite and all("The image holds no binary in " in f.cause and "The image does not hold" not in f.cause
                           for f in rewrite), [f.cause for f in rewrite]
