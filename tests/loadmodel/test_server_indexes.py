"""The model's :class:`Server` keeps indexes (pools and sites by name, each pool's applications, the undeclared
pools, whether anything starts by hand, the sites whose folders it shares), built when first asked and carried by
hand into the copies fix verification makes (``with_pool``, ``with_new_pool``: one copy per fix, issue 25). Each
copy, and a copy of a copy, must answer as a server built afresh from the same pools and sites."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.image.server_image import ServerImage
from iisbitness.model.edits import Iis7Edit, MoveToNewPool, SetPoolArch, apply
from iisbitness.model.iis7 import Server
from tests.conftest import DEMO, apphost, make_image, site

POOLS = """<add name="A" managedRuntimeVersion="v4.0" />
           <add name="Off" autoStart="false" />
           <add name="Dup" />
           <add name="dup" enable32BitAppOnWin64="true" />"""
"""A pool, one that starts by hand, two of one name (case aside); applications also name an undeclared pool U."""


def _app(path: str, pool: str, folder: str) -> str:
    return f"""<application path="{path}" applicationPool="{pool}">
                    <virtualDirectory path="/" physicalPath="C:\\inetpub\\{folder}" />
                </application>"""


def _server(tmp_path: Path, which: str) -> Server:
    if which == "demo":
        return read_server(ServerImage.offline(DEMO / "contoso-iis10"), Arch.X64, "test")
    sites = (site("S1", 1, "A", r"C:\inetpub\s1", _app("/x", "Off", "x") + _app("/y", "U", "y"))
             + site("S2", 2, "A", r"C:\inetpub\s2", _app("/z", "Dup", "z")).replace('id="2"',
                                                                                  'id="2" serverAutoStart="false"')
             + site("S3", 3, "U", r"C:\inetpub\s3", _app("/w", "A", "w")))
    return read_server(ServerImage.offline(make_image(tmp_path, apphost(POOLS, sites))), Arch.X64, "test")


def _answers(server: Server) -> tuple[object, ...]:
    """What the indexes answer, through the public methods."""
    names = sorted({p.name.lower() for p in server.pools} | {a.pool.lower() for s in server.sites
                                                             for a in s.applications} | {"none such"})
    site_names = [None, *(s.name for s in server.sites), "none such"]
    folders = {(a.site, a.path, tuple(v.physical_path for v in a.vdirs))
               for s in server.folder_sites() for a in s.applications}
    return ([server.pool(n) for n in names], server.pools_named(names),
            [server.applications_in(p) for p in server.pools], server.undeclared_pools(), server.starts_manually(),
            [server.manual_start(p, s) for p in server.pools for s in site_names], folders)


def _changes(server: Server) -> list[tuple[str, Callable[[Server], Server]]]:
    """Edits as fixes make them: each pool flipped, each application moved alone to a new pool, each pool's
    applications moved together, a move into a name applications already use (an undeclared pool) or a declared pool
    has; and copies no edit makes yet: a pool replaced by one that starts by hand (or no longer does) or is not
    declared, a new pool that starts by hand or is not declared."""
    edits: list[Iis7Edit] = [SetPoolArch(p.name, arch) for p in server.pools for arch in (Arch.X86, Arch.X64)]
    like = server.pools[0]
    apps = [(a.site, a.path) for s in server.sites for a in s.applications]
    edits += [MoveToNewPool((app,), f"New {i}", Arch.X86, like.name) for i, app in enumerate(apps)]
    for p in server.pools:
        mine = tuple((a.site, a.path) for a in server.applications_in(p))
        edits += [MoveToNewPool(mine, f"{p.name} (x86)", Arch.X86, p.name),
                  MoveToNewPool(mine[:1], p.name, Arch.X86, like.name)]
    out: list[tuple[str, Callable[[Server], Server]]] = [(repr(e), functools.partial(apply, edit=e)) for e in edits]
    for p in server.pools:
        for changed in (replace(p, auto_start=not p.auto_start), replace(p, declared=not p.declared)):
            out.append((f"with_pool {changed}", functools.partial(Server.with_pool, pool=changed)))
    moved = {(a.lower(), b.lower()) for a, b in apps[:2]}
    for new in (replace(like, name="Manual", auto_start=False), replace(like, name="Undeclared", declared=False)):
        out.append((f"with_new_pool {new}", functools.partial(Server.with_new_pool, pool=new, apps=moved)))
    return out


@pytest.mark.parametrize("which", ["demo", "synthetic"])
def test_every_copy_answers_as_a_rebuilt_server(tmp_path: Path, which: str) -> None:
    server = _server(tmp_path, which)
    assert server.undeclared_pools() or which == "demo"
    _answers(server)  # NOTE: the indexes built, as planning builds them before fixes are verified
    checked = 0
    for what, change in _changes(server):
        copy = change(server)
        assert _answers(copy) == _answers(replace(copy)), what  # NOTE: replace() gives a server with no index
        for then, again in _changes(copy)[::5]:  # NOTE: a copy of a copy carries them again (fixes together)
            twice = again(copy)
            assert _answers(twice) == _answers(replace(twice)), (what, then)
            checked += 1
    assert checked > 20
