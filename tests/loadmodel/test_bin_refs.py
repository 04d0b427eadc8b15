"""A ``bin`` folder's references, kinds of load and sources are worked out once per planning context, folder and
architectures (``PlanContext.bin_refs``, issue 25): a pool's collection, its outlook at the architecture it does not
run as, IIS Manager (at the OS's) and each fix's re-plan ask for the same folders, and their answers must be the ones
a fresh context gives."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.formats import loads_json
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.build import build
from iisbitness.loadplan.collectors import bin as bin_collector
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import Load
from iisbitness.pe.facts import BinaryFacts
from tests.conftest import bin_image


def _image(tmp_path: Path) -> Path:
    """A 64-bit and a 32-bit pool, each a site whose bin holds an x86 and an AnyCPU assembly and a native DLL."""
    pools = ('<add name="P64" managedRuntimeVersion="v4.0" />'
             '<add name="P32" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />')
    return bin_image(tmp_path / "img", pools, {"A": ("P64", "a"), "B": ("P32", "b")},
                     {"ManagedApp.dll": "ManagedApp.dll", "managed_x86.dll": "managed_x86.dll",
                      "nativelib.dll": "nativelib_x86.dll"})


def test_each_folder_is_resolved_once_per_architecture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: Counter[tuple[str, Arch]] = Counter()
    resolve_files = PlanContext.resolve_files
    monkeypatch.setattr(PlanContext, "resolve_files", lambda self, win, host, names, unread, os_arch, arch: (
        calls.update([(win, arch)]), resolve_files(self, win, host, names, unread, os_arch, arch))[1])
    img = ServerImage.offline(_image(tmp_path))
    plan = build(read_server(img, Arch.X64, "test"), PlanContext(img))
    assert {ld.process.name for ld in plan.loads} == {"w3wp.exe", "inetmgr.exe"}
    # NOTE: each pool's worker (its own architecture), its outlook (the other), IIS Manager (x64): once each
    assert calls == {(rf"C:\sites\{f}\bin", a): 1 for f in ("a", "b") for a in (Arch.X86, Arch.X64)}, calls


def test_loads_share_their_files_source(tmp_path: Path) -> None:
    """The pool's load and IIS Manager's of one file name one source object, and one reference at one
    architecture; the plan is the plan of a fresh context."""
    img = ServerImage.offline(_image(tmp_path))
    server = read_server(img, Arch.X64, "test")
    ctx = PlanContext(img)
    plan = build(server, ctx)
    by_file: dict[tuple[str, str], list[Load]] = {}
    for ld in plan.loads:
        by_file.setdefault((ld.site or "", ld.name), []).append(ld)
    # NOTE: IIS Manager loads the assemblies only (not the native DLL)
    assert all(lds[0].source is lds[1].source for lds in by_file.values() if len(lds) == 2), by_file
    assert sum(len(lds) == 2 for lds in by_file.values()) == 4
    a64 = [lds for (s, _), lds in by_file.items() if s == "A" and len(lds) == 2]
    assert all(lds[0].binary is lds[1].binary for lds in a64), "pool x64 and inetmgr x64: one reference"
    again = build(server, PlanContext(img))
    assert again.loads == plan.loads and again.outlook == plan.outlook
    assert build(server, ctx).loads == plan.loads, "a re-plan in the same context"


def test_the_load_map_is_a_fresh_contexts_per_folder(tmp_path: Path) -> None:
    """The whole scan's load map (kinds, sources, verdicts of every bin file at both architectures) is the same
    with the folders remembered as without (every folder's answer worked out anew)."""
    image = _image(tmp_path)
    remembered = loads_json.render([scan(image, ScanOptions(load_map=True))])
    assert '"kind": "bin-native"' in remembered and '"process": "inetmgr.exe"' in remembered
    files = bin_collector._files

    def forgetful(ctx: PlanContext, *args: Any) -> Any:
        ctx.bin_refs.clear()
        return files(ctx, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bin_collector, "_files", forgetful)
        assert loads_json.render([scan(image, ScanOptions(load_map=True))]) == remembered


class _Recorder:
    """A read-ahead (:class:`~iisbitness.pe.readahead.Ahead`) that reads nothing and notes what it was told, in order:
    ``("given", path)`` per file given, ``("read", path)`` per file the parser reads."""

    stopped = False

    def __init__(self, parses: bool = True) -> None:
        self.parses = parses
        self.events: list[tuple[str, str]] = []

    def files_ahead(self, paths: Any) -> None:
        self.events.extend(("given", str(p)) for p in paths)

    def take(self, path: Any) -> None:
        self.events.append(("read", str(path)))

    def close(self) -> None:
        pass


def test_every_bin_folder_is_given_to_the_read_ahead_before_the_first_is_read(tmp_path: Path) -> None:
    """The read-ahead is told every pool's bin files, in the order they will be read, before the parser reads the
    first: its helper works whole folders ahead (issue 25), not one folder at a time as the parser reaches it.
    The plan is that of a context without read-ahead."""
    pools = "".join(f'<add name="P{i}" managedRuntimeVersion="v4.0" />' for i in range(3))
    img = ServerImage.offline(bin_image(tmp_path / "img", pools, {f"S{i}": (f"P{i}", f"s{i}") for i in range(3)},
                                        {"ManagedApp.dll": "ManagedApp.dll", "managed_x86.dll": "managed_x86.dll"}))
    server = read_server(img, Arch.X64, "test")
    recorder = _Recorder()
    plan = build(server, PlanContext(img, facts=BinaryFacts(read_ahead=recorder)))
    bins = [(kind, p) for kind, p in recorder.events if f"{os.sep}bin{os.sep}" in p]
    given = [p for kind, p in bins if kind == "given"]
    assert len(given) == 6 and bins[:6] == [("given", p) for p in given], bins
    assert [p for kind, p in bins if kind == "read"][:6] == given
    assert plan == build(read_server(img, Arch.X64, "test"), PlanContext(img))
    # NOTE: a read-ahead that only brings files in (one core) is given each folder as the parser reaches it
    recorder = _Recorder(parses=False)
    assert build(server, PlanContext(img, facts=BinaryFacts(read_ahead=recorder))) == plan
    kinds = [kind for kind, p in recorder.events if f"{os.sep}bin{os.sep}" in p]
    assert kinds[:4] == ["given", "given", "read", "read"], kinds
