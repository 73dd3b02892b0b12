"""Record states of entities: `states: {field, initial, transitions}` in an entity document
names an enum field whose value moves only along the declared transitions, by the roles each
allows. Forms, the REST API and imports all save through app.configuration.records, which
asks this module, so no path can skip a state.
"""

from __future__ import annotations

from typing import Any

from app.errors import Conflict, ValidationFailed
from app.security.roles import PLATFORM_ADMIN


def _roles(user) -> set[str]:
    return {role.name for role in (getattr(user, "roles", None) or [])}


def _label(item: dict, lang: str) -> str:
    label = item.get("label") or {}
    return label.get(lang) or label.get("zh") or item.get("to", "")


def initial_states(definition) -> list[str]:
    states = definition.states
    spec = definition.field(states["field"])
    initial = states.get("initial")
    if initial:
        return [initial] if isinstance(initial, str) else list(initial)
    if spec.get("default") is not None:
        return [spec["default"]]
    return [spec["choices"][0]["value"]]


def _matches(transition: dict, current: str | None) -> bool:
    source = transition.get("from", "*")
    sources = source if isinstance(source, list) else [source]
    return "*" in sources or current in sources


def transitions_from(definition, current: str | None, user=None) -> list[dict]:
    """The transitions open from `current` (to `user`, when given)."""
    states = definition.states
    if not states:
        return []
    found = [
        t for t in states.get("transitions", []) if _matches(t, current) and t["to"] != current
    ]
    if user is None:
        return found
    return [t for t in found if _role_allowed(t, user)]


def _role_allowed(transition: dict, user) -> bool:
    roles = transition.get("roles")
    if not roles:
        return True
    held = _roles(user)
    return PLATFORM_ADMIN in held or bool(held & set(roles))


def choice_label(definition, value: str | None, lang: str = "zh") -> str:
    spec = definition.field(definition.states["field"])
    choice = next((c for c in spec["choices"] if c["value"] == value), None)
    return (choice["label"].get(lang) or choice["label"]["zh"]) if choice else str(value or "—")


def check_new(definition, values: dict[str, Any]) -> None:
    """A new record starts in one of the initial states (the first one when none is given)."""
    states = definition.states
    if not states:
        return
    name = states["field"]
    allowed = initial_states(definition)
    if values.get(name) in (None, ""):
        values[name] = allowed[0]
    if values[name] not in allowed:
        raise ValidationFailed(
            f"{name}: a new record starts in {', '.join(allowed)}, not {values[name]}",
            f"{name}：新记录的状态只能是 {'、'.join(choice_label(definition, s) for s in allowed)}",
            field=name,
        )
    _check_required(definition, values[name], values, values)


def check_change(definition, record, values: dict[str, Any], user) -> None:
    """A change of the state field follows a declared transition the user's role may take;
    the fields the new state requires have values."""
    states = definition.states
    if not states:
        return
    name = states["field"]
    current = getattr(record, name)
    wanted = values.get(name, current)
    if wanted in (None, ""):
        values.pop(name, None)  # the state is never emptied
        return
    if wanted == current:
        return
    candidates = [t for t in states.get("transitions", []) if _matches(t, current)]
    transition = next((t for t in candidates if t["to"] == wanted), None)
    if transition is None:
        raise Conflict(
            f"{name}: cannot go from {current} to {wanted}",
            f"{name}：状态不能从「{choice_label(definition, current)}」变为"
            f"「{choice_label(definition, wanted)}」",
            field=name,
            code="transition_not_allowed",
        )
    if user is not None and not _role_allowed(transition, user):
        raise Conflict(
            f"{name}: your role may not move it from {current} to {wanted}",
            f"{name}：您的角色不能将状态从「{choice_label(definition, current)}」变为"
            f"「{choice_label(definition, wanted)}」",
            field=name,
            code="transition_role",
        )
    merged = {f["name"]: getattr(record, f["name"], None) for f in definition.column_fields}
    merged.update(values)
    _check_required(definition, wanted, merged, values, transition)


def _check_required(definition, state, merged, values, transition=None) -> None:
    needed = list((transition or {}).get("require", []))
    missing = [n for n in needed if merged.get(n) in (None, "")]
    if missing:
        labels = "、".join(
            (definition.field(n) or {}).get("label", {}).get("zh", n) for n in missing
        )
        raise ValidationFailed(
            f"{missing[0]}: required when the state becomes {state}",
            f"{missing[0]}：状态变为「{choice_label(definition, state)}」时必须填写 {labels}",
            field=missing[0],
        )


def transition_taken(definition, before: str | None, after: str | None) -> dict | None:
    """The declared transition a save took from `before` to `after` (None when the state did
    not move). Called after check_change, so a move is always a declared one."""
    if not definition.states or before == after:
        return None
    return next(
        (
            t
            for t in definition.states.get("transitions", [])
            if _matches(t, before) and t["to"] == after
        ),
        None,
    )
