"""The monitoring hook: every kind of gateway (carriers, payments, and later SMS, calls, the
regulator's platform) joins 状态监控 by registering a probe.

    from app.monitoring.probes import Reading, register_probe

    def check_sms(context):
        for gateway in my_gateways():
            yield Reading("sms", gateway.code, gateway.name, ok=gateway.ping(), detail="…")

    register_probe("sms", "sms_gateways", check_sms, label="短信网关")

A probe is called with a ProbeContext (the session, the time, a timeout) in the system scope and
yields Readings, one per target it checks. A reading that is down opens an incident; the next good
reading of the same target closes it. `provinces` says where the target's outage is felt (for the
regulator's thresholds); leave it empty for a platform-wide target and the provinces of every
tenant's stores are used. `tenant_id` (with `org_node_id`) puts a target under one tenant; a
platform target has none. A probe that raises is itself reported as down, so a broken probe is
seen instead of hiding its targets.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

KIND_LABELS = {
    "platform": "平台",
    "queue": "任务队列",
    "schedule": "定时任务",
    "plugin": "插件",
    "carrier": "保险公司",
    "payment": "支付网关",
    "camera": "摄像头代理",
    "sms": "短信网关",
    "call": "呼叫网关",
    "regulator": "监管平台",
}
# Kinds whose outages the regulator counts (a camera agent at one gate is the store's own
# business: its silence is shown and clocked, but never reportable).
REPORTABLE_KINDS = {"platform", "queue", "carrier", "payment", "sms", "call", "regulator"}


@dataclass(frozen=True)
class ProbeContext:
    session: Session
    now: datetime.datetime
    timeout: float = 5.0


@dataclass(frozen=True)
class Reading:
    """What a probe saw of one target. ok=None: nothing to judge (never run, not configured)."""

    kind: str
    name: str
    label: str
    ok: bool | None
    detail: str = ""
    latency_ms: int | None = None
    tenant_id: int | None = None
    org_node_id: int | None = None
    provinces: tuple[str, ...] = ()
    reportable: bool | None = None  # None: by kind (REPORTABLE_KINDS)
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        return f"{self.tenant_id or 0}:{self.kind}:{self.name}"

    @property
    def counts(self) -> bool:
        return self.kind in REPORTABLE_KINDS if self.reportable is None else self.reportable


ProbeCheck = Callable[[ProbeContext], Iterable[Reading]]


@dataclass(frozen=True)
class Probe:
    kind: str
    name: str
    check: ProbeCheck
    label: str = ""


_probes: dict[tuple[str, str], Probe] = {}


def register_probe(kind: str, name: str, check: ProbeCheck, label: str = "") -> Probe:
    """Add (or replace, for a reload) the probe `name` of `kind`."""
    if not kind or not name or not callable(check):
        raise ValueError("register_probe(kind, name, check): all three are required")
    probe = Probe(kind, name, check, label or KIND_LABELS.get(kind, kind))
    _probes[(kind, name)] = probe
    return probe


def unregister_probe(kind: str, name: str) -> None:
    _probes.pop((kind, name), None)


def probes() -> list[Probe]:
    _install_builtin()
    return list(_probes.values())


def run_probe(probe: Probe, context: ProbeContext) -> list[Reading]:
    """The probe's readings; a probe that raises is one down reading naming the error."""
    try:
        return list(probe.check(context) or [])
    except Exception as error:  # noqa: BLE001 - a broken probe is reported, never raised
        context.session.rollback()
        return [
            Reading(
                probe.kind,
                f"probe:{probe.name}",
                f"{probe.label}（探针 {probe.name}）",
                ok=False,
                detail=f"探针出错：{type(error).__name__}: {error}"[:1000],
                reportable=False,
            )
        ]


def timed(call: Callable[[], object]) -> tuple[object, int]:
    started = time.monotonic()
    answer = call()
    return answer, int((time.monotonic() - started) * 1000)


_builtin_installed = False


def _install_builtin() -> None:
    global _builtin_installed
    if _builtin_installed:
        return
    from app.monitoring import checks

    for kind, name, check, label in checks.BUILTIN:
        _probes.setdefault((kind, name), Probe(kind, name, check, label))
    _builtin_installed = True
