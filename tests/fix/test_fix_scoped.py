"""``fix``'s choice of fixes re-analysed pool by pool (issue 25): a fix is re-checked in every pool its edits change
(not only its finding's), a server-wide edit on the whole server, and the plan is the one whole-server re-analyses give.

The first tests drive :func:`iisbitness.scan.fix._choose` with a model that is the edits made (as
``test_fixes_that_pass_alone_but_conflict_together_are_not_combined`` does): conflicts real configurations rarely show,
each respecting what :func:`iisbitness.model.edits.touched_pools` says an edit can change. The last ones run the real
re-analysis on images built from the compiled fixtures and compare the pool-by-pool choice with whole-server
re-analyses only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from iisbitness.arch import Arch
from iisbitness.findings import Finding, Fix, RuleId, Severity
from iisbitness.fixes.verify import Analysis
from iisbitness.formats import fix_json, fix_text
from iisbitness.loadplan.plan import Evidence, LoadPlan
from iisbitness.model.edits import Edit, SetGlobalModulePrecondition, SetPoolArch
from iisbitness.model.iis7 import Server
from iisbitness.report import Report, ServerSummary
from iisbitness.scan import fix as fix_module
from iisbitness.scan.backend import Backend
from iisbitness.scan.fix import Reanalyses, _choose, plan_fix
from iisbitness.scan.pipeline import Reanalysis
from tests.conftest import DEMO, apphost, make_image, site

EMPTY = LoadPlan(Server(Arch.X64, "test", "cfg", (), (), ()), ())
SUMMARY = ServerSummary("iis7+", "img", "cfg", Arch.X64, "test", False)
WARNING = "re-analyse differently on the whole server"


def _finding(rule: str, pool: str, binary: str, *edits: Edit) -> Finding:
    fixes = (Fix("fix " + pool, "fix", edits=edits, verified=True),) if edits else ()
    return Finding(RuleId(rule), Severity.ERROR, Evidence.READ, pool, "S" + pool, "/", "w3wp.exe", Arch.X64,
                   binary, None, (Arch.X86,), None, "s", "c", fixes=fixes)


def _arch(model: tuple[Edit, ...], pool: str) -> Arch:
    return next((e.arch for e in reversed(model) if isinstance(e, SetPoolArch) and e.pool == pool), Arch.X64)


class Edits:
    """The model is the edits made; ``findings`` says every finding of a model; a re-analysis of some pools shows
    their findings only. Counts the re-analyses, whole and scoped."""

    def __init__(self, findings: Callable[[tuple[Edit, ...]], list[Finding]]) -> None:
        self.findings = findings
        self.whole = self.scoped = 0

    def start(self) -> tuple[Edit, ...]:
        return ()

    def edited(self, model: tuple[Edit, ...], edits: tuple[Edit, ...]) -> tuple[Edit, ...]:
        return model + edits

    def analyse(self, model: tuple[Edit, ...], pools: frozenset[str] | None) -> Analysis:
        if pools is None:
            self.whole += 1
        else:
            self.scoped += 1
        found = self.findings(model)
        return Analysis([f for f in found if pools is None or (f.pool or "").lower() in pools], EMPTY, EMPTY)


def _check(report: Report, numbers: list[int], edits: Edits, caplog: pytest.LogCaptureFixture
           ) -> tuple[list[int], list[tuple[int, str]], tuple[Edit, ...]]:
    typed: Reanalyses[tuple[Edit, ...]] = edits  # NOTE: mypy checks the fake against the protocol
    with caplog.at_level(logging.WARNING, logger="iisbitness.scan.fix"):
        chosen, left, made, outcome = _choose(report, numbers, typed)
    assert WARNING not in caplog.text  # NOTE: the scoped checks alone saw the conflict (no second choice)
    assert outcome is not None and outcome.clears
    return [c.number for c in chosen], [(x.number, x.reason) for x in left], made


def test_a_fix_for_one_pool_that_undoes_another_pools_fix_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    """Finding 2 (pool B) is fixed by an edit set that also runs pool A at x64 again, undoing finding 1's fix: the
    scoped check re-analyses A too (a pool the fix's edits change, not its finding's) and leaves the fix out."""
    flip_a, flip_b, back_a = SetPoolArch("A", Arch.X86), SetPoolArch("B", Arch.X86), SetPoolArch("A", Arch.X64)

    def findings(model: tuple[Edit, ...]) -> list[Finding]:
        return [f for f in (_finding("managed-assembly-arch", "A", "a.dll", flip_a),
                            _finding("managed-assembly-arch", "B", "b.dll", flip_b, back_a))
                if _arch(model, f.pool or "") is Arch.X64]

    edits = Edits(findings)
    report = Report(SUMMARY, (), tuple(findings(())), (), ())
    chosen, left, made = _check(report, [1, 2], edits, caplog)
    assert chosen == [1] and made == (flip_a,)
    assert [(n, "conflicts" in why) for n, why in left] == [(2, True)]
    # NOTE: one scoped re-analysis per fix tried; the whole server for the refusal (confirmed) and the final outcome
    assert (edits.scoped, edits.whole) == (2, 2)


def test_a_global_module_precondition_that_breaks_a_pool_fixed_before_is_left_out(
        caplog: pytest.LogCaptureFixture) -> None:
    """Pool A was flipped to x86 (finding 1); finding 2 (pool B) offers a global module's preCondition, which would
    make the module load in A's new x86 worker, where it does not fit: a server-wide edit is re-checked on the whole
    server, so the breakage in pool A leaves it out."""
    flip_a, pre = SetPoolArch("A", Arch.X86), SetGlobalModulePrecondition("M", "bitness32")

    def findings(model: tuple[Edit, ...]) -> list[Finding]:
        out = [_finding("managed-assembly-arch", "A", "a.dll", flip_a)] if _arch(model, "A") is Arch.X64 else []
        if pre not in model:
            out.append(_finding("global-module-arch", "B", "m.dll", pre))
        elif _arch(model, "A") is Arch.X86:
            out.append(_finding("global-module-arch", "A", "m.dll"))  # NOTE: what the preCondition breaks
        return out

    edits = Edits(findings)
    report = Report(SUMMARY, (), tuple(findings(())), (), ())
    chosen, left, made = _check(report, [1, 2], edits, caplog)
    assert chosen == [1] and made == (flip_a,)
    assert [(n, "conflicts" in why) for n, why in left] == [(2, True)]
    assert edits.whole == 2  # NOTE: the preCondition's own re-analysis and the final outcome


def test_pool_by_pool_choice_that_the_whole_server_contradicts_is_made_again(caplog: pytest.LogCaptureFixture) -> None:
    """Should the pools a fix's edits change ever not be all it changes (here: flipping B breaks pool C), the final
    whole-server re-analysis sees it, and the choice is made again with whole-server re-analyses, as before."""
    e1, e2 = SetPoolArch("A", Arch.X86), SetPoolArch("B", Arch.X86)
    f1, f2 = _finding("managed-assembly-arch", "A", "a.dll", e1), _finding("managed-assembly-arch", "B", "b.dll", e2)
    broken = _finding("managed-assembly-arch", "C", "c.dll")

    def findings(model: tuple[Edit, ...]) -> list[Finding]:
        return [f for f, e in ((f1, e1), (f2, e2)) if e not in model] + ([broken] if e1 in model and e2 in model else [])

    edits = Edits(findings)
    with caplog.at_level(logging.WARNING, logger="iisbitness.scan.fix"):
        chosen, left, made, outcome = _choose(Report(SUMMARY, (), (f1, f2), (), ()), [1, 2], edits)
    assert WARNING in caplog.text
    assert [c.number for c in chosen] == [1] and made == (e1,) and [x.number for x in left] == [2]
    assert outcome is not None and outcome.clears


def _whole_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fix_module, "_choose", partial(_choose, scoped=False))


def _rendered(image: Path) -> tuple[str, str]:
    plan = plan_fix(image)
    return fix_text.render(plan, applied=False), fix_json.render(plan, False)


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts ``fix``'s re-analyses (the choice's, not the scan's verification), whole and scoped."""
    counts = {"whole": 0, "scoped": 0}

    class Counting(Reanalysis):
        def analyse(self, model: Backend, pools: frozenset[str] | None) -> Analysis:
            counts["whole" if pools is None else "scoped"] += 1
            return super().analyse(model, pools)

    monkeypatch.setattr(fix_module, "Reanalysis", Counting)
    return counts


def _pools_image(root: Path, pools: int) -> Path:
    """``pools`` 64-bit pools, a site each whose bin holds the x86-only assembly ManagedApp references and the x86
    native DLL it P/Invokes (a flip per pool), and an x86 global module every 64-bit worker loads (a preCondition for
    them all); pool P0 runs at x86 already, and its site's bin holds the x64 build (P0's flip back is its fix)."""
    adds = "\n".join(f'            <add name="P{i}" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="{"true" if i == 0 else "false"}" />'
                     for i in range(pools))
    sites = "".join(site(f"S{i}", i + 1, f"P{i}", f"C:\\sites\\s{i}") for i in range(pools))
    files: dict[str, str | Path | bytes] = {"V/m.dll": "module_x86.dll"}
    for i in range(pools):
        build = "x64" if i == 0 else "x86"
        files |= {f"sites/s{i}/bin/ManagedApp.dll": "ManagedApp.dll", f"sites/s{i}/bin/managed_x86.dll":
                  f"managed_{build}.dll", f"sites/s{i}/bin/nativelib.dll": f"nativelib_{build}.dll"}
    gm = '<globalModules><add name="M" image="C:\\V\\m.dll" /></globalModules>'
    return make_image(root, apphost(adds, sites, gm), files)


@pytest.mark.parametrize("name", ["pools", "contoso-iis10", "w2003-iis6"])
def test_the_plan_is_the_one_whole_server_re_analyses_choose(name: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """On real images (compiled fixtures; the demo images), the dry run's text and JSON are those of the choice made
    with a whole-server re-analysis per fix tried, with one whole-server re-analysis (the final outcome) per
    server-wide fix tried, not one per finding."""
    import shutil

    image = _pools_image(tmp_path / "img", 6) if name == "pools" else Path(shutil.copytree(DEMO / name, tmp_path / name))
    counts = _counting(monkeypatch)
    scoped = _rendered(image)
    by_pool = dict(counts)
    _whole_only(monkeypatch)
    counts.update(whole=0, scoped=0)
    assert _rendered(image) == scoped
    whole = counts["whole"]
    if name == "pools":
        assert "Run application pool 'P5' as 32-bit" in scoped[0]
        # NOTE: the preCondition (server-wide) and the final outcome; a flip per pool, re-analysed in its pool
        assert by_pool == {"whole": 2, "scoped": 5} and whole == 6  # NOTE: as before: one per fix tried
