"""Evaluate an IIS ``preCondition`` string for a worker process, as IIS does.

A preCondition is a comma-separated list of tokens, ANDed: one false token skips the entry
(facts C2, C3). Tokens (facts C4-C6): ``bitness32``, ``bitness64``, ``integratedMode``,
``classicMode`` (docs: ``ISAPIMode``), ``runtimeVersionv1.0|v1.1|v2.0|v4.0``, ``managedHandler``,
``appPoolName=a;b``. Sources: David Wang, "IIS7 PreConditions and the Integrated Pipeline";
T. Deml, "Achtung! IIS7 Preconditions"; IHttpServer::SatisfiesPrecondition (iis-docs).

An unknown token is neither true nor false: the result is :attr:`Verdict.UNKNOWN` unless a
known token is already false (IIS logs W3SVC-WP event 2296 for a token it does not know).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from iisbitness.arch import Arch
from iisbitness.model.iis7 import AppPool, PipelineMode


class Verdict(str, Enum):
    """Outcome of a preCondition for one worker."""

    LOADS = "loads"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A preCondition's verdict and why.

    Attributes:
        verdict: LOADS, SKIPPED or UNKNOWN.
        false_token: the first token that made it SKIPPED, else None.
        unknown_tokens: tokens iisbitness does not know (they make a LOADS into UNKNOWN).
        inferred_tokens: tokens IIS's documentation does not list that iisbitness gives a value by inference only
            (``winx86_64``, ``winarm64``, ``winx86``: taken as the OS architecture), in order.
    """

    verdict: Verdict
    false_token: str | None = None
    unknown_tokens: tuple[str, ...] = ()
    inferred_tokens: tuple[str, ...] = ()

    @property
    def undocumented(self) -> tuple[str, ...]:
        """The tokens whose meaning to IIS no documentation gives (:attr:`unknown_tokens` and
        :attr:`inferred_tokens`), each once, in order: whether IIS applies the entry at all is then not documented
        (W3SVC-WP event 2296, an invalid precondition, is documented for modules only)."""
        return tuple(dict.fromkeys(self.unknown_tokens + self.inferred_tokens))

    @property
    def may_load(self) -> bool:
        """True unless a known token is false."""
        return self.verdict is not Verdict.SKIPPED


# NOTE: ``winx86_64`` appears on IIS of recent Windows (x64) beside bitness tokens
# (corpus: slimhajkacem applicationHost.config). INFERENCE: it holds on an x64 OS; it is
# treated as an OS-architecture token (win<arch>), true on x64 Windows only.
_OS_TOKENS = {"winx86_64": Arch.X64, "winarm64": Arch.ARM64, "winx86": Arch.X86}


def tokens(precondition: str) -> tuple[str, ...]:
    """Split a preCondition into stripped, non-empty tokens (order kept)."""
    return tuple(t.strip() for t in precondition.split(",") if t.strip())


def evaluate(precondition: str, pool: AppPool, process_arch: Arch, os_arch: Arch) -> Evaluation:
    """Evaluate ``precondition`` for the worker of ``pool`` running as ``process_arch``.

    Args:
        precondition: the attribute value as configured ("" = unconditional).
        pool: the application pool (runtime version, pipeline mode, name).
        process_arch: the worker's architecture (decides bitness32/bitness64).
        os_arch: the OS architecture (decides win<arch> tokens).

    Returns:
        An :class:`Evaluation`. Never raises.
    """
    unknown: list[str] = []
    inferred: list[str] = []
    for token in tokens(precondition):
        value = _token_value(token, pool, process_arch, os_arch)
        if value is None:
            unknown.append(token)
            continue
        if token.lower() in _OS_TOKENS:
            inferred.append(token)
        if not value:
            return Evaluation(Verdict.SKIPPED, false_token=token, unknown_tokens=tuple(unknown),
                              inferred_tokens=tuple(inferred))
    return Evaluation(Verdict.UNKNOWN if unknown else Verdict.LOADS, unknown_tokens=tuple(unknown),
                      inferred_tokens=tuple(inferred))


def _token_value(token: str, pool: AppPool, process_arch: Arch, os_arch: Arch) -> bool | None:
    low = token.lower()
    if low == "bitness32":
        return process_arch is Arch.X86
    if low == "bitness64":
        return process_arch.is_64bit
    if low == "integratedmode":
        return pool.pipeline_mode is PipelineMode.INTEGRATED
    if low in ("classicmode", "isapimode"):
        return pool.pipeline_mode is PipelineMode.CLASSIC
    if low.startswith("runtimeversionv"):
        return pool.managed_runtime_version.lower() == low[len("runtimeversion"):]
    if low == "managedhandler":
        # NOTE: managedHandler narrows which requests run a module; it does not stop a
        # worker from loading anything, so for load analysis it holds.
        return True
    if low.startswith("apppoolname="):
        names = {n.strip().lower() for n in token.split("=", 1)[1].split(";") if n.strip()}
        return pool.name.lower() in names
    if low in _OS_TOKENS:
        return os_arch is _OS_TOKENS[low]
    return None


def bitness_token_for(arch: Arch) -> str:
    """The preCondition token that restricts an entry to workers of ``arch``'s bitness."""
    return "bitness32" if arch is Arch.X86 else "bitness64"


def restrict_to_bitness(precondition: str, arch: Arch) -> str | None:
    """The preCondition with the bitness token of ``arch`` added, so that only workers that can load a binary
    of ``arch`` load the entry; None when it already names a bitness: a mismatch then means its binary is of
    the other bitness than the token says, and adding the other token would make it load nowhere (the fix is
    the right binary, not a preCondition)."""
    parts = list(tokens(precondition))
    if any(p.lower() in ("bitness32", "bitness64") for p in parts):
        return None
    return ",".join([*parts, bitness_token_for(arch)])
