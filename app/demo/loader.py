"""Builds the demo tenant. Idempotent: running it again adds what is missing and resets the demo
passwords, so the printed logins always work."""

from __future__ import annotations

import datetime
import decimal
import random
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.customers.models import Customer, FuelType, Vehicle
from app.identifiers import resident_id_check_char, uscc_check_char, vin_check_char
from app.organisation.commands import create_tenant, ensure_headquarters
from app.organisation.models import Brand, City, NodeKind, OrgNode, Tenant, TenantKind
from app.organisation.reference import load_reference_data
from app.security import roles as r

DEMO_TENANT = ("DEMO", "华东汽车集团", TenantKind.DEALER_GROUP)
OTHER_TENANT = ("AXBD", "安信保险代理", TenantKind.INTERMEDIARY)

# region code, name, [(area code, area name, [(store code, name, brand code, city code)])]
DEMO_TREE = [
    (
        "R-EAST",
        "华东大区",
        [
            (
                "A-SH",
                "上海片区",
                [
                    ("S3101", "上海浦东大众4S店", "SVW", "310100"),
                    ("S3102", "上海闵行丰田4S店", "FTMS", "310100"),
                ],
            ),
            (
                "A-JS",
                "江苏片区",
                [
                    ("S3201", "南京江宁本田4S店", "GHAC", "320100"),
                    ("S3205", "苏州园区宝马4S店", "BBA", "320500"),
                ],
            ),
        ],
    ),
    (
        "R-SOUTH",
        "华南大区",
        [
            (
                "A-GD",
                "广东片区",
                [
                    ("S4401", "广州天河比亚迪4S店", "BYD", "440100"),
                    ("S4403", "深圳南山奥迪4S店", "AUDI", "440300"),
                ],
            ),
            (
                "A-FJ",
                "福建片区",
                [
                    ("S3501", "福州仓山日产4S店", "DFN", "350100"),
                    ("S3502", "厦门思明别克4S店", "SGM-BUICK", "350200"),
                ],
            ),
        ],
    ),
]
OTHER_STORE = ("AX01", "安信杭州营业部", "GEELY", "330100")

PLATE_PREFIX = {"上海": "沪A", "江苏": "苏", "广东": "粤", "福建": "闽", "浙江": "浙A"}
CITY_LETTER = {"南京": "A", "苏州": "E", "广州": "A", "深圳": "B", "福州": "A", "厦门": "D"}
AREA_CODES = {
    "上海": "310115",
    "江苏": "320115",
    "广东": "440106",
    "福建": "350104",
    "浙江": "330106",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
WMI = {"SVW": "LSV", "FTMS": "LFM", "GHAC": "LHG", "BBA": "LBV", "BYD": "LGX", "AUDI": "LFV"}


@dataclass
class DemoLogin:
    username: str
    role: str
    node: str


def load_demo(session: Session, appbuilder, customers_per_store: int = 5) -> list[DemoLogin]:
    load_reference_data(session)
    brands = {b.code: b for b in session.scalars(select(Brand))}
    cities = {c.code: c for c in session.scalars(select(City))}
    demo = _tenant(session, *DEMO_TENANT)
    hq = ensure_headquarters(session, demo)
    stores: list[OrgNode] = []
    regions, areas = [], []
    for region_code, region_name, area_rows in DEMO_TREE:
        region = _node(session, demo, hq, NodeKind.REGION, region_code, region_name)
        regions.append(region)
        for area_code, area_name, store_rows in area_rows:
            area = _node(session, demo, region, NodeKind.AREA, area_code, area_name)
            areas.append(area)
            for code, name, brand, city in store_rows:
                stores.append(
                    _node(
                        session, demo, area, NodeKind.STORE, code, name, brands[brand], cities[city]
                    )
                )
    other = _tenant(session, *OTHER_TENANT)
    other_hq = ensure_headquarters(session, other)
    code, name, brand, city = OTHER_STORE
    other_store = _node(
        session, other, other_hq, NodeKind.STORE, code, name, brands[brand], cities[city]
    )
    rng = random.Random(20261125)
    for store in [*stores, other_store]:
        _customers(session, store, rng, customers_per_store)
    session.flush()
    _demo_camera(session, stores[0])
    _policy_book(session, stores)
    logins = _users(appbuilder, hq, regions[0], stores[0], other_store)
    _people(session, demo, stores)
    return logins


def _people(session: Session, tenant: Tenant, stores: list[OrgNode]) -> None:
    """The HR pack and the demo people (app/demo/people.py), once the logins exist."""
    import click

    from app.demo.people import load_people

    session.flush()
    for line in load_people(session, tenant, stores):
        click.echo(line)


def _policy_book(session: Session, stores: list[OrgNode]) -> None:
    """About 13 months of policies, priced by the packs' tariff (installed first when missing)."""
    import click

    from app.cli import install_demo_packs
    from app.policies.demo import load_policy_book

    for line in install_demo_packs():
        click.echo(line)
    made = load_policy_book(session, stores)
    if made:
        click.echo(f"Demo policy book: {made} policies")


def _tenant(session: Session, code: str, name: str, kind: TenantKind) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.code == code))
    return tenant or create_tenant(session, code, name, kind)


def _node(session, tenant, parent, kind, code, name, brand=None, city=None) -> OrgNode:
    node = session.scalar(
        select(OrgNode).where(OrgNode.tenant_id == tenant.id, OrgNode.code == code)
    )
    if node is None:
        node = OrgNode(
            tenant_id=tenant.id,
            parent=parent,
            kind=kind,
            code=code,
            name=name,
            brand=brand,
            city=city,
        )
        session.add(node)
        session.flush()
    return node


def make_resident_id(rng: random.Random, area: str, birth: datetime.date, male: bool) -> str:
    sequence = rng.randrange(0, 50) * 2 + (1 if male else 0)
    first17 = f"{area}{birth:%Y%m%d}{rng.randrange(10, 99)}{sequence % 10}"
    return first17 + resident_id_check_char(first17)


def make_vin(rng: random.Random, wmi: str, year_code: str) -> str:
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    body = wmi + "".join(rng.choice(alphabet) for _ in range(5))
    tail = year_code + rng.choice("ABC") + "".join(rng.choice(string.digits) for _ in range(6))
    draft = body + "0" + tail
    return body + vin_check_char(draft) + tail


def make_plate(rng: random.Random, province: str, city: str, electric: bool) -> str:
    prefix = PLATE_PREFIX[province]
    if len(prefix) == 1:
        prefix += CITY_LETTER.get(city, "A")
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    if electric:
        return (
            prefix
            + rng.choice("DF")
            + rng.choice(letters + string.digits)
            + f"{rng.randrange(10000):04d}"
        )
    return prefix + rng.choice(letters) + f"{rng.randrange(10000):04d}"


def make_uscc(rng: random.Random, area: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91" + area + "".join(rng.choice(alphabet) for _ in range(9))
    return first17 + uscc_check_char(first17)


def _customers(session: Session, store: OrgNode, rng: random.Random, count: int) -> None:
    existing = session.scalar(select(Customer.id).where(Customer.org_node_id == store.id).limit(1))
    if existing is not None:
        return
    province, city = store.city.province, store.city.name
    area = AREA_CODES[province]
    wmi = WMI.get(store.brand.code, "LVS")
    for i in range(count):
        company = i == count - 1
        birth = datetime.date(rng.randrange(1960, 2000), rng.randrange(1, 13), rng.randrange(1, 28))
        male = rng.random() < 0.6
        name = (
            rng.choice(SURNAMES)
            + rng.choice(GIVEN)
            + ("" if rng.random() < 0.4 else rng.choice(GIVEN))
        )
        customer = Customer(
            tenant_id=store.tenant_id,
            org_node_id=store.id,
            name=f"{city}{name}贸易有限公司" if company else name,
            kind="company" if company else "person",
            id_number=None if company else make_resident_id(rng, area, birth, male),
            credit_code=make_uscc(rng, area) if company else None,
            mobile=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            address=f"{province}{city}示范路{rng.randrange(1, 999)}号",
            birthday=None if company else birth,
        )
        electric = store.brand.code == "BYD"
        register = datetime.date(
            rng.randrange(2016, 2026), rng.randrange(1, 13), rng.randrange(1, 28)
        )
        vehicle = Vehicle(
            tenant_id=store.tenant_id,
            org_node_id=store.id,
            customer=customer,
            plate=make_plate(rng, province, city, electric),
            vin=make_vin(
                rng, wmi, "RSTVWXY"[min(register.year - 2019, 6)] if register.year >= 2019 else "K"
            ),
            brand=store.brand,
            model_name=rng.choice(["紧凑型轿车", "中型SUV", "MPV", "中大型轿车"]),
            register_date=register,
            seats=rng.choice([5, 5, 5, 7]),
            displacement=None
            if electric
            else decimal.Decimal(rng.choice(["1.40", "1.50", "2.00", "2.50"])),
            fuel=FuelType.ELECTRIC if electric else FuelType.PETROL,
            purchase_price=decimal.Decimal(rng.randrange(90_000, 450_000)).quantize(
                decimal.Decimal("0.01")
            ),
        )
        session.add_all([customer, vehicle])


def _demo_camera(session: Session, store: OrgNode) -> None:
    """A gate camera at the first demo store, so the camera agent can be pointed at the app. Its
    token is printed once, when it is created (`flask cameras new-token KEY` issues another)."""
    import click

    from app.cameras.models import Camera
    from app.cameras.services import register_camera

    _gate_sample_car(session, store)
    if session.scalar(select(Camera).where(Camera.org_node_id == store.id)) is not None:
        return
    camera, token = register_camera(session, store, "GATE-1", "大门摄像头")
    click.echo(f"Demo camera GATE-1 at {store.name}: key_id {camera.key_id}  token {token}")


# The car in the sample gate picture samples/gate/plate_hu_AK5218.jpg (docs/cameras.md: trying
# the camera without a gate box): pointing the agent at it raises the 进店提醒 at the first store.
SAMPLE_PLATE = "沪AK5218"


def _gate_sample_car(session: Session, store: OrgNode) -> None:
    """The customer and car of the sample gate picture, at the camera's store (once)."""
    exists = session.scalar(
        select(Vehicle.id).where(
            Vehicle.tenant_id == store.tenant_id, Vehicle.plate == SAMPLE_PLATE
        )
    )
    if exists is not None:
        return
    rng = random.Random(5218)
    customer = Customer(
        tenant_id=store.tenant_id,
        org_node_id=store.id,
        name="门岗演示客户",
        kind="person",
        mobile="13900005218",
        address="上海市浦东新区示范路5218号",
    )
    vehicle = Vehicle(
        tenant_id=store.tenant_id,
        org_node_id=store.id,
        customer=customer,
        plate=SAMPLE_PLATE,
        vin=make_vin(rng, "LSV", "T"),
        brand=store.brand,
        model_name="中型SUV",
        register_date=datetime.date(2023, 5, 18),
        seats=5,
        displacement=decimal.Decimal("2.00"),
        fuel=FuelType.PETROL,
        purchase_price=decimal.Decimal("229800.00"),
    )
    session.add_all([customer, vehicle])
    session.flush()


def demo_password() -> str:
    """A fresh password meeting the policy (made once, at the first load)."""
    alphabet = string.ascii_letters + string.digits
    return "Dc-" + "".join(secrets.choice(alphabet) for _ in range(10)) + "7a"


def stored_demo_password(given: str | None = None) -> tuple[str, Path]:
    """The demo users' password and the file that keeps it (STORAGE_PATH/demo_password, readable
    by its owner only): `given` replaces it; otherwise the stored one, made at the first load.
    A second load prints the same password instead of silently rotating it."""
    from flask import current_app

    path = Path(current_app.config["STORAGE_PATH"]) / "demo_password"
    if given is None and path.is_file():
        kept = path.read_text(encoding="utf-8").strip()
        if kept:
            return kept, path
    password = given or demo_password()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(password + "\n", encoding="utf-8")
    return password, path


def _users(appbuilder, hq, region, store, other_store) -> list[DemoLogin]:
    placement = {
        r.PLATFORM_ADMIN: None,
        r.TENANT_ADMIN: hq,
        r.REGION_MANAGER: region,
        r.STORE_MANAGER: store,
        r.INSURANCE_DESK: store,
        r.RENEWAL_SPECIALIST: store,
        r.SERVICE_ADVISOR: store,
        r.FINANCE: hq,
        r.HR: hq,
        r.IMPLEMENTER: hq,
    }
    logins = []
    for role_name, node in placement.items():
        username = "admin" if role_name == r.PLATFORM_ADMIN else role_name.replace("_", ".")
        ensure_user(appbuilder, username, role_name, node)
        logins.append(DemoLogin(username, role_name, node.name if node else "平台"))
    ensure_user(appbuilder, "other.desk", r.INSURANCE_DESK, other_store)
    logins.append(DemoLogin("other.desk", r.INSURANCE_DESK, other_store.name))
    return logins


def _chinese(label) -> str:
    with force_locale("zh"):
        return str(label)


# The demo people's names: username → (family name 姓, given name 名).
DEMO_NAMES = {
    "admin": ("周", "建国"),
    "tenant.admin": ("王", "芳"),
    "region.manager": ("李", "强"),
    "store.manager": ("张", "伟"),
    "insurance.desk": ("刘", "洋"),
    "renewal.specialist": ("陈", "静"),
    "service.advisor": ("杨", "磊"),
    "finance": ("赵", "敏"),
    "hr": ("黄", "丽"),
    "implementer": ("吴", "昊"),
    "other.desk": ("孙", "悦"),
}


def ensure_user(appbuilder, username: str, role_name: str, node: OrgNode | None):
    sm = appbuilder.sm
    role = sm.find_role(role_name)
    user = sm.find_user(username=username)
    family, given = DEMO_NAMES.get(username, (_chinese(r.ROLE_LABELS[role_name]), username))
    if user is not None and user.first_name == username.split(".")[0]:
        user.first_name, user.last_name = given, family  # named by an older loader
    if user is None:
        user = sm.user_model(
            username=username,
            first_name=given,
            last_name=family,
            email=f"{username}@demo.dealercover.local",
            active=True,
            roles=[role],
            tenant_id=node.tenant_id if node else None,
            org_node_id=node.id if node else None,
        )
        sm.session.add(user)
    return user
