"""Screens and REST APIs of the organisation: the tree, tenants, nodes, brands, cities (the home
page is app/web/home.py)."""

from __future__ import annotations

from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.organisation.models import (
    ALLOWED_CHILDREN,
    NODE_KIND_LABELS,
    TENANT_KIND_LABELS,
    Brand,
    City,
    NodeKind,
    OrgNode,
    Tenant,
)
from app.organisation.services import visible_forest
from app.web.base import DealerModelApi, DealerModelView, labelled

NODE_LABELS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "kind": _l("Kind"),
    "parent": _l("Parent node"),
    "tenant": _l("Tenant"),
    "brand": _l("Brand"),
    "city": _l("City"),
    "province": _l("Province"),
    "active": _l("Active"),
    "path": _l("Path"),
    "maker": _l("Maker"),
}


def _tree_context() -> dict:
    return {
        "forest": visible_forest(db.session),
        "kind_labels": NODE_KIND_LABELS,
        "tenant_kind_labels": TENANT_KIND_LABELS,
    }


class OrgTreeView(BaseView):
    route_base = "/org"
    default_view = "tree"

    @expose("/tree/")
    @has_access
    def tree(self):
        return self.render_template("dealercover/org_tree_page.html", **_tree_context())


def validate_placement(node: OrgNode) -> None:
    """Refuse a node that cannot sit where the form puts it, naming the fields."""
    if node.parent is None:
        if node.kind != NodeKind.HEADQUARTERS:
            raise ValueError(str(_l("Parent node: only a headquarters has no parent")))
        return
    if node.kind not in ALLOWED_CHILDREN[node.parent.kind]:
        raise ValueError(
            str(
                _l(
                    "Kind: a %(kind)s cannot sit under a %(parent)s",
                    kind=NODE_KIND_LABELS[node.kind],
                    parent=NODE_KIND_LABELS[node.parent.kind],
                )
            )
        )
    if node.kind == NodeKind.STORE and node.brand is None:
        raise ValueError(str(_l("Brand: a store needs a brand")))


class OrgNodeView(DealerModelView):
    datamodel = SQLAInterface(OrgNode)
    list_title = _l("Organisation nodes")
    show_title = add_title = edit_title = _l("Organisation node")
    label_columns = NODE_LABELS
    list_columns = ["code", "name", "kind", "parent", "brand", "city", "tenant", "active"]
    show_columns = ["code", "name", "kind", "parent", "brand", "city", "province", "tenant", "path"]
    add_columns = ["parent", "kind", "code", "name", "brand", "city", "active"]
    edit_columns = ["parent", "kind", "code", "name", "brand", "city", "active"]
    search_columns = ["code", "name", "kind", "brand", "city", "tenant"]
    order_columns = ["code", "name", "kind"]
    base_order = ("path", "asc")
    formatters_columns = {"kind": labelled(NODE_KIND_LABELS)}

    def pre_add(self, item: OrgNode) -> None:
        validate_placement(item)
        item.tenant_id = item.parent.tenant_id if item.parent else item.tenant_id

    def pre_update(self, item: OrgNode) -> None:
        validate_placement(item)


class TenantView(DealerModelView):
    datamodel = SQLAInterface(Tenant)
    list_title = _l("Tenants")
    show_title = add_title = edit_title = _l("Tenant")
    label_columns = {**NODE_LABELS}
    list_columns = ["code", "name", "kind", "active"]
    add_columns = edit_columns = ["code", "name", "kind", "active"]
    search_columns = ["code", "name", "kind"]
    formatters_columns = {"kind": labelled(TENANT_KIND_LABELS)}

    def post_add(self, item: Tenant) -> None:
        from app.organisation.commands import ensure_headquarters

        ensure_headquarters(db.session, item)
        db.session.commit()


class BrandView(DealerModelView):
    datamodel = SQLAInterface(Brand)
    list_title = _l("Brands")
    show_title = add_title = edit_title = _l("Brand")
    label_columns = NODE_LABELS
    list_columns = add_columns = edit_columns = ["code", "name", "maker"]
    search_columns = ["code", "name", "maker"]


class CityView(DealerModelView):
    datamodel = SQLAInterface(City)
    list_title = _l("Cities")
    show_title = add_title = edit_title = _l("City")
    label_columns = NODE_LABELS
    list_columns = add_columns = edit_columns = ["code", "province", "name"]
    search_columns = ["code", "province", "name"]


class OrgNodeApi(DealerModelApi):
    resource_name = "org_node"
    datamodel = SQLAInterface(OrgNode)
    list_columns = ["id", "code", "name", "kind", "parent_id", "tenant_id", "brand_id", "city_id"]
    show_columns = [*list_columns, "path", "active"]
    add_columns = edit_columns = ["parent_id", "kind", "code", "name", "brand_id", "city_id"]


class BrandApi(DealerModelApi):
    resource_name = "brand"
    datamodel = SQLAInterface(Brand)
    list_columns = show_columns = ["id", "code", "name", "maker"]
    add_columns = edit_columns = ["code", "name", "maker"]


class CityApi(DealerModelApi):
    resource_name = "city"
    datamodel = SQLAInterface(City)
    list_columns = show_columns = ["id", "code", "province", "name"]
    add_columns = edit_columns = ["code", "province", "name"]


def register(appbuilder) -> None:
    category = "System"
    appbuilder.add_view(
        OrgTreeView,
        "Org tree",
        label=_l("Organisation tree"),
        icon="fa-sitemap",
        category=category,
    )
    appbuilder.add_view(
        OrgNodeView,
        "Org nodes",
        label=_l("Organisation nodes"),
        icon="fa-code-fork",
        category=category,
    )
    appbuilder.add_view(
        TenantView, "Tenants", label=_l("Tenants"), icon="fa-building", category=category
    )
    appbuilder.add_view(BrandView, "Brands", label=_l("Brands"), icon="fa-car", category=category)
    appbuilder.add_view(
        CityView, "Cities", label=_l("Cities"), icon="fa-map-marker", category=category
    )
    for api in (OrgNodeApi, BrandApi, CityApi):
        appbuilder.add_api(api)
