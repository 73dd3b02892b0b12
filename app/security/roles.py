"""The roles of the trade and what each may do.

Permissions are Flask-AppBuilder's (permission on a view). The policy names views by class and
gives each role a level per view: "read" (list, show, export, API get) or "write" (read plus add,
edit, delete and API post/put/delete). `sync_roles` makes the database match the policy.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PLATFORM_ADMIN = "platform_admin"
TENANT_ADMIN = "tenant_admin"
REGION_MANAGER = "region_manager"
STORE_MANAGER = "store_manager"
INSURANCE_DESK = "insurance_desk"
RENEWAL_SPECIALIST = "renewal_specialist"
SERVICE_ADVISOR = "service_advisor"
FINANCE = "finance"
HR = "hr"
IMPLEMENTER = "implementer"

ROLE_LABELS = {
    PLATFORM_ADMIN: _l("Platform admin"),
    TENANT_ADMIN: _l("Tenant business admin"),
    REGION_MANAGER: _l("Region manager"),
    STORE_MANAGER: _l("Store manager"),
    INSURANCE_DESK: _l("Insurance desk"),
    RENEWAL_SPECIALIST: _l("Renewal specialist"),
    SERVICE_ADVISOR: _l("Service advisor"),
    FINANCE: _l("Finance"),
    HR: _l("HR"),
    IMPLEMENTER: _l("Implementer"),
}

READ_PERMISSIONS = {
    "can_simulator",
    "can_list",
    "can_show",
    "can_get",
    "can_info",
    "can_export",
    "can_tree",
    "can_catalogue",
    "can_records",
}
WRITE_PERMISSIONS = READ_PERMISSIONS | {
    "can_add",
    "can_edit",
    "can_delete",
    "can_post",
    "can_put",
    "can_upload",
    "can_review",
    "publish",
    "retry",  # an action: Flask-AppBuilder names its permission after the action
    "revoke",  # camera actions
    "rotate_token",
    "unlock",  # lifting a login lock-out from the user list
}
SELF_SERVICE = {
    ("can_userinfo", "DealerUserView"),
    ("resetmypassword", "DealerUserView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
}

ORG = {"OrgTreeView": "read", "OrgNodeView": "read", "OrgNodeApi": "read", "TenantView": "read"}
# Every role may open the custom-data screen; each entity document says who reads or writes it.
CONFIGURATION = {"EntityRecordsView": "write"}
# The configuration documents themselves (products, decision tables, fee agreements, packs) and
# the rule simulator: for who maintains them (business admin, implementer) and finance (fee
# agreements), not for the desk, the stores or the regions, who work with what they produce.
CONFIGURATION_DOCUMENTS = {
    "RuleSimulatorView": "read",
    "DocumentView": "read",
    "DocumentVersionView": "read",
    "InstalledPackView": "read",
}
REFERENCE = {"BrandView": "read", "CityView": "read", "BrandApi": "read", "CityApi": "read"}
CUSTOMERS_READ = {
    "CustomerView": "read",
    "VehicleView": "read",
    "CustomerApi": "read",
    "VehicleApi": "read",
}
CUSTOMERS_WRITE = {k: "write" for k in CUSTOMERS_READ}
# Arrivals at the gate: the store's people see them and get the 进店提醒 pop-up (ArrivalAlertView).
ARRIVALS_READ = {
    "ArrivalsView": "read",
    "ArrivalAlertView": "read",
    "CameraEventView": "read",
    "WalkInLeadView": "read",
}
CAMERAS_WRITE = {"CameraView": "write", "CameraMonitorView": "read"}
# Who registers cameras may also delete a bad read of them (e.g. a broken clock's date).
EVENTS_DELETE = {"CameraEventView": "write", "WalkInLeadView": "write"}

ROLE_POLICY: dict[str, dict[str, str]] = {
    TENANT_ADMIN: {
        **ORG,
        "DocumentEditorView": "write",
        "DocumentVersionView": "write",
        "PackUploadView": "write",
        **REFERENCE,
        **CUSTOMERS_WRITE,
        "OrgNodeView": "write",
        "OrgNodeApi": "write",
        "DealerUserView": "write",
        "AuditRecordView": "read",
        "AuditRecordApi": "read",
        "RoleEditorView": "read",
        "JobRecordView": "write",
        "JobRecordApi": "read",
        **CAMERAS_WRITE,
        "ArrivalsView": "read",
        **EVENTS_DELETE,
    },
    REGION_MANAGER: {**ORG, **REFERENCE, **CUSTOMERS_READ, "JobRecordView": "read"},
    STORE_MANAGER: {
        **ORG,
        **REFERENCE,
        **CUSTOMERS_WRITE,
        "DealerUserView": "read",
        **ARRIVALS_READ,
        **CAMERAS_WRITE,
        **EVENTS_DELETE,
    },
    INSURANCE_DESK: {**ORG, **REFERENCE, **CUSTOMERS_WRITE, **ARRIVALS_READ},
    RENEWAL_SPECIALIST: {**ORG, **REFERENCE, **CUSTOMERS_WRITE, **ARRIVALS_READ},
    SERVICE_ADVISOR: {
        **ORG,
        **REFERENCE,
        **CUSTOMERS_READ,
        "VehicleView": "write",
        **ARRIVALS_READ,
    },
    FINANCE: {
        **ORG,
        **REFERENCE,
        **CUSTOMERS_READ,
        "JobRecordView": "read",
        **CONFIGURATION_DOCUMENTS,
    },
    HR: {**ORG, "DealerUserView": "read", "RoleEditorView": "read"},
    IMPLEMENTER: {
        **ORG,
        "DocumentEditorView": "write",
        "DocumentVersionView": "write",
        "PackUploadView": "write",
        "BrandView": "write",
        "CityView": "write",
        "BrandApi": "write",
        "CityApi": "write",
        "JobRecordView": "write",
        "JobRecordApi": "read",
        "AuditRecordView": "read",
        "CameraMonitorView": "read",
    },
}

for _role, _policy in ROLE_POLICY.items():
    _extra = {
        **CONFIGURATION,
        **(CONFIGURATION_DOCUMENTS if _role in (TENANT_ADMIN, IMPLEMENTER) else {}),
    }
    _policy.update({k: v for k, v in _extra.items() if k not in _policy})

ALL_ROLES = [PLATFORM_ADMIN, *ROLE_POLICY]


def grant(policy: dict[str, dict[str, str]]) -> None:
    """Merge a capability's own policy (role → view → level) into the roles' policy. Each
    capability declares it in its `permissions.py`, imported before the roles are synchronised;
    a level never lowers one granted elsewhere."""
    for role, views in policy.items():
        if role not in ROLE_POLICY:
            raise KeyError(f"unknown role {role!r}")
        target = ROLE_POLICY[role]
        for view, level in views.items():
            if target.get(view) != "write":
                target[view] = level


def allowed_pairs(role: str, catalogue: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (permission, view) pairs of the catalogue that the policy grants to `role`."""
    policy = ROLE_POLICY.get(role, {})
    levels = {"read": READ_PERMISSIONS, "write": WRITE_PERMISSIONS}
    return {
        (permission, view)
        for permission, view in catalogue
        if permission in levels.get(policy.get(view, ""), ()) or (permission, view) in SELF_SERVICE
    }


def menu_pairs(appbuilder, granted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """menu_access on every menu entry (and its category) whose view the role can list."""
    menu_entries = ("can_list", "can_tree", "can_catalogue", "can_simulator")
    listable = {view for perm, view in granted if perm in menu_entries}
    pairs = set()
    for category in appbuilder.menu.get_list():
        for item in category.childs or [category]:
            baseview = getattr(item, "baseview", None)
            if baseview is not None and type(baseview).__name__ in listable:
                pairs.add(("menu_access", item.name))
                pairs.add(("menu_access", category.name))
    return pairs


def permission_views(sm) -> dict[tuple[str, str], object]:
    """Every permission-on-view of the database by (permission, view), read in one query (asking
    Flask-AppBuilder pair by pair took three queries each: ~3,700 per start-up)."""
    from sqlalchemy.orm import joinedload

    model = sm.permissionview_model
    rows = sm.session.query(model).options(
        joinedload(model.permission), joinedload(model.view_menu)
    )
    return {(pv.permission.name, pv.view_menu.name): pv for pv in rows}


def sync_roles(appbuilder) -> None:
    """Create every role and make its permissions exactly what the policy says."""
    sm = appbuilder.sm
    by_pair = permission_views(sm)
    catalogue = set(by_pair)
    for role_name in ALL_ROLES:
        role = sm.find_role(role_name) or sm.add_role(role_name)
        if role_name == PLATFORM_ADMIN:
            wanted_pairs = catalogue
        else:
            granted = allowed_pairs(role_name, catalogue)
            wanted_pairs = granted | (menu_pairs(appbuilder, granted) & catalogue)
        wanted = [by_pair.get(pair) for pair in sorted(wanted_pairs)]
        role.permissions = [pv for pv in wanted if pv is not None]
    sm.session.commit()
