"""Registration of quoting and orders: their REST APIs and the desk screens."""

from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_babel import lazy_gettext as _l


def register(appbuilder: AppBuilder) -> None:
    from app.orders import tasks  # noqa: F401 - registers the issuing job
    from app.orders.api import OrderApi, PaymentCallbackApi
    from app.orders.services import payments_of_policy
    from app.orders.views import OrderView, ServiceContractView
    from app.policies.hooks import register_payment_source
    from app.quoting import permissions  # noqa: F401 - merges the desk's permissions
    from app.quoting.api import QuoteApi
    from app.quoting.desk import DeskView
    from app.quoting.fees import QuoteFeesView

    register_payment_source(payments_of_policy)
    appbuilder.add_api(QuoteApi)
    appbuilder.add_api(OrderApi)
    appbuilder.add_api(PaymentCallbackApi)
    appbuilder.add_view(
        DeskView,
        "Quote and issue",
        label=_l("Quote and issue"),
        icon="fa-calculator",
        category="Issuing",
    )
    appbuilder.add_view_no_menu(QuoteFeesView)
    appbuilder.add_view(
        OrderView, "Orders", label=_l("Orders"), icon="fa-shopping-cart", category="Issuing"
    )
    appbuilder.add_view(
        ServiceContractView,
        "Service contracts",
        label=_l("Service contracts"),
        icon="fa-handshake-o",
        category="Services",
    )
