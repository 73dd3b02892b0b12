"""Which models are deliberately global. Every other mapped model must be scoped; the test suite
walks all mappers and fails on a model that is neither."""

from __future__ import annotations

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User

from app.tenancy.mixins import Scoped

GLOBAL_TABLES = {
    "ab_permission": "Flask-AppBuilder's permission names, the same for every tenant",
    "ab_view_menu": "Flask-AppBuilder's view names, the same for every tenant",
    "ab_permission_view": "permission catalogue, the same for every tenant",
    "ab_role": "role definitions shared by all tenants; only the platform admin edits them",
    "ab_group": "Flask-AppBuilder groups; only the platform admin has these screens",
    "ab_register_user": "self-registration is off",
    "ab_api_key": "API keys are off (FAB_API_KEY_ENABLED is not set)",
    "brand": "reference data shared by all tenants",
    "city": "reference data shared by all tenants",
    "config_epoch": "one counter of metadata publishes, no business data",
    "login_throttle": "failed logins per typed user name and client address, written before "
    "anyone is identified; no business data",
}

# References that must resolve in the writer's tenant rather than below the writer's org node
# (see app/tenancy/references.py), with the reason. Every other reference of a scoped row must be
# visible in the writer's own scope.
TENANT_WIDE_REFERENCES = {
    ("camera_event", "vehicle_id"): "a store's gate camera recognises the tenant's cars, "
    "whichever store sold them",
    ("camera_event", "customer_id"): "the owner of such a car, kept with the event",
}


def is_scoped(cls: type) -> bool:
    return issubclass(cls, Scoped | User)


def unscoped_models(mappers=None) -> list[str]:
    """Mapped classes that are neither scoped nor declared global: each is a leak."""
    mappers = Model.registry.mappers if mappers is None else mappers
    return sorted(
        mapper.class_.__name__
        for mapper in mappers
        if not is_scoped(mapper.class_) and mapper.local_table.name not in GLOBAL_TABLES
    )


def scoped_models() -> list[type]:
    return sorted(
        (m.class_ for m in Model.registry.mappers if issubclass(m.class_, Scoped)),
        key=lambda cls: cls.__name__,
    )
