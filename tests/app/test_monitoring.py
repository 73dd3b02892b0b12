"""状态监控: the probes, the incident clock against the regulator's thresholds, the page (an
operator sees it, a desk clerk does not, a tenant sees only its own targets), the retry of a
failed job and `flask monitoring probe`."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit.models import utcnow
from app.carriers.contract import CarrierUnavailable
from app.extensions import db
from app.jobs import enqueue, task
from app.jobs.models import JobRecord, JobStatus
from app.monitoring import checks
from app.monitoring.models import Incident, MonitorStatus
from app.monitoring.probes import Reading, register_probe, unregister_probe
from app.monitoring.services import (
    ONE_PROVINCE,
    SEVERAL_PROVINCES,
    incident_facts,
    run_probes,
    threshold,
)
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import build_world, install_for, login, scope_of

ROOT = Path(__file__).resolve().parents[2]
ROLES = {
    "admin": ("tenant_admin", "hq"),
    "manager": ("store_manager", "store_a"),
    "desk": ("insurance_desk", "store_a"),
}
T0 = datetime.datetime(2026, 3, 2, 8, 0, 0)


@pytest.fixture(scope="module")
def worlds(app):
    with use_scope(system_scope()):
        from app.configuration.models import InstalledPack

        core = db.session.scalar(
            select(InstalledPack).where(
                InstalledPack.name == "core", InstalledPack.tenant_id.is_(None)
            )
        )
    if core is None:
        result = app.test_cli_runner().invoke(
            args=["pack", "install", str(ROOT / "metadata/packs/core")]
        )
        assert result.exit_code == 0, result.output
    mine, other = build_world(app, ROLES), build_world(app, ROLES)
    install_for(app, mine, str(ROOT / "metadata/packs/demo"))
    return mine, other


def add_monitoring_rows(world) -> None:
    """A target's reading and an incident in each store of the world (the scoping test's walls)."""
    with use_scope(system_scope()):
        for store in (world.store_a, world.store_b):
            key = f"{world.tenant_id}:camera:WALL-{store}"
            db.session.add_all(
                [
                    MonitorStatus(
                        key=key,
                        kind="camera",
                        name=f"WALL-{store}",
                        label="墙测试摄像头",
                        state="down",
                        provinces=["上海"],
                        tenant_id=world.tenant_id,
                        org_node_id=store,
                    ),
                    Incident(
                        key=key,
                        kind="camera",
                        name=f"WALL-{store}",
                        label="墙测试摄像头",
                        provinces=["上海"],
                        reportable=False,
                        tenant_id=world.tenant_id,
                        org_node_id=store,
                    ),
                ]
            )
        db.session.commit()


class Switch:
    """A gateway the test turns off and on: the kind a later SMS plugin would register."""

    def __init__(self, provinces=("上海",), tenant_id=None, node_id=None):
        self.ok, self.provinces, self.tenant_id, self.node_id = True, provinces, tenant_id, node_id
        self.present = True

    def __call__(self, context):
        if not self.present:
            return
        yield Reading(
            "sms",
            "test_sms",
            "测试短信网关",
            self.ok,
            "正常" if self.ok else "网关无应答",
            tenant_id=self.tenant_id,
            org_node_id=self.node_id,
            provinces=self.provinces,
        )


@pytest.fixture
def gateway():
    switch = Switch()
    register_probe("sms", "test_sms", switch)
    yield switch
    unregister_probe("sms", "test_sms")
    with use_scope(system_scope()):
        for model in (Incident, MonitorStatus):
            for row in db.session.scalars(select(model).where(model.name == "test_sms")):
                db.session.delete(row)
        db.session.commit()


def _probe(now, only=("sms",)):
    with use_scope(system_scope()):
        return run_probes(db.session, now=now, only=set(only))


def _incidents(name="test_sms"):
    with use_scope(system_scope()):
        db.session.expire_all()
        return list(
            db.session.scalars(select(Incident).where(Incident.name == name).order_by(Incident.id))
        )


def test_the_regulators_thresholds():
    assert threshold([]) is None
    assert threshold(["上海"]) == ONE_PROVINCE == datetime.timedelta(hours=3)
    assert threshold(["上海", "上海"]) == ONE_PROVINCE  # one province, however many stores
    assert threshold(["上海", "江苏"]) == SEVERAL_PROVINCES == datetime.timedelta(minutes=30)
    assert threshold(["上海", "江苏", "浙江"]) == SEVERAL_PROVINCES


def test_an_outage_in_one_province_is_reportable_after_three_hours(app, gateway):
    gateway.ok = False
    run = _probe(T0)
    assert [i.name for i in run.opened] == ["test_sms"]
    _probe(T0 + datetime.timedelta(hours=2, minutes=59))
    (incident,) = _incidents()
    assert incident.is_open and incident.breached_at is None
    assert incident.threshold_minutes == 180 and incident.provinces == ["上海"]
    facts = incident_facts(incident, T0 + datetime.timedelta(hours=2, minutes=59))
    assert not facts["breached"] and facts["left"] == datetime.timedelta(minutes=1)
    assert facts["rule"] == "单省 3 小时"
    run = _probe(T0 + datetime.timedelta(hours=3, minutes=5))
    assert [i.id for i in run.breached] == [incident.id]
    gateway.ok = True
    run = _probe(T0 + datetime.timedelta(hours=3, minutes=20))
    assert [i.id for i in run.closed] == [incident.id]
    (incident,) = _incidents()
    assert incident.closed_at == T0 + datetime.timedelta(hours=3, minutes=20)
    assert incident.breached_at == T0 + datetime.timedelta(hours=3)  # when it reached 3 h
    assert incident.duration() == datetime.timedelta(hours=3, minutes=20)
    assert incident.detail == "网关无应答" and incident.closing_detail == "正常"
    # Good again and again: nothing new opens.
    assert not _probe(T0 + datetime.timedelta(hours=4)).opened
    assert len(_incidents()) == 1


def test_an_outage_across_two_provinces_is_reportable_after_thirty_minutes(app, gateway):
    gateway.ok, gateway.provinces = False, ("上海", "江苏")
    _probe(T0)
    _probe(T0 + datetime.timedelta(minutes=29, seconds=59))
    (incident,) = _incidents()
    assert incident.threshold_minutes == 30 and incident.breached_at is None
    gateway.ok = True
    _probe(T0 + datetime.timedelta(minutes=29, seconds=59))
    (incident,) = _incidents()
    assert incident.closed_at is not None and incident.breached_at is None  # recovered in time
    assert not incident_facts(incident)["breached"]
    gateway.ok = False
    _probe(T0 + datetime.timedelta(hours=1))
    gateway.ok = True
    _probe(T0 + datetime.timedelta(hours=1, minutes=31))  # closed after 31 min: reached it
    second = _incidents()[1]
    assert second.breached_at == T0 + datetime.timedelta(hours=1, minutes=30)
    assert (
        incident_facts(second)["breached"] and incident_facts(second)["rule"] == "跨 2 省 30 分钟"
    )


def test_an_outage_spreading_to_a_second_province_tightens_its_threshold(app, gateway):
    gateway.ok = False
    _probe(T0)
    gateway.provinces = ("上海", "浙江")
    run = _probe(T0 + datetime.timedelta(minutes=45))
    (incident,) = _incidents()
    assert incident.provinces == ["上海", "浙江"] and incident.threshold_minutes == 30
    assert [i.id for i in run.breached] == [incident.id]


def test_a_platform_target_is_felt_in_every_tenants_provinces(app, worlds, gateway):
    gateway.ok, gateway.provinces = False, ()
    _probe(T0)
    (incident,) = _incidents()
    with use_scope(system_scope()):
        everywhere = checks._store_provinces(db.session)
    assert "上海" in incident.provinces and incident.provinces == list(everywhere)
    assert incident.tenant_id is None and incident.reportable


def test_a_target_no_longer_probed_is_closed_and_a_broken_probe_is_reported(app, gateway):
    gateway.ok = False
    _probe(T0)
    gateway.present = False
    run = _probe(T0 + datetime.timedelta(minutes=5))
    (incident,) = _incidents()
    assert [i.id for i in run.closed] == [incident.id]
    assert "不再检测" in incident.closing_detail

    def broken(context):
        raise RuntimeError("sms vendor SDK exploded")

    register_probe("sms", "test_broken", broken)
    try:
        run = _probe(T0 + datetime.timedelta(minutes=6))
        (reading,) = [r for r in run.readings if r.name == "probe:test_broken"]
        assert reading.ok is False and "sms vendor SDK exploded" in reading.detail
        assert not reading.counts  # the probe's own failure is not a gateway outage
    finally:
        unregister_probe("sms", "test_broken")
        _probe(T0 + datetime.timedelta(minutes=7))  # closes the broken probe's incident
        assert not [i for i in _incidents("probe:test_broken") if i.is_open]


def test_the_built_in_probes_see_the_platform_the_carriers_payments_and_cameras(
    app, worlds, monkeypatch
):
    from app.cameras.models import Camera

    mine, _ = worlds
    with use_scope(system_scope()):
        camera = Camera(
            tenant_id=mine.tenant_id,
            org_node_id=mine.store_a,
            name="大门",
            code=f"MON-{mine.code}",
            key_id=f"cam_mon_{mine.code.lower()}",
            secret="x" * 32,
            heartbeat_seconds=30,
            last_heartbeat_at=utcnow() - datetime.timedelta(minutes=10),
        )
        db.session.add(camera)
        db.session.commit()
    run = _probe(utcnow(), only=("platform", "queue", "payment", "carrier", "camera", "plugin"))
    readings = {(r.tenant_id, r.kind, r.name): r for r in run.readings}
    assert readings[(None, "platform", "database")].ok is True
    queue = readings[(None, "queue", "jobs")]
    # rq: whatever other tests left queued, the reading names the depth and the workers
    assert queue.ok is True or "工作进程" in queue.detail
    assert readings[(None, "payment", "payment_sandbox")].ok is True
    carriers = [r for r in run.readings if r.kind == "carrier" and r.tenant_id == mine.tenant_id]
    assert len(carriers) == 14 and all(r.ok for r in carriers), [r.detail for r in carriers]
    assert carriers[0].provinces == ("上海",) and carriers[0].counts
    offline = readings[(mine.tenant_id, "camera", camera.code)]
    assert offline.ok is False and "离线" in offline.detail and not offline.counts
    (camera_incident,) = _incidents(camera.code)
    assert camera_incident.tenant_id == mine.tenant_id and not camera_incident.reportable
    assert incident_facts(camera_incident)["rule"] == "不计入监管"

    # PICC stops answering its health call: an incident for this tenant, in its province.
    from plugins.sandbox_carrier.client import SandboxClient

    original = SandboxClient.health

    def failing(self, timeout):
        if self.carrier_key == "picc":
            raise CarrierUnavailable("down", ["人保接口无应答"])
        return original(self, timeout)

    monkeypatch.setattr(SandboxClient, "health", failing)
    run = _probe(utcnow(), only=("carrier",))
    down = [i for i in run.opened if i.tenant_id == mine.tenant_id]
    assert [i.name for i in down] == ["picc"], [(i.name, i.detail) for i in down]
    assert down[0].detail == "人保接口无应答" and down[0].threshold_minutes == 180
    monkeypatch.setattr(SandboxClient, "health", original)
    run = _probe(utcnow(), only=("carrier",))
    assert "picc" in {i.name for i in run.closed if i.tenant_id == mine.tenant_id}


def test_the_page_for_an_operator_a_manager_another_tenant_and_a_desk_clerk(
    app, client, worlds, gateway
):
    mine, other = worlds
    gateway.ok, gateway.tenant_id, gateway.provinces = False, mine.tenant_id, ("上海",)
    gateway.node_id = mine.hq
    _probe(utcnow() - datetime.timedelta(minutes=3))
    login(client, mine.users["admin"])
    page = client.get("/monitoring/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for part in (
        "状态监控",
        "进行中的故障事件",
        "各项状态",
        "后台任务队列",
        "定时任务",
        "插件与保险公司",
    ):
        assert part in text
    assert "测试短信网关" in text and "单省 3 小时" in text and "距上报还有" in text
    assert 'class="dc-clock" data-opened=' in text and "monitoring.js" in text
    assert 'data-plugin="sandbox"' in text and 'data-carrier="picc"' in text
    assert "立即探测" in text and 'name="back" value="monitoring"' in text
    assert "<script>" not in text  # CSP: no inline script without its nonce

    client.get("/logout/")
    login(client, mine.users["manager"])
    page = client.get("/monitoring/").get_data(as_text=True)
    assert "测试短信网关" in page and "立即探测" not in page  # reads, does not operate
    assert client.post("/monitoring/probe/").status_code in (302, 403)

    client.get("/logout/")
    login(client, other.users["admin"])
    page = client.get("/monitoring/").get_data(as_text=True)
    assert "测试短信网关" not in page  # another tenant's target
    assert "数据库" in page or "尚未探测" in page

    client.get("/logout/")
    login(client, mine.users["desk"])
    refused = client.get("/monitoring/")
    assert refused.status_code in (302, 403)
    assert "测试短信网关" not in refused.get_data(as_text=True)


_attempts: dict[str, int] = {}


@task("tests.monitoring_flaky")
def _flaky(key: str) -> str:
    _attempts[key] = _attempts.get(key, 0) + 1
    if _attempts[key] == 1:
        raise TimeoutError("regulator platform timed out")
    return f"ok after {_attempts[key]}"


def test_a_failed_job_is_shown_and_retried_from_the_page(app, client, worlds):
    mine, other = worlds
    app.config["REDIS_URL"], saved = "", app.config["REDIS_URL"]
    try:
        with use_scope(scope_of(mine.users["admin"])):
            job = enqueue("tests.monitoring_flaky", key=mine.code)
        with use_scope(scope_of(other.users["admin"])):
            theirs = enqueue("tests.monitoring_flaky", key=other.code)
        login(client, mine.users["admin"])
        text = client.get("/monitoring/").get_data(as_text=True)
        assert f'data-job="{job.id}"' in text and "regulator platform timed out" in text
        assert f'data-job="{theirs.id}"' not in text
        listing = client.get("/jobrecordview/list/").get_data(as_text=True)
        assert "失败" in listing and ">failed<" not in listing  # labels, not stored values
        assert client.post(f"/monitoring/jobs/{theirs.id}/retry/").status_code == 404
        answer = client.post(f"/monitoring/jobs/{job.id}/retry/")
        assert answer.status_code == 302 and "/monitoring/" in answer.headers["Location"]
        again = client.post(f"/monitoring/jobs/{job.id}/retry/")
        assert again.status_code == 409 and "不是失败状态" in again.get_data(as_text=True)
        client.get("/logout/")
        login(client, mine.users["manager"])  # reads the page, may not retry
        assert client.post(f"/monitoring/jobs/{theirs.id}/retry/").status_code in (302, 403)
    finally:
        app.config["REDIS_URL"] = saved
    with use_scope(system_scope()):
        db.session.expire_all()
        done = db.session.get(JobRecord, job.id)
        untouched = db.session.get(JobRecord, theirs.id)
        assert done.status == JobStatus.DONE and done.attempts == 2
        assert json.loads(done.result) == "ok after 2"
        assert untouched.status == JobStatus.FAILED and untouched.attempts == 1


def test_flask_monitoring_probe_prints_the_readings_and_fails_when_a_target_is_down(app, gateway):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["monitoring", "probe", "--kind", "platform"])
    assert result.exit_code == 0, result.output
    assert "数据库" in result.output and "0 down" in result.output
    gateway.ok = False
    result = runner.invoke(args=["monitoring", "probe", "--kind", "sms"])
    assert result.exit_code == 1 and "DOWN" in result.output and "测试短信网关" in result.output


def test_the_probe_job_reports_counts_only(app, worlds):
    app.config["REDIS_URL"], saved = "", app.config["REDIS_URL"]
    try:
        mine, _ = worlds
        with use_scope(scope_of(mine.users["admin"])):
            job = enqueue("monitoring.probe")
    finally:
        app.config["REDIS_URL"] = saved
    with use_scope(system_scope()):
        db.session.expire_all()
        record = db.session.get(JobRecord, job.id)
        assert record.status == JobStatus.DONE, record.error
        result = json.loads(record.result)
    assert set(result) == {"targets", "down", "opened", "closed", "seconds"}
    assert result["targets"] > 0


def test_a_scheduled_task_is_judged_per_tenant_it_ran_for(app, worlds):
    """Cron runs `flask carriers pull`: one job per tenant, enqueued in the platform's scope with
    the tenant as argument. Each tenant's last run is its own reading, under that tenant."""
    mine, other = worlds
    now = utcnow()
    with use_scope(system_scope("cron")):
        for tenant_id, status, age in (
            (mine.tenant_id, JobStatus.DONE, 10),
            (other.tenant_id, JobStatus.FAILED, 10),
        ):
            db.session.add(
                JobRecord(
                    task="carriers.pull_downloads",
                    arguments=json.dumps({"tenant_id": tenant_id, "days": 7}),
                    status=status,
                    requested_by="cron",
                    created_at=now - datetime.timedelta(minutes=age),
                    finished_at=now - datetime.timedelta(minutes=age),
                )
            )
        db.session.commit()
    run = _probe(now, only=("schedule",))
    found = {
        r.tenant_id: r
        for r in run.readings
        if r.name == "carriers.pull_downloads" and r.tenant_id in (mine.tenant_id, other.tenant_id)
    }
    assert found[mine.tenant_id].ok is True and found[mine.tenant_id].org_node_id == mine.hq
    assert found[other.tenant_id].ok is False and "失败" in found[other.tenant_id].detail
    late = _probe(now + datetime.timedelta(hours=4), only=("schedule",))
    overdue = [r for r in late.readings if r.tenant_id == mine.tenant_id]
    assert overdue and overdue[0].ok is False and "已逾期" in overdue[0].detail


def test_a_database_outage_is_clocked_outside_the_database_and_recorded_on_recovery(
    app, worlds, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    from app.monitoring import services

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    runner = app.test_cli_runner()
    path = services.outage_path()
    path.unlink(missing_ok=True)
    monkeypatch.setattr(services, "run_probes", unreachable)
    down = runner.invoke(args=["monitoring", "probe"])
    assert down.exit_code == 1 and "数据库不可达" in down.output
    assert path.is_file()
    # An hour down, noted by the first failed run (a later failed run keeps the first moment).
    since = utcnow() - datetime.timedelta(hours=1)
    path.write_text(f"{since.isoformat()}\n数据库不可达：connection refused\n")
    again = runner.invoke(args=["monitoring", "probe"])
    assert again.exit_code == 1 and f"{since:%Y-%m-%d %H:%M:%S}" in again.output
    monkeypatch.undo()

    back = runner.invoke(args=["monitoring", "probe", "--kind", "platform"])
    assert back.exit_code == 0, back.output
    assert not path.exists()
    (incident,) = [
        i for i in _incidents("database") if i.opened_at == since and i.kind == "platform"
    ]
    assert incident.closed_at is not None and incident.tenant_id is None
    assert incident.detail == "数据库不可达：connection refused"
    assert incident.reportable and "上海" in incident.provinces  # every tenant's stores
    if len(incident.provinces) >= 2:  # felt in several provinces: reportable after 30 minutes
        assert incident.threshold_minutes == 30
        assert incident.breached_at == since + datetime.timedelta(minutes=30)
    else:  # one province: 3 hours, not reached in one
        assert incident.threshold_minutes == 180 and incident.breached_at is None
