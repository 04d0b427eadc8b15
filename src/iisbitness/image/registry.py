"""COM class registrations read from the registry, per registry view.

On 64-bit Windows (7 / 2008 R2 and later) a 32-bit process reading ``HKLM\\SOFTWARE\\Classes\\CLSID``
is redirected to ``HKLM\\SOFTWARE\\WOW6432Node\\Classes\\CLSID``; ``Classes\\<ProgID>`` (and
``AppID``) are shared by both views (facts E3; "Registry Keys Affected by WOW64", MicrosoftDocs/win32
desktop-src/WinProg64/shared-registry-keys.md). So a ProgID maps to one CLSID, but whether that CLSID
has an ``InprocServer32`` depends on the caller's bitness (facts D8).

Offline the registry is the image's ``Windows/System32/config/SOFTWARE`` hive, read with regipy.
Live on Windows both views are read with :mod:`winreg` (``KEY_WOW64_64KEY`` / ``KEY_WOW64_32KEY``), in
:mod:`iisbitness.image.windows`; a collected image (``iisbitness collect``) answers from the keys it recorded.
"""

from __future__ import annotations

import stat
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from iisbitness.arch import Arch
from iisbitness.image.windows import registry_default

SOFTWARE_HIVE = "Windows\\System32\\config\\SOFTWARE"
"""Where the SOFTWARE hive lives, relative to the system drive."""


class RegistryView(str, Enum):
    """A registry view: the native (64-bit) one, or the 32-bit one under WOW6432Node."""

    NATIVE = "64-bit"
    WOW64 = "32-bit"

    @property
    def clsid_key(self) -> str:
        """Where CLSIDs live in the SOFTWARE hive for this view."""
        return "Classes\\CLSID" if self is RegistryView.NATIVE else "WOW6432Node\\Classes\\CLSID"


def view_of(os_arch: Arch, process_arch: Arch) -> RegistryView:
    """The view a process of ``process_arch`` sees on an OS of ``os_arch``.

    Only x86 processes on 64-bit Windows are redirected; x64 processes on ARM64 Windows see the
    native view (there is no WOW64 layer for x64 there, facts A7).
    """
    return RegistryView.WOW64 if os_arch.is_64bit and process_arch is Arch.X86 else RegistryView.NATIVE


@dataclass(frozen=True, slots=True)
class ComServer:
    """A CLSID's registration in one view.

    Attributes:
        clsid: the CLSID, braces included. view: where it was read.
        inproc: the ``InprocServer32`` default value (a DLL path, maybe with %variables%), or None.
        local: the ``LocalServer32`` default value (an EXE command line), or None.
        key: the registry key, as a user would type it.
    """

    clsid: str
    view: RegistryView
    inproc: str | None
    local: str | None
    key: str


class NotRecorded(LookupError):
    """A collected zip's registry (:class:`RecordedRegistry`) was asked what the collecting scan never asked: its
    answer is unknown, never "absent" (the message says so, for the report)."""


class ComRegistry(Protocol):
    """Read access to COM registrations.

    Both methods raise :class:`NotRecorded` where the registry is a collected zip's answers and the question was
    not asked by the scan that collected it."""

    def progid_clsid(self, progid: str) -> str | None:
        """The CLSID of ``progid`` (``Classes\\<ProgID>\\CLSID``, shared by both views), or None."""

    def server(self, clsid: str, view: RegistryView) -> ComServer | None:
        """The registration of ``clsid`` in ``view``, or None when it has no key there."""


class HiveRegistry:
    """The SOFTWARE hive of an offline image, read with regipy."""

    def __init__(self, hive: Path) -> None:
        from regipy.registry import RegistryHive

        self.path = hive
        self._hive = RegistryHive(str(hive))  # type: ignore[no-untyped-call]

    def _default(self, key: str) -> str | None:
        from regipy.exceptions import RegipyException

        try:
            value = self._hive.get_key("\\" + key).get_value()  # type: ignore[no-untyped-call]
        except (RegipyException, ValueError, KeyError):
            return None
        return value.strip() if isinstance(value, str) and value.strip() else None

    def _exists(self, key: str) -> bool:
        from regipy.exceptions import RegipyException

        try:
            self._hive.get_key("\\" + key)  # type: ignore[no-untyped-call]
        except (RegipyException, ValueError, KeyError):
            return False
        return True

    def progid_clsid(self, progid: str) -> str | None:
        """The CLSID of ``progid``; falls back to ``WOW6432Node\\Classes`` (pre-Windows 7 layouts)."""
        return self._default(f"Classes\\{progid}\\CLSID") or self._default(f"WOW6432Node\\Classes\\{progid}\\CLSID")

    def server(self, clsid: str, view: RegistryView) -> ComServer | None:
        """The registration of ``clsid`` in ``view``."""
        key = f"{view.clsid_key}\\{clsid}"
        if not self._exists(key):
            return None
        return ComServer(clsid, view, self._default(key + "\\InprocServer32"), self._default(key + "\\LocalServer32"),
                         "HKLM\\SOFTWARE\\" + key)


class LiveRegistry:
    """The running system's registry, both views (:func:`iisbitness.image.windows.registry_default`)."""

    def _default(self, key: str, view: RegistryView) -> str | None:
        return registry_default(key, view is RegistryView.NATIVE)

    def progid_clsid(self, progid: str) -> str | None:
        """The CLSID of ``progid`` (shared key: the native view is enough)."""
        return self._default(f"Classes\\{progid}\\CLSID", RegistryView.NATIVE)

    def server(self, clsid: str, view: RegistryView) -> ComServer | None:
        """The registration of ``clsid`` in ``view`` (WOW6432Node is reached by KEY_WOW64_32KEY)."""
        key = f"Classes\\CLSID\\{clsid}"
        inproc = self._default(key + "\\InprocServer32", view)
        local = self._default(key + "\\LocalServer32", view)
        if inproc is None and local is None:
            return None
        shown = "HKLM\\SOFTWARE\\" + (key if view is RegistryView.NATIVE else "WOW6432Node\\" + key)
        return ComServer(clsid, view, inproc, local, shown)


MAX_HIVE_BYTES = 1 << 30
"""The largest SOFTWARE hive read (1 GiB; regipy holds it in memory, and a server's is typically 50 to 300 MB)."""


def open_registry(hive: Path | None, live: bool, not_located: str | None = None
                  ) -> tuple[ComRegistry | None, str | None]:
    """The registry of an image: ``(registry, None)``, or ``(None, why not)``.

    Args:
        hive: the image's SOFTWARE hive file, or None when the image has none.
        live: True for the running system (read with winreg on Windows).
        not_located: with ``hive`` None, why the hive was not located though present (a link leading out of
            the image: not followed, :attr:`iisbitness.image.server_image.Resolved.problem`), or None when absent.
    """
    if live and sys.platform == "win32":
        return LiveRegistry(), None
    if hive is None:
        where = SOFTWARE_HIVE.replace(chr(92), "/")
        if not_located is not None:
            return None, f"registry hive {where} {not_located}"
        return None, f"no registry hive in the image ({where})"
    try:
        st = hive.stat()
        if not stat.S_ISREG(st.st_mode):  # NOTE: a FIFO or device would block regipy's read for ever
            return None, "registry hive is not a regular file (a FIFO, a device or a folder): not read"
        if st.st_size > MAX_HIVE_BYTES:  # NOTE: regipy reads the whole hive into memory
            return None, f"registry hive is {st.st_size:,} bytes, over the {MAX_HIVE_BYTES:,}-byte limit: not read"
        with hive.open("rb") as f:
            if f.read(4) != b"regf":
                return None, "not a registry hive (no 'regf' signature at its start): not read"
        return HiveRegistry(hive), None
    except Exception as e:  # noqa: BLE001 - regipy raises many kinds on a damaged hive
        return None, f"cannot read registry hive: {type(e).__name__}: {e}"


class RecordingRegistry:
    """A registry whose every answer is remembered, for ``iisbitness collect`` (:meth:`answers`).

    Args:
        inner: the registry asked, or None when the image has none (then every answer is "absent").
    """

    def __init__(self, inner: ComRegistry | None) -> None:
        self._inner = inner
        self._progids: dict[str, str | None] = {}
        self._servers: dict[str, dict[str, str | None] | None] = {}

    def progid_clsid(self, progid: str) -> str | None:
        """As the inner registry answers; remembered."""
        clsid = self._inner.progid_clsid(progid) if self._inner is not None else None
        self._progids[progid.lower()] = clsid
        return clsid

    def server(self, clsid: str, view: RegistryView) -> ComServer | None:
        """As the inner registry answers; remembered."""
        found = self._inner.server(clsid, view) if self._inner is not None else None
        self._servers[f"{view.value}:{clsid.lower()}"] = None if found is None else {
            "clsid": found.clsid, "inproc": found.inproc, "local": found.local, "key": found.key}
        return found

    def answers(self) -> dict[str, object]:
        """Every answer given, as JSON-ready data (read back by :class:`RecordedRegistry`)."""
        return {"progids": dict(sorted(self._progids.items())), "servers": dict(sorted(self._servers.items()))}


class RecordedRegistry:
    """The registry answers a collected image recorded (:meth:`RecordingRegistry.answers`): the same questions get
    the same answers; a question the recording scan did not ask (a scan of the zip with another ``--os-arch`` asks
    another registry view) raises :class:`NotRecorded`: the zip does not know, and "absent" would say that the class
    is not registered there.

    Raises:
        ValueError, TypeError: ``answers`` is not in the recorded shape (the caller names the file).
    """

    def __init__(self, answers: object) -> None:
        if not isinstance(answers, dict):
            raise TypeError("registry answers are not an object")
        progids, servers = answers.get("progids", {}), answers.get("servers", {})
        if not isinstance(progids, dict) or not isinstance(servers, dict):
            raise TypeError("registry answers: 'progids' and 'servers' must be objects")
        self._progids: dict[str, str | None] = {}
        for k, v in progids.items():
            if not isinstance(k, str) or not (v is None or isinstance(v, str)):
                raise ValueError(f"registry answers: progid {k!r} has a value that is not a string")
            self._progids[k] = v
        self._servers: dict[str, ComServer | None] = {}
        for k, v in servers.items():
            view_name = str(k).partition(":")[0]
            views = {v.value: v for v in RegistryView}
            if view_name not in views:
                raise ValueError(f"registry answers: {k!r} names no registry view")
            if v is None:
                self._servers[k] = None
                continue
            fields = v if isinstance(v, dict) else {}
            values = [fields.get(f) for f in ("clsid", "inproc", "local", "key")]
            if not all(x is None or isinstance(x, str) for x in values) or values[0] is None or values[3] is None:
                raise ValueError(f"registry answers: server {k!r} is not a recorded registration")
            self._servers[k] = ComServer(str(values[0]), views[view_name], values[1], values[2], str(values[3]))

    def progid_clsid(self, progid: str) -> str | None:
        """The recorded CLSID of ``progid``.

        Raises:
            NotRecorded: the collecting scan never asked.
        """
        if progid.lower() not in self._progids:
            raise NotRecorded(f"the registry's answer for ProgID {progid} is not in the zip (the scan that collected "
                              "it never asked)")
        return self._progids[progid.lower()]

    def server(self, clsid: str, view: RegistryView) -> ComServer | None:
        """The recorded registration of ``clsid`` in ``view``.

        Raises:
            NotRecorded: the collecting scan never asked (another ``--os-arch``: another view).
        """
        key = f"{view.value}:{clsid.lower()}"
        if key not in self._servers:
            raise NotRecorded(f"the {view.value} registry view's registration of {clsid} is not in the zip (the scan "
                              "that collected it never read that view: a scan of the zip with another --os-arch than "
                              "collect's reads other views)")
        return self._servers[key]
