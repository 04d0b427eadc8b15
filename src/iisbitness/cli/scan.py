"""``iisbitness scan`` and ``iisbitness demo``: placeholder until the scan command lands."""

from __future__ import annotations

import click


@click.command("scan")
@click.argument("image", required=False)
def scan_command(image: str | None) -> None:
    """Scan an IIS server image (or the live server on Windows) for bitness mismatches."""
    raise click.ClickException("scan is not implemented yet")


@click.command("demo")
def demo_command() -> None:
    """Scan the example servers shipped inside the package."""
    raise click.ClickException("demo is not implemented yet")
