"""状态监控: probes of every gateway, carrier and the platform itself, their latest state, and
the incident clock judged against the regulator's reporting thresholds. Other capabilities join
with `app.monitoring.probes.register_probe` (see docs/monitoring.md)."""
