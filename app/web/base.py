"""Base classes of our screens and REST APIs.

Screens add an Excel export of the rows the list shows (its filters apply, and so does the
user's scope, since the query goes through the ORM); every export is audited.
"""

from __future__ import annotations

import io
from datetime import datetime

from flask import g, send_file
from flask_appbuilder import ModelView
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.baseviews import expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_filter_args, get_order_args
from openpyxl import Workbook
from wtforms import BooleanField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired

from app.audit.models import AuditAction
from app.audit.recorder import record_event, to_json_value

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
        get_filter_args(self._filters)
        order_column, order_direction = get_order_args().get(type(self).__name__, ("", ""))
        count, items = self.datamodel.query(
            self._filters, order_column, order_direction, page=0, page_size=EXPORT_LIMIT
        )
        columns = list(self.list_columns)
        data = build_workbook(
            [str(self.label_columns.get(c, c)) for c in columns],
            ([cell_value(item, c) for c in columns] for item in items),
        )
        self._audit_export(count, len(items))
        name = f"{self.datamodel.obj.__tablename__}-{datetime.now():%Y%m%d-%H%M%S}.xlsx"
        return send_file(
            io.BytesIO(data),
            as_attachment=True,
            download_name=name,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
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
    value = item
    for part in column.split("."):
        value = getattr(value, part, None) if value is not None else None
    if callable(value):
        value = value()
    plain = to_json_value(value)
    return plain if isinstance(plain, int | float | str) or plain is None else str(plain)


def build_workbook(header: list[str], rows) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class DealerModelApi(ModelRestApi):
    """REST API base: FAB's, with our page size cap."""

    max_page_size = 500
