"""Fix verification's re-analyses build fixes without command lines (``fixes.commands.unprinted``, issue 25): every
other field of the fix is what a scan shows, and outside the block the commands are built as before."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.findings import Fix
from iisbitness.fixes.commands import flip_pool, move_to_new_pool, native, unprinted
from iisbitness.image.server_image import ServerImage
from tests.conftest import apphost, make_image, site

POOLS = ('<add name="P" managedRuntimeVersion="v4.0" autoStart="false"><environmentVariables><add name="TENANT" '
         'value="contoso" /></environmentVariables><recycling><periodicRestart><schedule><clear /><add value="03:00:00" />'
         '</schedule></periodicRestart></recycling><processModel identityType="SpecificUser" userName="u" '
         'password="[enc:AesProvider:AAAA:enc]" /></add>')


def _builders(tmp_path: Path) -> list[tuple[str, object]]:
    img = make_image(tmp_path, apphost(POOLS, site("S", 1, "P", r"C:\s") + site("T", 2, "P", r"C:\t")))
    pool = read_server(ServerImage.offline(img), Arch.X64, "test").pool("P")
    assert pool is not None and pool.elements
    calls: list[tuple[str, object]] = []
    for os_arch in (Arch.X64, Arch.ARM64):
        for arch in (Arch.X86, Arch.ARM64) if os_arch is Arch.ARM64 else (Arch.X86,):
            calls.append(("move like", lambda a=arch, o=os_arch: move_to_new_pool(
                (("S", "/"), ("T", "/")), f"P ({a.value})", a, "P", "v4.0", "Integrated", o, like=pool)))
            calls.append(("move plain", lambda a=arch, o=os_arch: move_to_new_pool(
                (("S", "/"),), "P2", a, "P", "v4.0", "Classic", o)))
            for stopped in (False, True):
                for declared in (False, True):
                    for auto in (False, True):
                        calls.append(("flip", lambda a=arch, o=os_arch, s=stopped, d=declared, t=auto: flip_pool(
                            "P", a, o, s, declared=d, auto_start=t)))
    return calls


def test_unprinted_fixes_differ_only_in_their_command_lines(tmp_path: Path) -> None:
    for what, build in _builders(tmp_path):
        assert callable(build)
        shown = build()
        with unprinted():
            bare = build()
        assert isinstance(shown, Fix) and isinstance(bare, Fix)
        assert shown.commands and shown.powershell, what
        if what == "move like":
            assert shown.note is not None and "<clear> in recycling" in shown.note and "encrypted" in shown.note
        assert bare == replace(shown, commands=(), powershell=()), what
        assert build() == shown, what  # NOTE: outside the block again, the lines are built


def test_native_lines_only_outside(tmp_path: Path) -> None:
    with unprinted():
        assert native("corflags", "x.dll") == ("", "")
    assert native("corflags", "x.dll") == ("corflags x.dll", "corflags x.dll")


def test_unprinted_resets_after_an_error() -> None:
    with pytest.raises(ValueError), unprinted():
        raise ValueError
    assert native("corflags", "x.dll")[0] == "corflags x.dll"
