"""A ``bin`` folder the scan could not list is never a verified fix nor a clean outlook, silently.

The main plan says "cannot list" as an unread problem (the application is partly checked), but a pool's outlook at
the architecture it does not run as (``bin_fails``) dropped that note: the pool looked clean there, and a fix running
the application at that architecture (a pool flip, a split's new pool) came out "verified" over a bin nobody read.

As root, ``chmod 000`` does not deny a listing, so the folder's ``os.scandir`` fails with EACCES instead (as
``tests/hostile/test_tree_hostile.py`` does): the same ``PermissionError`` Windows' or Linux's refusal gives.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.findings import Finding, Fix
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.collectors.bin import bin_fails, bin_unread
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import Process, worker_candidates
from iisbitness.report import CoverageStatus
from tests.conftest import DEMO, apphost, make_image, site


def _deny_listing(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    real = os.scandir
    denied = os.fspath(folder).rstrip("/")

    def scandir(path: object = ".") -> object:
        p = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
        if p.rstrip("/") == denied:
            raise PermissionError(13, "Permission denied", p)
        return real(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)


def _fixes(findings: tuple[Finding, ...], summary: str) -> list[Fix]:
    return [x for f in findings for x in f.fixes if x.summary.startswith(summary)]


def test_a_pool_flip_over_an_unlisted_bin_is_not_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's DefaultAppPool flip (for the x86 vendorauth.dll global module) is verified while Default Web Site's
    bin is read; with that bin unlistable, the same flip is offered not verified, the note naming the application,
    the architecture and why; the other pools' flips stay verified."""
    img = tmp_path / "demo"
    shutil.copytree(DEMO / "contoso-iis10", img)
    flip = "Run application pool 'DefaultAppPool' as 32-bit"
    assert {x.verified for x in _fixes(scan(img).findings, flip)} == {True}
    _deny_listing(monkeypatch, img / "inetpub" / "wwwroot" / "bin")
    report = scan(img)
    [gap] = [c for c in report.coverage if c.application == "Default Web Site/"]
    assert gap.status is CoverageStatus.PARTLY
    fixes = _fixes(report.findings, flip)
    assert fixes and {x.verified for x in fixes} == {False}
    assert all("Not verified: the bin folder of Default Web Site/ at x86 (inetpub/wwwroot/bin: cannot list: "
               "Permission denied) could not be listed whole" in (x.note or "") for x in fixes), fixes[0].note
    assert {x.verified for x in _fixes(report.findings, "Run application pool 'CatalogPool' as 32-bit")} == {True}


def test_a_pool_conflict_says_which_application_was_not_judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pool P hosts S/ (an x64-only bin assembly), S/old (x86-only) and S/unread (bin not listable): the conflict is
    found between the first two; the unread one shows no failure at either architecture, which the outlook kept as
    clean; now the finding says it was not judged, and the outlook holds why, at both architectures."""
    apps = "".join(f"""<application path="/{n}" applicationPool="P">
                    <virtualDirectory path="/" physicalPath="C:\\inetpub\\{n}" />
                </application>""" for n in ("old", "unread"))
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                               site("S", 1, "P", r"C:\inetpub\root", apps)),
                     {"inetpub/root/bin/New.dll": "managed_x64.dll", "inetpub/old/bin/Old.dll": "managed_x86.dll",
                      "inetpub/unread/bin/Unread.dll": "managed_x86.dll"})
    _deny_listing(monkeypatch, img / "inetpub" / "unread" / "bin")
    report = scan(img)
    [conflict] = [f for f in report.findings if f.rule == "pool-arch-conflict"]
    assert ("Not judged: the bin folder of S/unread at x64 (inetpub/unread/bin: cannot list: Permission denied); "
            "S/unread at x86 (inetpub/unread/bin: cannot list: Permission denied) could not be listed whole"
            in conflict.cause), conflict.cause
    [split] = conflict.fixes
    assert split.verified is True and "S/old" in split.summary  # NOTE: S/unread stays where it runs today


def test_applications_sharing_an_unlisted_bin_are_each_not_judged(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """S/unread and S/twin share one physical folder whose bin cannot be listed: neither was judged, at either
    architecture. The outlook at the architecture the pool runs as named both, the one at the other architecture
    only the first (it walked each folder once, for its first application): now both, at both."""
    apps = "".join(f"""<application path="/{n}" applicationPool="P">
                    <virtualDirectory path="/" physicalPath="C:\\inetpub\\{folder}" />
                </application>""" for n, folder in (("old", "old"), ("unread", "unread"), ("twin", "unread")))
    img = make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                               site("S", 1, "P", r"C:\inetpub\root", apps)),
                     {"inetpub/root/bin/New.dll": "managed_x64.dll", "inetpub/old/bin/Old.dll": "managed_x86.dll",
                      "inetpub/unread/bin/Unread.dll": "managed_x86.dll"})
    _deny_listing(monkeypatch, img / "inetpub" / "unread" / "bin")
    [conflict] = [f for f in scan(img).findings if f.rule == "pool-arch-conflict"]
    why = "(inetpub/unread/bin: cannot list: Permission denied)"
    assert (f"Not judged: the bin folder of S/twin at x64 {why}; S/twin at x86 {why}; S/unread at x64 {why}; "
            f"S/unread at x86 {why} could not be listed whole" in conflict.cause), conflict.cause
    image = ServerImage.offline(img)
    server = read_server(image, Arch.X64, "test")
    [pool] = server.pools
    for arch in worker_candidates(Arch.X64):  # NOTE: one answer whichever of the two asks
        process = Process("w3wp.exe", arch, pool)
        unlisted = bin_unread(PlanContext(image), server, process, server.applications_in(pool))
        assert [app for app, _ in unlisted] == ["S/unread", "S/twin"]
        assert bin_fails(PlanContext(image), server, process, server.applications_in(pool))[1] == unlisted
