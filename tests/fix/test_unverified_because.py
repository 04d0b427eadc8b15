"""Why a fix is not verified is a field of the fix (``Fix.unverified_because``), set wherever ``verified=False`` is
set, so that ``fix`` names it without reading the fix's note back by its opening words (review 2026-12-07)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.errors import IisBitnessError
from iisbitness.findings import Fix
from iisbitness.fixes.commands import ARM64_NATIVE_NOTE, ARM64_NATIVE_UNVERIFIED, create_pool, flip_pool
from tests.conftest import CORPUS, DEMO, make_image

APPHOSTS = sorted(p for d in ("iis-config", "iis-config-2") if (CORPUS / d).is_dir() for p in (CORPUS / d).glob("*")
                  if "applicationhost" in p.name.lower())


def _fixes(image: Path, os_arch: Arch | None = None) -> list[Fix]:
    return [x for f in scan(image, ScanOptions(os_arch=os_arch)).findings for x in f.fixes]


def _check(fixes: list[Fix]) -> int:
    """Assert each unverified fix has a reason and no other fix has one; the number of unverified fixes."""
    for x in fixes:
        if x.verified is False:
            assert x.unverified_because, x
            assert not x.unverified_because.startswith("Not verified") and not x.unverified_because.endswith("."), x
        else:
            assert x.unverified_because is None, x
    return sum(x.verified is False for x in fixes)


def test_every_unverified_fix_of_the_demos_says_why() -> None:
    unverified = sum(_check(_fixes(DEMO / name, arch)) for name, arch in (
        ("contoso-iis10", None), ("contoso-iis10", Arch.ARM64), ("w2003-iis6", None)))
    assert unverified > 0  # NOTE: the IIS 6 switch that breaks a filter, at least


def test_every_unverified_fix_of_the_corpus_says_why(tmp_path: Path) -> None:
    if not APPHOSTS:
        pytest.skip("no shared corpus")
    unverified = 0
    for i, config in enumerate(APPHOSTS):
        try:
            fixes = _fixes(make_image(tmp_path / str(i), config, wow64=False))
        except IisBitnessError:  # NOTE: the files IIS would not read, or no applicationHost.config (test_corpus pins them)
            continue
        unverified += _check(fixes)
    assert unverified > 0  # NOTE: NCIOCPL's pools applications name but no one defines, their folders not mapped


def test_a_native_arm64_pool_defined_says_why_it_is_not_verified() -> None:
    """create_pool replaced flip_pool's note, native ARM64's "Not verified: try it on a test server first." with it:
    the fix was unverified with a note that did not say so or why."""
    for fix in (flip_pool("P", Arch.ARM64, Arch.ARM64), create_pool("P", Arch.ARM64, Arch.ARM64)):
        assert fix.verified is False and fix.unverified_because == ARM64_NATIVE_UNVERIFIED
        assert fix.note is not None and fix.note.endswith(ARM64_NATIVE_NOTE)
    emulated = create_pool("P", Arch.X64, Arch.ARM64)
    assert emulated.verified is None and emulated.unverified_because is None and "ARM64" not in (emulated.note or "")
