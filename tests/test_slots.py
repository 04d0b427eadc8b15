"""slots.direct_init: the __init__ it gives a frozen, slotted dataclass is the dataclass's own, only cheaper."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

import pytest

from iisbitness.loadplan.plan import BinaryRef, Load
from iisbitness.model.source import ConfigSource
from iisbitness.pe.metadata import AssemblyReferences
from iisbitness.pe.types import PeImage
from iisbitness.slots import direct_init

CLASSES = [PeImage, AssemblyReferences, BinaryRef, Load, ConfigSource]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_signature_and_every_field_set(cls: type) -> None:
    """The fields' names, order and defaults; each set, by position and by name, and the dataclass's own __init__
    (made again without direct_init) gives an equal object."""
    assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"
    params = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in params] == [f.name for f in fields(cls)]
    assert [p.default for p in params] == [inspect.Parameter.empty if f.default is MISSING else f.default
                                           for f in fields(cls)]
    values = [object() for _ in params]
    made = cls(*values)
    assert [getattr(made, f.name) for f in fields(cls)] == values
    assert cls(**{f.name: v for f, v in zip(fields(cls), values, strict=True)}) == made
    required = [p for p in params if p.default is inspect.Parameter.empty]
    assert [getattr(cls(*values[: len(required)]), p.name) for p in params[len(required):]] == [
        p.default for p in params[len(required):]]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_still_frozen_hashable_picklable_and_replaceable(cls: type) -> None:
    values = [f"v{i}" for i, _ in enumerate(fields(cls))]
    made = cls(*values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, fields(cls)[0].name, "other")
    assert hash(made) == hash(cls(*values))
    assert pickle.loads(pickle.dumps(made)) == made
    changed = dataclasses.replace(made, **{fields(cls)[-1].name: "last"})
    assert getattr(changed, fields(cls)[-1].name) == "last" and changed != made


def test_a_field_with_a_default_factory_is_refused() -> None:
    with pytest.raises(TypeError, match="items"):
        @direct_init
        @dataclass(frozen=True, slots=True)
        class Bad:
            items: list[int] = field(default_factory=list)


def test_a_field_left_out_of_init_is_refused() -> None:
    with pytest.raises(TypeError, match="hidden"):
        @direct_init
        @dataclass(frozen=True, slots=True)
        class Bad:
            shown: int
            hidden: int = field(default=0, init=False)


def test_a_keyword_only_field_is_refused() -> None:
    with pytest.raises(TypeError, match="late"):
        @direct_init
        @dataclass(frozen=True, slots=True)
        class Bad:
            late: int = field(default=0, kw_only=True)


def test_a_class_without_slots_is_refused() -> None:
    with pytest.raises(TypeError, match="value"):
        @direct_init
        @dataclass(frozen=True)
        class Bad:
            value: int


def test_a_post_init_is_refused() -> None:
    with pytest.raises(TypeError, match="__post_init__"):
        @direct_init
        @dataclass(frozen=True, slots=True)
        class Bad:
            value: int

            def __post_init__(self) -> None:
                pass


def test_a_class_without_fields() -> None:
    @direct_init
    @dataclass(frozen=True, slots=True)
    class Empty:
        pass

    made: Any = Empty()
    assert made == Empty()
