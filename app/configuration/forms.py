"""WTForms for entity records, generated from the entity document."""

from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from app.configuration.entities import FieldError, default_value
from app.configuration.field_types import field_type
from app.configuration.runtime import EntityRuntime
from app.organisation.models import NodeKind, OrgNode


def _label(spec: dict, lang: str) -> str:
    return spec["label"].get(lang) or spec["label"]["zh"]


def _help(spec: dict, lang: str) -> str:
    help_text = spec.get("help") or {}
    return help_text.get(lang) or help_text.get("zh") or ""


def _select(session: Session, spec: dict, label: str, description: str, lang: str):
    choices = [("", "—")] + [(c["value"], _label(c, lang)) for c in spec["choices"]]
    # The records service checks the value (naming the field); WTForms' own check would refuse
    # an absent or computed (disabled) field with a vaguer message.
    return SelectField(label, choices=choices, description=description, validate_choice=False)


def _reference(session: Session, spec: dict, label: str, description: str, lang: str):
    from flask import g

    tenant_id = getattr(getattr(g, "user", None), "tenant_id", None)
    return SelectField(
        label,
        choices=reference_choices(session, spec, tenant_id),
        description=description,
        validate_choice=False,
    )


def _plain(field_class, **options):
    def build(session: Session, spec: dict, label: str, description: str, lang: str):
        return field_class(label, description=description, **options)

    return build


def _in_template(session: Session, spec: dict, label: str, description: str, lang: str):
    raise TypeError(f"{spec['name']}: child tables and files are drawn by entity_form.html")


# A field type's widget (app.configuration.field_types) → the form field showing it; the grid of
# a `table` field and the file inputs are drawn by the template (table_rows, submitted_rows).
WIDGETS = {
    "table": _in_template,
    "files": _in_template,
    "string": _plain(StringField),
    "textarea": _plain(TextAreaField),
    "checkbox": _plain(BooleanField),
    "date": _plain(DateField, validators=[Optional()]),
    "datetime": _plain(DateTimeLocalField, validators=[Optional()]),
    "select": _select,
    "reference": _reference,
}


def _field(session: Session, spec: dict, lang: str):
    widget = WIDGETS[field_type(spec["type"]).widget]
    return widget(session, spec, _label(spec, lang), _help(spec, lang), lang)


def user_title(user) -> str:
    """A login as people know it: 张三（zhang.san）, or the user name alone."""
    full = f"{user.last_name or ''}{user.first_name or ''}".strip()
    return f"{full}（{user.username}）" if full and full != user.username else user.username


def reference_choices(session: Session, spec: dict, tenant_id=None) -> list[tuple[str, str]]:
    """The records a reference may point at (the user's scope only): a core model's, or
    another entity's shown by its title field."""
    from app.customers.models import Customer, Vehicle
    from app.security.models import DealerUser

    if spec["target"] == "user":  # a login of the tenant, in the user's scope, by name
        users = session.scalars(
            select(DealerUser)
            .where(DealerUser.tenant_id.is_not(None))
            .order_by(DealerUser.username)
            .limit(500)
        ).all()
        return [("", "—")] + [(str(u.id), user_title(u)) for u in users]
    models = {"customer": Customer, "vehicle": Vehicle, "org_node": OrgNode}
    model = models.get(spec["target"])
    if model is None:
        from app.configuration.related import title_of
        from app.configuration.runtime import REGISTRY

        target = REGISTRY.get(session, spec["target"], tenant_id)
        if target is None:
            return [("", "—")]
        rows = session.scalars(select(target.model).order_by(target.model.id).limit(500)).all()
        return [("", "—")] + [(str(row.id), title_of(target, row)) for row in rows]
    rows = session.scalars(select(model).limit(500)).all()
    return [("", "—")] + [(str(row.id), str(row)) for row in rows]


def _form_default(spec: dict):
    """A field's default as its form field holds it: `today` is today's date (a DateField
    needs a date, never the word), text widgets take text."""
    try:
        value = default_value(spec)
    except FieldError:  # a default the document's check let through: leave the field empty
        return None
    if value is not None and field_type(spec["type"]).as_text:
        return str(value)
    return value


def store_choices(session: Session) -> list[tuple[str, str]]:
    nodes = session.scalars(select(OrgNode).order_by(OrgNode.path)).all()
    stores = [n for n in nodes if n.kind == NodeKind.STORE] or nodes
    return [(str(n.id), str(n)) for n in stores]


def record_form(
    session: Session, runtime: EntityRuntime, lang: str, data=None, obj=None, user=None
):
    """A form class built for this entity version, bound to the request data or a record.
    Computed fields are shown read-only; the state field offers only the states the user may
    move the record to. Child tables and files are drawn by the template (table_rows)."""
    from app.configuration.states import initial_states, transitions_from

    definition = runtime.definition

    class RecordForm(FlaskForm):
        pass

    RecordForm.org_node_id = SelectField("门店 / Store" if lang == "zh" else "Store")
    for spec in definition.column_fields:
        setattr(RecordForm, spec["name"], _field(session, spec, lang))
    form = RecordForm(formdata=data, obj=obj)
    form.org_node_id.choices = store_choices(session)
    for spec in definition.column_fields:
        if spec.get("compute"):
            field = getattr(form, spec["name"])
            field.render_kw = {"readonly": True, "disabled": True}
            field.description = "自动计算" if lang == "zh" else "Computed"
    if definition.states:
        name = definition.states["field"]
        if obj is None:
            allowed = set(initial_states(definition))
        else:
            current = getattr(obj, name)
            allowed = {current} | {t["to"] for t in transitions_from(definition, current, user)}
        state = getattr(form, name)
        state.choices = [c for c in state.choices if c[0] in allowed]
    if obj is None and data is None:
        for spec in definition.column_fields:
            if spec.get("default") is not None:
                getattr(form, spec["name"]).data = _form_default(spec)
    if obj is not None and data is None:
        form.org_node_id.data = str(obj.org_node_id)
        for spec in definition.column_fields:
            value = getattr(obj, spec["name"])
            if field_type(spec["type"]).as_text and value is not None:
                getattr(form, spec["name"]).data = str(value)
    return form


BLANK_ROWS = 3


def table_rows(
    session: Session, runtime: EntityRuntime, record=None, hidden=frozenset()
) -> dict[str, list[dict]]:
    """The rows each table field's grid starts with: the record's, then blank ones. A cell the
    user sees masked (`hidden` names "<table>.<column>") starts empty with its starred value in
    `_masked`; left empty it keeps its value (submitted_rows)."""

    current = existing_rows(session, runtime, record)
    return remask(runtime, current, hidden)


def remask(runtime: EntityRuntime, grids: dict[str, list[dict]], hidden) -> dict:
    """Rows for the grid: masked cells emptied with their starred value in `_masked`, and
    blank rows after them."""
    from app.configuration.masking import mask_value

    drawn = {}
    for spec in runtime.definition.table_fields:
        rows = []
        for values in grids.get(spec["name"], []):
            row, masked = dict(values), {}
            for column in spec["fields"]:
                if f"{spec['name']}.{column['name']}" in hidden and row.get(column["name"]):
                    masked[column["name"]] = mask_value(str(row[column["name"]]))
                    row[column["name"]] = None
            rows.append({**row, "_masked": masked})
        drawn[spec["name"]] = rows + [{} for _ in range(BLANK_ROWS)]
    return drawn


def existing_rows(session: Session, runtime: EntityRuntime, record) -> dict[str, list[dict]]:
    from app.configuration.records import child_rows

    if record is None or not record.id:
        return {}
    return {
        spec["name"]: [
            {"id": row.id, **{c["name"]: getattr(row, c["name"]) for c in spec["fields"]}}
            for row in child_rows(session, runtime, record, spec["name"])
        ]
        for spec in runtime.definition.table_fields
    }


def _raw(value):
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def submitted_rows(
    formdata, runtime: EntityRuntime, existing=None, hidden=frozenset()
) -> dict[str, list[dict]]:
    """The grid inputs `<table>-<n>-<column>` as rows; blank rows and rows ticked
    `<table>-<n>-delete` are left out. A masked cell left empty keeps the value the row had
    (`existing`: the record's rows, matched by the grid's hidden `<table>-<n>-id`)."""
    grids = {}
    for spec in runtime.definition.table_fields:
        name, rows = spec["name"], []
        before = {str(row["id"]): row for row in (existing or {}).get(name, [])}
        raw_count = str(formdata.get(f"{name}-count", "0") or "0")
        count = min(int(raw_count), 1000) if raw_count.isdigit() else 0
        for index in range(count):
            if formdata.get(f"{name}-{index}-delete"):
                continue
            row = {
                c["name"]: (
                    formdata.get(f"{name}-{index}-{c['name']}") or False
                    if c["type"] == "boolean"
                    else formdata.get(f"{name}-{index}-{c['name']}", "").strip()
                )
                for c in spec["fields"]
                if not c.get("compute")
            }
            kept = before.get(str(formdata.get(f"{name}-{index}-id", "")))
            for column in spec["fields"]:
                key = column["name"]
                if f"{name}.{key}" in hidden and row.get(key) == "" and kept is not None:
                    row[key] = _raw(kept.get(key))
            if any(v not in ("", False, None) for v in row.values()):
                if kept is not None:
                    row["id"] = kept["id"]  # ignored by the save; keeps the masked cell's value
                rows.append(row)
        grids[name] = rows
    return grids


def submitted_values(form, runtime: EntityRuntime) -> dict:
    """The form's values for the records service. A checkbox gives what was sent (unticked:
    否), so a posted "也许" is refused by the boolean type naming the field, not read as 是."""
    values = {"org_node_id": form.org_node_id.data}
    for spec in runtime.definition.column_fields:
        if not spec.get("compute"):
            field = getattr(form, spec["name"])
            if field_type(spec["type"]).widget == "checkbox":
                values[spec["name"]] = field.raw_data[0] if field.raw_data else False
            else:
                values[spec["name"]] = field.data
    return values
