"""Base classes of our screens and REST APIs.

Screens add an Excel (or `?format=csv`) export of the rows the list shows (its filters apply, and
so does the user's scope, since the query goes through the ORM); every export is audited and
written by `app.exports`, which neutralises formula-like text.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, g, request
from flask_appbuilder import ModelView
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.baseviews import expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_filter_args, get_order_args
from wtforms import BooleanField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired

from app.audit.models import AuditAction
from app.audit.recorder import record_event

# build_workbook is re-exported for the screens that build their own rows (entity records).
from app.exports import FORMATS, export_response
from app.exports import build_workbook as build_workbook

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
    """REST API base: FAB's, with our page size cap."""

    max_page_size = 500
