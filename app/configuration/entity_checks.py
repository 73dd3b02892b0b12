"""Checks of an entity document beyond its JSON Schema, for the engine's features: computed
expressions parse and name fields of the entity; states name an enum field and its choices;
the title field is a field with a column. Each problem is a JSON path
and a message, so the pack installer reports file and line."""

from __future__ import annotations

from app.configuration.computed import Computation, ComputeError
from app.configuration.field_types import field_type
from app.configuration.hooks import hook_names


def _hook_problems(where: str, names: list[str]) -> list[tuple[str, str]]:
    known = hook_names()
    return [
        (where, f"{name!r} is not a registered record hook (known: {', '.join(sorted(known))})")
        for name in names
        if name not in known
    ]


def engine_problems(body: dict, entity_names: set[str]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    fields = body["fields"]
    names = {f["name"] for f in fields}
    by_name = {f["name"]: f for f in fields}
    for index, spec in enumerate(fields):
        if spec.get("compute"):
            try:
                Computation(spec["compute"], names - {spec["name"]})
            except ComputeError as exc:
                problems.append((f"$.body.fields[{index}].compute", str(exc)))
        for child_index, child in enumerate(spec.get("fields", [])):
            where = f"$.body.fields[{index}].fields[{child_index}]"
            if child.get("compute"):
                problems.append((f"{where}.compute", "columns of a table cannot be computed"))
    title = body.get("title_field")
    if title and (title not in by_name or not field_type(by_name[title]["type"]).has_column):
        problems.append(("$.body.title_field", f"{title!r} is not a field with a value"))
    states = body.get("states")
    if states:
        spec = by_name.get(states["field"])
        if spec is None or spec["type"] != "enum":
            problems.append(("$.body.states.field", f"{states['field']!r} is not an enum field"))
        else:
            if spec.get("compute"):
                problems.append(("$.body.states.field", "the state field cannot be computed"))
            choices = {c["value"] for c in spec["choices"]}
            initial = states.get("initial") or []
            for value in [initial] if isinstance(initial, str) else initial:
                if value not in choices:
                    problems.append(("$.body.states.initial", f"{value!r} is not a choice"))
            for t_index, transition in enumerate(states["transitions"]):
                where = f"$.body.states.transitions[{t_index}]"
                sources = transition["from"]
                for value in sources if isinstance(sources, list) else [sources]:
                    if value != "*" and value not in choices:
                        problems.append((f"{where}.from", f"{value!r} is not a choice"))
                if transition["to"] not in choices:
                    problems.append((f"{where}.to", f"{transition['to']!r} is not a choice"))
                for name in transition.get("require", []):
                    if name not in names:
                        problems.append((f"{where}.require", f"{name!r} is not a field"))
                problems += _hook_problems(f"{where}.hooks", transition.get("hooks", []))
    for moment, named in (body.get("hooks") or {}).items():
        problems += _hook_problems(f"$.body.hooks.{moment}", named)
    # `related` may name an entity of another pack, installed or not: one not (yet) published is
    # simply not shown, so a pack can be installed before the pack it shows.
    return problems
