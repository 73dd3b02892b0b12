"""Entities in the business groups of the side menu: an entity whose document says
`menu: {zh: 员工}` (or the group's key, `{en: Employees}`) is listed in that group (员工), for
those who may read it, besides the 配置中心 → 自定义数据 catalogue. A menu naming no business
group leaves the entity in the catalogue only."""

from __future__ import annotations

from flask import current_app, g, url_for
from flask_babel import get_locale

from app.configuration import records
from app.configuration.runtime import REGISTRY
from app.extensions import db
from app.web.navigation import GROUPS, Entry

# The groups' Chinese names as the console shows them (app/web/navigation.py GROUPS).
MENU_WORDS = {
    "出单": "Issuing",
    "保单": "Policies",
    "续保": "Renewals",
    "续保营销": "Renewals",
    "服务": "Services",
    "理赔线索": "ClaimLeads",
    "财务": "Finance",
    "报表": "Reports",
    "员工": "Employees",
    "系统管理": "System",
}
KEYS = {group.key.lower(): group.key for group in GROUPS}


def menu_group(menu: dict | None) -> str | None:
    """The business group's key a document's `menu` names, or None (配置中心 and unknown names:
    the catalogue only)."""
    for word in ((menu or {}).get("zh"), (menu or {}).get("en")):
        if not word:
            continue
        key = MENU_WORDS.get(word) or KEYS.get(word.replace(" ", "").lower())
        if key and key != "Configuration":
            return key
    return None


def entity_menu_entries() -> list[tuple[str, Entry]]:
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if not current_app.appbuilder.sm.has_access("can_records", "EntityRecordsView"):
        return []
    lang = "zh" if str(get_locale() or "zh").startswith("zh") else "en"
    found = []
    for runtime in REGISTRY.visible(db.session, getattr(user, "tenant_id", None)):
        body = runtime.definition.body
        key = menu_group(body.get("menu"))
        if key is None or records.permission(runtime, user) is None:
            continue
        url = url_for("EntityRecordsView.records", name=runtime.definition.name)
        entry = Entry(
            name=f"entity:{runtime.definition.name}",
            label=runtime.definition.label(lang),
            url=url,
            icon=body.get("icon") or "fa-table",
            view="",
            by_address=True,
        )
        found.append((key, entry))
    return found
