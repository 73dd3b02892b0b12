"""Who sees 状态监控: the operators (a tenant's business admin, the implementer) run the probes
and retry failed jobs; managers and finance read it (they read the carriers' status before).
The desk's people do not see it."""

from app.security import roles as r

OPERATE = {"MonitoringView": "write"}
READ = {"MonitoringView": "read"}

r.grant(
    {
        r.TENANT_ADMIN: OPERATE,
        r.IMPLEMENTER: OPERATE,
        r.REGION_MANAGER: READ,
        r.STORE_MANAGER: READ,
        r.FINANCE: READ,
    }
)
