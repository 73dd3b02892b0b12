"""The policy list: its columns from the `list_view/policy_list` document in force (the core
pack's file when no version is installed), a resolver for the dotted fields those columns name,
their formats, and the search behind the list screen, its export and the REST API.

A column's `field` is a path over the policy (`policy_no`, `vehicle.plate`, `org_node.region`).
A few paths are *virtual*: the levels above the store (大区, 品牌大区, 片区) come from the store's
materialised path, and `vehicle.plate` / `vehicle.is_new` read the policy's snapshots (the
plate printed on the policy, new or used when it was sold), not today's vehicle record.
"""

from __future__ import annotations

import datetime
import decimal
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.identifiers import half_width
from app.organisation.models import Brand, NodeKind, OrgNode
from app.policies.labels import (
    BusinessType,
    IssuingTerminal,
    PolicyLine,
    PolicySource,
    PolicyStatus,
    label,
)
from app.policies.models import Policy
from app.tenancy.scope import system_scope, use_scope

LIST_VIEW_KEY = "policy_list"
CORE_LIST_VIEW = (
    Path(__file__).resolve().parents[2] / "metadata/packs/core/list_views/policy_list.yaml"
)
LOCAL_ZONE = datetime.timezone(datetime.timedelta(hours=8))  # 北京时间; stored times are UTC
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class ListColumn:
    field: str
    label_zh: str
    label_en: str
    format: str = "text"
    shown: bool = True
    exported: bool = True
    locked: bool = False

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass
class ListLayout:
    columns: list[ListColumn]
    page_size: int
    sort: list[tuple[str, str]]
    title: str
    version: str  # "core file" or the document version used


# --- the layout ---------------------------------------------------------------------------------


def layout_from_body(body: Mapping[str, Any], version: str = "") -> ListLayout:
    columns = [
        ListColumn(
            field=c["field"],
            label_zh=_text(c["label"], "zh"),
            label_en=_text(c["label"], "en"),
            format=c.get("format", "text"),
            shown=c.get("shown", True),
            exported=c.get("exported", True),
            locked=c.get("locked", False),
        )
        for c in body["columns"]
    ]
    sort = [(s["field"], s.get("direction", "asc")) for s in body.get("sort", [])]
    return ListLayout(
        columns=columns,
        page_size=int(body.get("page_size", 20)),
        sort=sort,
        title=_text(body.get("title", "保单清单"), "zh"),
        version=version,
    )


def _text(value: Any, lang: str) -> str:
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("zh") or next(iter(value.values()), ""))
    return str(value)


@cache
def core_layout() -> ListLayout:
    """The core pack's default headers, read from the pack file (the platform default)."""
    from app.configuration.safe_input import load_yaml

    data, _ = load_yaml(CORE_LIST_VIEW.read_text(encoding="utf-8"))
    return layout_from_body(data["body"], f"core {data['version']}")


def policy_list_layout(session: Session, tenant_id: int | None, on: datetime.date) -> ListLayout:
    """The headers in force for the tenant: its own `policy_list` document, the platform's, or
    the core pack's file when none is installed."""
    from app.configuration.lookup import document_in_force

    version = document_in_force(session, "list_view", LIST_VIEW_KEY, tenant_id, on)
    if version is None:
        return core_layout()
    data = version.data
    return layout_from_body(data["body"], f"{data.get('key')} {data.get('version')}")


# --- resolving fields ---------------------------------------------------------------------------


@dataclass
class ResolveContext:
    """Look-ups shared by the rows of one page: the org nodes above the stores."""

    nodes: dict[int, _NodeFacts]

    @classmethod
    def for_policies(cls, session: Session, policies: Iterable[Policy]) -> ResolveContext:
        return cls(nodes=ancestor_nodes(session, {p.org_node for p in policies if p.org_node}))


def ancestor_nodes(session: Session, stores: Iterable[OrgNode]) -> dict[int, _NodeFacts]:
    """The nodes on the paths of `stores`. A store user's scope does not reach the region above
    the store, yet the list shows its name: the names of a visible node's own ancestors are read
    in the system scope, and nothing else is."""
    ids = {int(part) for store in stores for part in store.path.strip("/").split("/") if part}
    if not ids:
        return {}
    # Plain rows, not entities: an entity loaded here would stay in the session's identity map,
    # where a later `session.get` in the user's scope would find it without the guard.
    with use_scope(system_scope()):
        rows = session.execute(
            select(OrgNode.id, OrgNode.kind, OrgNode.code, OrgNode.name, Brand.name)
            .outerjoin(Brand, OrgNode.brand_id == Brand.id)
            .where(OrgNode.id.in_(ids))
        ).all()
    return {row[0]: _NodeFacts(*row) for row in rows}


@dataclass(frozen=True)
class _NodeFacts:
    id: int
    kind: NodeKind
    code: str
    name: str
    brand: str | None


def _ancestor(kind: NodeKind) -> Callable[[Policy, ResolveContext], Any]:
    def resolve(policy: Policy, context: ResolveContext) -> Any:
        node = policy.org_node
        if node is None:
            return None
        for part in node.path.strip("/").split("/"):
            facts = context.nodes.get(int(part)) if part else None
            if facts is not None and facts.kind == kind:
                return facts.name
        return None

    return resolve


def _store_brand(policy: Policy, context: ResolveContext) -> Any:
    node = policy.org_node
    return node.brand.name if node is not None and node.brand is not None else None


VIRTUAL_FIELDS: dict[str, Callable[[Policy, ResolveContext], Any]] = {
    "org_node.region": _ancestor(NodeKind.REGION),
    "org_node.brand_region": _ancestor(NodeKind.BRAND_REGION),
    "org_node.area": _ancestor(NodeKind.AREA),
    "org_node.store_code": lambda p, c: p.org_node.code if p.org_node else None,
    "org_node.store_name": lambda p, c: p.org_node.name if p.org_node else None,
    "org_node.brand": _store_brand,
    "org_node": lambda p, c: p.org_node.name if p.org_node else None,
    "carrier": lambda p, c: p.carrier,
    "vehicle.plate": lambda p, c: p.plate,
    "vehicle.vin": lambda p, c: p.vin,
    "vehicle.is_new": lambda p, c: p.vehicle_is_new,
    "line": lambda p, c: p.line,
}
ENUM_COLUMNS: dict[str, type[enum.Enum]] = {
    "source": PolicySource,
    "issuing_terminal": IssuingTerminal,
    "status": PolicyStatus,
    "business_type": BusinessType,
    "history_type": BusinessType,
    "line": PolicyLine,
}


def resolvable(path: str) -> bool:
    """True when `path` names a virtual field or a chain of the policy's columns, properties
    and relationships."""
    if path in VIRTUAL_FIELDS:
        return True
    from sqlalchemy import inspect as sa_inspect

    cls: Any = Policy
    parts = path.split(".")
    for index, part in enumerate(parts):
        mapper = sa_inspect(cls, raiseerr=False)
        if mapper is None:
            return False
        if part in mapper.relationships:
            cls = mapper.relationships[part].mapper.class_
            continue
        if part in mapper.column_attrs or isinstance(getattr(cls, part, None), property):
            return index == len(parts) - 1
        return False
    return True


def resolve(policy: Policy, path: str, context: ResolveContext) -> Any:
    """The raw value of `path` on `policy` (None where a link is missing)."""
    virtual = VIRTUAL_FIELDS.get(path)
    if virtual is not None:
        return virtual(policy, context)
    value: Any = policy
    for part in path.split("."):
        value = getattr(value, part, None) if value is not None else None
    return value


# --- formats ------------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧**娜; a company keeps its first two and last two characters."""
    text = name or ""
    if len(text) <= 1:
        return text
    if len(text) == 2:
        return text[0] + "*"
    if len(text) >= 8:
        return text[:2] + "*" * (len(text) - 4) + text[-2:]
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_identifier(value: str | None) -> str:
    """An ID number or a mobile, its middle hidden: 310115********1234, 138****8000."""
    text = value or ""
    if len(text) == 11:
        return text[:3] + "****" + text[-4:]
    if len(text) > 10:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    return "*" * len(text)


def local_time(value: datetime.datetime | None) -> datetime.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=datetime.UTC).astimezone(LOCAL_ZONE).replace(tzinfo=None)


def display(value: Any, fmt: str, lang: str = "zh", *, field: str = "", reveal: bool = False):
    """A value as the screen shows it (text)."""
    if value is None or value == "":
        return ""
    if fmt == "enum" or isinstance(value, enum.Enum):
        return label(value, lang, ENUM_COLUMNS.get(field))
    if fmt == "boolean" or isinstance(value, bool):
        yes, no = ("是", "否") if lang == "zh" else ("Yes", "No")
        return yes if value else no
    if fmt == "money":
        return f"{decimal.Decimal(value):,.2f}"
    if fmt == "datetime" and isinstance(value, datetime.datetime):
        return f"{local_time(value):%Y-%m-%d %H:%M}"
    if fmt == "date" and isinstance(value, datetime.date):
        return value.isoformat()
    if fmt == "masked" and not reveal:
        return mask_name(str(value))
    return str(value)


def export_value(value: Any, fmt: str, lang: str = "zh", *, field: str = "", reveal: bool = False):
    """A value as an export cell: money stays a number, the rest as on the screen."""
    if fmt == "money" and value is not None:
        return decimal.Decimal(value)
    if fmt in ("integer", "decimal") and value is not None:
        return value
    if fmt == "datetime" and isinstance(value, datetime.datetime):
        return f"{local_time(value):%Y-%m-%d %H:%M:%S}"
    return display(value, fmt, lang, field=field, reveal=reveal)


# --- search -------------------------------------------------------------------------------------


@dataclass
class PolicySearch:
    """What the list screen, the export and the API filter on; every field optional."""

    q: str = ""
    policy_no: str = ""
    plate: str = ""
    insured: str = ""
    start_from: datetime.date | None = None
    start_to: datetime.date | None = None
    carrier_key: str = ""
    status: str = ""
    line: str = ""
    business_type: str = ""
    org_node_id: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> PolicySearch:
        """Read the query string; a malformed date or store is refused naming the field."""
        from app.errors import ValidationFailed

        def date_arg(name: str) -> datetime.date | None:
            text = (args.get(name) or "").strip()
            if not text:
                return None
            try:
                return datetime.date.fromisoformat(half_width(text))
            except ValueError as exc:
                raise ValidationFailed(
                    f"{name}: not a date (YYYY-MM-DD)",
                    f"{name}：日期格式应为 YYYY-MM-DD",
                    field=name,
                ) from exc

        store = (args.get("org_node_id") or "").strip()
        if store and not store.isdigit():
            raise ValidationFailed(
                "org_node_id: not a store id", "org_node_id：门店编号无效", field="org_node_id"
            )
        for name, enum_cls in (
            ("status", PolicyStatus),
            ("line", PolicyLine),
            ("business_type", BusinessType),
        ):
            value = (args.get(name) or "").strip()
            if value and value not in {m.value for m in enum_cls}:
                raise ValidationFailed(f"{name}: unknown value", f"{name}：取值无效", field=name)
        return cls(
            q=(args.get("q") or "").strip(),
            policy_no=(args.get("policy_no") or "").strip(),
            plate=(args.get("plate") or "").strip(),
            insured=(args.get("insured") or "").strip(),
            start_from=date_arg("start_from"),
            start_to=date_arg("start_to"),
            carrier_key=(args.get("carrier_key") or "").strip(),
            status=(args.get("status") or "").strip(),
            line=(args.get("line") or "").strip(),
            business_type=(args.get("business_type") or "").strip(),
            org_node_id=int(store) if store else None,
        )

    def as_args(self) -> dict[str, str]:
        values = {
            "q": self.q,
            "policy_no": self.policy_no,
            "plate": self.plate,
            "insured": self.insured,
            "start_from": self.start_from.isoformat() if self.start_from else "",
            "start_to": self.start_to.isoformat() if self.start_to else "",
            "carrier_key": self.carrier_key,
            "status": self.status,
            "line": self.line,
            "business_type": self.business_type,
            "org_node_id": str(self.org_node_id or ""),
        }
        return {k: v for k, v in values.items() if v}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_query(search: PolicySearch) -> Select:
    """The policies matching `search`, newest first. Scope comes from the ORM guard."""
    query = select(Policy)
    if search.q:
        text = half_width(search.q).upper()
        query = query.where(
            or_(
                Policy.policy_no.like(_like(text), escape="\\"),
                Policy.plate.like(_like(text), escape="\\"),
                Policy.insured_name.like(_like(search.q), escape="\\"),
            )
        )
    if search.policy_no:
        query = query.where(
            Policy.policy_no.like(_like(half_width(search.policy_no).upper()), escape="\\")
        )
    if search.plate:
        plate = half_width(search.plate).upper().replace("·", "").replace(" ", "")
        query = query.where(Policy.plate.like(_like(plate), escape="\\"))
    if search.insured:
        query = query.where(Policy.insured_name.like(_like(search.insured), escape="\\"))
    if search.start_from:
        query = query.where(Policy.start_date >= search.start_from)
    if search.start_to:
        query = query.where(Policy.start_date <= search.start_to)
    if search.carrier_key:
        query = query.where(Policy.carrier_key == search.carrier_key)
    for name in ("status", "line", "business_type"):
        value = getattr(search, name)
        if value:
            query = query.where(getattr(Policy, name) == value)
    if search.org_node_id:
        query = query.where(Policy.org_node_id == search.org_node_id)
    return query


def order(query: Select, layout: ListLayout) -> Select:
    clauses = []
    for field, direction in layout.sort or [("created_at", "desc")]:
        column = getattr(Policy, field, None)
        if column is not None and hasattr(column, "desc"):
            clauses.append(column.desc() if direction == "desc" else column.asc())
    return query.order_by(*clauses, Policy.id.desc())


@dataclass
class Page:
    policies: Sequence[Policy]
    total: int
    page: int
    page_size: int
    context: ResolveContext

    @property
    def pages(self) -> int:
        return max((self.total + self.page_size - 1) // self.page_size, 1)


def page_of(
    session: Session, search: PolicySearch, layout: ListLayout, page: int, page_size: int
) -> Page:
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    page = max(page, 1)
    total = count(session, search)
    policies = session.scalars(
        order(search_query(search), layout)
        .options(joinedload(Policy.org_node).joinedload(OrgNode.brand))
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return Page(policies, total, page, page_size, ResolveContext.for_policies(session, policies))


def count(session: Session, search: PolicySearch) -> int:
    return session.scalar(select(func.count()).select_from(search_query(search).subquery())) or 0


def iter_export(
    session: Session, search: PolicySearch, layout: ListLayout, chunk: int = 1000, limit: int = 0
):
    """Matching policies a chunk at a time (with each chunk's resolve context), at most `limit`
    (0: all)."""
    offset = 0
    while not limit or offset < limit:
        size = chunk if not limit else min(chunk, limit - offset)
        policies = session.scalars(
            order(search_query(search), layout)
            .options(joinedload(Policy.org_node).joinedload(OrgNode.brand))
            .limit(size)
            .offset(offset)
        ).all()
        if not policies:
            return
        yield policies, ResolveContext.for_policies(session, policies)
        offset += len(policies)
