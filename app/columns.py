"""Column types shared by the models."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def enum_type(enum_cls: type[enum.Enum], length: int = 32) -> Enum:
    """Store an enum's values ("store"), not its member names ("STORE"), in a plain string column
    checked by the ORM: readable in SQL and exports, and the same on PostgreSQL and SQLite."""
    _alias_values(enum_cls)
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


def _alias_values(enum_cls: type[enum.Enum]) -> None:
    """Flask-AppBuilder's enum form field looks members up by the stored string, which is the
    value here: make each value also a (hidden) alias of its member. Iteration is unchanged."""
    for member in list(enum_cls):
        enum_cls._member_map_.setdefault(member.value, member)
