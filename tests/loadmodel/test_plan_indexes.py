"""The plan's indexes of its loads (issue 25: built once per plan, not a walk of every load per rule) are what a walk of
the loads gives: ``LoadPlan.loads_of`` of one kind and of several, in plan order, and ``LoadPlan.troubled`` (the loads
binary-invalid and coverage look at, with those not in the image that nobody checked, ``Load.not_checked``), on the demo servers and on an image whose bins hold what the scan cannot check
(a truncated file, a text file named .dll, an ARM64X image on an OS the scan only assumed, an unreadable link)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from iisbitness.api import ScanOptions
from iisbitness.arch import Arch
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import ARM64_HYBRIDS, LoadKind, LoadPlan
from iisbitness.pe.types import ImageKind
from iisbitness.scan.pipeline import read_backend
from tests.conftest import DEMO, bin_image


def _plan(root: Path, os_arch: Arch | None) -> LoadPlan:
    """The plan of the image at ``root``, its OS ``os_arch`` as ``--os-arch`` gives it, or x64 only assumed."""
    img = ServerImage.offline(root)
    os_from = "--os-arch" if os_arch is not None else "assumed (no Windows folder in the image)"
    backend = read_backend(img, os_arch or Arch.X64, os_from, ScanOptions())
    return backend.plan(PlanContext(img, os_assumed=backend.os_assumed))


def _troubled_image(tmp_path: Path) -> Path:
    pools = ('<add name="P64" managedRuntimeVersion="v4.0" />'
             '<add name="P32" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />')
    root = bin_image(tmp_path / "img", pools, {"A": ("P64", "a"), "B": ("P32", "b")},
                     {"ManagedApp.dll": "ManagedApp.dll", "managed_x86.dll": "managed_x86.dll",
                      "bad.dll": "corrupt_truncated.dll", "text.dll": "not_pe.txt",
                      "hybrid.dll": "hybrid_arm64x_marker.dll", "native.dll": "nativelib_x86.dll"})
    (root / "sites/a/bin/dangling.dll").symlink_to(root / "sites/a/bin/nothing")
    return root


@pytest.mark.parametrize("which", ["contoso-iis10", "w2003-iis6", "troubled", "troubled-arm64"])
def test_the_indexes_are_a_walk_of_the_loads(which: str, tmp_path: Path) -> None:
    if which.startswith("troubled"):
        plan = _plan(_troubled_image(tmp_path), Arch.ARM64 if which.endswith("arm64") else None)
    else:
        plan = _plan(DEMO / which, None)
    assert plan.loads
    for kind in LoadKind:
        assert tuple(plan.loads_of(kind)) == tuple(ld for ld in plan.loads if ld.kind is kind), kind
    for pair in [*combinations(LoadKind, 2), *combinations(LoadKind, 3)]:
        assert list(plan.loads_of(*pair)) == [ld for ld in plan.loads if ld.kind in pair], pair
    assert list(plan.loads_of(LoadKind.BIN_ASSEMBLY, LoadKind.BIN_ASSEMBLY)) == list(plan.loads_of(LoadKind.BIN_ASSEMBLY))
    assert list(plan.loads_of()) == []
    walked = tuple(ld for ld in plan.loads if ld.binary.problem is not None or (
        ld.binary.image is not None and (ld.binary.image.kind is ImageKind.NOT_PE or plan.os_undecided(ld.binary)))
        or ld.not_checked)
    assert plan.troubled() == walked
    if which == "troubled":
        assert {ld.name for ld in walked} == {"bad.dll", "text.dll", "hybrid.dll", "dangling.dll"}
        assert plan.server.os_arch_assumed and any(ld.binary.image is not None
                                                   and ld.binary.image.hybrid in ARM64_HYBRIDS for ld in walked)
    if which == "troubled-arm64":
        assert {ld.name for ld in walked} == {"bad.dll", "text.dll", "dangling.dll"}
