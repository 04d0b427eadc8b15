"""Every call into Windows itself, in one thin module: drives, the registry, event-log export.

The rest of the scan is the same code live and offline (:class:`iisbitness.image.server_image.ServerImage` with
another root map), so only what cannot be a file read lives here. Nothing here runs on other systems: each
function says what it returns there.

Sources:
- ``GetLogicalDrives``: "a bitmask representing the currently available disk drives" (bit 0 is A:),
  MicrosoftDocs/sdk-api fileapi/nf-fileapi-getlogicaldrives.
- ``KEY_WOW64_64KEY`` / ``KEY_WOW64_32KEY``: "Accessing an Alternate Registry View" (MicrosoftDocs/win32
  desktop-src/WinProg64/accessing-an-alternate-registry-view.md): a 32-bit process reads the 64-bit view with
  ``KEY_WOW64_64KEY`` (facts E3).
- ``wevtutil epl <log> <file>``: "export-log: exports events from an event log ... to the specified file"
  (MicrosoftDocs windows-server administration/windows-commands/wevtutil.md); the live ``.evtx`` files under
  ``%windir%\\System32\\winevt\\Logs`` are held open by the Event Log service.
"""

from __future__ import annotations

import os
import shutil
import string
import subprocess
import sys
from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.errors import ServerImageError

LIVE_LOGS = ("Application", "System")
"""Event logs ``--event-log NAME`` exports from the running system."""


def logical_drives() -> dict[str, Path]:
    """Drive letter -> its root folder (``C:\\``), for every drive Windows has (fixed, network, removable).

    Elsewhere: only the system drive named by ``%SystemDrive%`` (default C:), as a live image never runs there.
    """
    system = os.environ.get("SystemDrive", "C:")[0].upper()
    if sys.platform != "win32":  # pragma: no cover - exercised on Windows (tools/windows-live-test.ps1)
        return {system: Path(system + ":\\")}
    import ctypes  # pragma: no cover

    mask = ctypes.windll.kernel32.GetLogicalDrives()  # pragma: no cover
    letters = [c for i, c in enumerate(string.ascii_uppercase) if mask >> i & 1]  # pragma: no cover
    return {c: Path(c + ":\\") for c in letters or [system]}  # pragma: no cover


def wow64() -> bool:
    """True when this is a 32-bit process on 64-bit Windows (its System32 is SysWOW64; facts E4)."""
    return "PROCESSOR_ARCHITEW6432" in os.environ


def native_arch() -> tuple[Arch, str]:
    """The running Windows' architecture and the variable it came from (``PROCESSOR_ARCHITEW6432`` under WOW64,
    else ``PROCESSOR_ARCHITECTURE``; "WOW64 Implementation Details")."""
    native = os.environ.get("PROCESSOR_ARCHITEW6432") or os.environ.get("PROCESSOR_ARCHITECTURE", "AMD64")
    arch = {"AMD64": Arch.X64, "ARM64": Arch.ARM64, "X86": Arch.X86}.get(native.upper(), Arch.X64)
    return arch, f"live system (PROCESSOR_ARCHITECTURE {native})"


def registry_default(key: str, native_view: bool) -> str | None:
    """The default value of ``HKLM\\SOFTWARE\\<key>`` in the 64-bit (``native_view``) or 32-bit registry view,
    stripped; None when absent or empty, and always None elsewhere than Windows."""
    if sys.platform != "win32":
        return None
    import winreg  # pragma: no cover

    flag = winreg.KEY_WOW64_64KEY if native_view else winreg.KEY_WOW64_32KEY  # pragma: no cover
    try:  # pragma: no cover
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, "SOFTWARE\\" + key, 0, winreg.KEY_READ | flag) as k:
            value, _ = winreg.QueryValueEx(k, "")
    except OSError:  # pragma: no cover
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None  # pragma: no cover


def _wevtutil() -> str | None:
    """``%SystemRoot%\\System32\\wevtutil.exe`` on Windows, never a ``wevtutil`` found on the PATH: on Windows
    ``shutil.which`` looks in the current folder first (Python's shutil docs, NeedCurrentDirectoryForExePathW), so
    a ``wevtutil.exe`` left in the folder the scan runs from would run with the scan's (administrator's) rights.
    Elsewhere: the PATH's (a stand-in, for tests)."""
    if sys.platform == "win32":
        tool = Path(os.environ.get("SystemRoot", "C:\\Windows")) / "System32" / "wevtutil.exe"
        return str(tool) if tool.is_file() else None
    return shutil.which("wevtutil")


def export_event_log(name: str, dest: Path) -> Path:
    """Export the live event log ``name`` (``Application``, ``System``) to ``dest`` (an ``.evtx``) with
    ``wevtutil epl`` and return ``dest``.

    Raises:
        ServerImageError: no ``wevtutil`` on the PATH (not Windows), or it failed (its message is given).
    """
    tool = _wevtutil()
    if tool is None:
        raise ServerImageError(f"--event-log {name}: the live {name} log is read with wevtutil, which only Windows "
                               "has; give an exported .evtx file instead")
    try:
        done = subprocess.run([tool, "epl", name, str(dest), "/ow:true"], capture_output=True, text=True,
                              timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ServerImageError(f"--event-log {name}: wevtutil epl failed: {e}") from e
    if done.returncode != 0 or not dest.is_file():
        why = (done.stderr or done.stdout).strip() or f"exit code {done.returncode}"
        raise ServerImageError(f"--event-log {name}: wevtutil epl failed: {why}")
    return dest
