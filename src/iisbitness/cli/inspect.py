"""``iisbitness inspect``: placeholder until the inspect command lands."""

from __future__ import annotations

import click


@click.command("inspect")
@click.argument("paths", nargs=-1, required=True)
def inspect_command(paths: tuple[str, ...]) -> None:
    """Show the architecture of binaries (files or folders, recursive)."""
    raise click.ClickException("inspect is not implemented yet")
