"""One look-up of a pool's outlook and of its worker, on the plan (:meth:`LoadPlan.outlook_of`,
:meth:`LoadPlan.worker_of`): case-insensitive as IIS pool names are, and the same answer for every caller (the rules'
flip target, verification's unread bins, the pipeline's plan of the pools a fix touches, the side effects' workers,
the load map's applications not read). And the order they rely on: a process's loads follow one another."""

from __future__ import annotations

from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import LoadPlan
from iisbitness.scan.loadmap import load_map
from iisbitness.scan.pipeline import ScanOptions, read_backend
from tests.conftest import DEMO


def _plan(image: Path) -> LoadPlan:
    img = ServerImage.offline(image)
    return read_backend(img, Arch.X64, "test", ScanOptions()).plan(PlanContext(img))


def test_a_pool_s_outlook_and_worker_are_found_in_any_case() -> None:
    plan = _plan(DEMO / "contoso-iis10")
    outlook = plan.outlook_of("LegacyPool32")
    assert outlook is not None and outlook.pool == "LegacyPool32" and outlook.current is Arch.X86
    assert plan.outlook_of("legacypool32") is outlook and plan.outlook_of("LEGACYPOOL32") is outlook
    worker = plan.worker_of("legacyPOOL32")
    assert worker is not None and worker.name == "w3wp.exe" and worker.arch is Arch.X86
    assert worker.pool is not None and worker.pool.name == "LegacyPool32"
    assert worker is next(ld.process for ld in plan.loads if ld.process.pool is worker.pool)
    assert plan.outlook_of("NoSuchPool") is None and plan.worker_of("NoSuchPool") is None
    assert plan.worker_of("SpareAppPool") is None  # NOTE: idle: no worker starts


def test_a_worker_that_loads_nothing_of_ours_is_its_outlook_s() -> None:
    """A pool hosting applications whose worker loads nothing of the plan's still has its worker (WAS starts it at the
    pool's bitness): the outlook's architecture."""
    plan = _plan(DEMO / "contoso-iis10")
    for outlook in plan.outlook:
        worker = plan.worker_of(outlook.pool)
        assert worker is not None and worker.arch is outlook.current, outlook.pool
    bare = LoadPlan(plan.server, (), outlook=plan.outlook)
    assert [(w.name, w.arch) for o in plan.outlook if (w := bare.worker_of(o.pool)) is not None] == [
        ("w3wp.exe", o.current) for o in plan.outlook]


def test_a_pool_s_process_s_loads_follow_one_another() -> None:
    """:attr:`LoadPlan.loads`, what the pipeline's per-pool index relies on (for speed): one run per pool's process;
    IIS 6's processes of no pool (IIS 5 isolation mode) may come back, and the load map still groups them."""
    for image in ("contoso-iis10", "w2003-iis6"):
        plan = _plan(DEMO / image)
        runs = [ld.process.key for i, ld in enumerate(plan.loads) if i == 0 or ld.process is not plan.loads[i - 1].process]
        pooled = [r for r in runs if r[1]]
        assert len(pooled) == len(set(pooled)), (image, runs)
    assert len(runs) > len(set(runs))  # NOTE: inetinfo.exe, dllhost.exe, inetinfo.exe: why the docstring says so
    shown = [(e.process, e.pool) for e in load_map(plan)]
    assert [k for i, k in enumerate(shown) if i == 0 or k != shown[i - 1]] == list(dict.fromkeys(shown))
