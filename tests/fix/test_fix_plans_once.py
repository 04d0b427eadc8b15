"""``fix`` plans the server once (issue 25): the choice of fixes re-analyses against the scan's own plan, planning
context and findings (:class:`iisbitness.scan.pipeline.Analysed`), not a second plan of the server and a second run
of every rule; what it plans is the same either way (the benchmarks' section "fixsarif2" compared the outputs byte
for byte with the tree that planned twice)."""

from __future__ import annotations

from collections import ChainMap
from pathlib import Path

import pytest

from iisbitness.formats.causes import view
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import LoadPlan
from iisbitness.scan.backend import Iis6Backend, Iis7Backend
from iisbitness.scan.fix import plan_fix
from iisbitness.scan.pipeline import ScanOptions
from tests.conftest import DEMO


@pytest.mark.parametrize("image, backend", [("contoso-iis10", Iis7Backend), ("w2003-iis6", Iis6Backend)])
@pytest.mark.parametrize("cache", [False, True])
def test_fix_plans_the_server_once(image: str, backend: type[Iis7Backend | Iis6Backend], cache: bool,
                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # NOTE: a plan of the server as it is is built in a planning context of its own; every re-plan of an edited
    # model reads through a scratch layer over it (pipeline._scratch: its memo a ChainMap)
    plans: list[LoadPlan] = []
    real = backend.plan

    def counted(self: Iis7Backend | Iis6Backend, ctx: PlanContext, *args: object, **kwargs: object) -> LoadPlan:
        plan = real(self, ctx, *args, **kwargs)  # type: ignore[arg-type]
        if not isinstance(ctx.plans, ChainMap):
            plans.append(plan)
        return plan

    monkeypatch.setattr(backend, "plan", counted)
    options = ScanOptions(cache=tmp_path / "cache.sqlite" if cache else None)
    plan = plan_fix(DEMO / image, options, numbering=lambda r: [n.fix for n in view(r).fixes])
    assert plan.chosen, "the demo image has fixes to choose"
    assert len(plans) == 1
