"""Audit trail: every change of business data, every login, permission change and export."""
