"""Running the probes and keeping the incident clock.

An incident opens on the first down reading of a target and closes on its first good reading (or
when the target is no longer probed at all). Its duration is judged against the regulator's
reporting thresholds for an outage of an insurance intermediary's systems:

- 3 hours when the outage is felt in one province;
- 30 minutes when it is felt in two or more provinces.

Where an outage is felt: the provinces of the stores the target serves (a tenant's carriers: the
tenant's stores; a platform target: every tenant's stores). An incident that reaches its
threshold is stamped `breached_at` and stays marked as reportable in the record.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import utcnow
from app.monitoring.models import Incident, MonitorStatus, ProbeState
from app.monitoring.probes import ProbeContext, Reading, probes, run_probe

log = logging.getLogger(__name__)

ONE_PROVINCE = datetime.timedelta(hours=3)
SEVERAL_PROVINCES = datetime.timedelta(minutes=30)


def threshold(provinces) -> datetime.timedelta | None:
    """The regulator's reporting threshold for an outage felt in these provinces (None: felt
    nowhere we know of, e.g. a tenant with no store yet)."""
    count = len({p for p in provinces or () if p})
    if count >= 2:
        return SEVERAL_PROVINCES
    if count == 1:
        return ONE_PROVINCE
    return None


def threshold_words(provinces) -> str:
    limit = threshold(provinces)
    if limit is None:
        return "无门店省份，不适用"
    count = len({p for p in provinces if p})
    return "单省 3 小时" if count == 1 else f"跨 {count} 省 30 分钟"


@dataclass(frozen=True)
class ProbeRun:
    readings: list[Reading]
    opened: list[Incident]
    closed: list[Incident]
    breached: list[Incident]
    started_at: datetime.datetime
    seconds: float


def _platform_provinces(session: Session) -> tuple[str, ...]:
    from app.monitoring.checks import _store_provinces

    return _store_provinces(session)


def run_probes(
    session: Session, now: datetime.datetime | None = None, timeout: float = 5.0, only=None
) -> ProbeRun:
    """Run every registered probe (or those of the kinds in `only`), record the readings and
    open, close or stamp incidents. Commits. Call it in the system scope."""
    started = utcnow()
    now = now or started
    context = ProbeContext(session, now, timeout)
    readings: list[Reading] = []
    ran_kinds = set()
    for probe in probes():
        if only and probe.kind not in only:
            continue
        ran_kinds.add(probe.kind)
        readings += run_probe(probe, context)
    platform_provinces = None
    opened, closed, breached = [], [], []
    statuses = {s.key: s for s in session.scalars(select(MonitorStatus))}
    open_incidents = {
        i.key: i for i in session.scalars(select(Incident).where(Incident.closed_at.is_(None)))
    }
    seen = set()
    for reading in readings:
        if reading.key in seen:
            continue
        seen.add(reading.key)
        provinces = reading.provinces
        if not provinces and reading.tenant_id is None and reading.counts:
            if platform_provinces is None:
                platform_provinces = _platform_provinces(session)
            provinces = platform_provinces
        _record(session, statuses, reading, provinces, now)
        incident = open_incidents.get(reading.key)
        if reading.ok is False:
            if incident is None:
                incident = _open(session, reading, provinces, now)
                opened.append(incident)
            elif _stamp_breach(incident, now, provinces):
                breached.append(incident)
        elif reading.ok is True and incident is not None:
            _close(incident, now, reading.detail)
            closed.append(incident)
    # Targets of the probes that ran and are no longer reported (a plugin fixed and reloaded, a
    # carrier disabled, a camera revoked): their state is unknown and their incident closed.
    for key, status in statuses.items():
        if key in seen or status.kind not in ran_kinds:
            continue
        if status.state != ProbeState.UNKNOWN:
            status.state, status.since = ProbeState.UNKNOWN, now
            status.detail = "不再检测"
        status.checked_at = now
        incident = open_incidents.get(key)
        if incident is not None:
            _close(incident, now, "不再检测（已移除或停用）")
            closed.append(incident)
    session.commit()
    seconds = (utcnow() - started).total_seconds()
    for incident in opened:
        log.warning("incident %s opened: %s %s", incident.id, incident.label, incident.detail)
    for incident in breached:
        log.error("incident %s reached the regulator's threshold: %s", incident.id, incident.label)
    return ProbeRun(readings, opened, closed, breached, started, seconds)


def _state(reading: Reading) -> str:
    if reading.ok is None:
        return ProbeState.UNKNOWN
    return ProbeState.OK if reading.ok else ProbeState.DOWN


def _record(session, statuses, reading: Reading, provinces, now) -> MonitorStatus:
    status = statuses.get(reading.key)
    state = _state(reading)
    if status is None:
        status = MonitorStatus(
            key=reading.key,
            kind=reading.kind,
            name=reading.name,
            tenant_id=reading.tenant_id,
            org_node_id=reading.org_node_id,
            since=now,
        )
        session.add(status)
        statuses[reading.key] = status
    elif status.state != state:
        status.since = now
    status.label = reading.label[:255]
    status.state = state
    status.detail = reading.detail
    status.latency_ms = reading.latency_ms
    status.provinces = list(provinces)
    status.reportable = reading.counts
    status.checked_at = now
    return status


def _open(session, reading: Reading, provinces, now) -> Incident:
    limit = threshold(provinces) if reading.counts else None
    incident = Incident(
        key=reading.key,
        kind=reading.kind,
        name=reading.name,
        label=reading.label[:255],
        provinces=list(provinces),
        reportable=reading.counts,
        opened_at=now,
        detail=reading.detail,
        threshold_minutes=int(limit.total_seconds() // 60) if limit else None,
        tenant_id=reading.tenant_id,
        org_node_id=reading.org_node_id,
    )
    session.add(incident)
    session.flush()
    return incident


def _stamp_breach(incident: Incident, now, provinces) -> bool:
    """Widen the incident to provinces newly affected, and stamp the moment it reached its
    threshold; True when it is stamped now."""
    if incident.reportable and set(provinces) - set(incident.provinces or []):
        incident.provinces = sorted({*(incident.provinces or []), *provinces})
        limit = threshold(incident.provinces)
        incident.threshold_minutes = int(limit.total_seconds() // 60) if limit else None
    if incident.breached_at is not None or not incident.threshold_minutes:
        return False
    limit = datetime.timedelta(minutes=incident.threshold_minutes)
    if now - incident.opened_at >= limit:
        incident.breached_at = incident.opened_at + limit
        return True
    return False


def _close(incident: Incident, now, detail: str) -> None:
    _stamp_breach(incident, now, ())
    incident.closed_at = now
    incident.closing_detail = (detail or "")[:2000]


def incident_facts(incident: Incident, now: datetime.datetime | None = None) -> dict:
    """How an incident stands against its threshold, for the page and the CLI."""
    now = now or utcnow()
    duration = incident.duration(now)
    limit = (
        datetime.timedelta(minutes=incident.threshold_minutes)
        if incident.threshold_minutes
        else None
    )
    return {
        "duration": duration,
        "threshold": limit,
        "breached": bool(incident.breached_at) or (limit is not None and duration >= limit),
        "left": (limit - duration) if limit is not None and duration < limit else None,
        "rule": threshold_words(incident.provinces or []) if incident.reportable else "不计入监管",
    }


def words(delta: datetime.timedelta | None) -> str:
    """A duration as 2 小时 05 分 09 秒."""
    if delta is None:
        return ""
    seconds = max(int(delta.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} 小时 {minutes:02d} 分 {seconds:02d} 秒"
    if minutes:
        return f"{minutes} 分 {seconds:02d} 秒"
    return f"{seconds} 秒"


# --- when the database itself is down ------------------------------------------------------------
# The incident table lives in the database, so an outage of the database is clocked outside it:
# `flask monitoring probe` notes the first failed run in a file and, on the first run that reaches
# the database again, records the whole outage as one closed incident.

OUTAGE_FILE = "monitoring/platform_down"


def outage_path():
    from pathlib import Path

    from flask import current_app

    return Path(current_app.config["STORAGE_PATH"]) / OUTAGE_FILE


def note_platform_down(now: datetime.datetime, detail: str) -> datetime.datetime:
    """Remember when the database was first found unreachable; returns that moment."""
    path = outage_path()
    if path.is_file():
        try:
            return datetime.datetime.fromisoformat(path.read_text().split("\n", 1)[0].strip())
        except ValueError:
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{now.isoformat()}\n{detail[:1000]}\n", encoding="utf-8")
    return now


def record_platform_outage(session: Session, now: datetime.datetime) -> Incident | None:
    """After a database outage noted by `note_platform_down`: the closed incident, judged like
    any other (felt in every tenant's provinces). Commits; None when there was no outage."""
    path = outage_path()
    if not path.is_file():
        return None
    first, _, detail = path.read_text(encoding="utf-8").partition("\n")
    try:
        since = datetime.datetime.fromisoformat(first.strip())
    except ValueError:
        path.unlink()
        return None
    provinces = _platform_provinces(session)
    reading = Reading("platform", "database", "数据库", False, detail.strip() or "数据库不可达")
    incident = _open(session, reading, provinces, since)
    _close(incident, now, "数据库恢复（由 flask monitoring probe 在恢复后记录）")
    session.commit()
    path.unlink()
    log.error("database outage of %s recorded as incident %s", now - since, incident.id)
    return incident
