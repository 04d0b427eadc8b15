"""A folder the configuration writes in two cases is one folder (NTFS compares names case-insensitively), and a copy
that holds the folder without its DLLs is not said to lack the folder (audit11 K5).

A real configuration as it is (collinsauve/AspNetCoreTest: Windows' own modules under ``%windir%\\System32\\inetsrv``,
URL Rewrite, HttpPlatformHandler, ANCM v1 and the gzip scheme under ``%SystemRoot%\\system32\\inetsrv``) in an image
whose ``Windows/System32/inetsrv`` holds ``config`` only (copied for applicationHost.config, its DLLs left out) and
whose ``Windows/SysWOW64/inetsrv`` holds the x86 builds: the 64-bit pool's files there were not checked. The coverage
said "the image does not hold C:\\Windows\\System32\\inetsrv" and "... C:\\Windows\\system32\\inetsrv", and gave "copy
C:\\Windows\\System32\\inetsrv ...; copy C:\\Windows\\system32\\inetsrv ...": one folder twice, said absent though
the image holds it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iisbitness.api import scan
from iisbitness.loadplan.plan import Coverage
from tests.conftest import CORPUS, fixture, make_image

CONFIG = CORPUS / "iis-config" / "collinsauve__AspNetCoreTest__iis__applicationHost.config"
INETSRV = "c:\\windows\\system32\\inetsrv"


def _www(root: Path, *, wow64: tuple[str, ...] | None = None, extra: str = "") -> Coverage:
    """The coverage of the config's one application (site www, 64-bit DefaultAppPool) in an image whose System32\\inetsrv
    holds config only; SysWOW64\\inetsrv holds an x86 build of ``wow64`` (default: every DLL the config names there)."""
    if not CONFIG.is_file():
        pytest.skip("no shared corpus")
    text = CONFIG.read_text(encoding="utf-8-sig")
    if extra:
        rewrite = '<add name="RewriteModule" '
        assert rewrite in text
        text = text.replace(rewrite, f"{extra}\n            {rewrite}", 1)
    names = wow64 if wow64 is not None else tuple(sorted(
        {m.lower() for m in re.findall(r"inetsrv\\([A-Za-z_0-9]+\.dll)", text)}))
    files: dict[str, str | Path | bytes] = {f"Windows/SysWOW64/inetsrv/{n}": fixture("module_x86.dll") for n in names}
    files["code/AspNetCoreTest/WebApplication2/index.htm"] = "<p>hi</p>"
    image = make_image(root, text, files)
    assert (image / "Windows/System32/inetsrv").is_dir()
    [www] = scan(image).coverage
    assert www.application == "www/"
    return www


def test_the_folder_is_named_once_in_the_remedy_and_the_reasons(tmp_path: Path) -> None:
    www = _www(tmp_path)
    assert www.remedy.lower().count(f"copy {INETSRV} into the image") == 1, www.remedy
    about = [r for r in www.reasons if INETSRV in r.lower()]
    assert len(about) == 1, www.reasons  # NOTE: one reason for the folder, its files from both spellings in it
    # NOTE: Windows' own modules (System32) and the vendors' (system32) when both views are judged alike; the vendors'
    # alone where Windows' own are inferred from their folder (audit11 K1): either way every one in the one reason
    assert "rewrite.dll" in about[0] or about[0].startswith("cachuri.dll") and "and 15 more" in about[0], about[0]


def test_a_folder_the_image_holds_is_not_said_to_be_absent(tmp_path: Path) -> None:
    [about] = [r for r in _www(tmp_path).reasons if INETSRV in r.lower()]
    assert f"the image does not hold these files of {INETSRV}, only" in about.lower(), about
    assert f"the image does not hold {INETSRV}," not in about.lower()


def test_one_file_is_this_file(tmp_path: Path) -> None:
    """SysWOW64 holds URL Rewrite's x86 build alone: Windows' own modules, in neither view, are inferred from their
    folder; rewrite.dll was not checked, and the reason says "this file of" the folder."""
    [about] = [r for r in _www(tmp_path, wow64=("rewrite.dll",)).reasons if INETSRV in r.lower()]
    assert about.lower().startswith(f"rewrite.dll, which its worker loads, was not checked: the image does not hold "
                                    f"this file of {INETSRV}, only"), about


def test_two_vendor_modules_in_two_cases_are_one_folder(tmp_path: Path) -> None:
    """A second vendor module written %windir%\\System32\\inetsrv, before URL Rewrite's %SystemRoot%\\system32\\inetsrv:
    one reason naming both, in the case the configuration wrote first, one remedy."""
    www = _www(tmp_path, wow64=("rewrite.dll", "vendortwo.dll"),
               extra='<add name="VendorTwo" image="%windir%\\System32\\inetsrv\\vendortwo.dll" />')
    [about] = [r for r in www.reasons if INETSRV in r.lower()]
    assert about.startswith("vendortwo.dll, rewrite.dll, which its worker loads, were not checked"), about
    assert "these files of C:\\Windows\\System32\\inetsrv," in about
    assert www.remedy == "copy C:\\Windows\\System32\\inetsrv into the image as Windows/System32/inetsrv"
