"""A ``bin`` folder's native copies and P/Invoke callers are worked out once per planning context, folder and
architecture (``PlanContext.bin_extras``, issue 25): a pool's outlook and each fix's re-plan ask again, and the
answer must be the one a fresh context gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.collectors import bin as bin_collector
from iisbitness.loadplan.collectors.bin import bin_fails, collect_bin
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import Load, Process, worker_candidates
from tests.conftest import apphost, make_image, site


def _image(tmp_path: Path) -> Path:
    """Two sites of one pool: an AnyCPU assembly P/Invoking ``nativelib``, an x86 ``nativelib.dll`` with its
    per-architecture copies below ``bin\\x64`` and ``bin\\runtimes\\win-arm64\\native``."""
    pools = '<add name="A" managedRuntimeVersion="v4.0" />'
    sites = site("S1", 1, "A", r"C:\sites\a") + site("S2", 2, "A", r"C:\sites\b")
    files: dict[str, str | Path | bytes] = {}
    for folder in ("a", "b"):
        files.update({f"sites/{folder}/bin/ManagedApp.dll": "ManagedApp.dll",
                      f"sites/{folder}/bin/nativelib.dll": "nativelib_x86.dll",
                      f"sites/{folder}/bin/x64/nativelib.dll": "nativelib_x64.dll",
                      f"sites/{folder}/bin/runtimes/win-arm64/native/nativelib.dll": "nativelib_arm64.dll"})
    return make_image(tmp_path / "img", apphost(pools, sites), files)


@pytest.mark.parametrize("os_arch", [Arch.X64, Arch.ARM64])
def test_remembered_copies_and_callers_are_a_fresh_contexts(tmp_path: Path, os_arch: Arch,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    img = ServerImage.offline(_image(tmp_path))
    server = read_server(img, os_arch, "test")
    pool = server.pools[0]
    apps = server.applications_in(pool)
    warm = PlanContext(img)
    for arch in worker_candidates(os_arch):
        bin_fails(warm, server, Process("w3wp.exe", arch, pool), apps)
    worked: list[Path] = []
    callers = bin_collector._pinvoke_callers
    monkeypatch.setattr(bin_collector, "_pinvoke_callers",
                        lambda ctx, host, names, refs: worked.append(host) or callers(ctx, host, names, refs))
    copies = 0
    for arch in worker_candidates(os_arch):
        process = Process("w3wp.exe", arch, pool)
        again = [f for f in collect_bin(warm, server, process, apps) if isinstance(f, Load)]
        fresh = [f for f in collect_bin(PlanContext(img), server, process, apps) if isinstance(f, Load)]
        assert again == fresh, arch
        copies += sum(len(ld.entry.copies) for ld in again if hasattr(ld.entry, "copies"))
        assert all(ld.entry.callers == ("ManagedApp.dll",) for ld in again  # type: ignore[union-attr]
                   if ld.name == "nativelib.dll"), arch
    assert copies > 0, "the copies below bin are found"
    assert len(worked) == len(worker_candidates(os_arch)) * 2, "the warm context worked out neither folder again"
