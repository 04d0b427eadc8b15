"""The shortcuts of image/paths.py (issue 25) give what the full computation gives, for any path.

``normalize`` returns a path it can tell is already normal without ``ntpath.normpath``, and ``redirect`` a path
outside ``C:\\Windows`` without looking for System32 or Sysnative: both must agree with the long way on every
string, which these properties check on paths built from the characters that matter (separators, dots, quotes,
spaces, drive letters, the folder names redirection looks for).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from iisbitness.arch import Arch
from iisbitness.image import paths

_PARTS = st.sampled_from(["C:", "c:", "D:", "1:", "\\", "/", ".", "..", " ", '"', "\t", "\u3000", "\\\\?\\",
                          "Windows", "WINDOWS", "System32", "sysnative", "SysWOW64", "drivers", "etc", "inetsrv",
                          "bin", "a.dll", ".hidden", "x", "%WINDIR%", "UNC"])
_COMPONENTS = st.sampled_from(["", ".", "..", "Windows", "System32", "sysnative", "SysWOW64", "drivers", "etc",
                                "bin", "a.dll", ".hidden", "x.", " x", "x ", '"x"', "%WINDIR%", "/x", "x/y"])
_DRIVE_PATHS = st.builds(lambda drive, names, tail: drive + "\\".join(names) + tail,
                         st.sampled_from(["C:\\", "c:\\", "D:\\", "1:\\", '"C:\\', " C:\\", "C:/", "C:"]),
                         st.lists(_COMPONENTS, max_size=6), st.sampled_from(["", "\\", '"', " ", "/", "\u3000"]))
PATHS = st.one_of(st.lists(_PARTS, max_size=10).map("".join), _DRIVE_PATHS)


def _normalize_long(path: str) -> str:
    """normalize without its shortcut (the reference): every path through ``ntpath.normpath``."""
    saved = paths._plain
    paths._plain = lambda _: False
    try:
        return paths.normalize(path)
    finally:
        paths._plain = saved


def _redirect_long(path: str, os_arch: Arch, process_arch: Arch) -> str:
    """redirect without its shortcut: the folders it looks for, looked for."""
    saved = paths._WINDIR_SLASH
    paths._WINDIR_SLASH = ""  # NOTE: every path's first 0 characters match: the shortcut never returns
    try:
        return paths.redirect(path, os_arch, process_arch)
    finally:
        paths._WINDIR_SLASH = saved


@settings(max_examples=600, deadline=None)
@given(PATHS)
def test_normalize_shortcut_agrees_with_normpath(path: str) -> None:
    assert paths.normalize(path) == _normalize_long(path)


@settings(max_examples=600, deadline=None)
@given(PATHS, st.sampled_from(list(Arch)), st.sampled_from(list(Arch)))
def test_redirect_shortcut_agrees_with_the_full_lookup(path: str, os_arch: Arch, process_arch: Arch) -> None:
    path = paths.normalize(path)
    assert paths.redirect(path, os_arch, process_arch) == _redirect_long(path, os_arch, process_arch)


def test_the_shortcuts_are_taken_and_left() -> None:
    """Both ways are exercised: plain paths come back as the same object, others are normalised."""
    plain = "C:\\inetpub\\site1\\bin\\a.dll"
    assert paths.normalize(plain) is plain and paths._plain(plain)
    assert paths.normalize("C:\\inetpub\\.\\bin\\") == "C:\\inetpub\\bin" and not paths._plain("C:\\inetpub\\.\\bin\\")
    assert paths.redirect(paths.WINDIR + "\\System32\\inetsrv\\x.dll", Arch.X64, Arch.X86) == paths.WINDIR + "\\SysWOW64\\inetsrv\\x.dll"
    assert paths.redirect(plain, Arch.X64, Arch.X86) is plain
    assert paths.is_absolute("c:\\x") and not paths.is_absolute("c:x") and not paths.is_absolute("x:/y")


@settings(max_examples=600, deadline=None)
@given(PATHS)
def test_a_path_seen_alike_is_the_same_to_every_process(path: str) -> None:
    """What PlanContext relies on to resolve a path once for every worker architecture."""
    if not paths.seen_alike(path):
        return
    assert paths.normalize(path) is path
    for os_arch in Arch:
        for process_arch in Arch:
            assert paths.expand(path, paths.process_environment(os_arch, process_arch)) == (path, ())
            assert paths.redirect(path, os_arch, process_arch) == path and paths.unseen(path, os_arch, process_arch) is None


def test_seen_alike_says_no_where_processes_differ() -> None:
    assert paths.seen_alike("C:\\inetpub\\wwwroot\\bin\\a.dll")
    for path in ("C:\\Windows\\System32\\x.dll", "c:\\windows\\sysnative\\x.dll", "%ProgramFiles%\\x.dll",
                 "C:\\inetpub\\..\\x.dll"):
        assert not paths.seen_alike(path), path


_NAMES = st.one_of(st.sampled_from(["a.dll", "", ".x.dll", "a.dll ", 'a.dll"', "a\\b.dll", "a/b.dll", "%WINDIR%.dll",
                                    "windows\\x.dll", "Windows", "x", "..", "a.dll\t", "a\u3000"]),
                   st.text(alphabet="aW.%\\/ \"\t:", max_size=12))


@settings(max_examples=800, deadline=None)
@given(PATHS, _NAMES)
def test_a_plain_name_keeps_a_folder_seen_alike(folder: str, name: str) -> None:
    """What PlanContext.resolve_files relies on to check a bin folder once and each of its files by name."""
    if not paths.seen_alike(folder + "\\x"):
        return
    if "\\" in name:
        assert not paths.plain_name(name)
    else:
        assert paths.seen_alike(folder + "\\" + name) == paths.plain_name(name), (folder, name)


def test_plain_names() -> None:
    assert paths.plain_name("Newtonsoft.Json.dll") and paths.seen_alike("C:\\inetpub\\bin\\x")
    assert not any(paths.plain_name(n) for n in ("", ".hidden.dll", "a%b.dll", "a\\b.dll", "a.dll ", 'a.dll"'))
