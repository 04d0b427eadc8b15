"""Copy-pasteable commands for fixes: appcmd.exe and PowerShell (WebAdministration).

appcmd syntax: "Getting Started with AppCmd.exe" (iis-docs ``get-started/getting-started-with-iis/
getting-started-with-appcmdexe.md``); collection items are addressed as ``/[name='X'].attr:value``
with ``/commit:apphost`` for applicationHost.config. PowerShell: WebAdministration's
``Set-ItemProperty IIS:\\AppPools\\X`` and ``Set-WebConfigurationProperty``.

A pool that rapid-fail protection stopped (WAS event 5002, HTTP 503) stays stopped after the cause
is fixed: a recycle does not start it. Fixes for such a cause end with
``appcmd start apppool /apppool.name:"P"`` / ``Start-WebAppPool`` ("Getting Started with AppCmd.exe";
WebAdministration ``Start-WebAppPool``; facts D2).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from iisbitness.arch import Arch
from iisbitness.config.precondition import tokens
from iisbitness.findings import Fix
from iisbitness.model.edits import (
    BITNESS_ATTRIBUTES,
    ModulesEntryPrecondition,
    MoveToNewPool,
    RemoveCompressionScheme,
    SetFilterPrecondition,
    SetGlobalModulePrecondition,
    SetPoolArch,
)
from iisbitness.model.iis7 import AppPool, ModuleEntry, PoolElement, Server, secret_shown

APPCMD = r"%windir%\system32\inetsrv\appcmd.exe"
"""appcmd.exe as cmd.exe names it (``%windir%`` expands there, not in PowerShell: :data:`APPCMD_PROGRAM`)."""

NOT_WRITTEN = ("rem Not written: ", "# Not written: ")
"""How a command line a name would break starts instead, in cmd.exe and PowerShell (:func:`cmd_line`, :func:`native`)."""


def _said_once(lines: list[str]) -> list[str]:
    """``lines`` of one change that all name the same thing (a pool that the first line sets or creates, a module):
    where the first cannot be written, no later one can be (the same name) or would help (the pool it creates does not
    exist), so the first alone says so, once."""
    return lines[:1] if lines and lines[0].startswith(NOT_WRITTEN) else lines


@dataclass(frozen=True, slots=True)
class Quoted:
    """A command argument holding a name: cmd.exe gets ``prefix"value"``, PowerShell ``'prefix' + value`` as one
    single-quoted string (``$`` and backticks stay literal; PowerShell quotes it for the program when it holds a
    space, which the program's C runtime takes off again, so both shells hand it the same argument)."""

    prefix: str
    value: str


@dataclass(frozen=True, slots=True)
class Program:
    """A path under an environment variable, as a program or an argument: ``%windir%\\...`` for cmd.exe;
    ``"$env:windir\\..."`` for PowerShell, which does not expand ``%VAR%``, run with the call operator ``&``
    when it is the program ("about_Operators", call operator; "about_Environment_Variables")."""

    path: str

    @property
    def cmd(self) -> str:
        """cmd.exe form: the path, in double quotes when it holds a space."""
        return f'"{self.path}"' if " " in self.path else self.path

    @property
    def ps_arg(self) -> str:
        """PowerShell form as an argument: ``"$env:windir\\..."`` (``${env:NAME}`` for names ``$env:`` cannot
        take); a path without variables or spaces as it is."""
        if "%" not in self.path and " " not in self.path:
            return self.path
        path = re.sub(r"%([^%]+)%", lambda m: f"$env:{m[1]}" if m[1].isalnum() else f"${{env:{m[1]}}}", self.path)
        return f'"{path}"'

    @property
    def ps(self) -> str:
        """PowerShell form as the program: ``& "$env:windir\\..."``, or a bare name (``iisreset``) as it is."""
        arg = self.ps_arg
        return f"& {arg}" if arg.startswith('"') else arg


@dataclass(frozen=True, slots=True)
class EnvPath:
    """An argument naming a path under an environment variable after a literal prefix
    (``/apphostconfig:%USERPROFILE%\\...``): cmd.exe ``prefix"%VAR%\\..."``, quoted since the variable's value may
    hold a space; PowerShell ``"prefix$env:VAR\\..."``, which does not expand ``%VAR%`` ("about_Environment_Variables")
    and hands the program the expanded string as one argument. ``ps_path``: PowerShell's own form of the path where it
    has a better one than cmd.exe's variables (a known folder asked of Windows, ``$([Environment]::GetFolderPath(
    'MyDocuments'))\\...``, a subexpression PowerShell expands inside double quotes, "about_Quoting_Rules"); empty:
    ``path`` with ``$env:``."""

    prefix: str
    path: str
    ps_path: str = ""


Arg = str | Quoted | Program | EnvPath
"""A literal token (the same text in both shells), a :class:`Quoted` name, a :class:`Program` path or an
:class:`EnvPath` argument."""

AppcmdLine = tuple[tuple[Arg, ...], tuple[str, ...]]
"""The arguments of one appcmd line after the program, and the names they hold in an appcmd ``[name='...']``
selector: what a fix builder gives so that another appcmd.exe (IIS Express's) runs the same line, both shells'
forms built from the arguments (:func:`native`), never from another line's text."""


APPCMD_PROGRAM = Program(APPCMD)


_PS_BARE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_/.:\\-]*|--?[A-Za-z0-9][A-Za-z0-9-]*")
"""Tokens PowerShell passes to a program as they are; others are single-quoted (Windows PowerShell splits
``-name.value`` at the dot and takes quotes out of the middle of a bare word)."""

_PS_NATIVE_UNQUOTABLE = frozenset('"\0\r\n')
"""Characters a name cannot carry in a PowerShell argument to a program: Windows PowerShell 5.1 passes an
embedded ``"`` unescaped (the program then splits the argument), CR/LF end the line."""


def _ps_arg(arg: Arg) -> str:
    if isinstance(arg, Quoted):
        return _ps_quote(arg.prefix + arg.value)
    if isinstance(arg, Program):
        return arg.ps_arg
    if isinstance(arg, EnvPath):
        return '"' + arg.prefix + (arg.ps_path or Program(arg.path).ps_arg.strip('"')) + '"'
    return arg if _PS_BARE.fullmatch(arg) else _ps_quote(arg)


def _cmd_arg(arg: Arg) -> str:
    if isinstance(arg, Quoted):
        return f'{arg.prefix}"{arg.value}"'
    if isinstance(arg, EnvPath):
        return f'{arg.prefix}"{arg.path}"'
    return arg.cmd if isinstance(arg, Program) else arg


def native(program: Program | str, *args: Arg, selected: Iterable[str] = ()) -> tuple[str, str]:
    """``(cmd.exe line, PowerShell line)`` that run ``program`` with ``args``; a line a name would break is a
    ``rem`` / ``#`` line saying why it is not written. ``selected``: names held in an appcmd ``[name='...']``
    selector (appcmd cannot take ``'`` or ``]`` there, whichever the shell)."""
    prog = program if isinstance(program, Program) else Program(program)
    selected = tuple(selected)
    quoted = [a.value for a in args if isinstance(a, Quoted)]
    cmd = cmd_line(" ".join([prog.cmd, *(_cmd_arg(a) for a in args)]), quoted, selected)
    bad = _PS_NATIVE_UNQUOTABLE.intersection("".join(quoted)) | _SELECTOR_PS.intersection("".join(selected))
    if bad:
        chars = " ".join(repr(c) for c in sorted(bad))
        return cmd, (f"# Not written: a name in this command holds {chars}, which a program run from PowerShell "
                     "(or appcmd's [name='...']) cannot take; use fix --apply")
    return cmd, " ".join([prog.ps, *(_ps_arg(a) for a in args)])


def _selector(name: str, attribute: str, value: str) -> Quoted:
    """appcmd's ``/[name='NAME'].attribute:value`` as one quoted argument: quoted whole, a name with a space stays
    one argument in both shells ("Getting Started with AppCmd.exe", collection items)."""
    return Quoted("", f"/[name='{name}'].{attribute}:{value}")


def same_in_both(*lines: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(cmd.exe lines, PowerShell lines)`` for commands that read the same in both shells (``iisreset``,
    ``dotnet publish -c Release -r win-x64``): each token checked with :func:`native`."""
    pairs = [native(*line.split(" ")) for line in lines]
    return tuple(c for c, _ in pairs), tuple(p for _, p in pairs)


_CMD_UNQUOTABLE = frozenset('"%\r\n')
"""Characters a name cannot carry inside a cmd.exe double-quoted argument: ``"`` ends the quoting (``&``, ``|``,
``<``, ``>`` after it run as cmd.exe operators), ``%`` starts a variable expansion (and an appcmd ``%u`` escape),
CR/LF end the command. appcmd's ``[name='...']`` selector cannot hold ``'`` or ``]`` either."""
_SELECTOR_CMD = _CMD_UNQUOTABLE | frozenset("']")
_SELECTOR_PS = _PS_NATIVE_UNQUOTABLE | frozenset("']")
"""What a name in an appcmd ``[name='...']`` selector cannot hold in a cmd.exe line, in a PowerShell line."""


def cmd_line(line: str, quoted: Iterable[str] = (), selected: Iterable[str] = ()) -> str:
    """``line`` for cmd.exe, or a ``rem`` line saying why it is not written: a configuration is untrusted, and a
    name that ends the quoting would turn a pasted fix into other commands. ``quoted``: the names the line holds
    in ``"..."``; ``selected``: those it holds in an appcmd ``[name='...']`` selector. The ``rem`` line points at
    what does the job instead: PowerShell (its single quotes take ``%``), and for an appcmd line ``fix --apply``
    (another program's, e.g. ``corflags`` on a file of a build, it does not write)."""
    bad = _CMD_UNQUOTABLE.intersection("".join(quoted)) | _SELECTOR_CMD.intersection("".join(selected))
    if not bad:
        return line
    chars = " ".join(repr(c) for c in sorted(bad))
    if not line.startswith(APPCMD + " "):  # NOTE: corflags, dotnet: no appcmd, and fix --apply writes no binary
        return (f"rem Not written: a name in this command holds {chars}, which cmd.exe cannot take quoted (it expands "
                "environment variables inside double quotes too); use --shell powershell")
    return (f"rem Not written: a name in this command holds {chars}, which cmd.exe or appcmd cannot take quoted; "
            "use --shell powershell, or fix --apply")


_PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
"""PowerShell ends a single-quoted string at any of these (its language spec's single-quote-character)."""
_PS_DOUBLED = {ord(q): q + q for q in _PS_SINGLE_QUOTES}
"""Each of :data:`_PS_SINGLE_QUOTES` doubled, for ``str.translate``."""


def ps_escaped(value: str) -> str:
    """``value`` as it stands inside a PowerShell single-quoted string: each single-quote character doubled
    (about_Quoting_Rules); :func:`_ps_quote` adds the quotes."""
    return value.translate(_PS_DOUBLED)


def _ps_quote(value: str) -> str:
    return "'" + ps_escaped(value) + "'"


def renamed(line: str, rename: Callable[[str, str], str], shown: str, *, powershell: bool) -> str:
    """A command line built by these fixes with a path renamed by ``rename(line, text)`` to ``shown`` (check-app
    names a file of the build as the user typed it), still pasting as it is: in a PowerShell line ``shown`` goes
    into a single-quoted string with its quotes doubled, or the line becomes a ``#`` comment when a program run
    from PowerShell cannot take it; in a cmd.exe line it is checked as a quoted name (:func:`cmd_line`). ``rename``:
    ``(line, replacement) -> line`` (the caller's pattern; in a PowerShell line the old path stands as
    :func:`ps_escaped` made it); a line it leaves unchanged is returned as it is."""
    if not powershell:
        new = rename(line, shown)
        return new if new == line else cmd_line(new, (shown,))
    new = rename(line, ps_escaped(shown))
    if new == line or not any(c in _PS_NATIVE_UNQUOTABLE for c in shown):
        return new
    chars = " ".join(repr(c) for c in sorted({c for c in shown if c in _PS_NATIVE_UNQUOTABLE}))
    return (f"# Not written: a name in this command holds {chars}, which a program run from PowerShell cannot "
            "take; use fix --apply")


def _ps_filter(collection: str, name: str, below: str = "") -> str | None:
    """``-Filter '<collection>[@name=...]<below>'`` as one single-quoted PowerShell string (no ``$(...)``
    expansion), the XPath literal in whichever quote the name lacks; None when it holds both (XPath 1.0 has no
    escape). ``below``: a path under the item (``/environmentVariables``)."""
    if "'" not in name:
        literal = f"'{name}'"
    elif '"' not in name:
        literal = f'"{name}"'
    else:
        return None
    return "-Filter " + _ps_quote(f"{collection}[@name={literal}]{below}")


_PS_NO_FILTER = ("# Not written: the name holds both ' and \", which an IIS configuration filter cannot quote; "
                 "use fix --apply")


_PS_WILDCARDS = frozenset("[]*?`")
"""Characters a provider path given to -Path matches as a wildcard pattern (about_Wildcards; ``` ` ``` escapes one)."""


def _ps_item(path: str) -> str:
    """``path`` (an ``IIS:\\`` item) as a Set-/Get-ItemProperty argument: single-quoted; behind ``-LiteralPath`` when
    it holds a wildcard character, where -Path would match other items or none (a site name may hold ``[ ]``: IIS
    forbids only ``/ \\ . ?`` in one, IAppHostPropertySchema::ValidationType ``siteName``; Set-ItemProperty's
    -LiteralPath "is used exactly as it's typed", Microsoft.PowerShell.Management)."""
    return f"-LiteralPath {_ps_quote(path)}" if _PS_WILDCARDS & set(path) else _ps_quote(path)


def _pool_item(pool: str) -> str:
    return _ps_item("IIS:\\AppPools\\" + pool)


def _app_item(site: str, path: str) -> str:
    return _ps_item("IIS:\\Sites\\" + site + path.replace("/", "\\").rstrip("\\"))


def _arch_words(arch: Arch) -> str:
    return {Arch.X86: "32-bit (x86)", Arch.X64: "64-bit (x64)", Arch.ARM64: "native ARM64"}[arch]


def _short_arch_words(arch: Arch, os_arch: Arch) -> str:
    """``32-bit`` / ``64-bit`` for a label; on ARM64 Windows, where 64-bit is x64 or ARM64, the long words."""
    return _arch_words(arch) if os_arch is Arch.ARM64 else f"{arch.bits}-bit"


def pool_arch_commands(pool: str, arch: Arch, os_arch: Arch, declared: bool = True, *,
                       recycle: bool = True) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(appcmd lines, PowerShell lines)`` that make ``pool``'s worker run as ``arch``. A pool that only an
    application names (not ``declared`` in applicationPools) is created at ``arch``: ``set apppool`` would find
    no such pool. ``recycle`` ends the lines with a recycle of a declared pool (leave it out for a stopped
    pool: recycling one fails with 0x80070426, "The service has not been started")."""
    e32 = "true" if arch is Arch.X86 else "false"
    if declared:
        cmds = [_appcmd("set", "apppool", Quoted("", pool), f"/enable32BitAppOnWin64:{e32}")]
        ps = ["Import-Module WebAdministration"]
    else:
        cmds = [_appcmd("add", "apppool", Quoted("/name:", pool), f"/enable32BitAppOnWin64:{e32}")]
        ps = ["Import-Module WebAdministration", f"New-WebAppPool -Name {_ps_quote(pool)}"]
    ps.append(f"Set-ItemProperty {_pool_item(pool)} -Name enable32BitAppOnWin64 -Value ${e32}")
    if os_arch is Arch.ARM64:
        emu = "false" if arch is Arch.ARM64 else "true"
        cmds.append(_appcmd("set", "apppool", Quoted("", pool), f"/enableEmulationOnWinArm64:{emu}"))
        ps.append(f"Set-ItemProperty {_pool_item(pool)} -Name enableEmulationOnWinArm64 -Value ${emu}")
    if declared and recycle:  # NOTE: a pool just created has no worker to recycle
        cmds.append(_appcmd("recycle", "apppool", Quoted("", pool)))
        ps.append(f"Restart-WebAppPool -Name {_ps_quote(pool)}")
    return tuple(_said_once(cmds)), tuple(ps)


def _appcmd(*args: Arg, selected: Iterable[str] = ()) -> str:
    """The cmd.exe line of ``appcmd.exe args`` (:func:`native`: names quoted, or a ``rem`` line saying why not;
    ``selected``: names in an appcmd ``[name='...']`` selector)."""
    return native(APPCMD_PROGRAM, *args, selected=selected)[0]


def start_pool_commands(pool: str) -> tuple[str, str]:
    """``(appcmd, PowerShell)`` that start ``pool`` again after rapid-fail protection stopped it."""
    return _appcmd("start", "apppool", Quoted("/apppool.name:", pool)), f"Start-WebAppPool -Name {_ps_quote(pool)}"


ARM64_NATIVE_UNVERIFIED = "try it on a test server first"
"""Why a change to native ARM64 workers is not verified (:attr:`Fix.unverified_because`), said in
:data:`ARM64_NATIVE_NOTE`."""

ARM64_NATIVE_NOTE = ("Native ARM64 workers (enableEmulationOnWinArm64=false) are not a documented option: emulation mode "
                     "(enableEmulationOnWinArm64=true) \"is currently the only option supported\" (IIS settings schema, "
                     "applicationPoolDefaults, learn.microsoft.com/previous-versions/iis/settings-schema/ms689467). "
                     f"Not verified: {ARM64_NATIVE_UNVERIFIED}.")
"""The fix text for a change to native ARM64 workers (issue 23): offered, never as verified."""

START_NOTE = ("Rapid-fail protection has stopped the pool (WAS event 5002) and a configuration change does not "
              "start it, so the last command does (with the new setting; a recycle would fail on a stopped pool).")


def flip_pool(pool: str, arch: Arch, os_arch: Arch, pool_stopped: bool = False, declared: bool = True, *,
              auto_start: bool = True) -> Fix:
    """Fix: run pool ``pool`` as ``arch``; ``pool_stopped``: the cause stops the pool (503), so start it
    (instead of recycling it); ``declared``: False for a pool only an application names (the fix then
    creates it); ``auto_start``: False for a pool with ``autoStart="false"``, which may be stopped on purpose:
    neither recycled (that fails on a stopped pool) nor started."""
    cmds, ps = pool_arch_commands(pool, arch, os_arch, declared, recycle=auto_start and not pool_stopped)
    note = "Every application in the pool then runs at that architecture."
    if not declared:
        note += (" applicationPools does not define this pool (its applications get HTTP 503 until it exists): the "
                 "first command creates it with the pool defaults.")
    elif not auto_start:
        note += (" The pool has autoStart=\"false\" and may be stopped on purpose: the change applies when it is "
                 "next started (recycle it yourself if it is running; recycling a stopped pool fails with 0x80070426).")
    elif pool_stopped:
        start, ps_start = start_pool_commands(pool)
        cmds, ps, note = tuple(_said_once([*cmds, start])), ps + (ps_start,), note + " " + START_NOTE
    native_arm64 = os_arch is Arch.ARM64 and arch is Arch.ARM64
    return Fix(
        summary=f"Run application pool '{pool}' as {_arch_words(arch)}",
        label=f"run the pool as {_short_arch_words(arch, os_arch)}",
        commands=cmds,
        powershell=ps,
        edits=(SetPoolArch(pool, arch),),
        note=note + (" " + ARM64_NATIVE_NOTE if native_arm64 else ""),
        verified=False if native_arm64 else None,
        unverified_because=ARM64_NATIVE_UNVERIFIED if native_arm64 else None,
    )


def create_pool(pool: str, arch: Arch, os_arch: Arch) -> Fix:
    """Fix: define pool ``pool``, which applications name but applicationPools does not define, with its worker at
    ``arch`` and every other setting from ``applicationPoolDefaults``: the commands and edit of a flip of that
    pool, which declares it (a native ARM64 worker's note kept: not verified, :data:`ARM64_NATIVE_NOTE`)."""
    return replace(flip_pool(pool, arch, os_arch, declared=False),
                   summary=f"Define application pool '{pool}' in applicationPools, running as {_arch_words(arch)}",
                   label=f"define the pool as {_short_arch_words(arch, os_arch)}",
                   note="Its other settings come from applicationPoolDefaults; WAS starts its worker on the next "
                        "request." + (" " + ARM64_NATIVE_NOTE if os_arch is Arch.ARM64 and arch is Arch.ARM64 else ""))


_BITNESS = ("bitness32", "bitness64")


def _bitness_of(precondition: str) -> str | None:
    """The bitness token of ``precondition`` (``bitness32`` / ``bitness64``, as IIS spells it), or None."""
    return next((t.lower() for t in tokens(precondition) if t.lower() in _BITNESS), None)


def _where(entry: ModuleEntry) -> str:
    if entry.web_config:
        return f"{entry.source} (a web.config)"
    return (f'<location path="{entry.location}">' if entry.location else "server level") + f" ({entry.source})"


@dataclass(frozen=True, slots=True)
class ModulesListing:
    """Where ``system.webServer/modules`` lists a global module and what a bitness preCondition fix does to each entry
    (:func:`modules_listing`).

    Attributes:
        targets: the entries of applicationHost.config the fix sets, each with its own new preCondition (its own
            tokens kept, the bitness added: IIS preConditions are comma-separated, iis-docs
            ``system.webServer/modules/add``), at the level that declares it (:attr:`ModuleEntry.location`).
        words: what the fix's note says of them (none listed; listed only at a location; a preCondition kept;
            entries it leaves as they are and why), sentences.
        unverified: why the fix is not verified, or "": a web.config's entry of the native module that the fix leaves
            as it is (``fix`` writes applicationHost.config only) and that does not name the fix's bitness still
            applies in the workers of the other bitness, where the module is no longer loaded. What IIS does with an
            entry naming a native module its worker did not load is documented nowhere we found (the Microsoft pages
            on preConditions, ``<globalModules>`` and ``<modules>`` say only that a module whose preCondition is
            false is not loaded), so re-analysis cannot vouch for it. A sentence of the note: "Not verified: "
            and :attr:`because`.
        because: the same reason as :attr:`Fix.unverified_because` says it (no opening "Not verified: ", no final
            period), or "".
    """

    targets: tuple[ModulesEntryPrecondition, ...] = ()
    words: str = ""
    unverified: str = ""
    because: str = ""


def modules_listing(server: Server | None, name: str, precondition: str) -> ModulesListing:
    """The ``<modules>`` entries of global module ``name`` that a fix setting its ``precondition`` (one with a bitness
    token) also sets, and what it says of them. appcmd's ``set config [PATH] -section:system.webServer/modules
    /[name='X']`` finds only an entry in effect at ``PATH`` ("ERROR ( message:Cannot find requested collection
    element. )" otherwise): each target is one the server's configuration declares there
    (:attr:`Server.module_entries`). Left as they are, and said: a web.config's entry (``fix`` writes
    applicationHost.config's), a managed module of that name (``type``: not the native module's entry), an entry
    that already names a bitness. ``server`` None: nothing is known of ``<modules>``, so no entry is set."""
    bitness = _bitness_of(precondition)
    if server is None or bitness is None:
        return ModulesListing()
    low = name.lower()
    entries = [e for e in server.module_entries if e.name.lower() == low]
    targets: list[ModulesEntryPrecondition] = []
    kept: list[str] = []
    held: list[str] = []
    words: list[str] = []
    own: list[str] = []
    for e in entries:
        has = _bitness_of(e.precondition)
        if e.type:
            kept.append(f"the managed module of that name at {_where(e)}")
        elif e.web_config:
            kept.append(f"the entry at {_where(e)}, which fix does not write")
            if has != bitness:
                held.append(f"{e.source}" + (f' (preCondition "{e.precondition}")' if e.precondition.strip() else ""))
        elif has is not None:
            kept.append(f"the entry at {_where(e)}, whose preCondition \"{e.precondition}\" already names "
                        + ("it" if has == bitness else f"{has} (it then applies in no worker that loads the module)"))
        else:
            targets.append(ModulesEntryPrecondition(e.location, ",".join([*tokens(e.precondition), bitness]), e.source))
            if e.precondition.strip():
                own.append(f'"{e.precondition}" becomes "{targets[-1].precondition}"')
    if not entries:
        words.append(f"<modules> lists no entry named '{name}' (a global module need not be listed there): only its "
                     "globalModules entry is set.")
    elif targets:
        at = ", ".join(f'<location path="{t.location}">' if t.location else "server level" for t in targets)
        words.append(f"Its <modules> entr{'ies' if len(targets) > 1 else 'y'} ({at}) get{'' if len(targets) > 1 else 's'} "
                     f"{bitness} too" + ("" if all(not t.location for t in targets) else
                                         ", each command selecting the path that declares it") + ".")
        if own:
            words.append(f"{'Their' if len(targets) > 1 else 'Its'} own preCondition is kept: {'; '.join(own)}.")
    if kept:
        words.append("Left as " + ("it is" if len(kept) == 1 else "they are") + ": " + "; ".join(kept) + ".")
    because = ""
    if held:
        one = len(held) == 1
        because = (f"the <modules> entr{'y' if one else 'ies'} naming '{name}' at {', '.join(held)} "
                   f"(a web.config) {'does' if one else 'do'} not name {bitness} and still appl{'ies' if one else 'y'} "
                   f"in workers of the other bitness, which no longer load the module; what IIS does there is not "
                   f"documented: give {'it' if one else 'each'} preCondition=\"{bitness}\" too (or remove "
                   f"{'it' if one else 'them'}), then scan again")
    return ModulesListing(tuple(targets), " ".join(words), f"Not verified: {because}." if because else "", because)


def _modules_line(name: str, target: ModulesEntryPrecondition) -> AppcmdLine:
    path: tuple[Arg, ...] = (Quoted("", target.location),) if target.location else ()
    return (("set", "config", *path, "-section:system.webServer/modules", _selector(name, "preCondition",
                                                                                      target.precondition),
             "/commit:apphost"), (name, target.precondition))


def global_module_precondition_lines(name: str, precondition: str, server: Server | None = None
                                     ) -> tuple[AppcmdLine, ...]:
    """The appcmd lines of :func:`global_module_precondition`'s change (``globalModules``, then each ``<modules>``
    entry :func:`modules_listing` sets, at the path that declares it), without the lines that start pools: what IIS
    Express's appcmd.exe runs (it has no pool to start)."""
    head: AppcmdLine = (("set", "config", "-section:system.webServer/globalModules",
                         _selector(name, "preCondition", precondition), "/commit:apphost"), (name, precondition))
    return (head, *(_modules_line(name, t) for t in modules_listing(server, name, precondition).targets))


CMD_LINE_MAX = 8191
"""The longest command line cmd.exe takes, after it expands variables ("Command prompt (Cmd.exe) command-line string
limitation", KB 830473, learn.microsoft.com troubleshoot/windows-client/shell-experience/command-line-string-limitation:
"The maximum length of the string that you can use at the command prompt is 8191 characters", which "applies to:
the command line; individual environment variables ...; all environment variable expansions", and to batch file
processing; past it "The command line is too long."). PowerShell's lines are not bound by it."""

_FOR_SET_UNTAKEN = _CMD_UNQUOTABLE | frozenset("*?")
"""What a name cannot hold in a cmd.exe ``for`` set: what a quoted argument cannot (:data:`_CMD_UNQUOTABLE`), and
``*`` ``?``, with which ``for`` lists matching files instead ("for", Windows commands reference)."""


def start_pools_cmd(pools: Sequence[str]) -> list[str]:
    """cmd.exe lines that start ``pools``: ``for %p in ("A" "B") do appcmd start apppool /apppool.name:%p`` (``for``
    keeps a quoted name's quotes in ``%p``), as many lines as keep each under :data:`CMD_LINE_MAX` with room for
    ``%windir%``'s value; pools whose name ``for`` cannot take are left to one ``rem`` line that counts them (the
    PowerShell form starts them): one such name no longer keeps every other pool from being started."""
    tail = f") do {APPCMD} start apppool /apppool.name:%p"
    room = CMD_LINE_MAX - len("for %p in (") - len(tail) - 256  # NOTE: %windir% expands (a long Windows folder)
    lines: list[str] = []
    names: list[str] = []
    for pool in pools:
        if _FOR_SET_UNTAKEN.intersection(pool):
            continue
        if names and len(" ".join(names)) + 3 + len(pool) > room:
            lines.append(f"for %p in ({' '.join(names)}{tail}")
            names = []
        names.append(f'"{pool}"')
    if names:
        lines.append(f"for %p in ({' '.join(names)}{tail}")
    if left := [p for p in pools if _FOR_SET_UNTAKEN.intersection(p)]:
        chars = " ".join(repr(c) for c in sorted(_FOR_SET_UNTAKEN.intersection("".join(left))))
        one = len(left) == 1
        lines.append(f"rem Not written: {len(left)} of these {len(pools)} pools {'has' if one else 'have'} a name "
                     f"holding {chars}, which cmd.exe cannot take quoted; start {'it' if one else 'them'} with "
                     "--shell powershell's command")
    return lines


def global_module_precondition(name: str, precondition: str, stopped_pools: tuple[str, ...] = (),
                               server: Server | None = None) -> Fix:
    """Fix: restrict a global module (and each of its ``<modules>`` entries :func:`modules_listing` finds in
    ``server``'s applicationHost.config, at the path that declares it) with a preCondition; then start
    ``stopped_pools``, which rapid-fail protection stopped when the module failed to load (every pool it
    breaks, so that the one fix serves each finding the module causes). The commands and the edit set the same
    entries."""
    cmd_starts = [start_pool_commands(p)[0] for p in stopped_pools]
    ps_starts = [start_pool_commands(p)[1] for p in stopped_pools]
    if len(stopped_pools) > 1:
        cmd_starts = start_pools_cmd(stopped_pools)
        ps_starts = [f"{', '.join(_ps_quote(p) for p in stopped_pools)} | ForEach-Object {{ Start-WebAppPool -Name $_ }}"]
    stopped = ", ".join(f"'{p}'" for p in stopped_pools)
    listing = modules_listing(server, name, precondition)
    sets = [_appcmd(*args, selected=names) for args, names in global_module_precondition_lines(name, precondition,
                                                                                                 server)]
    ps_sets = [_ps_set("", "system.webServer/globalModules/add", name, precondition)]
    ps_sets += [_ps_set(t.location, "system.webServer/modules/add", name, t.precondition) for t in listing.targets]
    return Fix(
        summary=f"Load global module '{name}' only in workers it fits: preCondition=\"{precondition}\"",
        label=f'preCondition="{precondition}"',
        commands=(*_said_once(sets), *cmd_starts),
        powershell=("Import-Module WebAdministration", *_said_once(ps_sets), *ps_starts),
        edits=(SetGlobalModulePrecondition(name, precondition, listing.targets),),
        # NOTE: built unverified (verify keeps verified=False) while a web.config's entry would apply where it is not
        # loaded: what IIS does then is not sourced (ModulesListing.unverified)
        verified=False if listing.unverified else None,
        unverified_because=listing.because or None,
        note="Workers of the other bitness then run without this module; sites that need it must use a pool of its "
             "bitness (or install the vendor's build for the other architecture as a second entry). "
             + listing.words + (f" {listing.unverified}" if listing.unverified else "")
             + (f" Rapid-fail protection has stopped {'pool' if len(stopped_pools) == 1 else 'pools'} {stopped} (WAS "
                "event 5002) and a configuration change does not start "
                f"{'it' if len(stopped_pools) == 1 else 'them'}: the last "
                f"{'command does' if len(stopped_pools) == 1 else 'commands do'}." if stopped_pools else ""),
    )


def _ps_set(location: str, collection: str, name: str, precondition: str) -> str:
    """``Set-WebConfigurationProperty`` of item ``name``'s preCondition in ``collection`` of applicationHost.config,
    at ``<location path=location>`` (``-Location``; "" for server level); a ``#`` line when the name cannot be
    quoted in a filter."""
    flt = _ps_filter(collection, name)
    if flt is None:
        return _PS_NO_FILTER
    at = f" -Location {_ps_quote(location)}" if location else ""
    return (f"Set-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST'{at} {flt} -Name preCondition -Value "
            f"{_ps_quote(precondition)}")


def remove_compression_scheme(name: str, dll: str) -> Fix:
    """Fix: remove compression scheme ``name`` (its DLL ``dll``, as configured) from ``httpCompression``, then
    ``iisreset``, as KB 4468361 ("Management points stop responding to HTTP requests with error 500.19") does for
    WSUS's ``xpress`` scheme: ``%windir%\\system32\\inetsrv\\appcmd.exe set config
    -section:system.webServer/httpCompression /-[name='xpress']``, then ``iisreset`` ("Getting Started with
    AppCmd.exe": ``/-`` removes a collection item). PowerShell: ``Remove-WebConfigurationProperty ... -Name '.'
    -AtElement @{name='...'}`` (WebAdministration). The section is AppHostOnly: ``/commit:apphost`` (where appcmd
    writes it without a path anyway), ``MACHINE/WEBROOT/APPHOST``. Every pool then serves without the scheme (the
    side effect the verification names)."""
    remove = _appcmd("set", "config", "-section:system.webServer/httpCompression", Quoted("", f"/-[name='{name}']"),
                     "/commit:apphost", selected=(name,))
    ps = ("Remove-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' -Filter 'system.webServer/httpCompression' "
          f"-Name '.' -AtElement @{{name={_ps_quote(name)}}}")
    written = not remove.startswith(NOT_WRITTEN)
    return Fix(
        summary=f"Remove compression scheme '{name}' ({dll}) from httpCompression (KB 4468361)",
        label=f"remove compression scheme '{name}'",
        commands=(remove, *(("iisreset",) if written else ())),
        powershell=("Import-Module WebAdministration", ps, "iisreset"),
        edits=(RemoveCompressionScheme(name),),
        note=f"No pool compresses with '{name}' any more: a client that accepts only it gets responses uncompressed "
             "(another scheme it accepts, gzip say, still applies). KB 4468361 removes WSUS's xpress scheme this way on "
             "Configuration Manager management points. A scheme takes no preCondition: it cannot be kept out of one "
             "bitness's workers only. The last command, as in the KB, restarts IIS: every site stops for a moment.",
    )


def compression_modules_precondition(modules: tuple[tuple[str, str], ...], bits: int, server: Server | None = None
                                     ) -> Fix:
    """Fix: a bitness preCondition (``(name, preCondition)`` each) on the compression global modules
    (StaticCompressionModule, DynamicCompressionModule) and their ``<modules>`` entries, so that only ``bits``-bit
    workers load them and, with them, the ``httpCompression`` scheme DLLs, which take no preCondition of their own
    (facts C1; "IIS Compression Overview": scheme providers are extensions of those two modules). Workers of the other
    bitness then compress nothing, with any scheme: the summary and the side effects say it."""
    parts = [global_module_precondition(name, pc, server=server) for name, pc in modules]
    names = ", ".join(name for name, _ in modules)
    other = 32 if bits == 64 else 64
    return Fix(
        summary=f"Load the compression modules ({names}) only in {bits}-bit workers, so that their scheme DLLs load "
                f"only there: no compression in {other}-bit workers",
        label=f"compression modules only in {bits}-bit workers",
        commands=tuple(c for f in parts for c in f.commands),
        powershell=("Import-Module WebAdministration", *(c for f in parts for c in f.powershell[1:])),
        edits=tuple(e for f in parts for e in f.edits),
        verified=False if any(f.verified is False for f in parts) else None,
        unverified_because="; ".join(b for f in parts if (b := f.unverified_because)) or None,
        note=f"{other}-bit workers then send every response uncompressed (static and dynamic, every scheme, gzip "
             "included), and no scheme DLL loads there: a compression scheme takes no preCondition of its own. "
             + " ".join(f"{name}: {' '.join(w for w in (listing.words, listing.unverified) if w)}" for name, pc in modules
                        if (listing := modules_listing(server, name, pc)).words),
    )


def _filter_precondition_lines(name: str, precondition: str, site: str | None,
                               in_web_config: bool) -> tuple[AppcmdLine, ...]:
    """The appcmd line of :func:`filter_precondition`'s change (its arguments, for another appcmd.exe)."""
    commit = () if site and in_web_config else ("/commit:apphost",)
    return ((("set", "config", *([Quoted("", site)] if site else []), "-section:system.webServer/isapiFilters",
              _selector(name, "preCondition", precondition), *commit), (name, precondition)),)


def filter_precondition(name: str, precondition: str, site: str | None,
                        in_web_config: bool = False) -> tuple[Fix, tuple[AppcmdLine, ...]]:
    """Fix: restrict an ISAPI filter with a preCondition (server level, or the site's), with the appcmd arguments of
    its change (one line: what IIS Express's appcmd.exe runs instead, :func:`iisbitness.fixes.iisexpress.
    with_iisexpress_appcmd`), from one call.

    ``in_web_config``: the filter is declared in the site's web.config, not in applicationHost.config. The
    commands must then write where the entry is: appcmd without ``/commit:apphost`` (it writes at the level
    of the path it is given, the site's web.config), PowerShell at ``MACHINE/WEBROOT/APPHOST/<site>``; for an
    applicationHost.config ``<location path="<site>">``, ``/commit:apphost`` and ``-Location <site>``
    ("Getting Started with AppCmd.exe"; WebAdministration ``Set-WebConfigurationProperty``). Written at the
    other level, the entry is not found (appcmd) or the section is locked there (isapiFilters is
    overrideModeDefault="Deny", facts B8)."""
    if site and in_web_config:
        pspath = _ps_quote(f"MACHINE/WEBROOT/APPHOST/{site}")
    else:
        pspath = "'MACHINE/WEBROOT/APPHOST'" + (f" -Location {_ps_quote(site)}" if site else "")
    lines = _filter_precondition_lines(name, precondition, site, in_web_config)
    return Fix(
        summary=f"Load ISAPI filter '{name}' only in workers it fits: preCondition=\"{precondition}\"",
        label=f'preCondition="{precondition}"',
        commands=tuple(_appcmd(*args, selected=names) for args, names in lines),
        powershell=(
            "Import-Module WebAdministration",
            f"Set-WebConfigurationProperty -PSPath {pspath} {flt} -Name preCondition -Value {_ps_quote(precondition)}"
            if (flt := _ps_filter("system.webServer/isapiFilters/filter", name)) else _PS_NO_FILTER,
        ),
        edits=(SetFilterPrecondition(name, precondition, site),),
    ), lines


def _add_pool_commands(new_pool: str, settings: dict[str, str], e32: str) -> tuple[list[str], list[str]]:
    """``([appcmd add apppool line], [PowerShell lines])`` that create ``new_pool`` with ``enable32BitAppOnWin64``
    ``e32`` and each of ``settings`` (attribute -> value, quoted in both shells)."""
    cmd = _appcmd("add", "apppool", Quoted("/name:", new_pool), *(Quoted(f"/{k}:", v) for k, v in settings.items()),
                  f"/enable32BitAppOnWin64:{e32}")
    return [cmd], ["Import-Module WebAdministration", f"New-WebAppPool -Name {_ps_quote(new_pool)}",
                   f"Set-ItemProperty {_pool_item(new_pool)} -Name enable32BitAppOnWin64 -Value ${e32}",
                   *(f"Set-ItemProperty {_pool_item(new_pool)} -Name {k} -Value {_ps_quote(v)}"
                     for k, v in settings.items())]


def _copy_commands(new_pool: str, like: AppPool, runtime: str, pipeline: str, e32: str
                   ) -> tuple[list[str], list[str], list[str], list[str]]:
    """``(appcmd, PowerShell, secrets copied, what is not copied)`` that create ``new_pool`` as a copy of every
    attribute and child element ``like`` stores (:attr:`AppPool.elements`), but its name and bitness. Secrets
    copied: the attribute paths (``processModel.password``) the commands read from ``like``; not copied: what the
    commands leave to ``fix --apply`` (each secret is in one list or the other, never both).

    appcmd and WebAdministration encrypt the password they are given, so an encrypted ``processModel.password``
    cannot be passed on as stored: it is read from the old pool and set on the new one,
    ``(Get-ItemProperty IIS:\\AppPools\\X -Name processModel).password`` (WebAdministration hands it decrypted);
    the cmd.exe form runs that same PowerShell line (``powershell -NoProfile -Command "..."``), as cmd.exe cannot
    hand appcmd an arbitrary password: a ``"`` in it would end the quoted argument (and a ``\\`` before the closing
    quote escape it: "Parsing C++ command-line arguments"), so a ``for /f`` over ``appcmd list apppool
    /text:processModel.password`` would set another password without a word. A password stored in clear text is
    copied the same way, never printed in a command (a report is handed around); so is every other secret
    (:func:`iisbitness.model.iis7.secret_shown`, the one check: any value stored encrypted), each on a line of its
    own. ``fix --apply`` copies the attribute as stored (same server, same keys: "Caution while xcopying IIS 7.0
    config files", blogs.iis.net). Collection items (``<add>``) are added with ``set config /+`` /
    ``Add-WebConfigurationProperty``; a ``<clear />`` or ``<remove>`` is not repeated (a new pool's collections
    hold only what applicationPoolDefaults gives), nor is an item holding a secret or a secret on the ``<add>``
    itself (the schema puts none there): each is named in the returned list."""
    top: dict[str, str] = {"managedRuntimeVersion": runtime, "managedPipelineMode": pipeline}
    nested: dict[str, str] = {}
    items: list[PoolElement] = []
    copied: list[str] = []
    skipped: list[str] = []
    for el in like.elements:
        if el.item:
            items.append(el)
            continue
        for name, value in el.attributes:
            if not el.path and (name == "name" or name in BITNESS_ATTRIBUTES):
                continue
            path = ".".join((*el.path, name))
            if secret_shown(name, value) is not None:
                # NOTE: read from the old pool where it is set, never through a command line; one on the <add>
                # itself has no element to read it from (the schema puts none there)
                (copied if el.path else skipped).append(path)
            elif el.path:
                nested[path] = value
            else:
                top[name] = value
    cmds, ps = _add_pool_commands(new_pool, top, e32)
    ps += [f"Set-ItemProperty {_pool_item(new_pool)} -Name {k} -Value {_ps_quote(v)}" for k, v in nested.items()]
    if nested:
        cmds.append(_appcmd("set", "apppool", Quoted("", new_pool), *(Quoted(f"/{k}:", v) for k, v in nested.items())))
    for path in copied:
        owner, attr = path.rsplit(".", 1)
        copy = (f"Set-ItemProperty {_pool_item(new_pool)} -Name {path} "
                f"-Value (Get-ItemProperty {_pool_item(like.name)} -Name {owner}).{attr}")
        ps.append(copy)
        cmds.append(cmd_line(f'powershell -NoProfile -Command "Import-Module WebAdministration; {copy}"',
                             (new_pool, like.name)))
    ps_items: list[str] = []  # NOTE: each names the new pool in its filter: one that cannot take it, said once
    for el in items:
        collection = ".".join(el.path[:-1])
        if el.path[-1] != "add" or any(secret_shown(k, v) is not None for k, v in el.attributes):
            skipped.append(f"<{el.path[-1]}> in {collection}" + (" (it holds a secret)" if el.path[-1] == "add" else ""))
            continue
        pairs = ",".join(f"{k}='{v}'" for k, v in el.attributes)
        cmds.append(_appcmd("set", "config", "-section:system.applicationHost/applicationPools",
                            Quoted("/+", f"[name='{new_pool}'].{collection}.[{pairs}]"), "/commit:apphost",
                            selected=(new_pool, *(v for _, v in el.attributes))))
        table = "; ".join(f"{k}={_ps_quote(v)}" for k, v in el.attributes)
        flt = _ps_filter("system.applicationHost/applicationPools/add", new_pool, "/" + "/".join(el.path[:-1]))
        ps_items.append(f"Add-WebConfigurationProperty -PSPath 'MACHINE/WEBROOT/APPHOST' {flt} -Name '.' -Value "
                        f"@{{{table}}}" if flt else _PS_NO_FILTER)
    return cmds, ps + _said_once(ps_items), copied, skipped


def move_to_new_pool(apps: tuple[tuple[str, str], ...], new_pool: str, arch: Arch, like_pool: str,
                     runtime: str, pipeline: str, os_arch: Arch, like: AppPool | None = None) -> Fix:
    """Fix: a new pool at ``arch`` for ``apps`` (the split when one pool cannot serve both), a copy of ``like``
    (every attribute and child element it stores: identity with its password, processModel, recycling, failure,
    cpu, environmentVariables; :func:`_copy_commands`) but its name and bitness."""
    e32 = "true" if arch is Arch.X86 else "false"
    copied: list[str] = []
    skipped: list[str] = []
    if like is not None and like.elements:
        cmds, ps, copied, skipped = _copy_commands(new_pool, like, runtime, pipeline, e32)
    else:  # NOTE: quoted as the copy quotes it (and as every other setting): one line for one pool, either way
        cmds, ps = _add_pool_commands(new_pool, {"managedRuntimeVersion": runtime, "managedPipelineMode": pipeline}, e32)
    native_arm64 = os_arch is Arch.ARM64 and arch is Arch.ARM64
    if os_arch is Arch.ARM64:
        emu = "false" if native_arm64 else "true"
        cmds.insert(1, _appcmd("set", "apppool", Quoted("", new_pool), f"/enableEmulationOnWinArm64:{emu}"))
        ps.append(f"Set-ItemProperty {_pool_item(new_pool)} -Name enableEmulationOnWinArm64 -Value ${emu}")
    for site, path in apps:
        cmds.append(_appcmd("set", "app", Quoted("", site + path), Quoted("/applicationPool:", new_pool)))
        ps.append(f"Set-ItemProperty {_app_item(site, path)} "
                  f"-Name applicationPool -Value {_ps_quote(new_pool)}")
    names = ", ".join(f"{s}{p}" for s, p in apps)
    note = f"Pool '{like_pool}' keeps its other applications at their architecture."
    if like is not None and like.elements:
        note += f" The new pool copies every setting '{like_pool}' stores but its name and bitness."
        if copied:
            one = len(copied) == 1
            its = "Its password" if copied == ["processModel.password"] else f"Its secrets ({', '.join(copied)})"
            note += (f" {its}: the commands read {'it' if one else 'each'} from '{like_pool}' with PowerShell's "
                     "WebAdministration (the cmd.exe form too: cmd.exe cannot pass any password to appcmd intact) and "
                     f"never print {'it' if one else 'them'}.")
    if skipped:
        note += f" Not repeated by the commands: {', '.join(skipped)}."
    if copied or skipped:  # NOTE: said once for both lists (it was said after each)
        note += f" fix --apply copies {'it' if len(copied) + len(skipped) == 1 else 'each'} as stored."
    return Fix(
        summary=f"Move {names} to a new {_arch_words(arch)} pool '{new_pool}'",
        label=f"a new {_short_arch_words(arch, os_arch)} pool for {'the app' if len(apps) == 1 else 'the apps'}",
        commands=tuple(_said_once(cmds)),
        powershell=tuple(ps),
        edits=(MoveToNewPool(apps, new_pool, arch, like_pool),),
        note=note + (" " + ARM64_NATIVE_NOTE if native_arm64 else ""),
        verified=False if native_arm64 else None,
        unverified_because=ARM64_NATIVE_UNVERIFIED if native_arm64 else None,
    )


OUT_OF_PROCESS = "out-of-process hosting"
"""The label of :func:`aspnetcore_out_of_process`'s fix (check-app turns it into advice on the published web.config)."""


def aspnetcore_out_of_process(app: str) -> Fix:
    """Fix: host ASP.NET Core app ``app`` (``Site/path``) out of process (``hostingModel="outofprocess"``): it then
    runs in its own dotnet.exe / app.exe, whatever the worker's bitness (facts D6)."""
    cmd, ps = native(APPCMD_PROGRAM, "set", "config", Quoted("", app), "-section:system.webServer/aspNetCore",
                     "/hostingModel:outofprocess")
    return Fix(summary=f"Host '{app}' out of process (hostingModel=\"outofprocess\"): the app then runs in its own process",
               label=OUT_OF_PROCESS,
               commands=(cmd,), powershell=(ps,),
               note="Edit the app's web.config (or the publish profile: <AspNetCoreHostingModel>OutOfProcess"
                    "</AspNetCoreHostingModel>) so that the next deployment keeps it; out-of-process is slower.")
