"""The policy list's columns (core list_view policy_list): every default column resolves, and
the formats show what the screen and the export need."""

from __future__ import annotations

import datetime
from decimal import Decimal

from app.extensions import db
from app.policies import listing
from app.policies.models import Policy
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world
from tests.app.policies.factory import make_policy


def test_every_default_column_of_the_core_list_view_resolves():
    layout = listing.core_layout()
    assert len(layout.columns) >= 20
    unresolved = [c.field for c in layout.columns if not listing.resolvable(c.field)]
    assert unresolved == []
    assert not listing.resolvable("vehicle.nonsense")
    assert not listing.resolvable("password")


def test_columns_resolve_on_a_real_policy(app):
    world = build_world(app)
    policy_id = make_policy(world.store_a, vehicle_is_new=True, compulsory_only=False)
    with use_scope(system_scope()):
        policy = db.session.get(Policy, policy_id)
        context = listing.ResolveContext.for_policies(db.session, [policy])
        shown = {
            c.field: listing.display(
                listing.resolve(policy, c.field, context), c.format, field=c.field
            )
            for c in listing.core_layout().columns
        }
    assert shown["org_node.region"] == "华东大区"
    assert shown["org_node.area"] == "上海片区"
    assert shown["org_node.brand_region"] == ""  # the test tree has no brand region
    assert shown["org_node.store_code"] == "SA"
    assert shown["org_node.store_name"] == "浦东店"
    assert shown["org_node.brand"]  # the store's brand name
    assert shown["carrier"] == "中国平安"
    assert shown["source"] == "出单"
    assert shown["issuing_terminal"] == "电脑"
    assert shown["status"] == "待确认"
    assert shown["business_type"] == "新保"
    assert shown["vehicle.is_new"] == "是"
    assert shown["compulsory_only"] == "否"
    assert shown["premium_incl_tax"] == "4,200.00"
    assert shown["premium_excl_tax"] == "3,962.27"
    assert shown["start_date"] == "2026-03-01"
    assert shown["end_date"] == "2027-02-28"
    assert len(shown["created_at"]) == 16  # 2026-12-02 18:51 (北京时间)
    assert "*" in shown["insured_name"]
    assert shown["vehicle.plate"] == policy.plate


def test_masks():
    assert listing.mask_name("张三") == "张*"
    assert listing.mask_name("欧阳娜娜") == "欧**娜"
    assert listing.mask_name("上海示范贸易有限公司") == "上海******公司"
    assert listing.mask_identifier("13812345678") == "138****5678"
    assert listing.mask_identifier("310115198005171234") == "310115********1234"


def test_export_values_keep_money_as_numbers():
    assert listing.export_value(Decimal("4200.00"), "money") == Decimal("4200.00")
    assert listing.export_value(True, "boolean") == "是"
    moment = datetime.datetime(2026, 1, 1, 0, 30)
    assert listing.export_value(moment, "datetime") == "2026-01-01 08:30:00"
