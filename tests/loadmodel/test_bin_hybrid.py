"""An ARM64X or ARM64EC image in an application's ``bin``, as the worker of a server that is not Windows on Arm sees it
(issue 25, tenth round: :meth:`~iisbitness.loadplan.context.PlanContext.resolve_files` judges it by the OS without
the per-file call chain it had: it must still be judged)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from tests.conftest import apphost, make_image, site

POOLS = '<add name="P64" managedRuntimeVersion="v4.0" />'


@pytest.mark.parametrize("dll", ["hybrid_arm64x_marker.dll", "hybrid_arm64ec_marker.dll"])
def test_a_hybrid_arm64_dll_in_bin_loads_nowhere_off_windows_on_arm(tmp_path: Path, dll: str) -> None:
    """The bin file's reference holds the image as x64 Windows sees it (loadable by no process, the reason in its
    notes), at the pool's architecture and at its outlook's; on Windows on Arm, as its headers say."""
    img = make_image(tmp_path, apphost(POOLS, site("A", 1, "P64", r"C:\a")), {"a/bin/hyb.dll": dll})
    loads = [e for e in scan(img, ScanOptions(load_map=True)).loads or () if e.name == "hyb.dll"]
    assert loads, "the bin file has a load"
    for entry in loads:
        assert "on x64 Windows: its code is ARM64" in entry.reason, entry.reason
    on_arm = [e for e in scan(img, ScanOptions(os_arch=Arch.ARM64, load_map=True)).loads or () if e.name == "hyb.dll"]
    assert on_arm and all("its code is ARM64" not in e.reason for e in on_arm)
