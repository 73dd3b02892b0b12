"""Confirm-back and downloads: a policy we issued is 待确认 until the carrier's download lists
it; what the carrier lists and we cannot match lands in the work queue, once, where someone
resolves it on the console; another tenant never sees that queue."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.carriers.contract import BindRequest, DownloadedPolicy, IssueRequest
from app.carriers.models import CarrierDownloadItem, DownloadKind, DownloadStatus
from app.carriers.services import carrier_for
from app.carriers.tariff import platform_tariff
from app.carriers.tasks import match_policies, pull_carrier, pull_downloads
from app.extensions import db
from app.jobs.models import JobRecord
from app.jobs.queue import run_job
from app.policies.models import Policy
from app.policies.services import CoverageDraft
from app.tenancy.scope import system_scope, use_scope
from tests.app.carriers.helpers import carrier_document, motor_request
from tests.app.conftest import build_world, install_for, login, write_pack
from tests.app.policies.factory import make_policy

TODAY = datetime.date.today()


def _row(policy_no, premium="712.50", status="issued"):
    return DownloadedPolicy(
        "picc",
        policy_no,
        "compulsory_motor",
        "compulsory_motor",
        status,
        datetime.datetime(2026, 6, 1, 9, 0),
        TODAY,
        TODAY,
        Decimal(premium),
        Decimal("672.17"),
    )


class Ours:
    def __init__(self, policy_no, status="pending_confirmation", premium="712.50"):
        self.policy_no, self.status, self.premium_incl_tax = policy_no, status, Decimal(premium)


def test_matching_confirms_ours_and_returns_the_rest_with_reasons():
    book = {"A1": Ours("A1"), "A2": Ours("A2", premium="700.00"), "A3": Ours("A3", "in_force")}
    confirmed = []
    done, left = match_policies(
        [_row("A1"), _row("A2"), _row("A3"), _row("ZZ"), _row("A3", status="cancelled")],
        lambda carrier, number: book.get(number),
        lambda policy, when: confirmed.append((policy.policy_no, when)),
    )
    assert [p.policy_no for p in done] == ["A1"] and confirmed[0][0] == "A1"
    reasons = {(u.reference, u.reason.split("：")[0]) for u in left}
    assert reasons == {
        ("A2", "保费不一致"),
        ("ZZ", "我方无此保单（可能在保险公司直接出单）"),
        ("A3", "保险公司已退保，我方未退保"),
    }


def _issue_with(world, key):
    """Quote, bind and issue 交强 + 商业 with the tenant's sandbox carrier."""
    with use_scope(system_scope()):
        carrier = carrier_for(db.session, world.tenant_id, key)
        tariff = platform_tariff(db.session, world.tenant_id, TODAY)
    request = motor_request(key, tariff, province="上海", start=TODAY)
    client = carrier.client
    quote = client.quote(request, timeout=10)
    bound = client.bind(
        BindRequest(
            f"b-{world.code}",
            key,
            quote.carrier_quote_ref,
            request,
            ("compulsory_motor", "commercial_motor"),
        ),
        timeout=10,
    )
    issued = client.issue(
        IssueRequest(f"i-{world.code}", key, bound.proposal_ref, "PAY", bound.total), timeout=10
    )
    return carrier, issued


def test_a_pull_confirms_our_policy_and_queues_the_rest_once(app, client, demo_world):
    carrier, issued = _issue_with(demo_world, "picc")
    jqx = next(p for p in issued.policies if p.line == "compulsory_motor")
    commercial = next(p for p in issued.policies if p.line == "commercial_motor")
    ours = make_policy(
        demo_world.store_a,
        policy_no=jqx.policy_no,
        carrier_key="picc",
        line="compulsory_motor",
        start_date=jqx.start_date,
        product_key="compulsory_motor",
        coverages=[CoverageDraft("compulsory", "交强险", jqx.premium)],
        vehicle_tax=jqx.vehicle_tax,
    )
    outside = carrier.client.record_outside_policy(
        "commercial_motor", "commercial_motor", Decimal("3210.00"), TODAY, "柜面客户", "沪B99999"
    )
    with use_scope(system_scope()):
        assert db.session.get(Policy, ours).status.value == "pending_confirmation"
        root = demo_world.hq
        summary = pull_carrier(db.session, demo_world.tenant_id, root, carrier, TODAY, TODAY)
        db.session.commit()
        assert (summary.policies, summary.confirmed, summary.errors) == (3, 1, [])
        assert db.session.get(Policy, ours).status.value == "in_force"
        queued = db.session.scalars(
            select(CarrierDownloadItem).where(CarrierDownloadItem.tenant_id == demo_world.tenant_id)
        ).all()
        policies = {q.reference for q in queued if q.kind == DownloadKind.POLICY}
        assert policies == {commercial.policy_no, outside.policy_no}
        statement = [q for q in queued if q.kind == DownloadKind.STATEMENT]
        assert len(statement) == 2 and all("对账单" in q.reason for q in statement)
        assert (
            json.loads(next(q for q in queued if q.reference == outside.policy_no).payload)["plate"]
            == "沪B99999"
        )
        again = pull_carrier(db.session, demo_world.tenant_id, root, carrier, TODAY, TODAY)
        db.session.commit()
        assert again.queued == 0 and again.confirmed == 0
        item_id = next(q.id for q in queued if q.reference == outside.policy_no)

    login(client, demo_world.users["finance"])
    listing = client.get("/carrierdownloaditemview/list/").get_data(as_text=True)
    assert outside.policy_no in listing and "待处理" in listing
    answer = client.post(
        f"/carrierdownloaditemview/edit/{item_id}",
        data={"status": "resolved", "note": "柜面出单，已补录"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    with use_scope(system_scope()):
        db.session.expire_all()
        item = db.session.get(CarrierDownloadItem, item_id)
        assert item.status == DownloadStatus.RESOLVED and item.note == "柜面出单，已补录"
        assert item.resolved_by == demo_world.users["finance"] and item.resolved_at is not None


def test_another_tenant_cannot_see_or_resolve_the_queue(app, client, demo_world, bare_world):
    with use_scope(system_scope()):
        item = db.session.scalars(
            select(CarrierDownloadItem).where(CarrierDownloadItem.tenant_id == demo_world.tenant_id)
        ).first()
    assert item is not None
    login(client, bare_world.users["finance"])
    assert item.reference not in client.get("/carrierdownloaditemview/list/").get_data(as_text=True)
    assert client.get(f"/carrierdownloaditemview/show/{item.id}").status_code in (302, 404)
    client.post(f"/carrierdownloaditemview/edit/{item.id}", data={"status": "ignored"})
    with use_scope(system_scope()):
        db.session.expire_all()
        assert db.session.get(CarrierDownloadItem, item.id).status != DownloadStatus.IGNORED


@pytest.fixture(scope="module")
def quick_world(app, core, tmp_path_factory):
    """A tenant whose only carriers answer at once (copies of two demo documents)."""
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    documents = []
    for key in ("picc", "pingan"):
        document = carrier_document(key)
        document["body"]["config"]["latency_ms"] = 0
        document["body"]["products"] = ["compulsory_motor"]
        document["body"].pop("defaults", None)
        documents.append(document)
    install_for(
        app, world, write_pack(tmp_path_factory.mktemp("quick"), "quick", documents=documents)
    )
    return world


def test_the_pull_job_and_command_run_for_a_tenant(app, quick_world):
    with use_scope(system_scope()):
        summaries = pull_downloads(db.session, quick_world.tenant_id, days=3)
        db.session.commit()
    assert sorted(s.carrier_key for s in summaries) == ["picc", "pingan"]
    result = app.test_cli_runner().invoke(args=["carriers", "pull", "--tenant", quick_world.code])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer[0]["tenant"] == quick_world.code
    if answer[0]["status"] != "done":  # with Redis the job waits for a worker: run it here
        run_job(answer[0]["job"])
    with use_scope(system_scope()):
        db.session.expire_all()
        record = db.session.get(JobRecord, answer[0]["job"])
        assert record.status == "done", record.error
        assert {r["carrier_key"] for r in json.loads(record.result)} == {"picc", "pingan"}
