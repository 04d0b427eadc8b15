"""A shared-hosting server, many pools, each with the same mismatched global modules (issue 25): the work per
finding must not grow with the number of pools (benchmarks/bench_pools.py measures it at 10,000)."""

from __future__ import annotations

import json
from collections import ChainMap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.formats import scan_json
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.build import build
from iisbitness.loadplan.collectors.modules import collect_global_modules
from iisbitness.loadplan.context import Collector, PlanContext
from iisbitness.loadplan.coverage import plan_coverage
from iisbitness.loadplan.plan import CoverageStatus, Load
from iisbitness.model.edits import MoveToNewPool, SetPoolArch, apply_all
from iisbitness.model.iis7 import Application, Server
from iisbitness.scan.backend import Iis7Backend
from iisbitness.scan.loadmap import APPLICATION, load_map
from tests.conftest import apphost, make_image, site

POOLS = 12


def _image(tmp_path: Path, count: int = POOLS) -> Path:
    pools = "\n".join(f'<add name="Pool{i}" managedRuntimeVersion="v4.0" />' for i in range(count))
    sites = "\n".join(site(f"Site{i}", i + 1, f"Pool{i}", rf"C:\sites\s{i}") for i in range(count))
    modules = ("<globalModules>" + "".join(f'<add name="Vendor{k}" image="C:\\Vendor\\m{k}.dll" />' for k in range(2))
               + "</globalModules>")
    files: dict[str, str | Path | bytes] = {f"Vendor/m{k}.dll": "module_x86.dll" for k in range(2)}
    files.update({f"sites/s{i}/default.htm": "hello" for i in range(count)})
    return make_image(tmp_path / f"img{count}", apphost(pools, sites, modules), files)


def test_every_finding_of_a_module_offers_one_and_the_same_precondition_fix(tmp_path: Path) -> None:
    """The preCondition fix names every pool the module stops: built once per module and shared, not once per
    finding (at 10,000 pools, 40,000 copies of a 10,000-name command)."""
    report = scan(_image(tmp_path), ScanOptions())
    by_module: dict[str, list[tuple[str, ...]]] = {}
    for f in report.findings:
        if f.rule == "global-module-arch":
            restrict = next(x for x in f.fixes if x.summary.startswith("Load global module"))
            by_module.setdefault(f.binary or "", []).append(restrict.commands)
    assert len(by_module) == 2
    for commands in by_module.values():
        assert len(commands) == POOLS
        assert all(c is commands[0] for c in commands)
        assert f'"Pool{POOLS - 1}"' in commands[0][-1]


def test_a_plan_of_some_pools_collects_only_those(tmp_path: Path) -> None:
    """Verifying a fix to one pool re-plans that pool: the other pools are not collected again, nor walked."""
    image = _image(tmp_path)
    img = ServerImage.offline(image)
    server = read_server(img, Arch.X64, "test")
    seen: list[str] = []

    def counting(*args: object) -> object:
        process = args[2]
        seen.append(process.pool.name)  # type: ignore[attr-defined]
        return collect_global_modules(*args)  # type: ignore[arg-type]

    collectors: tuple[Collector, ...] = (counting,)  # type: ignore[assignment]
    ctx = PlanContext(img)
    build(server, ctx, collectors)
    assert len(set(seen)) == POOLS
    seen.clear()
    flipped = apply_all(server, (SetPoolArch("Pool3", Arch.X86),))
    plan = build(flipped, PlanContext(img), collectors, pools=frozenset({"pool3"}))
    assert set(seen) == {"Pool3"}
    assert {ld.process.pool.name for ld in plan.loads if ld.process.pool} == {"Pool3"}
    assert [p.name for p in flipped.pools] == [p.name for p in server.pools], "the flipped pool keeps its place"


def test_the_json_document_grows_linearly_with_pools(tmp_path: Path) -> None:
    """Each fix is written once in the document's ``fixes`` table and each cause's pools once in ``causes``:
    a module's preCondition fix names every pool and serves every pool's finding, so a copy per finding made
    the document grow with pools x pools (48.7 MB at 150 pools of benchmarks/bench_pools.py)."""
    per_pool: dict[int, float] = {}
    for count in (50, 200):
        text = scan_json.render(scan(_image(tmp_path, count), ScanOptions()))
        doc = json.loads(text)
        assert len(doc["findings"]) == 2 * count
        restrict = [x for x in doc["fixes"] if x["summary"].startswith("Load global module")]
        assert len(restrict) == 2 and f'"Pool{count - 1}"' in restrict[0]["commands"][-1]
        per_pool[count] = len(text.encode()) / count
    assert per_pool[200] < 1.5 * per_pool[50], per_pool


def _split_image(tmp_path: Path, count: int = POOLS) -> Path:
    """``count`` 64-bit pools, each with a site of two applications whose ``bin`` holds an x86-only assembly: a
    cause per pool, each offering a split of its pool (``benchmarks/bench_pools.py --shape bin``)."""
    pools = "\n".join(f'<add name="Pool{i}" managedRuntimeVersion="v4.0" />' for i in range(count))
    sites = "\n".join(site(f"Site{i}", i + 1, f"Pool{i}", rf"C:\sites\s{i}", extra_apps=(
        f'<application path="/app" applicationPool="Pool{i}"><virtualDirectory path="/" '
        f'physicalPath="C:\\sites\\s{i}\\app" /></application>')) for i in range(count))
    files: dict[str, str | Path | bytes] = {}
    for i in range(count):
        files.update({f"sites/s{i}/bin/managed_x86.dll": "managed_x86.dll",
                      f"sites/s{i}/app/bin/managed_x86.dll": "managed_x86.dll"})
    return make_image(tmp_path / f"split{count}", apphost(pools, sites), files)


def test_a_split_copy_of_the_server_answers_as_one_read_afresh(tmp_path: Path) -> None:
    """Moving an application to a new pool copies only its site and updates the indexes of the copy: it answers
    every question as the same server read afresh (no index) does."""
    img = ServerImage.offline(_split_image(tmp_path))
    server = read_server(img, Arch.X64, "test")
    # NOTE: ask once, so that the server has every index the copy is made from
    server.pool("Pool0"), server.applications_in(server.pools[0]), server.starts_manually(), server.undeclared_pools()
    moved = apply_all(server, (MoveToNewPool((("Site3", "/app"),), "Pool3_32", Arch.X86, "Pool3"),))
    fresh = replace(moved)  # NOTE: replace builds a new object: its indexes are built when first asked
    assert moved == fresh and moved.sites[3] is not server.sites[3] and moved.sites[4] is server.sites[4]
    for p in moved.pools:
        assert moved.applications_in(p) == fresh.applications_in(p), p.name
        assert moved.pool(p.name) == fresh.pool(p.name)
    assert [a.label for a in moved.applications_in(moved.pools[3])] == ["Site3/"]
    assert [a.label for a in moved.applications_in(moved.pools[-1])] == ["Site3/app"]
    assert moved.pools_named({"pool3_32", "pool3"}) == fresh.pools_named({"pool3_32", "pool3"})
    assert (moved.undeclared_pools(), moved.starts_manually()) == (fresh.undeclared_pools(), fresh.starts_manually())


def test_verifying_a_split_walks_the_pools_it_touches_not_every_application(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A split's re-plan (the pool it leaves and the new one) does not work out every application's folder again
    for COM's application roots: at 10,000 pools, one walk of 20,000 applications per split fix (issue 25)."""
    from iisbitness.loadplan.collectors import com

    img = ServerImage.offline(_split_image(tmp_path))
    server = read_server(img, Arch.X64, "test")
    ctx = PlanContext(img)
    build(server, ctx)
    asked: list[str] = []
    counted = com.app_folder

    def counting(c: PlanContext, s: Server, app: Application, arch: Arch) -> object:
        asked.append(app.label)
        return counted(c, s, app, arch)

    monkeypatch.setattr(com, "app_folder", counting)
    for i in range(POOLS):
        moved = apply_all(server, (MoveToNewPool(((f"Site{i}", "/app"),), f"Pool{i}_32", Arch.X86, f"Pool{i}"),))
        plan = build(moved, replace(ctx, plans=ChainMap({}, ctx.plans)), pools=frozenset({f"pool{i}", f"pool{i}_32"}))
        assert {ld.process.pool.name for ld in plan.loads if ld.process.pool} == {f"Pool{i}", f"Pool{i}_32"}
    assert set(asked) <= {f"Site{i}/{a}" for i in range(POOLS) for a in ("", "app")}
    assert len(asked) <= POOLS * 2 * 2, "each split asks for its own pools' applications (at two architectures)"


class _CountingTuple(tuple[str, ...]):
    """A tuple that counts the ``in`` tests made of it."""

    tests = 0

    def __contains__(self, item: object) -> bool:
        type(self).tests += 1
        return super().__contains__(item)


def test_the_pool_table_looks_no_pool_up_in_the_tuple_of_idle_pools(tmp_path: Path) -> None:
    """Each pool's row asks whether the pool is idle of a set made once: asked of the plan's tuple of every idle pool,
    the table was quadratic (a scan of 10,000 pools that host nothing: 1.03 s of CPU, 0.28 s with the set)."""
    pools = "\n".join(f'<add name="Idle{i}" managedRuntimeVersion="v4.0" />' for i in range(POOLS))
    image = make_image(tmp_path / "idle", apphost(pools + '<add name="Pool0" />', site("Site0", 1, "Pool0", r"C:\s0")),
                       {"s0/default.htm": "hello"})
    img = ServerImage.offline(image)
    backend = Iis7Backend(read_server(img, Arch.X64, "test"))
    plan = backend.plan(PlanContext(img))
    assert len(plan.idle_pools) == POOLS
    _CountingTuple.tests = 0
    counted = replace(plan, idle_pools=_CountingTuple(plan.idle_pools))
    rows = backend.pool_summaries(counted)
    assert [r.idle for r in rows] == [True] * POOLS + [False]
    assert _CountingTuple.tests == 0


class _CountingLoads(tuple[Load, ...]):
    """A tuple of loads that counts the walks made of it."""

    walks = 0

    def __iter__(self) -> Iterator[Load]:
        type(self).walks += 1
        return super().__iter__()


def test_the_load_map_finds_the_processes_of_applications_not_read_in_one_walk(tmp_path: Path) -> None:
    """Each application not read is shown under the first process of its pool, from one walk of the plan: a walk per
    application made the map of 2,000 pools whose content is not in the image take 0.84 s of CPU (0.04 s now)."""
    pools = "\n".join(f'<add name="Pool{i}" managedRuntimeVersion="v4.0" />' for i in range(POOLS))
    sites = "\n".join(site(f"Site{i}", i + 1, f"Pool{i}", rf"C:\sites\s{i}") for i in range(POOLS))
    modules = '<globalModules><add name="Vendor" image="C:\\Vendor\\m.dll" /></globalModules>'
    image = make_image(tmp_path / "nocontent", apphost(pools, sites, modules), {"Vendor/m.dll": "module_x86.dll"})
    img = ServerImage.offline(image)
    ctx = PlanContext(img)
    plan = build(read_server(img, Arch.X64, "test"), ctx)
    coverage = plan_coverage(ctx, plan, [])
    assert sum(c.status is not CoverageStatus.CHECKED for c in coverage) == POOLS
    _CountingLoads.walks = 0
    entries = load_map(replace(plan, loads=_CountingLoads(plan.loads)), coverage)
    assert _CountingLoads.walks <= 2
    apps = [e for e in entries if e.kind == APPLICATION]
    assert [(e.pool, e.process, e.process_arch) for e in apps] == [(f"Pool{i}", "w3wp.exe", Arch.X64)
                                                                    for i in range(POOLS)]
