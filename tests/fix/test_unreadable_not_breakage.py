"""A file in the image the scan cannot read (a hand copy holding a file with no read permission) is not checked: a fix
after which a worker loads it is offered not verified, naming it, never rejected as "it would break: binary-invalid"
(it was, though nothing was read to say so); and its reason says "cannot read" once.

Real inputs: a temporary image of compiler-built fixtures, the file's read permission taken away (chmod 000). Root
(or CAP_DAC_READ_SEARCH) reads it anyway: skipped there, as tests/hostile/test_tree_hostile.py does (run it without
those capabilities: ``setpriv --inh-caps=-dac_override,-dac_read_search --bounding-set=-dac_override,-dac_read_search
python3 -m pytest ...``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from tests.conftest import apphost, make_image, site

MODULES = """        <globalModules>
            <add name="DefaultDocumentModule" image="%windir%\\System32\\inetsrv\\defdoc.dll" />
        </globalModules>
"""
LOCKED = "Windows/SysWOW64/inetsrv/defdoc.dll"


def _can_deny_reads(where: Path) -> bool:
    probe = where / "probe"
    probe.write_bytes(b"x")
    probe.chmod(0)
    try:
        probe.read_bytes()
    except PermissionError:
        return True
    finally:
        probe.chmod(0o600)
    return False


@pytest.fixture
def image(tmp_path: Path) -> Path:
    if not _can_deny_reads(tmp_path):
        pytest.skip("running as root (or with CAP_DAC_READ_SEARCH): chmod 000 does not deny reads here")
    root = make_image(tmp_path / "img", apphost('            <add name="P64" managedRuntimeVersion="v4.0" />',
                                                 site("Shop", 1, "P64", "C:\\inetpub\\shop"), MODULES),
                      {"Windows/System32/inetsrv/defdoc.dll": "module_x64.dll", LOCKED: "module_x86.dll",
                       "inetpub/shop/bin/Legacy.dll": "managed_x86.dll"})
    os.chmod(root / LOCKED, 0)
    yield root
    os.chmod(root / LOCKED, 0o600)


def test_a_flip_to_a_worker_loading_an_unreadable_file_is_offered_not_verified(image: Path) -> None:
    report = scan(image, ScanOptions(os_arch=Arch.X64))
    [found] = [f for f in report.findings if f.rule == "managed-assembly-arch"]
    assert not [r for r in found.rejected_fixes if "binary-invalid" in str(r)], found.rejected_fixes
    [flip] = [x for x in found.fixes if x.label == "run the pool as 32-bit"]
    assert flip.verified is False and flip.note is not None
    assert "Not checked, as the scan could not read it: %windir%\\System32\\inetsrv\\defdoc.dll." in flip.note


def test_the_unreadable_file_says_cannot_read_once(image: Path) -> None:
    """A 32-bit pool's worker loads it: a could-not-check warning whose cause said "cannot read: cannot read:"."""
    config = image / "Windows/System32/inetsrv/config/applicationHost.config"
    text = config.read_text(encoding="utf-8")
    text = text.replace('<add name="P64" managedRuntimeVersion="v4.0" />', '<add name="P64" '
                        'managedRuntimeVersion="v4.0" />\n            <add name="P32" enable32BitAppOnWin64="true" />')
    config.write_text(text.replace("        </sites>", site("Old", 2, "P32", "C:\\inetpub\\old") + "        </sites>"),
                      encoding="utf-8")
    (image / "inetpub/old").mkdir()
    report = scan(image, ScanOptions(os_arch=Arch.X64))
    [unread] = [f for f in report.findings if f.rule == "binary-invalid"]
    assert unread.pool == "P32" and unread.binary_not_checked
    assert "cannot read: Permission denied" in unread.cause and "cannot read: cannot read" not in unread.cause
