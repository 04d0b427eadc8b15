"""Processor architectures of Windows processes, as IIS bitness analysis needs them.

An :class:`Arch` names the architecture of a *process* (a w3wp.exe worker, inetinfo.exe,
inetmgr.exe) and, as a set, the processes that can load a given binary.

Source: "Running 32-bit Applications on 64-bit Windows" (technet cc755457) for x86/x64;
"Arm64X PE files" and "Arm64EC" (learn.microsoft.com/windows/arm) for ARM64.
"""

from __future__ import annotations

from enum import Enum


class Arch(str, Enum):
    """The architecture a process runs as.

    ``X86`` is a 32-bit process (under WOW64 on 64-bit Windows), ``X64`` a native or
    emulated AMD64 process, ``ARM64`` a native ARM64 process.
    """

    X86 = "x86"
    X64 = "x64"
    ARM64 = "arm64"

    @property
    def bits(self) -> int:
        """Pointer width in bits: 32 for x86, 64 otherwise."""
        return 32 if self is Arch.X86 else 64

    @property
    def is_64bit(self) -> bool:
        """True for x64 and ARM64 processes (the ``bitness64`` preCondition holds)."""
        return self is not Arch.X86

    @property
    def other_bitness(self) -> Arch:
        """The worker architecture of the other bitness on x64 Windows (WOW64): x64 for x86, x86 for x64 (and for
        ARM64, whose 32-bit processes are x86 too; "WOW64 Implementation Details", Win32 docs)."""
        return Arch.X64 if self is Arch.X86 else Arch.X86

    def __str__(self) -> str:
        return self.value


def format_arches(arches: frozenset[Arch] | set[Arch]) -> str:
    """Render a set of architectures in a stable order, e.g. ``"x86, x64"``; ``"none"`` if empty."""
    order = [Arch.X86, Arch.X64, Arch.ARM64]
    names = [a.value for a in order if a in arches]
    return ", ".join(names) if names else "none"


def sort_arches(arches: frozenset[Arch] | set[Arch]) -> list[Arch]:
    """Return the architectures in the canonical order x86, x64, arm64."""
    return [a for a in (Arch.X86, Arch.X64, Arch.ARM64) if a in arches]
