"""``--select`` / ``--ignore`` (which rules run, as in ruff and checkov) and ``--baseline`` /
``--write-baseline`` (findings accepted on a server, :mod:`iisbitness.scan.baseline`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from iisbitness.findings import Rule
from iisbitness.rules import RULES

F = TypeVar("F", bound=Callable[..., Any])


def selection_options(fn: F) -> F:
    """``--select``, ``--ignore``, ``--baseline``, ``--write-baseline``, in that order in ``--help``."""
    fn = click.option("--write-baseline", type=click.Path(path_type=Path, dir_okay=False),
                      help="Write every current finding to this baseline file as accepted (see docs/ci.md).")(fn)
    fn = click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False, exists=True),
                      help="Leave out the findings this baseline file accepts (exit code too).")(fn)
    return rule_options("Report only these rules", "Do not report these rules")(fn)


def rule_options(select_help: str, ignore_help: str) -> Callable[[F], F]:
    """``--select`` and ``--ignore`` (the command takes ``select`` and ``ignore``), as ``scan`` and ``fix`` say them
    (fixes are verified against every rule either way)."""
    def wrap(fn: F) -> F:
        fn = click.option("--ignore", "ignore", multiple=True, metavar="ID[,ID...]",
                          help=f"{ignore_help} (fixes are still verified against every rule).")(fn)
        return click.option("--select", "select", multiple=True, metavar="ID[,ID...]",
                            help=f"{select_help} (default: all; ids as in docs/rules/; fixes are still verified "
                                 "against every rule).")(fn)
    return wrap


def _ids(values: tuple[str, ...], option: str) -> list[str]:
    ids = [v.strip() for value in values for v in value.split(",") if v.strip()]
    known = {r.id for r in RULES} | {a for r in RULES for a in r.aliases}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise click.BadParameter(f"unknown rule {unknown[0]!r}; rules: {', '.join(r.id for r in RULES)}",
                                 param_hint=option)
    return ids


def chosen_rules(select: tuple[str, ...], ignore: tuple[str, ...]) -> tuple[Rule, ...]:
    """The rules ``--select`` and ``--ignore`` leave, in report order.

    Raises:
        click.BadParameter: an id names no rule.
    """
    sel, ign = set(_ids(select, "--select")), set(_ids(ignore, "--ignore"))

    def named(r: Rule, ids: set[str]) -> bool:
        return r.id in ids or any(a in ids for a in r.aliases)

    return tuple(r for r in RULES if (not sel or named(r, sel)) and not named(r, ign))
