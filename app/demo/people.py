"""The demo tenant's people: the HR pack installed like any other pack, an employee record for each
demo login (the desk's licence valid, so the demo can issue) and a few more per store, licences
expiring within 30 days and one expired, a month's pay, a training course with scores, customers
assigned to the renewal specialist (to try the hand-over) and the day's licence reminders.

Idempotent: nothing is added once the tenant has employee records."""

from __future__ import annotations

import datetime
import random
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers.models import Customer
from app.organisation.models import OrgNode, Tenant

PACKS = Path(__file__).resolve().parents[2] / "metadata" / "packs"
ENTITY = "staff"
# login → (name, position, rank, licence valid for this many days (None: no licence), superior)
LOGINS = {
    "store.manager": ("王建国", "店长", "r4", 420, None),
    "insurance.desk": ("李娜", "保险专员", "r2", 300, "store.manager"),
    "renewal.specialist": ("陈杰", "续保专员", "r2", 20, "store.manager"),
    "service.advisor": ("赵敏", "服务顾问", "r1", -10, "store.manager"),
}
# per other store: (position, licence valid for this many days); names from NAMES in turn
OTHERS = [("保险专员", 200), ("续保专员", 12), ("内勤", None)]
NAMES = (
    "周强 吴芳 郑伟 孙丽 钱勇 冯静 褚明 卫华 蒋涛 沈洁 韩磊 "
    "杨帆 朱琳 秦朗 许晴 何斌 吕婷 施展 张颖 孔亮 曹雪"
)


def load_people(session: Session, tenant: Tenant, stores: list[OrgNode]) -> list[str]:
    """Install the HR pack for `tenant` and add its demo people; what was done, for the CLI."""
    from app.configuration.install import find_installed_pack, install_pack
    from app.configuration.reading import PackError, read_pack
    from app.configuration.runtime import REGISTRY

    done = []
    if find_installed_pack(session, "hr", tenant.id) is None:
        try:
            plan = install_pack(session, read_pack(PACKS / "hr"), tenant.id, "cli:demo")
        except PackError as refused:  # the rest of the demo stands without its people
            return [f"pack hr not installed:\n{refused}"]
        done.append(f"installed pack hr {plan.version} ({len(plan.documents)} documents)")
    REGISTRY.refresh(session, force=True)
    runtime = REGISTRY.get(session, ENTITY, tenant.id)
    if runtime is None:
        return done
    exists = session.scalar(
        select(runtime.model.id).where(runtime.model.tenant_id == tenant.id).limit(1)
    )
    if exists is not None:
        return done
    made = _employees(session, runtime, tenant, stores)
    _training(session, tenant, stores[0], made)
    _assign_customers(session, stores[0], made)
    from app.notices.reminders import raise_reminders

    raised = raise_reminders(session, tenant.id, datetime.date.today())
    done.append(f"demo employees: {len(made)}; licence reminders: {sum(raised.values())}")
    return done


def _employees(session: Session, runtime, tenant: Tenant, stores: list[OrgNode]) -> dict:
    from app.configuration import records
    from app.demo.loader import AREA_CODES, make_resident_id
    from app.security.models import DealerUser

    rng = random.Random(20261202)
    today = datetime.date.today()
    logins = session.scalars(select(DealerUser).where(DealerUser.tenant_id == tenant.id)).all()
    users = {u.username: u.id for u in logins}
    # the employee of a login is called as the login is (the loader names its users)
    full_names = {u.username: f"{u.last_name or ''}{u.first_name or ''}" for u in logins}
    made: dict[str, object] = {}
    number = 0

    def add(store, name, position, rank, valid_days, user=None, superior=None):
        nonlocal number
        number += 1
        birth = datetime.date(rng.randrange(1975, 2001), rng.randrange(1, 13), rng.randrange(1, 28))
        area = AREA_CODES.get(store.city.province if store.city else "上海", "310115")
        data = {
            "employee_no": f"LH{number:04d}",
            "name": name,
            "department": "保险部" if "保险" in position or "续保" in position else "销售部",
            "position": position,
            "rank": rank,
            "join_date": (today - datetime.timedelta(days=rng.randrange(200, 2000))).isoformat(),
            "id_number": make_resident_id(rng, area, birth, rng.random() < 0.5),
            "mobile": f"13{rng.randrange(10**9):09d}",
            "education": rng.choice(["college", "bachelor", "bachelor", "master"]),
            "bank_name": "中国工商银行",
            "bank_card": _luhn(f"62220210{rng.randrange(10**10):010d}"),
            "org_node_id": store.id,
            "user": user if user in users else None,
            "superior": made[superior].id if superior in made else None,
        }
        if valid_days is not None:
            expiry = today + datetime.timedelta(days=valid_days)
            data.update(
                licence_no=f"0200013100008000{rng.randrange(10**10):010d}",
                licence_type="ancillary",
                licence_issue_date=(expiry - datetime.timedelta(days=3 * 365)).isoformat(),
                licence_expiry=expiry.isoformat(),
                registry_status="registered",
            )
        if position == "保险专员" and user:
            month = (today.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")
            data["pay_lines"] = [
                {"month": month, "item": "base", "amount": "6000.00"},
                {"month": month, "item": "commission", "amount": "2350.50"},
                {"month": month, "item": "deduction", "amount": "680.00", "note": "社保个人部分"},
            ]
        record = records.create_record(session, runtime, data, "cli:demo", commit=False)
        made[user or f"{store.code}-{name}"] = record
        return record

    for login, (name, position, rank, valid, superior) in LOGINS.items():
        if login in users:
            full = full_names[login]
            name = full if full and all("\u4e00" <= c <= "\u9fff" for c in full) else name
            add(stores[0], name, position, rank, valid, user=login, superior=superior)
    names = iter(NAMES.split())
    for store in stores[1:]:
        for position, valid in OTHERS:
            add(store, next(names), position, "r2", valid)
    session.flush()
    return made


def _training(session: Session, tenant: Tenant, store: OrgNode, made: dict) -> None:
    from app.configuration import records
    from app.configuration.runtime import REGISTRY

    runtime = REGISTRY.get(session, "training_course", tenant.id)
    if runtime is None:
        return
    start = datetime.date.today() - datetime.timedelta(days=45)
    attendees = [
        {
            "employee": record.id,
            "employee_name": record.name,
            "practitioner_no": record.licence_no or "",
            "signed_in": True,
            "completed": True,
            "score": str(80 + index * 3),
        }
        for index, record in enumerate(list(made.values())[:4])
    ]
    records.create_record(
        session,
        runtime,
        {
            "course_type": "compliance",
            "name": "关于保险中介机构信息化工作监管办法的培训",
            "start_date": start.isoformat(),
            "end_date": (start + datetime.timedelta(days=2)).isoformat(),
            "hours": "12",
            "has_exam": True,
            "remarks": "解读监管办法对中介机构信息化的要求，加强业务人员理解。",
            "attendees": attendees,
            "org_node_id": store.id,
        },
        "cli:demo",
        commit=False,
    )


def _assign_customers(session: Session, store: OrgNode, made: dict) -> None:
    """The store's customers are looked after by the renewal specialist, to try the hand-over."""
    from app.security.models import DealerUser

    owner = session.scalar(select(DealerUser).where(DealerUser.username == "renewal.specialist"))
    if owner is None or "renewal.specialist" not in made:
        return
    for customer in session.scalars(select(Customer).where(Customer.org_node_id == store.id)):
        customer.owner_id = owner.id
    # and sold the store's open policies of the last quarter, so they have policies to hand over
    from app.policies.models import Policy
    from app.policies.services import OPEN_STATUSES

    since = datetime.date.today() - datetime.timedelta(days=90)
    for policy in session.scalars(
        select(Policy).where(
            Policy.org_node_id == store.id,
            Policy.status.in_(OPEN_STATUSES),
            Policy.start_date >= since,
        )
    ):
        policy.salesperson_id, policy.salesperson_name = owner.id, owner.username


def _luhn(body: str) -> str:
    """`body` with its Luhn check digit appended."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return body + str((10 - total % 10) % 10)
