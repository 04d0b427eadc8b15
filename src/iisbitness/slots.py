"""Frozen, slotted dataclasses built without ``object.__setattr__`` per field: :func:`direct_init`.

A frozen dataclass's own ``__init__`` sets each field through ``object.__setattr__`` (frozenness forbids the plain
assignment); for the objects a scan builds per binary and per load (tens of thousands each, issue 25) that is most
of their cost. Setting each slot through its descriptor does the same, at about half the cost.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

T = TypeVar("T")


def direct_init(cls: type[T]) -> type[T]:
    """Give the frozen dataclass ``cls`` (``slots=True``) an ``__init__`` with the same signature as its own
    (fields in order, the same defaults) that sets each slot through the slot's descriptor. Apply it above
    ``@dataclass``.

    Equality, hashing, ``repr``, pickling, :func:`dataclasses.replace` and frozenness stay the dataclass's.

    Raises:
        TypeError: at import, for a class this cannot stand in for: a field with a default factory, left out of
            ``__init__``, keyword-only, or not a slot; or a ``__post_init__``.
    """
    params: list[str] = []
    body: list[str] = []
    scope: dict[str, Any] = {}
    for i, f in enumerate(fields(cls)):  # type: ignore[arg-type]
        setter = getattr(getattr(cls, f.name, None), "__set__", None)
        if f.default_factory is not MISSING or not f.init or f.kw_only or setter is None:
            raise TypeError(f"direct_init: {cls.__name__}.{f.name} is not a plain slotted field")
        scope[f"_set{i}"] = setter
        if f.default is MISSING:
            params.append(f.name)
        else:
            scope[f"_default{i}"] = f.default
            params.append(f"{f.name}=_default{i}")
        body.append(f"    _set{i}(self, {f.name})\n")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"direct_init: {cls.__name__} has a __post_init__")
    exec(f"def __init__(self, {', '.join(params)}):\n{''.join(body) or '    pass'}\n", scope)  # noqa: S102
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    setattr(cls, "__init__", init)  # noqa: B010
    return cls
