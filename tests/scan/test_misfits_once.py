"""The rules ask which loads do not fit their process once per plan (issue 25: ``Load.fits`` was evaluated three
times per ``bin`` file of a 10,000-assembly scan, by managed-assembly-arch, iis-manager-32bit-assembly and the split
fix's index, each walking every ``bin`` load)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.build import build
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import Load, LoadKind
from iisbitness.rules import RULES
from iisbitness.scan.pipeline import run_rules
from tests.conftest import apphost, make_image, site


def test_each_bin_load_is_asked_whether_it_fits_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pools = '<add name="P64" managedRuntimeVersion="v4.0" />'
    image = make_image(tmp_path, apphost(pools, site("S", 1, "P64", r"C:\s")), {
        "s/bin/Plain.dll": "managed_anycpu.dll", "s/bin/x86.dll": "managed_x86.dll",
        "s/bin/ManagedApp.dll": "ManagedApp.dll", "s/bin/managed_x86.dll": "managed_x86.dll",
        "s/bin/nativelib.dll": "nativelib_x86.dll"})
    img = ServerImage.offline(image)
    plan = build(read_server(img, Arch.X64, "test"), PlanContext(img))
    asked: dict[int, int] = {}
    plain = Load.fits

    def counted(self: Load) -> bool | None:
        asked[id(self)] = asked.get(id(self), 0) + 1
        return plain.fget(self)  # type: ignore[attr-defined,no-any-return]

    monkeypatch.setattr(Load, "fits", property(counted))
    findings = run_rules(plan, tuple(RULES))
    assert {f.rule for f in findings} >= {"managed-assembly-arch", "iis-manager-32bit-assembly", "native-library-arch"}
    bins = [ld for ld in plan.loads if ld.kind in (LoadKind.BIN_ASSEMBLY, LoadKind.BIN_NATIVE)]
    assert len(bins) >= 8 and max(asked.get(id(ld), 0) for ld in bins) == 1
