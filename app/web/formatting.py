"""How the console writes values a person reads: times in the tenant's time zone to the second,
money with thousands separators, yes/no, enumerations by their label, nothing for a missing
value (never "None")."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import sys
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, g, has_request_context
from flask_appbuilder.fields import EnumField
from flask_babel import gettext as _

DEFAULT_ZONE = "Asia/Shanghai"


def local_zone() -> ZoneInfo:
    """The time zone of the user's tenant (a `time_zone` of the tenant when it has one), else
    the console's (BABEL_DEFAULT_TIMEZONE, 北京时间 by default)."""
    name = None
    user = g.get("user") if has_request_context() else None
    tenant = getattr(user, "tenant", None) if user is not None else None
    if tenant is not None:
        name = getattr(tenant, "time_zone", None)
    name = name or current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def local_time(value: datetime.datetime | None) -> str:
    """A stored time (naive values are UTC) in the local zone: 2026-12-02 16:05:07."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    try:
        return value.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError):  # a time at the ends of the calendar: as stored
        return value.strftime("%Y-%m-%d %H:%M:%S")


def local_now() -> datetime.datetime:
    return datetime.datetime.now(local_zone())


def local_day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The stored (naive UTC) times at which the local `day` starts and the next one starts."""
    zone = local_zone()
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=zone)
    return (
        start.astimezone(datetime.UTC).replace(tzinfo=None),
        end.astimezone(datetime.UTC).replace(tzinfo=None),
    )


def money(value, places: int = 2) -> str:
    """12,345.60 (half-up to the cent); nothing for a missing amount."""
    if value is None or value == "":
        return ""
    try:
        amount = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return str(value)
    if not amount.is_finite():
        return str(value)
    quantum = decimal.Decimal(1).scaleb(-places)
    return f"{amount.quantize(quantum, rounding=decimal.ROUND_HALF_UP):,}"


def number(value) -> str:
    """A count or a plain number with thousands separators."""
    if value is None:
        return ""
    if isinstance(value, int | decimal.Decimal | float) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def yes_no(value) -> str:
    if value is None:
        return ""
    return _("Yes") if value else _("No")


def plain(value) -> str:
    """Any value as text, without Python's words: no "None", "True" or "False"."""
    if value is None:
        return ""
    if isinstance(value, str):  # kept as is: Markup (a link a view built) stays Markup
        return value
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, enum.Enum):
        return enum_label(value)
    if isinstance(value, datetime.datetime):
        return local_time(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return number(value)
    return str(value)


# --- enumerations ------------------------------------------------------------------------------


def enum_label(value) -> str:
    """The label of an enumeration's member in the user's language (see `labels_of`)."""
    if value is None:
        return ""
    member = value if isinstance(value, enum.Enum) else None
    if member is None:
        return str(value)
    labels = labels_of(type(member))
    label = labels.get(member) if labels else None
    return str(label) if label is not None else str(member.value)


@cache
def labels_of(enum_class: type[enum.Enum]) -> dict | None:
    """The labels of an enumeration: the dict, in the module that defines it, whose keys are
    exactly its members (e.g. `NODE_KIND_LABELS` next to `NodeKind`). A capability that keeps
    them elsewhere registers them with `register_labels`."""
    if enum_class in _REGISTERED:
        return _REGISTERED[enum_class]
    module = sys.modules.get(enum_class.__module__)
    members = set(enum_class)
    for value in vars(module).values() if module else ():
        if isinstance(value, dict) and value and set(value) == members:
            return value
    return None


_REGISTERED: dict[type, dict] = {}


def register_labels(enum_class: type[enum.Enum], labels: dict) -> None:
    _REGISTERED[enum_class] = labels
    labels_of.cache_clear()


def value_label(enum_class: type[enum.Enum], raw) -> str:
    """The label for a stored value of `enum_class` (Flask-AppBuilder hands list and show
    formatters the member's value, e.g. "person")."""
    if raw is None or raw == "":
        return ""
    try:
        member = enum_class(raw.value if isinstance(raw, enum.Enum) else raw)
    except ValueError:
        return str(raw)
    return enum_label(member)


# --- list and show pages -----------------------------------------------------------------------


def column_formatter(model, name: str):
    """How a list or show page writes column `name` of `model`: by its type, else `plain`."""
    from sqlalchemy import JSON, Boolean, DateTime, Enum, Numeric
    from sqlalchemy import inspect as inspect_model

    try:
        column = inspect_model(model).columns.get(name)
    except Exception:  # not a mapped class
        column = None
    kind = getattr(column, "type", None)
    if isinstance(kind, Enum) and kind.enum_class is not None:
        enum_class = kind.enum_class
        return lambda value: value_label(enum_class, value)
    if isinstance(kind, Boolean):
        return yes_no
    if isinstance(kind, DateTime):
        return local_time
    if isinstance(kind, Numeric) and getattr(kind, "scale", None) == 2:
        return money
    if isinstance(kind, JSON):
        return as_json
    return plain


def as_json(value) -> str:
    """A JSON column as JSON (true/false/null, Chinese as is), not as a Python dict."""
    if value is None or value == {} or value == []:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def humanise_view(view) -> None:
    """Give every shown column of a Flask-AppBuilder model view a formatter writing its values
    for people (labels, local times, money, yes/no, no "None"); formatters the view sets itself
    are kept."""
    datamodel = getattr(view, "datamodel", None)
    model = getattr(datamodel, "obj", None)
    if model is None:
        return
    own = dict(view.formatters_columns or {})
    names = set(getattr(view, "list_columns", None) or []) | set(
        getattr(view, "show_columns", None) or []
    )
    view.formatters_columns = {
        **{name: column_formatter(model, name) for name in names},
        **own,
    }


def humanise_views(appbuilder) -> None:
    from flask_appbuilder.baseviews import BaseCRUDView

    from app.security.roles import ROLE_LABELS

    register_object_label(
        appbuilder.sm.role_model, lambda role: str(ROLE_LABELS.get(role.name, role.name))
    )
    for view in appbuilder.baseviews:
        if isinstance(view, BaseCRUDView):
            humanise_view(view)
            for form in {view.add_form, view.edit_form, getattr(view, "search_form", None)}:
                if form is not None:
                    humanise_form(form)


# --- forms -------------------------------------------------------------------------------------

_OBJECT_LABELS: dict[type, object] = {}


def register_object_label(model: type, label) -> None:
    """How a record of `model` is named in select boxes (default: its str())."""
    _OBJECT_LABELS[model] = label


def object_label(obj) -> str:
    for model in type(obj).__mro__:
        if model in _OBJECT_LABELS:
            return _OBJECT_LABELS[model](obj)
    return str(obj)


def humanise_form(form) -> None:
    """Flask-AppBuilder's select boxes for people: an enumeration offers its labels (FAB shows
    the stored values, `person`), a related record its name (a role's label, not
    `insurance_desk`), and the empty choice says so (FAB's select box showed `__None`)."""
    from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
    from flask_babel import lazy_gettext as _l
    from wtforms.fields.core import UnboundField

    for name in dir(form):
        field = getattr(form, name, None)
        if not isinstance(field, UnboundField):
            continue
        if field.field_class is EnumField:
            field.field_class = LabelledEnumField
        elif issubclass(field.field_class, QuerySelectField | QuerySelectMultipleField):
            field.kwargs.setdefault("get_label", object_label)
            if not field.kwargs.get("blank_text"):
                field.kwargs["blank_text"] = _l("Please choose")


def _enum_member_or_value_error(coerce):
    # FAB's coerce looks the posted name up in the enum and lets KeyError out (500); WTForms
    # turns a ValueError into the field's error.
    def checked(value):
        try:
            return coerce(value)
        except KeyError:
            raise ValueError(_("Not a valid choice")) from None

    return checked


class LabelledEnumField(EnumField):
    """Flask-AppBuilder's enum select box, its choices labelled in the user's language."""

    def __init__(self, enum_class, enums, *args, **kwargs):
        super().__init__(enum_class, enums, *args, **kwargs)
        if enum_class is not None:
            self.choices = [(value, value_label(enum_class, value)) for value, _ in self.choices]
            self.coerce = _enum_member_or_value_error(self.coerce)

    def pre_validate(self, form) -> None:
        # FAB raises a plain ValueError for a value not among the choices, which WTForms 3 no
        # longer turns into a field error: a posted unknown value answered 500.
        from wtforms.validators import ValidationError

        try:
            super().pre_validate(form)
        except ValidationError:
            raise
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
