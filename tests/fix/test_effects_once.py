"""Verification compares one plan before with the plan after each fix: what it asks of the plan before, of an IIS 6
model and of each comparison is worked out once, not once per fix or per finding (issue 25). Each test counts the
calls per object during a scan of a demo server (the objects held, so that no id is reused)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.config.metabase import read_iis6
from iisbitness.findings import SideEffect
from iisbitness.fixes import effects, verify
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan import iis6
from iisbitness.loadplan.context import PlanContext
from tests.conftest import DEMO


class _Calls:
    """Calls of a function, per the identity of what ``key`` takes from its arguments."""

    def __init__(self, fn: Callable[..., Any], key: Callable[..., tuple[object, ...]]) -> None:
        self.fn, self.key = fn, key
        self.seen: dict[tuple[int, ...], int] = {}
        self.held: list[object] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        objects = self.key(*args, **kwargs)
        self.held.append(objects)
        ids = tuple(id(o) for o in objects)
        self.seen[ids] = self.seen.get(ids, 0) + 1
        return self.fn(*args, **kwargs)


def test_the_processes_of_a_plan_are_grouped_once_whatever_the_fixes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan before every fix is grouped by process once (it was once per fix: 2,008 times for 1,000 pools)."""
    calls = _Calls(effects._by_process, lambda loads: (loads,))
    monkeypatch.setattr(effects, "_by_process", calls)
    report = scan(DEMO / "contoso-iis10")
    assert sum(len(f.fixes) for f in report.findings) > 10
    assert len(calls.seen) > 5 and max(calls.seen.values()) == 1


def test_an_iis6_model_s_asp_net_processes_are_worked_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """IIS 5 isolation mode: aspnet_wp.exe's architecture per application, of the model before, once (not per fix)."""
    calls = _Calls(iis6.aspnet_processes, lambda server, *_: (server,))
    monkeypatch.setattr(effects, "aspnet_processes", calls)
    report = scan(DEMO / "w2003-iis6")
    assert any(f.fixes for f in report.findings)
    assert calls.seen and max(calls.seen.values()) == 1


def test_an_iis6_plan_reads_each_application_s_script_maps_for_asp_net_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Which applications run ASP.NET, allowed by WebSvcExtRestrictionList and not: one walk per plan (it was three,
    one per question and one for aspnet_wp.exe's architecture)."""
    image = ServerImage.offline(DEMO / "w2003-iis6")
    server = read_iis6(DEMO / "w2003-iis6/Windows/System32/inetsrv/MetaBase.xml", "MetaBase.xml", Arch.X64, "test")
    assert server.iis5_mode and iis6.aspnet_applications(server)
    calls = _Calls(iis6._aspnet_isapi, lambda server, app, *_: (server, app))
    monkeypatch.setattr(iis6, "_aspnet_isapi", calls)
    iis6.build_iis6(server, PlanContext(image))
    assert len(calls.seen) == len(server.apps) and max(calls.seen.values()) == 1


def test_a_fix_s_side_effects_are_compared_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plans before and after a fix are compared once (verification asked twice: the outcome, then the
    applications it runs at another architecture)."""
    calls = _Calls(effects.side_effects, lambda before, after: (before, after))
    monkeypatch.setattr(verify, "side_effects", calls)
    scan(DEMO / "contoso-iis10")
    assert calls.seen and max(calls.seen.values()) == 1


def test_each_side_effect_is_ranked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fix several findings offer (the preCondition of a global module every pool loads) is ranked by its side
    effects once, not once per finding."""
    asked: dict[int, int] = {}
    held: list[SideEffect] = []
    plain = SideEffect.breaks_requests

    def counted(self: SideEffect) -> bool:
        held.append(self)
        asked[id(self)] = asked.get(id(self), 0) + 1
        return bool(plain.fget(self))  # type: ignore[attr-defined]

    monkeypatch.setattr(SideEffect, "breaks_requests", property(counted))
    report = scan(DEMO / "contoso-iis10")
    shared = [x for f in report.findings if f.rule == "global-module-arch" for x in f.fixes
              if x.label == 'preCondition="bitness32"']
    assert len(shared) > 1 and len(shared[0].side_effects) > 1
    assert asked and max(asked.values()) == 1
