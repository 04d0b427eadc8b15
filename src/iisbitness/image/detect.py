"""Decide the OS architecture of a server image (issue: x64 unless stated or shown otherwise).

- ``Windows/SysArm32`` or ``Program Files (Arm)`` present: ARM64 Windows (x86 and ARM32 WOW layers). Windows
  builds without ARM32 support (Windows 11 24H2 on) have neither, but every ARM64 Windows carries its
  emulators: ``Windows/System32/xtajit.dll`` (x86), ``xtajit64.dll`` (x64), and ``Windows/SyChpe32`` (the
  x86 hybrid binaries); none exists on x64 Windows.
- ``Windows/SysWOW64`` present: 64-bit x64 Windows.
- ``Windows/System32`` holding binaries but no SysWOW64: 32-bit Windows.
- otherwise (a configuration-only image): x64, assumed.
"""

from __future__ import annotations

from iisbitness.arch import Arch
from iisbitness.image.server_image import ServerImage
from iisbitness.image.windows import native_arch


def detect_os_arch(image: ServerImage) -> tuple[Arch, str]:
    """``(arch, how it was decided)`` for ``image``. Live: from the running Windows."""
    if image.live:
        return native_arch()
    root = image.root
    windows = image.find_child(root, "Windows")
    arm32 = image.find_child(windows, "SysArm32") if windows is not None else None
    if arm32 is not None or image.find_child(root, "Program Files (Arm)") is not None:
        return Arch.ARM64, "image has Windows/SysArm32 or Program Files (Arm)"
    system32 = image.find_child(windows, "System32") if windows else None
    for folder, name in ((windows, "SyChpe32"), (system32, "xtajit64.dll"), (system32, "xtajit.dll")):
        if folder is not None and image.find_child(folder, name) is not None:
            return Arch.ARM64, f"image has {'Windows' if folder is windows else 'Windows/System32'}/{name} (ARM64 only)"
    if windows is not None and image.find_child(windows, "SysWOW64") is not None:
        return Arch.X64, "image has Windows/SysWOW64"
    if system32 is not None and any(n.endswith((".dll", ".exe")) for n in image.listing(system32).files):
        return Arch.X86, "image has Windows/System32 binaries but no SysWOW64"
    return Arch.X64, "assumed: the image does not show it; use --os-arch"
