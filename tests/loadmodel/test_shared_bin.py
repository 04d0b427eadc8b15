"""Applications that share one physical folder each load its ``bin`` (each IIS application is its own AppDomain,
which loads every assembly of its ``bin`` at start: facts D5): every one of them is named.

The plan loaded a shared folder's files for the first application using it only, so a second site or application
on the same folder (an old server's http and https sites over one folder, an alias application) was checked in
name only: its BadImageFormatException was never reported, and a pool split that moved the first application alone
came out "still shows the problem" with nothing offered for both.
"""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import scan
from tests.conftest import apphost, make_image, site


def _twins(tmp_path: Path) -> Path:
    """Pool P (64-bit, CLR 4) hosts S/ (an x64-only assembly), S/app and S/alias over one folder whose bin holds an
    x86-only assembly."""
    apps = "".join(f"""<application path="/{n}" applicationPool="P">
                    <virtualDirectory path="/" physicalPath="C:\\inetpub\\app" />
                </application>""" for n in ("app", "alias"))
    return make_image(tmp_path / "img", apphost('<add name="P" managedRuntimeVersion="v4.0" />',
                                                site("S", 1, "P", r"C:\inetpub\root", apps)),
                      {"inetpub/root/bin/New.dll": "managed_x64.dll", "inetpub/app/bin/Old.dll": "managed_x86.dll"})


def test_every_application_on_a_shared_folder_loads_its_bin(tmp_path: Path) -> None:
    report = scan(_twins(tmp_path))
    failing = sorted(f"{f.site}{f.application}" for f in report.findings
                     if f.rule == "managed-assembly-arch" and (f.binary or "").endswith("Old.dll"))
    assert failing == ["S/alias", "S/app"], failing


def test_a_pool_split_moves_every_application_on_the_shared_folder(tmp_path: Path) -> None:
    [conflict] = [f for f in scan(_twins(tmp_path)).findings if f.rule == "pool-arch-conflict"]
    [split] = conflict.fixes
    assert split.verified is True, split.note
    assert "S/app" in split.summary and "S/alias" in split.summary, split.summary


def test_each_finding_s_split_moves_the_applications_sharing_its_file(tmp_path: Path) -> None:
    """The managed-assembly-arch finding of each twin offers one split moving both (the same fix as the conflict's):
    a split of one alone left the other failing, and two of them created the same pool twice."""
    report = scan(_twins(tmp_path))
    splits = {x.commands for f in report.findings if f.rule == "managed-assembly-arch"
              and (f.binary or "").endswith("Old.dll") for x in f.fixes if x.summary.startswith("Move")}
    [commands] = splits
    assert sum("set app" in c for c in commands) == 2, commands
