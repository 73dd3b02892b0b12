"""Base classes of our screens and REST APIs.

Screens add an Excel (or `?format=csv`) export of the rows the list shows (its filters apply, and
so does the user's scope, since the query goes through the ORM); every export is audited and
written by `app.exports`, which neutralises formula-like text.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from decimal import Decimal

from flask import abort, g, request
from flask_appbuilder import ModelView
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.baseviews import expose
from flask_appbuilder.exceptions import DatabaseException
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_filter_args, get_order_args
from marshmallow import fields
from marshmallow.validate import Range
from sqlalchemy import Date, DateTime, Integer, Numeric
from wtforms import BooleanField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired

from app.audit.models import AuditAction
from app.audit.recorder import record_event
from app.errors import BadInput, answer

# build_workbook is re-exported for the screens that build their own rows (entity records).
from app.exports import FORMATS, export_response
from app.exports import build_workbook as build_workbook
from app.web.paging import check_paging

EXPORT_LIMIT = 100_000


class DealerModelView(ModelView):
    list_template = "dealercover/list.html"
    page_size = 20

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.extra_args = {**(self.extra_args or {}), "dc_view_name": type(self).__name__}
        for form in (self.add_form, self.edit_form):
            allow_unticked_boxes(form)

    @expose("/export/")
    @has_access
    def export(self):
        fmt = request.args.get("format", "xlsx")
        if fmt not in FORMATS:
            abort(400, f"format must be one of {', '.join(FORMATS)}")
        get_filter_args(self._filters)
        order_column, order_direction = get_order_args().get(type(self).__name__, ("", ""))
        count, items = self.datamodel.query(
            self._filters, order_column, order_direction, page=0, page_size=EXPORT_LIMIT
        )
        columns = list(self.list_columns)
        self._audit_export(count, len(items))
        return export_response(
            f"{self.datamodel.obj.__tablename__}-{datetime.now():%Y%m%d-%H%M%S}",
            [str(self.label_columns.get(c, c)) for c in columns],
            ([cell_value(item, c) for c in columns] for item in items),
            fmt,
        )

    def _audit_export(self, matched: int, exported: int) -> None:
        user = g.user
        session = self.datamodel.session
        record_event(
            session,
            AuditAction.EXPORT,
            tenant_id=getattr(user, "tenant_id", None),
            org_node_id=getattr(user, "org_node_id", None),
            entity=self.datamodel.obj.__tablename__,
            detail={"rows": exported, "matched": matched, "filters": str(self._filters)},
        )
        session.commit()


def allow_unticked_boxes(form) -> None:
    """Flask-AppBuilder marks the checkbox of a NOT NULL boolean as required, so an unticked box
    ("inactive") could never be saved; False is a value, not a missing one."""
    for name in dir(form):
        field = getattr(form, name, None)
        if isinstance(field, UnboundField) and issubclass(field.field_class, BooleanField):
            validators = field.kwargs.get("validators") or []
            field.kwargs["validators"] = [
                v for v in validators if not isinstance(v, DataRequired | InputRequired)
            ]


def labelled(labels: dict):
    """A list/show formatter showing an enum's label in the user's language."""
    return lambda value: str(labels.get(value, value if value is not None else ""))


def cell_value(item, column: str):
    """The raw value of a list column (a dotted path, or a method); app.exports makes it a cell."""
    value = item
    for part in column.split("."):
        value = getattr(value, part, None) if value is not None else None
    if callable(value):
        value = value()
    return value


class DealerModelApi(ModelRestApi):
    """REST API base: FAB's, with our page size cap, paging arguments checked, and refusals
    answered by `app.errors` instead of FAB's catch-all 500.

    FAB's `safe` decorator catches every exception of an endpoint and calls `response_500`
    inside its `except` block, so the exception is still at hand there; FAB answers a failed
    database write with `response_422` and the driver's text the same way."""

    max_page_size = 500

    def response_500(self, message: str | None = None):
        refused = answer(sys.exc_info()[1]) if sys.exc_info()[1] is not None else None
        return refused if refused is not None else super().response_500(message)

    def response_422(self, message=None):
        caught = sys.exc_info()[1]
        if isinstance(caught, DatabaseException) and caught.__cause__ is not None:
            refused = answer(caught.__cause__)
            if refused is not None:
                return refused
            return super().response_422("could not save the record")
        return super().response_422(message)

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for schema in (self.add_model_schema, self.edit_model_schema):
            type_foreign_keys(schema, self.datamodel.obj)

    def _handle_filters_args(self, rison_args: dict):
        for refinement in rison_args.get("filters", []):
            check_filter_value(self.datamodel.obj, refinement)
        return super()._handle_filters_args(rison_args)

    def _handle_page_args(self, rison_args: dict):
        check_paging(rison_args.get("page", 0), rison_args.get("page_size", self.page_size))
        return super()._handle_page_args(rison_args)


BIGINT = Range(-(2**63), 2**63 - 1)


def type_foreign_keys(schema, model) -> None:
    """FAB leaves a foreign key column (`customer_id`) untyped in its schemas (marshmallow's
    `Inferred`: anything goes), so a dict or a list reached the database as an id. Make each an
    integer in BIGINT's range, as the column is."""
    columns = model.__table__.columns
    for name, field in list(schema.load_fields.items()):
        column = columns.get(name)
        if type(field) is not fields.Inferred or column is None:
            continue
        if not isinstance(column.type, Integer):
            continue
        typed = fields.Integer(
            strict=True, required=field.required, allow_none=bool(column.nullable), validate=BIGINT
        )
        schema._bind_field(name, typed)
        schema.fields[name] = schema.load_fields[name] = typed
        if name in schema.dump_fields:
            schema.dump_fields[name] = typed


def check_filter_value(model, refinement) -> None:
    """A list filter's value must suit its column (a date for a date column …): unchecked, a
    bad date answered 500 on PostgreSQL and matched nothing, silently, on SQLite."""
    if not isinstance(refinement, dict):
        return
    name, value = refinement.get("col"), refinement.get("value")
    column = model.__table__.columns.get(name) if isinstance(name, str) else None
    if column is None or value is None or isinstance(value, list):
        return
    if not filter_value_fits(column.type, value):
        raise BadInput(
            f"{name}: {value!r} is not a valid value for this column",
            f"{name}：{value!r} 不是该字段的有效值",
            field=name,
        )


def filter_value_fits(column_type, value) -> bool:
    try:
        if isinstance(column_type, DateTime):
            datetime.fromisoformat(str(value))
        elif isinstance(column_type, Date):
            date.fromisoformat(str(value)[:10])
        elif isinstance(column_type, Integer) and not isinstance(value, bool):
            return BIGINT.min <= int(str(value)) <= BIGINT.max
        elif isinstance(column_type, Numeric):
            return Decimal(str(value)).is_finite()
    except (ValueError, ArithmeticError):
        return False
    return True
