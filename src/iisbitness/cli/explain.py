"""``iisbitness explain``: placeholder until the explain command lands."""

from __future__ import annotations

import click


@click.command("explain")
@click.argument("text", nargs=-1)
def explain_command(text: tuple[str, ...]) -> None:
    """Explain an error message, code or event log in terms of bitness causes."""
    raise click.ClickException("explain is not implemented yet")
