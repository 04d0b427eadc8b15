"""A pool's outlook asks the bin collector what fails at the architecture the pool does not run as (issue 25):
``bin_fails`` must give what ``_fails`` keeps of ``collect_bin``'s loads, for every pool and candidate architecture."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.build import _fails
from iisbitness.loadplan.collectors.bin import bin_fails, collect_bin
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import Process, worker_candidates
from iisbitness.model.source import Problem
from tests.conftest import bin_image

DEMO = Path(__file__).resolve().parents[2] / "src" / "iisbitness" / "demo" / "contoso-iis10"


def _chains(tmp_path: Path) -> Path:
    """A bin whose AnyCPU assembly needs an x86 one (a chain), a native x64 DLL, and a pool without managed code."""
    pools = ('<add name="A" managedRuntimeVersion="v4.0" />'
             '<add name="N" managedRuntimeVersion="" enable32BitAppOnWin64="true" />')
    return bin_image(tmp_path / "img", pools, {"S1": ("A", "a"), "S2": ("N", "n")},
                     {"ManagedApp.dll": "ManagedApp.dll", "managed_x86.dll": "managed_x86.dll",
                      "native_x64.dll": "isapi_ext_x64.dll"})


@pytest.mark.parametrize(("image", "os_arch"), [("demo", Arch.X64), ("demo", Arch.ARM64), ("chains", Arch.X64)])
def test_bin_fails_is_what_the_loads_say(tmp_path: Path, image: str, os_arch: Arch) -> None:
    img = ServerImage.offline(DEMO if image == "demo" else _chains(tmp_path))
    server = read_server(img, os_arch, "test")
    fast, slow = PlanContext(img), PlanContext(img)
    found = 0
    for pool in server.pools:
        apps = server.applications_in(pool)
        for arch in worker_candidates(os_arch):
            process = Process("w3wp.exe", arch, pool)
            fails, unlisted = bin_fails(fast, server, process, apps)
            loads = tuple(collect_bin(slow, server, process, apps))
            assert fails == _fails(loads), (pool.name, arch)
            # NOTE: and the bin folders not listed, which the main plan says as unread problems (none here)
            assert {w for _, w in unlisted} == {f"{p.file}: {p.message}" for p in loads
                                                 if isinstance(p, Problem) and p.unread}, (pool.name, arch)
            found += len(fails)
    assert found > 0, "bin assemblies fail somewhere"
    assert fast.facts.reads == slow.facts.reads, "the same files are read"
