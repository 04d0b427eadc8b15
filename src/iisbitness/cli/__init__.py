"""The ``iisbitness`` command line: wires options to the API and formats; no analysis here.

Exit codes (one place, for pipelines):
    0  nothing at or above ``--fail-on`` (or, for ``explain``, something recognised)
    1  findings at or above ``--fail-on`` (``inspect --only-mismatch``, ``check-app``: something
       cannot load; ``explain``: nothing recognised; ``fix --apply``: a targeted finding remains)
    2  the input could not be read or analysed (the message names the file and why)
    3  ``fix --apply`` wrote nothing: a file changed since it was read, an element is no longer
       where the scan read it, or a file cannot be written (the message names the file)
"""

from __future__ import annotations

import click

from iisbitness import __version__
from iisbitness.cli.check_app import check_app_command
from iisbitness.cli.collect import collect_command
from iisbitness.cli.exitcodes import EXIT_FINDINGS, EXIT_FIX_REFUSED, EXIT_INPUT_ERROR, EXIT_OK
from iisbitness.cli.explain import explain_command
from iisbitness.cli.fix import fix_command
from iisbitness.cli.inspect import inspect_command
from iisbitness.cli.scan import demo_command, scan_command

__all__ = ["EXIT_FINDINGS", "EXIT_FIX_REFUSED", "EXIT_INPUT_ERROR", "EXIT_OK", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="iisbitness")
def main() -> None:
    """Find and fix 32-bit / 64-bit / ARM64 mismatches on Microsoft IIS servers.

    \b
    iisbitness demo                scan the example servers shipped in the package
    iisbitness scan IMAGE          scan a copy of a server (a folder for C:\\)
    iisbitness scan                on Windows: scan the live server (read-only)
    iisbitness collect -o x.zip    copy what a scan reads; scan x.zip elsewhere
    iisbitness check-app DIR       will this build load in a pool? (--pool-arch)
    iisbitness fix IMAGE [--apply] plan (and write) the verified fixes, a diff
    iisbitness inspect PATH...     architecture of binaries (CorFlags, dumpbin)
    iisbitness explain "TEXT"      from an error text, code or event to a cause
    """


main.add_command(scan_command)
main.add_command(demo_command)
main.add_command(collect_command)
main.add_command(fix_command)
main.add_command(check_app_command)
main.add_command(inspect_command)
main.add_command(explain_command)
