"""The console's navigation: the business groups of the side menu, the breadcrumbs and the user's
place in the organisation shown in the top bar.

Views register under a category *key* (`appbuilder.add_view(..., category="Policies")`); this
module is the one table of what each key is called, which icon it shows and where it stands in
the menu. `arrange_menu` runs once after every capability has registered its views: it files
Flask-AppBuilder's own screens (its "Security" category) and any older key under the business
group they belong to, drops the screens that do not belong in this console (user groups, the
user statistics chart) and orders the groups. Permissions follow: the roles' `menu_access` is
computed from the arranged menu (`app.security.roles.menu_pairs`).

What a user sees: a group appears only when at least one of its entries is open to them
(Flask-AppBuilder's `menu_access` permission on the entry), so an empty group never shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, abort, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Group:
    key: str
    label: object  # a lazy string: translated when shown
    icon: str


# The business groups of the side menu, in their order. Keys are what views pass as `category`.
GROUPS: tuple[Group, ...] = (
    Group("Issuing", _l("Issuing"), "fa-calculator"),
    Group("Policies", _l("Policies"), "fa-file-text"),
    Group("Renewals", _l("Renewals"), "fa-refresh"),
    Group("Services", _l("Services"), "fa-wrench"),
    Group("ClaimLeads", _l("Claim leads"), "fa-ambulance"),
    Group("Finance", _l("Finance"), "fa-jpy"),
    Group("Reports", _l("Reports"), "fa-bar-chart"),
    Group("Employees", _l("Employees"), "fa-id-badge"),
    Group("Configuration", _l("Configuration centre"), "fa-cogs"),
    Group("System", _l("System"), "fa-server"),
)
GROUP_BY_KEY = {group.key: group for group in GROUPS}

# Categories registered under other names (Flask-AppBuilder's own, older keys): the group they
# join. New views should use a key of GROUPS directly.
ALIASES = {
    "Security": "System",
    "Monitoring": "System",
    "Organisation": "System",
    "Customers": "Issuing",
    "Arrivals": "Services",
}

# Flask-AppBuilder's entries renamed to what a business admin calls them.
RELABEL = {
    "List Users": _l("Users"),
    "List Roles": _l("Roles"),
    "Base Permissions": _l("Base permissions"),
    "Views/Menus": _l("Views and menus"),
    "Permission on Views/Menus": _l("Permissions on views"),
}

# Within a group, the everyday screens first and the technical ones last (sorting is stable:
# the rest keep their registration order).
LEADING = (
    "Quote and issue",
    "Orders",
    "PolicyList",
    "Arrivals today",
    "Monitoring",
    "List Users",
    "List Roles",
)
TRAILING = ("Base Permissions", "Views/Menus", "Permission on Views/Menus")

# Screens that do not belong in this console: Flask-AppBuilder's user groups (unused: roles are
# given to users directly) and its user statistics chart (it loads Google Charts from the
# internet, which the Content Security Policy and an offline site both refuse, so it stayed
# blank). Removed from the menu and answered 404.
RETIRED_VIEWS = ("UserGroupModelView", "UserStatsChartView")


def arrange_menu(appbuilder) -> None:
    """File every menu entry under its business group, in GROUPS order. Call once, after all
    views are registered and before the roles are synchronised."""
    menu = appbuilder.menu
    by_key: dict[str, list] = {}
    loose = []
    for item in menu.get_list():
        if not item.childs:
            loose.append(item)
            continue
        key = ALIASES.get(item.name, item.name)
        by_key.setdefault(key, []).extend(
            child for child in item.childs if child.name != "-" and not _retired(child)
        )
    arranged = []
    for key in [group.key for group in GROUPS] + [k for k in by_key if k not in GROUP_BY_KEY]:
        children = by_key.get(key)
        if not children:
            continue
        group = GROUP_BY_KEY.get(key)
        category = _category(menu, key, group)
        category.childs = sorted(children, key=_rank)
        arranged.append(category)
    menu.menu = arranged + loose
    for item in (child for category in arranged for child in category.childs):
        if item.name in RELABEL:
            item.label = RELABEL[item.name]
    if appbuilder.update_perms:
        for category in arranged:
            appbuilder.sm.add_permission_view_menu("menu_access", category.name)


def _category(menu, key: str, group: Group | None):
    from flask_appbuilder.menu import MenuItem

    if group is None:  # a key missing from GROUPS: shown after them, as registered
        found = next(item for item in menu.get_list() if item.name == key)
        return MenuItem(name=key, icon=found.icon, label=found.label)
    return MenuItem(name=key, icon=group.icon, label=group.label)


def _rank(item) -> int:
    """Entries of LEADING first (in its order), then as registered, then TRAILING."""
    if item.name in LEADING:
        return LEADING.index(item.name) - len(LEADING)
    return 1 if item.name in TRAILING else 0


def _retired(item) -> bool:
    return type(getattr(item, "baseview", None)).__name__ in RETIRED_VIEWS


def retired_endpoints(appbuilder) -> set[str]:
    """The blueprint names of the retired screens."""
    return {
        view.blueprint.name
        for view in appbuilder.baseviews
        if type(view).__name__ in RETIRED_VIEWS and getattr(view, "blueprint", None)
    }


# --- what the templates show -------------------------------------------------------------------


@dataclass
class Entry:
    name: str  # the menu item's name (its menu_access permission)
    label: str
    url: str
    icon: str
    view: str  # the view class's name
    active: bool = False
    by_address: bool = False  # current on every page under its url (a provided entry)


@dataclass
class MenuGroup:
    key: str
    label: str
    icon: str
    entries: list[Entry] = field(default_factory=list)
    single: bool = False  # one entry registered without a category: a plain link

    @property
    def active(self) -> bool:
        return any(e.active for e in self.entries)


def side_menu() -> list[MenuGroup]:
    """The groups and entries the current user may open, the current page's entry marked."""
    cached = g.get("_dc_side_menu")
    if cached is not None:
        return cached
    from flask import current_app

    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    current = _current_view_name()
    groups = []
    for category in appbuilder.menu.get_list():
        # A view registered without a category is an entry of its own, shown after the groups.
        loose = not category.childs and bool(category.baseview or category.href)
        children = [category] if loose else (category.childs or [])
        entries = [
            Entry(
                name=child.name,
                label=_(str(child.label)),
                url=child.get_url(),
                icon=child.icon or "fa-circle-o",
                view=type(child.baseview).__name__ if child.baseview else "",
            )
            for child in children
            if child.name != "-"
            and child.should_render()
            and sm.has_access("menu_access", child.name)
        ]
        if not entries:
            continue
        group = GROUP_BY_KEY.get(category.name)
        groups.append(
            MenuGroup(
                key=category.name,
                label=_(str(group.label if group else category.label)),
                icon=group.icon if group else (category.icon or "fa-folder"),
                entries=entries,
                single=loose,
            )
        )
    _add_provided(groups)
    if _personal_page() is None:
        _mark_current(groups, current)
    g._dc_side_menu = groups
    return groups


# Entries a capability adds per request, for the user (the entity engine files each entity whose
# document says `menu: {zh: 员工}` under that group): functions returning (group key, Entry).
MENU_PROVIDERS: list = []


def register_menu_provider(provider):
    if provider not in MENU_PROVIDERS:
        MENU_PROVIDERS.append(provider)
    return provider


def _add_provided(groups: list[MenuGroup]) -> None:
    order = [group.key for group in GROUPS]
    for provider in MENU_PROVIDERS:
        for key, entry in provider():
            group = next((found for found in groups if found.key == key), None)
            if group is None:
                if key not in GROUP_BY_KEY:
                    continue
                known = GROUP_BY_KEY[key]
                group = MenuGroup(key=key, label=_(str(known.label)), icon=known.icon)
                after = [
                    i
                    for i, found in enumerate(groups)
                    if found.single or order.index(key) < _position(order, found.key)
                ]
                groups.insert(after[0] if after else len(groups), group)
            group.entries.append(entry)


def _position(order: list[str], key: str) -> int:
    return order.index(key) if key in order else len(order)


# A person's own pages (FAB's user info, its edit form, the own-password form): under 首页
# with their own name, whatever menu the user has. Keyed by view class or by action.
PERSONAL = {
    "UserInfoEditView": _l("My account"),
    "ResetMyPasswordView": _l("Change password"),
    "userinfo": _l("My account"),
}


def _personal_page() -> object | None:
    view, _sep, action = (request.endpoint or "").partition(".")
    return PERSONAL.get(view) or PERSONAL.get(action)


def _current_view_name() -> str:
    from flask import current_app

    function = current_app.view_functions.get(request.endpoint or "")
    view = getattr(function, "__self__", None)
    return type(view).__name__ if view is not None else ""


def _mark_current(groups: list[MenuGroup], current: str) -> None:
    """The entry of the current page: its own view, else the entry whose address is the
    longest prefix of this page's (a screen reached from a list, such as a document's editor)."""
    entries = [e for group in groups for e in group.entries]
    for entry in entries:
        if entry.by_address and request.path.startswith(entry.url):
            entry.active = True
            return
    for entry in entries:
        if current and entry.view == current:
            entry.active = True
            return
    path = request.path
    best = max(
        (e for e in entries if e.url and path.startswith(_folder(e.url))),
        key=lambda e: len(_folder(e.url)),
        default=None,
    )
    if best is not None:
        best.active = True


def _folder(url: str) -> str:
    """'/documentview/list/' → '/documentview/'; '/policies/list/' → '/policies/'."""
    head = url.split("?")[0].rstrip("/")
    parent = head.rsplit("/", 1)[0] if head.count("/") > 1 else head
    return parent + "/"


ACTION_CRUMBS = {
    "show": _l("Details"),
    "add": _l("New"),
    "edit": _l("Edit"),
}


def breadcrumbs() -> list[tuple[str, str]]:
    """(label, url) from the home page to the current page; the last one has no url."""
    from flask import current_app

    home = (_("Home page"), current_app.appbuilder.get_url_for_index)
    if request.path == home[1]:
        return [(home[0], "")]
    crumbs = [home]
    personal = _personal_page()
    if personal is not None:
        return [home, (str(personal), "")]
    for group in side_menu():
        for entry in group.entries:
            if entry.active:
                if not group.single:
                    crumbs.append((group.label, ""))
                crumbs.append((entry.label, entry.url))
                break
    action = (request.endpoint or "").rsplit(".", 1)[-1]
    if action in ACTION_CRUMBS and len(crumbs) > 1:
        crumbs.append((str(ACTION_CRUMBS[action]), ""))
    label, _url = crumbs[-1]
    crumbs[-1] = (label, "")
    return crumbs


def org_position() -> list[str]:
    """The user's place: their tenant, then their org node (the platform's people: 平台)."""
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    tenant = getattr(user, "tenant", None)
    node = getattr(user, "org_node", None)
    if tenant is None:
        return [_("Platform")]
    parts = [tenant.name]
    if node is not None and node.name != tenant.name:
        parts.append(node.name)
    return parts


def display_name(user) -> str:
    """A person's name as written in their language: 王芳 (family name first) for Chinese names,
    "Ann Lee" otherwise."""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if any(_is_cjk(ch) for ch in first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip() or user.username


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def role_names(user) -> str:
    from app.security.roles import ROLE_LABELS

    return "、".join(str(ROLE_LABELS.get(r.name, r.name)) for r in getattr(user, "roles", []) or [])


def init_navigation(app: Flask) -> None:
    """The templates' helpers, and the retired screens answered 404."""
    app.jinja_env.globals.update(
        dc_side_menu=side_menu,
        dc_breadcrumbs=breadcrumbs,
        dc_org_position=org_position,
        dc_display_name=display_name,
        dc_role_names=role_names,
    )
    from app.web import formatting

    formatting.humanise_views(app.appbuilder)  # list and show pages: labels, local times, money
    # …and every template may write values the same way.
    app.jinja_env.globals.update(
        local_time=formatting.local_time,
        money=formatting.money,
        yes_no=formatting.yes_no,
        enum_label=formatting.enum_label,
    )
    retired = retired_endpoints(app.appbuilder)

    @app.before_request
    def _refuse_retired() -> None:
        if request.blueprint in retired:
            abort(404)
