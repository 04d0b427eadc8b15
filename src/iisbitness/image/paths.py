"""Windows paths as a given process sees them: environment expansion and WOW64 redirection.

Pure string functions over Windows paths (``C:\\Windows\\System32\\...``); nothing here touches
a disk. Sources:
- Environment in a 32-bit process (``ProgramFiles`` -> ``Program Files (x86)``,
  ``ProgramW6432``, ``PROCESSOR_ARCHITEW6432``): "WOW64 Implementation Details" (MicrosoftDocs/win32
  desktop-src/WinProg64/wow64-implementation-details.md).
- File-system redirection of ``%windir%\\System32`` to ``SysWOW64`` and its exempt folders:
  "File System Redirector" (desktop-src/WinProg64/file-system-redirector.md).
- Expansion happens in the consuming process (facts B10/B11); IIS ships two copies of its own
  modules, System32\\inetsrv and SysWOW64\\inetsrv (facts B12, C9).
"""

from __future__ import annotations

import functools
import ntpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from iisbitness.arch import Arch

SYSTEM_DRIVE = "C:"
WINDIR = "C:\\Windows"
_WINDIR_SLASH = WINDIR.lower() + "\\"

# Folders under System32 that a 32-bit process still sees un-redirected (file-system-redirector.md).
_EXEMPT = ("catroot", "catroot2", "driverstore", "drivers\\etc", "logfiles", "spool")

_VAR = re.compile(r"%([^%\\/:*?\"<>|\r\n]+)%")


def process_environment(os_arch: Arch, process_arch: Arch, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment variables a process of ``process_arch`` has on an OS of ``os_arch``.

    Keys are upper-case. ``overrides`` (e.g. from ``--env``) win over the defaults.
    ``IIS_BIN`` is the IIS Express folder of that bitness (facts A10, INFERENCE). Returns a new dict
    each call (callers may change it); the defaults are computed once per architecture pair.
    """
    env = dict(_default_environment(os_arch, process_arch))
    if overrides:
        env.update({k.upper(): v for k, v in overrides.items()})
    return env


@functools.cache
def _default_environment(os_arch: Arch, process_arch: Arch) -> tuple[tuple[str, str], ...]:
    wow64 = os_arch.is_64bit and process_arch is Arch.X86
    pf64 = "C:\\Program Files"
    pf86 = "C:\\Program Files (x86)" if os_arch.is_64bit else pf64
    pf = pf86 if wow64 else pf64
    cpf = ntpath.join(pf, "Common Files")
    env = {
        "SYSTEMDRIVE": SYSTEM_DRIVE,
        "SYSTEMROOT": WINDIR,
        "WINDIR": WINDIR,
        "PROGRAMFILES": pf,
        "COMMONPROGRAMFILES": cpf,
        "PROGRAMDATA": "C:\\ProgramData",
        "ALLUSERSPROFILE": "C:\\ProgramData",
        "PUBLIC": "C:\\Users\\Public",
        "IIS_BIN": ntpath.join(pf, "IIS Express"),
        "PROCESSOR_ARCHITECTURE": {Arch.X86: "x86", Arch.X64: "AMD64", Arch.ARM64: "ARM64"}[process_arch],
    }
    if os_arch.is_64bit:
        env["PROGRAMFILES(X86)"] = pf86
        env["COMMONPROGRAMFILES(X86)"] = ntpath.join(pf86, "Common Files")
        env["PROGRAMW6432"] = pf64
        env["COMMONPROGRAMW6432"] = ntpath.join(pf64, "Common Files")
    if wow64:
        env["PROCESSOR_ARCHITEW6432"] = "AMD64" if os_arch is Arch.X64 else "ARM64"
    return tuple(env.items())


def expand(value: str, env: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """Expand ``%NAME%`` references (case-insensitive names) as ExpandEnvironmentStrings does.

    Returns:
        ``(expanded, unresolved)``: unknown variables are left in place, as Windows leaves them,
        and listed in ``unresolved`` (e.g. ``ANCM_PATH`` in a CI template).
    """
    unresolved: list[str] = []

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        found = env.get(name.upper())
        if found is None:
            unresolved.append(name)
            return m.group(0)
        return found

    return _VAR.sub(sub, value), tuple(unresolved)


def normalize(path: str) -> str:
    """Normalise a Windows path: backslashes, no ``.``/``..`` (never above the drive root),
    no ``\\\\?\\`` prefix, surrounding quotes and spaces removed, and the trailing periods and spaces of its last
    component removed as Windows removes them when it opens the file (``m.dll.`` opens ``m.dll``: "CreateFile()
    removes trailing spaces and periods from file and directory names", KB 115827; "File path formats on Windows
    systems", learn.microsoft.com: "If the path doesn't end in a separator, all trailing periods and spaces are
    removed"; a folder's name loses one trailing period, ibid.: "If a segment ends in a single period, that period is
    removed"; not below ``\\\\?\\``, which turns that parsing off)."""
    if _plain(path):
        return path
    p = path.strip().strip('"').strip()
    literal = p.startswith("\\\\?\\")
    if literal and not p.upper().startswith("\\\\?\\UNC\\"):
        p = p[4:]
    p = p.replace("/", "\\")
    if not p:
        return p
    normal = ntpath.normpath(p)
    root, below = ntpath.splitdrive(normal)  # NOTE: a share's own name (\\\\server\\share.) is no segment of it
    if not literal and ".\\" in below:  # NOTE: "If a segment ends in a single period, that period is removed"
        normal = root + "\\".join(seg[:-1] if seg[-1:] == "." and seg[-2:] != ".." else seg for seg in below.split("\\"))
    if not literal and normal[-1:] in (".", " ") and len(normal) > len(root):
        head, _, last = normal.rpartition("\\")
        trimmed = last.rstrip(". ")
        if trimmed and last not in (".", ".."):
            normal = f"{head}\\{trimmed}" if head or normal.startswith("\\") else trimmed
    # NOTE: a path that is already normal stays the caller's string: one file, one string in every cache
    return path if normal == path else normal


def _plain(path: str) -> bool:
    """``path`` is a drive-absolute path that :func:`normalize` returns as it is: no surrounding spaces or quotes,
    no forward slash, no empty, ``.`` or ``..`` component (nor any component starting with a dot, to keep the test
    simple), no trailing backslash or period, no component ending in a period. NOTE: most paths a scan resolves are (a ``bin`` folder plus a file name), and
    ``ntpath.normpath`` is Python code on Linux (issue 25)."""
    return (len(path) > 3 and path[1:3] == ":\\" and path[0] != '"' and not path[0].isspace()
            and path[-1] not in '"\\.' and not path[-1].isspace()
            and "/" not in path and "\\\\" not in path and "\\." not in path and ".\\" not in path)


def seen_alike(path: str) -> bool:
    """``path`` is the same Windows path to every process on every OS: no ``%NAME%`` to expand, already normal
    (:func:`normalize` gives it back), and not below ``%windir%``, where WOW64 redirects System32 and Sysnative
    (:func:`redirect`, :func:`unseen`). Most configured binaries are (a ``bin`` folder's files)."""
    return "%" not in path and _plain(path) and path[: len(_WINDIR_SLASH)].lower() != _WINDIR_SLASH


def plain_name(name: str) -> bool:
    """``name`` is a file name that keeps a folder's paths :func:`seen_alike`: for a folder ``f`` where
    ``seen_alike(f + "\\x")`` and a name without a backslash, ``seen_alike(f + "\\" + name) == plain_name(name)``: not
    empty, no ``%``, separator or leading dot, no quote, period or space at its end; a name with a backslash is never plain (it
    names a file below another folder). NOTE: a folder checked once and each of its files cheaply (issue 25)."""
    return (name != "" and "%" not in name and "\\" not in name and "/" not in name and name[0] != "."
            and name[-1] not in '".' and not name[-1].isspace())


def is_unc(path: str) -> bool:
    """True for ``\\\\server\\share`` paths (and ``\\\\?\\UNC\\``)."""
    return path.startswith("\\\\")


def unc_share(path: str) -> tuple[str, str, str] | None:
    """``(server, share, rest)`` of a UNC path ``\\\\server\\share\\rest`` (also ``\\\\?\\UNC\\server\\share``;
    ``rest`` without a leading backslash, "" for the share itself), as written; None when ``path`` names no
    server and share (a drive path, ``\\\\?\\C:\\...``, the device namespace ``\\\\.\\``, ``\\\\server`` alone).
    Windows names a file on a share by this form (Microsoft Learn, "Naming Files, Paths, and Namespaces": UNC
    names)."""
    p = path.replace("/", "\\")
    if p[:8].upper() == "\\\\?\\UNC\\":
        p = "\\\\" + p[8:]
    if not p.startswith("\\\\") or p.startswith(("\\\\?\\", "\\\\.\\")):
        return None
    server, _, tail = p[2:].partition("\\")
    share, _, rest = tail.partition("\\")
    return (server, share, rest.strip("\\")) if server and share else None


_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/=")
_IN_DOUBLE_QUOTES = frozenset("$`\\\"%!")
"""What double quotes do not keep as it is in one shell or another: POSIX sh ``$ ` \\ "``, PowerShell ``$ `
"``, cmd.exe ``% "`` (and ``!`` under delayed expansion)."""


def share_argument(server: str, share: str, path: str = "/path/to/copy") -> str:
    """``--share //server/share=PATH`` as it pastes into POSIX sh, PowerShell and cmd.exe, for a remedy: forward
    slashes (the ``--share`` parser takes them; a backslash is an escape in sh), bare when every character is plain,
    else in double quotes (a space: ``"//fileserver/Web Sites=/path/to/copy"``; a hidden or administrative share's
    ``$`` before ``=`` or ``/``, ``"//fs01/sites$=/path/to/copy"``: a ``$`` not followed by a name, ``{`` or ``(`` is
    itself in sh and PowerShell, and nothing in cmd.exe), else (a ``%``, a backtick, another ``$``) in single quotes,
    which sh and PowerShell keep as they are (cmd.exe does not: there, type the double-quoted form)."""
    value = f"//{server}/{share}={path}"
    if set(value) <= _PLAIN:
        return f"--share {value}"
    if not set(value.replace("$=", "=").replace("$/", "/")) & _IN_DOUBLE_QUOTES:
        return f'--share "{value}"'
    return "--share '" + value.replace("'", "'\\''") + "'"


def is_absolute(path: str) -> bool:
    """True for ``X:\\...`` drive-absolute paths and UNC paths."""
    return is_unc(path) or _DRIVE_ABSOLUTE.match(path) is not None


_DRIVE_ABSOLUTE = re.compile(r"[A-Za-z]:\\")


def _under(path: str, folder: str) -> str | None:
    """The rest of ``path`` below ``folder`` (case-insensitive), '' if equal, None if not under."""
    pl, fl = path.lower(), folder.lower().rstrip("\\")
    if pl == fl:
        return ""
    if pl.startswith(fl + "\\"):
        return path[len(fl) + 1 :]
    return None


def redirect(path: str, os_arch: Arch, process_arch: Arch) -> str:
    """Apply WOW64 file-system redirection to a normalised absolute path.

    A 32-bit (x86) process on 64-bit Windows opening ``%windir%\\System32\\...`` gets
    ``%windir%\\SysWOW64\\...`` except the exempt folders; ``%windir%\\Sysnative`` reaches the
    real System32 from 32-bit processes only. An x64 process on ARM64 has no WOW64 layer
    (facts A7). Other paths are returned unchanged.
    """
    if path[: len(_WINDIR_SLASH)].lower() != _WINDIR_SLASH:
        return path  # NOTE: neither folder below, as for nearly every path a scan resolves (issue 25)
    wow64 = os_arch.is_64bit and process_arch is Arch.X86
    sysnative = _under(path, WINDIR + "\\Sysnative")
    if sysnative is not None:
        return ntpath.join(WINDIR, "System32", sysnative) if wow64 else path
    rest = _under(path, WINDIR + "\\System32")
    if rest is None or not wow64:
        return path
    if any(_under(rest, ex) is not None for ex in _EXEMPT):
        return path
    return ntpath.join(WINDIR, "SysWOW64", rest) if rest else ntpath.join(WINDIR, "SysWOW64")


def under_syswow64(path: str) -> bool:
    """True when the normalised absolute ``path`` is ``%windir%\\SysWOW64`` or below it."""
    return _under(path, WINDIR + "\\SysWOW64") is not None


def unseen(path: str, os_arch: Arch, process_arch: Arch) -> str | None:
    """Why no server has ``path`` for a process of ``process_arch``, or None.

    ``%windir%\\Sysnative`` is an alias that only 32-bit processes on 64-bit Windows have, their way to
    the real System32 (file-system-redirector.md); :func:`redirect` translates it for them. Any other
    process (64-bit, or any process on 32-bit Windows) finds no such folder.
    """
    if _under(path, WINDIR + "\\Sysnative") is None or (os_arch.is_64bit and process_arch is Arch.X86):
        return None
    return (f"{WINDIR}\\Sysnative exists only for 32-bit processes on 64-bit Windows (their way to the real "
            f"System32); a {process_arch.value} process on {os_arch.value} Windows has no such folder")


def counterparts(path: str, os_arch: Arch) -> tuple[str, ...]:
    """Where the other architecture's copy of ``path`` lives: the other WOW64 view of System32, the other
    ``Program Files``, the other ``Microsoft.NET\\Framework`` folder (facts B11, B12). Empty when none."""
    if not os_arch.is_64bit:
        return ()
    pairs = ((WINDIR + "\\SysWOW64", WINDIR + "\\System32"), ("C:\\Program Files (x86)", "C:\\Program Files"),
             (WINDIR + "\\Microsoft.NET\\Framework", WINDIR + "\\Microsoft.NET\\Framework64"))
    out: list[str] = []
    for a, b in pairs:
        for mine, other in ((a, b), (b, a)):
            rest = _under(path, mine)
            if rest is not None and rest:
                out.append(ntpath.join(other, rest))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Inference:
    """An architecture decided by where a binary lives, not by reading it.

    Attributes:
        arches: the process architectures the folder's binaries are built for.
        reason: the folder rule, for the report (e.g. "SysWOW64 holds 32-bit binaries").
    """

    arches: frozenset[Arch]
    reason: str


def infer_from_location(path: str, os_arch: Arch) -> Inference | None:
    """Infer a missing binary's architecture from a well-known Windows folder (facts B12, I10).

    ``path`` is the path as the loading process sees it (after :func:`redirect`). Decides:
    ``SysWOW64`` (x86: the 32-bit view of System32, so a file a 32-bit process finds there loads at x86), asked only
    for a path configured in SysWOW64 itself or for one of Windows' own IIS modules reached there through System32 ->
    SysWOW64 redirection (Windows installs those in both views); a vendor file reached through redirection is never
    inferred, as which builds a product's installer puts in SysWOW64 is its own choice (WSUS's ``suscomp.dll`` is x64
    only, KB 4468361): the load plan decides that case once (``loadplan.plan.Absence.redirected``) and does not call
    this. ``System32`` (the OS's own architecture; Arm64X on ARM64, loadable by
    x64 and arm64), ``Microsoft.NET\\Framework`` (x86) vs ``Framework64`` (x64; not on ARM64 Windows:
    :func:`undecided`) vs ``FrameworkArm64`` (arm64), ``Program Files (x86)`` (x86), and on x64 Windows Microsoft's
    ``Program Files\\IIS`` and ``Program Files\\IIS Express`` (x64). Returns None when the folder
    does not decide it (``Program Files`` holds x64 and, on ARM64, arm64 software; ``SysArm32``, ARM64 Windows' 32-bit
    Arm view, is not one of them: no IIS process is 32-bit Arm).
    """
    if _under(path, WINDIR + "\\SysWOW64") is not None:
        return Inference(frozenset({Arch.X86}), "Windows\\SysWOW64 holds 32-bit (x86) binaries")
    if _under(path, WINDIR + "\\System32") is not None:
        if os_arch is Arch.ARM64:
            return Inference(frozenset({Arch.X64, Arch.ARM64}), "Windows\\System32 on ARM64 Windows holds Arm64X binaries")
        return Inference(frozenset({os_arch}), f"Windows\\System32 holds the OS's own ({os_arch.value}) binaries")
    net = _under(path, WINDIR + "\\Microsoft.NET")
    if net is not None:
        top = net.split("\\", 1)[0].lower()
        table = {"framework": Arch.X86, "framework64": Arch.X64, "frameworkarm64": Arch.ARM64}
        if top in table and not (top == "framework64" and os_arch is Arch.ARM64):  # NOTE: undecided() says why
            return Inference(frozenset({table[top]}), f"Microsoft.NET\\{net.split(chr(92), 1)[0]} holds {table[top].value} .NET Framework binaries")
    if os_arch.is_64bit and _under(path, "C:\\Program Files (x86)") is not None:
        return Inference(frozenset({Arch.X86}), "Program Files (x86) holds 32-bit programs")
    if os_arch is Arch.X64:
        # INFERENCE (facts A10, B12): IIS Express and Microsoft's out-of-band IIS modules (ANCM,
        # ARR, Advanced Logging) install their 64-bit build under Program Files and their x86
        # build under Program Files (x86). Not applied on ARM64, where those folders mix builds (A8).
        for folder in ("C:\\Program Files\\IIS Express", "C:\\Program Files\\IIS"):
            if _under(path, folder) is not None:
                return Inference(frozenset({Arch.X64}), f"{folder[3:]} holds Microsoft's 64-bit IIS builds")
    return None


def undecided(path: str, os_arch: Arch) -> str | None:
    """Why a folder :func:`infer_from_location` decides on other Windows does not decide the architecture of
    ``path`` (as the loading process sees it) on ``os_arch`` Windows, for the report; None elsewhere.

    ``%windir%\\Microsoft.NET\\Framework64`` on ARM64 Windows: .NET Framework 4.8.1 "adds native Arm64 support"
    (learn.microsoft.com, "What's new in .NET Framework", 4.8.1), x64 processes run emulated (facts A7), and no
    Microsoft document says which builds Framework64 holds there (the Arm64 builds are in ``FrameworkArm64``: an
    arm64 process that loaded ``Framework64\\...\\wpfgfx_v0400.dll`` got "not a valid Win32 application",
    dotnet/wpf issue 6032, a 4.8.1 preview: not a Microsoft document; MSBuild's ``MSBuildFrameworkToolsPathArm64``,
    "example: C:\\Windows\\Microsoft.NET\\FrameworkArm64", dotnet/msbuild ``src/Framework/FileClassifier.cs``).
    Microsoft staff, not documents, say what points to x64 there: ".NET Framework ``AnyCPU`` apps run as emulated
    ``x64``" (richlander, dotnet/core#7709) and "x64 processes can only load x64 dlls (that can be optionally
    optimized using ARM64EC)" (jkotas, dotnet/runtime#71897); an Arm64EC file carries machine 0x8664 (facts I2).
    Inferring x64 made an arm64 process's every Framework64 module an error nobody had read (audit9 H7), so it is
    left not checked.
    """
    if os_arch is Arch.ARM64:
        net = _under(path, WINDIR + "\\Microsoft.NET\\Framework64")
        if net is not None:
            return ("on ARM64 Windows no Microsoft document says which builds Microsoft.NET\\Framework64 holds (.NET "
                    "Framework 4.8.1 runs natively on Arm64, x64 processes run emulated), so its folder does not decide "
                    "its architecture")
    return None


def basename(path: str) -> str:
    """The file name of a Windows path."""
    return ntpath.basename(path.rstrip("\\"))
