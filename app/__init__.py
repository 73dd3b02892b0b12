"""The DealerCover Flask application: `create_app()` builds it (Flask's application factory)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_appbuilder import AppBuilder
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import inspect

from app.embedded_database import prepare_sqlite, tune_sqlite
from app.extensions import db, migrate
from config import load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(mode: str | None = None, overrides: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(load_config(mode))
    app.config.update(overrides or {})
    from app.security.passwords import check_password_policy

    app.config.setdefault("FAB_PASSWORD_COMPLEXITY_VALIDATOR", check_password_policy)

    prepare_sqlite(app)
    db.init_app(app)
    from app.configuration.entities import include_in_migrations

    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        include_object=include_in_migrations,
    )
    tune_sqlite(app)
    _import_models()
    _install_data_walls()
    from app.configuration.kinds import load_kinds

    load_kinds()  # every capability registers its document kinds (the CLI runs through here too)

    from app.tenancy.web import init_request_scope
    from app.web.security_headers import init_security_headers

    # Every form POST carries a CSRF token; FAB exempts its own JSON APIs (JWT) when it sees this.
    CSRFProtect(app)
    from app.security.startup_lock import one_process_at_a_time

    with app.app_context():
        schema_ready = _schema_ready()
        # workers starting side by side take turns writing permissions and roles
        with one_process_at_a_time(db.engine if schema_ready else None):
            appbuilder = AppBuilder(update_perms=schema_ready)
            appbuilder.init_app(app, db.session)
            _register_capabilities(appbuilder)
            from app.web.navigation import arrange_menu

            arrange_menu(appbuilder)  # the side menu's business groups, before the roles' access
            _limit_token_endpoints(app, appbuilder)
            if schema_ready and app.config.get("FAB_UPDATE_PERMS"):
                from app.security.roles import sync_roles

                sync_roles(appbuilder)
            db.session.commit()
    init_request_scope(app)
    init_security_headers(app)
    from app.web.navigation import init_navigation

    init_navigation(app)
    from app.errors import init_errors

    init_errors(app)
    from app.web.request_limits import init_request_limits

    init_request_limits(app)
    from app.web.rison_schema import install_cached_rison_validation

    install_cached_rison_validation()  # REST list calls re-checked their fixed schema each time
    from app.web.vendor import blueprint as vendor_assets

    app.register_blueprint(vendor_assets)
    _register_commands(app)
    return app


def _import_models() -> None:
    """Import every model so the mappers and Alembic see the whole schema."""
    from app.audit import models as _audit  # noqa: F401
    from app.cameras import models as _cameras  # noqa: F401
    from app.carriers import models as _carriers  # noqa: F401
    from app.configuration import models as _configuration  # noqa: F401
    from app.customers import models as _customers  # noqa: F401
    from app.handover import models as _handover  # noqa: F401
    from app.jobs import models as _jobs  # noqa: F401
    from app.monitoring import models as _monitoring  # noqa: F401
    from app.notices import models as _notices  # noqa: F401
    from app.notices import tasks as _notice_tasks  # noqa: F401
    from app.orders import models as _orders  # noqa: F401
    from app.orders import tasks as _order_tasks  # noqa: F401
    from app.organisation import models as _organisation  # noqa: F401
    from app.organisation import tasks as _tasks  # noqa: F401
    from app.policies import models as _policies  # noqa: F401
    from app.quoting import models as _quoting  # noqa: F401
    from app.security import models as _security  # noqa: F401
    from app.services import models as _services  # noqa: F401


def _install_data_walls() -> None:
    from app.audit.recorder import install_recorder
    from app.tenancy.guard import install_guard

    install_guard()
    install_recorder()


def _schema_ready() -> bool:
    """False before `flask db upgrade` has run: then FAB must not write its permission tables."""
    return inspect(db.engine).has_table("alembic_version")


def _limit_token_endpoints(app: Flask, appbuilder: AppBuilder) -> None:
    """Flask-AppBuilder rate-limits its login page only; the JWT login and refresh endpoints get
    the same limit here."""
    if not appbuilder.sm.is_auth_limited:
        return
    blueprint = app.blueprints.get("SecurityApi")
    if blueprint is not None:
        appbuilder.sm.limiter.limit(app.config["AUTH_RATE_LIMIT"], methods=["POST"])(blueprint)


def _register_capabilities(appbuilder: AppBuilder) -> None:
    from app.audit import views as audit_views
    from app.cameras import views as camera_views
    from app.carriers import views as carrier_views
    from app.configuration import views as configuration_views
    from app.customers import views as customer_views
    from app.handover import views as handover_views
    from app.jobs import views as job_views
    from app.monitoring import views as monitoring_views
    from app.notices import views as notice_views
    from app.organisation import views as organisation_views
    from app.policies import views as policy_views
    from app.quoting import views as quoting_views
    from app.reports import views as report_views

    for module in (
        organisation_views,
        customer_views,
        configuration_views,
        camera_views,
        carrier_views,
        policy_views,
        quoting_views,
        job_views,
        monitoring_views,
        audit_views,
        handover_views,
        notice_views,
        report_views,
    ):
        module.register(appbuilder)


def _register_commands(app: Flask) -> None:
    from app.cli import register_cli

    register_cli(app)
    from app.cameras.cli import cameras_cli

    app.cli.add_command(cameras_cli)
    from app.carriers.cli import carriers_cli

    app.cli.add_command(carriers_cli)
    from app.tenancy.cli import db_roles

    app.cli.add_command(db_roles)
    from app.policies.cli import policies_cli

    app.cli.add_command(policies_cli)
    from app.notices.cli import notices_cli

    app.cli.add_command(notices_cli)
