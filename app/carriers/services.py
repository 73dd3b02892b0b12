"""A tenant's carriers: which carrier documents are in force and usable, their clients, their
credentials and the default answers an admin set for their questions.

A carrier is enabled for a tenant by a `carrier` document in force (the tenant's own, or the
platform's) with `enabled: true` whose plugin is loaded and whose `config` passes the plugin's
JSON Schema. Credentials are referred to from the document (`secret:<id>` for a
CarrierCredential, `env:NAME` for an environment variable) and resolved only here, to be handed
to the plugin's client.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from jsonschema import Draft202012Validator
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import utcnow
from app.carriers.contract import CarrierClient, ClientContext
from app.carriers.models import CarrierCredential
from app.carriers.registry import registry
from app.errors import NotFound, Unavailable, ValidationFailed

DEFAULT_TIMEOUT = 10.0
DEFAULT_VALID_MINUTES = 60
NAME_PATTERN = "^[a-z][a-z0-9_]*$"


# --- default answers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CarrierDefault:
    value: Any
    locked: bool = False


def _body(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """A carrier document's body, from the whole document or the body itself."""
    return document["body"] if "body" in document and "plugin" not in document else document


def carrier_defaults(document: Mapping[str, Any]) -> dict[str, CarrierDefault]:
    """Field name → the default answer the carrier document sets, and whether it is locked."""
    defaults = _body(document).get("defaults") or {}
    return {
        name: CarrierDefault(item.get("value"), bool(item.get("locked", False)))
        for name, item in defaults.items()
    }


def locked_answers(document: Mapping[str, Any]) -> dict[str, Any]:
    return {name: d.value for name, d in carrier_defaults(document).items() if d.locked}


def default_answers(document: Mapping[str, Any]) -> dict[str, Any]:
    return {name: d.value for name, d in carrier_defaults(document).items() if not d.locked}


def apply_defaults(document: Mapping[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    """The form with the carrier's defaults filled in where the desk gave nothing, and its
    locked answers over whatever the desk gave."""
    values = dict(form)
    for name, default in carrier_defaults(document).items():
        if default.locked or values.get(name) in (None, ""):
            values[name] = default.value
    return values


# --- configuration -----------------------------------------------------------------------------


def config_problems(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(JSON path under the body, Chinese message) for each reason the document cannot be used
    with its plugin: plugin missing or of another version, config refused by the plugin's
    schema or its own checks, capabilities the plugin lacks."""
    loaded = registry().carriers.get(str(body.get("plugin", "")))
    if loaded is None:
        known = "、".join(sorted(registry().carriers)) or "无"
        return [("$.body.plugin", f"插件 {body.get('plugin')} 未安装或加载失败（已加载：{known}）")]
    plugin, problems = loaded.plugin, []
    wanted = body.get("plugin_version")
    if wanted:
        try:
            if Version(plugin.version) not in SpecifierSet(wanted):
                problems.append(
                    (
                        "$.body.plugin_version",
                        f"插件 {plugin.code} 版本 {plugin.version} 不满足 {wanted}",
                    )
                )
        except (InvalidSpecifier, InvalidVersion):
            problems.append(("$.body.plugin_version", f"版本范围 {wanted} 无法识别"))
    config = body.get("config") or {}
    for error in sorted(
        Draft202012Validator(dict(plugin.config_schema)).iter_errors(config), key=str
    ):
        path = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
        )
        problems.append(
            (f"$.body.config{path}", f"插件配置不符合插件的 JSON Schema：{error.message}")
        )
    if not problems and plugin.check_config is not None:
        problems += [("$.body.config", text) for text in plugin.check_config(config)]
    lacking = sorted(set(body.get("capabilities", [])) - set(plugin.capabilities))
    if lacking:
        problems.append(
            ("$.body.capabilities", f"插件 {plugin.code} 不具备能力：{', '.join(lacking)}")
        )
    return problems


# --- credentials -------------------------------------------------------------------------------


def _fernet() -> Fernet:
    """Keyed from SECRET_KEY: a new SECRET_KEY makes stored credentials unreadable (enter them
    again), which is the point of rotating it."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = hashlib.sha256(b"dealercover/carrier-credentials/" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def fingerprint(value: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:12]


def store_credential(
    session: Session,
    carrier_key: str,
    name: str,
    value: str,
    created_by: str = "",
    tenant_id: int | None = None,
    org_node_id: int | None = None,
) -> CarrierCredential:
    """Save (or replace) a carrier's secret, encrypted; returns the row whose `reference`
    (secret:<id>) goes into the carrier document. The tenant and node default to the writer's
    scope. Flushes, does not commit."""
    if not value or len(value) > 4096:
        raise ValidationFailed(
            "value: 1 to 4096 characters", "密钥：须为 1–4096 个字符", field="value"
        )
    if not re.match(NAME_PATTERN, name or "") or len(name) > 64:
        raise ValidationFailed(
            "name: lower-case letters, digits and _", "凭据名：小写字母、数字和下划线", field="name"
        )
    if not re.match(r"^[a-z0-9_]{1,128}$", carrier_key or ""):
        raise ValidationFailed(
            "carrier_key: lower-case letters, digits and _",
            "保险公司键：小写字母、数字和下划线",
            field="carrier_key",
        )
    query = select(CarrierCredential).where(
        CarrierCredential.carrier_key == carrier_key, CarrierCredential.name == name
    )
    if tenant_id is not None:
        query = query.where(CarrierCredential.tenant_id == tenant_id)
    row = session.scalar(query)
    if row is None:
        row = CarrierCredential(
            carrier_key=carrier_key,
            name=name,
            created_by=created_by,
            tenant_id=tenant_id,
            org_node_id=org_node_id,
        )
        session.add(row)
    else:
        row.replaced_at = utcnow()
    row.secret = _fernet().encrypt(value.encode()).decode()
    row.fingerprint = fingerprint(value)
    session.flush()
    return row


def resolve_credentials(
    session: Session, tenant_id: int, carrier_key: str, references: Mapping[str, str]
) -> dict[str, str]:
    """Credential name → its value, for handing to a plugin's client and to nothing else."""
    values = {}
    for name, reference in (references or {}).items():
        scheme, _, target = str(reference).partition(":")
        if scheme == "env":
            value = os.environ.get(target)
        elif scheme == "secret" and target.isdigit():
            row = session.get(CarrierCredential, int(target))
            if row is None or row.tenant_id != tenant_id or row.carrier_key != carrier_key:
                value = None
            else:
                try:
                    value = _fernet().decrypt(row.secret.encode()).decode()
                except InvalidToken:
                    value = None
        else:
            value = None
        if value is None:
            raise Unavailable(
                f"carrier {carrier_key}: credential {name} ({scheme}) is not available",
                f"保险公司 {carrier_key} 的凭据 {name} 不可用（{scheme}），"
                "请在“保险公司凭据”中重新录入",
                field=f"credentials.{name}",
            )
        values[name] = value
    return values


# --- the tenant's carriers ---------------------------------------------------------------------


@dataclass(frozen=True)
class EnabledCarrier:
    """A carrier a tenant can quote with: its document's settings and a client."""

    key: str
    name: str
    client: CarrierClient
    products: frozenset[str]
    timeout: float = DEFAULT_TIMEOUT
    valid_minutes: int = DEFAULT_VALID_MINUTES
    locked_answers: Mapping[str, Any] = field(default_factory=dict)
    default_answers: Mapping[str, Any] = field(default_factory=dict)
    short_name: str = ""
    carrier_code: str = ""
    plugin_code: str = ""
    capabilities: tuple[str, ...] = ()
    retries: int = 0
    document_version: str = ""
    document_version_id: int | None = None


@dataclass(frozen=True)
class CarrierStatus:
    """How one carrier document stands, for the 状态监控 page."""

    key: str
    name: str
    version: str
    plugin_code: str
    state: str  # ready | disabled | plugin_problem | credentials_missing
    problems: tuple[str, ...] = ()
    tenant_owned: bool = True


STATE_LABELS = {
    "ready": "可用",
    "disabled": "已停用",
    "plugin_problem": "插件或配置有误",
    "credentials_missing": "凭据不可用",
}


def carrier_versions(session: Session, tenant_id: int, on: datetime.date):
    from app.configuration.lookup import documents_in_force

    return documents_in_force(session, "carrier", tenant_id, on)


_clients: dict[tuple, CarrierClient] = {}
_clients_lock = threading.Lock()


def _tenant_code(session: Session, tenant_id: int) -> str:
    from app.organisation.models import Tenant

    tenant = session.get(Tenant, tenant_id)
    return tenant.code if tenant is not None else str(tenant_id)


def _state_dir(plugin_code: str, carrier_key: str) -> str:
    return str(Path(current_app.config["STORAGE_PATH"]) / "carriers" / plugin_code / carrier_key)


def _make_client(session: Session, tenant_id: int, version, body: Mapping) -> CarrierClient:
    key = version.document.key
    plugin = registry().carrier(body["plugin"])
    credentials = resolve_credentials(session, tenant_id, key, body.get("credentials") or {})
    secret_print = tuple(
        sorted((n, hashlib.sha256(v.encode()).hexdigest()) for n, v in credentials.items())
    )
    cache_key = (tenant_id, key, version.id, plugin.code, plugin.version, secret_print)
    with _clients_lock:
        client = _clients.get(cache_key)
        if client is None:
            context = ClientContext(
                _tenant_code(session, tenant_id), key, _state_dir(plugin.code, key)
            )
            client = plugin.make_client(dict(body.get("config") or {}), credentials, context)
            _clients[cache_key] = client
        return client


def _binding(session: Session, tenant_id: int, version) -> EnabledCarrier:
    body = version.body
    timeouts = body.get("timeouts") or {}
    config = body.get("config") or {}
    return EnabledCarrier(
        key=version.document.key,
        name=body["name"]["zh"],
        client=_make_client(session, tenant_id, version, body),
        products=frozenset(body.get("products", [])),
        timeout=float(timeouts.get("read", DEFAULT_TIMEOUT)),
        valid_minutes=int(
            body.get("quote_valid_minutes")
            or config.get("quote_valid_minutes")
            or DEFAULT_VALID_MINUTES
        ),
        locked_answers=locked_answers(body),
        default_answers=default_answers(body),
        short_name=body.get("short_name", ""),
        carrier_code=body.get("carrier_code", ""),
        plugin_code=body["plugin"],
        capabilities=tuple(body.get("capabilities", [])),
        retries=int(body.get("retries", 0)),
        document_version=version.version,
        document_version_id=version.id,
    )


def carrier_statuses(
    session: Session, tenant_id: int, on: datetime.date | None = None
) -> list[CarrierStatus]:
    """Every carrier document the tenant has in force, and whether it can be used."""
    on = on or datetime.date.today()
    statuses = []
    for version in carrier_versions(session, tenant_id, on):
        body, key = version.body, version.document.key
        problems = [text for _, text in config_problems(body)]
        state = "ready"
        if not body.get("enabled", True):
            state = "disabled"
        elif problems:
            state = "plugin_problem"
        else:
            try:
                resolve_credentials(session, tenant_id, key, body.get("credentials") or {})
            except Unavailable as error:
                state, problems = "credentials_missing", [error.chinese]
        statuses.append(
            CarrierStatus(
                key=key,
                name=body.get("name", {}).get("zh", key),
                version=version.version,
                plugin_code=body.get("plugin", ""),
                state=state,
                problems=tuple(problems),
                tenant_owned=version.document.tenant_id is not None,
            )
        )
    return statuses


def enabled_carriers(
    session: Session, tenant_id: int, on: datetime.date | None = None
) -> list[EnabledCarrier]:
    """The carriers the tenant can quote with on `on` (default today), by key. A carrier whose
    plugin, configuration or credentials are not usable is left out (状态监控 says why)."""
    on = on or datetime.date.today()
    found = []
    for version in carrier_versions(session, tenant_id, on):
        body = version.body
        if not body.get("enabled", True) or config_problems(body):
            continue
        try:
            found.append(_binding(session, tenant_id, version))
        except Unavailable:
            continue
    return found


def carrier_for(
    session: Session, tenant_id: int, carrier_key: str, on: datetime.date | None = None
) -> EnabledCarrier:
    """One enabled carrier of the tenant, or NotFound (another tenant's is never found)."""
    for carrier in enabled_carriers(session, tenant_id, on):
        if carrier.key == carrier_key:
            return carrier
    raise NotFound(
        f"carrier {carrier_key} is not enabled",
        f"保险公司 {carrier_key} 未开通",
        field="carrier_key",
    )


def client_for(
    session: Session, tenant_id: int, carrier_key: str, on: datetime.date | None = None
) -> CarrierClient:
    return carrier_for(session, tenant_id, carrier_key, on).client
