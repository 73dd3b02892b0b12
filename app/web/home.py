"""The home page: what a person opens the console for. Today's figures of the desk (quotes,
orders, policies issued), the policy book (in force, expiring within 30 days, this month's
premium), the policies expiring first, shortcuts to the screens they use most, and, for people
above a store, their part of the organisation. Each figure shows only to a user who may open
the screen it comes from (its menu entry), and every count runs in the user's scope."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from flask import g, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.web.formatting import local_day_bounds, local_now, money, number

EXPIRING_DAYS = 30
EXPIRING_SHOWN = 8

# Menu entries offered as shortcuts, in this order, to whoever may open them.
SHORTCUTS = (
    "Quote and issue",
    "PolicyList",
    "Customers",
    "Arrivals today",
    "Orders",
    "PolicyImport",
    "Documents",
    "Rule simulator",
    "List Users",
    "Monitoring",
)


@dataclass
class Card:
    label: str
    value: str
    url: str = ""
    note: str = ""


class HomeView(IndexView):
    index_template = "dealercover/home.html"

    @expose("/")
    def index(self):
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return self.render_template(self.index_template, appbuilder=self.appbuilder)
        may = self._menu_access()
        today = local_now().date()
        cards = _desk_cards(today, may) + _book_cards(today, may)
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            cards=cards,
            expiring=_expiring(today) if may("PolicyList") else [],
            expiring_days=EXPIRING_DAYS,
            shortcuts=_shortcuts(),
            **_organisation(user),
        )

    def _menu_access(self):
        sm = self.appbuilder.sm
        return lambda name: sm.has_access("menu_access", name)


def _count(statement) -> int:
    return db.session.scalar(statement) or 0


def _desk_cards(today: datetime.date, may) -> list[Card]:
    start, end = local_day_bounds(today)
    cards = []
    if may("Quote and issue"):
        from app.quoting.models import QuoteSession

        quotes = _count(
            select(func.count())
            .select_from(QuoteSession)
            .where(QuoteSession.created_at >= start, QuoteSession.created_at < end)
        )
        cards.append(Card(_("Quotes today"), number(quotes), url_for("DeskView.index")))
    if may("Orders"):
        from app.orders.models import Order

        orders, total = db.session.execute(
            select(func.count(), func.coalesce(func.sum(Order.total), 0)).where(
                Order.created_at >= start, Order.created_at < end
            )
        ).one()
        cards.append(
            Card(
                _("Orders today"),
                number(orders or 0),
                url_for("OrderView.list"),
                _("Amount %(amount)s", amount="¥" + money(total)),
            )
        )
    if may("PolicyList"):
        from app.policies.models import Policy

        issued = _count(
            select(func.count())
            .select_from(Policy)
            .where(Policy.issued_at >= start, Policy.issued_at < end)
        )
        cards.append(Card(_("Policies issued today"), number(issued), url_for("PolicyView.list")))
    return cards


def _book_cards(today: datetime.date, may) -> list[Card]:
    if not may("PolicyList"):
        return []
    from app.policies.labels import PolicyStatus
    from app.policies.models import Policy

    in_force = _count(
        select(func.count()).select_from(Policy).where(Policy.status == PolicyStatus.IN_FORCE)
    )
    expiring = _count(
        select(func.count())
        .select_from(Policy)
        .where(
            Policy.status == PolicyStatus.IN_FORCE,
            Policy.end_date >= today,
            Policy.end_date <= today + datetime.timedelta(days=EXPIRING_DAYS),
        )
    )
    month_start, _end = local_day_bounds(today.replace(day=1))
    premium = db.session.scalar(
        select(func.coalesce(func.sum(Policy.premium_incl_tax), 0)).where(
            Policy.issued_at >= month_start,
            Policy.status != PolicyStatus.CANCELLED,
        )
    )
    return [
        Card(
            _("Policies in force"),
            number(in_force),
            url_for("PolicyView.list", status=PolicyStatus.IN_FORCE.value),
        ),
        Card(
            _("Expiring within %(days)d days", days=EXPIRING_DAYS),
            number(expiring),
            "#dc-expiring",
            _("Renewal follow-up"),
        ),
        Card(_("Premium this month"), "¥" + money(premium), "", _("Issued this month, incl. tax")),
    ]


def _expiring(today: datetime.date) -> list:
    from app.policies.labels import PolicyStatus
    from app.policies.models import Policy

    return db.session.scalars(
        select(Policy)
        .where(
            Policy.status == PolicyStatus.IN_FORCE,
            Policy.end_date >= today,
            Policy.end_date <= today + datetime.timedelta(days=EXPIRING_DAYS),
        )
        .order_by(Policy.end_date, Policy.id)
        .limit(EXPIRING_SHOWN)
    ).all()


def _shortcuts() -> list:
    from app.web.navigation import side_menu

    entries = {entry.name: entry for group in side_menu() for entry in group.entries}
    return [entries[name] for name in SHORTCUTS if name in entries]


def _organisation(user) -> dict:
    """The tree below the user, for people who oversee more than one place."""
    from app.organisation.models import NODE_KIND_LABELS, TENANT_KIND_LABELS, NodeKind
    from app.organisation.services import visible_forest

    node = getattr(user, "org_node", None)
    if node is not None and node.kind == NodeKind.STORE:
        return {}
    return {
        "forest": visible_forest(db.session),
        "kind_labels": NODE_KIND_LABELS,
        "tenant_kind_labels": TENANT_KIND_LABELS,
    }
