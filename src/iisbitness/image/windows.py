"""Every call into Windows itself, in one thin module: drives, the registry, event-log export, a file's ACL.

The rest of the scan is the same code live and offline (:class:`iisbitness.image.server_image.ServerImage` with
another root map), so only what cannot be a file read lives here. Nothing here runs on other systems: each
function says what it returns there.

Sources:
- ``GetLogicalDrives``: "a bitmask representing the currently available disk drives" (bit 0 is A:),
  MicrosoftDocs/sdk-api fileapi/nf-fileapi-getlogicaldrives.
- ``KEY_WOW64_64KEY`` / ``KEY_WOW64_32KEY``: "Accessing an Alternate Registry View" (MicrosoftDocs/win32
  desktop-src/WinProg64/accessing-an-alternate-registry-view.md): a 32-bit process reads the 64-bit view with
  ``KEY_WOW64_64KEY`` (facts E3).
- ``GetDriveTypeW``: ``DRIVE_REMOTE`` (4), "the drive is a remote (network) drive" (MicrosoftDocs/sdk-api
  fileapi/nf-fileapi-getdrivetypew). "Services and Redirected Drives" (MicrosoftDocs/win32 desktop-src/Services/
  services-and-redirected-drives.md): "Each logon session receives its own set of drive letters from A to Z ... a
  service (or any process running within its own logon session) cannot access the drive letters that were established
  within a different logon session": an IIS worker process, started by WAS under its pool's identity, does not see
  a network drive the scanning account mapped.
- ``IsWow64Process2``: its ``pNativeMachine`` is "a possible IMAGE_FILE_MACHINE_* value identifying the native
  architecture of host system" (MicrosoftDocs/sdk-api wow64apiset/nf-wow64apiset-iswow64process2; Windows 10 and
  Server 2016 version 1709 and later). ``PROCESSOR_ARCHITECTURE`` cannot tell: an x64 process emulated on ARM64
  Windows sees ``AMD64`` there.
- ``SHGetKnownFolderPath(FOLDERID_Documents, 0, NULL, &path)``: "Retrieves the full path of a known folder identified
  by the folder's KNOWNFOLDERID"; the caller frees the path with ``CoTaskMemFree`` (MicrosoftDocs/sdk-api
  shlobj_core/nf-shlobj_core-shgetknownfolderpath). FOLDERID_Documents is {FDD39AD0-238F-46AF-ADB4-6C85480369C7},
  default path ``%USERPROFILE%\\Documents`` (learn.microsoft.com KNOWNFOLDERID; FileDialogCustomPlaces.Documents
  "The GUID for this folder is FDD39AD0-238F-46AF-ADB4-6C85480369C7"). The known folder is where Windows keeps it
  now: OneDrive's Known Folder Move and folder redirection change it, ``%USERPROFILE%\\Documents`` stays.
- ``GetFileSecurityW`` / ``SetFileSecurityW`` with ``DACL_SECURITY_INFORMATION`` (4): read a file's security
  descriptor into a caller's buffer (a first call with no buffer says the size needed, failing with
  ERROR_INSUFFICIENT_BUFFER) and set it on another file; setting a DACL needs WRITE_DAC or ownership, which the
  creator of a file has (MicrosoftDocs/sdk-api winbase/nf-winbase-getfilesecurityw, nf-winbase-setfilesecuritya).
  A file created in a folder gets that folder's inheritable entries, not those of the file it replaces: renaming a
  new file over ``applicationHost.config`` would otherwise drop an explicit, narrower ACL on it (or on its share copy).
- ``GetFileInformationByHandleEx(h, FileBasicInfo, ...)``: ``FILE_BASIC_INFO.ChangeTime`` is "the time the file was
  changed", and "LastWriteTime relates to the underlying data-stream, while ChangeTime refers to changes to file
  metadata, such as renames and attribute changes" (MicrosoftDocs/sdk-api winbase/ns-winbase-file_basic_info); "after
  I/O operations on the file, the file system updates the values of the LastAccessTime, LastWriteTime and ChangeTime
  members as appropriate" (wdm.h ``FILE_BASIC_INFORMATION``, learn.microsoft.com windows-hardware drivers ddi). The
  handle is opened with ``FILE_READ_ATTRIBUTES`` and every share mode (``CreateFileW``), which a file another process
  holds open still allows; ``FILE_FLAG_BACKUP_SEMANTICS`` opens a folder too.
- ``wevtutil epl <log> <file>``: "export-log: exports events from an event log ... to the specified file"
  (MicrosoftDocs windows-server administration/windows-commands/wevtutil.md); the live ``.evtx`` files under
  ``%windir%\\System32\\winevt\\Logs`` are held open by the Event Log service.
"""

from __future__ import annotations

import functools
import os
import shutil
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def documents_folder() -> str | None:
    """The current user's Documents folder as Windows names it now (the known folder ``FOLDERID_Documents``: a folder
    OneDrive's Known Folder Move or folder redirection moved too), a Windows path (``D:\\OneDrive\\Documents``).

    None when the call fails (no profile loaded, a service account) and elsewhere than Windows. Raises nothing.
    """
    if sys.platform != "win32":  # pragma: no cover - exercised on Windows (tools/windows-live-test.ps1)
        return None
    import ctypes  # pragma: no cover
    import uuid  # pragma: no cover
    from ctypes import wintypes  # pragma: no cover

    class _Guid(ctypes.Structure):  # pragma: no cover
        _fields_ = [("bytes", ctypes.c_ubyte * 16)]

    guid = _Guid()  # pragma: no cover
    ctypes.memmove(guid.bytes, uuid.UUID("FDD39AD0-238F-46AF-ADB4-6C85480369C7").bytes_le, 16)  # pragma: no cover
    path = wintypes.LPWSTR()  # pragma: no cover
    try:  # pragma: no cover
        shell32, ole32 = ctypes.windll.shell32, ctypes.windll.ole32
    except OSError:  # pragma: no cover - shell32 or ole32 not loadable (Server Core without them)
        return None
    hr = shell32.SHGetKnownFolderPath(ctypes.byref(guid), 0, None, ctypes.byref(path))  # pragma: no cover
    try:  # pragma: no cover
        return path.value or None if hr == 0 else None
    finally:  # pragma: no cover - the path is allocated even when the call fails (the caller frees it)
        ole32.CoTaskMemFree(path)


DACL_SECURITY_INFORMATION = 0x00000004
"""``SECURITY_INFORMATION``: the discretionary access control list (winnt.h)."""


def copy_file_dacl(source: Path, target: Path) -> None:
    """Give ``target`` the DACL of ``source``: its explicit and inherited entries, and the descriptor's control bits
    (whether it is protected from inheritance), as one security descriptor (module docstring). ``fix --apply`` calls it
    for each file it writes beside a configuration file (its backup, then its new content) before the rename, so the
    file keeps who may read and change it (connection strings, encrypted passwords). The owner is not copied (the
    account running ``fix`` owns the new file; setting another owner needs SeRestorePrivilege).

    Raises:
        OSError: (``ctypes.WinError``) Windows refused to read or set the descriptor (the caller writes nothing
            then). Elsewhere than Windows: nothing to do (``shutil.copymode`` copies the POSIX permission bits).
    """
    if sys.platform != "win32":
        return
    import ctypes  # pragma: no cover - exercised on Windows (tools/windows-live-test.ps1)
    from ctypes import wintypes  # pragma: no cover

    advapi = ctypes.WinDLL("advapi32", use_last_error=True)  # pragma: no cover
    get, put = advapi.GetFileSecurityW, advapi.SetFileSecurityW  # pragma: no cover
    get.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, ctypes.c_void_p, wintypes.DWORD,  # pragma: no cover
                    ctypes.POINTER(wintypes.DWORD)]
    get.restype = put.restype = wintypes.BOOL  # pragma: no cover
    put.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, ctypes.c_void_p]  # pragma: no cover
    needed = wintypes.DWORD(0)  # pragma: no cover
    get(str(source), DACL_SECURITY_INFORMATION, None, 0, ctypes.byref(needed))  # pragma: no cover
    if not needed.value:  # pragma: no cover
        raise ctypes.WinError(ctypes.get_last_error())
    buf = ctypes.create_string_buffer(needed.value)  # pragma: no cover
    if not get(str(source), DACL_SECURITY_INFORMATION, buf, needed.value, ctypes.byref(needed)):  # pragma: no cover
        raise ctypes.WinError(ctypes.get_last_error())
    if not put(str(target), DACL_SECURITY_INFORMATION, buf):  # pragma: no cover
        raise ctypes.WinError(ctypes.get_last_error())


def change_time_ns(path: str | os.PathLike[str]) -> int | None:
    """The file system's change time of ``path`` (``FILE_BASIC_INFO.ChangeTime``, module docstring), in nanoseconds
    since 1601-01-01 UTC: it moves whenever the file's content or metadata is written, as POSIX ``st_ctime`` does,
    which Python's ``os.stat`` does not give on Windows (there ``st_ctime`` is the creation time, which writing a file in
    place leaves as it was). None where the call fails (the file cannot be opened, a file system without it) and
    elsewhere than Windows. Raises nothing. Copy tools restore the write time (robocopy ``/COPY:T``); a caller with
    ``FILE_WRITE_ATTRIBUTES`` could set the change time too, which no copy tool is known to do (UNCONFIRMED)."""
    if sys.platform != "win32":
        return None
    import ctypes  # pragma: no cover - exercised on Windows (tools/windows-live-test.ps1)

    create, query, close, info_type = _basic_info_calls()  # pragma: no cover
    handle = create(os.fspath(path), 0x80, 0x7, None, 3, 0x02000000, None)  # pragma: no cover
    if handle is None or handle == ctypes.c_void_p(-1).value:  # pragma: no cover - INVALID_HANDLE_VALUE
        return None
    try:  # pragma: no cover
        info = info_type()
        if not query(handle, 0, ctypes.byref(info), ctypes.sizeof(info)):  # NOTE: 0 is FileBasicInfo
            return None
        return int(info.ChangeTime) * 100
    finally:  # pragma: no cover
        close(handle)


@functools.cache
def _basic_info_calls() -> tuple[Any, Any, Any, Any]:  # pragma: no cover - Windows only (change_time_ns)
    """``CreateFileW``, ``GetFileInformationByHandleEx`` and ``CloseHandle`` with their signatures, and the
    ``FILE_BASIC_INFO`` structure: set up once per process, not once per file."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    create = kernel32.CreateFileW
    create.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, ctypes.c_void_p, wintypes.DWORD,
                       wintypes.DWORD, wintypes.HANDLE]
    create.restype = wintypes.HANDLE
    query = kernel32.GetFileInformationByHandleEx
    query.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD]
    query.restype = wintypes.BOOL
    close = kernel32.CloseHandle
    close.argtypes = [wintypes.HANDLE]
    close.restype = wintypes.BOOL

    class FileBasicInfo(ctypes.Structure):
        _fields_ = [("CreationTime", ctypes.c_int64), ("LastAccessTime", ctypes.c_int64),
                    ("LastWriteTime", ctypes.c_int64), ("ChangeTime", ctypes.c_int64),
                    ("FileAttributes", wintypes.DWORD)]

    return create, query, close, FileBasicInfo


DRIVE_REMOTE = 4
"""``GetDriveTypeW``'s value for a remote (network) drive (fileapi.h)."""


def network_drives(drives: dict[str, Path]) -> frozenset[str]:
    """The letters of ``drives`` (as :func:`logical_drives` gives them) that are network drives in this process's
    logon session (``GetDriveTypeW`` is ``DRIVE_REMOTE``): mapped for the account running the scan, which IIS worker
    processes, in logon sessions of their own, do not see (module docstring). Elsewhere than Windows: none.
    """
    if sys.platform != "win32":
        return frozenset()
    import ctypes  # pragma: no cover - exercised on Windows (tools/windows-live-test.ps1)

    kind = ctypes.windll.kernel32.GetDriveTypeW  # pragma: no cover
    return frozenset(c for c, root in drives.items() if kind(str(root)) == DRIVE_REMOTE)  # pragma: no cover


def wow64() -> bool:
    """True when this is a 32-bit process on 64-bit Windows (its System32 is SysWOW64; facts E4)."""
    return "PROCESSOR_ARCHITEW6432" in os.environ


NATIVE_MACHINES = {0x014C: Arch.X86, 0x8664: Arch.X64, 0xAA64: Arch.ARM64}
"""IMAGE_FILE_MACHINE_I386, _AMD64, _ARM64 (winnt.h) -> the architecture ``IsWow64Process2`` reports."""


def _native_machine() -> int | None:
    """``IsWow64Process2``'s native machine for this process; None where the call does not exist (Windows before
    10 / Server 2016 version 1709), fails, or elsewhere than Windows."""
    if sys.platform != "win32":
        return None
    import ctypes  # pragma: no cover - exercised on Windows (tools/windows-live-test.ps1)
    from ctypes import wintypes  # pragma: no cover

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # pragma: no cover
    call = getattr(kernel32, "IsWow64Process2", None)  # pragma: no cover
    if call is None:  # pragma: no cover
        return None
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE  # pragma: no cover
    call.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.USHORT), ctypes.POINTER(wintypes.USHORT)]  # pragma: no cover
    call.restype = wintypes.BOOL  # pragma: no cover
    process, native = wintypes.USHORT(), wintypes.USHORT()  # pragma: no cover
    if not call(kernel32.GetCurrentProcess(), ctypes.byref(process), ctypes.byref(native)):  # pragma: no cover
        return None
    return int(native.value)  # pragma: no cover


def native_arch(machine: int | None = None) -> tuple[Arch, str]:
    """The running Windows' architecture and where it came from.

    ``IsWow64Process2``'s native machine (``machine``, else asked of Windows) decides where it names an
    architecture; else the environment: ``PROCESSOR_ARCHITEW6432`` under WOW64, else ``PROCESSOR_ARCHITECTURE``
    ("WOW64 Implementation Details"), which an x64 Python emulated on ARM64 Windows sees as ``AMD64``.
    """
    machine = _native_machine() if machine is None else machine
    if machine is not None and machine in NATIVE_MACHINES:
        return NATIVE_MACHINES[machine], f"live system (IsWow64Process2: native machine 0x{machine:04X})"
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
