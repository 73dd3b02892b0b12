"""Hand over everything assigned to a user to a successor, in one transaction; and leaving,
which stops the login at once and hands over.

Who may: the caller must see the leaver (the ORM guard scopes users by org node) and every record
assigned to them — a store manager cannot hand over a colleague whose customers sit in a sibling
store, and is told so rather than moving half of them. The successor must be an active user of
the same tenant whom the caller sees. Every moved row is audited by the ORM recorder (before and
after), and one `handover` event plus a HandoverRecord say what moved where.

Services flush; the caller (API, screen, transition hook) commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.recorder import record_event
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.handover.models import HandoverReason, HandoverRecord
from app.handover.registry import Assignment, assignments
from app.security.models import DealerUser
from app.tenancy.scope import current_scope, system_scope, use_scope

HANDOVER_EVENT = "handover"
MAX_NOTE = 255


@dataclass
class Holdings:
    """What is assigned to one user: assignment key → number of rows."""

    user: DealerUser
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def describe(self, lang: str = "zh") -> str:
        labels = {a.key: a.label for a in assignments()}
        parts = [
            (f"{labels[key][1]} {n} 条" if lang == "zh" else f"{n} {labels[key][0]}")
            for key, n in self.counts.items()
            if n
        ]
        return ("、" if lang == "zh" else ", ").join(parts)


def display_name(user: DealerUser) -> str:
    full = f"{user.last_name or ''}{user.first_name or ''}".strip()
    return f"{full}（{user.username}）" if full and full != user.username else user.username


def user_in_scope(session: Session, user_id: Any, field_name: str) -> DealerUser:
    """The user `user_id` if the caller sees them; else 404 naming the field."""
    try:
        number = int(user_id)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"{field_name}: not a user id", f"{field_name}：请选择用户", field=field_name
        ) from None
    user = session.get(DealerUser, number) if 0 < number < 2**31 else None
    if user is None:
        raise NotFound(
            f"{field_name}: no such user",
            f"{field_name}：用户不存在或不在您的权限范围内",
            field=field_name,
        )
    return user


def _count(session: Session, assignment: Assignment, user: DealerUser) -> int:
    model = assignment.model
    return session.scalar(
        select(func.count())
        .select_from(model)
        .where(assignment.condition(user.id), model.tenant_id == user.tenant_id)
    )


def holdings(session: Session, user: DealerUser, *, everywhere: bool = True) -> Holdings:
    """What is assigned to `user` in their tenant: all of it (`everywhere`, read past the
    caller's org scope but never past the tenant), or only what the caller sees."""
    found = Holdings(user)
    if everywhere:
        with use_scope(system_scope(_caller())):
            found.counts = {a.key: _count(session, a, user) for a in assignments()}
    else:
        found.counts = {a.key: _count(session, a, user) for a in assignments()}
    return found


def hand_over(
    session: Session,
    leaver_id: Any,
    successor_id: Any = None,
    *,
    reason: str = HandoverReason.REASSIGNMENT,
    stop_login: bool = False,
    note: str | None = None,
) -> HandoverRecord:
    """Move every record assigned to the leaver to the successor; with `stop_login`, also stop
    the leaver's login at once (inactive, and every session and API token ended).

    Refused, naming the field, when the leaver still holds records and no successor is named;
    when the successor is the leaver, inactive or of another tenant; when the caller does not
    see every record to be moved."""
    leaver = user_in_scope(session, leaver_id, "leaver_id")
    scope = current_scope()
    if scope is not None and scope.user_id == leaver.id:
        raise ValidationFailed(
            "leaver_id: nobody hands over their own records; ask HR or your manager",
            "不能办理本人的交接，请由人事或上级办理",
            field="leaver_id",
        )
    if leaver.tenant_id is None:
        raise ValidationFailed(
            "leaver_id: a platform user holds no records",
            "leaver_id：平台用户没有可交接的业务",
            field="leaver_id",
        )
    successor = _successor(session, leaver, successor_id)
    if reason not in (HandoverReason.LEAVING, HandoverReason.REASSIGNMENT):
        raise ValidationFailed(f"reason: {reason!r}", "reason：交接原因不正确", field="reason")
    if note is not None and len(note) > MAX_NOTE:
        raise ValidationFailed(
            f"note: at most {MAX_NOTE} characters", f"备注最多 {MAX_NOTE} 个字", field="note"
        )
    held = holdings(session, leaver)
    # Refused whole before anything is said about what the leaver holds outside the caller's view.
    seen = holdings(session, leaver, everywhere=False)
    if seen.counts != held.counts:
        raise Forbidden(
            f"some records of {leaver.username} are outside your scope; ask an administrator "
            "of a higher level to hand them over",
            f"{display_name(leaver)} 名下有不在您权限范围内的业务，请由上级管理员办理交接",
            code="outside_scope",
        )
    if held.total and successor is None:
        raise ValidationFailed(
            f"successor_id: {leaver.username} still holds {held.describe('en')}; "
            "name a successor to hand them over to",
            f"交接人：{display_name(leaver)} 名下还有{held.describe('zh')}，请指定交接人",
            field="successor_id",
            code="successor_required",
        )
    moved: dict[str, int] = {}
    for assignment in assignments():
        moved[assignment.key] = _move(session, assignment, leaver, successor)
    if stop_login:
        stop(session, leaver)
    record = HandoverRecord(
        tenant_id=leaver.tenant_id,
        org_node_id=leaver.org_node_id,
        leaver_id=leaver.id,
        leaver_name=display_name(leaver),
        successor_id=successor.id if successor else None,
        successor_name=display_name(successor) if successor else None,
        reason=reason,
        login_stopped=stop_login,
        counts=moved,
        note=(note or "").strip() or None,
        created_by=_caller(),
    )
    session.add(record)
    session.flush()
    record_event(
        session,
        HANDOVER_EVENT,
        tenant_id=leaver.tenant_id,
        org_node_id=leaver.org_node_id,
        entity="handover_record",
        detail={
            "leaver": leaver.username,
            "successor": successor.username if successor else None,
            "reason": reason,
            "login_stopped": stop_login,
            "moved": moved,
            "handover_record": record.id,
        },
    )
    return record


def stop(session: Session, user: DealerUser) -> None:
    """Stop a login at once: no new login (inactive) and every session cookie and API token of
    the user refused from the next request (the session epoch moves, app/security/manager.py).

    Stopping takes rights away and gives none, so it is written as the platform's own work: the
    grant guard (app/security/grants.py) would otherwise refuse HR, who may not *give* a desk's
    role, to touch a desk's account at all. The caller has been shown to see the user, and only
    these two columns change in this flush (everything else was flushed before, in the caller's
    scope); the audit trail still names the caller."""
    session.flush()
    user.active = False
    user.session_epoch = (user.session_epoch or 0) + 1
    with use_scope(system_scope(_caller())):
        session.flush()


def _successor(session: Session, leaver: DealerUser, successor_id: Any) -> DealerUser | None:
    if successor_id in (None, ""):
        return None
    successor = user_in_scope(session, successor_id, "successor_id")
    if successor.id == leaver.id:
        raise ValidationFailed(
            "successor_id: cannot be the leaver", "交接人不能是离职人本人", field="successor_id"
        )
    if successor.tenant_id != leaver.tenant_id:
        raise NotFound(
            "successor_id: no such user", "交接人不存在或不在您的权限范围内", field="successor_id"
        )
    if not successor.active:
        raise Conflict(
            f"successor_id: {successor.username} is not active",
            f"交接人 {display_name(successor)} 的账号已停用",
            field="successor_id",
        )
    return successor


def _move(
    session: Session, assignment: Assignment, leaver: DealerUser, successor: DealerUser | None
) -> int:
    if successor is None:
        return 0
    model = assignment.model
    rows = session.scalars(
        select(model).where(assignment.condition(leaver.id), model.tenant_id == leaver.tenant_id)
    ).all()
    for row in rows:
        setattr(row, assignment.column, successor.id)
        if assignment.name_column:
            setattr(row, assignment.name_column, successor.username)
    session.flush()
    return len(rows)


def _caller() -> str:
    scope = current_scope()
    return scope.username if scope and scope.username else "system"
