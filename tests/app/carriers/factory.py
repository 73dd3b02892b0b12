"""Rows of the carriers capability for tests: a credential and an unmatched download item in
each store of a tenant (the scoping tests need rows on both sides of every wall)."""

from __future__ import annotations

import json

from app.carriers.models import CarrierCredential, CarrierDownloadItem, DownloadKind
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope


def add_carrier_rows(world) -> None:
    with use_scope(system_scope("tests")):
        for label, store in (("a", world.store_a), ("b", world.store_b)):
            db.session.add(
                CarrierCredential(
                    tenant_id=world.tenant_id,
                    org_node_id=store,
                    carrier_key=f"probe_{label}",
                    name="api_key",
                    secret="not-a-real-token",
                    fingerprint="000000000000",
                )
            )
            db.session.add(
                CarrierDownloadItem(
                    tenant_id=world.tenant_id,
                    org_node_id=store,
                    kind=DownloadKind.POLICY,
                    carrier_key=f"probe_{label}",
                    reference=f"PROBE{world.code}{label}",
                    summary="探针保单",
                    payload=json.dumps({"policy_no": f"PROBE{world.code}{label}"}),
                    reason="测试",
                )
            )
        db.session.commit()
