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
    return SelectField(label, choices=choices, description=description)


def _reference(session: Session, spec: dict, label: str, description: str, lang: str):
    return SelectField(label, choices=reference_choices(session, spec), description=description)


def _plain(field_class, **options):
    def build(session: Session, spec: dict, label: str, description: str, lang: str):
        return field_class(label, description=description, **options)

    return build


# A field type's widget (app.configuration.field_types) → the form field showing it.
WIDGETS = {
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


def reference_choices(session: Session, spec: dict) -> list[tuple[str, str]]:
    from app.customers.models import Customer, Vehicle

    models = {"customer": Customer, "vehicle": Vehicle, "org_node": OrgNode}
    model = models.get(spec["target"])
    if model is None:
        return [("", "—")]
    rows = session.scalars(select(model).limit(500)).all()
    return [("", "—")] + [(str(row.id), str(row)) for row in rows]


def store_choices(session: Session) -> list[tuple[str, str]]:
    nodes = session.scalars(select(OrgNode).order_by(OrgNode.path)).all()
    stores = [n for n in nodes if n.kind == NodeKind.STORE] or nodes
    return [(str(n.id), str(n)) for n in stores]


def record_form(session: Session, runtime: EntityRuntime, lang: str, data=None, obj=None):
    """A form class built for this entity version, bound to the request data or a record."""

    class RecordForm(FlaskForm):
        pass

    RecordForm.org_node_id = SelectField("门店 / Store" if lang == "zh" else "Store")
    for spec in runtime.definition.fields:
        setattr(RecordForm, spec["name"], _field(session, spec, lang))
    form = RecordForm(formdata=data, obj=obj)
    form.org_node_id.choices = store_choices(session)
    if obj is None and data is None:
        for spec in runtime.definition.fields:
            if spec.get("default") is not None:
                getattr(form, spec["name"]).data = spec["default"]
    if obj is not None and data is None:
        form.org_node_id.data = str(obj.org_node_id)
        for spec in runtime.definition.fields:
            value = getattr(obj, spec["name"])
            if field_type(spec["type"]).as_text and value is not None:
                getattr(form, spec["name"]).data = str(value)
    return form


def submitted_values(form, runtime: EntityRuntime) -> dict:
    values = {"org_node_id": form.org_node_id.data}
    for spec in runtime.definition.fields:
        values[spec["name"]] = getattr(form, spec["name"]).data
    return values
