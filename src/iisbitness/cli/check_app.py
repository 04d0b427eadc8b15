"""``iisbitness check-app PUBLISH_DIR``: would this build output load in such a pool? For pipelines.

Exit codes (:mod:`iisbitness.cli.exitcodes`): 0 it loads (nothing at or above ``--fail-on``);
1 findings at or above it, with ``--server`` the server's own in the worker that serves the application too
(:attr:`iisbitness.report.Report.server_findings`: its pool answers HTTP 503 whatever the build; a failed deployment)
unless ``--ignore-server-findings``; 2 the folder or the server could not be read, or IIS would refuse the build's own
configuration (a web.config of the build that is not well-formed XML, sets a section IIS allows only in
applicationHost.config, holds an element a collection does not take (``<add>`` in ``<isapiFilters>``: "Unrecognized
element", 0x8007000D), or sets a section the server locks (alone, as a stock IIS does: ``isapiFilters``): HTTP 500.19
for every request, KB 942055), whatever ``--fail-on``, or with ``--server`` the server's own configuration IIS refuses
over the application (an entry its applicationHost.config adds twice at a ``<location path>`` at or above it, a
web.config of the server above it IIS refuses: the application is not checked): the report is written,
then each such file:line is said on stderr (:func:`iisbitness.scan.check_app.refused_in_build`,
:func:`~iisbitness.scan.check_app.refused_over_target`).

Why 2 and not 1: 1 means findings at or above ``--fail-on`` (``--fail-on never`` never fails on them), and
"partly checked" is only a failure with ``--fail-on-incomplete``; a configuration IIS cannot read is an input that
cannot be used, which is what 2 means for every command (``EXIT_INPUT_ERROR``: "the input could not be read or
analysed"; ``scan`` exits 2 on an applicationHost.config that is not well-formed), and ``check_alone`` already
documented a ConfigError for a web.config of the build that cannot be parsed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from iisbitness.arch import Arch
from iisbitness.cli.options import (
    FailOn,
    OutputFormat,
    ViewOptions,
    fail_on_incomplete_option,
    json_option,
    parse_drives,
    parse_shares,
    share_option,
    view_options,
)
from iisbitness.cli.scan import _emit, _fatal
from iisbitness.errors import IisBitnessError
from iisbitness.scan.check_app import (
    PoolSpec,
    check_alone,
    check_on_server,
    refused_in_build,
    refused_over_target,
)
from iisbitness.scan.pipeline import ScanOptions

_RUNTIMES = {"v4.0": "v4.0", "v2.0": "v2.0", "none": ""}

_UNUSED = {
    False: ("without --server IMAGE: --pool-arch checks the build against a pool of its own, not a server's",
            "--server"),
    True: ("with --server: the pool --site runs in on that server has its own", "--pool-arch instead of --server"),
}
"""Whether ``--server`` was given -> why the other check's options are not used, and what to give instead."""


def _not_used(options: list[str], *, with_server: bool) -> str:
    """The error for ``options`` (``--site``, ...) given on the command line that the chosen check does not use."""
    why, instead = _UNUSED[with_server]
    one = len(options) == 1
    return (f"{' and '.join(options)} {'is' if one else 'are'} not used {why}; "
            f"drop {'it' if one else 'them'}, or give {instead}")


@click.command("check-app")
@click.argument("publish_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--pool-arch", type=click.Choice([a.value for a in Arch]), help="The pool's worker architecture.")
@click.option("--runtime", type=click.Choice(list(_RUNTIMES)), default="v4.0", show_default=True,
              help="The pool's .NET CLR version (none: No Managed Code, as for ASP.NET Core).")
@click.option("--pipeline", type=click.Choice(["integrated", "classic"]), default="integrated", show_default=True,
              help="The pool's managed pipeline mode.")
@click.option("--server", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="A server image: check against the pool --site really runs in, with its modules and runtimes.")
@click.option("--site", "site_app", metavar="SITE/APP", help="With --server: the application the build replaces.")
@click.option("--drive", "drives", multiple=True, metavar="D=PATH", help="With --server: another drive letter.")
@share_option
@click.option("--format", "fmt", type=click.Choice([f.value for f in OutputFormat]), default="text",
              show_default=True, help="Output format, as for scan.")
@json_option
@click.option("--fail-on", type=click.Choice([f.value for f in FailOn]), default=FailOn.ERROR.value,
              show_default=True, help="Exit 1 when a finding is at or above this severity.")
@click.option("--color/--no-color", default=None, help="Colour the text output (default: when a terminal).")
@click.option("--ignore-server-findings", is_flag=True,
              help="With --server: say the server's own findings in the application's pool (a global module its "
                   "worker cannot load: HTTP 503 whatever the build) but do not fail on them.")
@fail_on_incomplete_option
@view_options
def check_app_command(publish_dir: Path, pool_arch: str | None, runtime: str, pipeline: str, server: Path | None,
                      site_app: str | None, drives: tuple[str, ...], shares: tuple[str, ...], fmt: str, fail_on: str,
                      color: bool | None, ignore_server_findings: bool, fail_on_incomplete: bool,
                      view: ViewOptions) -> None:
    """Check a build output (bin, web.config, an ASP.NET Core publish folder) against a pool.

    \b
    Examples:
      iisbitness check-app bin/Release/net48/publish --pool-arch x64
      iisbitness check-app publish --pool-arch x64 --format sarif -o a.sarif
      iisbitness check-app ./publish --server IMAGE --site "Default Web Site/app"

    \b
    Exit codes: 0 it loads; 1 findings at or above --fail-on (default error),
                with --server the server's own in the application's pool
                too (unless --ignore-server-findings),
                or with --fail-on-incomplete a part of the application not
                checked; 2 the folder or server could not be read, or IIS
                would refuse the build's own web.config (HTTP 500.19: not
                well-formed XML; a section IIS allows only in
                applicationHost.config; an element a collection does not
                take, such as <add> in <isapiFilters>; or a section the
                server locks, and without --server the one a stock IIS
                locks, isapiFilters), or with --server IIS refuses the
                server's own configuration over the application (not
                checked), each named by file and line; or an
                option this check does not use (--site, --drive, --share
                without --server; --runtime, --pipeline with it).
    """
    view = replace(view, command="check-app", source_root=Path.cwd())
    if (server is None) == (pool_arch is None):
        _fatal("give either --pool-arch (a pool on its own) or --server IMAGE --site SITE/APP")
    if server is not None and not site_app:
        _fatal("--server needs --site SITE/APP (the application this build replaces)")
    # NOTE: an option that changes nothing is a pipeline's typo: the gate would pass on another check than the one asked
    if server is None:
        unused = [name for name, value in (("--site", site_app), ("--drive", drives), ("--share", shares),
                                           ("--ignore-server-findings", ignore_server_findings)) if value]
    else:
        given = click.get_current_context().get_parameter_source
        unused = [f"--{name}" for name in ("runtime", "pipeline") if given(name) is click.core.ParameterSource.COMMANDLINE]
    if unused:
        _fatal(_not_used(unused, with_server=server is not None))
    try:
        if server is not None and site_app:
            report = check_on_server(publish_dir, server, site_app, ScanOptions(drives=parse_drives(drives),
                                                                                      shares=parse_shares(shares)))
            report = replace(report, server_findings_accepted=ignore_server_findings)
        else:
            assert pool_arch is not None
            spec = PoolSpec(Arch(pool_arch), _RUNTIMES[runtime], pipeline.capitalize())
            report = check_alone(publish_dir, spec)
            view = replace(view, target=f"a pool of {spec.arch.value} (--pool-arch), CLR {runtime}, {spec.pipeline} "
                                        "pipeline; no server (--server IMAGE --site SITE/APP checks against one)")
    except IisBitnessError as e:
        _fatal(str(e))
    refused = [f"{p.where}: {p.message}"
               for p in refused_in_build(report, publish_dir)]
    # NOTE: the server's own configuration IIS refuses over the application (not checked): could not check, as above
    refused += [f"{p.where}: {p.message}; so {c} was not checked" for p in refused_over_target(report, publish_dir)
                for c in dict.fromkeys(c.application for c in report.coverage if c.refused == p.where)]
    _emit([report], fmt, fail_on, color, view, incomplete=fail_on_incomplete, input_errors=refused)
