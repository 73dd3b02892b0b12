"""Registration of quoting and orders: their REST APIs and the desk screens."""

from __future__ import annotations

from flask_appbuilder import AppBuilder


def register(appbuilder: AppBuilder) -> None:
    from app.orders import tasks  # noqa: F401 - registers the issuing job
    from app.orders.api import OrderApi, PaymentCallbackApi
    from app.quoting import permissions  # noqa: F401 - merges the desk's permissions
    from app.quoting.api import QuoteApi

    appbuilder.add_api(QuoteApi)
    appbuilder.add_api(OrderApi)
    appbuilder.add_api(PaymentCallbackApi)
