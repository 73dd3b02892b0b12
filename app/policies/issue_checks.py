"""Checks before a policy is issued, declared in metadata: the `issue_check` document kind.

An issue check names the person the policy names (its salesperson), the entity holding people's
records and the field there naming their login, and a decision table or rule set that judges the
record: a non-empty `problem` output fails the check, which then blocks the issue (409 naming
`salesperson_id`) or, in `warn` mode, lets it through with a warning that is audited. A tenant
chooses block or warn by publishing its own version of the document.

Nothing here knows what a licence is. The HR pack brings the employee entity, the rule
(`salesperson_licence`: licence missing, expired or not registered) and the check; without the
pack there is no check. Capabilities may also register checks in Python (`register_issue_check`).

The desk calls `review_issue` when an order is bound and again just before the carriers are asked
to issue (app/orders/services.py), so a licence that expired in between still stops it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.recorder import record_event
from app.configuration.kinds import CheckContext, KindSpec, register_kind
from app.errors import Conflict
from app.tenancy.scope import current_scope, system_scope, use_scope

KIND = "issue_check"
BLOCK, WARN = "block", "warn"
WARNING_EVENT = "issue_check_warning"
RULE_KINDS = ("decision_table", "rule_set")


@dataclass(frozen=True)
class IssueSubject:
    """What a check looks at: the tenant, the salesperson's login and the day of issue."""

    tenant_id: int
    org_node_id: int | None
    salesperson_id: int | None
    salesperson_name: str | None
    on: datetime.date
    reference: str = ""  # the order number, for the audit trail


@dataclass(frozen=True)
class IssueFinding:
    check: str
    problem: str
    message: str  # Chinese, for the desk
    mode: str
    field: str = "salesperson_id"

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "problem": self.problem, "message": self.message}


IssueCheck = Callable[[Session, IssueSubject], list[IssueFinding]]
_CHECKS: list[IssueCheck] = []


def register_issue_check(check: IssueCheck) -> IssueCheck:
    if check not in _CHECKS:
        _CHECKS.append(check)
    return check


def review_issue(session: Session, subject: IssueSubject) -> list[IssueFinding]:
    """Run every check. A blocking failure raises Conflict naming the field (nothing is issued);
    warnings are audited and returned."""
    findings = [*document_checks(session, subject)]
    for check in _CHECKS:
        findings.extend(check(session, subject))
    blocking = [f for f in findings if f.mode == BLOCK]
    if blocking:
        raise Conflict(
            "salesperson_id: " + "; ".join(f"{f.check}: {f.problem}" for f in blocking),
            "；".join(f.message for f in blocking),
            field=blocking[0].field,
            code="issue_check",
        )
    if findings:
        record_event(
            session,
            WARNING_EVENT,
            tenant_id=subject.tenant_id,
            org_node_id=subject.org_node_id,
            entity="sales_order",
            detail={
                "reference": subject.reference,
                "salesperson": subject.salesperson_name,
                "warnings": [f.as_dict() for f in findings],
            },
        )
    return findings


def document_checks(session: Session, subject: IssueSubject) -> list[IssueFinding]:
    """The tenant's `issue_check` documents in force on the day, each judged by its rule."""
    from app.configuration.lookup import documents_in_force, rules_library_in_force

    # Read tenant-wide: a desk at a store must be judged on its record even when HR keeps it at
    # the head office. Every query below filters by the subject's tenant. No autoflush: the
    # caller's pending rows (a new order) are written later, checked in the caller's own scope.
    with use_scope(system_scope(_caller())), session.no_autoflush:
        versions = documents_in_force(session, KIND, subject.tenant_id, subject.on)
        if not versions:
            return []
        library = rules_library_in_force(session, subject.tenant_id, subject.on)
        findings = []
        for version in versions:
            finding = _judge(session, version.document.key, version.body, library, subject)
            if finding is not None:
                findings.append(finding)
    return findings


def _judge(session, key: str, body: Mapping, library, subject: IssueSubject):
    record = _record_of(session, body, subject)
    facts = {"issue_date": subject.on, "record_found": record is not None}
    inputs: dict[str, Any] = {}
    for name, source in body["inputs"].items():
        if "fact" in source:
            inputs[name] = facts[source["fact"]]
            continue
        value = getattr(record, source["field"], None) if record is not None else None
        inputs[name] = source.get("default") if value in (None, "") else value
    result = library.get(body["rule"]).evaluate(inputs) or {}
    problem = result.get(body.get("problem_output", "problem"))
    if not problem:
        return None
    message = result.get(body.get("message_output", "message")) or str(problem)
    who = subject.salesperson_name or str(subject.salesperson_id or "")
    text = f"{who}：{message}" if who else str(message)
    return IssueFinding(key, str(problem), text, body["mode"])


def _record_of(session: Session, body: Mapping, subject: IssueSubject):
    from app.configuration.runtime import REGISTRY

    if subject.salesperson_id is None:
        return None
    runtime = REGISTRY.get(session, body["entity"], subject.tenant_id)
    if runtime is None or runtime.definition.field(body["match_field"]) is None:
        return None
    model = runtime.model
    login = subject.salesperson_id
    if body.get("match_by") == "username":  # the field holds the login's user name
        login = _username(session, subject)
        if login is None:
            return None
    query = select(model).where(
        model.tenant_id == subject.tenant_id, getattr(model, body["match_field"]) == login
    )
    for name, value in (body.get("record_filter") or {}).items():
        if runtime.definition.field(name) is not None:
            query = query.where(getattr(model, name) == value)
    return session.scalars(query.order_by(model.id.desc()).limit(1)).first()


def _username(session: Session, subject: IssueSubject) -> str | None:
    from app.security.models import DealerUser

    user = session.get(DealerUser, subject.salesperson_id)
    return user.username if user is not None and user.tenant_id == subject.tenant_id else None


def _caller() -> str:
    scope = current_scope()
    return scope.username if scope and scope.username else "issue-check"


# --- the document kind ----------------------------------------------------------------------


def _validate(document, context: CheckContext):
    from app.configuration.reading import Problem

    body = document.data.get("body") or {}
    rule = body.get("rule")
    known = {d.key for d in context.documents if d.kind in RULE_KINDS} | {
        key for kind, key in context.current if kind in RULE_KINDS
    }
    problems = []
    if rule and rule not in known:
        problems.append(
            Problem(
                context.pack,
                document.file,
                f"rule {rule!r} is neither a decision table nor a rule set of this pack or "
                "already published",
                document.line_of("$.body.rule"),
                "$.body.rule",
            )
        )
    entities = {
        (d.data.get("body") or {}).get("name"): d.data.get("body") or {}
        for d in context.documents
        if d.kind == "entity"
    }
    entity = entities.get(body.get("entity"))
    if entity is not None:
        names = {f.get("name") for f in entity.get("fields", [])}
        wanted = [("$.body.match_field", body.get("match_field"))] + [
            (f"$.body.inputs.{name}.field", source.get("field"))
            for name, source in (body.get("inputs") or {}).items()
            if isinstance(source, dict) and source.get("field")
        ]
        for path, name in wanted:
            if name and name not in names:
                problems.append(
                    Problem(
                        context.pack,
                        document.file,
                        f"{name!r} is not a field of entity {body['entity']!r}",
                        document.line_of(path),
                        path,
                    )
                )
    return problems


register_kind(KindSpec(KIND, "issue_checks", validate=_validate, owner="app.policies"))


def review_order(session: Session, order) -> list[IssueFinding]:
    """`review_issue` for a desk order (its salesperson, today)."""
    return review_issue(
        session,
        IssueSubject(
            tenant_id=order.tenant_id,
            org_node_id=order.org_node_id,
            salesperson_id=order.salesperson_id,
            salesperson_name=order.salesperson_name,
            on=datetime.date.today(),
            reference=order.order_no or "",
        ),
    )
