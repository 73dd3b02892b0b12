"""Confirm-back and downloads: pull each enabled carrier's policy, statement and claim
downloads, confirm our 待确认 policies the carrier lists, and put what cannot be matched into the
work queue (CarrierDownloadItem) for someone to resolve on the console.

Run by the job `carriers.pull_downloads` (enqueue it through app.jobs; `flask carriers pull`
enqueues one per tenant and is what cron runs, e.g. hourly). Pulling again is harmless: a
confirmed policy stays confirmed and a queued row is queued once.

The matching itself (`match_policies`) takes callables for finding and confirming a policy, so
it is plain logic over the downloaded rows."""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import utcnow
from app.carriers.contract import (
    CarrierError,
    DownloadedClaim,
    DownloadedPolicy,
    StatementLine,
    to_data,
)
from app.carriers.models import CarrierDownloadItem, DownloadKind, DownloadStatus
from app.carriers.services import EnabledCarrier, enabled_carriers
from app.jobs import task
from app.tenancy.scope import current_scope

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
DOWNLOAD_TIMEOUT = 60.0


@dataclass
class Unmatched:
    kind: DownloadKind
    carrier_key: str
    reference: str
    summary: str
    reason: str
    payload: dict


@dataclass
class PullSummary:
    carrier_key: str
    policies: int = 0
    confirmed: int = 0
    statement_lines: int = 0
    claims: int = 0
    queued: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def match_policies(
    rows: Iterable[DownloadedPolicy],
    find_policy: Callable[[str, str], Any | None],
    confirm: Callable[[Any, datetime.datetime], Any],
) -> tuple[list[Any], list[Unmatched]]:
    """Confirm each of our 待确认 policies a download lists; every row we cannot account for
    (not ours, or disagreeing with ours) is returned as Unmatched with the reason."""
    confirmed, unmatched = [], []
    for row in rows:
        policy = find_policy(row.carrier_key, row.policy_no)
        reason = _disagreement(row, policy)
        if reason:
            unmatched.append(_unmatched_policy(row, reason))
            continue
        if _status(policy) == "pending_confirmation" and row.status == "issued":
            confirm(policy, row.issued_at)
            confirmed.append(policy)
    return confirmed, unmatched


def _status(policy: Any) -> str:
    status = getattr(policy, "status", "")
    return str(getattr(status, "value", status))


def _disagreement(row: DownloadedPolicy, policy: Any | None) -> str:
    if policy is None:
        return "我方无此保单（可能在保险公司直接出单）"
    ours = getattr(policy, "premium_incl_tax", None)
    if ours is not None and ours != row.premium:
        return f"保费不一致：我方 {ours}，保险公司 {row.premium}"
    if row.status == "cancelled" and _status(policy) != "cancelled":
        return "保险公司已退保，我方未退保"
    return ""


def _unmatched_policy(row: DownloadedPolicy, reason: str) -> Unmatched:
    summary = f"{row.policy_no} {row.insured_name} {row.plate or ''} {row.premium}".strip()
    return Unmatched(
        DownloadKind.POLICY, row.carrier_key, row.policy_no, summary, reason, to_data(row)
    )


def unmatched_statement(
    lines: Iterable[StatementLine], known: Callable[[str, str], bool]
) -> list[Unmatched]:
    """Statement lines naming a policy we do not have."""
    found = []
    for line in lines:
        if known(line.carrier_key, line.policy_no):
            continue
        reference = f"{line.period}/{line.policy_no}/{line.endorsement_no or '-'}/{line.fee_type}"
        summary = f"{line.period} {line.policy_no} {line.insured_name} {line.fee_amount}"
        found.append(
            Unmatched(
                DownloadKind.STATEMENT,
                line.carrier_key,
                reference,
                summary,
                "对账单中的保单在我方不存在",
                to_data(line),
            )
        )
    return found


def unmatched_claims(
    claims: Iterable[DownloadedClaim], known: Callable[[str, str], bool]
) -> list[Unmatched]:
    return [
        Unmatched(
            DownloadKind.CLAIM,
            claim.carrier_key,
            claim.claim_no,
            f"{claim.claim_no} {claim.policy_no} {claim.plate or ''}".strip(),
            "赔案对应的保单在我方不存在",
            to_data(claim),
        )
        for claim in claims
        if not known(claim.carrier_key, claim.policy_no)
    ]


# --- against the database ------------------------------------------------------------------------


def _policy_finder(session: Session, tenant_id: int):
    from app.policies.models import Policy

    def find(carrier_key: str, policy_no: str):
        return session.scalar(
            select(Policy).where(
                Policy.tenant_id == tenant_id,
                Policy.carrier_key == carrier_key,
                Policy.policy_no == policy_no,
            )
        )

    return find


def _confirmer(session: Session):
    from app.policies.services import confirm

    def confirm_policy(policy, when: datetime.datetime):
        return confirm(session, policy, when)

    return confirm_policy


def queue(session: Session, tenant_id: int, node_id: int, items: Iterable[Unmatched]) -> int:
    """Add the unmatched rows not queued before; returns how many were added."""
    added = 0
    for item in items:
        exists = session.scalar(
            select(CarrierDownloadItem.id).where(
                CarrierDownloadItem.tenant_id == tenant_id,
                CarrierDownloadItem.carrier_key == item.carrier_key,
                CarrierDownloadItem.kind == item.kind,
                CarrierDownloadItem.reference == item.reference,
            )
        )
        if exists is not None:
            continue
        session.add(
            CarrierDownloadItem(
                tenant_id=tenant_id,
                org_node_id=node_id,
                kind=item.kind,
                carrier_key=item.carrier_key,
                reference=item.reference[:128],
                summary=item.summary[:255],
                reason=item.reason[:255],
                payload=json.dumps(item.payload, ensure_ascii=False, sort_keys=True),
                status=DownloadStatus.UNMATCHED,
            )
        )
        added += 1
    session.flush()
    return added


def pull_carrier(
    session: Session,
    tenant_id: int,
    node_id: int,
    carrier: EnabledCarrier,
    since: datetime.date,
    until: datetime.date,
) -> PullSummary:
    """One carrier's downloads for the window (the statement of `until`'s month)."""
    summary = PullSummary(carrier.key)
    find = _policy_finder(session, tenant_id)

    def known(carrier_key: str, policy_no: str) -> bool:
        return find(carrier_key, policy_no) is not None

    client, timeout, unmatched = carrier.client, max(carrier.timeout, DOWNLOAD_TIMEOUT), []
    steps = (
        ("policy_download", "保单下载", lambda: client.download_policies(since, until, timeout)),
        (
            "statement_download",
            "对账单下载",
            lambda: client.download_statement(f"{until:%Y-%m}", timeout),
        ),
        ("claim_download", "赔案下载", lambda: client.download_claims(since, until, timeout)),
    )
    for capability, label, call in steps:
        if capability not in carrier.capabilities:
            continue
        try:
            rows = call()
        except CarrierError as error:
            summary.errors.append(f"{label}：{'；'.join(error.reasons)}")
            continue
        if capability == "policy_download":
            summary.policies = len(rows)
            confirmed, rest = match_policies(rows, find, _confirmer(session))
            summary.confirmed, unmatched = len(confirmed), unmatched + rest
        elif capability == "statement_download":
            summary.statement_lines = len(rows)
            unmatched += unmatched_statement(rows, known)
        else:
            summary.claims = len(rows)
            unmatched += unmatched_claims(rows, known)
    summary.queued = queue(session, tenant_id, node_id, unmatched)
    return summary


def _tenant_root(session: Session, tenant_id: int) -> int:
    from app.organisation.models import OrgNode

    return session.scalar(
        select(OrgNode.id).where(OrgNode.tenant_id == tenant_id, OrgNode.parent_id.is_(None))
    )


def pull_downloads(
    session: Session,
    tenant_id: int,
    days: int = DEFAULT_DAYS,
    on: datetime.date | None = None,
    node_id: int | None = None,
) -> list[PullSummary]:
    """Every enabled carrier of the tenant, the last `days` days up to `on` (default today).
    Queued rows belong to `node_id` (default: the tenant's head office)."""
    until = on or datetime.date.today()
    since = until - datetime.timedelta(days=days)
    node_id = node_id or _tenant_root(session, tenant_id)
    summaries = []
    for carrier in enabled_carriers(session, tenant_id, until):
        summaries.append(pull_carrier(session, tenant_id, node_id, carrier, since, until))
    return summaries


@task("carriers.pull_downloads")
def pull_downloads_task(tenant_id: int | None = None, days: int = DEFAULT_DAYS) -> list[dict]:
    """The job: the requester's tenant (or the one named, for the platform's own runs)."""
    from app.extensions import db

    scope = current_scope()
    restricted = scope is not None and not scope.unrestricted
    tenant = scope.tenant_id if restricted else tenant_id
    if tenant is None:
        raise ValueError("carriers.pull_downloads needs a tenant")
    started = utcnow()
    node = scope.node_id if restricted else None
    summaries = pull_downloads(db.session, tenant, int(days), node_id=node)
    log.info("carrier downloads for tenant %s in %s", tenant, utcnow() - started)
    return [s.as_dict() for s in summaries]
